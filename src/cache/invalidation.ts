// The write path of the cache: a Prisma client extension that, for every write to Barcode or
// Product (top-level or nested through the other model, cascades included), finds the cache keys
// of every row it touches and invalidates them AFTER the write commits:
// - outside a transaction, right after the statement (it autocommits), before the call resolves;
// - inside `$transaction(...)`, collected and invalidated once the transaction commits; a
//   rolled-back transaction invalidates nothing (nothing changed).
// Prisma 7 has no commit hook and query extensions cannot tell whether they run in a transaction,
// so the returned client wraps `$transaction` and marks its scope with AsyncLocalStorage.
//
// Keys are found before and after the write as needed: a barcode's old key (its code may change)
// comes from a read before the write, in the same transaction when there is one; bulk writes are
// narrowed to the ids that read found, so every row they change is a row whose key is known.
// Known limit: two writers changing the SAME barcode's code concurrently outside a transaction can
// leave the older code cached until its TTL; see docs/cache.md.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Prisma as DbClient } from '../db/database';
import type { CacheKeys } from './keys';

type Args = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Reader = Pick<DbClient, 'barcode' | 'product'>;

interface Scope {
  readonly keys: Set<string>;
  /** The transaction client, for reads that must see the transaction's own writes. */
  readonly reader: Reader | null;
}

const WRITE_OPERATIONS = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
]);

const asArray = <T>(value: T | T[] | undefined | null): T[] =>
  value == null ? [] : Array.isArray(value) ? value : [value];

/** The string a `key` field of write data sets, if any (`'x'` or `{ set: 'x' }`). */
function keyIn(data: Args | undefined): string | undefined {
  const value = data?.key;
  if (typeof value === 'string') return value;
  if (value && typeof value.set === 'string') return value.set;
  return undefined;
}

/**
 * Makes sure the result has the fields invalidation needs, even when the caller's `select` or
 * `omit` leaves them out, and removes them again from what the caller gets.
 */
function withFields(args: Args, fields: readonly string[]): { args: Args; strip: <T>(result: T) => T } {
  const missing = args.select
    ? fields.filter((f) => !args.select[f])
    : args.omit
      ? fields.filter((f) => args.omit[f])
      : [];
  if (missing.length === 0 || (!args.select && !args.omit)) return { args, strip: (result) => result };
  const forced = Object.fromEntries(missing.map((f) => [f, true]));
  const nextArgs = args.select
    ? { ...args, select: { ...args.select, ...forced } }
    : { ...args, omit: { ...args.omit, ...Object.fromEntries(missing.map((f) => [f, false])) } };
  const stripRow = (row: unknown) => {
    if (row && typeof row === 'object') for (const f of missing) delete (row as Args)[f];
    return row;
  };
  return {
    args: nextArgs,
    strip: (result) =>
      Array.isArray(result) ? (result.map(stripRow) as typeof result) : (stripRow(result) as typeof result),
  };
}

/** The product id a barcode write's data sets, if any (`productId: 3`, or `product: { connect: { id: 3 } }`). */
function productIdIn(data: Args | undefined): number | undefined {
  const value = data?.productId ?? data?.product?.connect?.id;
  if (typeof value === 'number') return value;
  if (value && typeof value.set === 'number') return value.set;
  return undefined;
}

/** Whether a barcode write's data may move the barcode to another product. */
const movesProduct = (data: Args | undefined) => data?.productId !== undefined || data?.product !== undefined;

/**
 * The unique wheres of the barcodes a nested product write connects (and so may take from another
 * product): `connect` and `connectOrCreate`, in the data of a create, update or upsert.
 */
function connectedBarcodes(a: Args): Args[] {
  return [a.data, a.create, a.update].flatMap((data: Args | undefined) => [
    ...asArray<Args>(data?.barcodes?.connect),
    ...asArray<Args>(data?.barcodes?.connectOrCreate).map((c) => c.where),
  ]);
}

