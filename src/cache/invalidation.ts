// The write path of the cache for the API's own writes: a Prisma client extension that runs every
// write to Barcode or Product in a transaction it marks, reads what the database captured in it,
// and invalidates those keys AFTER the commit, before the write call resolves.
//
// The database knows what changed: the change_capture migration's triggers see every row a
// statement touched (nested writes, cascades, bulk writes, a changed key or product), old and new.
// In a transaction marked with the setting barcode_cache.api_transaction, they hand the identities
// back through the transaction-local setting barcode_cache.captured instead of queueing them in
// the journal for every instance (./invalidationJournal.ts, where every other writer's changes
// go). So the API pays one statement before and one after its writes, not a journal row and a
// NOTIFY (which every instance would then also drain), and a mutation still answers only after
// its keys are gone from the cache, which queued rows could not promise. Only while another cache
// namespace shares the database does the statement after also journal them, for that namespace
// (READ_BACK_SQL).
//
// - A write outside a transaction becomes a batch transaction [mark, write, read back].
// - `$transaction(async (tx) => …)`: marked first, read back after the callback, invalidated once
//   committed; `tx` is the plain client's transaction client (it needs nothing more). A rollback
//   invalidates nothing, since nothing changed.
// - `$transaction([...])`: the mark and the read back join the batch; the writes in it pass through.
// - A write through this client inside someone else's callback is a write of its own: it commits
//   on its own, and is invalidated when it does.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Prisma as DbClient } from '../db/database';
import type { CacheKeys } from './keys';
import { parseHandedBack, type CapturedKeys } from './keysCaptured';

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

const MARK_SQL = `SELECT set_config('barcode_cache.api_transaction', 'on', true)`;
// What the triggers handed back, read in the transaction (one statement, one round trip). When
// another cache namespace shares the database (a blue/green deploy, another app: a live row in
// cache_capture_consumers), the same statement journals the identities for it, as captured rows
// with origin $1 (this namespace): any instance fans them out to the other namespaces, and this
// namespace's drains skip them, since it invalidates after commit itself. With no other namespace
// live, it journals nothing. In the transaction, so a rollback journals nothing either; a 'clear'
// hand-back already journaled a clear for every namespace (cache_capture_clear).
export const READ_BACK_SQL = `
WITH handed AS (
  SELECT nullif(current_setting('barcode_cache.captured', true), '') AS captured
), journaled AS (
  INSERT INTO cache_missed_invalidations (kind, ident, origin)
  SELECT change->>0, change->>1, $1::text
    FROM handed, jsonb_array_elements(
      CASE WHEN handed.captured IS NULL OR handed.captured = 'clear' THEN '[]'::jsonb
           ELSE handed.captured::jsonb END) AS change
   WHERE EXISTS (SELECT 1 FROM cache_capture_consumers
                  WHERE namespace <> $1::text AND dropped_at IS NULL)
)
SELECT captured FROM handed`;

/** Deletes what a committed API transaction changed (`clear`: the whole namespace). */
export type Invalidate = (changed: CapturedKeys) => Promise<void>;

type Delegate = Record<string, (args: unknown) => Promise<unknown>>;
type Raw = Pick<DbClient, '$queryRawUnsafe'>;

const handedBack = (rows: unknown) => (rows as { captured: string | null }[])[0]?.captured ?? null;

export function withCacheInvalidation(
  base: DbClient,
  cacheKeys: CacheKeys,
  invalidate: Invalidate,
): DbClient {
  /** Set while a batch `$transaction([...])` that this client marked runs: its writes pass through. */
  const inBatch = new AsyncLocalStorage<true>();

  const readBack = (client: Raw) => client.$queryRawUnsafe(READ_BACK_SQL, cacheKeys.namespace);

  const settle = async (captured: string | null) => {
    const changed = parseHandedBack(cacheKeys, captured);
    if (changed.kind === 'clear' || changed.keys.length > 0) await invalidate(changed);
  };

  /** A write on its own: [mark, write, read back] in one transaction, then invalidated. */
  const writeAlone = async (model: 'barcode' | 'product', operation: string, args: unknown) => {
    const write = (base[model] as unknown as Delegate)[operation]!(args);
    const [, result, readBackRows] = await base.$transaction([
      base.$queryRawUnsafe(MARK_SQL),
      write as ReturnType<Raw['$queryRawUnsafe']>,
      readBack(base),
    ]);
    await settle(handedBack(readBackRows));
    return result;
  };

  const hook =
    (model: 'barcode' | 'product') =>
    ({
      operation,
      args,
      query,
    }: {
      operation: string;
      args: unknown;
      query: (args: unknown) => Promise<unknown>;
    }) =>
      WRITE_OPERATIONS.has(operation) && !inBatch.getStore()
        ? writeAlone(model, operation, args)
        : query(args);

  const extended = base.$extends({
    name: 'cache-invalidation',
    query: {
      barcode: { $allOperations: hook('barcode') },
      product: { $allOperations: hook('product') },
    },
  });

  type Transaction = DbClient['$transaction'];
  const transaction = (async (arg: unknown, options?: unknown) => {
    if (typeof arg === 'function') {
      const callback = arg as (tx: unknown) => Promise<unknown>;
      const [result, captured] = await base.$transaction(async (tx) => {
        await tx.$queryRawUnsafe(MARK_SQL);
        const value = await callback(tx);
        return [value, handedBack(await readBack(tx))] as const;
      }, options as never);
      // Only reached when the transaction committed.
      await settle(captured);
      return result;
    }
    const batch = arg as ReturnType<Raw['$queryRawUnsafe']>[];
    const results: unknown[] = await inBatch.run(true, () =>
      extended.$transaction(
        [extended.$queryRawUnsafe(MARK_SQL), ...batch, readBack(extended)],
        options as never,
      ),
    );
    await settle(handedBack(results.at(-1)));
    return results.slice(1, -1);
  }) as Transaction;

  return new Proxy(extended, {
    get: (target, property) => (property === '$transaction' ? transaction : Reflect.get(target, property)),
  }) as unknown as DbClient;
}
