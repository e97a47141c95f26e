// Cache invalidation on writes, end to end against a real Postgres and the machine's Redis. Every
// case follows one pattern: look rows up through the API so they are cached (and check they ARE in
// Redis, read with a client of our own), write through the app's write client (`running.writes`)
// or a GraphQL mutation, then check the stale entries are gone from Redis and the API answers the
// new state. Fixtures are written with the plain client (`db.prisma`, no invalidation) BEFORE any
// lookup, so only the write under test can have invalidated anything.
import Redis from 'ioredis';
import { NEGATIVE_ENTRY } from '../../src/cache/cachedBatch';
import { gs1CheckDigit, normalizeCode } from '../../src/modules/barcode/gtin';
import { startTestApp, type TestApp } from '../helpers/app';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const prefix = uniquePrefix('inv');
let app: TestApp;
let redis: Redis;
/** The app's write client: every write through it invalidates what it changed. */
let writes: TestApp['running']['writes'];
/** The plain client, for fixtures and for checking the database directly. */
let db: TestApp['db']['prisma'];

beforeAll(async () => {
  app = await startTestApp('invalidation', { REDIS_URL: SHARED_REDIS_URL, CACHE_PREFIX: prefix });
  writes = app.running.writes;
  db = app.db.prisma;
  redis = new Redis(SHARED_REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await app?.stop();
  await clearPrefix(prefix);
});

// ---------------------------------------------------------------------------------------------
// Unique codes, ids and cache keys.

let counter = 0;
const next = () => ++counter;
/** A non-GTIN code, unique in this file. */
const code = (label: string) => `INV-${label}-${next()}`;
/** A valid EAN-13 (restricted-circulation prefix 2), unique in this file. */
const ean13 = () => {
  const body = `2${String(next()).padStart(11, '0')}`;
  return `${body}${gs1CheckDigit(body)}`;
};
/** A valid UPC-A, unique in this file. */
const upcA = () => {
  const body = `4${String(next()).padStart(10, '0')}`;
  return `${body}${gs1CheckDigit(body)}`;
};
/** Product ids set explicitly, far above what the sequence hands out, so "unknown" ids can be cached first. */
const freeProductId = () => 1_000_000 + next();

/** The canonical key, computed here independently of src: 14-digit GTIN for GTINs, else the code. */
const canonical = (value: string) => (/^\d+$/.test(value) ? value.padStart(14, '0') : value);
const barcodeKey = (value: string) => `${prefix}:v1:barcode:${canonical(value)}`;
const productKey = (id: number) => `${prefix}:v1:product:${id}`;

/** The columns a barcode row stores for a code. */
const row = (value: string) => {
  const normalized = normalizeCode(value);
  return { code: normalized.code, key: normalized.key, symbology: normalized.symbology };
};

async function fixture(options: { codes?: string[]; name?: string } = {}) {
  const n = next();
  const created = await db.product.create({
    data: {
      sku: `INV-SKU-${n}`,
      name: options.name ?? `Product ${n}`,
      barcodes: { create: (options.codes ?? []).map(row) },
    },
  });
  // The plain client's write is captured like any external write: its (harmless) invalidation
  // must be done before the test caches anything.
  await app.settled();
  return created;
}

// ---------------------------------------------------------------------------------------------
// Lookups through the API, and what Redis holds.

interface BarcodeView {
  id: string;
  code: string;
  active: boolean;
  symbology: string;
  product: { id: string; sku: string; name: string };
}
interface ProductView {
  id: string;
  sku: string;
  name: string;
  priceCents: number | null;
}
const BARCODE_FIELDS = 'id code active symbology product { id sku name }';

async function lookup(value: string): Promise<BarcodeView | null> {
  const response = await app.gql<{ barcode: BarcodeView | null }>(
    `query ($code: String!) { barcode(code: $code) { ${BARCODE_FIELDS} } }`,
    { code: value },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.barcode;
}

async function lookupMany(values: string[]): Promise<(BarcodeView | null)[]> {
  const response = await app.gql<{ barcodes: (BarcodeView | null)[] }>(
    `query ($codes: [String!]!) { barcodes(codes: $codes) { ${BARCODE_FIELDS} } }`,
    { codes: values },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.barcodes;
}

async function lookupProduct(id: number): Promise<ProductView | null> {
  const response = await app.gql<{ product: ProductView | null }>(
    `query ($id: ID!) { product(id: $id) { id sku name priceCents } }`,
    { id: String(id) },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.product;
}

/** What Redis holds under each key (null for nothing), keyed by the key, so a failure names it. */
async function cached(...keys: string[]): Promise<Record<string, string | null>> {
  const values = await redis.mget(...keys);
  return Object.fromEntries(keys.map((key, i) => [key, values[i] ?? null]));
}

async function expectEvicted(...keys: string[]): Promise<void> {
  expect(await cached(...keys)).toEqual(Object.fromEntries(keys.map((key) => [key, null])));
}

/** Looks the barcodes up through the API (one request) and checks each is now cached with its product. */
async function warm(...values: string[]): Promise<BarcodeView[]> {
  const found = await lookupMany(values);
  const entries = await cached(...values.map(barcodeKey));
  values.forEach((value, i) => {
    expect(found[i]).not.toBeNull();
    const text = entries[barcodeKey(value)];
    expect(text).not.toBeNull();
    expect(text).not.toBe(NEGATIVE_ENTRY);
    expect(JSON.parse(text!)).toMatchObject({
      barcode: { key: canonical(value), active: found[i]!.active },
      product: { id: Number(found[i]!.product.id), name: found[i]!.product.name },
    });
  });
  return found as BarcodeView[];
}

/** Looks unknown codes up through the API and checks each is now cached as a negative entry. */
async function warmMissing(...values: string[]): Promise<void> {
  expect(await lookupMany(values)).toEqual(values.map(() => null));
  expect(await cached(...values.map(barcodeKey))).toEqual(
    Object.fromEntries(values.map((value) => [barcodeKey(value), NEGATIVE_ENTRY])),
  );
}

async function warmProduct(id: number): Promise<ProductView> {
  const found = await lookupProduct(id);
  expect(found).not.toBeNull();
  const text = (await cached(productKey(id)))[productKey(id)];
  expect(text).not.toBeNull();
  expect(JSON.parse(text!)).toMatchObject({ id, name: found!.name });
  return found!;
}

async function warmMissingProduct(id: number): Promise<void> {
  expect(await lookupProduct(id)).toBeNull();
  expect(await cached(productKey(id))).toEqual({ [productKey(id)]: NEGATIVE_ENTRY });
}

const productOf = (p: { id: number; sku: string; name: string }) => ({
  id: String(p.id),
  sku: p.sku,
  name: p.name,
});

// ---------------------------------------------------------------------------------------------

describe('Barcode writes through the write client', () => {
  it('create: a negative entry for the code is replaced by the new barcode', async () => {
    const p = await fixture();
    const value = code('create');
    await warmMissing(value);
    await writes.barcode.create({ data: { ...row(value), productId: p.id } });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ code: value, active: true, product: productOf(p) });
  });

  it('create of a GTIN: the negative entry under the 14-digit key is invalidated', async () => {
    const p = await fixture();
    const value = upcA();
    await warmMissing(value);
    await writes.barcode.create({ data: { ...row(value), productId: p.id } });
    await expectEvicted(barcodeKey(value));
    // Found by an equivalent form (the EAN-13 with a leading zero) through the same key.
    expect(await lookup(`0${value}`)).toMatchObject({ code: value, symbology: 'UPC_A' });
  });

  it('createMany', async () => {
    const p = await fixture();
    const values = [code('createMany'), ean13()];
    await warmMissing(...values);
    await writes.barcode.createMany({ data: values.map((value) => ({ ...row(value), productId: p.id })) });
    await expectEvicted(...values.map(barcodeKey));
    expect(await lookupMany(values)).toEqual(
      values.map((value) => expect.objectContaining({ code: value, product: productOf(p) })),
    );
  });

  it('createManyAndReturn', async () => {
    const p = await fixture();
    const values = [code('createManyAndReturn'), ean13()];
    await warmMissing(...values);
    const created = await writes.barcode.createManyAndReturn({
      data: values.map((value) => ({ ...row(value), productId: p.id })),
    });
    expect(created).toHaveLength(2);
    await expectEvicted(...values.map(barcodeKey));
    expect(await lookupMany(values)).toEqual(
      values.map((value) => expect.objectContaining({ code: value, product: productOf(p) })),
    );
  });

  it('update by key', async () => {
    const value = code('update');
    await fixture({ codes: [value] });
    await warm(value);
    await writes.barcode.update({ where: { key: value }, data: { active: false } });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ code: value, active: false });
  });

  it('update by id', async () => {
    const value = ean13();
    const p = await fixture({ codes: [value] });
    await warm(value);
    const { id } = (await db.barcode.findUnique({ where: { key: canonical(value) } }))!;
    await writes.barcode.update({ where: { id }, data: { active: false } });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ active: false, product: productOf(p) });
  });

  it('update moving the barcode to another product: the entry embedding the old product is invalidated', async () => {
    const value = code('move');
    await fixture({ codes: [value] });
    const target = await fixture();
    await warm(value);
    await writes.barcode.update({ where: { key: value }, data: { productId: target.id } });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ product: productOf(target) });
  });

  it('update changing the code (by id): the old key and the new key (holding "~") are both invalidated', async () => {
    const oldCode = code('rekey-old');
    const newCode = upcA();
    const p = await fixture({ codes: [oldCode] });
    await warm(oldCode);
    await warmMissing(newCode);
    const { id } = (await db.barcode.findUnique({ where: { key: oldCode } }))!;
    await writes.barcode.update({ where: { id }, data: row(newCode) });
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({ code: newCode, product: productOf(p) });
  });

  it('update changing the code (by key, with { set })', async () => {
    const oldCode = ean13();
    const newCode = code('rekey-set');
    await fixture({ codes: [oldCode] });
    await warm(oldCode);
    await warmMissing(newCode);
    await writes.barcode.update({
      where: { key: canonical(oldCode) },
      data: { code: { set: newCode }, key: { set: newCode }, symbology: { set: 'CODE_128' } },
    });
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({ code: newCode, symbology: 'CODE_128' });
  });

  it('updateMany', async () => {
    const values = [code('updateMany'), ean13()];
    const untouched = code('updateMany-untouched');
    const p = await fixture({ codes: [...values, untouched] });
    await warm(...values, untouched);
    await writes.barcode.updateMany({
      where: { productId: p.id, key: { in: values.map(canonical) } },
      data: { active: false },
    });
    await expectEvicted(...values.map(barcodeKey));
    expect((await lookupMany(values)).map((b) => b?.active)).toEqual([false, false]);
    expect((await cached(barcodeKey(untouched)))[barcodeKey(untouched)]).not.toBeNull();
  });

  it('updateMany changing the code of the one row it matches', async () => {
    const oldCode = code('updateMany-rekey-old');
    const newCode = code('updateMany-rekey-new');
    await fixture({ codes: [oldCode] });
    await warm(oldCode);
    await warmMissing(newCode);
    await writes.barcode.updateMany({ where: { key: oldCode }, data: row(newCode) });
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({ code: newCode });
  });

  it('updateManyAndReturn moving barcodes to another product', async () => {
    const values = [code('updateManyAndReturn'), upcA()];
    const source = await fixture({ codes: values });
    const target = await fixture();
    await warm(...values);
    const rows = await writes.barcode.updateManyAndReturn({
      where: { productId: source.id },
      data: { productId: target.id },
    });
    expect(rows).toHaveLength(2);
    await expectEvicted(...values.map(barcodeKey));
    expect((await lookupMany(values)).map((b) => b?.product)).toEqual([productOf(target), productOf(target)]);
  });

  it('upsert, create branch: the negative entry is invalidated', async () => {
    const p = await fixture();
    const value = ean13();
    await warmMissing(value);
    await writes.barcode.upsert({
      where: { key: canonical(value) },
      create: { ...row(value), productId: p.id },
      update: { active: false },
    });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ code: value, active: true, product: productOf(p) });
  });

  it('upsert, update branch', async () => {
    const value = code('upsert-update');
    const p = await fixture({ codes: [value] });
    await warm(value);
    await writes.barcode.upsert({
      where: { key: value },
      create: { ...row(value), productId: p.id },
      update: { active: false },
    });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ active: false });
  });

  it('upsert by id, update branch changing the code: old and new keys are invalidated', async () => {
    const oldCode = code('upsert-rekey-old');
    const newCode = ean13();
    const p = await fixture({ codes: [oldCode] });
    await warm(oldCode);
    await warmMissing(newCode);
    const { id } = (await db.barcode.findUnique({ where: { key: oldCode } }))!;
    await writes.barcode.upsert({
      where: { id },
      create: { ...row(newCode), productId: p.id },
      update: row(newCode),
    });
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({ code: newCode });
  });

  it('delete by key and by id', async () => {
    const byKey = code('delete-key');
    const byId = ean13();
    await fixture({ codes: [byKey, byId] });
    await warm(byKey, byId);
    const { id } = (await db.barcode.findUnique({ where: { key: canonical(byId) } }))!;
    await writes.barcode.delete({ where: { key: byKey } });
    await writes.barcode.delete({ where: { id } });
    await expectEvicted(barcodeKey(byKey), barcodeKey(byId));
    expect(await lookupMany([byKey, byId])).toEqual([null, null]);
  });

  it('deleteMany', async () => {
    const values = [code('deleteMany'), upcA()];
    const kept = code('deleteMany-kept');
    const p = await fixture({ codes: [...values, kept] });
    await warm(...values, kept);
    const { count } = await writes.barcode.deleteMany({
      where: { productId: p.id, key: { not: kept } },
    });
    expect(count).toBe(2);
    await expectEvicted(...values.map(barcodeKey));
    expect(await lookupMany([...values, kept])).toEqual([
      null,
      null,
      expect.objectContaining({ code: kept }),
    ]);
  });

  it('create with a nested product create: the negative entry of the new product id is invalidated', async () => {
    const value = code('nested-product-create');
    const productId = freeProductId();
    await warmMissing(value);
    await warmMissingProduct(productId);
    await writes.barcode.create({
      data: {
        ...row(value),
        product: { create: { id: productId, sku: `INV-SKU-${next()}`, name: 'Made with its barcode' } },
      },
    });
    await expectEvicted(barcodeKey(value), productKey(productId));
    expect(await lookupProduct(productId)).toMatchObject({ name: 'Made with its barcode' });
    expect(await lookup(value)).toMatchObject({ product: { name: 'Made with its barcode' } });
  });

  it('update with a nested product update: every cached barcode of that product shows the new name', async () => {
    const [first, second] = [code('nested-product-update'), ean13()];
    const p = await fixture({ codes: [first, second], name: 'Before nested' });
    await warm(first, second);
    await warmProduct(p.id);
    await writes.barcode.update({
      where: { key: first },
      data: { product: { update: { name: 'After nested' } } },
    });
    await expectEvicted(productKey(p.id), barcodeKey(first), barcodeKey(second));
    expect(await lookupProduct(p.id)).toMatchObject({ name: 'After nested' });
    expect((await lookupMany([first, second])).map((b) => b?.product.name)).toEqual([
      'After nested',
      'After nested',
    ]);
  });

  it('upsert (update branch) with a nested product update: the product and its barcodes are invalidated', async () => {
    const [first, second] = [code('nested-product-upsert'), upcA()];
    const p = await fixture({ codes: [first, second], name: 'Before upsert' });
    await warm(first, second);
    await warmProduct(p.id);
    await writes.barcode.upsert({
      where: { key: first },
      create: { ...row(first), productId: p.id },
      update: { product: { update: { name: 'After upsert' } } },
    });
    await expectEvicted(productKey(p.id), barcodeKey(first), barcodeKey(second));
    expect(await lookupProduct(p.id)).toMatchObject({ name: 'After upsert' });
    expect((await lookupMany([first, second])).map((b) => b?.product.name)).toEqual([
      'After upsert',
      'After upsert',
    ]);
  });
});

