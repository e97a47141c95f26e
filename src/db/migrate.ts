// Applies prisma/migrations/<name>/migration.sql files without Prisma's schema engine (which cannot
// be downloaded offline). Each pending migration runs in its own transaction, the whole run holds
// the same advisory lock `prisma migrate deploy` takes, and rows go into `_prisma_migrations` in
// Prisma's own form (sha256 checksum of the file, finished_at, applied_steps_count 1), so either
// tool can take over from the other.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SqlSession, SqlSessionProvider } from './sql';

/** The nearest prisma/migrations above this file: from src/ (tsx, jest), dist/ or the benchmark's build. */
export const MIGRATIONS_DIR = findUp(__dirname, path.join('prisma', 'migrations'));

function findUp(start: string, relative: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(start, '../..', relative);
  }
}

/** The advisory lock key Prisma's schema engine uses, so the two runners exclude each other. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export function readMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256(sql) };
    });
}

/** Applies every pending migration in name order; refuses to run if an applied one was edited. */
export async function migrate(
  sessions: SqlSessionProvider,
  migrations: readonly MigrationFile[] = readMigrations(),
  onApplied: (name: string) => void = () => {},
): Promise<MigrationResult> {
  return sessions(async (session) => {
    // The app's pool cancels statements after DATABASE_TIMEOUT_MS; waiting for another runner's
    // lock, or building an index on a big table, may rightly take longer. Restored before the
    // connection goes back to the pool.
    await session.exec('SET statement_timeout = 0');
    try {
      await session.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      try {
        await createMigrationsTable(session);
        const pending = planPending(migrations, await appliedRows(session));
        for (const migration of pending) {
          await applyOne(session, migration);
          onApplied(migration.name);
        }
        return { applied: pending.map((m) => m.name), alreadyApplied: migrations.length - pending.length };
      } finally {
        await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      }
    } finally {
      await session.exec('RESET statement_timeout');
    }
  });
}

/** Names of migrations not yet applied; throws MigrationError on the same problems migrate() refuses. */
export async function pendingMigrations(
  sessions: SqlSessionProvider,
  migrations: readonly MigrationFile[] = readMigrations(),
): Promise<string[]> {
  return sessions(async (session) => {
    const [table] = await session.query<{ exists: string | null }>(
      "SELECT to_regclass('_prisma_migrations')::text AS exists",
    );
    const rows = table?.exists ? await appliedRows(session) : [];
    return planPending(migrations, rows).map((m) => m.name);
  });
}

async function createMigrationsTable(session: SqlSession): Promise<void> {
  // The exact definition Prisma's schema engine creates.
  await session.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`);
}

async function appliedRows(session: SqlSession): Promise<AppliedRow[]> {
  return session.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
  );
}

function planPending(migrations: readonly MigrationFile[], rows: readonly AppliedRow[]): MigrationFile[] {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const done = new Set<string>();
  for (const row of rows) {
    if (row.rolled_back_at) continue; // `prisma migrate resolve --rolled-back`: run it again
    if (!row.finished_at) {
      throw new MigrationError(
        `Migration ${row.migration_name} started but did not finish (a failed \`prisma migrate deploy\`?). ` +
          'Fix the database by hand, then mark it with `prisma migrate resolve`.',
      );
    }
    const local = byName.get(row.migration_name);
    if (!local) {
      throw new MigrationError(
        `Migration ${row.migration_name} is applied in the database but missing from prisma/migrations. ` +
          'Is this an older checkout than the database?',
      );
    }
    if (!checksumMatches(local, row.checksum)) {
      throw new MigrationError(
        `Migration ${row.migration_name} was changed after it was applied ` +
          `(checksum ${local.checksum.slice(0, 12)}… in prisma/migrations, ${row.checksum.slice(0, 12)}… in the database). ` +
          'Restore the original file and put the change in a new migration.',
      );
    }
    done.add(row.migration_name);
  }
  return migrations.filter((m) => !done.has(m.name));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Like Prisma, a file whose only change is its line endings (a Windows checkout) is not "changed". */
function checksumMatches(migration: MigrationFile, recorded: string): boolean {
  const { sql } = migration;
  return [sql, sql.replaceAll('\r\n', '\n'), sql.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n')].some(
    (variant) => sha256(variant) === recorded,
  );
}

async function applyOne(session: SqlSession, migration: MigrationFile): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, now(), $3, NULL, NULL, now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    throw new MigrationError(
      `Migration ${migration.name} failed and was rolled back: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
