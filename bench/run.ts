// `npm run bench [-- --quick]`: this project against the ways it would otherwise be built, on the
// same data in one run. Server and load generator run as separate processes pinned to different
// cores (taskset), every window is warmed up first (except cached-cold), modes are interleaved
// over rounds and medians reported, because a 2-core machine is noisy. Writes bench/results/.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { createTestDatabase } from '../test/helpers/database';
import { clearPrefix, freePort, startRedisCluster, startRedisProcess } from '../test/helpers/redis';
import {
  benchServerEnv,
  load,
  loadAll,
  measureWindow,
  modePrefix,
  queriesPerWrite,
  writeQueries,
  seedBenchData,
  startBenchServer,
  warmThroughApi,
} from './harness';
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
} from './report';
import { allCodes, createWorkloads } from './workloads';

const ROOT = path.resolve(__dirname, '..');
// --modes and --workloads (comma-separated) narrow a run for profiling or A/B checks; the
// results files are only written by complete runs, so they always hold every ratio. --profile
// writes each server's V8 CPU profile to bench/profiles/ (open it in Chrome DevTools).
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    modes: { type: 'string' },
    workloads: { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const quick = flags.quick!;
const pick = <T extends string>(all: readonly T[], list: string | undefined): readonly T[] =>
  list ? all.filter((item) => list.split(',').includes(item)) : all;
const modes = pick(MODES, flags.modes);
const workloads = pick(WORKLOADS, flags.workloads);
const complete = modes.length === MODES.length && workloads.length === WORKLOADS.length;
const SETTINGS = {
  ...(quick
    ? { products: 5_000, rounds: 1, warmupS: 0, windowS: 1, connections: 8 }
    : { products: 50_000, rounds: 3, warmupS: 1, windowS: 4, connections: 8 }),
  ...(flags.rounds && { rounds: Number(flags.rounds) }),
};
const PREFIX = `bench-${randomBytes(3).toString('hex')}`;
const cores = Number(spawnSync('nproc').stdout?.toString().trim() || 1);
const pin = (core: number) =>
  cores > 1 && spawnSync('taskset', ['-V']).status === 0 ? ['taskset', '-c', String(core)] : [];

/** Moves a running process (all its threads) to one core, where taskset is available. */
function pinProcess(pid: number, core: number): void {
  if (pin(core).length) spawnSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const started = Date.now();
  // The load generator (this process, all its threads) on core 1; servers are started on core 0.
  pinProcess(process.pid, 1);
  // A throwaway database on the server of TEST_POSTGRES_URL (default: this machine's), as the tests use.
  const testDb = await createTestDatabase('bench');
  const databaseUrl = testDb.url;
  const redisServer = await startRedisProcess();
  const redis = new Redis(redisServer.url);
  // The cluster mode's own 3-master Redis Cluster, only when that mode runs.
  const cluster = modes.includes('cluster') ? await startRedisCluster({ masters: 3 }) : null;
  const clusterClients = cluster?.nodes.map((node) => cluster.client(node)) ?? [];
  // Redis shares core 1 with the load generator, so it never takes the server's core: the server
  // is what is measured, and Redis would run on a host of its own in production.
  for (const node of [redisServer, ...(cluster?.nodes ?? [])]) pinProcess(node.pid, 1);
  const samples: Sample[] = [];
  const targets = {
    databaseUrl,
    prefix: PREFIX,
    redisUrl: redisServer.url,
    clusterSeeds: cluster?.seeds,
    closedPort: await freePort(),
    products: SETTINGS.products,
  };
  const requests = createWorkloads(SETTINGS.products);
  /** The Redis servers whose calls a mode's windows count (none for modes without Redis). */
  const countedRedis = (mode: Mode) =>
    mode === 'cluster'
      ? clusterClients
      : ['cached', 'cached-cold', 'two-instance', 'response-cache'].includes(mode)
        ? [redis]
        : [];
  try {
    await seedBenchData(databaseUrl, SETTINGS.products, { progress: true });
    for (let round = 1; round <= SETTINGS.rounds; round++) {
      // Rotate the order each round so no mode always runs first or last.
      const order = modes.map((_, i) => modes[(i + round - 1) % modes.length]!);
      for (const mode of order) {
        // Two instances share the one core a single instance gets, so their total is comparable
        // with `cached`: it shows what sharing one cache costs, not how far more cores go.
        const servers = await Promise.all(
          Array.from({ length: mode === 'two-instance' ? 2 : 1 }, async () =>
            startBenchServer(mode, benchServerEnv(mode, targets), await freePort(), {
              build: 'compiled',
              pin: pin(0),
              nodeArgs: flags.profile
                ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench/profiles')}`]
                : [],
            }),
          ),
        );
        const urls = servers.map((server) => server.url);
        try {
          if (mode === 'response-cache') await warmResponseCache(urls[0]!, requests);
          else if (!['floor', 'raw-floor', 'naive', 'n-plus-one', 'batched', 'cached-cold'].includes(mode))
            await warmThroughApi(urls[0]!, allCodes(SETTINGS.products));
          for (const workload of ['floor', 'raw-floor'].includes(mode) ? (['single'] as const) : workloads) {
            const next = () => requests.next(mode, workload);
            const window = (seconds: number) =>
              loadAll(urls, next, { seconds }, SETTINGS.connections, requests.stale);
            if (mode === 'cached-cold') await clearPrefix(modePrefix(PREFIX, mode), redisServer.url);
            else if (SETTINGS.warmupS > 0) await window(SETTINGS.warmupS);
            const measured = await measureWindow(servers, countedRedis(mode), { mode, workload, round }, () =>
              window(SETTINGS.windowS),
            );
            const sample =
              workload === 'mixed'
                ? {
                    ...measured,
                    writeQueries: writeQueries(
                      measured.writes,
                      await queriesPerWrite(servers[0]!, requests.write, quick ? 20 : 50),
                    ),
                  }
                : measured;
            samples.push(sample);
            console.log(
              `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  round ${round} ${mode.padEnd(12)} ${workload.padEnd(7)} ${sample.rps.toFixed(0).padStart(6)} req/s  p99 ${sample.p99} ms  errors ${sample.errors}`,
            );
          }
        } finally {
          await Promise.all(servers.map((server) => server.stop()));
        }
      }
    }
  } finally {
    redis.disconnect();
    for (const client of clusterClients) client.disconnect();
    await Promise.all([redisServer.stop(), cluster?.stop()]);
    await testDb.drop();
  }

  const summaries = summarize(samples);
  const computed = ratios(summaries);
  const meta = {
    date: new Date().toISOString(),
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    machine: `${cores} cores, ${process.platform}, Node ${process.version}`,
    data: `${SETTINGS.products} products, ${SETTINGS.products * 2} barcodes`,
    windows: `${SETTINGS.rounds} round(s) × ${SETTINGS.windowS} s after ${SETTINGS.warmupS} s warm-up, ${SETTINGS.connections} connections, server pinned to core 0, load generator and Redis to core 1`,
    duration: `${((Date.now() - started) / 1000).toFixed(0)} s`,
  };
  console.log(`\n${table(summaries)}\n`);
  for (const r of computed)
    console.log(
      `${r.workload.padEnd(7)} ${r.name.padEnd(40)} ${r.name.includes('reduction') ? `${(r.value * 100).toFixed(1)}%` : `${r.value.toFixed(2)}×`}`,
    );
  if (!complete) return console.log('\n(a narrowed run: bench/results/ left as it was)');
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

/**
 * A whole-response cache is keyed by query and variables, so warming it means asking each hot
 * single lookup once, in the exact form the single workload sends (the other workloads' requests
 * rarely repeat: they warm during their own warm-up windows, as in production).
 */
async function warmResponseCache(url: string, requests: ReturnType<typeof createWorkloads>): Promise<void> {
  let i = 0;
  const result = await load(
    url,
    () => requests.hotSingle(i++),
    { amount: requests.hotCodes },
    SETTINGS.connections,
  );
  if (result.errors) throw new Error(`response cache warming: ${result.errors} failed requests`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
