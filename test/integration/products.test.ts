// Product queries and mutations over HTTP against a real Postgres.
import { codesOf, startTestApp, type TestApp } from '../helpers/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('products');
});
afterAll(() => app.stop());

const CREATE = /* GraphQL */ `
  mutation ($input: CreateProductInput!) {
    createProduct(input: $input) {
      id
      sku
      name
      description
      priceCents
      barcodes {
        code
        gtin
        symbology
        active
      }
      createdAt
      updatedAt
    }
  }
`;

interface ProductOut {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  priceCents: number | null;
  barcodes: { code: string; gtin: string | null; symbology: string; active: boolean }[];
  createdAt: string;
  updatedAt: string;
}

async function createProduct(input: Record<string, unknown>): Promise<ProductOut> {
  const response = await app.gql<{ createProduct: ProductOut }>(CREATE, { input });
  expect(response.errors).toBeUndefined();
  return response.data!.createProduct;
}

describe('createProduct', () => {
  it('creates a product with its barcodes, trimming text and inferring symbologies', async () => {
    const product = await createProduct({
      sku: '  CREATE-1 ',
      name: ' Oat Milk 1L ',
      description: 'Barista edition',
      priceCents: 249,
      barcodes: [{ code: ' 036000291452 ' }, { code: 'INT-0001', active: false }],
    });
    expect(product).toMatchObject({
      sku: 'CREATE-1',
      name: 'Oat Milk 1L',
      description: 'Barista edition',
      priceCents: 249,
      barcodes: [
        { code: '036000291452', gtin: '00036000291452', symbology: 'UPC_A', active: true },
        { code: 'INT-0001', gtin: null, symbology: 'CODE_128', active: false },
      ],
    });
    expect(new Date(product.createdAt).toISOString()).toBe(product.createdAt);
    const row = await app.db.prisma.product.findUnique({
      where: { id: Number(product.id) },
      include: { barcodes: true },
    });
    expect(row?.barcodes.map((b) => b.key).sort()).toEqual(['00036000291452', 'INT-0001']);
  });

  it('rejects a duplicate sku with CONFLICT and writes nothing', async () => {
    await createProduct({ sku: 'DUP-SKU', name: 'First' });
    const response = await app.gql(CREATE, {
      input: { sku: 'DUP-SKU', name: 'Second', barcodes: [{ code: 'NEW-CODE-DUP' }] },
    });
    expect(codesOf(response)).toEqual(['CONFLICT']);
    expect(response.errors![0]!.message).toBe('A product with this sku already exists');
    expect(await app.db.prisma.barcode.count({ where: { key: 'NEW-CODE-DUP' } })).toBe(0);
  });

  it('rejects a barcode that already exists in an equivalent form with CONFLICT, creating no product', async () => {
    await createProduct({ sku: 'HAS-GTIN', name: 'Has GTIN', barcodes: [{ code: '4006381333931' }] });
    const response = await app.gql(CREATE, {
      input: { sku: 'WANTS-GTIN', name: 'Wants GTIN', barcodes: [{ code: '04006381333931' }] },
    });
    expect(codesOf(response)).toEqual(['CONFLICT']);
    expect(await app.db.prisma.product.count({ where: { sku: 'WANTS-GTIN' } })).toBe(0);
  });

  it.each([
    [{ sku: '', name: 'x' }, 'Invalid sku: expected 1-64 characters, got 0'],
    [{ sku: 'x'.repeat(65), name: 'x' }, 'Invalid input.sku: expected at most 64 characters, got 65'],
    [{ sku: 'OK-1', name: '   ' }, 'Invalid name: expected 1-200 characters, got 0'],
    [{ sku: 'OK-2', name: 'tab\there' }, 'Invalid name: control characters are not allowed'],
    [
      { sku: 'OK-3', name: 'x', description: 'bell\u0007byte' },
      'Invalid description: control characters are not allowed',
    ],
    [
      { sku: 'OK-4', name: 'x', barcodes: [{ code: '4006381333932' }] },
      "Invalid barcodes[0].code: Barcode '4006381333932' has a wrong check digit: expected 1, got 2",
    ],
    [
      { sku: 'OK-5', name: 'x', barcodes: [{ code: '036000291452' }, { code: '0036000291452' }] },
      'Invalid barcodes[1]: the same barcode as barcodes[0] (00036000291452); each barcode may appear once',
    ],
    [
      { sku: 'OK-6', name: 'x', barcodes: [{ code: '036000291452', symbology: 'EAN_13' }] },
      "Invalid barcodes[0].code: Barcode '036000291452' does not match symbology EAN_13: a 12-digit GTIN is UPC_A",
    ],
  ])('rejects bad input %j with BAD_USER_INPUT and writes nothing', async (input, message) => {
    const before = await app.db.prisma.product.count();
    const response = await app.gql(CREATE, { input });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toBe(message);
    expect(await app.db.prisma.product.count()).toBe(before);
  });

  it('rejects a negative price before it reaches the database', async () => {
    const response = await app.gql(CREATE, { input: { sku: 'NEG', name: 'x', priceCents: -1 } });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.status).toBe(400);
  });
});

