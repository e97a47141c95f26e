// Thousands of random and hostile requests against the real server process (production mode,
// Postgres, Redis): every answer is well-formed JSON (a GraphQL result or a GraphQL-shaped error,
// never a 5xx, a stack or SQL), the process stays up and answers correctly afterwards, its memory
// settles near where it started, and the database and cache hold nothing the requests should not
// have left: no rows, and cache keys only for valid codes (the documented negative entries).
// The requests are the hostile ones that are not about an input's type (query bombs, batches,
// bodies, content types, auth, writes that fail on the data); every bad value of every argument
// and input field is schemaFuzz.test.ts's, derived from the schema.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import Redis from 'ioredis';
import { openMigratedDatabase } from '../helpers/database';
import { cacheEntriesNoRequestShouldLeave } from '../helpers/cacheEntries';
import { aliasedQuery, nestedQuery } from '../helpers/queries';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';
import { startServerProcess, type ServerProcess } from '../helpers/serverProcess';

const TOKEN = `fuzz-token-${randomBytes(12).toString('hex')}`;
// 2,000: as many of these kinds as the 3,000 sent before the type-driven ones moved to schemaFuzz.test.ts.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2000);
const CONCURRENCY = 8;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** What a fuzz request may be answered with; anything else (a 5xx above all) is a failure. */
const ALLOWED_STATUS = new Set([200, 400, 401, 405, 413, 415]);
const ALLOWED_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
]);
/** Traces of internals that must never reach a client. */
const LEAKS = /\n\s+at |stacktrace|prisma|postgres(ql)?:\/\/|redis:\/\/|ECONNREFUSED|SQLSTATE|relation "/i;

interface FuzzRequest {
  readonly kind: string;
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly query?: string; // GET: the URL's query string
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** The status this kind must get, when it is deterministic. */
  readonly status?: number;
  /** The error codes this kind may get (all of them must be among these). */
  readonly codes?: readonly string[];
}

const json = (
  payload: unknown,
  headers: Record<string, string> = {},
): Pick<FuzzRequest, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(payload),
});

// ---- Arbitraries: one per family of hostile input ----

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ maxLength: 60 }),
  fc.stringMatching(/^\d{6,15}$/), // GTIN-shaped, mostly with a wrong check digit
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    "'; DROP TABLE barcodes; --",
    '${jndi:ldap://x}',
    '\ud800',
    '%s%n',
    'a'.repeat(5000),
  ),
);
const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** barcode → product → barcodes → product …, deeper than MAX_QUERY_DEPTH (8). */
const deep = fc.integer({ min: 9, max: 400 }).map((depth) => ({
  kind: 'deep',
  ...json({ query: nestedQuery(depth) }),
  status: 400,
  codes: ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED'],
}));

const aliases = fc.integer({ min: 16, max: 300 }).map((n) => ({
  kind: 'aliases',
  ...json({ query: aliasedQuery(n) }),
  status: 400,
  codes: ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED'],
}));

const GRAPHQL_TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '!',
  '$',
  '@',
  '...',
  '=',
  '|',
  'query',
  'mutation',
  'fragment',
  'on',
  'barcode',
  'barcodes',
  'product',
  'products',
  'code',
  'codes',
  'id',
  'first',
  '"x"',
  '1',
  'true',
  'null',
  '__schema',
  '__typename',
  '#',
  '"""',
  '\\u',
  '\u0000',
  '\u{1f600}',
];
const soup = fc
  .array(fc.oneof(fc.constantFrom(...GRAPHQL_TOKENS), printable), { maxLength: 200 })
  .map((parts) => ({
    kind: 'soup',
    ...json({ query: parts.join(' ') }),
    codes: [
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'BAD_REQUEST',
      'BAD_USER_INPUT',
      'OPERATION_RESOLUTION_FAILURE',
    ],
  }));

