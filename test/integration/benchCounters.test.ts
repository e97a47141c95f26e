// The benchmark's own counting, run over a tiny data set: the server's query counter (Prisma
// query events), Redis's command statistics, the cache counters and the summary built from
// them must give the exact per-request figures that each mode's design implies. Speed is never
// asserted here; only what `npm run bench` counts.
import Redis from 'ioredis';
import {
  benchServerEnv,
  load,
  measureWindow,
  modePrefix,
  queriesPerWrite,
  writeQueries,
  seedBenchData,
  startBenchServer,
  warmThroughApi,
  type BenchServer,
} from '../../bench/harness';
import { summarize, type Mode, type Sample, type Workload } from '../../bench/report';
import { allCodes, createWorkloads, WRITE_KINDS, type BenchRequest } from '../../bench/workloads';
import { demoEan13, demoUpcA } from '../../src/db/demoData';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import {
  clearPrefix,
  commandsBetween,
  commandStats,
  freePort,
  startRedisProcess,
  uniquePrefix,
  type RedisProcess,
} from '../helpers/redis';

const PRODUCTS = 30;
const REQUESTS = 20;
/** 50 distinct codes over 25 products: both barcodes of products 1-25. */
const LIST = Array.from({ length: 25 }, (_, i) => [demoEan13(i + 1), demoUpcA(i + 1)]).flat();
const list50: BenchRequest = {
  write: null,
  body: JSON.stringify({
    query: 'query ($c: [String!]!) { barcodes(codes: $c) { code product { name } } }',
    variables: { c: LIST },
  }),
};

let testDb: TestDatabase;
let redisServer: RedisProcess;
let redis: Redis;
const prefix = uniquePrefix('bench');

beforeAll(async () => {
  testDb = await createTestDatabase('bench');
  await seedBenchData(testDb.url, PRODUCTS);
  // A private Redis: its command statistics then count this test's commands and nothing else.
  redisServer = await startRedisProcess();
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
  await testDb?.drop();
});

async function withServer(mode: Mode, use: (server: BenchServer) => Promise<void>): Promise<void> {
  const env = benchServerEnv(mode, {
    databaseUrl: testDb.url,
    prefix,
    redisUrl: redisServer.url,
    closedPort: await freePort(),
    products: PRODUCTS,
  });
  const server = await startBenchServer(mode, env, await freePort(), { build: 'source' });
  try {
    await use(server);
  } finally {
    await server.stop();
  }
}

/**
 * Leaves out the INFO calls the window's own counting made, and counts an EVAL (a script's first
 * call on a fresh server, after EVALSHA found it not loaded) as the script call it is.
 */
function withoutCounting({ info: _info, eval: evals, ...commands }: Record<string, number>) {
  if (evals) commands.evalsha = (commands.evalsha ?? 0) + evals;
  return commands;
}

/** REQUESTS requests, one connection, measured the way the benchmark measures a window. */
const measure = (server: BenchServer, mode: Mode, workload: Workload, next: () => BenchRequest) =>
  measureWindow([server], [redis], { mode, workload, round: 1 }, () =>
    load(server.url, next, { amount: REQUESTS }, 1),
  );

function perRequest(sample: Sample) {
  const [summary] = summarize([sample]);
  expect(sample.errors).toBe(0);
  expect(sample.requests).toBe(REQUESTS);
  return { db: summary!.dbPerRequest, redis: summary!.redisPerRequest, hitRate: summary!.hitRate };
}

it('counts 2 queries per 50-code list for findUnique (merged by Prisma) and the batched loaders, 75 for findFirst', async () => {
  const expected = { naive: 2, 'n-plus-one': 50 + 25, batched: 2 } as const;
  for (const mode of ['naive', 'n-plus-one', 'batched'] as const) {
    await withServer(mode, async (server) => {
      expect(perRequest(await measure(server, mode, 'list50', () => list50))).toEqual({
        db: expected[mode],
        redis: 0,
        hitRate: null,
      });
    });
  }
});

