// The HTTP surface as one Node request listener: /graphql (Apollo, src/http/graphqlHandler.ts),
// /healthz, /readyz and /metrics, and handlers mounted ahead of them (the explorer's pages).
// Failures answer as GraphQL-shaped JSON errors, never an HTML page.
//
// No framework: four fixed paths need no router, and express's per-request machinery cost more
// server CPU than Apollo's whole pipeline for a `{ __typename }` (docs/benchmarks.md).
import type { ApolloServer } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Context } from '../graphql/context';
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';
import { graphqlHandler } from './graphqlHandler';
import { sendHttpFailure, sendJson, type HttpFailure } from './jsonResponses';

/** A connect-style handler: answers the request, or calls next() to leave it to what follows. */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpDeps {
  readonly apollo: ApolloServer<Context>;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Builds the per-request context; must do no I/O. */
  readonly context: (authorization: string | undefined) => Context;
  /** Throws when the database cannot answer. */
  readonly checkDatabase: () => Promise<void>;
  readonly cacheStatus: () => { backend: string; degraded: boolean };
  /** True once shutdown has begun: readiness answers 503 so that no new traffic is sent here. */
  readonly draining: () => boolean;
  /** Prometheus registry served on /metrics. */
  readonly metrics: Registry;
  /** Tried in order before the paths below, each passing on what it does not serve. @default [] */
  readonly mounted?: readonly NodeHandler[];
}

export function createHttpApp(deps: HttpDeps): RequestListener {
  const fail = (res: ServerResponse, error: HttpFailure) =>
    sendHttpFailure(res, error, { logger: deps.logger, maxBodyBytes: deps.maxBodyBytes });
  /** An async handler whose rejection answers 500 (and is logged) instead of leaving the request hanging. */
  const guarded =
    (handler: (res: ServerResponse) => Promise<void>) => (_req: IncomingMessage, res: ServerResponse) =>
      handler(res).catch((error: unknown) => fail(res, error as HttpFailure));

  // Probed every few seconds: during an outage, one warning per interval.
  const readinessWarning = throttledLog();
  const readiness = guarded(async (res) => {
    const { backend, degraded } = deps.cacheStatus();
    const cache = { backend, degraded };
    if (deps.draining()) return sendJson(res, 503, { status: 'draining', cache });
    try {
      await deps.checkDatabase();
    } catch (error) {
      readinessWarning((suppressed) =>
        deps.logger.warn({ err: error, suppressed }, 'readiness check failed: database unreachable'),
      );
      return sendJson(res, 503, { status: 'unavailable', database: 'down', cache });
    }
    sendJson(res, 200, { status: 'ready', database: 'up', cache });
  });
  const metrics = guarded(async (res) => {
    const text = await deps.metrics.metrics();
    res.writeHead(200, {
      'content-type': deps.metrics.contentType,
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  });

  /** GET (and HEAD) only, as express's app.get answered; any method for /graphql (Apollo answers 405). */
  const reads = new Map<string, RequestListener>([
    ['/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' })],
    ['/readyz', readiness],
    ['/metrics', metrics],
  ]);
  const graphql = graphqlHandler(deps.apollo, {
    maxBodyBytes: deps.maxBodyBytes,
    context: deps.context,
    fail,
  });

  const route: RequestListener = (req, res) => {
    const path = pathOf(req.url ?? '/');
    if (path === '/graphql') return graphql(req, res);
    const read = reads.get(path);
    if (read && (req.method === 'GET' || req.method === 'HEAD')) return read(req, res);
    sendJson(res, 404, { errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
  };

  const mounted = deps.mounted ?? [];
  return (req, res) => {
    let next = 0;
    const pass = (error?: unknown) => {
      if (error !== undefined && error !== null) return fail(res, error as HttpFailure);
      const handler = mounted[next++];
      if (!handler) return route(req, res);
      try {
        handler(req, res, pass);
      } catch (thrown) {
        fail(res, thrown as HttpFailure);
      }
    };
    pass();
  };
}

/** The path without its query string, and without one trailing slash (express matched `/healthz/` too). */
function pathOf(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
