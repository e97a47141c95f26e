// Per-request DataLoaders. createLoaders is called by the context function for every request and
// never above it: a loader shared across requests would serve stale rows forever and mix callers.
// Each batch function returns one slot per key, in key order (null or [] for "not found").
import DataLoader from 'dataloader';
import type { Prisma as DbClient } from '../db/database';
import type { Barcode as BarcodeRow, Product as ProductRow } from '../generated/prisma/client';

/** Bounds one batch, so a huge request becomes a few bounded queries instead of one giant IN list. */
export const MAX_BATCH_SIZE = 500;

export interface Loaders {
  readonly barcodeByKey: DataLoader<string, BarcodeRow | null>;
  readonly barcodesByProductId: DataLoader<number, BarcodeRow[]>;
  readonly productById: DataLoader<number, ProductRow | null>;
}

export function createLoaders(prisma: DbClient): Loaders {
  return {
    barcodeByKey: new DataLoader(
      async (keys: readonly string[]) =>
        alignOne(keys, await prisma.barcode.findMany({ where: { key: { in: [...keys] } } }), (b) => b.key),
      { name: 'barcodeByKey', maxBatchSize: MAX_BATCH_SIZE },
    ),
    barcodesByProductId: new DataLoader(
      async (ids: readonly number[]) =>
        alignMany(
          ids,
          await prisma.barcode.findMany({ where: { productId: { in: [...ids] } }, orderBy: { id: 'asc' } }),
          (b) => b.productId,
        ),
      { name: 'barcodesByProductId', maxBatchSize: MAX_BATCH_SIZE },
    ),
    productById: new DataLoader(
      async (ids: readonly number[]) =>
        alignOne(ids, await prisma.product.findMany({ where: { id: { in: [...ids] } } }), (p) => p.id),
      { name: 'productById', maxBatchSize: MAX_BATCH_SIZE },
    ),
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
