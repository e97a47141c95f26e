// The HTTP surface: /graphql (Apollo through express), /healthz and /readyz. Body-parser failures
// (bad JSON, too large) answer as GraphQL-shaped JSON errors, never express's HTML error page.
import { expressMiddleware } from '@as-integrations/express5';
import type { ApolloServer } from '@apollo/server';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Registry } from 'prom-client';
import type { Context } from '../graphql/context';
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';

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
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Probed every few seconds: during an outage, one warning per interval.
  const readinessWarning = throttledLog();
  app.get('/readyz', async (_req, res) => {
    const { backend, degraded } = deps.cacheStatus();
    const cache = { backend, degraded };
    if (deps.draining()) {
      res.status(503).json({ status: 'draining', cache });
      return;
    }
    try {
      await deps.checkDatabase();
      res.json({ status: 'ready', database: 'up', cache });
    } catch (error) {
      readinessWarning((suppressed) =>
        deps.logger.warn({ err: error, suppressed }, 'readiness check failed: database unreachable'),
      );
      res.status(503).json({ status: 'unavailable', database: 'down', cache });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
  app.use(
    '/graphql',
    cors(),
    express.json({ limit: deps.maxBodyBytes }),
    expressMiddleware(deps.apollo, { context: async ({ req }) => deps.context(req.headers.authorization) }),
  );
  app.use(jsonErrors(deps.logger, deps.maxBodyBytes));
  return app;
}

function jsonErrors(logger: Logger, maxBodyBytes: number): ErrorRequestHandler {
  return (error: { status?: number; type?: string }, _req, res, _next) => {
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    const tooLarge = error.type === 'entity.too.large';
    const message = tooLarge
      ? `Request body is too large: at most ${maxBodyBytes} bytes`
      : error.type === 'entity.parse.failed'
        ? 'Request body is not valid JSON'
        : status < 500
          ? 'Bad request'
          : 'Internal server error';
    if (status >= 500) logger.error({ err: error }, 'unexpected HTTP error');
    res.status(status).json({
      errors: [
        {
          message,
          extensions: {
            code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR',
            ...(tooLarge && { limit: 'MAX_BODY_BYTES' }),
          },
        },
      ],
    });
  };
}
