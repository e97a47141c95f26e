// The hand-rolled migration runner (src/db/migrate.ts) against real Postgres (throwaway databases)
// and the embedded PGlite: it must behave like `prisma migrate deploy` (same `_prisma_migrations`
// rows, same advisory lock, same refusals), and the migrations must build exactly the database
// prisma/schema.prisma declares.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { openDatabase } from '../../src/db/database';
import {
  MIGRATIONS_DIR,
  MigrationError,
  migrate,
  pendingMigrations,
  readMigrations,
  type MigrationFile,
} from '../../src/db/migrate';
import { pgliteSessions, pgSessions, type SqlSessionProvider } from '../../src/db/sql';
import { createTestDatabase } from '../helpers/database';
import {
  diffShapes,
  expectedShape,
  getDatamodel,
  introspect,
  readSchemaText,
  type SchemaShape,
} from '../helpers/schemaModel';

// PGlite starts in seconds, not milliseconds (jest's default 5 s would be too tight).
jest.setTimeout(60_000);

/** The key `prisma migrate deploy` locks; the runner must take the same one. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

const MIGRATIONS = readMigrations();
const NAMES = MIGRATIONS.map((m) => m.name);

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const migrationFile = (name: string, sql: string): MigrationFile => ({ name, sql, checksum: sha256(sql) });

// ---------------------------------------------------------------------------------------------
// Throwaway Postgres databases and temp dirs, all released in afterAll.

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  const failures: unknown[] = [];
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => failures.push(error));
  if (failures.length) throw new AggregateError(failures, 'cleanup failed');
});

// Each test's in-memory PGlite is closed right after it (they hold tens of MB each).
const afterTest: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(afterTest.splice(0).map((close) => close()));
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bc-migrations-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Backend {
  readonly sessions: SqlSessionProvider;
  sql<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

interface PostgresBackend extends Backend {
  readonly url: string;
  /** Another pool on the same database (a second app instance). */
  pool(max?: number): Pool;
}

async function freshPostgres(): Promise<PostgresBackend> {
  const testDb = await createTestDatabase('migrations');
  cleanups.push(() => testDb.drop()); // runs after the pools below have ended
  const pool = (max = 2) => {
    const p = new Pool({ connectionString: testDb.url, max });
    p.on('error', () => {});
    cleanups.push(() => p.end());
    return p;
  };
  const sessions = pgSessions(pool());
  return { url: testDb.url, pool, sessions, sql: (text, params) => sessions((s) => s.query(text, params)) };
}

/**
 * @electric-sql/pglite as Node itself loads it. PGlite's CommonJS build calls import() while it
 * starts, which jest's module sandbox refuses without --experimental-vm-modules ("A dynamic import
 * callback was invoked without --experimental-vm-modules"); jest's own `module.createRequire` only
 * hands back its sandboxed require. So PGlite is required through the real Node loader (reached via
 * the worker's real `process`) and runs outside the sandbox; migrate() and the helpers under test
 * still come from jest. Its objects come from the other realm: Dates and Errors fail `instanceof`
 * here, hence isDate()/isError() below.
 */
function nativePglite(): typeof import('@electric-sql/pglite') {
  const realProcess = vm.runInThisContext('process') as NodeJS.Process;
  const NodeModule = realProcess.mainModule!.constructor as unknown as typeof import('node:module');
  return NodeModule.createRequire(__filename)(
    '@electric-sql/pglite',
  ) as typeof import('@electric-sql/pglite');
}

/** An empty in-memory cluster's data directory: each test's PGlite starts from it instead of initdb (3 s → 0.7 s). */
let pristinePgliteDataDir: Promise<Blob> | undefined;

async function freshPglite(): Promise<Backend> {
  const { PGlite } = nativePglite();
  pristinePgliteDataDir ??= (async () => {
    const seed = new PGlite();
    await seed.waitReady; // dumpDataDir() does not wait for start-up itself, and would hang
    try {
      return await seed.dumpDataDir('none');
    } finally {
      await seed.close();
    }
  })();
  const db = new PGlite({ loadDataDir: await pristinePgliteDataDir });
  await db.waitReady;
  afterTest.push(() => db.close());
  const sessions = pgliteSessions(db);
  return { sessions, sql: (text, params) => sessions((s) => s.query(text, params)) };
}

