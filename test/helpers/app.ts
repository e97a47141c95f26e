// Starts the real app on a free loopback port over a fresh migrated database, and speaks GraphQL
// to it over HTTP like a frontend would.
import { createApp, type App, type RunningApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { captureDrained } from './capture';
import { openMigratedDatabase } from './database';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp {
  readonly url: string;
  readonly db: Database;
  /** The throwaway database's URL, for connections of the test's own (an external writer). */
  readonly databaseUrl: string;
  /** The app's cache and its write client (every write through it invalidates the cache). */
  readonly running: RunningApp;
  /** Every SQL statement Prisma sent since start (or the last clear), from Prisma's query events. */
  readonly queries: string[];
  /** What the app logged at info level and above (kept only with `captureLogs`). */
  logs(): { level: number; msg: string }[];
  /**
   * POST /graphql; sends the write token unless `token` is given (null sends none), or
   * `authorization` as the whole header when given.
   */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null; authorization?: string },
  ): Promise<GraphQLResponse<T>>;
  /** Resolves once every change the database captured so far is drained (see captureDrained). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestApp(
  label: string,
  env: Record<string, string> = {},
  options: { captureLogs?: boolean } = {},
): Promise<TestApp> {
  const queries: string[] = [];
  const logLines: string[] = [];
  const opened = await openMigratedDatabase(
    label,
    { HOST: '127.0.0.1', PORT: '0', API_TOKEN: TEST_TOKEN, ...env },
    { onQuery: (sql) => queries.push(sql) },
  );
  const app: App = createApp(opened.config, {
    db: opened.db,
    logger: options.captureLogs
      ? createLogger({ logLevel: 'info' }, { write: (line: string) => logLines.push(line) })
      : createLogger({ logLevel: (process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent' }),
  });
  const running = await app.start();
  const { url } = running;
  return {
    url,
    db: opened.db,
    databaseUrl: opened.testDb.url,
    running,
    queries,
    logs: () => logLines.map((line) => JSON.parse(line) as { level: number; msg: string }),
    async gql(query, variables, options = {}) {
      const token = options.token === undefined ? TEST_TOKEN : options.token;
      const authorization = options.authorization ?? (token === null ? undefined : `Bearer ${token}`);
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization !== undefined && { authorization }),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    settled: () => captureDrained(opened.db.sessions),
    async stop() {
      await app.stop();
      await opened.close();
    },
  };
}

/** The error codes of a response, in order. */
export const codesOf = (response: GraphQLResponse) => (response.errors ?? []).map((e) => e.extensions?.code);
