// Writes need a valid bearer token; without one every mutation of the schema is UNAUTHENTICATED
// (HTTP 401) with no side effect: the database, the Redis cache and the cache table are unchanged.
import { buildSchema } from 'graphql';
import Redis from 'ioredis';
import { loadTypeDefs } from '../../src/graphql/schema';
import { codesOf, startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const prefix = uniquePrefix('auth');
let app: TestApp;
let redis: Redis;
let productId: string;

beforeAll(async () => {
  app = await startTestApp('auth', {
    API_TOKEN: `other-token-abcdefghijkl,${TEST_TOKEN}`,
    REDIS_URL: SHARED_REDIS_URL,
    CACHE_PREFIX: prefix,
  });
  redis = new Redis(SHARED_REDIS_URL);
  const created = await app.gql<{ createProduct: { id: string } }>(
    `mutation { createProduct(input: { sku: "AUTH-1", name: "Guarded", barcodes: [{ code: "AUTH-CODE" }, { code: "036000291452" }] }) { id } }`,
  );
  productId = created.data!.createProduct.id;
  // Cached entries a write would invalidate: the barcodes (with their product) and the product.
  const warm = await app.gql(
    `{ barcodes(codes: ["AUTH-CODE", "036000291452", "AUTH-UNKNOWN"]) { code } product(id: "${productId}") { sku } }`,
  );
  expect(warm.errors).toBeUndefined();
});
afterAll(async () => {
  redis.disconnect();
  await app.stop();
  await clearPrefix(prefix);
});

/** Everything a write could change: rows, Redis entries under the prefix, the cache table. */
async function snapshot() {
  const keys = (await redis.keys(`${prefix}:*`)).sort();
  const [products, barcodes, cacheTable, values] = await Promise.all([
    app.db.prisma.product.findMany({ orderBy: { id: 'asc' } }),
    app.db.prisma.barcode.findMany({ orderBy: { id: 'asc' } }),
    app.db.prisma.$queryRaw`SELECT key, value FROM cache_entries ORDER BY key`,
    keys.length ? redis.mget(...keys) : [],
  ]);
  return { products, barcodes, cacheTable, redis: Object.fromEntries(keys.map((k, i) => [k, values[i]])) };
}

/** Every mutation of the schema, with arguments that would succeed with a valid token. */
const MUTATIONS: [string, string][] = [
  ['createProduct', `mutation { createProduct(input: { sku: "AUTH-NEW", name: "x" }) { id } }`],
  ['updateProduct', `mutation { updateProduct(id: "PID", input: { name: "hacked" }) { id } }`],
  ['deleteProduct', `mutation { deleteProduct(id: "PID") }`],
  ['addBarcode', `mutation { addBarcode(productId: "PID", input: { code: "AUTH-NEW-CODE" }) { id } }`],
  ['updateBarcode', `mutation { updateBarcode(code: "AUTH-CODE", input: { active: false }) { id } }`],
  ['deleteBarcode', `mutation { deleteBarcode(code: "036000291452") }`],
  [
    'upsertBarcodes',
    `mutation { upsertBarcodes(items: [{ code: "AUTH-CODE", productId: "PID", active: false }]) { id } }`,
  ],
];

it('covers every mutation of the schema', () => {
  const mutationType = buildSchema(loadTypeDefs().join('\n')).getMutationType()!;
  expect(MUTATIONS.map(([name]) => name).sort()).toEqual(Object.keys(mutationType.getFields()).sort());
});

it('has something cached that a write would invalidate', async () => {
  const { redis: entries } = await snapshot();
  expect(Object.keys(entries)).toEqual(
    expect.arrayContaining([
      `${prefix}:v1:barcode:AUTH-CODE`,
      `${prefix}:v1:barcode:00036000291452`,
      `${prefix}:v1:product:${productId}`,
    ]),
  );
});

describe.each(MUTATIONS)('%s', (_name, mutation) => {
  it.each<[string, string | undefined]>([
    ['no header', undefined],
    ['a wrong token', 'Bearer wrong-token-abcdefghijklmnop'],
    ['a prefix of the right token', `Bearer ${TEST_TOKEN.slice(0, -1)}`],
    ['the right token plus a character', `Bearer ${TEST_TOKEN}x`],
    ['the right token in upper case', `Bearer ${TEST_TOKEN.toUpperCase()}`],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
    ['the token without a scheme', TEST_TOKEN],
    ['another scheme', `Basic ${TEST_TOKEN}`],
    ['two tokens', `Bearer ${TEST_TOKEN} ${TEST_TOKEN}`],
    ['a token of 10,000 characters', `Bearer ${'x'.repeat(10_000)}`],
    ['latin-1 bytes', 'Bearer t\u00f6k\u00e9n-0123456789abcdef'],
  ])('with %s is UNAUTHENTICATED (401) and changes nothing', async (_case, authorization) => {
    const before = await snapshot();
    const response = await app.gql(
      mutation.replaceAll('PID', productId),
      {},
      {
        token: null,
        ...(authorization !== undefined && { authorization }),
      },
    );
    expect(response.status).toBe(401);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data ?? null).toBeNull();
    expect(await snapshot()).toEqual(before);
  });
});

it('runs each of those mutations with a valid token (the cases above could have changed something)', async () => {
  const ordered = [
    'updateProduct',
    'updateBarcode',
    'upsertBarcodes',
    'addBarcode',
    'deleteBarcode',
    'createProduct',
    'deleteProduct',
  ];
  for (const name of ordered) {
    const before = await snapshot();
    const mutation = MUTATIONS.find(([n]) => n === name)![1].replaceAll('PID', productId);
    const response = await app.gql(mutation);
    expect([name, response.errors]).toEqual([name, undefined]);
    expect(await snapshot()).not.toEqual(before);
  }
});

it('accepts any of the configured tokens, and reads need none', async () => {
  const viaSecond = await app.gql(
    `mutation { createProduct(input: { sku: "AUTH-2", name: "ok" }) { name } }`,
    {},
    {
      token: 'other-token-abcdefghijkl',
    },
  );
  expect(viaSecond.data).toEqual({ createProduct: { name: 'ok' } });
  const read = await app.gql(
    `{ products(filter: { sku: "AUTH-2" }) { edges { node { name } } } }`,
    {},
    { token: null },
  );
  expect(read.data).toEqual({ products: { edges: [{ node: { name: 'ok' } }] } });
});
