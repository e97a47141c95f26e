// `npm run bench:startup [-- --runs 20]`: how long the built server (node dist/main.js, as the
// production install and the Docker image run it) takes from process start to ready, on a
// migrated throwaway database and a private redis-server, both made and removed here. Each run
// spawns the server with NODE_ENV=production and measures from just before spawn to (a) its
// "🚀 Server ready" log line and (b) the first 200 from GET /readyz (polled every 10 ms), then
// stops it with SIGTERM. Reports min, median and max of both, and the load average before and
// after, because the figure means little on a busy machine.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createMigratedDatabase } from '../test/helpers/database';
import { percentile } from '../test/helpers/latency';
import { freePort, startRedisProcess } from '../test/helpers/redis';

const ROOT = path.resolve(__dirname, '..');
const ENTRY = path.join(ROOT, 'dist', 'main.js');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 500) {
  console.error(`--runs: expected an integer 1-500, got '${args.runs}'`);
  process.exit(2);
}

interface Timing {
  readonly logLineMs: number;
  readonly readyzMs: number;
}

async function readyz(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

/** One start: spawn, the log line and /readyz 200 (both measured from spawn), SIGTERM, exit 0. */
async function measureOnce(env: Record<string, string>, port: number): Promise<Timing> {
  const started = performance.now();
  const child = spawn(process.execPath, [ENTRY], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let logLineMs: number | undefined;
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (logLineMs === undefined && output.includes('Server ready')) logLineMs = performance.now() - started;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let readyzMs: number | undefined;
  while (readyzMs === undefined) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    if (performance.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`server not ready in 60 s:\n${output}`);
    }
    if (await readyz(`http://127.0.0.1:${port}/readyz`)) readyzMs = performance.now() - started;
    else await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0 || logLineMs === undefined) {
    throw new Error(
      `server exit code ${code}, log line ${logLineMs === undefined ? 'missing' : 'seen'}:\n${output}`,
    );
  }
  return { logLineMs, readyzMs };
}

function summary(name: string, values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  return `${name.padEnd(28)} min ${ms(sorted[0]!)}  median ${ms(percentile(sorted, 50))}  max ${ms(sorted[sorted.length - 1]!)}`;
}

async function main(): Promise<void> {
  if (!existsSync(ENTRY)) throw new Error('dist/main.js is missing: npm run build first');
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
  const loadBefore = load();
  const database = await createMigratedDatabase('startup');
  const redis = await startRedisProcess();
  try {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      API_TOKEN: 'startup-time-token-0123456789',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
    };
    await measureOnce(env, port); // not counted: the first start reads the files from disk
    const timings: Timing[] = [];
    for (let run = 1; run <= RUNS; run++) timings.push(await measureOnce(env, port));
    console.log(
      `node dist/main.js, ${RUNS} starts (after one uncounted), NODE_ENV=production, Postgres + Redis:`,
    );
    console.log(
      summary(
        'to "🚀 Server ready" line',
        timings.map((t) => t.logLineMs),
      ),
    );
    console.log(
      summary(
        'to GET /readyz 200',
        timings.map((t) => t.readyzMs),
      ),
    );
    console.log(
      `load average (1, 5, 15 min): ${loadBefore} before, ${load()} after; ${new Date().toISOString()}`,
    );
  } finally {
    await redis.stop();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
