// The products module's input limits (src/graphql/inputBoundary.ts): each string's column size.
import type { InputLimits } from '../../graphql/inputBoundary';
import { ID_MAX_LENGTH, INT4_MAX } from '../../graphql/input';
import { MAX_CODE_LENGTH } from '../barcode/gtin';
import { CURSOR_MAX_LENGTH } from './cursor';
import { DESCRIPTION_MAX, MAX_BARCODES_PER_PRODUCT, NAME_MAX, SKU_MAX } from './service';

const product = {
  sku: { maxLength: SKU_MAX },
  name: { maxLength: NAME_MAX },
  description: { maxLength: DESCRIPTION_MAX },
  // NonNegativeInt (graphql-scalars) takes any safe integer; the column is a Postgres INTEGER.
  priceCents: { min: 0, max: INT4_MAX },
};

export const productInputLimits: InputLimits = {
  'Query.product(id)': { maxLength: ID_MAX_LENGTH },
  'Query.products(after)': { maxLength: CURSOR_MAX_LENGTH },
  // Matched against name and sku: longer text can match neither.
  'ProductFilter.search': { maxLength: NAME_MAX },
  'ProductFilter.sku': { maxLength: SKU_MAX },
  'ProductFilter.barcode': { maxLength: MAX_CODE_LENGTH },
  'Mutation.updateProduct(id)': { maxLength: ID_MAX_LENGTH },
  'Mutation.deleteProduct(id)': { maxLength: ID_MAX_LENGTH },
  ...Object.fromEntries(
    Object.entries(product).map(([field, limit]) => [`CreateProductInput.${field}`, limit]),
  ),
  'CreateProductInput.barcodes': { maxItems: MAX_BARCODES_PER_PRODUCT },
  ...Object.fromEntries(
    Object.entries(product).map(([field, limit]) => [`UpdateProductInput.${field}`, limit]),
  ),
};
