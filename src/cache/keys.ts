// Cache key layout, the one place the format version lives. Bump CACHE_FORMAT_VERSION whenever
// the shape of a cached value changes: a deploy then reads only keys written in its own shape.
export const CACHE_FORMAT_VERSION = 'v1';

export interface CacheKeys {
  /** `${prefix}:` — everything this project writes starts with it (cache:clear removes exactly that). */
  readonly namespace: string;
  barcode(canonicalKey: string): string;
  product(id: number): string;
  /** A product's barcodes, as one list in id order (`Product.barcodes`, the admin page). */
  productBarcodes(productId: number): string;
}

export function createCacheKeys(prefix: string): CacheKeys {
  const base = `${prefix}:${CACHE_FORMAT_VERSION}`;
  return {
    namespace: `${prefix}:`,
    barcode: (canonicalKey) => `${base}:barcode:${canonicalKey}`,
    product: (id) => `${base}:product:${id}`,
    productBarcodes: (productId) => `${base}:product-barcodes:${productId}`,
  };
}