const invalidJson = fc
  .oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.constantFrom(
      '{"query": ',
      '{"query": "{ id }"',
      '[{',
      '{"query": "\\u12"}',
      'undefined',
      "{'query': 1}",
      '\u{feff}{}',
    ),
    fc.string({ maxLength: 100 }),
  )
  .map((body) => ({
    kind: 'invalid-json',
    headers: { 'content-type': 'application/json' },
    body,
    codes: ['BAD_REQUEST'],
  }));

const wrongContentType = fc
  .tuple(
    fc.constantFrom(
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/xml',
      'application/graphql',
      'image/png',
      'application/json; charset=utf-16',
      'application/json; charset=latin-9',
      '',
    ),
    fc.constantFrom('{"query":"{ barcode(code: \\"1\\") { id } }"}', 'query=%7B%20__typename%20%7D', '<q/>'),
  )
  .map(([type, body]) => ({
    kind: 'content-type',
    headers: type ? { 'content-type': type } : ({} as Record<string, string>),
    body: type ? body : new TextEncoder().encode(body),
    codes: ['BAD_REQUEST'],
  }));

const batch = fc
  .array(
    fc.constantFrom(
      { query: '{ barcode(code: "1") { id } }' },
      { query: `mutation { deleteProduct(id: "1") }` },
      1,
      null,
    ),
    {
      maxLength: 5,
    },
  )
  .map((operations) => ({
    kind: 'batch',
    ...json(operations, { authorization: `Bearer ${TOKEN}` }),
    status: 400,
    codes: ['BAD_REQUEST'],
  }));

const overlong = fc.integer({ min: 1, max: 3 }).map((extra) => ({
  kind: 'overlong',
  ...json({ query: '{ __typename }', variables: { pad: 'x'.repeat(1_000_000 + extra) } }),
  status: 413,
  codes: ['BAD_REQUEST'],
}));

