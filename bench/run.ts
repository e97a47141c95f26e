// `npm run bench [-- --quick]`: this project against the ways it would otherwise be built, on the
// same data in one run. Server and load generator run as separate processes pinned to different
// cores (taskset), every window is warmed up first (except cached-cold), modes are interleaved
// over rounds and medians reported, because a 2-core machine is noisy. Writes bench/results/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { Presets, SingleBar } from 'cli-progress';
import Redis from 'ioredis';
import { Client } from 'pg';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/database';
import { demoEan13, demoUpcA } from '../src/db/demoData';
import { migrate } from '../src/db/migrate';
import { encodeCursor } from '../src/modules/product/cursor';
import { clearPrefix, freePort, startRedisProcess } from '../test/helpers/redis';
import {
  MODES,
  WORKLOADS,
  markdown,
  ratios,
  summarize,
  svgChart,
  table,
  type Mode,
  type Sample,
  type Workload,
} from './report';

const ROOT = path.resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
const SETTINGS = quick
  ? { products: 5_000, rounds: 1, warmupS: 1, windowS: 2, connections: 8 }
  : { products: 50_000, rounds: 3, warmupS: 2, windowS: 5, connections: 8 };
const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const PREFIX = `bench-${randomBytes(3).toString('hex')}`;
const cores = Number(spawnSync('nproc').stdout?.toString().trim() || 1);
const pin = (core: number) =>
  cores > 1 && spawnSync('taskset', ['-V']).status === 0 ? ['taskset', '-c', String(core)] : [];

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** 2 barcodes (EAN-13 and UPC-A, valid check digits) per product. */
async function seed(databaseUrl: string): Promise<void> {
  const db = await openDatabase(loadConfig({ DATABASE_URL: databaseUrl }).database);
  try {
    await migrate(db.sessions);
    const bar = new SingleBar({ format: 'seeding [{bar}] {value}/{total} products' }, Presets.shades_classic);
    bar.start(SETTINGS.products, 0);
    for (let from = 1; from <= SETTINGS.products; from += 1000) {
      const numbers = Array.from(
        { length: Math.min(1000, SETTINGS.products - from + 1) },
        (_, i) => from + i,
      );
      const products = await db.prisma.product.createManyAndReturn({
        data: numbers.map((n) => ({ sku: `BENCH-${n}`, name: `Bench product ${n}`, priceCents: n % 5000 })),
        select: { id: true, sku: true },
      });
      await db.prisma.barcode.createMany({
        data: products.flatMap(({ id, sku }) => {
          const n = Number(sku.slice(6));
          return [demoEan13(n), demoUpcA(n)].map((code, i) => ({
            code,
            key: code.padStart(14, '0'),
            symbology: i === 0 ? ('EAN_13' as const) : ('UPC_A' as const),
            productId: id,
          }));
        }),
      });
      bar.update(from + numbers.length - 1);
    }
    bar.stop();
  } finally {
    await db.close();
  }
}

const randomCode = () => {
  const n = 1 + Math.floor(Math.random() * SETTINGS.products);
  return Math.random() < 0.5 ? demoEan13(n) : demoUpcA(n);
};

/** Zipf(1.0) over every seeded code: rank k (1-based) is drawn with weight 1/k. */
function zipfSampler(n: number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) cumulative[k - 1] = total += 1 / k;
  return () => {
    const target = Math.random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo; // 0-based rank
  };
}
const zipfRank = zipfSampler(SETTINGS.products * 2);
/** Rank r is product r/2+1's EAN-13 (even r) or UPC-A (odd r). */
const codeOfRank = (rank: number) => (rank & 1 ? demoUpcA : demoEan13)((rank >> 1) + 1);
const WRITE_SHARE = 0.05;
const BENCH_TOKEN = 'bench-token-0123456789';

