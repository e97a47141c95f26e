// The query limits as graphql-js applies them: each limit lets an operation exactly at it through
// and rejects one step over it with a message naming the limit; introspection is exempt.
import fc from 'fast-check';
import { buildSchema, GraphQLError, parse, specifiedRules, validate, type ValidationRule } from 'graphql';
import { DEFAULTS, loadConfig, type QueryLimits } from '../../src/config/config';
import { queryLimitOptions } from '../../src/graphql/queryLimits';
import { loadTypeDefs } from '../../src/graphql/schema';
import {
  DEAR_PRODUCT_PAGE_QUERY,
  nestedQuery,
  productPageQuery,
  SANDBOX_INTROSPECTION_QUERY,
} from '../helpers/queries';

const schema = buildSchema(loadTypeDefs().join('\n'));
const DEFAULT_LIMITS = loadConfig({}).queryLimits;

/** The errors of parsing and validating `query` under the limits (parse errors thrown as one). */
function check(query: string, limits: QueryLimits = DEFAULT_LIMITS): readonly GraphQLError[] {
  const { validationRules, parseOptions } = queryLimitOptions(limits, { introspection: true });
  let document;
  try {
    document = parse(query, parseOptions);
  } catch (error) {
    return [error as GraphQLError];
  }
  return validate(schema, document, [...specifiedRules, ...(validationRules as ValidationRule[])]);
}
const messages = (query: string, limits?: QueryLimits) => check(query, limits).map((e) => e.message);
const limitNames = (query: string, limits?: QueryLimits) =>
  check(query, limits).map((e) => e.extensions.limit);

it('uses the documented defaults', () => {
  expect(DEFAULT_LIMITS).toEqual({
    depth: DEFAULTS.MAX_QUERY_DEPTH,
    aliases: DEFAULTS.MAX_QUERY_ALIASES,
    cost: DEFAULTS.MAX_QUERY_COST,
    tokens: DEFAULTS.MAX_QUERY_TOKENS,
    directives: DEFAULTS.MAX_QUERY_DIRECTIVES,
  });
  expect(DEFAULT_LIMITS).toEqual({ depth: 8, aliases: 15, cost: 20_000, tokens: 1000, directives: 50 });
});

describe('MAX_QUERY_DEPTH', () => {
  it('lets a query exactly at the limit through and names the limit one level deeper', () => {
    expect(messages(nestedQuery(8))).toEqual([]);
    expect(check(nestedQuery(9))).toHaveLength(1);
    expect(messages(nestedQuery(9))).toEqual(['Query depth limit of 8 exceeded, found 9.']);
    expect(limitNames(nestedQuery(9))).toEqual(['MAX_QUERY_DEPTH']);
  });

  it('follows the configured value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), (depth) => {
        const limits = { ...DEFAULT_LIMITS, depth, cost: 1e9 };
        expect(messages(nestedQuery(depth), limits)).toEqual([]);
        expect(limitNames(nestedQuery(depth + 1), limits)).toEqual(['MAX_QUERY_DEPTH']);
      }),
      { numRuns: 30 },
    );
  });

  it('does not count fragments as a level, but counts the fields inside them', () => {
    const viaFragments = `{ barcode(code: "1") { ...B } }
      fragment B on Barcode { product { ...P } }
      fragment P on Product { barcodes { ... on Barcode { product { barcodes { product { barcodes { code } } } } } } }`;
    expect(messages(viaFragments)).toEqual([]); // 8 fields deep
    expect(limitNames(viaFragments.replace('{ code }', '{ product { id } }'))).toEqual(['MAX_QUERY_DEPTH']);
  });
});

