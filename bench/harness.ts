// The benchmark's moving parts, shared by bench/run.ts and the counting test
// (test/integration/benchCounters.test.ts): seeding, the server process per mode, the load
// generator, and the counters read around each measured window.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { Presets, SingleBar } from 'cli-progress';
import type Redis from 'ioredis';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/database';
import { demoEan13, demoUpcA } from '../src/db/demoData';
import { migrate } from '../src/db/migrate';
import type { Mode, Sample, Workload } from './report';
import type { PriceWrite, ReadStart, StaleReadCounter } from './staleReads';
import { BENCH_TOKEN, WRITE_KINDS, type BenchRequest, type WriteKind } from './workloads';

const ROOT = path.resolve(__dirname, '..');

/** Migrates the database and seeds `products` products with 2 barcodes each (EAN-13 and UPC-A, valid check digits). */
export async function seedBenchData(
  databaseUrl: string,
  products: number,
  { progress = false } = {},
): Promise<void> {
  const db = await openDatabase(loadConfig({ DATABASE_URL: databaseUrl }).database);
  const bar = progress
    ? new SingleBar({ format: 'seeding [{bar}] {value}/{total} products' }, Presets.shades_classic)
    : null;
  try {
    await migrate(db.sessions);
    bar?.start(products, 0);
    for (let from = 1; from <= products; from += 1000) {
      const numbers = Array.from({ length: Math.min(1000, products - from + 1) }, (_, i) => from + i);
      const rows = await db.prisma.product.createManyAndReturn({
        data: numbers.map((n) => ({ sku: `BENCH-${n}`, name: `Bench product ${n}`, priceCents: n % 5000 })),
        select: { id: true, sku: true },
      });
      await db.prisma.barcode.createMany({
        data: rows.flatMap(({ id, sku }) => {
          const n = Number(sku.slice(6));
          return [demoEan13(n), demoUpcA(n)].map((code, i) => ({
            code,
            key: code.padStart(14, '0'),
            symbology: i === 0 ? ('EAN_13' as const) : ('UPC_A' as const),
            productId: id,
          }));
        }),
      });
      bar?.update(from + numbers.length - 1);
    }
  } finally {
    bar?.stop();
    await db.close();
  }
}

export interface BenchTargets {
  readonly databaseUrl: string;
  readonly prefix: string;
  /** The benchmark's own redis-server. */
  readonly redisUrl: string;
  /** REDIS_CLUSTER_NODES of the benchmark's own Redis Cluster, when the run has the cluster mode. */
  readonly clusterSeeds?: string;
  /** A port nothing listens on: the fallback mode's "unreachable Redis". */
  readonly closedPort: number;
  /** Sizes the memory backend so it never evicts. */
  readonly products: number;
}

/**
 * Each mode caches under a prefix of its own, so what one mode's window warmed stays warm for the
 * same mode's next round (only the in-process memory backend starts cold every time) and
 * clearing the cold mode's keys leaves the others' alone.
 */
export const modePrefix = (prefix: string, mode: Mode) => `${prefix}-${mode}`;

/** The environment of a mode's server: which cache backend, or none for the baselines. */
export function benchServerEnv(mode: Mode, targets: BenchTargets): Record<string, string> {
  const base = {
    DATABASE_URL: targets.databaseUrl,
    CACHE_PREFIX: modePrefix(targets.prefix, mode),
    DATABASE_POOL_SIZE: '10',
  };
  switch (mode) {
    case 'naive':
    case 'n-plus-one':
    case 'batched':
    case 'raw-floor':
      return { ...base, CACHE_BACKEND: 'none' };
    case 'response-cache':
      // The batched loaders without this project's cache; Apollo's response cache in Redis instead.
      return { ...base, CACHE_BACKEND: 'none', BENCH_RESPONSE_CACHE_REDIS: targets.redisUrl };
    case 'fallback':
      return { ...base, REDIS_URL: `redis://127.0.0.1:${targets.closedPort}` };
    case 'memory':
      // Room for every barcode and product (the default bound would evict during the run).
      return { ...base, CACHE_BACKEND: 'memory', CACHE_MEMORY_MAX_ENTRIES: String(targets.products * 4) };
    case 'cluster':
      if (!targets.clusterSeeds) throw new Error('the cluster mode needs a cluster');
      return { ...base, REDIS_CLUSTER_NODES: targets.clusterSeeds };
    case 'floor':
    case 'cached':
    case 'cached-cold':
    case 'two-instance':
      return { ...base, REDIS_URL: targets.redisUrl };
  }
}