describe('Product writes through the write client', () => {
  it('create: a negative entry for the id is invalidated, and so are those of its nested barcodes', async () => {
    const id = freeProductId();
    const value = ean13();
    await warmMissingProduct(id);
    await warmMissing(value);
    await writes.product.create({
      data: { id, sku: `INV-SKU-${next()}`, name: 'Created', barcodes: { create: [row(value)] } },
    });
    await expectEvicted(productKey(id), barcodeKey(value));
    expect(await lookupProduct(id)).toMatchObject({ id: String(id), name: 'Created' });
    expect(await lookup(value)).toMatchObject({ product: { id: String(id), name: 'Created' } });
  });

  it('createMany', async () => {
    const ids = [freeProductId(), freeProductId()];
    for (const id of ids) await warmMissingProduct(id);
    await writes.product.createMany({
      data: ids.map((id) => ({ id, sku: `INV-SKU-${next()}`, name: `Bulk ${id}` })),
    });
    await expectEvicted(...ids.map(productKey));
    for (const id of ids) expect(await lookupProduct(id)).toMatchObject({ name: `Bulk ${id}` });
  });

  it('createManyAndReturn', async () => {
    const ids = [freeProductId(), freeProductId()];
    for (const id of ids) await warmMissingProduct(id);
    const rows = await writes.product.createManyAndReturn({
      data: ids.map((id) => ({ id, sku: `INV-SKU-${next()}`, name: `Returned ${id}` })),
    });
    expect(rows.map((r) => r.id)).toEqual(ids);
    await expectEvicted(...ids.map(productKey));
    for (const id of ids) expect(await lookupProduct(id)).toMatchObject({ name: `Returned ${id}` });
  });

  it('update changing the name: the product and every barcode entry embedding it are invalidated', async () => {
    const values = [code('rename'), ean13()];
    const p = await fixture({ codes: values, name: 'Old name' });
    await warm(...values);
    await warmProduct(p.id);
    await writes.product.update({ where: { id: p.id }, data: { name: 'New name', priceCents: 250 } });
    await expectEvicted(productKey(p.id), ...values.map(barcodeKey));
    expect(await lookupProduct(p.id)).toMatchObject({ name: 'New name', priceCents: 250 });
    expect((await lookupMany(values)).map((b) => b?.product.name)).toEqual(['New name', 'New name']);
  });

  it('update by sku', async () => {
    const value = code('rename-sku');
    const p = await fixture({ codes: [value] });
    await warm(value);
    await warmProduct(p.id);
    await writes.product.update({ where: { sku: p.sku }, data: { name: 'Renamed by sku' } });
    await expectEvicted(productKey(p.id), barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ product: { name: 'Renamed by sku' } });
  });

  it('updateMany', async () => {
    const [a, b] = [code('updateMany-p'), code('updateMany-p')];
    const p1 = await fixture({ codes: [a] });
    const p2 = await fixture({ codes: [b] });
    await warm(a, b);
    await warmProduct(p1.id);
    await warmProduct(p2.id);
    const { count } = await writes.product.updateMany({
      where: { id: { in: [p1.id, p2.id] } },
      data: { name: 'Many renamed' },
    });
    expect(count).toBe(2);
    await expectEvicted(productKey(p1.id), productKey(p2.id), barcodeKey(a), barcodeKey(b));
    expect((await lookupMany([a, b])).map((x) => x?.product.name)).toEqual(['Many renamed', 'Many renamed']);
    expect((await lookupProduct(p2.id))!.name).toBe('Many renamed');
  });

  it('updateManyAndReturn', async () => {
    const [a, b] = [ean13(), code('updateManyAndReturn-p')];
    const p1 = await fixture({ codes: [a] });
    const p2 = await fixture({ codes: [b] });
    await warm(a, b);
    await warmProduct(p1.id);
    await warmProduct(p2.id);
    const rows = await writes.product.updateManyAndReturn({
      where: { sku: { in: [p1.sku, p2.sku] } },
      data: { name: 'Many returned' },
    });
    expect(rows).toHaveLength(2);
    await expectEvicted(productKey(p1.id), productKey(p2.id), barcodeKey(a), barcodeKey(b));
    expect((await lookupMany([a, b])).map((x) => x?.product.name)).toEqual([
      'Many returned',
      'Many returned',
    ]);
    expect((await lookupProduct(p1.id))!.name).toBe('Many returned');
  });

  it('upsert, update branch: the product and its barcode entries are invalidated', async () => {
    const value = code('p-upsert-update');
    const p = await fixture({ codes: [value] });
    await warm(value);
    await warmProduct(p.id);
    await writes.product.upsert({
      where: { id: p.id },
      create: { sku: `INV-SKU-${next()}`, name: 'never' },
      update: { name: 'Upserted' },
    });
    await expectEvicted(productKey(p.id), barcodeKey(value));
    expect(await lookupProduct(p.id)).toMatchObject({ name: 'Upserted' });
    expect(await lookup(value)).toMatchObject({ product: { name: 'Upserted' } });
  });

  it('upsert, create branch with nested barcodes: negative entries of the id and the codes are invalidated', async () => {
    const id = freeProductId();
    const value = upcA();
    await warmMissingProduct(id);
    await warmMissing(value);
    await writes.product.upsert({
      where: { id },
      create: { id, sku: `INV-SKU-${next()}`, name: 'Upsert-created', barcodes: { create: [row(value)] } },
      update: { name: 'never' },
    });
    await expectEvicted(productKey(id), barcodeKey(value));
    expect(await lookupProduct(id)).toMatchObject({ name: 'Upsert-created' });
    expect(await lookup(value)).toMatchObject({ product: { id: String(id), name: 'Upsert-created' } });
  });

  it('delete cascades to its barcodes: all their entries are invalidated', async () => {
    const values = [code('p-delete'), ean13()];
    const p = await fixture({ codes: values });
    await warm(...values);
    await warmProduct(p.id);
    await writes.product.delete({ where: { id: p.id } });
    await expectEvicted(productKey(p.id), ...values.map(barcodeKey));
    expect(await lookupProduct(p.id)).toBeNull();
    expect(await lookupMany(values)).toEqual([null, null]);
  });

  it('create connecting a barcode of another product: the moved barcode is invalidated', async () => {
    const value = code('p-create-connect');
    const source = await fixture({ codes: [value] });
    await warm(value);
    const created = await writes.product.create({
      data: { sku: `INV-SKU-${next()}`, name: 'Took a barcode', barcodes: { connect: { key: value } } },
    });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ product: productOf(created) });
    expect(await db.barcode.count({ where: { productId: source.id } })).toBe(0);
  });

  it('deleteMany cascades to their barcodes', async () => {
    const [a, b] = [code('p-deleteMany'), upcA()];
    const p1 = await fixture({ codes: [a] });
    const p2 = await fixture({ codes: [b] });
    await warm(a, b);
    await warmProduct(p1.id);
    await warmProduct(p2.id);
    const { count } = await writes.product.deleteMany({ where: { id: { in: [p1.id, p2.id] } } });
    expect(count).toBe(2);
    await expectEvicted(productKey(p1.id), productKey(p2.id), barcodeKey(a), barcodeKey(b));
    expect(await lookupMany([a, b])).toEqual([null, null]);
    expect(await lookupProduct(p1.id)).toBeNull();
  });
});

