// What the fuzz tests require of the cache after thousands of hostile requests: every entry (Redis
// keys under the test's prefix, and the database cache table) is for a valid code in its canonical
// form (a row, a negative entry `~` or a lease) or for an existing id; nothing else, whatever the
// requests sent.
import type Redis from 'ioredis';
import type { Prisma } from '../../src/db/database';
import { productChunkOf } from '../../src/cache/keys';
import { INT4_MAX } from '../../src/graphql/input';
import { normalizeCode } from '../../src/modules/barcode/gtin';
import { keysUnder } from './redis';

export interface CacheEntryReport {
  /** Entries no request should have left, `key = value`. */
  readonly wrong: string[];
  readonly redisKeys: number;
  readonly tableRows: number;
  /** Negative entries (`~`): valid codes that were looked up and are unknown. */
  readonly negative: number;
}

function canonical(code: string): boolean {
  try {
    return normalizeCode(code).key === code;
  } catch {
    return false;
  }
}

export async function cacheEntriesNoRequestShouldLeave(
  redis: Redis,
  prefix: string,
  prisma: Prisma,
): Promise<CacheEntryReport> {
  const keys = await keysUnder(redis, prefix);
  const values = keys.length ? await redis.mget(...keys) : [];
  const tableRows = await prisma.$queryRaw<
    { key: string; value: string }[]
  >`SELECT key, value FROM cache_entries`;
  const entries = [...keys.map((key, i) => ({ key, value: values[i] ?? '' })), ...tableRows];
  const base = `${prefix}:v1:`;
  const wrong = entries.filter(({ key, value }) => {
    const rest = key.startsWith(base) ? key.slice(base.length) : null;
    if (rest?.startsWith('barcode:')) {
      const code = rest.slice('barcode:'.length);
      const filled = value === '~' || value.startsWith('lease:') || JSON.parse(value).barcode.key === code;
      return !canonical(code) || !filled;
    }
    if (rest?.startsWith('product:')) return !/^product:[1-9]\d*$/.test(rest);
    if (rest?.startsWith('product-barcodes:')) return !/^product-barcodes:[1-9]\d*$/.test(rest);
    // Page chunks: chunk 0 and up, no further than the chunk of the largest INTEGER id.
    if (rest?.startsWith('product-chunk:'))
      return !/^product-chunk:(0|[1-9]\d*)$/.test(rest) || Number(rest.slice(14)) > productChunkOf(INT4_MAX);
    return true;
  });
  return {
    wrong: wrong.map(({ key, value }) => `${key} = ${value.slice(0, 80)}`),
    redisKeys: keys.length,
    tableRows: tableRows.length,
    negative: entries.filter(({ value }) => value === '~').length,
  };
}
