// GraphQL documents shared by the limit tests: queries at and past the limits, and the
// introspection query Sandbox sends.
import { getIntrospectionQuery } from 'graphql';

/** barcode → product → barcodes → product …, `depth` fields deep (MAX_QUERY_DEPTH counts fields). */
export function nestedQuery(depth: number): string {
  const path = [
    'barcode(code: "1")',
    ...Array.from({ length: depth - 2 }, (_, i) => (i % 2 ? 'barcodes' : 'product')),
  ];
  return `{ ${path.join(' { ')} { ${path.length % 2 ? 'code' : 'id'} ${'} '.repeat(path.length)}}`;
}

/** `count` aliased barcode lookups. */
export const aliasedQuery = (count: number) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: barcode(code: "${i}") { id }`).join(' ')} }`;

/** graphql-js's introspection query with every option on, as Sandbox asks for the schema. */
export const SANDBOX_INTROSPECTION_QUERY = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});

/** A 100-product page with every product and barcode field; `extra` goes inside each barcode's product. */
export const productPageQuery = (extra = '') =>
  `{ products(first: 100) { totalCount edges { cursor node { id sku name description priceCents createdAt updatedAt
    barcodes { id code gtin symbology active createdAt updatedAt product { id sku name ${extra} } } } }
    pageInfo { hasNextPage endCursor } } }`;

/** The same page with each barcode's product's barcodes too: 8 fields deep, over MAX_QUERY_COST. */
export const DEAR_PRODUCT_PAGE_QUERY = productPageQuery(
  'barcodes { id code gtin symbology active product { id sku name } }',
);