describe('nested barcode writes through Product.update', () => {
  it('create', async () => {
    const p = await fixture();
    const value = ean13();
    await warmMissing(value);
    await writes.product.update({ where: { id: p.id }, data: { barcodes: { create: row(value) } } });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ code: value, product: productOf(p) });
  });

  it('createMany', async () => {
    const p = await fixture();
    const values = [code('nested-createMany'), upcA()];
    await warmMissing(...values);
    await writes.product.update({
      where: { id: p.id },
      data: { barcodes: { createMany: { data: values.map(row) } } },
    });
    await expectEvicted(...values.map(barcodeKey));
    expect(await lookupMany(values)).toEqual(
      values.map((value) => expect.objectContaining({ code: value, product: productOf(p) })),
    );
  });

  it('update', async () => {
    const value = code('nested-update');
    const p = await fixture({ codes: [value] });
    await warm(value);
    await writes.product.update({
      where: { id: p.id },
      data: { barcodes: { update: { where: { key: value }, data: { active: false } } } },
    });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ active: false });
  });

  it('update changing the code: old key and new key (holding "~") are both invalidated', async () => {
    const oldCode = code('nested-rekey-old');
    const newCode = ean13();
    const p = await fixture({ codes: [oldCode] });
    await warm(oldCode);
    await warmMissing(newCode);
    await writes.product.update({
      where: { id: p.id },
      data: { barcodes: { update: { where: { key: oldCode }, data: row(newCode) } } },
    });
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({ code: newCode, product: productOf(p) });
  });

  it('updateMany', async () => {
    const values = [code('nested-updateMany'), upcA()];
    const p = await fixture({ codes: values });
    await warm(...values);
    await writes.product.update({
      where: { id: p.id },
      data: { barcodes: { updateMany: { where: { active: true }, data: { active: false } } } },
    });
    await expectEvicted(...values.map(barcodeKey));
    expect((await lookupMany(values)).map((b) => b?.active)).toEqual([false, false]);
  });

  it('delete', async () => {
    const [gone, kept] = [code('nested-delete'), ean13()];
    const p = await fixture({ codes: [gone, kept] });
    await warm(gone, kept);
    await writes.product.update({ where: { id: p.id }, data: { barcodes: { delete: { key: gone } } } });
    await expectEvicted(barcodeKey(gone));
    expect(await lookupMany([gone, kept])).toEqual([
      null,
      expect.objectContaining({ product: productOf(p) }),
    ]);
  });

  it('deleteMany', async () => {
    const values = [code('nested-deleteMany'), upcA()];
    const p = await fixture({ codes: values });
    await warm(...values);
    await writes.product.update({ where: { id: p.id }, data: { barcodes: { deleteMany: {} } } });
    await expectEvicted(...values.map(barcodeKey));
    expect(await lookupMany(values)).toEqual([null, null]);
  });

  it('upsert, both branches in one call', async () => {
    const existing = code('nested-upsert-existing');
    const created = ean13();
    const p = await fixture({ codes: [existing] });
    await warm(existing);
    await warmMissing(created);
    await writes.product.update({
      where: { id: p.id },
      data: {
        barcodes: {
          upsert: [
            { where: { key: existing }, create: row(existing), update: { active: false } },
            { where: { key: canonical(created) }, create: row(created), update: { active: false } },
          ],
        },
      },
    });
    await expectEvicted(barcodeKey(existing), barcodeKey(created));
    expect((await lookupMany([existing, created])).map((b) => [b?.code, b?.active])).toEqual([
      [existing, false],
      [created, true],
    ]);
  });

  it('connect, moving a barcode from another product', async () => {
    const value = code('nested-connect');
    const source = await fixture({ codes: [value] });
    const target = await fixture();
    expect((await warm(value))[0]!.product).toEqual(productOf(source));
    await writes.product.update({
      where: { id: target.id },
      data: { barcodes: { connect: { key: value } } },
    });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ product: productOf(target) });
  });

  it('a name change together with a nested write: untouched barcodes embed the new name too', async () => {
    const [touched, untouched] = [code('nested-and-rename'), ean13()];
    const p = await fixture({ codes: [touched, untouched], name: 'Before both' });
    await warm(touched, untouched);
    await warmProduct(p.id);
    await writes.product.update({
      where: { id: p.id },
      data: {
        name: 'After both',
        barcodes: { update: { where: { key: touched }, data: { active: false } } },
      },
    });
    await expectEvicted(productKey(p.id), barcodeKey(touched), barcodeKey(untouched));
    expect((await lookupMany([touched, untouched])).map((b) => [b?.active, b?.product.name])).toEqual([
      [false, 'After both'],
      [true, 'After both'],
    ]);
  });
});

