// The operations commands, run as the CLI runs them (run(args, deps) → exit code) against real
// Postgres and Redis: db:migrate, db:seed, cache:check, cache:warm, cache:clear.
import Redis from 'ioredis';
import * as cacheCheck from '../../src/cli/cacheCheck';
import * as cacheClear from '../../src/cli/cacheClear';
import * as cacheWarm from '../../src/cli/cacheWarm';
import type { CliDeps } from '../../src/cli/deps';
import * as migrate from '../../src/cli/migrate';
import * as seed from '../../src/cli/seed';
import { loadConfig } from '../../src/config/config';
import { openDatabase, type Database } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { clearPrefix, freePort, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

let testDb: TestDatabase;
let db: Database;
const prefix = uniquePrefix('cli');
const redis = new Redis(SHARED_REDIS_URL);

beforeAll(async () => {
  testDb = await createTestDatabase('cli');
  db = await openDatabase(loadConfig({ DATABASE_URL: testDb.url }).database);
});
afterAll(async () => {
  await clearPrefix(prefix);
  redis.disconnect();
  await db.close();
  await testDb.drop();
});

async function runCommand(
  command: { run: (args: string[], deps: CliDeps) => Promise<number> },
  env: Record<string, string>,
  args: string[] = [],
) {
  const out: string[] = [];
  const err: string[] = [];
  const config = loadConfig({ DATABASE_URL: testDb.url, CACHE_PREFIX: prefix, ...env });
  const code = await command.run(args, { config, db, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const countKeys = async () => (await redis.keys(`${prefix}:*`)).length;

it('db:migrate applies the migrations, then finds nothing to do', async () => {
  expect(await runCommand(migrate, {})).toEqual({
    code: 0,
    out: 'applied 20261126000000_init\napplied 20261126180000_invalidation_journal\napplied 20261202143000_change_capture\napplied 20261202160000_capture_fixes\napplied 20261203160000_capture_product_ids\napplied 20261203170000_capture_namespaces\n✅ 6 migration(s) applied (0 already applied)',
    err: '',
  });
  expect(await runCommand(migrate, {})).toMatchObject({
    code: 0,
    out: '✅ Database is up to date (6 migration(s) applied earlier)',
  });
});

it('db:seed loads demo products and rejects a bad count', async () => {
  const seeded = await runCommand(seed, {}, ['--products', '120']);
  expect(seeded.code).toBe(0);
  expect(seeded.out).toBe('✅ Seeded 120 products with 132 barcodes');
  expect(await db.prisma.product.count()).toBe(120);
  expect(await runCommand(seed, {}, ['--products', 'lots'])).toMatchObject({
    code: 2,
    err: "Invalid --products: expected an integer 1-10000000, got 'lots'",
  });
});

describe('cache:check', () => {
  it('passes against a live Redis, printing each step with its latency', async () => {
    const result = await runCommand(cacheCheck, { REDIS_URL: SHARED_REDIS_URL });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Backend: External Redis Cache \(redis\)/m);
    for (const step of ['miss', 'fill', 'hit', 'delete', 'gone'])
      expect(result.out).toMatch(new RegExp(`^  ${step} +\\d+\\.\\d+ ms  ✓$`, 'm'));
    expect(result.out).toMatch(/✅ External Redis Cache works$/);
    expect(await countKeys()).toBe(0); // the temporary key is gone
  });

  it('passes against the database cache table', async () => {
    const result = await runCommand(cacheCheck, {});
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Backend: Database Cache \(database\)/m);
    expect(await db.prisma.cacheEntry.count({ where: { key: { startsWith: prefix } } })).toBe(0);
  });

  it('fails with the reason against an unreachable Redis, never printing its password', async () => {
    const port = await freePort();
    const result = await runCommand(cacheCheck, {
      REDIS_URL: `redis://default:s3cret-pw@127.0.0.1:${port}`,
      CACHE_TIMEOUT_MS: '500',
    });
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `❌ Redis is unreachable (connect ECONNREFUSED 127.0.0.1:${port}); requests would be served by the Database Cache fallback`,
    );
    expect(result.out + result.err).not.toContain('s3cret-pw');
  });

  it('fails when caching is off', async () => {
    expect(await runCommand(cacheCheck, { CACHE_BACKEND: 'none' })).toMatchObject({ code: 1 });
  });
});

it('cache:warm fills Redis with every active barcode and its product; cache:clear removes only the prefix', async () => {
  const outsider = `${uniquePrefix('cli-outside')}:k`;
  await redis.set(outsider, 'keep', 'EX', 60);
  try {
    const warmed = await runCommand(cacheWarm, { REDIS_URL: SHARED_REDIS_URL }, ['--batch', '50']);
    expect(warmed.code).toBe(0);
    expect(warmed.out).toBe(
      '✅ Warmed 132 barcodes: 252 cache entries (barcodes and products) loaded from the database, 0 already cached',
    );
    expect(await countKeys()).toBe(132 + 120);
    const again = await runCommand(cacheWarm, { REDIS_URL: SHARED_REDIS_URL });
    expect(again.out).toBe(
      '✅ Warmed 132 barcodes: 0 cache entries (barcodes and products) loaded from the database, 132 already cached',
    );

    const cleared = await runCommand(cacheClear, { REDIS_URL: SHARED_REDIS_URL });
    expect(cleared).toMatchObject({ code: 0, out: `✅ Removed 252 key(s) under '${prefix}:'` });
    expect(await countKeys()).toBe(0);
    expect(await redis.get(outsider)).toBe('keep');
  } finally {
    await redis.del(outsider);
  }
});
