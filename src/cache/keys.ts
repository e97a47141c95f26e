// Cache key layout, the one place the format version lives. Bump CACHE_FORMAT_VERSION whenever
// the shape of a cached value changes: a deploy then reads only keys written in its own shape.
//
// On a Redis Cluster the keys carry a hash tag, one of CLUSTER_KEY_BUCKETS buckets picked by a
// stable hash of the entry's name, because a multi-key command must keep to one hash slot: with
// keys spread over all 16384 slots, a 50-key batch was about 50 MGETs (one per slot); with the
// buckets it is at most CLUSTER_KEY_BUCKETS, whatever the batch's size. On one Redis a hash tag
// means nothing (one MGET per batch either way), so its keys stay as they were.
export const CACHE_FORMAT_VERSION = 'v1';

/**
 * How many hash-tag buckets a cluster's keys are spread over: the most MGETs (and lease, fill
 * and UNLINK calls) one batch costs, and the most masters the cache can use. 12 gives 4 buckets
 * to each of 3 masters, 3 to each of 4, 2 to each of 6. Part of the key format: instances that
 * share a cluster must agree on it, so it is a constant, not a setting.
 */
export const CLUSTER_KEY_BUCKETS = 12;

/**
 * The hash tag of each bucket, found so that bucket i's slot lies in the middle of the i-th
 * twelfth of the slot range: a cluster whose masters own equal contiguous ranges (what
 * `redis-cli --cluster create` and managed clusters set up) gets the same number of buckets on
 * every master, when that number divides 12. test/unit/keys.test.ts checks the slots.
 */
export const CLUSTER_BUCKET_TAGS: readonly string[] = [
  'b0-31',
  'b1-p',
  'b2-20',
  'b3-2c',
  'b4-1r',
  'b5-4',
  'b6-13',
  'b7-d',
  'b8-3',
  'b9-d',
  'b10-2s',
  'b11-11',
];

export interface CacheKeys {
  /** `${prefix}:` — everything this project writes starts with it (cache:clear removes exactly that). */
  readonly namespace: string;
  barcode(canonicalKey: string): string;
  product(id: number): string;
  /** A product's barcodes, as one list in id order (`Product.barcodes`, the admin page). */
  productBarcodes(productId: number): string;
  /** The product rows of page chunk n (productChunkOf), in id order: unfiltered products pages. */
  productChunk(chunk: number): string;
}

/**
 * How many consecutive product ids one page chunk covers: a 20-product page reads 1-2 chunks.
 * Part of the key format (a chunk's number names its key): changing it needs a version bump.
 */
export const PRODUCT_CHUNK_SIZE = 32;

/**
 * The page chunk that holds product `id`: chunk n holds ids 32n to 32n + 31. Chunk 0 also holds
 * any id below 0 (only a writer outside the API can make one), so that a first page read from
 * chunks starts where the page query does, at the lowest id.
 */
export const productChunkOf = (id: number) => Math.max(0, Math.floor(id / PRODUCT_CHUNK_SIZE));

/** The last id page chunk n holds. */
export const productChunkEnd = (chunk: number) => (chunk + 1) * PRODUCT_CHUNK_SIZE - 1;

export interface CacheKeyOptions {
  /**
   * Hash-tag every key into one of CLUSTER_KEY_BUCKETS buckets: on when REDIS_CLUSTER_NODES is
   * set (see createCache), so that every instance sharing the cache builds the same keys.
   * @default false
   */
  readonly clusterBuckets?: boolean;
}

export function createCacheKeys(prefix: string, options: CacheKeyOptions = {}): CacheKeys {
  const base = `${prefix}:${CACHE_FORMAT_VERSION}`;
  const key = options.clusterBuckets
    ? (name: string) => `${base}:{${CLUSTER_BUCKET_TAGS[clusterBucket(name)]}}:${name}`
    : (name: string) => `${base}:${name}`;
  return {
    namespace: `${prefix}:`,
    barcode: (canonicalKey) => key(`barcode:${canonicalKey}`),
    product: (id) => key(`product:${id}`),
    productBarcodes: (productId) => key(`product-barcodes:${productId}`),
    productChunk: (chunk) => key(`product-chunk:${chunk}`),
  };
}

/**
 * The bucket of an entry's name (`barcode:<key>`): FNV-1a (32 bits), then murmur3's finalizer,
 * modulo the bucket count. FNV-1a alone will not do: its lowest bit is the parity of the name's
 * odd characters, and every valid GTIN has an even digit sum (its check digit sees to that), so
 * barcodes would fill only the even buckets. Part of the key format, so it must never change: it
 * depends on the name's UTF-16 code units only, not on the process, platform or Node.js version.
 */
export function clusterBucket(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % CLUSTER_KEY_BUCKETS;
}
