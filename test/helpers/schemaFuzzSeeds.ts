// This API's table for the schema fuzzer (schemaFuzz.ts): valid values by coordinate and by type,
// with real ids and codes of seeded rows, so that each case's other arguments are accepted and its
// bad value is what the resolver sees; and the bad values that are this API's own rules (GTIN check
// digits, cursors, page sizes), by the input's name. A new field needs a line here only if its
// valid values are narrower than its type's (a required scalar of a new type needs one for that type).
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { encodeCursor } from '../../src/modules/product/cursor';
import { loadTypeDefs, resolvers } from '../../src/graphql/schema';
import type { ValidSeeds } from './schemaFuzz';

/** Rows the fuzzer's database starts with, named by the values the table hands out. */
export interface SeedRows {
  readonly productId: number;
  readonly code: string;
}

export const FUZZ_SEED_ROWS = {
  product: { sku: 'FUZZ-SEED', name: 'Seed' },
  code: 'FUZZ-SEED-1',
  gtin: '4006381333931',
} as const;

export function validSeeds(rows: SeedRows): ValidSeeds {
  const id = () => String(rows.productId);
  const freshCode = (fresh: () => number) => `FZ-${fresh()}`;
  return {
    byCoordinate: {
      'Query.barcode(code)': () => rows.code,
      'Query.barcodes(codes)': () => rows.code,
      'Query.product(id)': id,
      'Query.products(first)': () => 5,
      'Query.products(after)': () => encodeCursor(rows.productId),
      'Query.products(filter)': () => ({ search: 'seed' }),
      'Mutation.addBarcode(productId)': id,
      'Mutation.updateBarcode(code)': () => rows.code,
      'Mutation.updateProduct(id)': id,
      'BarcodeInput.code': freshCode,
      'UpsertBarcodeInput.code': freshCode,
      'UpsertBarcodeInput.productId': id,
      'CreateProductInput.sku': (fresh) => `FZ-SKU-${fresh()}`,
      'CreateProductInput.name': () => 'Fuzzed',
    },
    byType: {
      ID: id,
      String: () => 'fuzz',
      Int: () => 1,
      Float: () => 1,
      Boolean: () => true,
      NonNegativeInt: () => 1,
      DateTime: () => '2026-01-01T00:00:00.000Z',
    },
  };
}

const BAD_CODES = [
  '4006381333932', // EAN-13 with a wrong check digit
  '036000291453', // UPC-A with a wrong check digit
  '1234567', // all digits, no GTIN length
  ' é ', // not printable ASCII
  '\u200bFUZZ-SEED-1', // a zero-width space is not trimmed
];

/** Bad values of this API's own rules, by the input's name (schemaFuzz.ts FuzzOptions). */
export const EXTRA_BAD_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  code: BAD_CODES,
  codes: BAD_CODES,
  barcode: BAD_CODES,
  first: [101],
  after: [
    encodeCursor(0),
    encodeCursor(2 ** 31),
    `${encodeCursor(1)}=`,
    Buffer.from('product:01').toString('base64url'),
  ],
  sku: ['a\u0001b'],
  name: ['\u001b[2J'],
};

/** The executable schema, built as Apollo builds it (src/graphql/apollo.ts), plus `extraTypeDefs`. */
export function executableSchema(extraTypeDefs: readonly string[] = []): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: [...loadTypeDefs(), ...extraTypeDefs],
    resolvers: resolvers as never,
  });
}
