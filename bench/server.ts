// The benchmark's server: the real app (src/app.ts) in one of the benchmark's modes, plus one
// bench-only route, GET /bench/counters, with the SQL statements Prisma sent (Prisma's own query
// events). Started by bench/run.ts as a separate process, pinned to its own core.
import { createServer } from 'node:http';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { baselineLoaders, type BaselineMode } from './baselines';
import { startRawFloor } from './rawFloor';
import { responseCacheExtras } from './responseCache';

const BASELINES: readonly string[] = ['naive', 'n-plus-one', 'batched'];

async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE ?? 'cached';
  const countersPort = Number(process.env.BENCH_COUNTERS_PORT);
  const config = loadConfig();
  if (mode === 'raw-floor') return rawFloor(config.port, config.host, countersPort);
  const responseCache = process.env.BENCH_RESPONSE_CACHE_REDIS
    ? responseCacheExtras(process.env.BENCH_RESPONSE_CACHE_REDIS, config.cache.prefix)
    : undefined;
  // Apollo's response cache in front of the batched loaders: the wiring a user would start from.
  const loaders = responseCache ? 'batched' : mode;
  let dbQueries = 0;
  const db = await openDatabase(config.database, { onQuery: () => dbQueries++ });
  const app = createApp(config, {
    db,
    logger: createLogger({ logLevel: 'warn' }),
    ...(BASELINES.includes(loaders) && {
      createLoaders: baselineLoaders(loaders as BaselineMode) as never,
    }),
    ...(responseCache && { apolloExtras: responseCache }),
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
      .then(() => responseCache?.close())
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

/** The raw-floor peer: no app, no database; its counters stay at zero. */
async function rawFloor(port: number, host: string, countersPort: number): Promise<void> {
  const { url, server } = await startRawFloor(port, host);
  const counters = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ dbQueries: 0, cache: { hits: 0, negativeHits: 0, misses: 0 } }));
  });
  await new Promise<void>((resolve) => counters.listen(countersPort, '127.0.0.1', resolve));
  console.log(JSON.stringify({ ready: url }));
  process.once('SIGTERM', () => {
    counters.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

void main();
