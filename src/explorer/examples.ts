// The README's two examples, the one source for both the README and the explorer's first screen:
// test/unit/examples.test.ts checks that README.md shows exactly these, so the two cannot drift.
// (A TypeScript module, not .graphql files: codegen reads every src/**/*.graphql as schema.)

export interface Example {
  /** The operation's name (GraphiQL titles the tab with it). */
  readonly name: string;
  readonly query: string;
}

/** The first tab: equivalent forms of one barcode, an unknown and a malformed code, a product search. */
export const SCAN: Example = {
  name: 'Scan',
  query: `query Scan {
  one: barcode(code: "4000000000013") {
    code
    gtin
    symbology
    product {
      sku
      name
      priceCents
    }
  }
  receiving: barcodes(codes: ["4000000000020", "04000000000020", "not-known", "4000000000021"]) {
    code
    product {
      name
    }
  }
  products(first: 3, filter: { search: "coffee" }) {
    totalCount
    edges {
      cursor
      node {
        sku
        name
        barcodes {
          code
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`,
};

/** The second tab: a product with two barcodes, then one of them changed. */
export const RECEIVE: Example = {
  name: 'Receive',
  query: `mutation Receive {
  createProduct(
    input: {
      sku: "OAT-1L"
      name: "Oat Milk 1L"
      priceCents: 249
      barcodes: [{ code: "036000291452" }, { code: "SHELF-42" }]
    }
  ) {
    id
    sku
    barcodes {
      code
      gtin
      symbology
    }
  }
  updateBarcode(code: "SHELF-42", input: { active: false }) {
    code
    active
  }
}
`,
};

/** In the explorer's tab order. */
export const EXAMPLES: readonly Example[] = [SCAN, RECEIVE];
