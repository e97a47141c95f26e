// Opens the database the config names, Postgres through a pg pool or the embedded PGlite, and
// the one Prisma client every read and write goes through.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { Client, Pool } from 'pg';
import type { Config } from '../config/config';
import { PrismaClient } from '../generated/prisma/client';
import { pgliteSessions, pgSessions, type SqlSessionProvider } from './sql';

export type Prisma = PrismaClient;

/** The application_name of the invalidation journal's LISTEN connection. */
export const LISTEN_APPLICATION_NAME = 'barcode-cache journal';

export interface Database {
  readonly prisma: Prisma;
  readonly sessions: SqlSessionProvider;
  readonly kind: Config['database']['kind'];
  /**
   * A new, unconnected client outside the pool, for a session that must stay its own as long as
   * it lives (LISTEN); null on PGlite, which is one process with no peers to hear from.
   */
  readonly createListenClient: (() => Client) | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called for every SQL statement Prisma sends (Prisma's own query events): tests and benchmarks count them. */
  readonly onQuery?: (sql: string) => void;
}

function createPrisma(adapter: PrismaPg | PrismaPGlite, options: DatabaseOptions): Prisma {
  if (!options.onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  const onQuery = options.onQuery;
  prisma.$on('query', (event) => onQuery(event.query));
  return prisma as unknown as Prisma;
}

export async function openDatabase(
  config: Config['database'],
  options: DatabaseOptions = {},
): Promise<Database> {
  if (config.kind === 'postgres') {
    const pool = new Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: config.timeoutMs,
      // A statement that runs longer than this is cancelled by Postgres itself, so a stuck
      // query frees its connection instead of starving the pool.
      statement_timeout: config.timeoutMs,
    });
    // An idle client that loses its connection emits 'error' on the pool; without a listener
    // that would crash the process. The next query reconnects.
    pool.on('error', () => {});
    // A checked-out client can be terminated while nobody listens to it either: pg-pool hands a
    // new client to a promise-based caller (Prisma's transactions), and when Postgres ends the
    // session right after start-up (a restart, pg_terminate_backend) the FATAL message comes in
    // the same packet, before the caller's listener is attached. An 'error' event nobody listens
    // to crashes the process (postgresFaults.test.ts did, under load). With this listener the
    // error still reaches the query that uses the client, and the pool drops it on release.
    pool.on('connect', (client) => client.on('error', () => {}));
    const prisma = createPrisma(new PrismaPg(pool), options);
    return {
      prisma,
      sessions: pgSessions(pool),
      kind: 'postgres',
      createListenClient: () =>
        new Client({
          connectionString: config.url,
          connectionTimeoutMillis: config.timeoutMs,
          // How operators (and tests) tell it apart in pg_stat_activity.
          application_name: LISTEN_APPLICATION_NAME,
          // Backs up the journal's poll, which notices a dead path in about a second.
          keepAlive: true,
          keepAliveInitialDelayMillis: 10_000,
        }),
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  }
  mkdirSync(config.dir, { recursive: true });
  const pglite = await PGlite.create(config.dir);
  const prisma = createPrisma(new PrismaPGlite(pglite), options);
  return {
    prisma,
    sessions: pgliteSessions(pglite),
    kind: 'pglite',
    createListenClient: null,
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