describe('updateProduct', () => {
  const UPDATE = /* GraphQL */ `
    mutation ($id: ID!, $input: UpdateProductInput!) {
      updateProduct(id: $id, input: $input) {
        id
        sku
        name
        description
        priceCents
        updatedAt
      }
    }
  `;

  it('changes only the given fields and can clear the optional ones', async () => {
    const product = await createProduct({ sku: 'UPD-1', name: 'Before', description: 'd', priceCents: 100 });
    const response = await app.gql<{ updateProduct: ProductOut }>(UPDATE, {
      id: product.id,
      input: { name: 'After', description: null },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!.updateProduct).toMatchObject({
      sku: 'UPD-1',
      name: 'After',
      description: null,
      priceCents: 100,
    });
    expect(response.data!.updateProduct.updatedAt >= product.updatedAt).toBe(true);
  });

  it('answers NOT_FOUND for an unknown id, BAD_USER_INPUT for a malformed one or a null name', async () => {
    expect(codesOf(await app.gql(UPDATE, { id: '999999', input: { name: 'x' } }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await app.gql(UPDATE, { id: 'abc', input: { name: 'x' } }))).toEqual(['BAD_USER_INPUT']);
    const product = await createProduct({ sku: 'UPD-2', name: 'Keep' });
    expect(codesOf(await app.gql(UPDATE, { id: product.id, input: { name: null } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('answers CONFLICT when the new sku is taken', async () => {
    await createProduct({ sku: 'UPD-TAKEN', name: 'x' });
    const product = await createProduct({ sku: 'UPD-3', name: 'x' });
    expect(codesOf(await app.gql(UPDATE, { id: product.id, input: { sku: 'UPD-TAKEN' } }))).toEqual([
      'CONFLICT',
    ]);
  });
});

describe('deleteProduct', () => {
  const DELETE = `mutation ($id: ID!) { deleteProduct(id: $id) }`;

  it('deletes the product and its barcodes, and answers false the second time', async () => {
    const product = await createProduct({ sku: 'DEL-1', name: 'x', barcodes: [{ code: 'DEL-CODE-1' }] });
    expect((await app.gql(DELETE, { id: product.id })).data).toEqual({ deleteProduct: true });
    expect(await app.db.prisma.barcode.count({ where: { key: 'DEL-CODE-1' } })).toBe(0);
    expect((await app.gql(DELETE, { id: product.id })).data).toEqual({ deleteProduct: false });
  });
});

describe('product and products', () => {
  let ids: string[];
  beforeAll(async () => {
    ids = [];
    for (let i = 1; i <= 5; i++) {
      const product = await createProduct({
        sku: `PAGE-${i}`,
        name: i % 2 ? `Dark Roast ${i}` : `Green Tea ${i}`,
        barcodes: [{ code: `PAGE-CODE-${i}` }],
      });
      ids.push(product.id);
    }
  });

  it('product(id) returns the product with its barcodes, null for an unknown id', async () => {
    const response = await app.gql(
      `query ($id: ID!) { product(id: $id) { sku barcodes { code } } missing: product(id: "99999") { id } }`,
      {
        id: ids[0],
      },
    );
    expect(response.data).toEqual({
      product: { sku: 'PAGE-1', barcodes: [{ code: 'PAGE-CODE-1' }] },
      missing: null,
    });
  });

  const PAGE = /* GraphQL */ `
    query ($filter: ProductFilter, $first: Int, $after: String) {
      products(filter: $filter, first: $first, after: $after) {
        totalCount
        edges {
          cursor
          node {
            sku
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `;
  type Page = {
    products: {
      totalCount: number;
      edges: { cursor: string; node: { sku: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };

  it('pages through a filter with opaque cursors until hasNextPage is false', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const response: Awaited<ReturnType<typeof app.gql<Page>>> = await app.gql<Page>(PAGE, {
        filter: { search: 'page-' },
        first: 2,
        after,
      });
      expect(response.errors).toBeUndefined();
      const page = response.data!.products;
      expect(page.totalCount).toBe(5);
      seen.push(...page.edges.map((e) => e.node.sku));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(['PAGE-1', 'PAGE-2', 'PAGE-3', 'PAGE-4', 'PAGE-5']);
  });

  it('filters by name case-insensitively, by exact sku, and by any equivalent barcode', async () => {
    const bySearch = await app.gql<Page>(PAGE, { filter: { search: 'GREEN tea' } });
    expect(bySearch.data!.products.edges.map((e) => e.node.sku)).toEqual(['PAGE-2', 'PAGE-4']);
    const bySku = await app.gql<Page>(PAGE, { filter: { sku: 'PAGE-3' } });
    expect(bySku.data!.products.edges.map((e) => e.node.sku)).toEqual(['PAGE-3']);
    await createProduct({ sku: 'BY-GTIN', name: 'x', barcodes: [{ code: '0012345678905' }] });
    const byBarcode = await app.gql<Page>(PAGE, { filter: { barcode: '012345678905' } });
    expect(byBarcode.data!.products).toMatchObject({ totalCount: 1, edges: [{ node: { sku: 'BY-GTIN' } }] });
    const combined = await app.gql<Page>(PAGE, { filter: { search: 'dark', sku: 'PAGE-2' } });
    expect(combined.data!.products.totalCount).toBe(0);
  });

  it.each([
    [{ first: 0 }, 'Invalid first: expected 1-100, got 0'],
    [{ first: 101 }, 'Invalid first: expected 1-100, got 101'],
    [
      { after: 'not-a-cursor' },
      'Invalid cursor: pass an endCursor or cursor value from an earlier products page',
    ],
    [
      { filter: { barcode: '036000291453' } },
      "Invalid filter.barcode: Barcode '036000291453' has a wrong check digit: expected 2, got 3",
    ],
  ])('rejects %j with BAD_USER_INPUT', async (variables, message) => {
    const response = await app.gql(PAGE, variables);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toBe(message);
  });
});
