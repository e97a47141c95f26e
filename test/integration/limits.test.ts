// Query limits and body limits over HTTP: a request over any limit is answered 400/413 with an
// error naming the limit, before any resolver runs (no query reaches the database), and the
// server keeps serving. Sandbox's introspection and the README's example queries stay within them.
import { gzipSync } from 'node:zlib';
import { SCAN } from '../../src/explorer/examples';
import { codesOf, startTestApp, TEST_TOKEN, type GraphQLResponse, type TestApp } from '../helpers/app';
import {
  aliasedQuery,
  DEAR_PRODUCT_PAGE_QUERY,
  nestedQuery,
  productPageQuery,
  SANDBOX_INTROSPECTION_QUERY,
} from '../helpers/queries';

const MAX_BODY_BYTES = 64 * 1024;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('limits', { MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
});
afterAll(() => app.stop());
beforeEach(() => {
  app.queries.length = 0;
});

const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}`, ...headers },
    body,
  });

describe.each([
  ['MAX_QUERY_DEPTH', nestedQuery(9), 'Query depth limit of 8 exceeded, found 9.'],
  ['MAX_QUERY_ALIASES', aliasedQuery(16), 'Aliases limit of 15 exceeded, found 16.'],
  [
    'MAX_QUERY_COST',
    // A full 100-product page (within the limit, see below) whose barcodes list their own barcodes.
    DEAR_PRODUCT_PAGE_QUERY,
    expect.stringMatching(/^Query Cost limit of 20000 exceeded, found \d+(\.\d+)?\.$/),
  ],
  [
    'MAX_QUERY_DIRECTIVES',
    `{ barcode(code: "1") { ${'id @include(if: true) '.repeat(51)}} }`,
    'Directives limit of 50 exceeded, found 51.',
  ],
])('%s', (limit, query, message) => {
  it('answers 400 with GRAPHQL_VALIDATION_FAILED naming the limit, and runs nothing', async () => {
    const response = await app.gql(query);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([{ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit } }]);
    expect(response.data).toBeUndefined();
    expect(app.queries).toEqual([]);
  });

  it('also guards a mutation sent in the same document: nothing is written', async () => {
    const sku = `LIMIT-${limit}`;
    // Without the limits, operationName would run the mutation and ignore the other operation.
    const document = `mutation Write { createProduct(input: { sku: "${sku}", name: "x" }) { id } } query Excess ${query}`;
    const response = await post(JSON.stringify({ query: document, operationName: 'Write' }));
    expect(response.status).toBe(400);
    expect(codesOf((await response.json()) as GraphQLResponse)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(await app.db.prisma.product.count({ where: { sku } })).toBe(0);
  });
});

it('MAX_QUERY_TOKENS: answers 400 with GRAPHQL_PARSE_FAILED before validation', async () => {
  const response = await app.gql(`{ ${'barcode(code: "1") { id } '.repeat(150)}}`);
  expect(response.status).toBe(400);
  expect(response.errors).toEqual([
    {
      message: 'Syntax Error: Document contains more that 1000 tokens. Parsing aborted.',
      locations: [expect.any(Object)],
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    },
  ]);
  expect(app.queries).toEqual([]);
});

describe('request bodies', () => {
  it(`answers a body over MAX_BODY_BYTES with 413, naming the limit`, async () => {
    const response = await post(
      JSON.stringify({ query: '{ cacheStats { hits } }', pad: 'x'.repeat(MAX_BODY_BYTES) }),
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      errors: [
        {
          message: `Request body is too large: at most ${MAX_BODY_BYTES} bytes`,
          extensions: { code: 'BAD_REQUEST', limit: 'MAX_BODY_BYTES' },
        },
      ],
    });
  });

  it('measures a compressed body after inflating it (a gzip bomb is refused, not inflated)', async () => {
    const inflated = JSON.stringify({
      query: '{ cacheStats { hits } }',
      pad: ' '.repeat(50 * MAX_BODY_BYTES),
    });
    const bomb = gzipSync(inflated);
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
    const response = await post(bomb, { 'content-encoding': 'gzip' });
    expect(response.status).toBe(413);
    expect(codesOf((await response.json()) as GraphQLResponse)).toEqual(['BAD_REQUEST']);
  });

  it('reads a plain application/json body exactly as body-parser reads every other spelling', async () => {
    // 'application/json' takes src/http/jsonBody.ts's own path; ';charset=utf-8' (no space) goes
    // through body-parser. Both must answer every body alike.
    const bodies: (string | Buffer)[] = [
      JSON.stringify({ query: '{ __typename }' }),
      `\u{feff}${JSON.stringify({ query: '{ __typename }' })}`,
      '\u{feff}{}',
      '',
      ' \n\t{"query": "{ __typename }"} ',
      '[]',
      '"{ __typename }"',
      'null',
      '{"query": ',
      '{"query": "{ __typename }"}x',
      Buffer.from([0x7b, 0x22, 0x71, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      JSON.stringify({ query: '{ cacheStats { hits } }', pad: 'x'.repeat(MAX_BODY_BYTES) }),
    ];
    for (const body of bodies) {
      const answer = async (contentType: string) => {
        const response = await post(body, { 'content-type': contentType });
        return { status: response.status, body: await response.text() };
      };
      expect(await answer('application/json')).toEqual(await answer('application/json;charset=utf-8'));
    }
  });

  it('refuses batched operations (an array body) without running any of them', async () => {
    const batch = [
      { query: `mutation { createProduct(input: { sku: "BATCHED", name: "x" }) { id } }` },
      { query: '{ barcode(code: "1") { id } }' },
    ];
    const response = await post(JSON.stringify(batch));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(app.queries).toEqual([]);
    expect(await app.db.prisma.product.count({ where: { sku: 'BATCHED' } })).toBe(0);
  });
});

describe('what stays within the limits', () => {
  it("passes Sandbox's introspection query with every option", async () => {
    const query = SANDBOX_INTROSPECTION_QUERY;
    const response = await app.gql<{ __schema: { types: { name: string }[] } }>(query);
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data!.__schema.types.map((t) => t.name)).toEqual(
      expect.arrayContaining(['Barcode', 'Product']),
    );
  });

  it("passes the README's Sandbox example and a full 100-product page", async () => {
    const page = productPageQuery();
    for (const query of [SCAN.query, page]) {
      const response = await app.gql(query);
      expect(response.status).toBe(200);
      expect(codesOf(response).filter((code) => code !== 'BAD_USER_INPUT')).toEqual([]); // one bad check digit
    }
  });

  it('serves 1000 codes through variables, as the `barcodes` cap allows', async () => {
    const codes = Array.from({ length: 1000 }, (_, i) => `VAR-${i}`);
    const response = await app.gql<{ barcodes: null[] }>(
      'query($codes: [String!]!) { barcodes(codes: $codes) { id } }',
      {
        codes,
      },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.barcodes).toHaveLength(1000);
  });
});

describe('in production', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await startTestApp('limits_prod', { NODE_ENV: 'production' });
  });
  afterAll(() => prod.stop());

  it('hides "Did you mean" suggestions, which would spell out the schema with introspection off', async () => {
    const dev = await app.gql('{ barcod(code: "1") { id } }');
    expect(dev.errors![0]!.message).toContain('Did you mean "barcode"');
    const response = await prod.gql('{ barcod(code: "1") { id } }');
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([
      {
        message: 'Cannot query field "barcod" on type "Query". [Suggestion hidden]?',
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
  });

  it('applies the same limits', async () => {
    const response = await prod.gql(nestedQuery(9));
    expect(response.status).toBe(400);
    expect(response.errors![0]!.extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'MAX_QUERY_DEPTH',
    });
  });
});