describe('transactions', () => {
  it('interactive: entries stay cached until the commit, then are invalidated', async () => {
    const [updated, deleted] = [code('tx-update'), ean13()];
    const created = code('tx-create');
    const p = await fixture({ codes: [updated, deleted], name: 'Before tx' });
    await warm(updated, deleted);
    await warmMissing(created);
    await warmProduct(p.id);
    const keys = [barcodeKey(updated), barcodeKey(deleted), barcodeKey(created), productKey(p.id)];
    const before = await cached(...keys);

    await writes.$transaction(async (tx) => {
      await tx.barcode.update({ where: { key: updated }, data: { active: false } });
      await tx.barcode.delete({ where: { key: canonical(deleted) } });
      await tx.barcode.create({ data: { ...row(created), productId: p.id } });
      await tx.product.update({ where: { id: p.id }, data: { name: 'After tx' } });
      // Written but not committed: nothing is invalidated yet, and readers still see the old state.
      expect(await cached(...keys)).toEqual(before);
      expect(await lookup(updated)).toMatchObject({ active: true, product: { name: 'Before tx' } });
    });

    await expectEvicted(...keys);
    expect(await lookupMany([updated, deleted, created])).toEqual([
      expect.objectContaining({ active: false, product: expect.objectContaining({ name: 'After tx' }) }),
      null,
      expect.objectContaining({ code: created, product: expect.objectContaining({ name: 'After tx' }) }),
    ]);
    expect((await lookupProduct(p.id))!.name).toBe('After tx');
  });

  it('interactive: a code change reads the old key inside the transaction', async () => {
    const oldCode = code('tx-rekey-old');
    const newCode = upcA();
    const p = await fixture({ codes: [oldCode] });
    await warm(oldCode);
    await warmMissing(newCode);
    await writes.$transaction(async (tx) => {
      const current = await tx.barcode.findUniqueOrThrow({ where: { key: oldCode } });
      await tx.barcode.update({ where: { id: current.id }, data: row(newCode) });
      expect(await cached(barcodeKey(oldCode), barcodeKey(newCode))).toEqual({
        [barcodeKey(oldCode)]: expect.stringContaining(oldCode),
        [barcodeKey(newCode)]: NEGATIVE_ENTRY,
      });
    });
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({ code: newCode, product: productOf(p) });
  });

  it('interactive rollback: nothing is invalidated and the cached entries are still right', async () => {
    const [updated, deleted] = [code('rollback-update'), ean13()];
    const created = code('rollback-create');
    const p = await fixture({ codes: [updated, deleted], name: 'Unchanged' });
    await warm(updated, deleted);
    await warmMissing(created);
    await warmProduct(p.id);
    const keys = [barcodeKey(updated), barcodeKey(deleted), barcodeKey(created), productKey(p.id)];
    const before = await cached(...keys);

    await expect(
      writes.$transaction(async (tx) => {
        await tx.barcode.update({ where: { key: updated }, data: { active: false } });
        await tx.barcode.delete({ where: { key: canonical(deleted) } });
        await tx.barcode.create({ data: { ...row(created), productId: p.id } });
        await tx.product.update({ where: { id: p.id }, data: { name: 'Rolled back' } });
        throw new Error('roll it back');
      }),
    ).rejects.toThrow('roll it back');

    expect(await cached(...keys)).toEqual(before);
    expect(await db.barcode.count({ where: { key: { in: [updated, canonical(deleted), created] } } })).toBe(
      2,
    );
    expect(await lookupMany([updated, deleted, created])).toEqual([
      expect.objectContaining({ active: true, product: expect.objectContaining({ name: 'Unchanged' }) }),
      expect.objectContaining({ code: deleted }),
      null,
    ]);
    expect((await lookupProduct(p.id))!.name).toBe('Unchanged');
  });

  it('batch $transaction([...])', async () => {
    const [updated, deleted] = [code('batch-update'), upcA()];
    const created = ean13();
    const p = await fixture({ codes: [updated, deleted], name: 'Before batch' });
    await warm(updated, deleted);
    await warmMissing(created);
    await warmProduct(p.id);

    await writes.$transaction([
      writes.barcode.update({ where: { key: updated }, data: { active: false } }),
      writes.barcode.deleteMany({ where: { key: canonical(deleted) } }),
      writes.barcode.create({ data: { ...row(created), productId: p.id } }),
      writes.product.update({ where: { id: p.id }, data: { name: 'After batch' } }),
    ]);

    await expectEvicted(barcodeKey(updated), barcodeKey(deleted), barcodeKey(created), productKey(p.id));
    expect(await lookupMany([updated, deleted, created])).toEqual([
      expect.objectContaining({ active: false, product: expect.objectContaining({ name: 'After batch' }) }),
      null,
      expect.objectContaining({ code: created, product: expect.objectContaining({ name: 'After batch' }) }),
    ]);
    expect((await lookupProduct(p.id))!.name).toBe('After batch');
  });

  it('batch $transaction: deleteMany also deletes a row created earlier in the same batch', async () => {
    const kept = code('batch-created-then-deleted-kept');
    const created = code('batch-created-then-deleted');
    const p = await fixture({ codes: [kept] });
    await warm(kept);
    await warmMissing(created);
    // The same batch through the plain client (no cache extension): the deleteMany sees the new row.
    const control = await fixture({ codes: [code('batch-control-kept')] });
    await db.$transaction([
      db.barcode.create({ data: { ...row(code('batch-control')), productId: control.id } }),
      db.barcode.deleteMany({ where: { productId: control.id } }),
    ]);
    await app.settled();
    expect(await db.barcode.count({ where: { productId: control.id } })).toBe(0);

    await writes.$transaction([
      writes.barcode.create({ data: { ...row(created), productId: p.id } }),
      writes.barcode.deleteMany({ where: { productId: p.id } }),
    ]);
    expect(await db.barcode.count({ where: { productId: p.id } })).toBe(0);
    await expectEvicted(barcodeKey(kept), barcodeKey(created));
    expect(await lookupMany([kept, created])).toEqual([null, null]);
  });

  it('a write through the outer client inside a transaction that rolls back is still invalidated', async () => {
    // The outer client's write autocommits on its own connection: the rollback does not undo it.
    const value = code('tx-outer-client');
    await fixture({ codes: [value] });
    await warm(value);
    await expect(
      writes.$transaction(async () => {
        await writes.barcode.update({ where: { key: value }, data: { active: false } });
        throw new Error('roll back the transaction, not the outer write');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.barcode.findUnique({ where: { key: value } }))!.active).toBe(false);
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ active: false });
  });

  it('batch $transaction that fails: nothing is invalidated', async () => {
    const value = code('batch-fail');
    const p = await fixture({ codes: [value] });
    await warm(value);
    const before = await cached(barcodeKey(value));
    await expect(
      writes.$transaction([
        writes.barcode.update({ where: { key: value }, data: { active: false } }),
        // Violates the unique key: the whole batch rolls back.
        writes.barcode.create({ data: { ...row(value), productId: p.id } }),
      ]),
    ).rejects.toThrow();
    expect(await cached(barcodeKey(value))).toEqual(before);
    expect(await lookup(value)).toMatchObject({ active: true });
  });
});

