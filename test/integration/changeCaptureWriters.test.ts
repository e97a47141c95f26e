// Outside writers the capture must never get in the way of (the capture_fixes migration): a
// statement that changes no row, from a session that never wrote to the journal, succeeds; and a
// role granted only what a product rename needs (SELECT, UPDATE on products) can rename one, and
// the rename is captured. Every statement comes through plain pg connections of the test's own, as
// psql or a legacy app would send it. Both failed on the change_capture migration alone: the first
// with "currval of sequence "cache_missed_invalidations_id_seq" is not yet defined in this
// session", the second with "permission denied for table barcodes".
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../helpers/app';
import { waitFor } from '../helpers/loggedApp';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const prefix = uniquePrefix('capture-writers');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('capture_writers', { REDIS_URL: SHARED_REDIS_URL, CACHE_PREFIX: prefix });
});
afterAll(async () => {
  await app?.stop();
  await clearPrefix(prefix);
});

let counter = 0;
const unique = (label: string) => `CAPW-${label}-${++counter}`;

/** A product with one barcode, written through the app's client and drained before anything is cached. */
async function productWithBarcode(): Promise<{ id: number; sku: string; code: string }> {
  const code = unique('code');
  const product = await app.db.prisma.product.create({
    data: {
      sku: unique('sku'),
      name: 'old name',
      barcodes: { create: [{ code, key: code, symbology: 'CODE_128' }] },
    },
  });
  await app.settled();
  return { id: product.id, sku: product.sku, code };
}

/** One statement on a new connection (as `user`, postgres by default): a session that never appended to the journal. */
async function inFreshSession(sql: string, params: unknown[] = [], user?: string) {
  const url = new URL(app.databaseUrl);
  if (user) url.username = user;
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

const productNameOf = async (code: string) => {
  const response = await app.gql<{ barcode: { product: { name: string } } | null }>(
    `query ($code: String!) { barcode(code: $code) { product { name } } }`,
    { code },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.barcode?.product.name;
};

describe('a statement that changes no row, from a fresh session, succeeds', () => {
  const barcodeColumns = `(code, key, symbology, product_id, updated_at)`;
  const STATEMENTS: Record<string, (p: { id: number; sku: string; code: string }) => [string, unknown[]]> = {
    'UPDATE products matching nothing': () => [`UPDATE products SET name = 'x' WHERE id = -1`, []],
    'UPDATE barcodes matching nothing': () => [`UPDATE barcodes SET active = false WHERE id = -1`, []],
    'DELETE FROM barcodes matching nothing': () => [`DELETE FROM barcodes WHERE id = -1`, []],
    'DELETE FROM products matching nothing': () => [`DELETE FROM products WHERE id = -1`, []],
    'INSERT INTO barcodes … ON CONFLICT (key) DO NOTHING, every row conflicting': (p) => [
      `INSERT INTO barcodes ${barcodeColumns} VALUES ($1, $1, 'CODE_128', $2, now()) ON CONFLICT (key) DO NOTHING`,
      [p.code, p.id],
    ],
    'INSERT INTO products … ON CONFLICT (sku) DO NOTHING, every row conflicting': (p) => [
      `INSERT INTO products (sku, name, updated_at) VALUES ($1, 'dup', now()) ON CONFLICT (sku) DO NOTHING`,
      [p.sku],
    ],
  };

  it.each(Object.entries(STATEMENTS))('%s', async (_name, statement) => {
    const [sql, params] = statement(await productWithBarcode());
    const result = await inFreshSession(sql, params);
    expect(result.rowCount).toBe(0);
  });
});

describe('a role granted only SELECT, UPDATE on products', () => {
  // Roles are cluster-wide: a unique name, and everything it was granted dropped with it.
  const role = `capture_writer_${process.pid}_${Date.now()}`;
  beforeAll(async () => {
    await inFreshSession(`CREATE ROLE ${role} LOGIN`);
    await inFreshSession(`GRANT SELECT, UPDATE ON products TO ${role}`);
  });
  afterAll(async () => {
    await inFreshSession(`DROP OWNED BY ${role}`);
    await inFreshSession(`DROP ROLE ${role}`);
  });

  it('can rename a product, and the cached barcode of that product shows the new name', async () => {
    const p = await productWithBarcode();
    expect(await productNameOf(p.code)).toBe('old name'); // cached, with the product embedded
    const result = await inFreshSession(
      `UPDATE products SET name = 'renamed by a narrow role', updated_at = now() WHERE id = $1`,
      [p.id],
      role,
    );
    expect(result.rowCount).toBe(1);
    await waitFor(
      async () => (await productNameOf(p.code)) === 'renamed by a narrow role',
      3000,
      'the API to serve the rename',
    );
  });

  it('still cannot read barcodes: the capture lent it nothing', async () => {
    await expect(inFreshSession('SELECT key FROM barcodes LIMIT 1', [], role)).rejects.toThrow(
      'permission denied for table barcodes',
    );
  });
});
