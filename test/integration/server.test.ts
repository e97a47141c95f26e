// The HTTP surface and start-up rules: health endpoints, malformed requests, error masking,
// Sandbox and introspection per environment, refusal to start on an unmigrated database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp, EMBEDDED_DEMO_PRODUCTS, StartupError } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { codesOf, startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app';
import { createTestDatabase } from '../helpers/database';
import { startServerProcess } from '../helpers/serverProcess';

const silent = createLogger({ logLevel: 'silent' });

describe('development server', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('server', { MAX_BODY_BYTES: '2048' });
  });
  afterAll(() => app.stop());

  const post = (body: string, contentType = 'application/json') =>
    fetch(app.url, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('answers /healthz and /readyz', async () => {
    const base = app.url.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      database: 'up',
      cache: { backend: 'DATABASE', degraded: false },
    });
  });

  it('marks GraphQL answers, results and errors alike, as not cacheable by browsers or proxies', async () => {
    const ok = await post(JSON.stringify({ query: '{ __typename }' }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const failed = await post(JSON.stringify({ query: '{ nope }' }));
    expect(failed.status).toBe(400);
    expect(failed.headers.get('cache-control')).toBe('no-store');
  });

  it('answers malformed JSON and oversized bodies with JSON errors, not HTML', async () => {
    const bad = await post('{"query": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
    });
    const large = await post(JSON.stringify({ query: `{ barcode(code: "${'x'.repeat(3000)}") { id } }` }));
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({
      errors: [
        {
          message: 'Request body is too large: at most 2048 bytes',
          extensions: { code: 'BAD_REQUEST', limit: 'MAX_BODY_BYTES' },
        },
      ],
    });
  });

  it('answers an unknown path, or a write to a read-only one, with a JSON 404', async () => {
    const base = app.url.replace('/graphql', '');
    for (const [path, method] of [
      ['/nope', 'GET'],
      ['/healthz', 'POST'],
      ['/graphqlx', 'POST'],
    ] as const) {
      const response = await fetch(`${base}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }],
      });
    }
    expect((await fetch(`${base}/healthz/?probe=1`)).status).toBe(200);
  });

  it('answers a CORS preflight for /graphql from any origin, and marks answers for it', async () => {
    const preflight = await fetch(app.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
    const answer = await post(JSON.stringify({ query: '{ __typename }' }));
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.get('content-length')).toBe(String((await answer.arrayBuffer()).byteLength));
  });

  it('answers a syntax error and an unknown field with GraphQL error codes', async () => {
    expect(codesOf(await app.gql('{ barcode(code: '))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codesOf(await app.gql('{ nope }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('serves Apollo Sandbox on GET /graphql and allows introspection', async () => {
    const page = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('embeddable-sandbox');
    const schema = await app.gql<{ __schema: { queryType: { name: string } } }>(
      '{ __schema { queryType { name } } }',
    );
    expect(schema.data!.__schema.queryType.name).toBe('Query');
  });

  it('masks unexpected errors: no SQL, Prisma text or stack in the response', async () => {
    await app.db.prisma.$executeRawUnsafe('ALTER TABLE "barcodes" RENAME TO "barcodes_away"');
    try {
      const response = await app.gql('{ barcode(code: "MASKED") { code } }');
      expect(response.errors).toEqual([
        {
          message: 'Internal server error',
          path: ['barcode'],
          locations: [{ line: 1, column: 3 }],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      expect(JSON.stringify(response)).not.toMatch(/barcodes|prisma|SELECT|stack/i);
    } finally {
      await app.db.prisma.$executeRawUnsafe('ALTER TABLE "barcodes_away" RENAME TO "barcodes"');
    }
  });
});

describe('production server', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('server_prod', { NODE_ENV: 'production' });
  });
  afterAll(() => app.stop());

  it('turns off Sandbox and introspection', async () => {
    const page = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('sandbox');
    expect(codesOf(await app.gql('{ __schema { queryType { name } } }'))).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
    ]);
  });

  it('still serves queries and token-guarded writes', async () => {
    const created = await app.gql(
      `mutation { createProduct(input: { sku: "PROD-1", name: "x" }) { sku } }`,
      {},
      { token: TEST_TOKEN },
    );
    expect(created.data).toEqual({ createProduct: { sku: 'PROD-1' } });
  });
});

it('refuses to start on a Postgres database with pending migrations, naming the command to run', async () => {
  const testDb = await createTestDatabase('unmigrated');
  try {
    const app = createApp(loadConfig({ DATABASE_URL: testDb.url, PORT: '0', HOST: '127.0.0.1' }), {
      logger: silent,
    });
    const started = app.start();
    await expect(started).rejects.toThrow(StartupError);
    await expect(started).rejects.toThrow(
      /pending migration\(s\) \(20261126000000_init, 20261126180000_invalidation_journal, 20261202143000_change_capture, 20261202160000_capture_fixes, 20261203160000_capture_product_ids, 20261203170000_capture_namespaces\): run `npm run db:migrate` first/,
    );
    await app.stop();
  } finally {
    await testDb.drop();
  }
});

it('runs on the embedded PGlite with no DATABASE_URL: migrates, seeds demo data once, and serves', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bc-pglite-'));
  const totalCount = async (url: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ products(first: 1) { totalCount edges { node { barcodes { gtin } } } } }',
      }),
    });
    const body = (await response.json()) as {
      data: { products: { totalCount: number; edges: { node: { barcodes: { gtin: string }[] } }[] } };
    };
    expect(body.data.products.edges[0]!.node.barcodes[0]!.gtin).toMatch(/^\d{14}$/);
    return body.data.products.totalCount;
  };
  try {
    const first = await startServerProcess({ PGLITE_DIR: dir });
    expect(await totalCount(first.url)).toBe(EMBEDDED_DEMO_PRODUCTS);
    expect(first.output()).toContain('demo data loaded');
    expect(await first.stop()).toBe(0);

    const second = await startServerProcess({ PGLITE_DIR: dir });
    expect(await totalCount(second.url)).toBe(EMBEDDED_DEMO_PRODUCTS);
    expect(second.output()).not.toContain('demo data loaded');
    expect(await second.stop()).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
