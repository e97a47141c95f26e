// Turns Prisma's errors into the API's error catalogue. Known constraint violations become
// CONFLICT/NOT_FOUND with a message of our own (Prisma's texts quote SQL and source code, which
// must never reach a client); lost connections and timeouts become SERVICE_UNAVAILABLE.
import { AppError, serviceUnavailable } from '../graphql/errors';
import { Prisma } from '../generated/prisma/client';

/** Postgres constraint name → what to tell the client. */
export interface ConstraintMessages {
  readonly [constraint: string]: () => AppError;
}

const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
const UNAVAILABLE_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'ConnectionClosed',
  'SocketTimeout',
  'TransactionAlreadyClosed',
  'TooManyConnections',
]);
// Postgres SQLSTATEs for "the server went away or cancelled us" (admin shutdown, crash, query
// cancel) and "it cannot take us now" (too many connections).
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '08000',
  '08003',
  '08006',
  '53300',
]);
// node-postgres' own errors for a lost connection carry no code, only these texts (pg/lib/client.js,
// pg-pool); inside an interactive transaction they reach us without Prisma's wrapping.
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client (has encountered a connection error|was closed) and is not queryable|timeout exceeded when trying to connect)/;

interface AdapterCause {
  kind?: string;
  originalCode?: string;
  code?: string;
  constraint?: { index?: string };
  originalMessage?: string;
  message?: string;
  /** Postgres' severity; FATAL means the server ended or refused the session. */
  severity?: string;
}

function adapterCause(error: Prisma.PrismaClientKnownRequestError): AdapterCause | undefined {
  const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause } } | undefined;
  return meta?.driverAdapterError?.cause;
}

/** The name of the constraint a unique or foreign-key violation broke, when Prisma reports it. */
export function violatedConstraint(error: unknown): string | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  const cause = adapterCause(error);
  return cause?.constraint?.index ?? /constraint "([^"]+)"/.exec(cause?.originalMessage ?? '')?.[1];
}

export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}

export function isUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    return UNAVAILABLE_CODES.has(error.code) || causeUnavailable(adapterCause(error));
  }
  // Inside an interactive transaction (its COMMIT included), the adapter's error can arrive
  // without Prisma's wrapping, the driver's error as its cause.
  if (error instanceof Error && error.name === 'DriverAdapterError') {
    return causeUnavailable((error as { cause?: AdapterCause }).cause);
  }
  const { code, severity, message } = (error ?? {}) as {
    code?: unknown;
    severity?: unknown;
    message?: unknown;
  };
  return (
    severity === 'FATAL' ||
    (typeof message === 'string' && PG_CONNECTION_LOST.test(message)) ||
    (typeof code === 'string' &&
      (UNAVAILABLE_SQLSTATES.has(code) || /^E(CONN|TIMEDOUT|PIPE|HOSTUNREACH)/.test(code)))
  );
}

/** Whether the driver error under a Prisma or adapter error means the database went away. */
function causeUnavailable(cause: AdapterCause | undefined): boolean {
  return (
    UNAVAILABLE_ADAPTER_KINDS.has(cause?.kind ?? '') ||
    UNAVAILABLE_SQLSTATES.has(cause?.originalCode ?? cause?.code ?? '') ||
    // Whatever the code (e.g. 55000 while the database refuses connections during maintenance),
    // FATAL means Postgres ended or refused the session; a retry on a new one may succeed.
    cause?.severity === 'FATAL' ||
    PG_CONNECTION_LOST.test(cause?.originalMessage ?? cause?.message ?? '')
  );
}

/**
 * Runs a write and translates the errors it may throw. `constraints` maps constraint names to the
 * client-facing error; anything unrecognised is rethrown untouched (and masked by formatError).
 */
export async function translatePrismaErrors<T>(
  write: () => Promise<T>,
  constraints: ConstraintMessages,
  onNotFound?: () => AppError,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw translate(error, constraints, onNotFound);
  }
}

function translate(error: unknown, constraints: ConstraintMessages, onNotFound?: () => AppError): unknown {
  if (error instanceof AppError) return error;
  const constraint = violatedConstraint(error);
  if (constraint && constraints[constraint]) return constraints[constraint]();
  if (onNotFound && isRecordNotFound(error)) return onNotFound();
  if (isUnavailable(error)) return serviceUnavailable(error);
  return error;
}

/**
 * Runs a delete by unique key: true when a row was deleted, false when there was none (Prisma's
 * "record not found"); other errors are translated like any write's.
 */
export async function deleteIfExists(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    if (isRecordNotFound(error)) return false;
    throw translate(error, {});
  }
}
