// createApp(config, deps?) → { start, stop }: the whole server, used by main, the benchmark and tests.
// start() opens the database (migrating and seeding the embedded one), then listens; stop() drains
// the HTTP server (readiness 503, SHUTDOWN_DELAY_MS, in-flight requests up to
// SHUTDOWN_TIMEOUT_MS), then closes Apollo, the cache clients and the database.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config';
import { redactUrl } from './config/config';
import { createCache, type Cache } from './cache/createCache';
import { withCacheInvalidation } from './cache/invalidation';
import { CacheStats } from './cache/stats';
import { openDatabase, type Database } from './db/database';
import { seedDemoData } from './db/demoData';
import { migrate, pendingMigrations } from './db/migrate';
import { explorerRoutes, explorerSettings } from './explorer';
import { createApolloServer, type ApolloExtras } from './graphql/apollo';
import type { Context, Services } from './graphql/context';
import { createLoaders } from './graphql/loaders';
import { createWriteCheck } from './http/auth';
import { createHttpApp } from './http/app';
import { trackHttpServer, type DrainResult, type HttpDrain } from './http/drain';
import { createLogger, type Logger } from './logger';
import { BarcodeService } from './modules/barcode/service';
import { ProductService } from './modules/product/service';

/** How many demo products the embedded database gets on its first start. */
export const EMBEDDED_DEMO_PRODUCTS = 2000;

export interface AppDeps {
  /** An open database to use instead of opening the configured one (tests). Not closed by stop(). */
  readonly db?: Database;
  readonly logger?: Logger;
  /** Also export process metrics (CPU, memory, event loop) on /metrics; main sets it, tests do not. */
  readonly processMetrics?: boolean;
  /** Replaces the per-request loaders; only the benchmark's baseline modes use it. */
  readonly createLoaders?: typeof createLoaders;
  /** Adds to the Apollo Server; only the benchmark's response-cache peer uses it. */
  readonly apolloExtras?: ApolloExtras;
  /**
   * Share missed invalidations through the journal in Postgres (never on PGlite). false only for
   * tests that show what happens without it. @default true
   */
  readonly invalidationJournal?: boolean;
}

export interface RunningApp {
  /** e.g. http://127.0.0.1:4000/graphql */
  readonly url: string;
  readonly port: number;
  readonly db: Database;
  readonly cache: Cache;
  /** The client every write goes through (with cache invalidation). */
  readonly writes: Database['prisma'];
}

export interface App {
  start(): Promise<RunningApp>;
  /** Drains and closes everything; says whether the deadline cut requests still in flight. */
  stop(): Promise<DrainResult>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export function createApp(config: Config, deps: AppDeps = {}): App {
  const logger = deps.logger ?? createLogger(config);
  let httpServer: Server | undefined;
  let drain: HttpDrain | undefined;
  let db: Database | undefined;
  let stopApollo: (() => Promise<void>) | undefined;
  let cache: Cache | undefined;

  return {
    async start() {
      db = deps.db ?? (await openDatabase(config.database));
      await prepareDatabase(config, db, logger);
      if (!config.apiTokens)
        logger.warn('API_TOKEN is not set: writes are open to anyone (development only)');

      const prisma = db.prisma;
      const activeCache = createCache(
        config.cache,
        prisma,
        logger,
        new CacheStats({ processMetrics: deps.processMetrics }),
        { journal: deps.invalidationJournal === false ? null : db },
      );
      cache = activeCache;
      await activeCache.cache.start();
      // Every write goes through this client, so every write invalidates what it changed.
      const writes = withCacheInvalidation(prisma, activeCache.keys, async (changed) => {
        if (changed.kind === 'keys') return activeCache.cache.invalidate(changed.keys);
        // Beyond capture_max_keys: the triggers also queued a "clear" in the journal, which every
        // instance drains; this is the prompt one, guarded like invalidate() (an open breaker or a
        // failed clear leaves it to this instance's recovery).
        await activeCache.cache.invalidateAll();
      });
      const services: Services = {
        barcodes: new BarcodeService(writes),
        products: new ProductService(writes),
      };
      const canWrite = createWriteCheck(config.apiTokens);
      const explorer = explorerSettings(config);
      httpServer = createServer();
      // Before the app's listener, so that it sees every request first.
      const activeDrain = trackHttpServer(httpServer);
      drain = activeDrain;
      const apollo = createApolloServer(config, logger, deps.apolloExtras);
      await apollo.start();
      stopApollo = () => apollo.stop();
      const app = createHttpApp({
        apollo,
        logger,
        maxBodyBytes: config.maxBodyBytes,
        context: (authorization): Context => ({
          loaders: (deps.createLoaders ?? createLoaders)(prisma, activeCache),
          services,
          cache: activeCache,
          canWrite: () => canWrite(authorization),
        }),
        checkDatabase: async () => {
          await prisma.$queryRaw`SELECT 1`;
        },
        cacheStatus: () => activeCache.cache.status(),
        draining: () => activeDrain.draining,
        metrics: activeCache.stats.registry,
        mounted: explorer ? [explorerRoutes(explorer)] : [],
      });
      httpServer.on('request', app);
      await new Promise<void>((resolve, reject) => {
        httpServer!.once('error', reject);
        httpServer!.listen(config.port, config.host, resolve);
      });
      const { port } = httpServer.address() as AddressInfo;
      const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      const url = `http://${shownHost}:${port}/graphql`;
      logger.info(
        {
          url,
          database:
            db.kind === 'postgres' && config.database.kind === 'postgres'
              ? redactUrl(config.database.url)
              : 'embedded PGlite',
        },
        config.introspection
          ? `🚀 Server ready: open ${url} to explore the API`
          : `🚀 Server ready at ${url}`,
      );
      return { url, port, db, cache: activeCache, writes };
    },

    async stop() {
      let result: DrainResult = { forced: false, cut: 0 };
      if (drain && httpServer?.listening) {
        // Unready first, still serving, so a load balancer has time to stop sending requests here.
        drain.startDraining();
        if (config.shutdownDelayMs > 0)
          await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
        result = await drain.drain(config.shutdownTimeoutMs);
      }
      await stopApollo?.();
      await cache?.cache.stop();
      if (!deps.db) await db?.close();
      return result;
    },
  };
}

/** The embedded database migrates and seeds itself; a real Postgres must have been migrated. */
async function prepareDatabase(config: Config, db: Database, logger: Logger): Promise<void> {
  if (config.database.kind === 'pglite') {
    const { applied } = await migrate(db.sessions);
    if (applied.length) logger.info({ applied }, 'embedded database migrated');
    if ((await db.prisma.product.count()) === 0) {
      logger.info(`embedded database is empty: loading ${EMBEDDED_DEMO_PRODUCTS} demo products`);
      const seeded = await seedDemoData(db.prisma, EMBEDDED_DEMO_PRODUCTS);
      logger.info(seeded, 'demo data loaded');
    }
    return;
  }
  const pending = await pendingMigrations(db.sessions);
  if (pending.length) {
    throw new StartupError(
      `The database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`npm run db:migrate\` first`,
    );
  }
}