/** The mixed workload: 95% single lookups with Zipf popularity, 5% writes through the API. */
function mixedRequest(): { body: string; write: boolean } {
  const rank = zipfRank();
  if (Math.random() >= WRITE_SHARE) {
    return {
      write: false,
      body: JSON.stringify({
        query: 'query ($c: String!) { barcode(code: $c) { code active product { name priceCents } } }',
        variables: { c: codeOfRank(rank) },
      }),
    };
  }
  const body =
    Math.random() < 0.5
      ? {
          query:
            'mutation ($id: ID!, $p: NonNegativeInt) { updateProduct(id: $id, input: { priceCents: $p }) { id } }',
          variables: { id: String((rank >> 1) + 1), p: Math.floor(Math.random() * 10_000) },
        }
      : {
          query:
            'mutation ($c: String!, $a: Boolean) { updateBarcode(code: $c, input: { active: $a }) { id } }',
          variables: { c: codeOfRank(rank), a: Math.random() < 0.9 },
        };
  return { write: true, body: JSON.stringify(body) };
}

function body(mode: Mode, workload: Workload): string {
  if (mode === 'floor') return JSON.stringify({ query: '{ __typename }' });
  switch (workload) {
    case 'single':
      return JSON.stringify({
        query: 'query ($c: String!) { barcode(code: $c) { code gtin product { name priceCents } } }',
        variables: { c: randomCode() },
      });
    case 'list50':
      return JSON.stringify({
        query: 'query ($c: [String!]!) { barcodes(codes: $c) { code product { name } } }',
        variables: { c: Array.from({ length: 50 }, randomCode) },
      });
    case 'mixed':
      return mixedRequest().body;
    case 'page20': {
      const offset = Math.floor(Math.random() * Math.max(1, SETTINGS.products - 20));
      return JSON.stringify({
        query:
          'query ($a: String) { products(first: 20, after: $a) { edges { node { name barcodes { code product { sku } } } } } }',
        variables: { a: offset ? encodeCursor(offset) : null },
      });
    }
  }
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, mode: Mode, workload: Workload, seconds: number): Promise<LoadResult> {
  let graphqlErrors = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: SETTINGS.connections,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          if (workload !== 'mixed' || mode === 'floor') return { ...request, body: body(mode, workload) };
          const next = mixedRequest();
          return {
            ...request,
            body: next.body,
            headers: { ...request.headers, ...(next.write && { authorization: `Bearer ${BENCH_TOKEN}` }) },
          };
        },
      },
    ],
    setupClient: (client) => {
      client.on('body', (buffer: Buffer) => {
        if (buffer.includes('"errors"')) graphqlErrors++;
      });
    },
  });
  return {
    requests: result.requests.total,
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
  };
}

/** Looks every seeded code up through the API, 1000 at a time, so a cached mode starts warm. */
async function warmThroughApi(url: string): Promise<void> {
  const codes = Array.from({ length: SETTINGS.products }, (_, i) => [
    demoEan13(i + 1),
    demoUpcA(i + 1),
  ]).flat();
  for (let from = 0; from < codes.length; from += 1000) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query ($c: [String!]!) { barcodes(codes: $c) { code } }',
        variables: { c: codes.slice(from, from + 1000) },
      }),
    });
    if (!response.ok) throw new Error(`warming failed: HTTP ${response.status}`);
  }
}

interface Server {
  url: string;
  counters(): Promise<{ dbQueries: number; cache: { hits: number; negativeHits: number; misses: number } }>;
  stop(): Promise<void>;
}

async function startServer(mode: Mode, env: Record<string, string>): Promise<Server> {
  const countersPort = await freePort();
  const child: ChildProcess = spawn(
    pin(0)[0] ?? process.execPath,
    // The compiled build (`npm run build:bench`, run by `npm run bench` first), as users run it.
    [...pin(0).slice(1), ...(pin(0).length ? [process.execPath] : []), 'dist-bench/bench/server.js'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        BENCH_MODE: mode,
        BENCH_COUNTERS_PORT: String(countersPort),
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_ENV: 'production',
        API_TOKEN: BENCH_TOKEN,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"ready":"([^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
  });
  return {
    url,
    counters: async () => (await (await fetch(`http://127.0.0.1:${countersPort}/`)).json()) as never,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Top-level Redis calls (round trips): script calls and deletes; commands run inside scripts are not counted. */
async function redisCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const [, name, count] of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
    if (['evalsha', 'eval', 'unlink', 'del', 'mget'].includes(name!)) calls += Number(count);
  }
  return calls;
}

