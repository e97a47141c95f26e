// The key layout: unchanged on one Redis; on a cluster, hash-tagged into a fixed set of buckets
// whose slots spread evenly over masters that own equal slot ranges.
import calculateSlot from 'cluster-key-slot';
import {
  CLUSTER_BUCKET_TAGS,
  CLUSTER_KEY_BUCKETS,
  clusterBucket,
  createCacheKeys,
} from '../../src/cache/keys';

const SLOTS = 16384;

it('on one Redis, keys are the plain layout', () => {
  const keys = createCacheKeys('shop');
  expect(keys.namespace).toBe('shop:');
  expect(keys.barcode('04006381333931')).toBe('shop:v1:barcode:04006381333931');
  expect(keys.product(7)).toBe('shop:v1:product:7');
  expect(keys.productBarcodes(7)).toBe('shop:v1:product-barcodes:7');
});

it("on a cluster, each key carries its bucket's hash tag after the version, and stays under the namespace", () => {
  const keys = createCacheKeys('shop', { clusterBuckets: true });
  expect(keys.namespace).toBe('shop:');
  // Pinned: the bucket is part of the key format, a change would orphan every cached entry.
  expect(clusterBucket('barcode:04006381333931')).toBe(4);
  expect(clusterBucket('product:1')).toBe(0);
  expect(clusterBucket('product-barcodes:1')).toBe(5);
  expect(keys.barcode('04006381333931')).toBe('shop:v1:{b4-1r}:barcode:04006381333931');
  expect(keys.product(1)).toBe('shop:v1:{b0-31}:product:1');
  expect(keys.productBarcodes(1)).toBe('shop:v1:{b5-4}:product-barcodes:1');
  // Redis hashes the tag only: every key of a bucket is in the bucket's slot.
  expect(calculateSlot(keys.barcode('04006381333931'))).toBe(calculateSlot('b4-1r'));
});

it("has one tag per bucket, each tag's slot in the middle of its twelfth of the slot range", () => {
  expect(CLUSTER_BUCKET_TAGS).toHaveLength(CLUSTER_KEY_BUCKETS);
  const width = SLOTS / CLUSTER_KEY_BUCKETS;
  CLUSTER_BUCKET_TAGS.forEach((tag, bucket) => {
    const slot = calculateSlot(tag);
    expect(slot).toBeGreaterThanOrEqual((bucket + 0.25) * width);
    expect(slot).toBeLessThan((bucket + 0.75) * width);
  });
});

it.each([2, 3, 4, 6])(
  'gives each of %i masters with equal contiguous slot ranges the same number of buckets',
  (masters) => {
    const perMaster = new Array<number>(masters).fill(0);
    for (const tag of CLUSTER_BUCKET_TAGS) perMaster[Math.floor((calculateSlot(tag) * masters) / SLOTS)]!++;
    expect(perMaster).toEqual(new Array(masters).fill(CLUSTER_KEY_BUCKETS / masters));
  },
);

/** A valid GTIN-14 from 13 digits: its check digit makes the digit sum even, which a weak hash shows. */
function gtin14(body: string): string {
  const sum = [...body]
    .reverse()
    .reduce((total, digit, i) => total + Number(digit) * (i % 2 === 0 ? 3 : 1), 0);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

it('spreads entries evenly over the buckets (within 10% of the mean for 12,000 valid GTINs and 12,000 products)', () => {
  for (const name of [
    (i: number) => `barcode:${gtin14(String(400638100000 + i * 7).padStart(13, '0'))}`,
    (i: number) => `product:${i + 1}`,
  ]) {
    const counts = new Array<number>(CLUSTER_KEY_BUCKETS).fill(0);
    for (let i = 0; i < 12_000; i++) counts[clusterBucket(name(i))]!++;
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(100);
  }
});
