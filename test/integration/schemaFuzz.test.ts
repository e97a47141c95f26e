// The schema-driven fuzzer (test/helpers/schemaFuzz.ts) against the real server process
// (production mode, a throwaway Postgres database, its own Redis key prefix): every boundary value
// of every argument and input field, the others valid. For every request: no 5xx and no
// INTERNAL_SERVER_ERROR; every error names the fuzzed input (schemaFuzzOracle.ts); no U+FFFD comes
// back that was not sent (text stored that was not Unicode); a failed write changed no row and no
// cache key; no bad value left a cache entry. Afterwards the server is up and logged no error.
// FUZZ_SEED=<n> repeats a run (the seed picks the random texts and the order).
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import Redis from 'ioredis';
import { inputLimits } from '../../src/graphql/schema';
import { normalizeCode } from '../../src/modules/barcode/gtin';
import { captureDrained } from '../helpers/capture';
import { cacheEntriesNoRequestShouldLeave } from '../helpers/cacheEntries';
import { openMigratedDatabase } from '../helpers/database';
import { clearPrefix, keysUnder, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';
import { schemaFuzzCases, type FuzzCase } from '../helpers/schemaFuzz';
import { errorNames, namesTarget } from '../helpers/schemaFuzzOracle';
import { executableSchema, EXTRA_BAD_VALUES, FUZZ_SEED_ROWS, validSeeds } from '../helpers/schemaFuzzSeeds';
import { startServerProcess, type ServerProcess } from '../helpers/serverProcess';

const TOKEN = `schema-fuzz-${randomBytes(12).toString('hex')}`;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RANDOM_TEXTS = Number(process.env.FUZZ_RANDOM_TEXTS ?? 2);
const QUERY_CONCURRENCY = 8;
/** Codes a fuzz answer may carry; INTERNAL_SERVER_ERROR above all may not. */
const ALLOWED_CODES = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT']);
/** A request not answered in this time counts as a hang. */
const ANSWER_TIMEOUT_MS = 15_000;

let server: ServerProcess;
let opened: Awaited<ReturnType<typeof openMigratedDatabase>>;
let redis: Redis;
const prefix = uniquePrefix('schema-fuzz');

interface Answer {
  readonly status: number;
  readonly body: {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  } | null;
  readonly text: string;
}

beforeAll(async () => {
  opened = await openMigratedDatabase('schema_fuzz');
  await opened.db.prisma.product.create({
    data: {
      ...FUZZ_SEED_ROWS.product,
      barcodes: {
        create: [
          { code: FUZZ_SEED_ROWS.code, key: FUZZ_SEED_ROWS.code, symbology: 'CODE_128' },
          { code: FUZZ_SEED_ROWS.gtin, key: normalizeCode(FUZZ_SEED_ROWS.gtin).key, symbology: 'EAN_13' },
        ],
      },
    },
  });
  await opened.db.prisma.product.create({ data: { sku: 'FUZZ-OTHER', name: 'Other', priceCents: 100 } });
  server = await startServerProcess({
    NODE_ENV: 'production',
    DATABASE_URL: opened.testDb.url,
    REDIS_URL: SHARED_REDIS_URL,
    CACHE_PREFIX: prefix,
    // Long enough that no entry expires between a write's two snapshots.
    CACHE_NEGATIVE_TTL_SECONDS: '86400',
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

async function send(query: string, variables: Record<string, unknown>): Promise<Answer> {
  try {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: Answer['body'] = null;
    try {
      body = JSON.parse(text);
    } catch {
      // reported by problemWith
    }
    return { status: response.status, body, text };
  } catch (error) {
    return { status: 0, body: null, text: `no answer: ${String(error)}` };
  }
}

/** Why an answer to a case is not acceptable, or null. */
function problemWith(fuzz: FuzzCase, answer: Answer): string | null {
  if (answer.status !== 200 && answer.status !== 400) return `HTTP ${answer.status}`;
  if (!answer.body) return 'body is not JSON';
  for (const error of answer.body.errors ?? []) {
    const code = String(error.extensions?.code);
    if (!ALLOWED_CODES.has(code)) return `code ${code}`;
    if (!namesTarget(errorNames(error), fuzz.target))
      return `error names ${JSON.stringify(errorNames(error))}, not ${fuzz.target}`;
  }
  if (!answer.body.errors && !('data' in answer.body)) return 'neither data nor errors';
  // A value that is not Unicode (a lone surrogate) comes back as U+FFFD if it was stored.
  if (answer.text.includes('\ufffd') && !JSON.stringify(fuzz.variables).includes('\ufffd'))
    return 'answered a U+FFFD it was not sent (stored text that is not Unicode)';
  return null;
}

/** Every row of every table the API writes, and every cache entry (Redis keys and the table). */
async function snapshot() {
  const sql = opened.db.prisma;
  const keys = await keysUnder(redis, prefix);
  keys.sort();
  const [[tables], values] = await Promise.all([
    sql.$queryRaw<[{ tables: unknown }]>`SELECT json_build_object(
      'products', (SELECT json_agg(p ORDER BY id) FROM products p),
      'barcodes', (SELECT json_agg(b ORDER BY id) FROM barcodes b),
      'cacheEntries', (SELECT json_agg(json_build_array(key, value) ORDER BY key) FROM cache_entries),
      'journal', (SELECT json_agg(cache_key ORDER BY id) FROM cache_missed_invalidations)) AS tables`,
    keys.length ? redis.mget(...keys) : Promise.resolve([]),
  ]);
  return {
    tables: tables.tables as Record<string, unknown[] | null>,
    redis: keys.map((key, i) => [key, values[i]]),
  };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Puts the seeded rows back after a write that succeeded, and empties the cache it filled. */
async function restore(seeded: Snapshot): Promise<void> {
  const sql = opened.db.prisma;
  await sql.$transaction([
    sql.$executeRaw`DELETE FROM barcodes`,
    sql.$executeRaw`DELETE FROM products`,
    sql.$executeRaw`DELETE FROM cache_entries`,
    sql.$executeRaw`INSERT INTO products SELECT * FROM json_populate_recordset(NULL::products, ${JSON.stringify(seeded.tables.products)}::json)`,
    sql.$executeRaw`INSERT INTO barcodes SELECT * FROM json_populate_recordset(NULL::barcodes, ${JSON.stringify(seeded.tables.barcodes)}::json)`,
  ]);
  // Those statements are captured like any external write: their journal rows must be drained
  // before the next snapshot, or the drain would show up as a change made by the next write.
  await captureDrained(opened.db.sessions);
  await clearPrefix(prefix);
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const order = fc.sample(fc.double({ min: 0, max: 1, noNaN: true }), { seed, numRuns: items.length });
  return items
    .map((item, i) => [order[i]!, item] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, item]) => item);
}

it('answers every boundary value of every argument and input field without an internal error, naming the field, writing nothing', async () => {
  const [product] = await opened.db.prisma.product.findMany({ where: { sku: FUZZ_SEED_ROWS.product.sku } });
  const cases = shuffled(
    schemaFuzzCases(executableSchema(), {
      limits: inputLimits,
      valid: validSeeds({ productId: product!.id, code: FUZZ_SEED_ROWS.code }),
      seed: SEED,
      randomTexts: RANDOM_TEXTS,
      extraBadValues: EXTRA_BAD_VALUES,
    }),
    SEED,
  );
  const problems: string[] = [];
  const report = (fuzz: FuzzCase, problem: string, text: string) =>
    problems.push(`${fuzz.coordinate} ${fuzz.target} <${fuzz.kind}>: ${problem}: ${text.slice(0, 300)}`);
  const started = Date.now();

  // Reads, several at a time.
  const queries = cases.filter((c) => c.operation === 'query');
  let next = 0;
  await Promise.all(
    Array.from({ length: QUERY_CONCURRENCY }, async () => {
      while (next < queries.length) {
        const fuzz = queries[next++]!;
        const answer = await send(fuzz.query, fuzz.variables);
        const problem = problemWith(fuzz, answer);
        if (problem) report(fuzz, problem, answer.text);
      }
    }),
  );

  // No bad value left a cache entry: only valid codes (rows, negative entries) and existing ids.
  const cache = await cacheEntriesNoRequestShouldLeave(redis, prefix, opened.db.prisma);
  expect(cache.wrong.slice(0, 5)).toEqual([]);
  expect(cache.negative).toBeGreaterThan(0); // the check looked in the right place

  // Writes one at a time, each between two snapshots: a failed one must have changed nothing. A
  // write that was accepted (a boundary value can be valid) is undone, so every write starts from
  // the seeded rows.
  const seeded = await snapshot();
  let before = seeded;
  let accepted = 0;
  for (const fuzz of cases.filter((c) => c.operation === 'mutation')) {
    const answer = await send(fuzz.query, fuzz.variables);
    const problem = problemWith(fuzz, answer);
    if (problem) report(fuzz, problem, answer.text);
    const after = await snapshot();
    if (isDeepStrictEqual(after, before)) continue;
    if (answer.body?.errors?.length) report(fuzz, 'a failed write changed rows or cache keys', answer.text);
    else accepted++;
    await restore(seeded);
    before = await snapshot();
  }
  const seconds = (Date.now() - started) / 1000;
  const kinds = new Map<string, number>();
  for (const c of cases)
    kinds.set(c.kind.replace(/:.*/, ''), (kinds.get(c.kind.replace(/:.*/, '')) ?? 0) + 1);
  console.log(
    `schema fuzz seed ${SEED} (FUZZ_SEED=${SEED} to repeat): ${cases.length} requests ` +
      `(${queries.length} queries, ${cases.length - queries.length} mutations, ${accepted} of them accepted) ` +
      `over ${new Set(cases.map((c) => c.coordinate)).size} inputs in ${seconds.toFixed(1)} s; ` +
      `${problems.length} problems; by type ${JSON.stringify(Object.fromEntries(kinds))}` +
      problems
        .slice(0, 20)
        .map((p) => `\n  ${p}`)
        .join(''),
  );
  expect(problems.length).toBe(0);

  // Still up and still right, and nothing went wrong inside it.
  expect(server.child.exitCode).toBeNull();
  const check = await send('{ barcode(code: " FUZZ-SEED-1 ") { code product { sku } } }', {});
  expect(check.body).toEqual({ data: { barcode: { code: 'FUZZ-SEED-1', product: { sku: 'FUZZ-SEED' } } } });
  const logged = server
    .output()
    .split('\n')
    .filter((line) => /"level":(5|6)\d/.test(line) || /unexpected error/i.test(line));
  expect(logged).toEqual([]);
}, 120_000);
