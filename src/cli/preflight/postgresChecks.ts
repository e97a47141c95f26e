// Items 2-5: Postgres answers, every migration is applied (and unchanged since), the tables the
// cache needs are there and writable, and the connection pools of every instance fit in
// max_connections.
import { describeError } from '../../cache/describeError';
import type { Config } from '../../config/config';
import type { Database } from '../../db/database';
import { MigrationError, pendingMigrations, readMigrations } from '../../db/migrate';
import { fail, ok, skipped, warn, type Item } from './report';

/**
 * Tables the cache reads and writes with raw SQL, so Prisma's client would not notice them
 * missing: the fallback backend's (src/cache/databaseBackend.ts, Django's createcachetable) and
 * the invalidation journal's (src/cache/invalidationJournal.ts) and its consumers'
 * (src/cache/captureConsumers.ts: without INSERT and UPDATE there, an instance cannot register
 * its namespace, so its LISTEN connection never comes up and it never drains).
 */
export const CACHE_TABLES = {
  cache_entries: 'the database cache (fallback) table',
  cache_missed_invalidations: 'the invalidation journal',
  cache_capture_consumers: "the journal's consumer namespaces",
} as const;

export interface PostgresItems {
  readonly items: Item[];
  /** False when Postgres did not answer: the items that need it were skipped. */
  readonly reachable: boolean;
}

/** Where the database is, without credentials. */
function describeDatabase(database: Config['database']): string {
  if (database.kind === 'pglite') return `embedded PGlite in ${database.dir}`;
  const url = new URL(database.url);
  return `${url.hostname}:${url.port || 5432}${url.pathname}`;
}

export async function checkPostgres(config: Config, db: Database, instances: number): Promise<PostgresItems> {
  const where = describeDatabase(config.database);
  let version: string;
  try {
    const [row] = await db.sessions((s) =>
      s.query<{ version: string }>("SELECT current_setting('server_version') AS version"),
    );
    version = row!.version;
  } catch (error) {
    return {
      reachable: false,
      items: [
        fail(
          'Postgres',
          `${where} does not answer (${describeError(error)})`,
          'check DATABASE_URL (host, port, database, credentials) and that Postgres accepts connections from here',
        ),
        ...['Migrations', 'Cache tables', 'Connections'].map((name) =>
          skipped(name, 'Postgres does not answer'),
        ),
      ],
    };
  }
  return {
    reachable: true,
    items: [
      ok('Postgres', `PostgreSQL ${version} at ${where}`),
      await checkMigrations(db),
      await checkTables(db),
      await checkConnections(config, db, instances),
    ],
  };
}

async function checkMigrations(db: Database): Promise<Item> {
  const name = 'Migrations';
  const all = readMigrations();
  try {
    const pending = await pendingMigrations(db.sessions, all);
    if (pending.length === 0)
      return ok(name, `all ${all.length} applied, none pending, checksums match prisma/migrations`);
    return fail(
      name,
      `${pending.length} of ${all.length} pending: ${pending.join(', ')}`,
      'npm run db:migrate',
    );
  } catch (error) {
    // The runner's own messages say what is wrong and what to do; db:migrate would refuse the same.
    if (error instanceof MigrationError)
      return fail(name, error.message, 'as the message says; db:migrate refuses to run until then');
    throw error;
  }
}

/**
 * What the cache does to its tables (the fallback upserts, reads and expires; the journal records
 * and replays; the consumers are upserted and marked dropped, never deleted).
 */
const CACHE_TABLE_PRIVILEGES: Record<keyof typeof CACHE_TABLES, readonly string[]> = {
  cache_entries: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  cache_missed_invalidations: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  cache_capture_consumers: ['SELECT', 'INSERT', 'UPDATE'],
};