describe('MAX_QUERY_ALIASES', () => {
  const aliased = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `a${i}: cacheStats { hits }`).join(' ')} }`;

  it('allows 15 aliases and rejects 16', () => {
    expect(messages(aliased(15))).toEqual([]);
    expect(messages(aliased(16))).toEqual(['Aliases limit of 15 exceeded, found 16.']);
    expect(limitNames(aliased(16))).toEqual(['MAX_QUERY_ALIASES']);
  });

  it('exempts __typename', () => {
    expect(messages(`{ ${Array.from({ length: 40 }, (_, i) => `t${i}: __typename`).join(' ')} }`)).toEqual(
      [],
    );
  });
});

describe('MAX_QUERY_COST', () => {
  it('lets a full 100-product page with every field through', () => {
    expect(messages(productPageQuery())).toEqual([]);
  });

  it('rejects a 100-product page that nests two more levels, naming the cost', () => {
    // Still within MAX_QUERY_DEPTH (8 fields deep), so the cost alone rejects it.
    const dear = DEAR_PRODUCT_PAGE_QUERY;
    expect(messages(dear)).toEqual([
      expect.stringMatching(/^Query Cost limit of 20000 exceeded, found \d+(\.\d+)?\.$/),
    ]);
    expect(limitNames(dear)).toEqual(['MAX_QUERY_COST']);
    expect(limitNames(productPageQuery(), { ...DEFAULT_LIMITS, cost: 1000 })).toEqual(['MAX_QUERY_COST']);
  });
});

describe('MAX_QUERY_DIRECTIVES', () => {
  const directed = (n: number) =>
    `{ cacheStats { ${Array.from({ length: n }, (_, i) => `h${i % 10}: hits @include(if: true)`).join(' ')} } }`;

  it('allows 50 directives and rejects 51', () => {
    const limits = { ...DEFAULT_LIMITS, aliases: 1000 };
    expect(messages(directed(50), limits)).toEqual([]);
    expect(messages(directed(51), limits)).toEqual(['Directives limit of 50 exceeded, found 51.']);
    expect(limitNames(directed(51), limits)).toEqual(['MAX_QUERY_DIRECTIVES']);
  });
});

describe('MAX_QUERY_TOKENS', () => {
  // `{`, then `cacheStats { hits }` n times (4 tokens each), then `}`.
  const tokens = (n: number) => `{ ${'cacheStats { hits } '.repeat(n)}}`;

  it("stops the parser one token past the limit with graphql-js's own syntax error", () => {
    expect(messages(tokens(249))).toEqual([]); // 998 tokens
    const [error] = check(tokens(250)); // 1002 tokens
    expect(error!.message).toBe('Syntax Error: Document contains more that 1000 tokens. Parsing aborted.');
  });

  it('follows the configured value', () => {
    // `{ barcodes ( codes : [` … `] ) { code } }` is 12 tokens around the codes.
    const inline = (codes: number) =>
      `{ barcodes(codes: [${Array.from({ length: codes }, (_, i) => `"C${i}"`).join(' ')}]) { code } }`;
    const limits = { ...DEFAULT_LIMITS, tokens: 5000 };
    expect(messages(inline(4988), limits)).toEqual([]);
    expect(messages(inline(4989), limits)).toEqual([
      'Syntax Error: Document contains more that 5000 tokens. Parsing aborted.',
    ]);
  });
});

it("passes Sandbox's introspection query, with every option, under the defaults", () => {
  const query = SANDBOX_INTROSPECTION_QUERY;
  expect(messages(query)).toEqual([]);
  // Depth and cost exempt it: it is 13 levels deep, far beyond a limit of 8.
  expect(messages(query, { ...DEFAULT_LIMITS, depth: 2, cost: 10 })).toEqual([]);
});

it('hides "Did you mean" suggestions only when introspection is off', () => {
  const withSuggestions = queryLimitOptions(DEFAULT_LIMITS, { introspection: true });
  const without = queryLimitOptions(DEFAULT_LIMITS, { introspection: false });
  expect(without.plugins.length).toBe(withSuggestions.plugins.length + 1);
  expect(withSuggestions.allowBatchedHttpRequests).toBe(false);
  expect(without.allowBatchedHttpRequests).toBe(false);
});
