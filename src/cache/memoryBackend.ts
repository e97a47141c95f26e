// A bounded in-process LRU (lru-cache), for single-process development and as an upper bound in
// benchmarks. Not shared between processes, so never use it behind several instances.
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isLease, LEASE_MARKER, LEASE_TTL_MS, type CacheBackend, type LeasedRead } from './backend';

export function createMemoryBackend(maxEntries = 100_000): CacheBackend {
  const entries = new LRUCache<string, string>({ max: maxEntries, ttlAutopurge: false });
  const read = (key: string) => entries.get(key) ?? null;
  return {
    name: 'memory',
    async readLeased(keys) {
      const base = randomUUID();
      return keys.map((key, index): LeasedRead => {
        const value = read(key);
        if (value !== null && !isLease(value)) return { value };
        if (value !== null) return { lease: value };
        const lease = `${LEASE_MARKER}${base}:${index}`;
        entries.set(key, lease, { ttl: LEASE_TTL_MS });
        return { lease };
      });
    },
    async fillLeased(fills) {
      for (const { key, lease, value, ttlSeconds } of fills) {
        if (read(key) === lease) entries.set(key, value, { ttl: ttlSeconds * 1000 });
      }
    },
    async get(keys) {
      return keys.map((key) => {
        const value = read(key);
        return value === null || isLease(value) ? null : value;
      });
    },
    async set(key, value, ttlSeconds) {
      entries.set(key, value, { ttl: ttlSeconds * 1000 });
    },
    async delete(keys) {
      for (const key of keys) entries.delete(key);
    },
    async clear(namespace) {
      let removed = 0;
      for (const key of [...entries.keys()]) {
        if (key.startsWith(namespace)) removed += entries.delete(key) ? 1 : 0;
      }
      return removed;
    },
    async ping() {},
    async close() {
      entries.clear();
    },
  };
}
