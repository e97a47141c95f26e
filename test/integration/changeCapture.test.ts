// Writes from outside the API (the change_capture migration): every kind of write a psql user, a
// COPY import or another service makes, through a pg connection of the test's own, is seen by
// the app's cache without anything done by the writer. Each kind has a control: the same write
// with the capture triggers disabled in its transaction leaves the API serving the old value,
// so the check would fail without the capture. Then: a rolled-back transaction invalidates
// nothing, a statement beyond the bound clears the namespace (and says so), TRUNCATE clears, a
// reader holding the old row never puts it back after the capture's invalidation, and a write
// during a Redis outage is seen once Redis is back.
import { writeFileSync, rmSync, mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { cachedBatch } from '../../src/cache/cachedBatch';
import { rowCodec } from '../../src/cache/cachedRows';
import { createCacheKeys } from '../../src/cache/keys';
import type { Product } from '../../src/generated/prisma/client';
import { alignOne } from '../../src/graphql/loaders';
import { createApp, type App, type RunningApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../helpers/app';
import { captureDrained, capturedPending, DISABLE_CAPTURE_SQL, ENABLE_CAPTURE_SQL } from '../helpers/capture';
import { createMigratedDatabase, type TestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/loggedApp';
import { clearPrefix, SHARED_REDIS_URL, startRedisProcess, uniquePrefix } from '../helpers/redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy';

const prefix = uniquePrefix('capture');
const keys = createCacheKeys(prefix);
let app: TestApp;
let redis: Redis;
/** The external writer: a plain pg connection, as psql or a legacy app would have. */
let writer: Client;

beforeAll(async () => {
  app = await startTestApp(
    'capture',
    { REDIS_URL: SHARED_REDIS_URL, CACHE_PREFIX: prefix },
    { captureLogs: true },
  );
  redis = new Redis(SHARED_REDIS_URL);
  writer = new Client({ connectionString: app.databaseUrl });
  writer.on('error', () => {});
  await writer.connect();
});
afterAll(async () => {
  await writer?.end();
  redis?.disconnect();
  await app?.stop();
  await clearPrefix(prefix);
});

let counter = 0;
const unique = (label: string) => `CAP-${label}-${++counter}`;

/** One external statement, autocommitted. */
const external = (sql: string, params: unknown[] = []) => writer.query(sql, params);

/** The same statement in a transaction with the capture triggers disabled: the control. */
async function externalUncaptured(sql: string, params: unknown[] = []) {
  await writer.query('BEGIN');
  try {
    for (const statement of DISABLE_CAPTURE_SQL) await writer.query(statement);
    await writer.query(sql, params);
    for (const statement of ENABLE_CAPTURE_SQL) await writer.query(statement);
    await writer.query('COMMIT');
  } catch (error) {
    await writer.query('ROLLBACK');
    throw error;
  }
}

interface Fixture {
  readonly a: number;
  readonly b: number;
  /** a1, a2 under product a; b1 under b; fresh: no barcode has it. */
  readonly codes: { readonly a1: string; readonly a2: string; readonly b1: string; readonly fresh: string };
}

/** Two products with barcodes, written with the plain client, drained before anything is cached. */
async function fixture(): Promise<Fixture> {
  const codes = { a1: unique('a1'), a2: unique('a2'), b1: unique('b1'), fresh: unique('fresh') };
  const barcode = (code: string) => ({ code, key: code, symbology: 'CODE_128' as const });
  const a = await app.db.prisma.product.create({
    data: {
      sku: unique('sku'),
      name: 'old name',
      barcodes: { create: [barcode(codes.a1), barcode(codes.a2)] },
    },
  });
  const b = await app.db.prisma.product.create({
    data: { sku: unique('sku'), name: 'B', barcodes: { create: [barcode(codes.b1)] } },
  });
  await app.settled();
  return { a: a.id, b: b.id, codes };
}

interface BarcodeView {
  code: string;
  active: boolean;
  product: { id: string; name: string };
}

async function lookup(code: string): Promise<BarcodeView | null> {
  const response = await app.gql<{ barcode: BarcodeView | null }>(
    `query ($code: String!) { barcode(code: $code) { code active product { id name } } }`,
    { code },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.barcode;
}

async function lookupMany(codes: string[]): Promise<(BarcodeView | null)[]> {
  const response = await app.gql<{ barcodes: (BarcodeView | null)[] }>(
    `query ($codes: [String!]!) { barcodes(codes: $codes) { code active product { id name } } }`,
    { codes },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.barcodes;
}

/** A product's name and the codes of its barcodes, as the API answers them (null: no such product). */
async function productView(id: number): Promise<{ name: string; codes: string[] } | null> {
  const response = await app.gql<{ product: { name: string; barcodes: { code: string }[] } | null }>(
    `query ($id: ID!) { product(id: $id) { name barcodes { code } } }`,
    { id: String(id) },
  );
  expect(response.errors).toBeUndefined();
  const product = response.data!.product;
  return product && { name: product.name, codes: product.barcodes.map((b) => b.code) };
}

/** Looks everything the case reads up through the API, and checks it is in Redis. */
async function warm(f: Fixture) {
  await lookupMany([f.codes.a1, f.codes.a2, f.codes.b1, f.codes.fresh]);
  await productView(f.a);
  await productView(f.b);
  const cached = await redis.mget(
    keys.barcode(f.codes.a1),
    keys.barcode(f.codes.fresh),
    keys.product(f.a),
    keys.productBarcodes(f.a),
    keys.productBarcodes(f.b),
  );
  expect(cached.every((value) => value !== null)).toBe(true);
}

interface WriteCase {
  readonly sql: (f: Fixture) => [string, unknown[]];
  /** Whether the API answers what the write made. */
  readonly fresh: (f: Fixture) => Promise<boolean>;
}

const barcodeColumns = `(code, key, symbology, product_id, updated_at)`;

const CASES: Record<string, WriteCase> = {
  'UPDATE a product name: its barcodes embed it': {
    sql: (f) => [`UPDATE products SET name = 'After SQL', updated_at = now() WHERE id = $1`, [f.a]],
    fresh: async (f) =>
      (await lookup(f.codes.a1))?.product.name === 'After SQL' &&
      (await lookup(f.codes.a2))?.product.name === 'After SQL' &&
      (await productView(f.a))?.name === 'After SQL',
  },
  'UPDATE a barcode: deactivated': {
    sql: (f) => [`UPDATE barcodes SET active = false, updated_at = now() WHERE key = $1`, [f.codes.a1]],
    fresh: async (f) => (await lookup(f.codes.a1))?.active === false,
  },
  'INSERT a barcode: the negative entry and the product list': {
    sql: (f) => [
      `INSERT INTO barcodes ${barcodeColumns} VALUES ($1, $1, 'CODE_128', $2, now())`,
      [f.codes.fresh, f.a],
    ],
    fresh: async (f) =>
      (await lookup(f.codes.fresh))?.product.id === String(f.a) &&
      Boolean((await productView(f.a))?.codes.includes(f.codes.fresh)),
  },
  'UPDATE a barcode key (re-key): old key and new key': {
    sql: (f) => [
      `UPDATE barcodes SET code = $2, key = $2, updated_at = now() WHERE key = $1`,
      [f.codes.a1, f.codes.fresh],
    ],
    fresh: async (f) =>
      (await lookup(f.codes.a1)) === null && (await lookup(f.codes.fresh))?.code === f.codes.fresh,
  },
  'UPDATE a barcode product_id (move): the barcode and both lists': {
    sql: (f) => [`UPDATE barcodes SET product_id = $2, updated_at = now() WHERE key = $1`, [f.codes.a1, f.b]],
    fresh: async (f) =>
      (await lookup(f.codes.a1))?.product.id === String(f.b) &&
      !(await productView(f.a))!.codes.includes(f.codes.a1) &&
      (await productView(f.b))!.codes.includes(f.codes.a1),
  },
  'DELETE a barcode': {
    sql: (f) => [`DELETE FROM barcodes WHERE key = $1`, [f.codes.a1]],
    fresh: async (f) =>
      (await lookup(f.codes.a1)) === null && !(await productView(f.a))!.codes.includes(f.codes.a1),
  },
  'DELETE a product: the cascade to its barcodes': {
    sql: (f) => [`DELETE FROM products WHERE id = $1`, [f.a]],
    fresh: async (f) =>
      (await productView(f.a)) === null &&
      (await lookup(f.codes.a1)) === null &&
      (await lookup(f.codes.a2)) === null,
  },
};

/**
 * Polls until the API answers the write. The lag is milliseconds (bench/capture.ts lag measures it);
 * 10 s is only the give-up point: on a loaded CI machine a drain's Redis delete can pass
 * CACHE_TIMEOUT_MS, open the breaker, and wait for the probe's recovery (3 s failed a CI run).
 */
const expectFresh = (check: () => Promise<boolean>) =>
  waitFor(check, 10_000, 'the API to answer the external write');

/** The capture's window, and then some: what is still stale after this stays stale. */
async function expectStillStale(check: () => Promise<boolean>) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  await app.settled();
  expect(await check()).toBe(false);
}

describe.each(Object.entries(CASES))('%s', (_name, { sql, fresh }) => {
  it('is seen through the API once committed', async () => {
    const f = await fixture();
    await warm(f);
    const [text, params] = sql(f);
    await external(text, params);
    await expectFresh(() => fresh(f));
  });

  it('control: with the capture triggers disabled, the API keeps serving the old value', async () => {
    const f = await fixture();
    await warm(f);
    const [text, params] = sql(f);
    await externalUncaptured(text, params);
    await expectStillStale(() => fresh(f));
  });
});

describe('COPY, as an import job writes', () => {
  /** A CSV file the Postgres server reads itself (COPY ... FROM 'file': same machine, superuser). */
  function csvOf(rows: string[][]): { file: string; remove(): void } {
    const dir = mkdtempSync(path.join(tmpdir(), 'capture-copy-'));
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'barcodes.csv');
    writeFileSync(file, rows.map((row) => row.join(',')).join('\n') + '\n', { mode: 0o644 });
    return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const copySql = (file: string) =>
    `COPY barcodes (code, key, symbology, product_id, updated_at) FROM '${file}' WITH (FORMAT csv)`;
  const codesFor = (f: Fixture) =>
    [unique('copy'), unique('copy'), unique('copy')].map((code) => [
      code,
      code,
      'CODE_128',
      String(f.a),
      'now',
    ]);

  it('COPY FROM: the negative entries of the copied codes are invalidated', async () => {
    const f = await fixture();
    const rows = codesFor(f);
    const codes = rows.map((row) => row[0]!);
    expect(await lookupMany(codes)).toEqual([null, null, null]); // cached as unknown
    const csv = csvOf(rows);
    try {
      await external(copySql(csv.file));
    } finally {
      csv.remove();
    }
    await expectFresh(async () => (await lookupMany(codes)).every((b) => b?.product.id === String(f.a)));
  });

  it('control: the same COPY with the triggers disabled leaves the codes unknown to the API', async () => {
    const f = await fixture();
    const rows = codesFor(f);
    const codes = rows.map((row) => row[0]!);
    expect(await lookupMany(codes)).toEqual([null, null, null]);
    const csv = csvOf(rows);
    try {
      await externalUncaptured(copySql(csv.file));
    } finally {
      csv.remove();
    }
    await expectStillStale(async () => (await lookupMany(codes)).every((b) => b !== null));
  });
});

describe('a bulk UPDATE of 300 products in one statement', () => {
  async function bulkFixture() {
    const label = unique('bulk');
    await app.db.prisma.product.createMany({
      data: Array.from({ length: 300 }, (_, i) => ({ sku: `${label}-${i}`, name: 'bulk before' })),
    });
    const products = await app.db.prisma.product.findMany({ where: { sku: { startsWith: `${label}-` } } });
    await app.db.prisma.barcode.createMany({
      data: products.map((p) => ({
        code: `${p.sku}-C`,
        key: `${p.sku}-C`,
        symbology: 'CODE_128' as const,
        productId: p.id,
      })),
    });
    await app.settled();
    const codes = products.map((p) => `${p.sku}-C`);
    expect((await lookupMany(codes)).every((b) => b?.product.name === 'bulk before')).toBe(true);
    return { label, codes };
  }
  const bulkSql = `UPDATE products SET name = 'bulk after', updated_at = now() WHERE sku LIKE $1`;
  const allAfter = (codes: string[]) => async () =>
    (await lookupMany(codes)).every((b) => b?.product.name === 'bulk after');

  it('every barcode of every product shows the new name', async () => {
    const { label, codes } = await bulkFixture();
    await external(bulkSql, [`${label}-%`]);
    await expectFresh(allAfter(codes));
  });

  it('control: with the triggers disabled, all 300 stay stale', async () => {
    const { label, codes } = await bulkFixture();
    await externalUncaptured(bulkSql, [`${label}-%`]);
    await expectStillStale(async () =>
      (await lookupMany(codes)).some((b) => b?.product.name === 'bulk after'),
    );
  });
});

it('a writer role with no grant of its own on the journal is captured (every role may append to it, nothing more)', async () => {
  const role = `capture_legacy_${Math.random().toString(36).slice(2, 8)}`;
  await external(`CREATE ROLE ${role} LOGIN`);
  try {
    await external(`GRANT SELECT, INSERT, UPDATE, DELETE ON barcodes, products TO ${role}`);
    await external(`GRANT USAGE ON SEQUENCE barcodes_id_seq, products_id_seq TO ${role}`);
    const f = await fixture();
    await warm(f);
    const url = new URL(app.databaseUrl);
    url.username = role;
    const legacy = new Client({ connectionString: url.toString() });
    await legacy.connect();
    try {
      await expect(legacy.query('SELECT count(*) FROM cache_missed_invalidations')).rejects.toThrow(
        /permission denied/,
      );
      await expect(legacy.query('DELETE FROM cache_missed_invalidations')).rejects.toThrow(
        /permission denied/,
      );
      await legacy.query(`UPDATE products SET name = 'After SQL', updated_at = now() WHERE id = $1`, [f.a]);
      await legacy.query(`INSERT INTO barcodes ${barcodeColumns} VALUES ($1, $1, 'CODE_128', $2, now())`, [
        f.codes.fresh,
        f.a,
      ]);
    } finally {
      await legacy.end();
    }
    await expectFresh(
      async () =>
        (await lookup(f.codes.a1))?.product.name === 'After SQL' && (await lookup(f.codes.fresh)) !== null,
    );
  } finally {
    await external(`REASSIGN OWNED BY ${role} TO CURRENT_USER`);
    await external(`DROP OWNED BY ${role}`);
    await external(`DROP ROLE ${role}`);
  }
});

it('a rolled-back external transaction records nothing and invalidates nothing', async () => {
  const f = await fixture();
  await warm(f);
  const before = await redis.mget(keys.barcode(f.codes.a1), keys.product(f.a));
  await writer.query('BEGIN');
  await writer.query(`UPDATE products SET name = 'rolled back', updated_at = now() WHERE id = $1`, [f.a]);
  await writer.query(`DELETE FROM barcodes WHERE key = $1`, [f.codes.a1]);
  // Inside the transaction the rows are there (the triggers ran)...
  const { rows } = await writer.query<{ n: string }>(
    'SELECT count(*) AS n FROM cache_missed_invalidations WHERE cache_key IS NULL',
  );
  expect(Number(rows[0]!.n)).toBeGreaterThan(0);
  await writer.query('ROLLBACK');
  // ...and gone with it; no notification was sent, nothing was deleted from Redis.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await capturedPending(app.db.sessions)).toBe(0);
  expect(await redis.mget(keys.barcode(f.codes.a1), keys.product(f.a))).toEqual(before);
  expect((await lookup(f.codes.a1))?.product.name).toBe('old name');
});

it('a transaction that commits long after its write, with no write after it, is seen: the poll asks for waiting rows, not only whether the journal grew', async () => {
  const f = await fixture();
  await warm(f);
  await writer.query('BEGIN');
  await writer.query(`UPDATE products SET name = 'committed late', updated_at = now() WHERE id = $1`, [f.a]);
  // The journal's sequence moved with the write: the polls have seen it and drained nothing,
  // since the row is not committed yet. Nothing moves it after the commit.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect((await lookup(f.codes.a1))?.product.name).toBe('old name');
  await writer.query('COMMIT');
  const committed = Date.now();
  await waitFor(
    async () => (await lookup(f.codes.a1))?.product.name === 'committed late',
    3000,
    'the late commit to be served',
  );
  console.log(`a commit 300 ms after its write: served ${Date.now() - committed} ms after the commit`);
});

describe('a statement beyond capture_max_keys', () => {
  it('records one "clear" row instead of its keys', async () => {
    const f = await fixture();
    await writer.query('BEGIN');
    try {
      await writer.query('SET LOCAL barcode_cache.capture_max_keys = 2');
      await writer.query(`UPDATE barcodes SET active = false WHERE product_id IN ($1, $2)`, [f.a, f.b]);
      const { rows } = await writer.query<{ kind: string; ident: string | null }>(
        'SELECT kind, ident FROM cache_missed_invalidations WHERE cache_key IS NULL ORDER BY id',
      );
      expect(rows).toEqual([{ kind: 'clear', ident: null }]);
    } finally {
      await writer.query('ROLLBACK');
    }
  });

  it('clears the namespace, and the app says so in its log', async () => {
    const f = await fixture();
    await warm(f);
    const bystander = `${prefix}:v1:product:999999999`;
    await redis.set(bystander, 'unrelated', 'EX', 60);
    await external('SET barcode_cache.capture_max_keys = 2');
    try {
      await external(`UPDATE barcodes SET active = false WHERE product_id IN ($1, $2)`, [f.a, f.b]);
    } finally {
      await external('RESET barcode_cache.capture_max_keys');
    }
    await expectFresh(async () => (await redis.get(bystander)) === null);
    expect((await lookup(f.codes.a1))?.active).toBe(false);
    expect(app.logs().map((line) => line.msg)).toContainEqual(
      expect.stringContaining('clearing the cache namespace'),
    );
  });
});

describe('the lease: a reader that loaded the old row before the external commit', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  /** A product loader whose database read finishes, then waits for `gate` before filling the cache. */
  function slowProductReader(gate: Promise<void>, loaded: () => void) {
    const { cache, stats, config } = app.running.cache;
    return cachedBatch<number, Product>({
      entity: 'product',
      cache,
      stats,
      cacheKey: keys.product,
      ...rowCodec<Product>(),
      ttlSeconds: config.ttlSeconds,
      negativeTtlSeconds: config.negativeTtlSeconds,
      load: async (ids) => {
        const rows = alignOne(
          ids,
          await app.db.prisma.product.findMany({ where: { id: { in: [...ids] } } }),
          (p) => p.id,
        );
        loaded();
        await gate;
        return rows;
      },
    });
  }

  async function interleave(write: (sql: string, params: unknown[]) => Promise<unknown>) {
    const f = await fixture();
    const gate = deferred();
    const loaded = deferred();
    const reader = slowProductReader(gate.promise, loaded.resolve)([f.a]);
    await loaded.promise; // it holds a lease and the OLD row
    await write(`UPDATE products SET name = 'new name', updated_at = now() WHERE id = $1`, [f.a]);
    await app.settled(); // the capture's invalidation is done (or, uncaptured, there was none)
    gate.resolve();
    expect((await reader)[0]!.name).toBe('old name'); // it began before the write: fine
    return f;
  }

  it('never puts it back: the invalidation voided its lease', async () => {
    const f = await interleave(external);
    const cached = await redis.get(keys.product(f.a));
    expect(cached === null || !cached.includes('old name')).toBe(true);
    expect((await productView(f.a))?.name).toBe('new name');
  });

  it('control: without the capture its fill stands and the API serves the old row', async () => {
    const f = await interleave(externalUncaptured);
    expect(await redis.get(keys.product(f.a))).toContain('old name');
    expect((await productView(f.a))?.name).toBe('old name');
    await redis.del(keys.product(f.a));
  });
});

describe('TRUNCATE', () => {
  it('clears the namespace', async () => {
    const f = await fixture();
    await warm(f);
    await external('TRUNCATE products CASCADE');
    await expectFresh(async () =>
      (await redis.mget(keys.barcode(f.codes.a1), keys.productBarcodes(f.a))).every((v) => v === null),
    );
    expect(await lookup(f.codes.a1)).toBeNull();
    expect(await productView(f.a)).toBeNull();
  });

  it('control: with the triggers disabled, the truncated rows are still served', async () => {
    const f = await fixture();
    await warm(f);
    await externalUncaptured('TRUNCATE products CASCADE');
    await expectStillStale(async () => (await lookup(f.codes.a1)) === null);
    await clearPrefix(prefix);
  });
});

describe('an external write while Redis is down', () => {
  let redisProcess: Awaited<ReturnType<typeof startRedisProcess>>;
  let outageApp: TestApp;
  let outageWriter: Client;
  const outagePrefix = uniquePrefix('capture-outage');

  beforeAll(async () => {
    redisProcess = await startRedisProcess();
    outageApp = await startTestApp('capture_outage', {
      REDIS_URL: redisProcess.url,
      CACHE_PREFIX: outagePrefix,
      CACHE_TIMEOUT_MS: '200',
      CACHE_PROBE_INTERVAL_MS: '100',
    });
    outageWriter = new Client({ connectionString: outageApp.databaseUrl });
    outageWriter.on('error', () => {});
    await outageWriter.connect();
  });
  afterAll(async () => {
    await outageWriter?.end();
    await outageApp?.stop();
    await redisProcess?.stop();
  });

  const nameOf = async (code: string) => {
    const response = await outageApp.gql<{ barcode: BarcodeView | null }>(
      `query ($code: String!) { barcode(code: $code) { product { name } } }`,
      { code },
    );
    return response.data!.barcode?.product.name;
  };
  const backend = async () =>
    (
      await outageApp.gql<{ cacheStats: { backend: string; degraded: boolean } }>(
        '{ cacheStats { backend degraded } }',
      )
    ).data!.cacheStats;

  async function duringOutage(write: (sql: string, params: unknown[]) => Promise<unknown>) {
    const code = unique('outage');
    const product = await outageApp.db.prisma.product.create({
      data: {
        sku: unique('sku'),
        name: 'before outage',
        barcodes: { create: [{ code, key: code, symbology: 'CODE_128' }] },
      },
    });
    await outageApp.settled();
    expect(await nameOf(code)).toBe('before outage'); // cached in Redis
    await redisProcess.pause(); // keeps its data: the old entry is still there when it comes back
    try {
      await write(`UPDATE products SET name = 'during outage', updated_at = now() WHERE id = $1`, [
        product.id,
      ]);
      // The app notices (its drain of the captured rows times out, or this lookup's read does).
      await nameOf(unique('unknown'));
      await waitFor(async () => (await backend()).degraded, 5000, 'the app to leave Redis');
    } finally {
      await redisProcess.resume();
    }
    await waitFor(async () => !(await backend()).degraded, 5000, 'the app back on Redis');
    return code;
  }

  it('is seen once Redis is back: recovery drains the captured rows before Redis serves', async () => {
    const code = await duringOutage((sql, params) => outageWriter.query(sql, params));
    expect(await nameOf(code)).toBe('during outage');
  });

  it('control: uncaptured, the old entry Redis kept is served after the outage', async () => {
    const code = await duringOutage(async (sql, params) => {
      await outageWriter.query('BEGIN');
      for (const statement of DISABLE_CAPTURE_SQL) await outageWriter.query(statement);
      await outageWriter.query(sql, params);
      for (const statement of ENABLE_CAPTURE_SQL) await outageWriter.query(statement);
      await outageWriter.query('COMMIT');
    });
    expect(await nameOf(code)).toBe('before outage');
  });
});

describe('an instance cut off from Redis, serving the database fallback, while another drains', () => {
  let redisProcess: Awaited<ReturnType<typeof startRedisProcess>>;
  let proxy: TcpProxy;
  let testDb: TestDatabase;
  const apps: { app: App; db: Database; running: RunningApp }[] = [];
  const partitionPrefix = uniquePrefix('capture-partition');

  beforeAll(async () => {
    redisProcess = await startRedisProcess();
    proxy = await startTcpProxy({ port: redisProcess.port });
    testDb = await createMigratedDatabase('capture_partition');
    for (const redisUrl of [proxy.url, redisProcess.url]) {
      const config = loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: testDb.url,
        REDIS_URL: redisUrl,
        CACHE_PREFIX: partitionPrefix,
        CACHE_TIMEOUT_MS: '200',
        CACHE_PROBE_INTERVAL_MS: '100',
      });
      const db = await openDatabase(config.database);
      const app = createApp(config, { db, logger: createLogger({ logLevel: 'silent' }) });
      apps.push({ app, db, running: await app.start() });
    }
  });
  afterAll(async () => {
    for (const { app, db } of apps) {
      await app.stop();
      await db.close();
    }
    await proxy?.close();
    await redisProcess?.stop();
    await testDb?.drop();
  });

  const nameThrough = async (running: RunningApp, code: string) => {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ barcode(code: "${code}") { product { name } } cacheStats { backend } }`,
      }),
    });
    const body = (await response.json()) as {
      data: { barcode: { product: { name: string } } | null; cacheStats: { backend: string } };
    };
    return { name: body.data.barcode?.product.name, backend: body.data.cacheStats.backend };
  };

  /** An external write on a connection of its own, with the capture triggers on or off. */
  async function writeOnce(sql: string, params: unknown[], { captured }: { captured: boolean }) {
    const client = new Client({ connectionString: testDb.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      if (!captured) for (const statement of DISABLE_CAPTURE_SQL) await client.query(statement);
      await client.query(sql, params);
      if (!captured) for (const statement of ENABLE_CAPTURE_SQL) await client.query(statement);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }

  async function cutOffAndCache(label: string) {
    const [cut, healthy] = apps as [(typeof apps)[0], (typeof apps)[0]];
    const code = unique(label);
    const product = await healthy.db.prisma.product.create({
      data: {
        sku: unique('sku'),
        name: 'before',
        barcodes: { create: [{ code, key: code, symbology: 'CODE_128' }] },
      },
    });
    await captureDrained(healthy.db.sessions);
    proxy.setFault({ kind: 'blackhole' });
    // The cut-off instance notices on its first read and serves (and fills) the database fallback.
    await waitFor(
      async () => (await nameThrough(cut.running, code)).backend === 'DATABASE',
      5000,
      'the fallback',
    );
    expect(await nameThrough(cut.running, code)).toEqual({ name: 'before', backend: 'DATABASE' });
    return { cut, healthy, code, product };
  }

  it('serves the external write: the healthy instance deleted it from Redis and from the shared fallback table', async () => {
    const { cut, healthy, code, product } = await cutOffAndCache('partition');
    try {
      await writeOnce(`UPDATE products SET name = 'after' WHERE id = $1`, [product.id], { captured: true });
      await waitFor(
        async () => (await nameThrough(cut.running, code)).name === 'after',
        3000,
        'the fallback to serve the write',
      );
      expect((await nameThrough(healthy.running, code)).name).toBe('after');
    } finally {
      proxy.setFault({ kind: 'none' });
    }
  });

  it('control: uncaptured, the fallback keeps serving the old row', async () => {
    const { cut, code, product } = await cutOffAndCache('partition-control');
    try {
      await writeOnce(`UPDATE products SET name = 'after' WHERE id = $1`, [product.id], { captured: false });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await nameThrough(cut.running, code)).toEqual({ name: 'before', backend: 'DATABASE' });
    } finally {
      proxy.setFault({ kind: 'none' });
    }
  });
});
