// Per-request DataLoaders without a cache: however many fields, aliases and list items ask, each
// loader sends at most one query per tick. Counted from Prisma's own query events, not from our
// code. (The cached path is counted in cacheRead.test.ts.)
import { startTestApp, type TestApp } from '../helpers/app';
import { demoEan13, seedDemoData } from '../../src/db/demoData';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('batching', { CACHE_BACKEND: 'none' });
  await seedDemoData(app.db.prisma, 60);
});
afterAll(() => app.stop());

async function queriesFor(query: string, variables?: Record<string, unknown>) {
  app.queries.length = 0;
  const response = await app.gql(query, variables);
  expect(response.errors).toBeUndefined();
  return { response, sql: [...app.queries] };
}

const tables = (sql: string[]) => sql.map((q) => /FROM "public"\."(\w+)"/.exec(q)?.[1] ?? q.slice(0, 40));

it('answers 50 codes with their products in two queries: one for barcodes, one for products', async () => {
  const codes = Array.from({ length: 50 }, (_, i) => demoEan13(i + 1));
  const { response, sql } = await queriesFor(
    `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { name } } }`,
    {
      codes,
    },
  );
  expect((response.data as { barcodes: unknown[] }).barcodes.filter(Boolean)).toHaveLength(50);
  expect(tables(sql)).toEqual(['barcodes', 'products']);
});

it('merges aliases, nested products and their barcodes into one query per loader', async () => {
  const { sql } = await queriesFor(`{
    a: barcode(code: "${demoEan13(1)}") { product { name barcodes { code product { sku } } } }
    b: barcode(code: "${demoEan13(2)}") { product { name } }
    c: barcodes(codes: ["${demoEan13(3)}", "${demoEan13(1)}", "UNKNOWN"]) { code }
  }`);
  // barcodeByKey for all four lookups, then productById for both products, then
  // barcodesByProductId; the innermost product { sku } is already in the request's loader.
  expect(tables(sql)).toEqual(['barcodes', 'products', 'barcodes']);
});

it('loads a page of products with barcodes in one page query plus one barcode query', async () => {
  const { sql } = await queriesFor(`{ products(first: 20) { edges { node { sku barcodes { code } } } } }`);
  expect(tables(sql)).toEqual(['products', 'barcodes']);
});

it('splits a giant request into bounded batches', async () => {
  const codes = Array.from({ length: 1000 }, (_, i) => `NOPE-${i}`);
  const { sql } = await queriesFor(`query ($codes: [String!]!) { barcodes(codes: $codes) { code } }`, {
    codes,
  });
  expect(tables(sql)).toEqual(['barcodes', 'barcodes']); // MAX_BATCH_SIZE 500
});