describe('GraphQL mutations', () => {
  it('createProduct with barcodes: the codes\u2019 negative entries are invalidated', async () => {
    const values = [ean13(), code('gql-create')];
    await warmMissing(...values);
    const response = await app.gql<{ createProduct: { id: string } }>(
      `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
      {
        input: { sku: `INV-SKU-${next()}`, name: 'Via GraphQL', barcodes: values.map((c) => ({ code: c })) },
      },
    );
    expect(response.errors).toBeUndefined();
    await expectEvicted(...values.map(barcodeKey));
    expect((await lookupMany(values)).map((b) => b?.product)).toEqual([
      expect.objectContaining({ id: response.data!.createProduct.id, name: 'Via GraphQL' }),
      expect.objectContaining({ id: response.data!.createProduct.id, name: 'Via GraphQL' }),
    ]);
  });

  it('updateProduct: barcode { product { name } } shows the new name', async () => {
    const values = [code('gql-rename'), upcA()];
    const p = await fixture({ codes: values, name: 'GraphQL old' });
    await warm(...values);
    await warmProduct(p.id);
    const response = await app.gql(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "GraphQL new" }) { name } }`,
      { id: String(p.id) },
    );
    expect(response.errors).toBeUndefined();
    await expectEvicted(productKey(p.id), ...values.map(barcodeKey));
    expect((await lookupMany(values)).map((b) => b?.product.name)).toEqual(['GraphQL new', 'GraphQL new']);
    expect((await lookupProduct(p.id))!.name).toBe('GraphQL new');
  });

  it('deleteProduct: the product and its barcodes are gone from the cache', async () => {
    const values = [code('gql-delete-product'), ean13()];
    const p = await fixture({ codes: values });
    await warm(...values);
    await warmProduct(p.id);
    const response = await app.gql(`mutation ($id: ID!) { deleteProduct(id: $id) }`, { id: String(p.id) });
    expect(response.data).toEqual({ deleteProduct: true });
    await expectEvicted(productKey(p.id), ...values.map(barcodeKey));
    expect(await lookupProduct(p.id)).toBeNull();
    expect(await lookupMany(values)).toEqual([null, null]);
  });

  it('addBarcode: negative entry → found', async () => {
    const p = await fixture();
    const value = upcA();
    await warmMissing(value);
    const response = await app.gql(
      `mutation ($productId: ID!, $code: String!) { addBarcode(productId: $productId, input: { code: $code }) { id } }`,
      { productId: String(p.id), code: value },
    );
    expect(response.errors).toBeUndefined();
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ code: value, symbology: 'UPC_A', product: productOf(p) });
  });

  it('updateBarcode changing code, active and product: old and new ("~") keys are invalidated', async () => {
    const oldCode = code('gql-update-old');
    const newCode = ean13();
    await fixture({ codes: [oldCode] });
    const target = await fixture();
    await warm(oldCode);
    await warmMissing(newCode);
    const response = await app.gql(
      `mutation ($code: String!, $input: UpdateBarcodeInput!) { updateBarcode(code: $code, input: $input) { code } }`,
      { code: oldCode, input: { code: newCode, active: false, productId: String(target.id) } },
    );
    expect(response.errors).toBeUndefined();
    await expectEvicted(barcodeKey(oldCode), barcodeKey(newCode));
    expect(await lookup(oldCode)).toBeNull();
    expect(await lookup(newCode)).toMatchObject({
      code: newCode,
      active: false,
      symbology: 'EAN_13',
      product: productOf(target),
    });
  });

  it('updateBarcode found by an equivalent GTIN form', async () => {
    const value = upcA();
    await fixture({ codes: [value] });
    await warm(value);
    const response = await app.gql(
      `mutation ($code: String!) { updateBarcode(code: $code, input: { active: false }) { code } }`,
      { code: `00${value}` },
    );
    expect(response.errors).toBeUndefined();
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ active: false });
  });

  it('deleteBarcode', async () => {
    const value = ean13();
    await fixture({ codes: [value] });
    await warm(value);
    const response = await app.gql(`mutation ($code: String!) { deleteBarcode(code: $code) }`, {
      code: value,
    });
    expect(response.data).toEqual({ deleteBarcode: true });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toBeNull();
  });

  it('upsertBarcodes: the existing entry and the new code\u2019s negative entry are invalidated', async () => {
    const existing = code('gql-upsert-existing');
    const created = upcA();
    await fixture({ codes: [existing] });
    const target = await fixture();
    await warm(existing);
    await warmMissing(created);
    const response = await app.gql(
      `mutation ($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { code } }`,
      {
        items: [
          { code: existing, productId: String(target.id), active: false },
          { code: created, productId: String(target.id) },
        ],
      },
    );
    expect(response.errors).toBeUndefined();
    await expectEvicted(barcodeKey(existing), barcodeKey(created));
    expect(await lookupMany([existing, created])).toEqual([
      expect.objectContaining({ active: false, product: productOf(target) }),
      expect.objectContaining({ code: created, active: true, product: productOf(target) }),
    ]);
  });

  it('a rejected upsertBarcodes (rolled back) invalidates nothing', async () => {
    const existing = code('gql-upsert-rejected');
    await fixture({ codes: [existing] });
    await warm(existing);
    const before = await cached(barcodeKey(existing));
    const response = await app.gql(
      `mutation ($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { code } }`,
      { items: [{ code: existing, productId: '987654321', active: false }] },
    );
    expect(response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await cached(barcodeKey(existing))).toEqual(before);
    expect(await lookup(existing)).toMatchObject({ active: true });
  });
});