const BACKENDS: [string, () => Promise<Backend>][] = [
  ['Postgres', freshPostgres],
  ['PGlite', freshPglite],
];

// ---------------------------------------------------------------------------------------------
// Small queries.

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  expect(isError(outcome.error)).toBe(true);
  return outcome.error as Error;
}

async function tableExists(db: Backend, table: string): Promise<boolean> {
  const [row] = await db.sql<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`"${table}"`]);
  return row?.t != null;
}

async function columnNames(db: Backend, table: string): Promise<string[]> {
  const rows = await db.sql<{ column_name: string }>(
    `SELECT column_name::text FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

function migrationRows(db: Backend): Promise<MigrationRow[]> {
  return db.sql<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name');
}

/** Advisory locks on the Prisma key in this database: held (granted) and waited for. */
async function prismaLocks(db: Backend): Promise<{ granted: number; waiting: number }> {
  const [row] = await db.sql<{ granted: number; waiting: number }>(
    `SELECT count(*) FILTER (WHERE l.granted)::int AS granted, count(*) FILTER (WHERE NOT l.granted)::int AS waiting
       FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND d.datname = current_database()
        AND l.classid = 0 AND l.objid = ${PRISMA_ADVISORY_LOCK_KEY} AND l.objsubid = 1`,
  );
  return row!;
}

const isDate = (value: unknown) => Object.prototype.toString.call(value) === '[object Date]';
const isError = (value: unknown) => Object.prototype.toString.call(value) === '[object Error]';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------

describe('readMigrations', () => {
  it('reads prisma/migrations in name order with the sha256 of each file as checksum', () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    expect(NAMES).toEqual([...NAMES].sort());
    for (const m of MIGRATIONS) {
      expect(m.name).toMatch(/^\d{14}_\w+$/); // Prisma's naming, which also makes name order time order
      const bytes = readFileSync(path.join(MIGRATIONS_DIR, m.name, 'migration.sql'));
      expect(m.sql).toBe(bytes.toString('utf8'));
      expect(m.checksum).toBe(sha256(bytes));
    }
  });

  it('takes only directories holding a migration.sql, sorted by name', () => {
    const dir = tempDir();
    for (const name of ['20300101000000_second', '20200101000000_first', '20250101000000_empty_dir']) {
      mkdirSync(path.join(dir, name));
    }
    writeFileSync(path.join(dir, '20300101000000_second', 'migration.sql'), 'SELECT 2;');
    writeFileSync(path.join(dir, '20200101000000_first', 'migration.sql'), 'SELECT 1;');
    writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    expect(readMigrations(dir)).toEqual([
      migrationFile('20200101000000_first', 'SELECT 1;'),
      migrationFile('20300101000000_second', 'SELECT 2;'),
    ]);
  });
});

describe.each(BACKENDS)('migrate() on %s', (_backend, fresh) => {
  it('applies every migration on an empty database, records it as Prisma does, and then has nothing to do', async () => {
    const db = await fresh();
    expect(await pendingMigrations(db.sessions)).toEqual(NAMES);
    expect(await tableExists(db, '_prisma_migrations')).toBe(false); // looking does not create it

    const seen: string[] = [];
    expect(await migrate(db.sessions, undefined, (name) => seen.push(name))).toEqual({
      applied: NAMES,
      alreadyApplied: 0,
    });
    expect(seen).toEqual(NAMES);

    // The table is Prisma's own definition, so `prisma migrate deploy` can take over.
    const definition = await db.sql(
      `SELECT column_name::text AS name, data_type::text AS type, character_maximum_length AS length,
              is_nullable::text AS nullable, column_default::text AS "default"
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(definition).toEqual([
      { name: 'id', type: 'character varying', length: 36, nullable: 'NO', default: null },
      { name: 'checksum', type: 'character varying', length: 64, nullable: 'NO', default: null },
      { name: 'finished_at', type: 'timestamp with time zone', length: null, nullable: 'YES', default: null },
      { name: 'migration_name', type: 'character varying', length: 255, nullable: 'NO', default: null },
      { name: 'logs', type: 'text', length: null, nullable: 'YES', default: null },
      {
        name: 'rolled_back_at',
        type: 'timestamp with time zone',
        length: null,
        nullable: 'YES',
        default: null,
      },
      {
        name: 'started_at',
        type: 'timestamp with time zone',
        length: null,
        nullable: 'NO',
        default: 'now()',
      },
      { name: 'applied_steps_count', type: 'integer', length: null, nullable: 'NO', default: '0' },
    ]);

    const rows = await migrationRows(db);
    expect(rows.map((r) => r.migration_name)).toEqual(NAMES);
    for (const row of rows) {
      const file = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect({ ...row, finished_at: isDate(row.finished_at), started_at: isDate(row.started_at) }).toEqual({
        id: expect.stringMatching(UUID),
        checksum: sha256(file),
        finished_at: true,
        migration_name: row.migration_name,
        logs: null,
        rolled_back_at: null,
        started_at: true,
        applied_steps_count: 1,
      });
      expect(row.id).toHaveLength(36);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);

    expect(await migrate(db.sessions)).toEqual({ applied: [], alreadyApplied: MIGRATIONS.length });
    expect(await migrationRows(db)).toEqual(rows);
    expect(await pendingMigrations(db.sessions)).toEqual([]);
  });

  it('builds exactly the database prisma/schema.prisma declares', async () => {
    const db = await fresh();
    await migrate(db.sessions);
    const datamodel = getDatamodel(readSchemaText());
    const declared = expectedShape(datamodel);
    const actual = await db.sessions((s) => introspect(s));
    expect(diffShapes(declared, actual)).toEqual([]);

    // Not vacuous: every model, scalar field, index, foreign key and enum value of the schema is
    // in the comparison (so the agreement above covers, e.g., barcodes' ON DELETE CASCADE).
    const tables = Object.values(actual.tables);
    const count = (part: (t: (typeof tables)[number]) => object) =>
      tables.reduce((sum, t) => sum + Object.keys(part(t)).length, 0);
    const fields = datamodel.models.flatMap((m) => m.fields);
    expect(tables).toHaveLength(datamodel.models.length);
    expect(count((t) => t.columns)).toBe(fields.filter((f) => f.kind !== 'object').length);
    expect(count((t) => t.indexes)).toBe(datamodel.indexes.length);
    expect(count((t) => t.foreignKeys)).toBe(fields.filter((f) => f.relationFromFields?.length).length);
    expect(Object.values(actual.enums).flat()).toHaveLength(datamodel.enums.flatMap((e) => e.values).length);
    // The one thing the schema language cannot say, added by hand in the migration.
    const checks = await db.sql<{ name: string }>(
      `SELECT conname::text AS name FROM pg_constraint WHERE contype = 'c' AND conrelid = '"products"'::regclass`,
    );
    expect(checks).toEqual([{ name: 'products_price_cents_non_negative' }]);
  });

  it('refuses to run when an applied migration file was changed, naming it, and applies nothing', async () => {
    const db = await fresh();
    const dir = tempDir();
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(db.sessions, readMigrations(dir));
    const before = await migrationRows(db);

    const edited = NAMES[0]!;
    writeFileSync(path.join(dir, edited, 'migration.sql'), '-- a harmless-looking edit\n', { flag: 'a' });
    mkdirSync(path.join(dir, '29990101000000_later'));
    writeFileSync(
      path.join(dir, '29990101000000_later', 'migration.sql'),
      'CREATE TABLE "later" (id INTEGER);',
    );

    const error = await rejection(migrate(db.sessions, readMigrations(dir)));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain(`Migration ${edited} was changed after it was applied`);
    expect(await tableExists(db, 'later')).toBe(false);
    expect(await migrationRows(db)).toEqual(before);

    const pendingError = await rejection(pendingMigrations(db.sessions, readMigrations(dir)));
    expect(pendingError).toBeInstanceOf(MigrationError);
    expect(pendingError.message).toContain(edited);
  });

  it.each([
    ['a syntax error', 'CREATE TABLE "half_done" (id INTEGER);\nCREATE TABL "oops" (id INTEGER);'],
    [
      'a statement failing after a successful CREATE TABLE',
      'CREATE TABLE "half_done" (id INTEGER PRIMARY KEY);\n' +
        'INSERT INTO "half_done" VALUES (1);\n' +
        'ALTER TABLE "products" ADD COLUMN "half_done" TEXT;\n' +
        'INSERT INTO "half_done" VALUES (1);',
    ],
  ])('rolls a second migration with %s back completely and names it', async (_case, brokenSql) => {
    const db = await fresh();
    const broken = migrationFile('29990101000000_broken', brokenSql);
    const applied: string[] = [];

    const error = await rejection(
      migrate(db.sessions, [...MIGRATIONS, broken], (name) => applied.push(name)),
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toMatch(/^Migration 29990101000000_broken failed and was rolled back: /);
    expect(isError(error.cause)).toBe(true);

    // The migrations before it are committed, it left nothing behind.
    expect(applied).toEqual(NAMES);
    expect((await migrationRows(db)).map((r) => r.migration_name)).toEqual(NAMES);
    expect(await tableExists(db, 'half_done')).toBe(false);
    expect(await columnNames(db, 'products')).not.toContain('half_done');
    expect(await pendingMigrations(db.sessions, [...MIGRATIONS, broken])).toEqual([broken.name]);

    // Nothing is stuck: the fixed migration goes through on the next run.
    const fixed = migrationFile(broken.name, 'CREATE TABLE "half_done" (id INTEGER PRIMARY KEY);');
    expect(await migrate(db.sessions, [...MIGRATIONS, fixed])).toEqual({
      applied: [fixed.name],
      alreadyApplied: MIGRATIONS.length,
    });
    expect(await tableExists(db, 'half_done')).toBe(true);
  });

  it('treats a file whose only change is its line endings (git autocrlf) as unchanged, as Prisma does', async () => {
    // Prisma's schema engine (checksum.rs, script_matches_checksum) accepts the checksum of the
    // file as is, with CRLF→LF, or with LF→CRLF, so a database migrated from a Windows checkout
    // is not "changed" for a Linux one.
    const db = await fresh();
    const crlf = MIGRATIONS.map((m) => migrationFile(m.name, m.sql.replace(/\r?\n/g, '\r\n')));
    expect(crlf.map((m) => m.checksum)).not.toEqual(MIGRATIONS.map((m) => m.checksum));
    await migrate(db.sessions, crlf);
    expect(await migrate(db.sessions, MIGRATIONS)).toEqual({
      applied: [],
      alreadyApplied: MIGRATIONS.length,
    });
    expect(await pendingMigrations(db.sessions, MIGRATIONS)).toEqual([]);
  });

  it('commits a migration together with its _prisma_migrations row, or neither', async () => {
    // A multi-statement file is atomic on its own (one simple-query message); what the runner's
    // transaction adds is that the row goes with it. Make the INSERT of the row fail.
    const db = await fresh();
    const unrecordable = migrationFile(
      '29990101000000_unrecordable',
      'CREATE TABLE "recorded_together" (id INTEGER);\n' +
        `ALTER TABLE "_prisma_migrations" ADD CONSTRAINT "refuse_row" CHECK (migration_name <> '29990101000000_unrecordable');`,
    );
    const error = await rejection(migrate(db.sessions, [...MIGRATIONS, unrecordable]));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toMatch(
      /^Migration 29990101000000_unrecordable failed and was rolled back: .*refuse_row/,
    );
    expect(await tableExists(db, 'recorded_together')).toBe(false);
    expect((await migrationRows(db)).map((r) => r.migration_name)).toEqual(NAMES);
  });

  it('refuses to run while a migration is recorded as started but not finished', async () => {
    const db = await fresh();
    await migrate(db.sessions);
    const unfinished = NAMES[NAMES.length - 1]!;
    // What a `prisma migrate deploy` that failed half-way leaves behind.
    await db.sql(
      `UPDATE "_prisma_migrations" SET finished_at = NULL, logs = 'boom' WHERE migration_name = $1`,
      [unfinished],
    );
    const next = migrationFile('29990101000000_next', 'CREATE TABLE "next_table" (id INTEGER);');

    const error = await rejection(migrate(db.sessions, [...MIGRATIONS, next]));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain(`Migration ${unfinished} started but did not finish`);
    expect(error.message).toContain('prisma migrate resolve');
    expect(await tableExists(db, 'next_table')).toBe(false);
    expect(await migrationRows(db)).toHaveLength(MIGRATIONS.length);

    const pendingError = await rejection(pendingMigrations(db.sessions, [...MIGRATIONS, next]));
    expect(pendingError).toBeInstanceOf(MigrationError);
    expect(pendingError.message).toContain(unfinished);
  });

  it('runs a migration marked rolled back (`prisma migrate resolve --rolled-back`) again', async () => {
    const db = await fresh();
    const extra = migrationFile('29990101000000_extra', 'CREATE TABLE "extra" (id INTEGER);');
    await migrate(db.sessions, [...MIGRATIONS, extra]);
    await db.sql('DROP TABLE "extra"');
    await db.sql(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1`, [
      extra.name,
    ]);

    expect(await pendingMigrations(db.sessions, [...MIGRATIONS, extra])).toEqual([extra.name]);
    expect(await migrate(db.sessions, [...MIGRATIONS, extra])).toEqual({
      applied: [extra.name],
      alreadyApplied: MIGRATIONS.length,
    });
    expect(await tableExists(db, 'extra')).toBe(true);
    const extraRows = (await migrationRows(db)).filter((r) => r.migration_name === extra.name);
    expect(extraRows.map((r) => r.rolled_back_at === null)).toEqual([false, true]);
  });

  it('refuses to run when the database has a migration this checkout does not', async () => {
    const db = await fresh();
    const newer = migrationFile('29990101000000_newer', 'CREATE TABLE "newer" (id INTEGER);');
    await migrate(db.sessions, [...MIGRATIONS, newer]);

    const error = await rejection(migrate(db.sessions));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain(`Migration ${newer.name} is applied in the database but missing`);
  });
});

describe.each(BACKENDS)('the change capture on %s', (_backend, fresh) => {
  it('records what a statement changed, hands it back to a marked transaction, and clears on TRUNCATE', async () => {
    const db = await fresh();
    await migrate(db.sessions);
    const journal = () =>
      db.sql<{ kind: string; ident: string | null }>(
        'SELECT kind, ident FROM cache_missed_invalidations WHERE cache_key IS NULL ORDER BY kind, ident',
      );
    await db.sql(`INSERT INTO products (sku, name, updated_at) VALUES ('S1', 'one', now())`);
    await db.sql(
      `INSERT INTO barcodes (code, key, symbology, product_id, updated_at) VALUES ('C1', 'C1', 'OTHER', 1, now())`,
    );
    await db.sql('DELETE FROM cache_missed_invalidations');
    await db.sql(`UPDATE products SET name = 'two' WHERE id = 1`);
    // The barcodes that embed it are looked up when the row is drained.
    expect(await journal()).toEqual([{ kind: 'product-with-barcodes', ident: '1' }]);
    await db.sql('DELETE FROM cache_missed_invalidations');
    const handedBack = await db.sessions(async (s) => {
      await s.exec('BEGIN');
      await s.query(`SELECT set_config('barcode_cache.api_transaction', 'on', true)`);
      await s.query(`UPDATE barcodes SET key = 'C2' WHERE key = 'C1'`);
      const [row] = await s.query<{ captured: string }>(
        `SELECT current_setting('barcode_cache.captured', true) AS captured`,
      );
      await s.exec('COMMIT');
      return JSON.parse(row!.captured) as string[][];
    });
    expect(handedBack.sort()).toEqual([
      ['barcode', 'C1'],
      ['barcode', 'C2'],
      ['product-barcodes', '1'],
    ]);
    expect(await journal()).toEqual([]); // the API's own transaction queued nothing
    await db.sql('TRUNCATE products CASCADE');
    expect(await journal()).toEqual([
      { kind: 'clear', ident: null },
      { kind: 'clear', ident: null },
    ]);
  });
});

describe('migrate() on Postgres: the advisory lock', () => {
  it('lets concurrent runs on one fresh database all succeed, applying each migration exactly once', async () => {
    const db = await freshPostgres();
    const runs = await Promise.all([1, 2, 3, 4].map(() => migrate(pgSessions(db.pool(1)))));

    expect(runs.filter((r) => r.applied.length > 0)).toEqual([{ applied: NAMES, alreadyApplied: 0 }]);
    expect(runs.filter((r) => r.applied.length === 0)).toEqual(
      Array(3).fill({ applied: [], alreadyApplied: MIGRATIONS.length }),
    );
    expect((await migrationRows(db)).map((r) => r.migration_name)).toEqual(NAMES);
    expect(await prismaLocks(db)).toEqual({ granted: 0, waiting: 0 });
  });

  it(`waits while another session (prisma migrate deploy) holds lock ${PRISMA_ADVISORY_LOCK_KEY}`, async () => {
    const db = await freshPostgres();
    const other = new Client({ connectionString: db.url });
    await other.connect();
    cleanups.push(() => other.end());
    await other.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);

    let settled = false;
    const run = migrate(db.sessions).finally(() => {
      settled = true;
    });
    run.catch(() => {}); // awaited below; keeps a rejection from going unhandled meanwhile

    const deadline = Date.now() + 10_000;
    while ((await prismaLocks(db)).waiting === 0) {
      if (Date.now() > deadline) throw new Error('migrate() never queued for the advisory lock');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(settled).toBe(false);
    expect(await tableExists(db, '_prisma_migrations')).toBe(false);

    await other.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    expect(await run).toEqual({ applied: NAMES, alreadyApplied: 0 });
    expect(await prismaLocks(db)).toEqual({ granted: 0, waiting: 0 });
  });

  it('releases the lock after a failed migration', async () => {
    const db = await freshPostgres();
    const broken = migrationFile('29990101000000_broken', 'SELECT 1/0;');
    await rejection(migrate(db.sessions, [...MIGRATIONS, broken]));
    expect(await prismaLocks(db)).toEqual({ granted: 0, waiting: 0 });
  });
});

describe("migrate() through the app's own pool, whose statement_timeout is DATABASE_TIMEOUT_MS", () => {
  // `npm run db:migrate` runs migrate() on openDatabase()'s pool, which sets statement_timeout.
  // That limit is for API queries; a migration must neither be cut off by it nor give up waiting
  // for another runner's lock (`prisma migrate deploy`, a second deploy) after it.
  const TIMEOUT_MS = 200;

  async function appDatabase(): Promise<PostgresBackend> {
    const plain = await freshPostgres();
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: plain.url,
      DATABASE_POOL_SIZE: '1',
      DATABASE_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    const db = await openDatabase(config.database);
    cleanups.push(() => db.close());
    return {
      ...plain,
      sessions: db.sessions,
      sql: (text, params) => db.sessions((s) => s.query(text, params)),
    };
  }

  it('waits for the advisory lock longer than the statement timeout', async () => {
    const db = await appDatabase();
    const other = new Client({ connectionString: db.url });
    await other.connect();
    cleanups.push(() => other.end());
    await other.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    const run = migrate(db.sessions);
    run.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
    await other.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    expect(await run).toEqual({ applied: NAMES, alreadyApplied: 0 });
  });

  it('lets a migration statement run longer than the statement timeout', async () => {
    const db = await appDatabase();
    const slow = migrationFile('29990101000000_slow', `SELECT pg_sleep(${(TIMEOUT_MS * 3) / 1000});`);
    expect(await migrate(db.sessions, [...MIGRATIONS, slow])).toEqual({
      applied: [...NAMES, slow.name],
      alreadyApplied: 0,
    });
  });

  it("gives the pool's connection back with its statement_timeout", async () => {
    const db = await appDatabase();
    await migrate(db.sessions);
    expect(await db.sql('SHOW statement_timeout')).toEqual([{ statement_timeout: `${TIMEOUT_MS}ms` }]);
  });
});

describe('the schema agreement check catches drift', () => {
  let migrated: PostgresBackend;
  let actual: SchemaShape;

  beforeAll(async () => {
    migrated = await freshPostgres();
    await migrate(migrated.sessions);
    actual = await migrated.sessions((s) => introspect(s));
  });

  /** diffShapes between a mutated copy of schema.prisma and the database the real one migrates to. */
  function diffAgainst(mutate: (schema: string) => string): string[] {
    const original = readSchemaText();
    const mutated = mutate(original);
    expect(mutated).not.toBe(original); // the mutation still applies to the current schema
    return diffShapes(expectedShape(getDatamodel(mutated)), actual);
  }

  it.each<[string, (schema: string) => string, RegExp]>([
    [
      'a field added to schema.prisma without a migration',
      (s) => s.replace(/^(model \w+ \{\n)/m, '$1  zzDrift String?\n'),
      /^tables\.\w+\.columns\.zzDrift: in schema\.prisma, missing from the database$/,
    ],
    [
      'a model added to schema.prisma without a migration',
      (s) => `${s}\nmodel ZzDrift {\n  id Int @id\n}\n`,
      /^tables\.ZzDrift: in schema\.prisma, missing from the database$/,
    ],
    [
      'a field removed from schema.prisma whose column is still there',
      (s) => s.replace(/^\s+description\s+String\?\n/m, ''),
      /^tables\.products\.columns\.description: in the database, missing from schema\.prisma$/,
    ],
    [
      'a changed @db type',
      (s) => s.replace(/@db\.VarChar\((\d+)\)/, (_m, n: string) => `@db.VarChar(${Number(n) + 1})`),
      /\.type: schema\.prisma says "character varying\(\d+\)", the database has "character varying\(\d+\)"$/,
    ],
    [
      'an optional field made required',
      (s) => s.replace(/^(\s+\w+\s+(?:String|Int|DateTime|Boolean))\?/m, '$1'),
      /\.nullable: schema\.prisma says false, the database has true$/,
    ],
    [
      'a changed default',
      (s) => s.replace('@default(true)', '@default(false)'),
      /\.default: schema\.prisma says "false", the database has "true"$/,
    ],
    [
      'a renamed @map',
      (s) => s.replace('@map("price_cents")', '@map("price")'),
      /^tables\.products\.columns\.price: in schema\.prisma, missing from the database$/,
    ],
    [
      'an index added to schema.prisma',
      (s) => s.replace(/^(\s*)@@map\("products"\)/m, '$1@@index([name])\n$1@@map("products")'),
      /^tables\.products\.indexes\.products_name_idx: in schema\.prisma, missing from the database$/,
    ],
    [
      'an index removed from schema.prisma',
      (s) => s.replace(/^\s*@@index\(\[productId\]\)\n/m, ''),
      /^tables\.barcodes\.indexes\.barcodes_product_id_idx: in the database, missing from schema\.prisma$/,
    ],
    [
      '@unique dropped from a field',
      (s) => s.replace(/(sku\s+String\s+)@unique /, '$1'),
      /^tables\.products\.indexes\.products_sku_key: in the database, missing from schema\.prisma$/,
    ],
    [
      'a changed onDelete',
      (s) => s.replace('onDelete: Cascade', 'onDelete: Restrict'),
      /^tables\.barcodes\.foreignKeys\.barcodes_product_id_fkey\.onDelete: schema\.prisma says "RESTRICT", the database has "CASCADE"$/,
    ],
    [
      'an enum value added',
      (s) => s.replace(/^(enum Symbology \{\n)/m, '$1  ZZ_DRIFT\n'),
      /^enums\.Symbology: schema\.prisma says \["ZZ_DRIFT",/,
    ],
  ])('%s', (_case, mutate, expected) => {
    expect(diffAgainst(mutate)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('a column, index or table added to the database without schema.prisma', async () => {
    const shape = await migrated.sessions(async (session) => {
      await session.exec('BEGIN');
      try {
        await session.exec(`ALTER TABLE "products" ADD COLUMN "stray" TEXT;
          CREATE INDEX "products_stray_idx" ON "products"("stray");
          CREATE TABLE "stray_table" (id INTEGER);`);
        return await introspect(session);
      } finally {
        await session.exec('ROLLBACK');
      }
    });
    expect(diffShapes(expectedShape(getDatamodel(readSchemaText())), shape)).toEqual([
      'tables.products.columns.stray: in the database, missing from schema.prisma',
      'tables.products.indexes.products_stray_idx: in the database, missing from schema.prisma',
      'tables.stray_table: in the database, missing from schema.prisma',
    ]);
  });

  it('rejects a schema Prisma itself rejects', () => {
    expect(() => getDatamodel('model Broken {\n  id Int @id\n  other Missing\n}\n')).toThrow(
      /schema\.prisma does not validate: .*Missing/s,
    );
  });
});
