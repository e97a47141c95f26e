// Figures for the change capture (docs/cache.md "Writes from outside the API"). Prints numbers; asserts nothing.
//
//   npm run bench:capture -- lag [--writes=1000]       external COMMIT → both of two server
//       instances (one Redis, read load running) serve the new row: p50/p99/max, and the load's
//       stale reads that started after the lag window
//   npm run bench:capture -- pgbench [--seconds=15] [--rounds=3]   single-row UPDATE throughput,
//       8 clients, with and without the triggers, rounds alternating
//   npm run bench:capture -- bulk [--rows=100000] [--rounds=3]     a bulk UPDATE and a COPY of
//       that many rows, with and without the triggers
//   npm run bench:capture -- api-writes [--writes=2000] [--others=0]  updateProduct mutations one
//       after the other through one instance: latency per write (run on the build before the
//       capture too); --others=N starts N more instances, each with a prefix of its own, on the
//       same database: live namespaces the API's writes are journaled for
//
// Each uses a throwaway database (the tests' helper) and, where it needs Redis, a private
// redis-server. Run under `flock /tmp/barcode-bench.lock` and say how loaded the machine was.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Client } from 'pg';
import { createCacheKeys } from '../src/cache/keys';
import { demoEan13 } from '../src/db/demoData';
import { createTestDatabase, type TestDatabase } from '../test/helpers/database';
import { freePort, startRedisProcess } from '../test/helpers/redis';
import { seedBenchData, startBenchServer, type BenchServer } from './harness';
import { BENCH_TOKEN } from './workloads';

const run = promisify(execFile);
const args = Object.fromEntries(
  process.argv
    .slice(3)
    .map((arg) => /^--([^=]+)=(.*)$/.exec(arg))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);
const numberArg = (name: string, fallback: number) => (args[name] ? Number(args[name]) : fallback);

const TRIGGERS: Record<string, string[]> = {
  barcodes: ['insert', 'update', 'delete', 'truncate'].map((op) => `barcodes_capture_${op}`),
  products: ['insert', 'update', 'delete', 'truncate'].map((op) => `products_capture_${op}`),
};
async function setCapture(client: Client, on: boolean) {
  for (const [table, names] of Object.entries(TRIGGERS))
    for (const name of names)
      await client.query(`ALTER TABLE ${table} ${on ? 'ENABLE ALWAYS' : 'DISABLE'} TRIGGER ${name}`);
}
const hasCapture = async (client: Client) =>
  (await client.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'products_capture_update'`)).rowCount === 1;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function withDatabase<T>(label: string, work: (db: TestDatabase, client: Client) => Promise<T>) {
  const db = await createTestDatabase(label);
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(db, client);
  } finally {
    await client.end();
    await db.drop();
  }
}

async function gql<T>(server: BenchServer, query: string, token = false): Promise<T> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${BENCH_TOKEN}` }) },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const nameThrough = async (server: BenchServer, code: string) =>
  (
    await gql<{ barcode: { product: { name: string } } | null }>(
      server,
      `{ barcode(code: "${code}") { product { name } } }`,
    )
  ).barcode?.product.name ?? null;

/** "v<n>" → n; anything else (the seeded names) → 0. */
const versionOf = (name: string | null) => (name?.startsWith('v') ? Number(name.slice(1)) : 0);

