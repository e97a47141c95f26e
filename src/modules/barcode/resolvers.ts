// Thin barcode resolvers: parse the arguments, call a loader or the service.
import { badUserInput, notFound } from '../../graphql/errors';
import type { Resolvers } from '../../generated/graphql';
import type { Barcode as BarcodeRow } from '../../generated/prisma/client';
import { isGtinSymbology } from './gtin';
import { keyOf } from './service';

export const MAX_LOOKUP_CODES = 1000;

export const barcodeResolvers: Resolvers = {
  Query: {
    barcode: (_, { code }, { loaders }) => loaders.barcodeByKey.load(keyOf(code, 'code')),
    barcodes: (_, { codes }, { loaders }) => {
      if (codes.length > MAX_LOOKUP_CODES) {
        throw badUserInput(`Too many codes: at most ${MAX_LOOKUP_CODES}, got ${codes.length}`, {
          field: 'codes',
        });
      }
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
    product: async (barcode, _, { loaders }) =>
      // Only null if the product was deleted between the two reads of this request.
      (await loaders.productById.load(barcode.productId)) ??
      Promise.reject(notFound(`Product ${barcode.productId} does not exist`)),
  },
};
