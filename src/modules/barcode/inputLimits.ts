// The barcodes module's input limits (src/graphql/inputBoundary.ts): each string's column size.
import type { InputLimits } from '../../graphql/inputBoundary';
import { ID_MAX_LENGTH } from '../../graphql/input';
import { MAX_CODE_LENGTH } from './gtin';
import { MAX_LOOKUP_CODES } from './resolvers';
import { MAX_UPSERT_ITEMS } from './service';

const code = { maxLength: MAX_CODE_LENGTH };
const id = { maxLength: ID_MAX_LENGTH };

export const barcodeInputLimits: InputLimits = {
  'Query.barcode(code)': code,
  // Each code is checked at its position by normalizeCode (1-48 printable ASCII characters, so no
  // NUL or surrogate), which answers a malformed one there without failing the others.
  'Query.barcodes(codes)': { maxItems: MAX_LOOKUP_CODES, perPosition: true },
  'Mutation.addBarcode(productId)': id,
  'Mutation.updateBarcode(code)': code,
  'Mutation.deleteBarcode(code)': code,
  'Mutation.upsertBarcodes(items)': { maxItems: MAX_UPSERT_ITEMS },
  'BarcodeInput.code': code,
  'UpdateBarcodeInput.code': code,
  'UpdateBarcodeInput.productId': id,
  'UpsertBarcodeInput.code': code,
  'UpsertBarcodeInput.productId': id,
};
