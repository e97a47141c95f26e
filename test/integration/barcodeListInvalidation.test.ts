// A product's cached barcode list (`Product.barcodes`, the admin page) against every kind of
// write that changes it: a barcode added, removed, re-keyed, changed or moved, top-level, nested
// through the product, in bulk, in transactions and through the GraphQL mutations. Each case
// caches the lists of two products through the API (and checks they ARE in Redis), runs the
// write, then compares the database before and after: every list whose rows changed must be gone
// from Redis, and the API must answer every list as the database holds it. The control writes
// through the plain client (no invalidation) and shows the check fails when a list is not
// invalidated. Fixtures are written with the plain client before any lookup.
import Redis from 'ioredis';
import { createCacheKeys } from '../../src/cache/keys';
import type { Prisma as DbClient } from '../../src/db/database';
import { startTestApp, type TestApp } from '../helpers/app';
import { uncaptured } from '../helpers/capture';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const prefix = uniquePrefix('lists');
const keys = createCacheKeys(prefix);
let app: TestApp;
let redis: Redis;
let writes: DbClient;
let db: DbClient;

beforeAll(async () => {
  app = await startTestApp('barcode_lists', { REDIS_URL: SHARED_REDIS_URL, CACHE_PREFIX: prefix });
  writes = app.running.writes;
  db = app.db.prisma;
  redis = new Redis(SHARED_REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await app?.stop();
  await clearPrefix(prefix);
});

let counter = 0;
const unique = (label: string) => `LIST-${label}-${++counter}`;

interface Fixture {
  /** The products' ids: `a` starts with codes a1 and a2, `b` with b1. */
  readonly a: number;
  readonly b: number;
  readonly codes: { readonly a1: string; readonly a2: string; readonly b1: string };
  /** A code no barcode has yet. */
  readonly fresh: string;
}

async function fixture(): Promise<Fixture> {
  const codes = { a1: unique('a1'), a2: unique('a2'), b1: unique('b1') };
  const barcode = (code: string) => ({ code, key: code, symbology: 'CODE_128' as const });
  const a = await db.product.create({
    data: { sku: unique('sku'), name: 'A', barcodes: { create: [barcode(codes.a1), barcode(codes.a2)] } },
  });
  const b = await db.product.create({
    data: { sku: unique('sku'), name: 'B', barcodes: { create: [barcode(codes.b1)] } },
  });
  // Written with the plain client, so captured like any external write: settle before caching.
  await app.settled();
  return { a: a.id, b: b.id, codes, fresh: unique('fresh') };
}

const barcodeData = (code: string) => ({ code, key: code, symbology: 'CODE_128' as const });

/** What the API answers for each product's barcodes: null for a product that does not exist. */
async function listsThroughApi(ids: number[]) {
  const response = await app.gql<Record<string, { barcodes: unknown[] } | null>>(
    `{ ${ids.map((id) => `p${id}: product(id: "${id}") { barcodes { id code active symbology } }`).join(' ')} }`,
  );
  expect(response.errors).toBeUndefined();
  return ids.map((id) => response.data![`p${id}`]?.barcodes ?? null);
}

/** The same, from the database. */
async function listsInDatabase(ids: number[]) {
  return Promise.all(
    ids.map(async (id) => {
      if (!(await db.product.findUnique({ where: { id } }))) return null;
      const rows = await db.barcode.findMany({ where: { productId: id }, orderBy: { id: 'asc' } });
      return rows.map((r) => ({ id: String(r.id), code: r.code, active: r.active, symbology: r.symbology }));
    }),
  );
}

/** Every column of every barcode of each product, to tell which lists a write changed. */
const snapshot = (ids: number[]) =>
  Promise.all(
    ids.map(async (id) =>
      JSON.stringify(await db.barcode.findMany({ where: { productId: id }, orderBy: { id: 'asc' } })),
    ),
  );

/**
 * Caches both lists, runs the write, and checks: the lists it changed are gone from Redis, and
 * the API answers what the database holds. Returns the ids of the lists it changed.
 */
async function expectListsInvalidated(f: Fixture, write: () => Promise<unknown>): Promise<number[]> {
  const ids = [f.a, f.b];
  expect(await listsThroughApi(ids)).toEqual(await listsInDatabase(ids));
  expect((await redis.mget(...ids.map(keys.productBarcodes))).every((v) => v !== null)).toBe(true);
  const before = await snapshot(ids);
  await write();
  const after = await snapshot(ids);
  const changed = ids.filter((_, i) => before[i] !== after[i]);
  expect(changed.length).toBeGreaterThan(0); // a case that changes no list would prove nothing
  expect(await redis.mget(...changed.map(keys.productBarcodes))).toEqual(changed.map(() => null));
  expect(await listsThroughApi(ids)).toEqual(await listsInDatabase(ids));
  return changed;
}

const gql = async (query: string, variables: Record<string, unknown>) => {
  const response = await app.gql(query, variables);
  expect(response.errors).toBeUndefined();
};

type Case = [name: string, write: (f: Fixture) => Promise<unknown>, changes: 'a' | 'b' | 'both'];

const barcodeWrites: Case[] = [
  ['create', (f) => writes.barcode.create({ data: { ...barcodeData(f.fresh), productId: f.a } }), 'a'],
  [
    'createMany, into both products',
    (f) =>
      writes.barcode.createMany({
        data: [
          { ...barcodeData(f.fresh), productId: f.a },
          { ...barcodeData(`${f.fresh}-2`), productId: f.b },
        ],
      }),
    'both',
  ],
  [
    'createManyAndReturn',
    (f) => writes.barcode.createManyAndReturn({ data: [{ ...barcodeData(f.fresh), productId: f.b }] }),
    'b',
  ],
  [
    'update of a column (active)',
    (f) => writes.barcode.update({ where: { key: f.codes.a1 }, data: { active: false } }),
    'a',
  ],
  [
    'update re-keying (by id)',
    async (f) => {
      const { id } = await db.barcode.findUniqueOrThrow({ where: { key: f.codes.a1 } });
      return writes.barcode.update({ where: { id }, data: barcodeData(f.fresh) });
    },
    'a',
  ],
  [
    'update moving to the other product (productId)',
    (f) => writes.barcode.update({ where: { key: f.codes.a1 }, data: { productId: f.b } }),
    'both',
  ],
  [
    'update moving to the other product (nested connect)',
    (f) => writes.barcode.update({ where: { key: f.codes.b1 }, data: { product: { connect: { id: f.a } } } }),
    'both',
  ],
  [
    'updateMany',
    (f) => writes.barcode.updateMany({ where: { productId: f.a }, data: { active: false } }),
    'a',
  ],
  [
    'updateMany moving',
    (f) => writes.barcode.updateMany({ where: { key: f.codes.a2 }, data: { productId: f.b } }),
    'both',
  ],
  [
    'updateManyAndReturn moving',
    (f) => writes.barcode.updateManyAndReturn({ where: { productId: f.b }, data: { productId: f.a } }),
    'both',
  ],
  [
    'upsert, create branch',
    (f) =>
      writes.barcode.upsert({
        where: { key: f.fresh },
        create: { ...barcodeData(f.fresh), productId: f.b },
        update: { active: false },
      }),
    'b',
  ],
  [
    'upsert, update branch moving',
    (f) =>
      writes.barcode.upsert({
        where: { key: f.codes.a1 },
        create: { ...barcodeData(f.codes.a1), productId: f.b },
        update: { productId: f.b },
      }),
    'both',
  ],
  ['delete', (f) => writes.barcode.delete({ where: { key: f.codes.b1 } }), 'b'],
  [
    'deleteMany over both products',
    (f) => writes.barcode.deleteMany({ where: { key: { in: [f.codes.a1, f.codes.b1] } } }),
    'both',
  ],
];

const productWrites: Case[] = [
  ['delete (cascades to its barcodes)', (f) => writes.product.delete({ where: { id: f.a } }), 'a'],
  ['deleteMany (cascades)', (f) => writes.product.deleteMany({ where: { id: { in: [f.a, f.b] } } }), 'both'],
  [
    'update, nested create',
    (f) =>
      writes.product.update({ where: { id: f.a }, data: { barcodes: { create: barcodeData(f.fresh) } } }),
    'a',
  ],
  [
    'update, nested createMany',
    (f) =>
      writes.product.update({
        where: { id: f.b },
        data: { barcodes: { createMany: { data: [barcodeData(f.fresh)] } } },
      }),
    'b',
  ],
  [
    'update, nested update',
    (f) =>
      writes.product.update({
        where: { id: f.a },
        data: { barcodes: { update: { where: { key: f.codes.a2 }, data: { active: false } } } },
      }),
    'a',
  ],
  [
    'update, nested updateMany',
    (f) =>
      writes.product.update({
        where: { id: f.a },
        data: { barcodes: { updateMany: { where: {}, data: { active: false } } } },
      }),
    'a',
  ],
  [
    'update, nested delete',
    (f) => writes.product.update({ where: { id: f.a }, data: { barcodes: { delete: { key: f.codes.a1 } } } }),
    'a',
  ],
  [
    'update, nested deleteMany',
    (f) => writes.product.update({ where: { id: f.b }, data: { barcodes: { deleteMany: {} } } }),
    'b',
  ],
  [
    'update, nested upsert (both branches)',
    (f) =>
      writes.product.update({
        where: { id: f.a },
        data: {
          barcodes: {
            upsert: [
              { where: { key: f.codes.a1 }, create: barcodeData(f.codes.a1), update: { active: false } },
              { where: { key: f.fresh }, create: barcodeData(f.fresh), update: { active: false } },
            ],
          },
        },
      }),
    'a',
  ],
  [
    "update, nested connect (moving the other product's barcode)",
    (f) =>
      writes.product.update({ where: { id: f.a }, data: { barcodes: { connect: { key: f.codes.b1 } } } }),
    'both',
  ],
  [
    "create, nested connect (taking the other product's barcode)",
    (f) =>
      writes.product.create({
        data: { sku: unique('sku'), name: 'C', barcodes: { connect: { key: f.codes.b1 } } },
      }),
    'b',
  ],
  [
    'upsert, update branch with a nested create',
    (f) =>
      writes.product.upsert({
        where: { id: f.b },
        create: { sku: unique('sku'), name: 'unused' },
        update: { barcodes: { create: barcodeData(f.fresh) } },
      }),
    'b',
  ],
];

const transactions: Case[] = [
  [
    'interactive: a move and a create, invalidated at the commit',
    (f) =>
      writes.$transaction(async (tx) => {
        await tx.barcode.update({ where: { key: f.codes.a1 }, data: { productId: f.b } });
        await tx.barcode.create({ data: { ...barcodeData(f.fresh), productId: f.a } });
      }),
    'both',
  ],
  [
    'batch $transaction([...])',
    (f) =>
      writes.$transaction([
        writes.barcode.delete({ where: { key: f.codes.a2 } }),
        writes.barcode.create({ data: { ...barcodeData(f.fresh), productId: f.b } }),
      ]),
    'both',
  ],
];

const mutations: Case[] = [
  [
    'addBarcode',
    (f) =>
      gql(`mutation ($p: ID!, $c: String!) { addBarcode(productId: $p, input: { code: $c }) { id } }`, {
        p: String(f.a),
        c: f.fresh,
      }),
    'a',
  ],
  [
    'updateBarcode changing code, active and product',
    (f) =>
      gql(`mutation ($c: String!, $i: UpdateBarcodeInput!) { updateBarcode(code: $c, input: $i) { id } }`, {
        c: f.codes.a1,
        i: { code: f.fresh, active: false, productId: String(f.b) },
      }),
    'both',
  ],
  ['deleteBarcode', (f) => gql(`mutation ($c: String!) { deleteBarcode(code: $c) }`, { c: f.codes.b1 }), 'b'],
  [
    'upsertBarcodes moving one and adding one',
    (f) =>
      gql(`mutation ($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { id } }`, {
        items: [
          { code: f.codes.a1, productId: String(f.b) },
          { code: f.fresh, productId: String(f.a) },
        ],
      }),
    'both',
  ],
  ['deleteProduct', (f) => gql(`mutation ($id: ID!) { deleteProduct(id: $id) }`, { id: String(f.a) }), 'a'],
];

describe.each([
  ['barcode writes', barcodeWrites],
  ['product writes', productWrites],
  ['transactions', transactions],
  ['GraphQL mutations', mutations],
])('%s invalidate the lists they change', (_, cases) => {
  it.each(cases)('%s', async (_name, write, changes) => {
    const f = await fixture();
    const changed = await expectListsInvalidated(f, () => write(f));
    expect(changed).toEqual(changes === 'both' ? [f.a, f.b] : [changes === 'a' ? f.a : f.b]);
  });
});

it('an interactive transaction that rolls back invalidates no list, and the lists stay right', async () => {
  const f = await fixture();
  const ids = [f.a, f.b];
  await listsThroughApi(ids);
  const cachedBefore = await redis.mget(...ids.map(keys.productBarcodes));
  await expect(
    writes.$transaction(async (tx) => {
      await tx.barcode.update({ where: { key: f.codes.a1 }, data: { productId: f.b } });
      throw new Error('rolled back');
    }),
  ).rejects.toThrow('rolled back');
  expect(await redis.mget(...ids.map(keys.productBarcodes))).toEqual(cachedBefore);
  expect(await listsThroughApi(ids)).toEqual(await listsInDatabase(ids));
});

it('control: a move written past the invalidation leaves both lists stale, which the check sees', async () => {
  const f = await fixture();
  await expect(
    expectListsInvalidated(f, () =>
      // With the capture triggers disabled in its transaction: nothing sees this write.
      uncaptured(db, (tx) => tx.barcode.update({ where: { key: f.codes.a1 }, data: { productId: f.b } })),
    ),
  ).rejects.toThrow();
  // What the API answers now: the cached, stale lists (a1 still under A, not under B).
  const [underA, underB] = (await listsThroughApi([f.a, f.b])) as { code: string }[][];
  expect(underA!.map((b) => b.code)).toContain(f.codes.a1);
  expect(underB!.map((b) => b.code)).not.toContain(f.codes.a1);
  await redis.unlink(keys.productBarcodes(f.a), keys.productBarcodes(f.b));
});
