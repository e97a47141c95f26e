// BENCHMARK BASELINES ONLY: the ways people would otherwise build the lookups, wired in by
// bench/server.ts to compare against. Not a feature; nothing in src/ uses them.
//   naive      - one Prisma findUnique per barcode and per product (Prisma 7 merges findUnique
//                calls made in the same tick into one query, so this is already partly batched);
//   n-plus-one - the same with findFirst, which Prisma does not merge: the classic N+1;
//   batched    - the project's per-request DataLoaders straight to Prisma, no cache.
import DataLoader from 'dataloader';
import type { Prisma } from '../src/db/database';
import { createLoaders, type Loaders } from '../src/graphql/loaders';

export type BaselineMode = 'naive' | 'n-plus-one' | 'batched';

/** DataLoaders that do not batch: each key is its own call, as a resolver calling Prisma directly would be. */
function perKey<K, V>(load: (key: K) => Promise<V>): DataLoader<K, V> {
  return new DataLoader((keys: readonly K[]) => Promise.all(keys.map(load)), { batch: false });
}

/** One Prisma call per barcode and per product: `findUnique` (merged by Prisma per tick) or `findFirst` (not). */
function perKeyLoaders(prisma: Prisma, find: 'findUnique' | 'findFirst'): Loaders {
  const barcodesByProductId = perKey((productId: number) =>
    prisma.barcode.findMany({ where: { productId }, orderBy: { id: 'asc' } }),
  );
  return {
    barcodeByKey: perKey((key: string) =>
      find === 'findUnique'
        ? prisma.barcode.findUnique({ where: { key } })
        : prisma.barcode.findFirst({ where: { key } }),
    ),
    productById: perKey((id: number) =>
      find === 'findUnique'
        ? prisma.product.findUnique({ where: { id } })
        : prisma.product.findFirst({ where: { id } }),
    ),
    barcodesByProductId,
    productChunks: null,
    barcodesOfProduct: (product) => barcodesByProductId.load(product.id),
    productReadWith: () => undefined,
  };
}

export function baselineLoaders(mode: BaselineMode): (prisma: Prisma) => Loaders {
  switch (mode) {
    case 'batched':
      return (prisma) => createLoaders(prisma);
    case 'naive':
      return (prisma) => perKeyLoaders(prisma, 'findUnique');
    case 'n-plus-one':
      return (prisma) => perKeyLoaders(prisma, 'findFirst');
  }
}
