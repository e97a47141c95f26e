// The Redis keys this instance could not invalidate, kept in memory until recovery deletes them
// from Redis. Recovery replays them from here, not from the journal, so that it does not depend
// on the journal's round trip having finished (or on Postgres at all).
import type { CacheBackend } from './backend';

/** Beyond this many keys that missed an invalidation, recovery clears the whole namespace instead. */
export const MAX_TRACKED_MISSED_KEYS = 10_000;

export class MissedInvalidations {
  private readonly keys = new Set<string>();
  /** Too many keys were missed to track: recovery clears the namespace. */
  private all = false;

  /** @param maxKeys @default MAX_TRACKED_MISSED_KEYS */
  constructor(private readonly maxKeys = MAX_TRACKED_MISSED_KEYS) {}

  add(keys: readonly string[]): void {
    if (this.all) return;
    for (const key of keys) this.keys.add(key);
    if (this.keys.size > this.maxKeys) {
      this.all = true;
      this.keys.clear();
    }
  }

  /** Everything was missed (a clear that could not reach Redis): recovery clears the namespace. */
  markAll(): void {
    this.all = true;
    this.keys.clear();
  }

  get pending(): boolean {
    return this.all || this.keys.size > 0;
  }

  /**
   * Deletes what was missed so far from Redis (or clears the namespace) and forgets it; returns
   * how many keys went. Keys missed meanwhile stay pending; on failure, everything stays.
   */
  async replay(remote: Pick<CacheBackend, 'delete' | 'clear'>, namespace: string): Promise<number> {
    if (this.all) {
      this.all = false;
      this.keys.clear();
      try {
        return await remote.clear(namespace);
      } catch (error) {
        this.all = true;
        throw error;
      }
    }
    const keys = [...this.keys];
    if (keys.length === 0) return 0;
    await remote.delete(keys);
    for (const key of keys) this.keys.delete(key);
    return keys.length;
  }
}
