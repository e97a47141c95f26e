// Thin barcode resolvers: parse the arguments, call a loader or the service.
import { notFound } from '../../graphql/errors';
import type { Resolvers } from '../../generated/graphql';
import type { Barcode as BarcodeRow, Product as ProductRow } from '../../generated/prisma/client';
import type { Loaders } from '../../graphql/loaders';
import { isGtinSymbology } from './gtin';
import { keyOf } from './service';

/** Checked at the input boundary (inputLimits.ts). */
export const MAX_LOOKUP_CODES = 1000;

async function loadProduct(loaders: Loaders, id: number): Promise<ProductRow> {
  // Only null if the product was deleted between the two reads of this request.
  return (await loaders.productById.load(id)) ?? Promise.reject(notFound(`Product ${id} does not exist`));
}

export const barcodeResolvers: Resolvers = {
  Query: {
    barcode: (_, { code }, { loaders }) => loaders.barcodeByKey.load(keyOf(code, 'code')),
    barcodes: (_, { codes }, { loaders }) => {
      // A malformed code fails only its own position: an Error value in a list is how graphql-js
      // reports a per-item error (null there, plus an error whose path ends at the index), so the
      // other positions still resolve. The generated type cannot express that, hence the cast.
      const perPosition = codes.map((code, index) => {
        try {
          return loaders.barcodeByKey.load(keyOf(code, `codes[${index}]`));
        } catch (error) {
          return error as Error;
        }
      });
      return Promise.all(perPosition) as Promise<(BarcodeRow | null)[]>;
    },
  },
  Mutation: {
    addBarcode: (_, { productId, input }, { services }) => services.barcodes.add(productId, input),
    updateBarcode: (_, { code, input }, { services }) => services.barcodes.update(code, input),
    deleteBarcode: (_, { code }, { services }) => services.barcodes.delete(code),
    upsertBarcodes: (_, { items }, { services }) => services.barcodes.upsertMany(items),
  },
  Barcode: {
    gtin: (barcode) => (isGtinSymbology(barcode.symbology) ? barcode.key : null),
    product: (barcode, _, { loaders }) =>
      loaders.productReadWith(barcode) ?? loadProduct(loaders, barcode.productId),
  },
};
