// The benchmark's requests: what each workload sends, over a data set of `products` products with
// two barcodes each (see seedBenchData). Kept apart from the runner so the counting test can send
// exactly the requests the benchmark sends.
import { demoEan13, demoUpcA } from '../src/db/demoData';
import { encodeCursor } from '../src/modules/product/cursor';
import type { Mode, Workload } from './report';
import { StaleReadCounter, UNIQUE_PRICES_FROM } from './staleReads';

/** The write token the benchmark's servers accept (mixed workload). */
export const BENCH_TOKEN = 'bench-token-0123456789';
/** Share of the mixed workload's requests that are writes. */
export const WRITE_SHARE = 0.05;

/** The mixed workload's writes; each kind costs its own number of SQL statements. */
export const WRITE_KINDS = ['updateProduct', 'updateBarcode'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

/** Single lookups draw from this many codes (both codes of the first HOT_CODES / 2 products). */
export const HOT_CODES = 10_000;

export interface BenchRequest {
  readonly body: string;
  /** null for a read. */
  readonly write: WriteKind | null;
  /**
   * For the stale-read count: the product whose price a mixed read shows, or whose price a write
   * sets (with the price, unique to this write).
   */
  readonly price?: { readonly product: number; readonly value?: number };
}

/** Unique in this process, so a price seen in an answer names the one write that set it. */
let nextPrice = UNIQUE_PRICES_FROM;

/** Zipf(1.0) over n ranks: rank k (1-based) is drawn with weight 1/k. Returns 0-based ranks. */
export function zipfSampler(n: number, random: () => number = Math.random): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) cumulative[k - 1] = total += 1 / k;
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Every seeded code: product n has an EAN-13 and a UPC-A. */
export function allCodes(products: number): string[] {
  return Array.from({ length: products }, (_, i) => [demoEan13(i + 1), demoUpcA(i + 1)]).flat();
}

const SINGLE_QUERY = 'query ($c: String!) { barcode(code: $c) { code gtin product { name priceCents } } }';

const read = (query: string, variables: Record<string, unknown>): BenchRequest => ({
  write: null,
  body: JSON.stringify({ query, variables }),
});

export function createWorkloads(products: number, random: () => number = Math.random) {
  const randomCode = (among = products) => {
    const n = 1 + Math.floor(random() * among);
    return random() < 0.5 ? demoEan13(n) : demoUpcA(n);
  };
  // A till scans a working set, not the whole catalogue: single lookups repeat within a window,
  // which is what a whole-response cache (the response-cache mode) needs to hit at all.
  const hotProducts = Math.min(products, HOT_CODES / 2);
  const zipfRank = zipfSampler(products * 2, random);
  /** Rank r is product r/2+1's EAN-13 (even r) or UPC-A (odd r): the same order as allCodes. */
  const codeOfRank = (rank: number) => (rank & 1 ? demoUpcA : demoEan13)((rank >> 1) + 1);

  /** A write with Zipf popularity (the same as reads'): a product's price or a barcode's flag. */
  function write(
    kind: WriteKind = random() < 0.5 ? 'updateProduct' : 'updateBarcode',
    rank = zipfRank(),
  ): BenchRequest {
    const product = (rank >> 1) + 1;
    if (kind === 'updateProduct') {
      const value = nextPrice++;
      const query =
        'mutation ($id: ID!, $p: NonNegativeInt) { updateProduct(id: $id, input: { priceCents: $p }) { id } }';
      return {
        write: kind,
        body: JSON.stringify({ query, variables: { id: String(product), p: value } }),
        price: { product, value },
      };
    }
    const query =
      'mutation ($c: String!, $a: Boolean) { updateBarcode(code: $c, input: { active: $a }) { id } }';
    return {
      write: kind,
      body: JSON.stringify({ query, variables: { c: codeOfRank(rank), a: random() < 0.9 } }),
    };
  }

  /** The mixed workload's read of the code of `rank`: it shows the product's price, so it is judged for staleness. */
  const mixedRead = (rank: number): BenchRequest => ({
    ...read('query ($c: String!) { barcode(code: $c) { code active product { name priceCents } } }', {
      c: codeOfRank(rank),
    }),
    price: { product: (rank >> 1) + 1 },
  });

  /** 95% single lookups with Zipf popularity, 5% writes through the API. */
  function mixed(): BenchRequest {
    const rank = zipfRank();
    return random() < WRITE_SHARE ? write(undefined, rank) : mixedRead(rank);
  }

  /** The next request of a workload; the floor mode always sends the empty query. */
  function next(mode: Mode, workload: Workload): BenchRequest {
    if (mode === 'floor') return read('{ __typename }', {});
    switch (workload) {
      case 'single':
        return read(SINGLE_QUERY, { c: randomCode(hotProducts) });
      case 'list50':
        return read('query ($c: [String!]!) { barcodes(codes: $c) { code product { name } } }', {
          c: Array.from({ length: 50 }, randomCode),
        });
      case 'page20': {
        const offset = Math.floor(random() * Math.max(1, products - 20));
        return read(
          'query ($a: String) { products(first: 20, after: $a) { edges { node { name barcodes { code product { sku } } } } } }',
          { a: offset ? encodeCursor(offset) : null },
        );
      }
      case 'mixed':
        return mixed();
    }
  }

  /** Hot code number `i` (0-based) as a single lookup: walking them all warms a response cache. */
  function hotSingle(i: number): BenchRequest {
    const n = 1 + ((i >> 1) % hotProducts);
    return read(SINGLE_QUERY, { c: i & 1 ? demoUpcA(n) : demoEan13(n) });
  }

  /** One counter over the whole run: writes of one window are still what later reads are judged by. */
  const stale = new StaleReadCounter();

  return { next, write, mixedRead, hotSingle, hotCodes: hotProducts * 2, stale };
}
