// The benchmark's requests: what each workload sends, over a data set of `products` products with
// two barcodes each (see seedBenchData). Kept apart from the runner so the counting test can send
// exactly the requests the benchmark sends.
import { demoEan13, demoUpcA } from '../src/db/demoData';
import { encodeCursor } from '../src/modules/product/cursor';
import type { Mode, Workload } from './report';

/** The write token the benchmark's servers accept (mixed workload). */
export const BENCH_TOKEN = 'bench-token-0123456789';
/** Share of the mixed workload's requests that are writes. */
export const WRITE_SHARE = 0.05;

/** The mixed workload's writes; each kind costs its own number of SQL statements. */
export const WRITE_KINDS = ['updateProduct', 'updateBarcode'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

export interface BenchRequest {
  readonly body: string;
  /** null for a read. */
  readonly write: WriteKind | null;
}

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

const read = (query: string, variables: Record<string, unknown>): BenchRequest => ({
  write: null,
  body: JSON.stringify({ query, variables }),
});

export function createWorkloads(products: number, random: () => number = Math.random) {
  const randomCode = () => {
    const n = 1 + Math.floor(random() * products);
    return random() < 0.5 ? demoEan13(n) : demoUpcA(n);
  };
  const zipfRank = zipfSampler(products * 2, random);
  /** Rank r is product r/2+1's EAN-13 (even r) or UPC-A (odd r): the same order as allCodes. */
  const codeOfRank = (rank: number) => (rank & 1 ? demoUpcA : demoEan13)((rank >> 1) + 1);

  /** A write with Zipf popularity (the same as reads'): a product's price or a barcode's flag. */
  function write(kind: WriteKind = random() < 0.5 ? 'updateProduct' : 'updateBarcode', rank = zipfRank()) {
    const body =
      kind === 'updateProduct'
        ? {
            query:
              'mutation ($id: ID!, $p: NonNegativeInt) { updateProduct(id: $id, input: { priceCents: $p }) { id } }',
            variables: { id: String((rank >> 1) + 1), p: Math.floor(random() * 10_000) },
          }
        : {
            query:
              'mutation ($c: String!, $a: Boolean) { updateBarcode(code: $c, input: { active: $a }) { id } }',
            variables: { c: codeOfRank(rank), a: random() < 0.9 },
          };
    return { write: kind, body: JSON.stringify(body) };
  }

  /** 95% single lookups with Zipf popularity, 5% writes through the API. */
  function mixed(): BenchRequest {
    const rank = zipfRank();
    if (random() < WRITE_SHARE) return write(undefined, rank);
    return read('query ($c: String!) { barcode(code: $c) { code active product { name priceCents } } }', {
      c: codeOfRank(rank),
    });
  }

  /** The next request of a workload; the floor mode always sends the empty query. */
  function next(mode: Mode, workload: Workload): BenchRequest {
    if (mode === 'floor') return read('{ __typename }', {});
    switch (workload) {
      case 'single':
        return read('query ($c: String!) { barcode(code: $c) { code gtin product { name priceCents } } }', {
          c: randomCode(),
        });
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

  return { next, write };
}
