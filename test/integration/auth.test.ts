// Writes need a valid bearer token; without one every mutation is UNAUTHENTICATED with no side effect.
import { codesOf, startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app';

let app: TestApp;
let productId: string;

beforeAll(async () => {
  app = await startTestApp('auth', { API_TOKEN: `other-token-abcdefghijkl,${TEST_TOKEN}` });
  const created = await app.gql<{ createProduct: { id: string } }>(
    `mutation { createProduct(input: { sku: "AUTH-1", name: "Guarded", barcodes: [{ code: "AUTH-CODE" }] }) { id } }`,
  );
  productId = created.data!.createProduct.id;
});
afterAll(() => app.stop());

async function snapshot() {
  const [products, barcodes] = await Promise.all([
    app.db.prisma.product.findMany({ orderBy: { id: 'asc' } }),
    app.db.prisma.barcode.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return { products, barcodes };
}

const MUTATIONS: [string, string][] = [
  ['createProduct', `mutation { createProduct(input: { sku: "AUTH-NEW", name: "x" }) { id } }`],
  ['updateProduct', `mutation { updateProduct(id: "PID", input: { name: "hacked" }) { id } }`],
  ['deleteProduct', `mutation { deleteProduct(id: "PID") }`],
  ['addBarcode', `mutation { addBarcode(productId: "PID", input: { code: "AUTH-NEW-CODE" }) { id } }`],
  ['updateBarcode', `mutation { updateBarcode(code: "AUTH-CODE", input: { active: false }) { id } }`],
  ['deleteBarcode', `mutation { deleteBarcode(code: "AUTH-CODE") }`],
  [
    'upsertBarcodes',
    `mutation { upsertBarcodes(items: [{ code: "AUTH-CODE", productId: "PID", active: false }]) { id } }`,
  ],
];

describe.each(MUTATIONS)('%s', (_name, mutation) => {
  it.each([
    ['no header', null],
    ['a wrong token', 'wrong-token-abcdefghijklmnop'],
    ['a prefix of the right token', TEST_TOKEN.slice(0, -1)],
    ['an empty token', ''],
  ])('with %s is UNAUTHENTICATED (401) and changes nothing', async (_case, token) => {
    const before = await snapshot();
    const response = await app.gql(mutation.replaceAll('PID', productId), {}, { token });
    expect(response.status).toBe(401);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data ?? null).toBeNull();
    expect(await snapshot()).toEqual(before);
  });
});

it('accepts any of the configured tokens, and reads need none', async () => {
  const viaSecond = await app.gql(
    `mutation { updateProduct(id: "${productId}", input: { description: "ok" }) { description } }`,
    {},
    { token: 'other-token-abcdefghijkl' },
  );
  expect(viaSecond.data).toEqual({ updateProduct: { description: 'ok' } });
  const read = await app.gql(`{ barcode(code: "AUTH-CODE") { code } }`, {}, { token: null });
  expect(read.data).toEqual({ barcode: { code: 'AUTH-CODE' } });
});