async function lag() {
  const WRITES = numberArg('writes', 1000);
  const PRODUCTS = 200;
  const READERS_PER_INSTANCE = 4;
  const redis = await startRedisProcess();
  await withDatabase('bench_capture_lag', async (db, writer) => {
    await seedBenchData(db.url, PRODUCTS);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      CACHE_PREFIX: 'bench-capture',
      DATABASE_POOL_SIZE: '10',
    };
    const servers = [
      await startBenchServer('two-instance', env, await freePort(), { build: 'source' }),
      await startBenchServer('two-instance', env, await freePort(), { build: 'source' }),
    ];
    const code = (n: number) => demoEan13(n);
    // The load: readers on both instances over all products, each read kept with when it started.
    const reads: { product: number; started: number; version: number }[] = [];
    let loading = true;
    const reader = async (server: BenchServer) => {
      while (loading) {
        const product = 1 + Math.floor(Math.random() * PRODUCTS);
        const started = performance.now();
        reads.push({ product, started, version: versionOf(await nameThrough(server, code(product))) });
        // Paced: a steady read load, not a saturated 2-core machine whose queueing would be all
        // the lag measured.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    const load = servers.flatMap((server) =>
      Array.from({ length: READERS_PER_INSTANCE }, () => reader(server)),
    );
    const commits = new Map<number, { version: number; at: number }[]>();
    const lags: number[] = [];
    const deletions: number[] = [];
    const keys = createCacheKeys(env.CACHE_PREFIX);
    const inspect = new Redis(redis.url);
    try {
      for (let version = 1; version <= WRITES; version++) {
        const product = 1 + Math.floor(Math.random() * PRODUCTS);
        // Cached on both first (a miss would show the new row without any invalidation).
        await Promise.all(servers.map((server) => nameThrough(server, code(product))));
        await writer.query(`UPDATE products SET name = $1, updated_at = now() WHERE id = $2`, [
          `v${version}`,
          product,
        ]);
        const committed = performance.now();
        let servedBy = 0;
        (commits.get(product) ?? commits.set(product, []).get(product)!).push({ version, at: committed });
        const [deleted, ...seen] = await Promise.all([
          // When the barcode's entry left Redis (the drain), apart from when both instances answer.
          (async () => {
            // (A load read may refill it before this poll sees it gone: then it is not counted.)
            while ((await inspect.exists(keys.barcode(code(product).padStart(14, '0')))) === 1) {
              if (servedBy === servers.length) return null;
            }
            return performance.now();
          })(),
          ...servers.map(async (server) => {
            while ((await nameThrough(server, code(product))) !== `v${version}`) {
              if (performance.now() - committed > 10_000)
                throw new Error(`v${version} not served after 10 s`);
            }
            servedBy++;
            return performance.now();
          }),
        ]);
        lags.push(Math.max(...seen) - committed);
        if (deleted !== null) deletions.push(deleted! - committed);
      }
    } finally {
      loading = false;
      inspect.disconnect();
      await Promise.all(load);
      await Promise.all(servers.map((server) => server.stop()));
    }
    lags.sort((a, b) => a - b);
    /** Reads that started more than `window` ms after a commit of their product yet saw an older version. */
    const staleAfter = (window: number) =>
      reads.filter((read) => {
        const due = (commits.get(read.product) ?? []).filter((c) => c.at + window < read.started).at(-1);
        return due !== undefined && read.version < due.version;
      }).length;
    console.log(`lag external COMMIT → both instances serve the new row, over ${lags.length} writes`);
    console.log(
      `  p50 ${ms(percentile(lags, 50))}  p99 ${ms(percentile(lags, 99))}  max ${ms(lags.at(-1)!)}`,
    );
    deletions.sort((a, b) => a - b);
    console.log(
      `  the entry gone from Redis (${deletions.length} seen before a load read refilled it): p50 ${ms(percentile(deletions, 50))}  p99 ${ms(percentile(deletions, 99))}  max ${ms(deletions.at(-1)!)}`,
    );
    console.log(
      `  load: ${reads.length} reads (${READERS_PER_INSTANCE} readers per instance); stale reads started > 100 ms after a commit: ${staleAfter(100)}; > p99 (${ms(percentile(lags, 99))}): ${staleAfter(percentile(lags, 99))}; > max: ${staleAfter(lags.at(-1)!)}`,
    );
  });
  await redis.stop();
}

async function pgbench() {
  const SECONDS = numberArg('seconds', 15);
  const ROUNDS = numberArg('rounds', 3);
  const PRODUCTS = 10_000;
  const consumer = args.consumer !== 'none';
  const redis = consumer ? await startRedisProcess() : null;
  await withDatabase('bench_capture_pgbench', async (db, client) => {
    await seedBenchData(db.url, PRODUCTS);
    // One instance draining the journal, as in production (without one the journal collapses to a
    // "clear" row every capture_max_keys rows, which costs the writers a DELETE now and then).
    const server =
      redis &&
      (await startBenchServer(
        'two-instance',
        { DATABASE_URL: db.url, REDIS_URL: redis.url, CACHE_PREFIX: 'bench-capture-pgbench' },
        await freePort(),
        { build: 'source' },
      ));
    const dir = mkdtempSync(path.join(tmpdir(), 'capture-pgbench-'));
    const script = path.join(dir, 'update.sql');
    writeFileSync(
      script,
      `\\set id random(1, ${PRODUCTS})\nUPDATE products SET name = 'pgbench ' || :id, updated_at = now() WHERE id = :id;\n`,
    );
    const url = new URL(db.url);
    const tps: Record<'with' | 'without', number[]> = { with: [], without: [] };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of round % 2 === 0
          ? (['without', 'with'] as const)
          : (['with', 'without'] as const)) {
          await setCapture(client, variant === 'with');
          const { stdout } = await run('pgbench', [
            '-n',
            '-c',
            '8',
            '-j',
            '2',
            '-T',
            String(SECONDS),
            '-f',
            script,
            '-h',
            url.hostname,
            '-p',
            url.port || '5432',
            '-U',
            url.username || 'postgres',
            url.pathname.slice(1),
          ]);
          const match =
            /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(
              stdout,
            );
          tps[variant].push(Number(match?.[1]));
          console.log(`  round ${round + 1} ${variant.padEnd(7)} ${match?.[1]} tps`);
        }
      }
    } finally {
      await setCapture(client, true);
      rmSync(dir, { recursive: true, force: true });
      await server?.stop();
    }
    const withTps = median(tps.with);
    const withoutTps = median(tps.without);
    console.log(
      `pgbench single-row UPDATE of products (2 barcodes each), 8 clients, ${SECONDS} s × ${ROUNDS} rounds, ${consumer ? 'one instance draining' : 'no consumer'}:`,
    );
    console.log(
      `  without triggers ${withoutTps.toFixed(0)} tps, with ${withTps.toFixed(0)} tps (medians): ${((1 - withTps / withoutTps) * 100).toFixed(1)}% less`,
    );
  });
  await redis?.stop();
}