/** Every mutation of the schema, with arguments the service accepts if the token is good. */
const MUTATIONS = [
  `mutation { createProduct(input: { sku: "FUZZ-NEW", name: "x" }) { id } }`,
  `mutation { updateProduct(id: "1", input: { name: "hacked" }) { id } }`,
  `mutation { deleteProduct(id: "1") }`,
  `mutation { addBarcode(productId: "1", input: { code: "FUZZ-CODE" }) { id } }`,
  `mutation { updateBarcode(code: "FUZZ-SEED-1", input: { active: false }) { id } }`,
  `mutation { deleteBarcode(code: "FUZZ-SEED-1") }`,
  `mutation { upsertBarcodes(items: [{ code: "FUZZ-UPSERT", productId: "1" }]) { id } }`,
];
const badAuthorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    `Basic ${TOKEN}`,
    TOKEN,
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(1)}`,
    `Bearer ${TOKEN} ${TOKEN}`,
    `Bearer ${TOKEN.toUpperCase()}`,
  ),
  printable.map((text) => `Bearer ${text}`),
);
const unauthenticated = fc
  .tuple(fc.constantFrom(...MUTATIONS), badAuthorization)
  .map(([query, authorization]) => ({
    kind: 'unauthenticated',
    ...json({ query }, authorization === undefined ? {} : { authorization }),
    status: 401,
    codes: ['UNAUTHENTICATED'],
  }));

/**
 * Writes with the right token that fail on the data, not on a type (the schema fuzzer,
 * schemaFuzz.test.ts, sends every bad value of every input): a sku that exists, and a batch whose
 * last item names a missing product, so that its valid items before it must roll back.
 */
const invalidWrite = fc
  .oneof(
    anyText.map((name) => ({
      query: 'mutation($n: String!) { createProduct(input: { sku: "FUZZ-SEED", name: $n }) { id } }',
      variables: { n: `${name}x` },
    })),
    fc.array(anyText, { minLength: 1, maxLength: 5 }).map((codes) => ({
      query: 'mutation($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { id } }',
      variables: {
        items: [
          ...codes.map((code) => ({ code, productId: '1' })),
          { code: 'FUZZ-LAST', productId: '99999' },
        ],
      },
    })),
  )
  .map((payload) => ({
    kind: 'invalid-write',
    ...json(payload, { authorization: `Bearer ${TOKEN}` }),
    status: 200,
    codes: ['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT'],
  }));

const viaGet = fc
  .tuple(fc.oneof(printable, fc.constantFrom(...MUTATIONS, '{ barcode(code: "1") { id } }')), fc.boolean())
  .map(([query, preflight]) => ({
    kind: 'get',
    method: 'GET' as const,
    query: `?query=${encodeURIComponent(query)}`,
    headers: preflight ? { 'apollo-require-preflight': 'true' } : ({} as Record<string, string>),
    codes: [
      'BAD_REQUEST',
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'OPERATION_RESOLUTION_FAILURE',
    ],
  }));

const hostileRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 2, arbitrary: deep },
  { weight: 2, arbitrary: aliases },
  { weight: 3, arbitrary: soup },
  { weight: 3, arbitrary: invalidJson },
  { weight: 2, arbitrary: wrongContentType },
  { weight: 1, arbitrary: batch },
  { weight: 1, arbitrary: overlong },
  { weight: 3, arbitrary: unauthenticated },
  { weight: 3, arbitrary: invalidWrite },
  { weight: 1, arbitrary: viaGet },
);

// ---- The run ----

let server: ServerProcess;
let opened: Awaited<ReturnType<typeof openMigratedDatabase>>;
const prefix = uniquePrefix('fuzz');
let redis: Redis;

beforeAll(async () => {
  opened = await openMigratedDatabase('fuzz');
  const product = await opened.db.prisma.product.create({
    data: {
      sku: 'FUZZ-SEED',
      name: 'Seed',
      barcodes: { create: [{ code: 'FUZZ-SEED-1', key: 'FUZZ-SEED-1', symbology: 'CODE_128' }] },
    },
  });
  expect(product.id).toBe(1); // the mutations above name product 1
  server = await startServerProcess({
    NODE_ENV: 'production',
    DATABASE_URL: opened.testDb.url,
    REDIS_URL: SHARED_REDIS_URL,
    CACHE_PREFIX: prefix,
    API_TOKEN: TOKEN,
  });
  redis = new Redis(SHARED_REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await clearPrefix(prefix);
  await opened?.close();
});

/** A request not answered in this time counts as a hang (a failure, not a test timeout). */
const ANSWER_TIMEOUT_MS = 15_000;

async function send(request: FuzzRequest): Promise<{ status: number; text: string; contentType: string }> {
  try {
    const response = await fetch(request.method === 'GET' ? server.url + request.query : server.url, {
      method: request.method ?? 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    const contentType = response.headers.get('content-type') ?? '';
    return { status: response.status, text: await response.text(), contentType };
  } catch (error) {
    return { status: 0, text: `no answer: ${String(error)}`, contentType: '' };
  }
}

/** Why an answer is not acceptable for its request, or null when it is. */
function problemWith(
  request: FuzzRequest,
  answer: { status: number; text: string; contentType: string },
): string | null {
  if (!ALLOWED_STATUS.has(answer.status)) return `status ${answer.status}`;
  if (request.status !== undefined && answer.status !== request.status)
    return `status ${answer.status}, expected ${request.status}`;
  if (!answer.contentType.includes('json')) return `content-type ${answer.contentType}`;
  if (LEAKS.test(answer.text)) return `leaks internals`;
  let body: { data?: unknown; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'body is not JSON';
  }
  if (body.errors === undefined)
    return answer.status === 200 && 'data' in body ? null : 'neither data nor errors';
  if (!Array.isArray(body.errors) || body.errors.length === 0) return 'errors is not a non-empty list';
  for (const error of body.errors) {
    const code = String(error.extensions?.code);
    if (typeof error.message !== 'string' || !error.message) return 'an error without a message';
    if (!ALLOWED_CODES.has(code)) return `code ${code}`;
    if (request.codes && !request.codes.includes(code))
      return `code ${code}, expected one of ${request.codes.join(', ')}`;
  }
  return null;
}

async function memory(): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)![1]);
  return { rss: read('process_resident_memory_bytes'), heap: read('nodejs_heap_size_used_bytes') };
}

/** The lowest of a few samples a little apart: what memory settles at, not a GC's mid-point. */
async function settledMemory(): Promise<{ rss: number; heap: number }> {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    samples.push(await memory());
  }
  return { rss: Math.min(...samples.map((s) => s.rss)), heap: Math.min(...samples.map((s) => s.heap)) };
}

async function snapshotDatabase() {
  const [products, barcodes] = await Promise.all([
    opened.db.prisma.product.findMany({ orderBy: { id: 'asc' } }),
    opened.db.prisma.barcode.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return { products, barcodes };
}

async function runAll(requests: readonly FuzzRequest[]) {
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const answer = await send(request);
      const problem = problemWith(request, answer);
      if (problem) problems.push(`${request.kind}: ${problem}: ${answer.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return problems;
}

