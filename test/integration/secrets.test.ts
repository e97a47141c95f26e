// Secrets and internals stay inside: the production server process runs with a password in
// DATABASE_URL and in REDIS_URL and a write token, logging at trace level. Internal failures are
// forced (a missing table, Redis killed, the database gone); no response carries a stack, SQL, a
// Prisma text, a connection string or a database name, and no log line carries a password or a
// token, while the logs do carry the failures themselves.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { admin, openMigratedDatabase } from '../helpers/database';
import { startRedisProcess, type RedisProcess } from '../helpers/redis';
import { startServerProcess, type ServerProcess } from '../helpers/serverProcess';

const secret = (label: string) => `${label}-${randomBytes(10).toString('hex')}`;
const DATABASE_PASSWORD = secret('pgpass');
const REDIS_PASSWORD = secret('redispass');
const TOKEN = secret('write-token');
const WRONG_TOKEN = secret('wrong-token');

/** What no response may contain. */
const INTERNALS =
  /\n\s+at |stacktrace|prisma|SELECT|INSERT|UPDATE "|relation "|postgres(ql)?:\/\/|redis:\/\/|bc_secrets|127\.0\.0\.1|ECONNREFUSED|does not exist/i;

let opened: Awaited<ReturnType<typeof openMigratedDatabase>>;
let redis: RedisProcess;
let server: ServerProcess;
let databaseName: string;
const responses: string[] = [];

beforeAll(async () => {
  opened = await openMigratedDatabase('secrets');
  databaseName = opened.testDb.name;
  await opened.db.prisma.product.create({
    data: {
      sku: 'SECRET-1',
      name: 'Kept',
      barcodes: { create: [{ code: 'SECRET-CODE', key: 'SECRET-CODE', symbology: 'CODE_128' }] },
    },
  });
  // The test's own client lets go, so that later only the server holds connections to the database.
  await opened.db.close();
  redis = await startRedisProcess({ password: REDIS_PASSWORD });
  // The shared server trusts local connections, so the password is carried but never checked.
  const databaseUrl = new URL(opened.testDb.url);
  databaseUrl.password = DATABASE_PASSWORD;
  server = await startServerProcess({
    NODE_ENV: 'production',
    LOG_LEVEL: 'trace',
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: redis.url,
    CACHE_PREFIX: 'secrets',
    CACHE_PROBE_INTERVAL_MS: '100',
    API_TOKEN: TOKEN,
  });
});

afterAll(async () => {
  await server?.stop();
  await redis?.stop();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${databaseName}_gone" WITH (FORCE)`));
  await opened?.testDb.drop();
});

/** POST /graphql, remembering the raw answer for the final checks. */
async function gql(query: string, token?: string) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  responses.push(text);
  return {
    status: response.status,
    body: JSON.parse(text) as {
      data?: unknown;
      errors?: { message: string; extensions: { code: string } }[];
    },
  };
}
const codes = (answer: Awaited<ReturnType<typeof gql>>) => answer.body.errors?.map((e) => e.extensions.code);

it('serves reads and token-guarded writes, refusing wrong tokens', async () => {
  expect((await gql('{ barcode(code: "SECRET-CODE") { code } }')).body).toEqual({
    data: { barcode: { code: 'SECRET-CODE' } },
  });
  const write = await gql(
    'mutation { updateProduct(id: "1", input: { name: "Still kept" }) { name } }',
    TOKEN,
  );
  expect(write.body).toEqual({ data: { updateProduct: { name: 'Still kept' } } });
  for (const token of [WRONG_TOKEN, undefined, `${TOKEN}x`]) {
    expect(codes(await gql('mutation { deleteProduct(id: "1") }', token))).toEqual(['UNAUTHENTICATED']);
  }
});

it('masks a failing query (a missing table): no SQL, Prisma text or stack', async () => {
  const client = new Client({ connectionString: opened.testDb.url });
  await client.connect();
  try {
    await client.query('ALTER TABLE "products" RENAME TO "products_away"');
    const answer = await gql('{ products(first: 1) { totalCount } }');
    expect(answer.status).toBe(200);
    expect(answer.body.errors!.map((e) => [e.message, e.extensions])).toEqual([
      ['Internal server error', { code: 'INTERNAL_SERVER_ERROR' }],
    ]);
    const write = await gql('mutation { createProduct(input: { sku: "S-2", name: "x" }) { id } }', TOKEN);
    expect(codes(write)).toEqual(['INTERNAL_SERVER_ERROR']);
  } finally {
    await client.query('ALTER TABLE "products_away" RENAME TO "products"');
    await client.end();
  }
});

it('keeps serving with Redis killed, without naming it', async () => {
  await redis.kill();
  for (let i = 0; i < 3; i++) {
    expect((await gql('{ barcode(code: "SECRET-CODE") { code } }')).body).toEqual({
      data: { barcode: { code: 'SECRET-CODE' } },
    });
  }
});

it('answers with SERVICE_UNAVAILABLE or a bare internal error once the database is gone', async () => {
  await admin(async (client) => {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
      databaseName,
    ]);
    await client.query(`ALTER DATABASE "${databaseName}" RENAME TO "${databaseName}_gone"`);
  });
  const read = await gql('{ products(first: 1) { totalCount } }');
  const write = await gql('mutation { createProduct(input: { sku: "S-3", name: "x" }) { id } }', TOKEN);
  for (const answer of [read, write]) {
    expect(answer.body.errors).toHaveLength(1);
    expect([
      ['SERVICE_UNAVAILABLE', 'The database is unavailable; retry later'],
      ['INTERNAL_SERVER_ERROR', 'Internal server error'],
    ]).toContainEqual([answer.body.errors![0]!.extensions.code, answer.body.errors![0]!.message]);
  }
  const ready = await fetch(server.url.replace('/graphql', '/readyz'));
  expect(ready.status).toBe(503);
  responses.push(await ready.text());
  await admin((c) => c.query(`ALTER DATABASE "${databaseName}_gone" RENAME TO "${databaseName}"`));
});

it('never put internals in a response, nor a secret in a log line, yet logged the failures', async () => {
  expect(responses.length).toBeGreaterThan(10);
  for (const text of responses) expect(text).not.toMatch(INTERNALS);

  expect(await server.stop()).toBe(0);
  const logs = server.output();
  for (const value of [DATABASE_PASSWORD, REDIS_PASSWORD, TOKEN, WRONG_TOKEN]) {
    expect(logs).not.toContain(value);
    expect(logs).not.toContain(encodeURIComponent(value));
  }
  // The logs are worth grepping: they hold what the responses left out.
  expect(logs).toContain('unexpected error in a GraphQL request');
  expect(logs).toContain('The table `public.products` does not exist');
  expect(logs).toMatch(/Redis/);
  expect(logs).toContain(`postgresql://postgres:***@`);
});
