// The interface every cache backend implements (redis, database, memory), and the lease protocol
// that keeps a slow reader from putting an old row back after a write invalidated it.
//
// Leases (as in memcache): a read that misses leaves a lease marker in the key's place and
// returns its token; the reader then loads the row from the database and fills the key only if
// the marker is still its lease. An invalidation deletes the key, marker included, so a fill that
// started before a write committed finds its lease voided and writes nothing. Readers that find a
// marker already there share its token: whichever fills first wins, and the value is the same.

/** One slot per requested key: the stored value, or a miss with the lease to fill it with. */
export type LeasedRead = { readonly value: string } | { readonly lease: string | null };

export interface LeasedFill {
  readonly key: string;
  readonly lease: string;
  readonly value: string;
  readonly ttlSeconds: number;
}

export type BackendName = 'redis' | 'database' | 'memory';

export interface CacheBackend {
  readonly name: BackendName;
  /**
   * Values for the keys, in order; misses get a lease. One round trip when everything is cached
   * (on Redis: one MGET); a second one, for the misses only, to lease them.
   */
  readLeased(keys: readonly string[]): Promise<LeasedRead[]>;
  /** Stores each value whose key still holds the given lease. One round trip. */
  fillLeased(fills: readonly LeasedFill[]): Promise<void>;
  /** Plain reads, no leases (cache:check, tests). */
  get(keys: readonly string[]): Promise<(string | null)[]>;
  /** Plain unconditional write (cache:check, tests). */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Removes the keys (and any lease on them). */
  delete(keys: readonly string[]): Promise<void>;
  /** Removes every key under the namespace; returns how many. */
  clear(namespace: string): Promise<number>;
  /** Throws unless the backend answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long a lease lives: far longer than one database read, short enough that a crashed reader's lease soon frees the key. */
export const LEASE_TTL_MS = 10_000;

export const LEASE_MARKER = 'lease:';
export const isLease = (value: string) => value.startsWith(LEASE_MARKER);
