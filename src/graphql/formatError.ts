// What a client sees of an error. Errors from the catalogue (and graphql-js's own parse and
// validation errors) pass through; a lost database becomes SERVICE_UNAVAILABLE; anything else is
// a bug: it is logged in full and the client gets a bare INTERNAL_SERVER_ERROR with no message,
// stack, SQL or Prisma text.
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isUnavailable } from '../db/prismaErrors';
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';
import { ERROR_CODES, serviceUnavailable } from './errors';

/** Codes Apollo and graphql-js produce for bad requests; safe to show as they are. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export function createFormatError(logger: Logger) {
  // During an outage every request fails the same way: one line per interval says so.
  const unavailableWarning = throttledLog();
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '');
    const safe = (code in ERROR_CODES && code !== 'INTERNAL_SERVER_ERROR') || REQUEST_ERROR_CODES.has(code);
    if (safe) return withoutStacktrace(formatted);
    const original = unwrapResolverError(error);
    const where = { path: formatted.path, locations: formatted.locations };
    if (isUnavailable(original)) {
      unavailableWarning((suppressed) =>
        logger.warn({ err: original, path: formatted.path, suppressed }, 'database unavailable'),
      );
      const unavailable = serviceUnavailable(original);
      return { ...where, message: unavailable.message, extensions: { ...unavailable.extensions } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL request');
    return { ...where, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

function withoutStacktrace(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (!formatted.extensions || !('stacktrace' in formatted.extensions)) return formatted;
  const { stacktrace: _stacktrace, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}
