// The app as startTestApp builds it, but with every log line kept, plus the lookups, waits and
// Redis inspection that the cache fault tests share.
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { createApp, type AppDeps, type RunningApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { openDatabase } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { TEST_TOKEN, type GraphQLResponse } from './app';
import { openMigratedDatabase, type TestDatabase } from './database';
import type { RedisProcess } from './redis';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CacheStatsResult {
  backend: string;
  degraded: boolean;
  hits: number;
  misses: number;
  hitRate: number;
  dbQueries: number;
}

export interface LookupResult {
  code: string;
  active: boolean;
  product: { id: string; name: string };
}

/** The app as startTestApp builds it, but with a logger whose every line (down to trace) is kept. */
export interface LoggedApp {
  /** http://127.0.0.1:<port> */
  readonly base: string;
  readonly running: RunningApp;
  /** The app's own throwaway database (fault tests end its connections). */
  readonly databaseName: string;
  /** Everything the app logged, as written (JSON lines). */
  readonly output: string[];
  logs(): LogLine[];
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  cacheStats(): Promise<CacheStatsResult>;
  stop(): Promise<void>;
}

export interface LoggedAppOptions {
  /**
   * A migrated database to share with other instances, instead of a fresh one of the app's own;
   * stop() closes the app's connections to it but does not drop it.
   */
  readonly database?: TestDatabase;
  readonly deps?: Pick<AppDeps, 'invalidationJournal'>;
}

/** The app's own fresh database, or a connection to a shared one. */
async function openAppDatabase(label: string, env: Record<string, string>, shared?: TestDatabase) {
  if (!shared) return openMigratedDatabase(label, env);
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: shared.url, ...env });
  const db = await openDatabase(config.database);
  return { testDb: shared, db, config, close: () => db.close() };
}

export async function startLoggedApp(
  label: string,
  env: Record<string, string>,
  options: LoggedAppOptions = {},
): Promise<LoggedApp> {
  const output: string[] = [];
  const logger = createLogger(
    { logLevel: 'trace' },
    {
      write(line: string) {
        output.push(line);
        if (process.env.TEST_LOG_LEVEL) process.stdout.write(line);
      },
    },
  );
  const opened = await openAppDatabase(
    label,
    { HOST: '127.0.0.1', PORT: '0', API_TOKEN: TEST_TOKEN, ...env },
    options.database,
  );
  const app = createApp(opened.config, { db: opened.db, logger, ...options.deps });
  let running: RunningApp;
  try {
    running = await app.start();
  } catch (error) {
    await app.stop().catch(() => {});
    await opened.close();
    throw error;
  }
  const gql = async <T>(query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as object) } as GraphQLResponse<T>;
  };
  return {
    base: new URL(running.url).origin,
    running,
    databaseName: opened.testDb.name,
    output,
    logs: () => output.map((line) => JSON.parse(line) as LogLine),
    gql,
    async cacheStats() {
      const response = await gql<{ cacheStats: CacheStatsResult }>(
        '{ cacheStats { backend degraded hits misses hitRate dbQueries } }',
      );
      expect(response.errors).toBeUndefined();
      return response.data!.cacheStats;
    },
    async stop() {
      try {
        await app.stop();
      } finally {
        await opened.close();
      }
    },
  };
}

export const LOOKUP = `query ($code: String!) { barcode(code: $code) { code active product { id name } } }`;

/** One timed lookup; fails the test on any GraphQL error. */
export async function lookup(
  app: LoggedApp,
  code: string,
): Promise<{ barcode: LookupResult | null; ms: number }> {
  const started = performance.now();
  const response = await app.gql<{ barcode: LookupResult | null }>(LOOKUP, { code });
  const ms = performance.now() - started;
  expect(response.errors).toBeUndefined();
  return { barcode: response.data!.barcode, ms };
}

export async function createProduct(
  app: LoggedApp,
  sku: string,
  name: string,
  codes: string[],
): Promise<string> {
  const response = await app.gql<{ createProduct: { id: string } }>(
    `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
    { input: { sku, name, barcodes: codes.map((code) => ({ code })) } },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.createProduct.id;
}

/** Renames a product through the API; fails the test on any GraphQL error. */
export async function renameProduct(app: LoggedApp, id: string, name: string): Promise<void> {
  const response = await app.gql(
    `mutation ($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { name } }`,
    { id, name },
  );
  expect(response.errors).toBeUndefined();
}

/** Polls until the check passes; returns how long it took. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const waitForRedis = (app: LoggedApp, timeoutMs = 5000) =>
  waitFor(
    async () => {
      const stats = await app.cacheStats();
      return stats.backend === 'REDIS' && !stats.degraded;
    },
    timeoutMs,
    'cacheStats to show REDIS, not degraded',
  );

/** Lines that talk about the cache backend (start-up line, switches, recovery). */
export const cacheLines = (logs: LogLine[]) => logs.filter((line) => /redis|cache/i.test(line.msg));
export const failureLines = (logs: LogLine[]) =>
  logs.filter((line) => line.msg.startsWith('⚠️ Redis failed'));
export const recoveryLines = (logs: LogLine[]) =>
  logs.filter((line) => line.msg.startsWith('✅ Redis answers again'));

/** An inspection client on a private server (never the shared one), not through any proxy. */
export function inspect(redis: Pick<RedisProcess, 'url'>): Redis {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

/** `INFO commandstats` as { command: calls }. */
export async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
  return calls;
}

export const WARN = 40;
export const INFO = 30;