export interface ServerCounters {
  readonly dbQueries: number;
  readonly cache: { hits: number; negativeHits: number; misses: number };
}

export interface BenchServer {
  readonly url: string;
  counters(): Promise<ServerCounters>;
  /** CPU seconds (user + system) the server process has used so far; NaN where /proc is missing. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** 'compiled' runs dist-bench (npm run build:bench), as users run the app; 'source' runs through tsx. */
  readonly build: 'compiled' | 'source';
  /** A command prefix pinning the server to a core (`taskset -c 0`), or none. */
  readonly pin?: readonly string[];
  /** Extra node flags, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  readonly nodeArgs?: readonly string[];
}

/** Starts bench/server.ts in a mode and waits for its ready line. */
export async function startBenchServer(
  mode: Mode,
  env: Record<string, string>,
  countersPort: number,
  { build, pin = [], nodeArgs = [] }: StartOptions,
): Promise<BenchServer> {
  const script =
    build === 'compiled' ? ['dist-bench/bench/server.js'] : ['--import', 'tsx', 'bench/server.ts'];
  const [command, ...prefix] = [...pin, process.execPath];
  const child: ChildProcess = spawn(command!, [...prefix, ...nodeArgs, ...script], {
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
  });
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
    counters: async () => (await (await fetch(`http://127.0.0.1:${countersPort}/`)).json()) as ServerCounters,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * utime + stime from /proc/<pid>/stat. CPU per request is steadier than throughput on a shared,
 * noisy machine: it does not count the time the server waited for a core.
 */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux build that matters (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * SQL statements per write request of each kind, from windows of that write alone. Prisma's query
 * events cannot be told apart by request, so a mixed window's read-path queries are its total
 * minus these times the writes it sent: the share a cache can remove, since every write runs its
 * own statements whatever the cache.
 */
export async function queriesPerWrite(
  server: BenchServer,
  write: (kind: WriteKind) => BenchRequest,
  amount = 50,
): Promise<Record<WriteKind, number>> {
  const perKind = { updateProduct: 0, updateBarcode: 0 };
  for (const kind of WRITE_KINDS) {
    const before = (await server.counters()).dbQueries;
    const result = await load(server.url, () => write(kind), { amount }, 1);
    if (result.errors) throw new Error(`write calibration: ${result.errors} failed ${kind} requests`);
    perKind[kind] = ((await server.counters()).dbQueries - before) / amount;
  }
  return perKind;
}

/** The statements a window's writes ran, from the calibrated cost of each kind. */
export const writeQueries = (writes: Record<WriteKind, number>, perWrite: Record<WriteKind, number>) =>
  WRITE_KINDS.reduce((sum, kind) => sum + writes[kind] * perWrite[kind], 0);

/**
 * Top-level Redis calls on every given server (each node of a cluster): script calls, reads and
 * deletes; commands run inside scripts are not counted. On one Redis a call is a round trip; a
 * cluster batch makes one call per hash slot, sent to the nodes at once.
 */
export async function redisCalls(servers: readonly Redis[]): Promise<number> {
  return (await redisLoad(servers)).calls;
}

/** Connection chatter and this harness's own INFO: not commands a request made Redis run. */
const NOT_REQUEST_COMMANDS = new Set([
  'info',
  'ping',
  'client',
  'hello',
  'select',
  'command',
  'cluster',
  'readonly',
  'config',
  'auth',
  'quit',
]);

/**
 * What the given Redis servers did so far: top-level calls (see redisCalls), every command they
 * executed (INFO commandstats counts the commands a script runs too: a 50-key script of GETs is
 * 51), and the CPU seconds they used (used_cpu_sys + used_cpu_user).
 */
export async function redisLoad(
  servers: readonly Redis[],
): Promise<{ calls: number; commands: number; cpuSeconds: number }> {
  let calls = 0;
  let commands = 0;
  let cpuSeconds = 0;
  for (const redis of servers) {
    const info = await redis.info('commandstats');
    for (const [, name, count] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
      if (['evalsha', 'eval', 'unlink', 'del', 'mget'].includes(name!)) calls += Number(count);
      if (!NOT_REQUEST_COMMANDS.has(name!.split('|')[0]!)) commands += Number(count);
    }
    const cpu = await redis.info('cpu');
    for (const [, seconds] of cpu.matchAll(/^used_cpu_(?:sys|user):([\d.]+)/gm))
      cpuSeconds += Number(seconds);
  }
  return { calls, commands, cpuSeconds };
}

/** Looks codes up through the API, 1000 at a time, so a cached mode starts warm. */
export async function warmThroughApi(url: string, codes: readonly string[]): Promise<void> {
  const post = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    if (!response.ok) throw new Error(`warming failed: HTTP ${response.status}`);
    return (await response.json()) as { data?: { products?: { pageInfo: PageInfo } } };
  };
  for (let from = 0; from < codes.length; from += 1000)
    await post('query ($c: [String!]!) { barcodes(codes: $c) { code } }', {
      c: codes.slice(from, from + 1000),
    });
  // Every product's barcode list, as page20 reads them (cached under the product), 100 per page.
  let after: string | null = null;
  do {
    const { data } = await post(
      'query ($a: String) { products(first: 100, after: $a) { edges { node { barcodes { code } } } pageInfo { hasNextPage endCursor } } }',
      { a: after },
    );
    const pageInfo: PageInfo | undefined = data?.products?.pageInfo;
    after = pageInfo?.hasNextPage ? pageInfo.endCursor : null;
  } while (after);
}

type PageInfo = { hasNextPage: boolean; endCursor: string | null };

export type LoadLength = { readonly seconds: number } | { readonly amount: number };

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Connection errors, timeouts, non-2xx answers and answers with GraphQL errors. */
  readonly errors: number;
  /** Write requests sent, per kind (in a timed window up to `connections` requests may still be in flight at the end). */
  readonly writes: Record<WriteKind, number>;
  /** Reads judged for staleness (those that show a product price, with a counter given), and the stale ones. */
  readonly checkedReads: number;
  readonly staleReads: number;
}

/** What a request in flight is, for the stale-read count (autocannon keeps one context per connection and request). */
type Tracked = { read: ReadStart } | { write: PriceWrite };

/**
 * Drives the server with autocannon for a time or a number of requests, each body from `next`.
 * With `stale`, requests that carry a price are tracked: writes from sent to acknowledged (their
 * answer arrived), reads from sent to answered, each answer judged by the counter.
 */
export async function load(
  url: string,
  next: () => BenchRequest,
  length: LoadLength,
  connections: number,
  stale?: StaleReadCounter,
): Promise<LoadResult> {
  let graphqlErrors = 0;
  let checkedReads = 0;
  let staleReads = 0;
  const writes = { updateProduct: 0, updateBarcode: 0 };
  const answered = (tracked: Tracked, status: number, body: string) => {
    if (status !== 200 || body.includes('"errors"')) return;
    if ('write' in tracked) return stale!.writeAcknowledged(tracked.write);
    // A regular expression, not JSON.parse: this runs on the load generator's core for every read.
    const shown = /"priceCents":(\d+)/.exec(body);
    if (!shown) return;
    checkedReads++;
    if (stale!.readAnswered(tracked.read, Number(shown[1]))) staleReads++;
  };
  const started = Date.now();
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    ...('seconds' in length ? { duration: length.seconds } : { amount: length.amount }),
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request, context: { tracked?: Tracked }) => {
          const { body, write, price } = next();
          if (write) writes[write]++;
          if (stale && price)
            context.tracked =
              price.value === undefined
                ? { read: stale.readStarted(price.product) }
                : { write: stale.writeSent(price.product, price.value) };
          return write
            ? { ...request, body, headers: { ...request.headers, authorization: `Bearer ${BENCH_TOKEN}` } }
            : { ...request, body };
        },
        onResponse: (status: number, body: string, context: { tracked?: Tracked }) => {
          if (context.tracked) answered(context.tracked, status, body);
        },
      },
    ],
    setupClient: (client) => {
      client.on('body', (buffer: Buffer) => {
        if (buffer.includes('"errors"')) graphqlErrors++;
      });
    },
  });
  const seconds = 'seconds' in length ? length.seconds : (Date.now() - started) / 1000;
  return {
    requests: result.requests.total,
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    writes,
    checkedReads,
    staleReads,
  };
}