async function bulk() {
  const ROWS = numberArg('rows', 100_000);
  const ROUNDS = numberArg('rounds', 3);
  await withDatabase('bench_capture_bulk', async (db, client) => {
    await seedBenchData(db.url, ROWS);
    const { rows } = await client.query<{ id: number }>('SELECT min(id) AS id FROM products');
    const firstProduct = rows[0]!.id;
    const dir = mkdtempSync(path.join(tmpdir(), 'capture-copy-'));
    chmodSync(dir, 0o755);
    const csv = path.join(dir, 'barcodes.csv');
    writeFileSync(
      csv,
      Array.from(
        { length: ROWS },
        (_, i) => `COPY-${i},COPY-${i},CODE_128,${firstProduct + (i % ROWS)},now`,
      ).join('\n') + '\n',
      { mode: 0o644 },
    );
    const timed = async (sql: string) => {
      const started = performance.now();
      await client.query(sql);
      return performance.now() - started;
    };
    const times: Record<string, number[]> = {};
    const record = (name: string, value: number) => (times[name] ??= []).push(value);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of round % 2 === 0 ? ['without', 'with'] : ['with', 'without']) {
          await setCapture(client, variant === 'with');
          await client.query('VACUUM products');
          record(
            `UPDATE ${variant}`,
            await timed(`UPDATE products SET name = name || '.', updated_at = now()`),
          );
          record(
            `COPY ${variant}`,
            await timed(
              `COPY barcodes (code, key, symbology, product_id, updated_at) FROM '${csv}' WITH (FORMAT csv)`,
            ),
          );
          await setCapture(client, false);
          await client.query(`DELETE FROM barcodes WHERE key LIKE 'COPY-%'`);
          await client.query('DELETE FROM cache_missed_invalidations');
        }
      }
    } finally {
      await setCapture(client, true);
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(
      `bulk statements over ${ROWS} rows (medians of ${ROUNDS}; beyond capture_max_keys each records one "clear"):`,
    );
    for (const statement of ['UPDATE', 'COPY']) {
      const without = median(times[`${statement} without`]!);
      const withCapture = median(times[`${statement} with`]!);
      console.log(
        `  ${statement.padEnd(6)} without ${ms(without)}, with ${ms(withCapture)}: ${(withCapture / without).toFixed(2)}×`,
      );
    }
  });
}

async function apiWrites() {
  const WRITES = numberArg('writes', 2000);
  const redis = await startRedisProcess();
  await withDatabase('bench_capture_api', async (db, client) => {
    await seedBenchData(db.url, 1000);
    const captured = await hasCapture(client);
    const OTHERS = numberArg('others', 0);
    const others: BenchServer[] = [];
    for (let i = 0; i < OTHERS; i++)
      others.push(
        await startBenchServer(
          'two-instance',
          { DATABASE_URL: db.url, REDIS_URL: redis.url, CACHE_PREFIX: `bench-capture-api-other-${i}` },
          await freePort(),
          { build: 'source' },
        ),
      );
    const server = await startBenchServer(
      'two-instance',
      { DATABASE_URL: db.url, REDIS_URL: redis.url, CACHE_PREFIX: 'bench-capture-api' },
      await freePort(),
      { build: 'source' },
    );
    const latencies: number[] = [];
    try {
      for (let i = 0; i < 200; i++)
        await gql(
          server,
          `mutation { updateProduct(id: "${1 + (i % 1000)}", input: { name: "warm ${i}" }) { id } }`,
          true,
        );
      const started = performance.now();
      for (let i = 0; i < WRITES; i++) {
        const t = performance.now();
        await gql(
          server,
          `mutation { updateProduct(id: "${1 + (i % 1000)}", input: { name: "w ${i}" }) { id } }`,
          true,
        );
        latencies.push(performance.now() - t);
      }
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(
        `updateProduct mutations one after the other, one instance, ${captured ? 'with the change capture' : 'before the change capture'}, ${OTHERS} other namespace(s) live:`,
      );
      console.log(
        `  ${WRITES} writes: ${(WRITES / seconds).toFixed(0)} writes/s, p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}`,
      );
    } finally {
      await server.stop();
      await Promise.all(others.map((other) => other.stop()));
    }
  });
  await redis.stop();
}

const commands: Record<string, () => Promise<void>> = { lag, pgbench, bulk, 'api-writes': apiWrites };
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error(`usage: npm run bench:capture -- ${Object.keys(commands).join('|')} [--option=value]`);
  process.exit(2);
}
command().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