it('counts the cached path: 6 Redis calls and 2 queries cold, then 1 Redis call (an MGET) and no query per request', async () => {
  await withServer('cached', async (server) => {
    await clearPrefix(modePrefix(prefix, 'cached'), redisServer.url);
    // Cold, for the barcodes and then for their products: an MGET, the lease script, one query,
    // the fill script.
    const before = await commandStats(redis);
    const cold = await measureWindow(
      [server],
      [redis],
      { mode: 'cached-cold', workload: 'list50', round: 1 },
      () => load(server.url, () => list50, { amount: 1 }, 1),
    );
    expect([cold.dbQueries, cold.redisCalls, cold.cacheHits, cold.cacheMisses]).toEqual([2, 6, 0, 50 + 25]);
    const coldCommands = withoutCounting(commandsBetween(before, await commandStats(redis)));
    expect(coldCommands).toEqual({ mget: 2, evalsha: 4, set: 2 * (50 + 25), get: 50 + 25 });

    const warmBefore = await commandStats(redis);
    expect(perRequest(await measure(server, 'cached', 'list50', () => list50))).toEqual({
      db: 0,
      redis: 1,
      hitRate: 1,
    });
    // Everything Redis executed for the 20 warm lists: one MGET each, no script.
    expect(withoutCounting(commandsBetween(warmBefore, await commandStats(redis)))).toEqual({
      mget: REQUESTS,
    });
    // The benchmark's own random single lookups, once every code is warm.
    await warmThroughApi(server.url, allCodes(PRODUCTS));
    const workloads = createWorkloads(PRODUCTS);
    expect(
      perRequest(await measure(server, 'cached', 'single', () => workloads.next('cached', 'single'))),
    ).toEqual({ db: 0, redis: 1, hitRate: 1 });
    // The floor's empty query touches neither.
    expect(
      perRequest(await measure(server, 'floor', 'single', () => workloads.next('floor', 'single'))),
    ).toEqual({
      db: 0,
      redis: 0,
      hitRate: null,
    });
  });
});

it("counts stale reads: Apollo's response cache answers with the price a write replaced, the cached path never", async () => {
  for (const [mode, stale] of [
    ['response-cache', 3],
    ['cached', 0],
  ] as const) {
    await withServer(mode, async (server) => {
      const workloads = createWorkloads(PRODUCTS);
      const rank = 4; // product 3's EAN-13
      // One connection, in order: a read (fills a cache), a price write, three reads after its answer.
      const script = [
        workloads.mixedRead(rank),
        workloads.write('updateProduct', rank),
        ...Array.from({ length: 3 }, () => workloads.mixedRead(rank)),
      ];
      let i = 0;
      const next = () => script[Math.min(i++, script.length - 1)]!;
      const result = await load(server.url, next, { amount: script.length }, 1, workloads.stale);
      expect([result.errors, result.checkedReads, result.staleReads]).toEqual([0, 4, stale]);
    });
  }
});

it("splits the mixed workload's queries into the writes' own and the reads'", async () => {
  await withServer('cached', async (server) => {
    const workloads = createWorkloads(PRODUCTS);
    const perWrite = await queriesPerWrite(server, workloads.write);
    // Each write reads what it changes (for the invalidation) and updates it, at least.
    for (const kind of WRITE_KINDS) {
      expect(perWrite[kind]).toBeGreaterThanOrEqual(2);
      expect(Number.isInteger(perWrite[kind])).toBe(true);
    }
    // A window of writes alone: everything it ran is the writes' own, nothing is the reads'.
    const measured = await measure(server, 'cached', 'mixed', () => workloads.write());
    expect(WRITE_KINDS.map((kind) => measured.writes[kind]).reduce((a, b) => a + b)).toBe(REQUESTS);
    const [summary] = summarize([{ ...measured, writeQueries: writeQueries(measured.writes, perWrite) }]);
    expect(summary!.dbPerRequest).toBeGreaterThan(0);
    expect(summary!.readDbPerRequest).toBe(0);
  });
});
