// Which errors mean "the database went away" (SERVICE_UNAVAILABLE, retryable): each shape below
// was seen in postgresFaults.test.ts, where Postgres ends or refuses the app's connections.
import { isUnavailable } from '../../src/db/prismaErrors';
import { Prisma } from '../../src/generated/prisma/client';

const driverError = (cause: Record<string, unknown>) =>
  Object.assign(new Error(String(cause.message)), { name: 'DriverAdapterError', cause });
const known = (code: string, cause: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError('Database error', {
    code,
    clientVersion: 'test',
    meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
  });

const terminated = {
  kind: 'postgres',
  code: '57P01',
  originalCode: '57P01',
  severity: 'FATAL',
  message: 'terminating connection due to administrator command',
};
const refused = {
  kind: 'postgres',
  code: '55000',
  originalCode: '55000',
  severity: 'FATAL',
  message: 'database "x" is not currently accepting connections',
};

it.each([
  ['a session ended by the server, through Prisma', known('P2010', terminated)],
  ['a database refusing connections (FATAL 55000), through Prisma', known('P2039', refused)],
  ['a session ended during COMMIT (the adapter error, unwrapped)', driverError(terminated)],
  [
    'pg: a client whose connection broke',
    new Error('Client has encountered a connection error and is not queryable'),
  ],
  ['pg: the connection ended', new Error('Connection terminated unexpectedly')],
  ['pg-pool: no connection in time', new Error('timeout exceeded when trying to connect')],
  ['too many connections', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
])('%s is unavailable', (_what, error) => {
  expect(isUnavailable(error)).toBe(true);
});

it.each([
  [
    'a unique violation',
    known('P2002', { kind: 'UniqueConstraintViolation', code: '23505', severity: 'ERROR' }),
  ],
  [
    'a non-FATAL Postgres error',
    driverError({ kind: 'postgres', code: '55000', severity: 'ERROR', message: 'x' }),
  ],
  ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ['nothing', undefined],
])('%s is not', (_what, error) => {
  expect(isUnavailable(error)).toBe(false);
});