it(`answers ${REQUESTS} hostile requests well, stays up, settles its memory and stores nothing it should not`, async () => {
  const requests = fc.sample(hostileRequest, { numRuns: REQUESTS, seed: SEED });
  const kinds = new Map<string, number>();
  for (const r of requests) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
  expect([...kinds.keys()].sort()).toEqual(
    [
      'aliases',
      'batch',
      'content-type',
      'deep',
      'get',
      'invalid-json',
      'invalid-write',
      'overlong',
      'soup',
      'unauthenticated',
    ].sort(),
  );

  // Warm up on a slice of the same mix, so the baseline includes JIT, pools and Apollo's caches.
  expect(await runAll(requests.slice(0, 300))).toEqual([]);
  const before = await settledMemory();
  const database = await snapshotDatabase();

  const started = Date.now();
  const problems = await runAll(requests);
  const seconds = (Date.now() - started) / 1000;
  const after = await settledMemory();

  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    `fuzz seed ${SEED}: ${REQUESTS} requests in ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)}/s, ` +
      `${CONCURRENCY} connections); RSS ${mb(before.rss)} → ${mb(after.rss)} MiB, heap ${mb(before.heap)} → ` +
      `${mb(after.heap)} MiB; kinds ${JSON.stringify(Object.fromEntries(kinds))}`,
  );
  expect(problems.slice(0, 5)).toEqual([]);

  // Still up, and still right.
  expect(server.child.exitCode).toBeNull();
  const check = await send({
    kind: 'check',
    ...json({ query: '{ barcode(code: " FUZZ-SEED-1 ") { code product { sku } } }' }),
  });
  expect(JSON.parse(check.text)).toEqual({
    data: { barcode: { code: 'FUZZ-SEED-1', product: { sku: 'FUZZ-SEED' } } },
  });
  // No request was an internal error the server had to log.
  expect(server.output()).not.toMatch(/unexpected error|Unexpected error processing request/i);

  // Generous bounds: Apollo keeps a bounded LRU of parsed documents (~30 MiB), which random
  // queries fill; a leak of even 1 KiB per request would show as far more than this.
  expect(after.heap - before.heap).toBeLessThan(64 * 2 ** 20);
  expect(after.rss - before.rss).toBeLessThan(160 * 2 ** 20);

  // Nothing written.
  expect(await snapshotDatabase()).toEqual(database);

  // The cache holds only entries for valid codes (negative entries, leases) and existing rows.
  const cache = await cacheEntriesNoRequestShouldLeave(redis, prefix, opened.db.prisma);
  expect(cache.wrong.slice(0, 5)).toEqual([]);
}, 120_000);
