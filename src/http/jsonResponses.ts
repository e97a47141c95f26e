// JSON answers written straight to Node's response: the health endpoints' bodies, and every HTTP
// failure as a GraphQL-shaped error (bad JSON, a body too large, an unknown path), never an HTML page.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** What body-parser (http-errors) and a failed handler hand over: a status and a type, when known. */
export interface HttpFailure {
  readonly status?: number;
  readonly type?: string;
}

/**
 * The answer to a request that failed before or outside GraphQL: the client's fault (4xx, with
 * the body limit named when it was hit) or ours (500, logged, with nothing of the cause shown).
 */
export function sendHttpFailure(
  res: ServerResponse,
  error: HttpFailure,
  { logger, maxBodyBytes }: { logger: Logger; maxBodyBytes: number },
): void {
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
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, {
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
}
