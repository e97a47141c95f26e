// Per-request DataLoaders. createLoaders is called by the context function for every request and
// never above it: a loader shared across requests would serve stale rows forever and mix callers.
// Each batch function returns one slot per key, in key order (null or [] for "not found").
import DataLoader from 'dataloader';
import { cachedBatch } from '../cache/cachedBatch';
import { cachedForm, reviveDates, rowCodec } from '../cache/cachedRows';
import type { Cache } from '../cache/createCache';
import { PRODUCT_CHUNK_SIZE, productChunkEnd, productChunkOf } from '../cache/keys';
import type { Prisma as DbClient } from '../db/database';
import type { Barcode as BarcodeRow, Prisma, Product as ProductRow } from '../generated/prisma/client';
import { INT4_MAX } from './input';

/** Bounds one batch, so a huge request becomes a few bounded queries instead of one giant IN list. */
export const MAX_BATCH_SIZE = 500;

export interface Loaders {
  readonly barcodeByKey: DataLoader<string, BarcodeRow | null>;
  readonly barcodesByProductId: DataLoader<number, BarcodeRow[]>;
  readonly productById: DataLoader<number, ProductRow | null>;
  /**
   * The product rows of page chunk n (ids 32n to 32n + 31, keys.productChunk), in id order: what
   * unfiltered products pages are read from. Null without a cache: pages are one query then.
   */
  readonly productChunks: DataLoader<number, ProductRow[]> | null;
  /**
   * The product's barcodes (barcodesByProductId), each marked as read with the product, so that
   * Barcode.product under Product.barcodes answers from the row the caller already holds.
   */
  readonly barcodesOfProduct: (product: ProductRow) => Promise<BarcodeRow[]>;
  /**
   * The product read together with a barcode that barcodeByKey or barcodesOfProduct returned (a
   * barcode's cache entry embeds it; a product's list is read under it), or undefined. Lets Barcode.product answer synchronously: a list of 50 barcodes then
   * completes without 50 promises, which is most of a warm list's GraphQL execution cost.
   */
  readonly productReadWith: (barcode: BarcodeRow) => ProductRow | undefined;
}

/**
 * A cached barcode embeds its product, so a warm lookup of barcodes with their products is one
 * cache round trip; a product write therefore invalidates its barcodes' entries too.
 */
interface BarcodeEntry {
  readonly barcode: BarcodeRow;
  readonly product: ProductRow;
}

const productCodec = rowCodec<ProductRow>();
const barcodeEntryCodec = {
  encode: (entry: BarcodeEntry) =>
    JSON.stringify({ barcode: cachedForm(entry.barcode), product: cachedForm(entry.product) }),
  decode: (text: string): BarcodeEntry => {
    const entry = JSON.parse(text) as BarcodeEntry;
    reviveDates(entry.barcode);
    reviveDates(entry.product);
    return entry;
  },
};

/**
 * A product's barcode list: the rows only (Barcode.product under it is the product the list was
 * read for), so a product write leaves its list alone and a barcode write invalidates the list
 * of the product it leaves and of the one it joins.
 */
const barcodeListCodec = listCodec<BarcodeRow>();
/** A page chunk: the product rows only; their barcodes come from their own lists. */
const productListCodec = listCodec<ProductRow>();

function listCodec<R extends BarcodeRow | ProductRow>() {
  return {
    encode: (rows: R[]) => JSON.stringify(rows.map(cachedForm)),
    decode: (text: string): R[] => (JSON.parse(text) as R[]).map(reviveDates),
  };
}

/** The ids of page chunk n (productChunkOf: chunk 0 has no lower bound), kept within INTEGER. */
const chunkIds = (chunk: number): Prisma.ProductWhereInput => ({
  id: {
    ...(chunk > 0 && { gte: chunk * PRODUCT_CHUNK_SIZE }),
    lte: Math.min(INT4_MAX, productChunkEnd(chunk)),
  },
});

/**
 * Every loader goes through the cache when there is one (one cache read, one query for the
 * misses, one fill per batch): barcode by key, product by id, and a product's barcode list.
 * Each is made on first use: a request builds only the loaders its fields ask for (a single
 * lookup never needs the barcode lists, `{ __typename }` needs none).
 */
export function createLoaders(prisma: DbClient, cache?: Cache): Loaders {
  return new RequestLoaders(prisma, cache);
}

class RequestLoaders implements Loaders {
  #barcodeByKey?: DataLoader<string, BarcodeRow | null>;
  #barcodesByProductId?: DataLoader<number, BarcodeRow[]>;
  #productById?: DataLoader<number, ProductRow | null>;
  #productChunks?: DataLoader<number, ProductRow[]>;
  #productsReadWith?: WeakMap<BarcodeRow, ProductRow>;

  constructor(
    private readonly prisma: DbClient,
    private readonly cache: Cache | undefined,
  ) {}