describe('writes whose result leaves out the key or id (select)', () => {
  it('barcode update with select: { id: true }', async () => {
    const value = code('select-barcode');
    await fixture({ codes: [value] });
    await warm(value);
    const { id } = (await db.barcode.findUnique({ where: { key: value } }))!;
    await writes.barcode.update({ where: { id }, data: { active: false }, select: { id: true } });
    await expectEvicted(barcodeKey(value));
    expect(await lookup(value)).toMatchObject({ active: false });
  });

  it('product update with select: { sku: true }', async () => {
    const value = code('select-product');
    const p = await fixture({ codes: [value] });
    await warm(value);
    await warmProduct(p.id);
    await writes.product.update({ where: { id: p.id }, data: { name: 'Selected' }, select: { sku: true } });
    await expectEvicted(productKey(p.id), barcodeKey(value));
    expect(await lookupProduct(p.id)).toMatchObject({ name: 'Selected' });
    expect(await lookup(value)).toMatchObject({ product: { name: 'Selected' } });
  });

  it('product delete with select: { sku: true }', async () => {
    const value = code('select-product-delete');
    const p = await fixture({ codes: [value] });
    await warm(value);
    await warmProduct(p.id);
    await writes.product.delete({ where: { id: p.id }, select: { sku: true } });
    await expectEvicted(productKey(p.id), barcodeKey(value));
    expect(await lookupProduct(p.id)).toBeNull();
    expect(await lookup(value)).toBeNull();
  });
});
