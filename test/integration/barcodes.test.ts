// Barcode queries and mutations over HTTP against a real Postgres.
import { codesOf, startTestApp, type TestApp } from '../helpers/app';

let app: TestApp;
let productId: string;
let otherProductId: string;

beforeAll(async () => {
  app = await startTestApp('barcodes');
  const created = await app.gql<{ a: { id: string }; b: { id: string } }>(`mutation {
    a: createProduct(input: { sku: "BC-A", name: "Product A", barcodes: [{ code: "036000291452" }, { code: "abc-123" }] }) { id }
    b: createProduct(input: { sku: "BC-B", name: "Product B" }) { id }
  }`);
  expect(created.errors).toBeUndefined();
  productId = created.data!.a.id;
  otherProductId = created.data!.b.id;
});
afterAll(() => app.stop());

const FIELDS = 'id code gtin symbology active product { sku }';

describe('barcode(code)', () => {
  it.each(['036000291452', '0036000291452', '00036000291452', ' 036000291452 '])(
    'finds the UPC-A by its equivalent form %j',
    async (code) => {
      const response = await app.gql(`query ($code: String!) { barcode(code: $code) { ${FIELDS} } }`, {
        code,
      });
      expect(response.data).toEqual({
        barcode: expect.objectContaining({
          code: '036000291452',
          gtin: '00036000291452',
          symbology: 'UPC_A',
          product: { sku: 'BC-A' },
        }),
      });
    },
  );

  it('treats non-GTIN codes as case-sensitive and answers null for unknown codes', async () => {
    const response = await app.gql(
      `{ lower: barcode(code: "abc-123") { code } upper: barcode(code: "ABC-123") { code } }`,
    );
    expect(response.data).toEqual({ lower: { code: 'abc-123' }, upper: null });
  });

  it('rejects a malformed code with BAD_USER_INPUT naming the problem', async () => {
    const response = await app.gql(`{ barcode(code: "036000291453") { code } }`);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toBe(
      "Invalid code: Barcode '036000291453' has a wrong check digit: expected 2, got 3",
    );
  });
});

describe('barcodes(codes)', () => {
  it('answers in order and length, with null for unknown codes, duplicates answered at each position', async () => {
    const codes = ['abc-123', 'UNKNOWN', '00036000291452', 'abc-123'];
    const response = await app.gql<{ barcodes: ({ code: string } | null)[] }>(
      `query ($codes: [String!]!) { barcodes(codes: $codes) { code } }`,
      { codes },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.barcodes).toEqual([
      { code: 'abc-123' },
      null,
      { code: '036000291452' },
      { code: 'abc-123' },
    ]);
  });

  it('gives null plus an error whose path ends at the index for each malformed code, resolving the rest', async () => {
    const response = await app.gql<{ barcodes: ({ code: string } | null)[] }>(
      `query ($codes: [String!]!) { barcodes(codes: $codes) { code } }`,
      { codes: ['', 'abc-123', '4006381333932', 'é'] },
    );
    expect(response.data!.barcodes).toEqual([null, { code: 'abc-123' }, null, null]);
    expect(response.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['barcodes', 0], 'BAD_USER_INPUT'],
      [['barcodes', 2], 'BAD_USER_INPUT'],
      [['barcodes', 3], 'BAD_USER_INPUT'],
    ]);
  });

  it('accepts 1000 codes and rejects 1001 with BAD_USER_INPUT for the field', async () => {
    const query = `query ($codes: [String!]!) { barcodes(codes: $codes) { code } }`;
    const ok = await app.gql<{ barcodes: unknown[] }>(query, {
      codes: Array.from({ length: 1000 }, (_, i) => `MISS-${i}`),
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.barcodes).toHaveLength(1000);
    const tooMany = await app.gql(query, { codes: Array.from({ length: 1001 }, (_, i) => `MISS-${i}`) });
    expect(codesOf(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors![0]!.message).toBe('Too many codes: at most 1000, got 1001');
    expect(tooMany.errors![0]!.path).toEqual(['barcodes']);
  });
});