async function main(): Promise<void> {
  const started = Date.now();
  // The load generator (this process, all its threads) on core 1; servers are started on core 0.
  if (pin(1).length) spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const dbName = `bc_bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  await admin(`CREATE DATABASE "${dbName}"`);
  const redisServer = await startRedisProcess();
  const redis = new Redis(redisServer.url);
  const closedPort = await freePort();
  const samples: Sample[] = [];
  try {
    await seed(databaseUrl);
    const envFor = (mode: Mode): Record<string, string> => {
      const base = { DATABASE_URL: databaseUrl, CACHE_PREFIX: PREFIX, DATABASE_POOL_SIZE: '10' };
      switch (mode) {
        case 'naive':
        case 'n-plus-one':
        case 'batched':
          return { ...base, CACHE_BACKEND: 'none' };
        case 'fallback':
          return { ...base, REDIS_URL: `redis://127.0.0.1:${closedPort}` };
        case 'memory':
          // Room for every barcode and product (the default bound, 100k, would evict during the run).
          return {
            ...base,
            CACHE_BACKEND: 'memory',
            CACHE_MEMORY_MAX_ENTRIES: String(SETTINGS.products * 4),
          };
        default:
          return { ...base, REDIS_URL: redisServer.url };
      }
    };
    for (let round = 1; round <= SETTINGS.rounds; round++) {
      // Rotate the order each round so no mode always runs first or last.
      const order = MODES.map((_, i) => MODES[(i + round - 1) % MODES.length]!);
      for (const mode of order) {
        const server = await startServer(mode, envFor(mode));
        try {
          if (mode === 'cached' || mode === 'memory' || mode === 'fallback') await warmThroughApi(server.url);
          for (const workload of mode === 'floor' ? (['single'] as const) : WORKLOADS) {
            if (mode === 'cached-cold') await clearPrefix(PREFIX, redisServer.url);
            else await load(server.url, mode, workload, SETTINGS.warmupS);
            const [before, redisBefore] = [await server.counters(), await redisCalls(redis)];
            const result = await load(server.url, mode, workload, SETTINGS.windowS);
            const [after, redisAfter] = [await server.counters(), await redisCalls(redis)];
            const sample: Sample = {
              mode,
              workload,
              round,
              ...result,
              dbQueries: after.dbQueries - before.dbQueries,
              redisCalls: mode === 'cached' || mode === 'cached-cold' ? redisAfter - redisBefore : 0,
              cacheHits:
                after.cache.hits + after.cache.negativeHits - before.cache.hits - before.cache.negativeHits,
              cacheMisses: after.cache.misses - before.cache.misses,
            };
            samples.push(sample);
            console.log(
              `round ${round} ${mode.padEnd(11)} ${workload.padEnd(7)} ${sample.rps.toFixed(0).padStart(6)} req/s  p99 ${sample.p99} ms  errors ${sample.errors}`,
            );
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    redis.disconnect();
    await redisServer.stop();
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }

  const summaries = summarize(samples);
  const computed = ratios(summaries);
  const meta = {
    date: new Date().toISOString(),
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    machine: `${cores} cores, ${process.platform}, Node ${process.version}`,
    data: `${SETTINGS.products} products, ${SETTINGS.products * 2} barcodes`,
    windows: `${SETTINGS.rounds} round(s) × ${SETTINGS.windowS} s after ${SETTINGS.warmupS} s warm-up, ${SETTINGS.connections} connections, server pinned to core 0, load to core 1`,
    duration: `${((Date.now() - started) / 1000).toFixed(0)} s`,
  };
  console.log(`\n${table(summaries)}\n`);
  for (const r of computed)
    console.log(
      `${r.workload.padEnd(7)} ${r.name.padEnd(34)} ${r.name.includes('reduction') ? `${(r.value * 100).toFixed(1)}%` : `${r.value.toFixed(2)}×`}`,
    );
  const out = path.join(ROOT, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, quick ? 'latest-quick.json' : 'latest.json'),
    JSON.stringify({ meta, samples, summaries, ratios: computed }, null, 2),
  );
  const chart = quick ? 'chart-quick.svg' : 'chart.svg';
  writeFileSync(
    path.join(out, quick ? 'latest-quick.md' : 'latest.md'),
    markdown(summaries, computed, meta, chart),
  );
  writeFileSync(path.join(out, chart), svgChart(summaries));
  console.log(`\nwrote bench/results/ (${meta.duration})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
