// A minimal SQL session over either driver: one pg connection, or the PGlite instance. The
// migration runner and the test helpers need plain SQL on one session (advisory locks are held
// per session), which Prisma's pooled client cannot promise.
import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';

export interface SqlSession {
  /** One statement with $1-style parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Several statements, no parameters (a migration file). */
  exec(sql: string): Promise<void>;
}

export type SqlSessionProvider = <T>(work: (session: SqlSession) => Promise<T>) => Promise<T>;

export function pgSessions(pool: Pool): SqlSessionProvider {
  return async (work) => {
    const client = await pool.connect();
    try {
      return await work({
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        exec: async (sql) => {
          await client.query(sql);
        },
      });
    } finally {
      client.release();
    }
  };
}

/**
 * PGlite is one connection, so "a session" is the whole database: sessions run one at a time
 * (a promise chain), otherwise two callers would share one session and its advisory locks.
 */
export function pgliteSessions(db: PGlite): SqlSessionProvider {
  let queue: Promise<unknown> = Promise.resolve();
  const session: SqlSession = {
    query: async <Row>(sql: string, params?: readonly unknown[]) =>
      (await db.query<Row>(sql, params as unknown[])).rows,
    exec: async (sql) => {
      await db.exec(sql);
    },
  };
  return (work) => {
    const run = queue.then(() => work(session));
    queue = run.catch(() => {});
    return run;
  };
}