describe('addBarcode', () => {
  const ADD = `mutation ($productId: ID!, $input: BarcodeInput!) { addBarcode(productId: $productId, input: $input) { ${FIELDS} } }`;

  it('adds a barcode with an inferred or given symbology', async () => {
    const inferred = await app.gql(ADD, { productId, input: { code: '96385074' } });
    expect(inferred.data).toEqual({
      addBarcode: expect.objectContaining({ symbology: 'EAN_8', gtin: '00000096385074', active: true }),
    });
    const given = await app.gql(ADD, {
      productId,
      input: { code: 'SHELF-7', symbology: 'OTHER', active: false },
    });
    expect(given.data).toEqual({
      addBarcode: expect.objectContaining({ symbology: 'OTHER', gtin: null, active: false }),
    });
  });

  it('answers CONFLICT for an equivalent existing code, NOT_FOUND for a missing product', async () => {
    expect(codesOf(await app.gql(ADD, { productId, input: { code: '0036000291452' } }))).toEqual([
      'CONFLICT',
    ]);
    expect(codesOf(await app.gql(ADD, { productId: '987654', input: { code: 'ORPHAN' } }))).toEqual([
      'NOT_FOUND',
    ]);
    expect(await app.db.prisma.barcode.count({ where: { key: 'ORPHAN' } })).toBe(0);
  });

  it('rejects a symbology that contradicts the code', async () => {
    const response = await app.gql(ADD, { productId, input: { code: 'NOT-A-GTIN', symbology: 'EAN_13' } });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('updateBarcode', () => {
  const UPDATE = `mutation ($code: String!, $input: UpdateBarcodeInput!) { updateBarcode(code: $code, input: $input) { ${FIELDS} } }`;

  it('changes the code (re-inferring the symbology), the active flag and the product', async () => {
    await app.gql(`mutation { addBarcode(productId: "${productId}", input: { code: "MOVE-ME" }) { id } }`);
    const response = await app.gql(UPDATE, {
      code: 'MOVE-ME',
      input: { code: '4006381333931', active: false, productId: otherProductId },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      updateBarcode: expect.objectContaining({
        code: '4006381333931',
        symbology: 'EAN_13',
        active: false,
        product: { sku: 'BC-B' },
      }),
    });
    expect(await app.db.prisma.barcode.count({ where: { key: 'MOVE-ME' } })).toBe(0);
  });

  it('checks a new symbology against the existing code', async () => {
    expect(codesOf(await app.gql(UPDATE, { code: '036000291452', input: { symbology: 'EAN_8' } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('answers NOT_FOUND for an unknown code or product, CONFLICT when the new code exists', async () => {
    expect(codesOf(await app.gql(UPDATE, { code: 'NOPE', input: { active: true } }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await app.gql(UPDATE, { code: 'abc-123', input: { productId: '987654' } }))).toEqual([
      'NOT_FOUND',
    ]);
    expect(codesOf(await app.gql(UPDATE, { code: 'abc-123', input: { code: '036000291452' } }))).toEqual([
      'CONFLICT',
    ]);
    const unchanged = await app.db.prisma.barcode.findUnique({ where: { key: 'abc-123' } });
    expect(unchanged?.productId).toBe(Number(productId));
  });
});

describe('deleteBarcode', () => {
  it('deletes by any equivalent form and answers false when nothing was there', async () => {
    await app.gql(`mutation { addBarcode(productId: "${productId}", input: { code: "73513537" }) { id } }`);
    const del = `mutation ($code: String!) { deleteBarcode(code: $code) }`;
    expect((await app.gql(del, { code: '0000073513537' })).data).toEqual({ deleteBarcode: true });
    expect((await app.gql(del, { code: '73513537' })).data).toEqual({ deleteBarcode: false });
  });
});

describe('upsertBarcodes', () => {
  const UPSERT = `mutation ($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { ${FIELDS} } }`;

  it('creates new barcodes and updates existing ones in input order', async () => {
    const response = await app.gql<{
      upsertBarcodes: { code: string; active: boolean; product: { sku: string } }[];
    }>(UPSERT, {
      items: [
        { code: 'UPS-NEW-1', productId },
        { code: '0036000291452', productId: otherProductId, active: false },
        { code: 'UPS-NEW-2', productId: otherProductId },
      ],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!.upsertBarcodes.map((b) => [b.code, b.active, b.product.sku])).toEqual([
      ['UPS-NEW-1', true, 'BC-A'],
      ['0036000291452', false, 'BC-B'],
      ['UPS-NEW-2', true, 'BC-B'],
    ]);
    expect(await app.db.prisma.barcode.count({ where: { key: '00036000291452' } })).toBe(1);
  });

  it('fails the whole call, naming the item, when one product is missing', async () => {
    const response = await app.gql(UPSERT, {
      items: [
        { code: 'UPS-ATOMIC-1', productId },
        { code: 'UPS-ATOMIC-2', productId: '987654' },
      ],
    });
    expect(codesOf(response)).toEqual(['NOT_FOUND']);
    expect(response.errors![0]!.message).toBe('Invalid items[1].productId: product 987654 does not exist');
    expect(await app.db.prisma.barcode.count({ where: { key: { startsWith: 'UPS-ATOMIC' } } })).toBe(0);
  });

  it('fails the whole call, naming both items, when a code repeats in an equivalent form', async () => {
    const response = await app.gql(UPSERT, {
      items: [
        { code: 'UPS-REPEAT', productId },
        { code: '4006381333931', productId },
        { code: '04006381333931', productId },
      ],
    });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toBe(
      'Invalid items[2]: the same barcode as items[1] (04006381333931); each barcode may appear once',
    );
    expect(await app.db.prisma.barcode.count({ where: { key: 'UPS-REPEAT' } })).toBe(0);
  });

  it('accepts 1000 items in one transaction and rejects 1001', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ code: `BULK-${i}`, productId }));
    const ok = await app.gql<{ upsertBarcodes: unknown[] }>(
      `mutation ($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { id } }`,
      { items },
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.upsertBarcodes).toHaveLength(1000);
    const tooMany = await app.gql(UPSERT, { items: [...items, { code: 'BULK-X', productId }] });
    expect(codesOf(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(await app.db.prisma.barcode.count({ where: { key: 'BULK-X' } })).toBe(0);
  });
});