async function checkTables(db: Database): Promise<Item> {
  const name = 'Cache tables';
  // One privilege at a time: has_table_privilege(t, 'SELECT, INSERT, …') is true when ANY of
  // them is held, and the change-capture migration grants INSERT on the journal to PUBLIC.
  const rows = await db.sessions((s) =>
    s.query<{ table: string; present: boolean; lacking: string[] | null; user: string }>(
      `SELECT t AS table, to_regclass(t) IS NOT NULL AS present,
              CASE WHEN to_regclass(t) IS NULL THEN NULL
                   ELSE ARRAY(SELECT p FROM jsonb_array_elements_text($2::jsonb -> t) WITH ORDINALITY AS x(p, i)
                              WHERE NOT has_table_privilege(t, p) ORDER BY i) END AS lacking,
              quote_ident(current_user) AS user
       FROM unnest($1::text[]) AS t`,
      [Object.keys(CACHE_TABLES), JSON.stringify(CACHE_TABLE_PRIVILEGES)],
    ),
  );
  const describe = (table: string) => `${table} (${CACHE_TABLES[table as keyof typeof CACHE_TABLES]})`;
  const missing = rows.filter((r) => !r.present).map((r) => describe(r.table));
  const short = rows.filter((r) => r.present && r.lacking!.length > 0);
  if (missing.length)
    return fail(
      name,
      `missing: ${missing.join(', ')}`,
      'npm run db:migrate; if Migrations says all are applied, the table was dropped by hand: restore it from its migration in prisma/migrations',
    );
  if (short.length)
    return fail(
      name,
      `this database user (${short[0]!.user}) may not ` +
        short.map((r) => `${r.lacking!.join(', ')} on ${describe(r.table)}`).join('; '),
      short.map((r) => `GRANT ${r.lacking!.join(', ')} ON ${r.table} TO ${r.user}`).join('; '),
    );
  return ok(
    name,
    rows
      .map((r) => `${r.table} (${CACHE_TABLE_PRIVILEGES[r.table as keyof typeof CACHE_TABLES].join(', ')})`)
      .join(', ') + ' present and granted',
  );
}

interface ConnectionLimits {
  max: number;
  reserved: number;
  superuser: boolean;
  role_limit: number;
  db_limit: number;
  in_use: number;
}

/** How many connections this user may open: max_connections less the reserved ones, within role and database limits. */
function available(limits: ConnectionLimits): { count: number; bound: string } {
  const bounds: { count: number; bound: string }[] = [
    {
      count: limits.superuser ? limits.max : limits.max - limits.reserved,
      bound: limits.superuser
        ? `max_connections ${limits.max}`
        : `max_connections ${limits.max} less ${limits.reserved} reserved`,
    },
  ];
  if (limits.role_limit >= 0)
    bounds.push({ count: limits.role_limit, bound: `the role's CONNECTION LIMIT ${limits.role_limit}` });
  if (limits.db_limit >= 0)
    bounds.push({ count: limits.db_limit, bound: `the database's CONNECTION LIMIT ${limits.db_limit}` });
  return bounds.reduce((a, b) => (b.count < a.count ? b : a));
}

async function checkConnections(config: Config, db: Database, instances: number): Promise<Item> {
  const name = 'Connections';
  if (config.database.kind !== 'postgres') return ok(name, 'embedded PGlite: one in-process connection');
  let limits: ConnectionLimits;
  try {
    [limits] = (await db.sessions((s) =>
      s.query<ConnectionLimits>(
        `SELECT current_setting('max_connections')::int AS max,
                current_setting('superuser_reserved_connections')::int
                  + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
                r.rolsuper AS superuser, r.rolconnlimit AS role_limit,
                (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use
         FROM pg_roles r WHERE r.rolname = current_user`,
      ),
    )) as [ConnectionLimits];
  } catch (error) {
    return warn(
      name,
      `max_connections could not be read (${describeError(error)})`,
      `make sure ${instances} instance(s) × DATABASE_POOL_SIZE fits in the server's max_connections`,
    );
  }
  // Each instance: its pool, plus the invalidation journal's LISTEN connection when Redis is used.
  const { poolSize } = config.database;
  const listen = config.cache.primary === 'redis' ? 1 : 0;
  const needed = instances * (poolSize + listen);
  const sum = `${instances} instance(s) × (DATABASE_POOL_SIZE ${poolSize}${listen ? ' + 1 LISTEN' : ''}) = ${needed}`;
  const limit = available(limits);
  const others = limits.in_use - 1; // less this check's own session
  const fix = `lower DATABASE_POOL_SIZE, run fewer instances (--instances), or raise max_connections`;
  if (needed > limit.count) return fail(name, `${sum} > ${limit.count} allowed (${limit.bound})`, fix);
  if (needed + others > limit.count)
    return warn(
      name,
      `${sum} ≤ ${limit.count} allowed (${limit.bound}), but ${others} connection(s) are open now: ` +
        `unless they are these instances' own, only ${limit.count - others} remain`,
      fix,
    );
  return ok(name, `${sum} ≤ ${limit.count} allowed (${limit.bound}), ${others} open now by others`);
}
