// The benchmark's server: the real app (src/app.ts) in one of the benchmark's modes, plus one
// bench-only route, GET /bench/counters, with the SQL statements Prisma sent (Prisma's own query
// events). Started by bench/run.ts as a separate process, pinned to its own core.
import { createServer } from 'node:http';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { baselineLoaders, type BaselineMode } from './baselines';

const BASELINES: readonly string[] = ['naive', 'n-plus-one', 'batched'];

async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE ?? 'cached';
  const countersPort = Number(process.env.BENCH_COUNTERS_PORT);
  const config = loadConfig();
  let dbQueries = 0;
  const db = await openDatabase(config.database, { onQuery: () => dbQueries++ });
  const app = createApp(config, {
    db,
    logger: createLogger({ logLevel: 'warn' }),
    ...(BASELINES.includes(mode) && {
      createLoaders: baselineLoaders(mode as BaselineMode) as never,
    }),
  });
  const running = await app.start();
  // Counters on a port of their own, so reading them never touches the server being measured.
  const counters = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ dbQueries, cache: running.cache.stats.counters }));
  });
  await new Promise<void>((resolve) => counters.listen(countersPort, '127.0.0.1', resolve));
  console.log(JSON.stringify({ ready: running.url }));
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    counters.close();
    app
      .stop()
      .then(() => db.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  });
}

void main();