  get barcodeByKey() {
    return (this.#barcodeByKey ??= this.#createBarcodeByKey());
  }

  get barcodesByProductId() {
    return (this.#barcodesByProductId ??= this.#createBarcodesByProductId());
  }

  get productById() {
    return (this.#productById ??= this.#createProductById());
  }

  get productChunks() {
    return this.cache ? (this.#productChunks ??= this.#createProductChunks(this.cache)) : null;
  }

  async barcodesOfProduct(product: ProductRow): Promise<BarcodeRow[]> {
    const barcodes = await this.barcodesByProductId.load(product.id);
    for (const barcode of barcodes) this.#readWith(barcode, product);
    return barcodes;
  }

  productReadWith(barcode: BarcodeRow): ProductRow | undefined {
    return this.#productsReadWith?.get(barcode);
  }

  #readWith(barcode: BarcodeRow, product: ProductRow): void {
    (this.#productsReadWith ??= new WeakMap()).set(barcode, product);
  }

  async #loadBarcodes(keys: readonly string[]) {
    const rows = await this.prisma.barcode.findMany({ where: { key: { in: [...keys] } } });
    return alignOne(keys, rows, (b) => b.key);
  }

  #createProductById() {
    const { prisma, cache } = this;
    const loadProducts = async (ids: readonly number[]) =>
      alignOne(ids, await prisma.product.findMany({ where: { id: { in: [...ids] } } }), (p) => p.id);
    return new DataLoader<number, ProductRow | null>(
      cache
        ? cachedBatch({
            entity: 'product',
            ...cacheOptions(cache),
            ...productCodec,
            cacheKey: cache.keys.product,
            load: loadProducts,
          })
        : loadProducts,
      { name: 'productById', maxBatchSize: MAX_BATCH_SIZE },
    );
  }

  #createProductChunks(cache: Cache) {
    const { prisma } = this;
    // One query for every chunk the batch missed: their id ranges, in the page query's order.
    const loadChunks = async (chunks: readonly number[]) =>
      alignMany(
        chunks,
        await prisma.product.findMany({ where: { OR: chunks.map(chunkIds) }, orderBy: { id: 'asc' } }),
        (p) => productChunkOf(p.id),
      );
    const cachedChunks = cachedBatch<number, ProductRow[]>({
      entity: 'product_chunk',
      ...cacheOptions(cache),
      ...productListCodec,
      cacheKey: cache.keys.productChunk,
      load: loadChunks,
    });
    return new DataLoader<number, ProductRow[]>(
      // A chunk is never "not found" (one past the last product is empty), as a barcode list.
      async (chunks) => (await cachedChunks(chunks)).map((rows) => rows ?? []),
      { name: 'productChunks', maxBatchSize: MAX_BATCH_SIZE },
    );
  }

  #createBarcodeByKey() {
    const { cache } = this;
    if (!cache)
      return new DataLoader((keys: readonly string[]) => this.#loadBarcodes(keys), {
        name: 'barcodeByKey',
        maxBatchSize: MAX_BATCH_SIZE,
      });
    const cachedBarcodeEntries = cachedBatch<string, BarcodeEntry>({
      entity: 'barcode',
      ...cacheOptions(cache),
      ...barcodeEntryCodec,
      cacheKey: cache.keys.barcode,
      // Misses: one barcode query, then their products through productById (cached itself).
      // The entry embeds the product, so the product must be read after this batch's leases
      // were taken: one this request read earlier (the product field next to the lookup, read
      // in the same tick) may predate a write whose invalidation came between that read and the
      // leases, and the fill would put it back (the randomized test in race.test.ts finds that).
      load: async (keys) => {
        const barcodes = await this.#loadBarcodes(keys);
        const productIds = [...new Set(barcodes.filter((b) => b !== null).map((b) => b.productId))];
        for (const id of productIds) this.productById.clear(id);
        const products = await this.productById.loadMany(productIds);
        const byId = new Map(
          products.filter((p): p is ProductRow => p !== null && !(p instanceof Error)).map((p) => [p.id, p]),
        );
        return barcodes.map((barcode) => {
          const product = barcode && byId.get(barcode.productId);
          return barcode && product ? { barcode, product } : null;
        });
      },
    });
    return new DataLoader<string, BarcodeRow | null>(
      async (keys) => {
        const entries = await cachedBarcodeEntries(keys);
        return entries.map((entry) => {
          if (!entry) return null;
          this.productById.prime(entry.product.id, entry.product);
          this.#readWith(entry.barcode, entry.product);
          return entry.barcode;
        });
      },
      { name: 'barcodeByKey', maxBatchSize: MAX_BATCH_SIZE },
    );
  }

  #createBarcodesByProductId() {
    const { prisma, cache } = this;
    const loadBarcodeLists = async (ids: readonly number[]) =>
      alignMany(
        ids,
        await prisma.barcode.findMany({ where: { productId: { in: [...ids] } }, orderBy: { id: 'asc' } }),
        (b) => b.productId,
      );
    const cachedBarcodeLists =
      cache &&
      cachedBatch<number, BarcodeRow[]>({
        entity: 'product_barcodes',
        ...cacheOptions(cache),
        ...barcodeListCodec,
        cacheKey: cache.keys.productBarcodes,
        load: loadBarcodeLists,
      });
    return new DataLoader<number, BarcodeRow[]>(
      // A list is never "not found" (an unknown product has none), so the cache never holds a negative entry for it.
      cachedBarcodeLists
        ? async (ids) => (await cachedBarcodeLists(ids)).map((list) => list ?? [])
        : loadBarcodeLists,
      { name: 'barcodesByProductId', maxBatchSize: MAX_BATCH_SIZE },
    );
  }
}

function cacheOptions(cache: Cache) {
  return {
    cache: cache.cache,
    stats: cache.stats,
    ttlSeconds: cache.config.ttlSeconds,
    negativeTtlSeconds: cache.config.negativeTtlSeconds,
  };
}

/** One row or null per key, in key order. */
export function alignOne<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K): (R | null)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/** The rows of each key (possibly none), in key order. */
export function alignMany<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K): R[][] {
  const byKey = new Map<K, R[]>(keys.map((key) => [key, []]));
  for (const row of rows) byKey.get(keyOf(row))?.push(row);
  return keys.map((key) => byKey.get(key)!);
}
