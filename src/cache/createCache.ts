// Builds the cache the config describes: Redis behind the breaker when configured, the fallback
// (database, memory or none), and the invalidation journal shared with the other instances.
import { redactUrl, type CacheConfig, type FallbackName } from '../config/config';
import type { Database, Prisma } from '../db/database';
import type { Logger } from '../logger';
import type { CacheBackend } from './backend';
import { createDatabaseBackend } from './databaseBackend';
import { createInvalidationJournal, type InvalidationJournal } from './invalidationJournal';
import { createCacheKeys, type CacheKeys } from './keys';
import { createMemoryBackend } from './memoryBackend';
import { createRedisBackend } from './redisBackend';
import { ResilientCache } from './resilientCache';
import { CacheStats } from './stats';

export interface Cache {
  readonly cache: ResilientCache;
  readonly keys: CacheKeys;
  readonly stats: CacheStats;
  readonly config: CacheConfig;
}

function createLocalBackend(
  name: FallbackName,
  prisma: Prisma,
  memoryMaxEntries: number,
): CacheBackend | null {
  switch (name) {
    case 'database':
      return createDatabaseBackend(prisma);
    case 'memory':
      return createMemoryBackend(memoryMaxEntries);
    case 'none':
      return null;
    default: {
      const unreachable: never = name;
      throw new Error(`unknown cache backend ${String(unreachable)}`);
    }
  }
}

export interface CreateCacheOptions {
  /**
   * The Postgres database to keep the invalidation journal in, used only with Redis; null for
   * none (PGlite has no createListenClient, and one-off commands need none). @default null
   */
  readonly journal?: Pick<Database, 'sessions' | 'createListenClient'> | null;
}

export function createCache(
  config: CacheConfig,
  prisma: Prisma,
  logger: Logger,
  stats: CacheStats = new CacheStats(),
  options: CreateCacheOptions = {},
): Cache {
  // The key layout follows the configuration, not the backend serving now, so that every instance
  // given the same REDIS_CLUSTER_NODES builds the same keys (in Redis and in the fallback table).
  const keys = createCacheKeys(config.prefix, { clusterBuckets: config.redisCluster !== null });
  const redisConfigured = config.redisUrl !== null || config.redisCluster !== null;
  const useRedis = config.primary === 'redis' && redisConfigured;
  const fallback = createLocalBackend(
    config.primary === 'redis' ? config.fallback : config.primary,
    prisma,
    config.memoryMaxEntries,
  );
  // The listener runs only after this function returns (connection errors arrive asynchronously),
  // when `cache` is initialised.
  const remote = useRedis
    ? createRedisBackend(
        // Reconnect at least as often as the breaker probes, so recovery is not held up by ioredis's back-off.
        {
          ...(config.redisCluster ? { cluster: config.redisCluster } : { url: config.redisUrl! }),
          timeoutMs: config.timeoutMs,
          reconnectMaxMs: Math.max(100, Math.min(config.probeIntervalMs, 2000)),
        },
        (error) => cache.onRemoteError(error),
      )
    : null;
  const journalDb = options.journal;
  const cacheLogger = remote ? logger.child({ redis: describeRedis(config) }) : logger;
  const journal =
    remote && journalDb?.createListenClient
      ? drainingIntoFallback(
          fallback,
          cacheLogger,
          createInvalidationJournal({
            sessions: journalDb.sessions,
            createListenClient: journalDb.createListenClient,
            namespace: keys.namespace,
            keys,
            logger: cacheLogger,
          }),
        )
      : null;
  const cache: ResilientCache = new ResilientCache({
    remote,
    fallback,
    namespace: keys.namespace,
    probeIntervalMs: config.probeIntervalMs,
    stats,
    logger: cacheLogger,
    journal,
    // Otherwise the resilient cache's own default reason ("REDIS_URL not set") applies.
    ...(config.primary !== 'redis' &&
      redisConfigured && { remoteAbsentReason: `CACHE_BACKEND=${config.primary}` }),
    ...(config.redisCluster && {
      remoteName: 'Redis Cluster Cache',
      remoteNote: `${config.redisCluster.nodes.length} seed node(s)`,
    }),
  });
  return { cache, keys, stats, config };
}

/**
 * The journal, with every key it drains deleted from the fallback too, after Redis. The database
 * cache table is one for every instance: an instance serving from it while cut off from Redis
 * then serves what another instance drained (a write from outside the API, which no instance's
 * own invalidation covered), and no entry a drain removed from Redis survives in the fallback
 * for the next outage. A failing fallback is logged; it does not fail the drain.
 */
function drainingIntoFallback(
  fallback: CacheBackend | null,
  logger: Logger,
  journal: InvalidationJournal,
): InvalidationJournal {
  if (!fallback) return journal;
  const alsoFallback = async <T>(work: () => Promise<T>) =>
    work().catch((error: unknown) => {
      logger.warn(
        { err: error, cache: fallback.name },
        'invalidation journal: the fallback could not be invalidated',
      );
    });
  return {
    ...journal,
    drain: (target, options) =>
      journal.drain(
        {
          async delete(keys) {
            await target.delete(keys);
            await alsoFallback(() => fallback.delete(keys));
          },
          async clear(namespace) {
            const cleared = await target.clear(namespace);
            await alsoFallback(() => fallback.clear(namespace));
            return cleared;
          },
        },
        options,
      ),
  };
}

/** Where Redis is, for logs and cache:check, without credentials; null when not configured. */
export function describeRedis(config: CacheConfig): string | null {
  if (config.redisUrl) return redactUrl(config.redisUrl);
  if (config.redisCluster) {
    const seeds = config.redisCluster.nodes.map(({ host, port }) =>
      host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    );
    return `cluster ${config.redisCluster.tls ? 'rediss' : 'redis'}://${seeds.join(',')}`;
  }
  return null;
}
