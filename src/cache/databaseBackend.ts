// The database cache table (cache_entries, Django's createcachetable): what serves when Redis is
// unreachable. Same lease protocol as Redis, in SQL: a miss inserts a lease row, a fill updates
// the row only where it still holds that lease, and a delete removes row and lease alike.
// Expired rows are ignored by every read and pruned now and then.
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../db/database';
import { isLease, LEASE_MARKER, LEASE_TTL_MS, type CacheBackend, type LeasedRead } from './backend';

/** Prune expired rows at most this often (ms), piggybacked on fills. */
const PRUNE_INTERVAL_MS = 60_000;

export function createDatabaseBackend(prisma: Prisma): CacheBackend {
  let lastPrune = 0;
  const pruneExpired = async () => {
    if (Date.now() - lastPrune < PRUNE_INTERVAL_MS) return;
    lastPrune = Date.now();
    await prisma.$executeRaw`DELETE FROM cache_entries WHERE expires_at <= now()`;
  };

  return {
    name: 'database',
    async readLeased(keys) {
      if (keys.length === 0) return [];
      const base = `${LEASE_MARKER}${randomUUID()}:`;
      // One statement: live rows as they are; for the other keys a lease row is inserted, or an
      // expired row is taken over. A key whose live row appeared concurrently comes back in
      // neither part and is read as a miss without a lease (it is loaded but not filled).
      const rows = await prisma.$queryRaw<{ key: string; value: string }[]>`
        WITH wanted AS (SELECT DISTINCT unnest(${keys}::text[]) AS key),
        live AS (
          SELECT c.key, c.value FROM cache_entries c JOIN wanted w ON w.key = c.key WHERE c.expires_at > now()
        ),
        leased AS (
          INSERT INTO cache_entries (key, value, expires_at)
          SELECT w.key, ${base} || md5(w.key), now() + ${LEASE_TTL_MS} * interval '1 millisecond'
          FROM wanted w WHERE w.key NOT IN (SELECT key FROM live)
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
            WHERE cache_entries.expires_at <= now()
          RETURNING key, value
        )
        SELECT key, value FROM live UNION ALL SELECT key, value FROM leased`;
      const byKey = new Map(rows.map((row) => [row.key, row.value]));
      return keys.map((key): LeasedRead => {
        const value = byKey.get(key);
        if (value === undefined) return { lease: null };
        return isLease(value) ? { lease: value } : { value };
      });
    },
    async fillLeased(fills) {
      if (fills.length === 0) return;
      await prisma.$executeRaw`
        UPDATE cache_entries AS c
        SET value = f.value, expires_at = now() + f.ttl * interval '1 second'
        FROM (
          SELECT unnest(${fills.map((f) => f.key)}::text[]) AS key,
                 unnest(${fills.map((f) => f.lease)}::text[]) AS lease,
                 unnest(${fills.map((f) => f.value)}::text[]) AS value,
                 unnest(${fills.map((f) => f.ttlSeconds)}::int[]) AS ttl
        ) AS f
        WHERE c.key = f.key AND c.value = f.lease`;
      await pruneExpired();
    },
    async get(keys) {
      if (keys.length === 0) return [];
      const rows = await prisma.$queryRaw<{ key: string; value: string }[]>`
        SELECT key, value FROM cache_entries WHERE key = ANY(${keys}::text[]) AND expires_at > now()`;
      const byKey = new Map(rows.map((row) => [row.key, row.value]));
      return keys.map((key) => {
        const value = byKey.get(key);
        return value === undefined || isLease(value) ? null : value;
      });
    },
    async set(key, value, ttlSeconds) {
      await prisma.$executeRaw`
        INSERT INTO cache_entries (key, value, expires_at) VALUES (${key}, ${value}, now() + ${ttlSeconds} * interval '1 second')
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`;
    },
    async delete(keys) {
      if (keys.length) await prisma.$executeRaw`DELETE FROM cache_entries WHERE key = ANY(${keys}::text[])`;
    },
    async clear(namespace) {
      const pattern = `${namespace.replace(/[\\%_]/g, '\\$&')}%`;
      return prisma.$executeRaw`DELETE FROM cache_entries WHERE key LIKE ${pattern}`;
    },
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    async close() {},
  };
}
