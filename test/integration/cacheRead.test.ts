// The cached read path, counted from the real servers: Redis's own INFO commandstats on a private
// redis-server (every command it executed, those the scripts ran included), and Prisma's query
// events for the database.
import Redis from 'ioredis';
import { demoEan13, seedDemoData } from '../../src/db/demoData';
import { startTestApp, type TestApp } from '../helpers/app';
import { commandsBetween, commandStats, startRedisProcess, type RedisProcess } from '../helpers/redis';
import type { CacheStatsResult } from '../helpers/loggedApp';

let redisServer: RedisProcess;
let redis: Redis;
let app: TestApp;

beforeAll(async () => {
  redisServer = await startRedisProcess();
  redis = new Redis(redisServer.url);
  app = await startTestApp('cache_read', { REDIS_URL: redisServer.url, CACHE_PREFIX: 'read' });
  await seedDemoData(app.db.prisma, 60);
});
afterAll(async () => {
  await app.stop();
  redis.disconnect();
  await redisServer.stop();
});

async function measure(query: string, variables?: Record<string, unknown>) {
  const before = await commandStats(redis);
  app.queries.length = 0;
  const response = await app.gql(query, variables);
  expect(response.errors).toBeUndefined();
  const tables = app.queries.map((q) => /FROM "public"\."(\w+)"/.exec(q)?.[1] ?? q.slice(0, 30));
  return { response, redis: commandsBetween(before, await commandStats(redis)), tables };
}

const LIST = `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { name } } }`;
const codes = Array.from({ length: 50 }, (_, i) => demoEan13(i + 1));

it('answers 50 cold codes with, per loader, one MGET, one lease call, one query and one fill call', async () => {
  await measure(LIST, { codes: [demoEan13(60)] }); // loads both scripts into Redis (EVALSHA → NOSCRIPT → EVAL, once)
  const cold = await measure(LIST, { codes });
  expect((cold.response.data as { barcodes: unknown[] }).barcodes.filter(Boolean)).toHaveLength(50);
  expect(cold.tables).toEqual(['barcodes', 'products']);
  // The barcode loader and the product loader (50 products) each: an MGET that misses all 50
  // keys, the lease script (one SET NX per key), the fill script (one GET and one SET per key).
  expect(cold.redis).toEqual({ mget: 2, evalsha: 2 + 2, set: 2 * 50 + 2 * 50, get: 2 * 50 });
});

it('answers the same 50 codes warm with exactly one MGET, no script and no database query', async () => {
  const warm = await measure(LIST, { codes });
  expect(warm.tables).toEqual([]);
  expect(warm.redis).toEqual({ mget: 1 });
  expect(
    (warm.response.data as { barcodes: { product: { name: string } }[] }).barcodes[0]!.product.name,
  ).toMatch(/#1$/);
});

it('merges aliases, duplicates and nested products of one request into the same single read', async () => {
  const warm = await measure(`{
    a: barcode(code: "${codes[0]}") { code product { sku } }
    b: barcode(code: "0${codes[1]}") { code }
    c: barcodes(codes: ["${codes[2]}", "${codes[0]}"]) { product { name } }
  }`);
  expect(warm.redis).toEqual({ mget: 1 });
  expect(warm.tables).toEqual([]);
});

it('leases only what the MGET missed, in a second call made only then', async () => {
  const mixed = [...codes.slice(0, 3), demoEan13(55)]; // three warm, one cold (product 55 too)
  const partly = await measure(LIST, { codes: mixed });
  expect(partly.tables).toEqual(['barcodes', 'products']);
  // Barcodes: MGET of 4, lease 1, fill 1; product 55: MGET of 1, lease 1, fill 1.
  expect(partly.redis).toEqual({ mget: 2, evalsha: 4, set: 4, get: 2 });
});

it('caches unknown codes as negative entries: the database is asked once', async () => {
  const unknown = ['NOPE-1', 'NOPE-2'];
  const first = await measure(LIST, { codes: unknown });
  expect(first.tables).toEqual(['barcodes']);
  expect(await redis.get('read:v1:barcode:NOPE-1')).toBe('~');
  const ttl = await redis.ttl('read:v1:barcode:NOPE-1');
  expect(ttl).toBeGreaterThanOrEqual(54); // 60 s ± 10%
  expect(ttl).toBeLessThanOrEqual(66);
  const second = await measure(LIST, { codes: unknown });
  expect(second.tables).toEqual([]);
  expect((second.response.data as { barcodes: unknown[] }).barcodes).toEqual([null, null]);
});

it('writes positive entries with the configured TTL ±10% and counts hits in cacheStats', async () => {
  const ttl = await redis.ttl(`read:v1:barcode:0${codes[0]}`);
  expect(ttl).toBeGreaterThanOrEqual(3240);
  expect(ttl).toBeLessThanOrEqual(3960);
  const stats = await app.gql<{ cacheStats: CacheStatsResult }>(
    '{ cacheStats { backend degraded hits misses hitRate dbQueries } }',
  );
  const s = stats.data!.cacheStats;
  expect(s).toMatchObject({ backend: 'REDIS', degraded: false });
  expect(s.hits).toBeGreaterThan(50);
  expect(s.hitRate).toBeCloseTo(s.hits / (s.hits + s.misses), 5);
  expect(s.dbQueries).toBe(7); // warm-up, cold list, partly warm list: barcodes + products each; unknown codes: barcodes
  const metrics = await (await fetch(app.url.replace('/graphql', '/metrics'))).text();
  expect(metrics).toMatch(/^cache_lookups_total\{entity="barcode",result="hit"\} \d+$/m);
  expect(metrics).toMatch(/^cache_backend_active\{backend="REDIS"\} 1$/m);
});

it('splits a giant request into bounded cache reads', async () => {
  const many = Array.from({ length: 1000 }, (_, i) => `BULK-${i}`);
  await measure(LIST, { codes: many }); // cold: fills negative entries
  const warm = await measure(LIST, { codes: many });
  expect(warm.redis).toEqual({ mget: 2 }); // MAX_BATCH_SIZE 500
});

it('serves the admin page warm with one MGET for its page chunk and one for every barcode list on it, no query', async () => {
  const PAGE = `{ products(first: 20) { edges { node { name barcodes { code product { sku } } } } } }`;
  const cold = await measure(PAGE);
  // Page chunk 0 (ids up to 31: the 21 rows the page needs), then the lists of its 20 products.
  expect(cold.tables).toEqual(['products', 'barcodes']);
  // Each loader: an MGET that misses (1 chunk, 20 lists), the lease script, the fill script.
  expect(cold.redis).toEqual({ mget: 2, evalsha: 2 + 2, set: 2 * 1 + 2 * 20, get: 1 + 20 });
  const warm = await measure(PAGE);
  expect(warm.tables).toEqual([]);
  expect(warm.redis).toEqual({ mget: 2 });
  type Page = { products: { edges: { node: { barcodes: { product: { sku: string } }[] } }[] } };
  const [warmPage, coldPage] = [warm, cold].map((m) => (m.response.data as Page).products.edges);
  expect(warmPage).toHaveLength(20);
  expect(warmPage!.flatMap((e) => e.node.barcodes).length).toBeGreaterThan(20);
  expect(warmPage).toEqual(coldPage);
});