/**
 * Runs one load per server at once (the connections split between them) and adds them up:
 * requests and throughput are sums, p50 and p99 the worst instance's (percentiles of separate
 * runs cannot be merged exactly; the worse one is the honest bound).
 */
export async function loadAll(
  urls: readonly string[],
  next: () => BenchRequest,
  length: LoadLength,
  connections: number,
  stale?: StaleReadCounter,
): Promise<LoadResult & { instanceRps: number[] }> {
  const results = await Promise.all(
    urls.map((url) => load(url, next, length, Math.max(1, Math.round(connections / urls.length)), stale)),
  );
  const sum = (pick: (r: LoadResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  return {
    requests: sum((r) => r.requests),
    rps: sum((r) => r.rps),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: sum((r) => r.errors),
    checkedReads: sum((r) => r.checkedReads),
    staleReads: sum((r) => r.staleReads),
    writes: {
      updateProduct: sum((r) => r.writes.updateProduct),
      updateBarcode: sum((r) => r.writes.updateBarcode),
    },
    instanceRps: results.map((r) => r.rps),
  };
}

/**
 * One measured window: the load, with the servers' query and cache counters (summed over the
 * instances) and the Redis servers' command counts read before and after. `redis` is empty for
 * modes whose Redis calls are not counted.
 */
export async function measureWindow(
  servers: readonly BenchServer[],
  redis: readonly Redis[],
  window: { mode: Mode; workload: Workload; round: number },
  run: () => Promise<LoadResult & { instanceRps?: number[] }>,
): Promise<Sample> {
  const counters = async () => {
    const each = await Promise.all(servers.map((server) => server.counters()));
    const add = (pick: (c: ServerCounters) => number) => each.reduce((sum, c) => sum + pick(c), 0);
    return {
      dbQueries: add((c) => c.dbQueries),
      cacheHits: add((c) => c.cache.hits + c.cache.negativeHits),
      cacheMisses: add((c) => c.cache.misses),
      cpuSeconds: servers.reduce((sum, server) => sum + server.cpuSeconds(), 0),
      redis: await redisLoad(redis),
    };
  };
  const before = await counters();
  const result = await run();
  const after = await counters();
  return {
    ...window,
    ...result,
    instanceRps: result.instanceRps ?? [result.rps],
    writeQueries: 0,
    serverCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    dbQueries: after.dbQueries - before.dbQueries,
    redisCalls: after.redis.calls - before.redis.calls,
    redisCommands: after.redis.commands - before.redis.commands,
    redisCpuSeconds: after.redis.cpuSeconds - before.redis.cpuSeconds,
    cacheHits: after.cacheHits - before.cacheHits,
    cacheMisses: after.cacheMisses - before.cacheMisses,
  };
}
