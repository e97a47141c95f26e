// A DataLoader batch function with the cache in front: one cache read for all keys of the
// batch (an MGET that leases the misses), one database query for the misses, one leased fill
// for what the database returned, including "not found" as a negative entry.
import type { LeasedFill } from './backend';
import type { ResilientCache } from './resilientCache';
import type { CacheStats } from './stats';

/** The cached form of "no such row". */
export const NEGATIVE_ENTRY = '~';

export interface CachedBatchOptions<K, R> {
  /** Names the entity in metrics: 'barcode', 'product'. */
  readonly entity: string;
  readonly cache: ResilientCache;
  readonly stats: CacheStats;
  readonly cacheKey: (key: K) => string;
  /** Loads rows for the keys, aligned with them (null for not found). */
  readonly load: (keys: readonly K[]) => Promise<(R | null)[]>;
  readonly encode: (row: R) => string;
  readonly decode: (text: string) => R;
  readonly ttlSeconds: number;
  readonly negativeTtlSeconds: number;
}

/** ±10% so entries written together do not expire together. */
export function jitter(seconds: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(seconds * (0.9 + 0.2 * random())));
}

export function cachedBatch<K, R>(
  options: CachedBatchOptions<K, R>,
): (keys: readonly K[]) => Promise<(R | null)[]> {
  const { entity, cache, stats } = options;
  return async (keys) => {
    const { slots, source } = await cache.read(keys.map(options.cacheKey));
    const results: (R | null)[] = new Array(keys.length);
    const missIndexes: number[] = [];
    let hits = 0;
    let negativeHits = 0;
    slots.forEach((slot, index) => {
      if ('value' in slot) {
        if (slot.value === NEGATIVE_ENTRY) {
          negativeHits++;
          results[index] = null;
        } else {
          hits++;
          results[index] = options.decode(slot.value);
        }
      } else {
        missIndexes.push(index);
      }
    });
    stats.lookup(entity, hits, negativeHits, missIndexes.length);
    if (missIndexes.length === 0) return results;

    const rows = await options.load(missIndexes.map((i) => keys[i]!));
    stats.databaseBatch(entity, rows.filter((row) => row !== null).length);
    const fills: LeasedFill[] = [];
    missIndexes.forEach((keyIndex, rowIndex) => {
      const row = rows[rowIndex] ?? null;
      results[keyIndex] = row;
      const slot = slots[keyIndex] as { lease: string | null };
      if (slot.lease === null) return;
      fills.push(
        row === null
          ? {
              key: options.cacheKey(keys[keyIndex]!),
              lease: slot.lease,
              value: NEGATIVE_ENTRY,
              ttlSeconds: jitter(options.negativeTtlSeconds),
            }
          : {
              key: options.cacheKey(keys[keyIndex]!),
              lease: slot.lease,
              value: options.encode(row),
              ttlSeconds: jitter(options.ttlSeconds),
            },
      );
    });
    await cache.fill(source, fills);
    return results;
  };
}
