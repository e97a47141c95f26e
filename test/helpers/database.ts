// Throwaway Postgres databases for integration tests: created on the shared server with a random
// name, dropped at the end. Nothing here touches a database it did not create.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig, type Config } from '../../src/config/config';
import { openDatabase, type Database, type DatabaseOptions } from '../../src/db/database';
import { migrate } from '../../src/db/migrate';

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Runs `work` on a short-lived client of the server's admin database. */
export async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  // A pg client without an 'error' listener takes the process down when its backend is terminated
  // while it is idle; with one, the error reaches the pending query (or nothing) instead.
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The URL of a database on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `bc_${label.replace(/\W/g, '_')}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * Postgres "restarts", as far as one database is concerned: terminates every connection to the
 * named database (only that one, never this helper's own, nor the `except` pids); returns how
 * many it ended.
 */
export async function terminateConnections(name: string, except: readonly number[] = []): Promise<number> {
  // pg_terminate_backend only in the select list, over a fenced subquery (OFFSET 0): in a WHERE
  // clause the planner may run it on backends before the database filter has removed them.
  const { rows } = await admin((c) =>
    c.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended
       FROM (SELECT pid FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid() AND NOT pid = ANY($2::int[]) OFFSET 0) AS mine`,
      [name, except],
    ),
  );
  return rows.filter((row) => row.ended).length;
}

/** Refuses (or allows again) new connections to the named database, superusers' included. */
export async function allowConnections(name: string, allow: boolean): Promise<void> {
  await admin((c) => c.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS ${allow}`));
}

/** A fresh, migrated database and the app's own client on it. */
export async function openMigratedDatabase(
  label: string,
  env: Record<string, string> = {},
  options: DatabaseOptions = {},
): Promise<{ testDb: TestDatabase; db: Database; config: Config; close(): Promise<void> }> {
  const testDb = await createTestDatabase(label);
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: testDb.url, ...env });
  const db = await openDatabase(config.database, options);
  await migrate(db.sessions);
  return {
    testDb,
    db,
    config,
    close: async () => {
      await db.close();
      await testDb.drop();
    },
  };
}

/** A fresh, migrated database for several app instances to share; each opens its own connections. */
export async function createMigratedDatabase(label: string): Promise<TestDatabase> {
  const opened = await openMigratedDatabase(label);
  await opened.db.close();
  return opened.testDb;
}
