// The stale-set race: a reader that loaded the old row before a write committed must not put it
// back into the cache after the write's invalidation. Leases prevent it; these tests interleave
// a reader and a writer deterministically, then at random, against real Postgres and Redis.
import Redis from 'ioredis';
import { cachedBatch } from '../../src/cache/cachedBatch';
import { rowCodec } from '../../src/cache/cachedRows';
import { alignOne } from '../../src/graphql/loaders';
import type { Product } from '../../src/generated/prisma/client';
import { startTestApp, type TestApp } from '../helpers/app';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const prefix = uniquePrefix('race');
let app: TestApp;
let redis: Redis;

beforeAll(async () => {
  app = await startTestApp('race', { REDIS_URL: SHARED_REDIS_URL, CACHE_PREFIX: prefix });
  redis = new Redis(SHARED_REDIS_URL);
});
afterAll(async () => {
  await app.stop();
  await clearPrefix(prefix);
  redis.disconnect();
});

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

async function createProduct(sku: string, code: string): Promise<number> {
  const product = await app.running.writes.product.create({
    data: { sku, name: 'old name', barcodes: { create: [{ code, key: code, symbology: 'CODE_128' }] } },
  });
  return product.id;
}

const productName = async (id: number) =>
  (await app.gql<{ product: { name: string } }>(`{ product(id: "${id}") { name } }`)).data!.product.name;

/** A product loader whose database read finishes, then waits for `gate` before filling the cache. */
function slowProductReader(gate: Promise<void>, loaded: () => void) {
  const { cache, stats, keys, config } = app.running.cache;
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

it('a fill that read the row before a write committed does not reach the cache (lease voided)', async () => {
  const id = await createProduct('RACE-1', 'RACE-CODE-1');
  const gate = deferred();
  const loaded = deferred();
  const reader = slowProductReader(gate.promise, loaded.resolve)([id]);
  await loaded.promise; // the reader holds a lease and the OLD row
  await app.running.writes.product.update({ where: { id }, data: { name: 'new name' } }); // commits, invalidates
  gate.resolve();
  expect((await reader)[0]!.name).toBe('old name'); // it began before the write completed: fine
  const cached = await redis.get(`${prefix}:v1:product:${id}`);
  expect(cached === null || !cached.includes('old name')).toBe(true);
  expect(await productName(id)).toBe('new name');
});

it('control: without the lease check the same interleaving would serve the old row', async () => {
  const id = await createProduct('RACE-2', 'RACE-CODE-2');
  const old = await app.db.prisma.product.findUniqueOrThrow({ where: { id } });
  await app.running.writes.product.update({ where: { id }, data: { name: 'new name' } });
  // What an unconditional SET after the invalidation would do:
  await redis.set(`${prefix}:v1:product:${id}`, JSON.stringify(old), 'EX', 60);
  expect(await productName(id)).toBe('old name');
  await redis.del(`${prefix}:v1:product:${id}`);
  expect(await productName(id)).toBe('new name');
});

it('a fill that starts after the write uses a fresh lease and caches the new row', async () => {
  const id = await createProduct('RACE-3', 'RACE-CODE-3');
  await productName(id); // cached
  await app.running.writes.product.update({ where: { id }, data: { name: 'newer name' } });
  expect(await productName(id)).toBe('newer name');
  expect(await redis.get(`${prefix}:v1:product:${id}`)).toContain('newer name');
});

it('random interleaving: no read that starts after a completed write returns an older value', async () => {
  const id = await createProduct('RACE-RANDOM', 'RACE-RANDOM-CODE');
  const WRITES = 250;
  const READERS = 6;
  let completedWrites = 0;
  let writerDone = false;
  const violations: string[] = [];
  let reads = 0;

  const writer = (async () => {
    for (let version = 1; version <= WRITES; version++) {
      const response = await app.gql(
        `mutation { updateProduct(id: "${id}", input: { name: "v${version}" }) { name } }`,
      );
      expect(response.errors).toBeUndefined();
      completedWrites = version;
      if (Math.random() < 0.3) await new Promise((r) => setTimeout(r, Math.random() * 3));
    }
    writerDone = true;
  })();

  const reader = async () => {
    while (!writerDone) {
      const floor = completedWrites; // every write up to here completed before this read started
      const response = await app.gql<{ product: { name: string }; barcode: { product: { name: string } } }>(
        `{ product(id: "${id}") { name } barcode(code: "RACE-RANDOM-CODE") { product { name } } }`,
      );
      reads++;
      for (const name of [response.data!.product.name, response.data!.barcode.product.name]) {
        const seen = name === 'old name' ? 0 : Number(name.slice(1));
        if (seen < floor) violations.push(`read started after v${floor} completed but saw ${name}`);
      }
    }
  };

  await Promise.all([writer, ...Array.from({ length: READERS }, reader)]);
  expect(violations).toEqual([]);
  expect(reads).toBeGreaterThan(1000); // about 1,700 reads of two values each on a 2-core machine
  expect(await productName(id)).toBe(`v${WRITES}`);
});