export function withCacheInvalidation(
  base: DbClient,
  cacheKeys: CacheKeys,
  invalidate: (keys: string[]) => Promise<void>,
): DbClient {
  const scope = new AsyncLocalStorage<Scope>();

  /** Invalidates now, or at commit when inside a transaction. */
  const settle = async (keys: Iterable<string>) => {
    const current = scope.getStore();
    if (current) {
      for (const key of keys) current.keys.add(key);
      return;
    }
    const list = [...new Set(keys)];
    if (list.length) await invalidate(list);
  };
  const reader = (): Reader => scope.getStore()?.reader ?? base;

  /**
   * A bulk write limited to the rows the read before it found, so every row it changes is a row
   * whose key is known. Not in a batch `$transaction([...])`: there the read runs before the batch
   * and misses rows that earlier writes of the batch create (and those writes recorded their keys).
   */
  const narrowToIds = (a: Args, ids: number[]): Args => {
    const current = scope.getStore();
    if (current && current.reader === null) return a;
    return { ...a, where: { AND: [a.where ?? {}, { id: { in: ids } }] } };
  };

  const barcodeKeysOfProducts = async (productIds: number[]) =>
    productIds.length === 0
      ? []
      : (
          await reader().barcode.findMany({ where: { productId: { in: productIds } }, select: { key: true } })
        ).map((b) => cacheKeys.barcode(b.key));

  const extended = base.$extends({
    name: 'cache-invalidation',
    query: {
      barcode: {
        async $allOperations({ operation, args, query }) {
          if (!WRITE_OPERATIONS.has(operation)) return query(args);
          const a = args as Args;
          const keys: string[] = [];
          const productIds: number[] = [];
          // The products whose barcode list the write changes: the one a barcode leaves and the one it joins.
          const listsOf: number[] = [];
          // A nested write to the product through the barcode changes the product row too.
          const touchesProduct = Boolean(a.data?.product ?? a.update?.product ?? a.create?.product);
          let effectiveArgs = a;
          switch (operation) {
            case 'update':
            case 'upsert': {
              const data = operation === 'update' ? a.data : a.update;
              // The old key and the old product come from a read before, when the write may
              // change them and the where does not name them (the result has the new ones).
              if (a.where?.key) keys.push(a.where.key);
              const oldKeyUnknown = !a.where?.key && (keyIn(data) !== undefined || operation === 'upsert');
              if (oldKeyUnknown || movesProduct(data)) {
                const before = await reader().barcode.findUnique({
                  where: a.where,
                  select: { key: true, productId: true },
                });
                if (before) {
                  keys.push(before.key);
                  listsOf.push(before.productId);
                }
              }
              break;
            }
            case 'updateMany':
            case 'updateManyAndReturn':
            case 'deleteMany': {
              const before = await reader().barcode.findMany({
                where: a.where,
                select: { id: true, key: true, productId: true },
              });
              keys.push(...before.map((b) => b.key));
              listsOf.push(...before.map((b) => b.productId));
              effectiveArgs = narrowToIds(
                a,
                before.map((b) => b.id),
              );
              break;
            }
            case 'createMany':
              keys.push(...asArray<Args>(a.data).map((d) => d.key));
              listsOf.push(...asArray<Args>(a.data).map((d) => d.productId));
              break;
          }
          const selected = withFields(effectiveArgs, ['key', 'productId']);
          const result = await query(selected.args);
          for (const row of asArray<Args>(result as Args)) {
            if (typeof row?.key === 'string') keys.push(row.key);
            if (typeof row?.productId === 'number') listsOf.push(row.productId);
            if (touchesProduct && typeof row?.productId === 'number') productIds.push(row.productId);
          }
          const newKey = keyIn(a.data);
          if (newKey !== undefined) keys.push(newKey);
          // updateMany returns a count: the product it moved the rows to is in its data.
          const newProductId = productIdIn(a.data);
          if (newProductId !== undefined) listsOf.push(newProductId);
          await settle([
            ...keys.map(cacheKeys.barcode),
            ...productIds.map(cacheKeys.product),
            ...listsOf.filter((id) => typeof id === 'number').map(cacheKeys.productBarcodes),
            // Cached barcodes embed their product: a product changed through one barcode changes them all.
            ...(await barcodeKeysOfProducts(productIds)),
          ]);
          return selected.strip(result);
        },
      },
      product: {
        async $allOperations({ operation, args, query }) {
          if (!WRITE_OPERATIONS.has(operation)) return query(args);
          const a = args as Args;
          const keys: string[] = [];
          let effectiveArgs = a;
          const touchesBarcodes = Boolean(a.data?.barcodes ?? a.update?.barcodes ?? a.create?.barcodes);
          // A nested connect takes barcodes from other products: their lists change too.
          const connected = touchesBarcodes ? connectedBarcodes(a) : [];
          if (connected.length) {
            const owners = await reader().barcode.findMany({
              where: { OR: connected },
              select: { productId: true },
            });
            keys.push(...owners.map((b) => cacheKeys.productBarcodes(b.productId)));
          }
          switch (operation) {
            case 'update':
            case 'upsert':
            case 'delete': {
              // Before: the barcodes a nested write may remove or re-key, or the delete cascades to.
              if (operation === 'delete' || touchesBarcodes) {
                const before = await reader().product.findUnique({ where: a.where, select: { id: true } });
                if (before) {
                  keys.push(...(await barcodeKeysOfProducts([before.id])));
                  keys.push(cacheKeys.productBarcodes(before.id));
                }
              }
              break;
            }
            case 'updateMany':
            case 'updateManyAndReturn':
            case 'deleteMany': {
              const before = await reader().product.findMany({ where: a.where, select: { id: true } });
              const ids = before.map((p) => p.id);
              keys.push(...ids.map(cacheKeys.product));
              // Their lists: a deleteMany cascades to their barcodes (an updateMany cannot write nested).
              if (operation === 'deleteMany') keys.push(...ids.map(cacheKeys.productBarcodes));
              // Cached barcodes embed their product: changing or deleting products invalidates them too.
              keys.push(...(await barcodeKeysOfProducts(ids)));
              effectiveArgs = narrowToIds(a, ids);
              break;
            }
          }
          const selected = withFields(effectiveArgs, ['id']);
          const result = await query(selected.args);
          const rows = asArray<Args>(result as Args).filter((row) => typeof row?.id === 'number');
          keys.push(...rows.map((row) => cacheKeys.product(row.id)));
          if (operation === 'createMany') {
            // createMany returns a count: find the new ids (a negative entry may be cached for them) by sku.
            const skus = asArray<Args>(a.data).map((d) => d.sku);
            const created = await reader().product.findMany({
              where: { sku: { in: skus } },
              select: { id: true },
            });
            keys.push(...created.map((p) => cacheKeys.product(p.id)));
          }
          // After: the barcodes a nested write created, connected or re-keyed, and (since cached
          // barcodes embed their product) every barcode of an updated product.
          if (touchesBarcodes || operation === 'update' || operation === 'upsert') {
            keys.push(...(await barcodeKeysOfProducts(rows.map((row) => row.id))));
          }
          if (touchesBarcodes) keys.push(...rows.map((row) => cacheKeys.productBarcodes(row.id)));
          await settle(keys);
          return selected.strip(result);
        },
      },
    },
  });

  /**
   * The transaction client with every model call run inside the transaction's scope, so only
   * writes made through `tx` wait for the commit; a write through the outer client (which is not
   * part of the transaction and commits on its own) is invalidated at once, as it should be.
   * Prisma's query promises are lazy, so each call is started here, inside the scope.
   */
  const scoped = <T extends object>(tx: T, store: Scope): T =>
    new Proxy(tx, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (property !== 'barcode' && property !== 'product') return value;
        return new Proxy(value as object, {
          get(delegate, method) {
            const fn = Reflect.get(delegate, method) as unknown;
            if (typeof fn !== 'function') return fn;
            return (...callArgs: unknown[]) =>
              scope.run(store, () => {
                const pending = fn.apply(delegate, callArgs) as Promise<unknown>;
                pending.then(
                  () => {},
                  () => {},
                );
                return pending;
              });
          },
        });
      },
    });

  type Transaction = DbClient['$transaction'];
  const transaction = (async (arg: unknown, options?: unknown) => {
    const keys = new Set<string>();
    const result =
      typeof arg === 'function'
        ? await extended.$transaction((tx) => {
            const store: Scope = { keys, reader: tx as unknown as Reader };
            return (arg as (tx: unknown) => Promise<unknown>)(scoped(tx, store));
          }, options as never)
        : await scope.run({ keys, reader: null }, () =>
            extended.$transaction(arg as never, options as never),
          );
    // Only reached when the transaction committed.
    if (keys.size) await invalidate([...keys]);
    return result;
  }) as Transaction;

  return new Proxy(extended, {
    get: (target, property) => (property === '$transaction' ? transaction : Reflect.get(target, property)),
  }) as unknown as DbClient;
}
