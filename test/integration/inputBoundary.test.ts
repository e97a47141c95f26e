// The input boundary over HTTP (src/graphql/inputBoundary.ts): the two inputs of issue 11 that
// reached Postgres and came back INTERNAL_SERVER_ERROR, and the other kinds of value a column
// cannot hold, each answer BAD_USER_INPUT naming the field and write nothing.
import { startTestApp, type GraphQLResponse, type TestApp } from '../helpers/app';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('input-boundary');
  await app.db.prisma.product.create({
    data: {
      sku: 'BOUNDARY-1',
      name: 'Boundary',
      barcodes: { create: [{ code: 'B-1', key: 'B-1', symbology: 'CODE_128' }] },
    },
  });
});

afterAll(async () => {
  await app?.stop();
});

function rejected(response: GraphQLResponse, field: string, message: string): void {
  expect(response.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message])).toEqual([
    ['BAD_USER_INPUT', field, message],
  ]);
}

async function rows() {
  const [products, barcodes] = await Promise.all([
    app.db.prisma.product.findMany({ orderBy: { id: 'asc' } }),
    app.db.prisma.barcode.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return { products, barcodes };
}

it('answers a NUL in the products search with BAD_USER_INPUT naming filter.search', async () => {
  const response = await app.gql('{ products(filter: { search: "a\\u0000b" }) { totalCount } }');
  rejected(response, 'filter.search', 'Invalid filter.search: NUL characters (U+0000) are not allowed');
});

it('answers a priceCents beyond a Postgres integer with BAD_USER_INPUT naming input.priceCents, creating nothing', async () => {
  const before = await rows();
  const response = await app.gql(
    'mutation { createProduct(input: { sku: "X-1", name: "x", priceCents: 2147483648 }) { id } }',
  );
  rejected(
    response,
    'input.priceCents',
    'Invalid input.priceCents: expected an integer 0-2147483647, got 2147483648',
  );
  expect(await rows()).toEqual(before);
});

it('takes the largest priceCents the column holds', async () => {
  const response = await app.gql<{ createProduct: { priceCents: number } }>(
    'mutation { createProduct(input: { sku: "X-MAX", name: "x", priceCents: 2147483647 }) { priceCents } }',
  );
  expect(response).toEqual({ status: 200, data: { createProduct: { priceCents: 2147483647 } } });
});

describe.each([
  [
    'a NUL in filter.sku',
    'query($s: String) { products(filter: { sku: $s }) { totalCount } }',
    { s: 'BOUNDARY-1\u0000' },
    'filter.sku',
    'Invalid filter.sku: NUL characters (U+0000) are not allowed',
  ],
  [
    'a search longer than any name',
    'query($s: String) { products(filter: { search: $s }) { totalCount } }',
    { s: 'x'.repeat(201) },
    'filter.search',
    'Invalid filter.search: expected at most 200 characters, got 201',
  ],
  [
    'a lone surrogate in a name',
    'mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }',
    { i: { sku: 'SURROGATE', name: 'caf\ud800' } },
    'input.name',
    'Invalid input.name: not well-formed Unicode (a lone surrogate)',
  ],
  [
    'a lone low surrogate in a description',
    'mutation($i: UpdateProductInput!) { updateProduct(id: "1", input: $i) { id } }',
    { i: { description: '\udc00 text' } },
    'input.description',
    'Invalid input.description: not well-formed Unicode (a lone surrogate)',
  ],
  [
    'a NUL in a nested barcode code',
    'mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }',
    { i: { sku: 'NESTED', name: 'x', barcodes: [{ code: 'OK-1' }, { code: 'A\u0000' }] } },
    'input.barcodes[1].code',
    'Invalid input.barcodes[1].code: NUL characters (U+0000) are not allowed',
  ],
  [
    'more barcodes than a product takes',
    'mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }',
    { i: { sku: 'MANY', name: 'x', barcodes: Array.from({ length: 1001 }, (_, n) => ({ code: `M-${n}` })) } },
    'input.barcodes',
    'Too many barcodes: at most 1000, got 1001',
  ],
  [
    'a priceCents beyond the column in an update, as a variable',
    'mutation($p: NonNegativeInt) { updateProduct(id: "1", input: { priceCents: $p }) { id } }',
    { p: 2 ** 53 - 1 },
    'input.priceCents',
    'Invalid input.priceCents: expected an integer 0-2147483647, got 9007199254740991',
  ],
  [
    'a 10,000-character cursor',
    'query($a: String) { products(after: $a) { totalCount } }',
    { a: 'A'.repeat(10_000) },
    'after',
    'Invalid after: expected at most 40 characters, got 10000',
  ],
  [
    'a lone surrogate in an upserted code',
    'mutation($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { id } }',
    { items: [{ code: '\ud83d', productId: '1' }] },
    'items[0].code',
    'Invalid items[0].code: not well-formed Unicode (a lone surrogate)',
  ],
])('%s', (_label, query, variables, field, message) => {
  it('is BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const before = await rows();
    rejected(await app.gql(query, variables), field, message);
    expect(await rows()).toEqual(before);
  });
});

it('still answers a malformed code in a barcodes list at its position only', async () => {
  const response = await app.gql('query($c: [String!]!) { barcodes(codes: $c) { code } }', {
    c: ['B-1', 'NUL\u0000'],
  });
  expect(response.data).toEqual({ barcodes: [{ code: 'B-1' }, null] });
  expect(response.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([
    ['BAD_USER_INPUT', ['barcodes', 1]],
  ]);
});
