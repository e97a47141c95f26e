// The error catalogue. Every error a client can see has one of these codes in
// `extensions.code`; anything else is a bug and is masked by formatError in production.
// docs/api.md "Errors" lists the same codes (test/unit/errors.test.ts keeps the two in step).
import { GraphQLError } from 'graphql';

export const ERROR_CODES = {
  BAD_USER_INPUT: 'The input is malformed or breaks a rule; the message says which.',
  NOT_FOUND: 'A product or barcode named in the input does not exist.',
  CONFLICT: 'A product with that sku, or a barcode with an equivalent code, already exists.',
  UNAUTHENTICATED: 'Writes need `Authorization: Bearer <token>` with a token from API_TOKEN.',
  SERVICE_UNAVAILABLE:
    'The database could not be reached, lost the connection or timed out; a write is rolled back whole, retry later.',
  INTERNAL_SERVER_ERROR: 'A bug; the details are in the server log, never in the response.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, cause?: unknown) {
    super(message, {
      extensions: { ...extensions, code },
      originalError: cause instanceof Error ? cause : undefined,
    });
  }
}

export const badUserInput = (message: string, extensions?: Record<string, unknown>) =>
  new AppError('BAD_USER_INPUT', message, extensions);
export const notFound = (message: string, extensions?: Record<string, unknown>) =>
  new AppError('NOT_FOUND', message, extensions);
export const conflict = (message: string, extensions?: Record<string, unknown>) =>
  new AppError('CONFLICT', message, extensions);
export const unauthenticated = () =>
  new AppError('UNAUTHENTICATED', 'Writes need a valid `Authorization: Bearer <token>` header', {
    http: { status: 401 },
  });
export const serviceUnavailable = (cause: unknown) =>
  new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry later', { retryable: true }, cause);
