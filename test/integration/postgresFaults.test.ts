// Postgres faults, on the test's own database only (its connections are ended with
// pg_terminate_backend, filtered by database name; the shared server is never touched): the
// database refusing connections for a while, a connection ended in the middle of a transaction,
// and every connection ended again and again under load.
//
// Reads the cache can answer keep answering; everything that needs the database answers
// SERVICE_UNAVAILABLE with `retryable: true` at once (never INTERNAL_SERVER_ERROR, never a hang);
// no write is half applied, checked on a fresh connection; the outage is logged once, not once
// per request.
import { Client } from 'pg';
import { describeLatencies } from '../helpers/latency';
import { createProduct, lookup, startLoggedApp, waitFor, type LoggedApp } from '../helpers/loggedApp';
import { admin, allowConnections, databaseUrl, terminateConnections } from '../helpers/database';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

interface ErrorBody {
  message: string;
  extensions?: Record<string, unknown>;
}

const UPSERT = `mutation ($items: [UpsertBarcodeInput!]!) { upsertBarcodes(items: $items) { code } }`;

let app: LoggedApp;
const prefix = uniquePrefix('pg-faults');

beforeAll(async () => {
  // Redis (the shared server, under a prefix of this file's own) answers what is cached.
  app = await startLoggedApp('pg_faults', { REDIS_URL: SHARED_REDIS_URL, CACHE_PREFIX: prefix });
});
afterAll(async () => {
  if (app) await allowConnections(app.databaseName, true);
  await app?.stop();
  await clearPrefix(prefix);
});

/** A connection of the test's own to the app's database (the app's pool is not used to check). */
async function freshConnection(): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl(app.databaseName) });
  client.on('error', () => {}); // a terminated idle client must not take the test process down
  await client.connect();
  return client;
}

async function countBarcodes(codes: readonly string[]): Promise<number> {
  const client = await freshConnection();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM barcodes WHERE key = ANY($1)',
      [codes],
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Expects exactly one error: SERVICE_UNAVAILABLE, retryable; `what` names the request in a failure. */
function expectRetryable(what: string, errors: ErrorBody[] | undefined): void {
  expect({ what, errors }).toEqual({
    what,
    errors: [
      expect.objectContaining({
        message: 'The database is unavailable; retry later',
        extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
      }),
    ],
  });
}

const upsertItems = (codes: readonly string[], productId: string) =>
  codes.map((code) => ({ code, productId }));

describe('the database refuses connections for a while (a restart, as far as this database is concerned)', () => {
  it('cached reads answer, the rest answers SERVICE_UNAVAILABLE at once, the outage is logged once, and all works again after', async () => {
    const codes = ['pg-down-1', 'pg-down-2', 'pg-down-3'];
    const id = await createProduct(app, 'PG-DOWN', 'Up', codes);
    const uncachedId = await createProduct(app, 'PG-COLD', 'Never read', []);
    for (const code of [...codes, ...codes]) await lookup(app, code);
    const logsBefore = app.logs().length;

    await allowConnections(app.databaseName, false);
    try {
      expect(await terminateConnections(app.databaseName)).toBeGreaterThanOrEqual(1);

      const cachedMs: number[] = [];
      for (const code of [...codes, ...codes]) {
        const { barcode, ms } = await lookup(app, code);
        expect(barcode).toMatchObject({ code, product: { name: 'Up' } });
        cachedMs.push(ms);
      }
      const list = await app.gql<{ barcodes: unknown[] }>(
        `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { name } } }`,
        {
          codes,
        },
      );
      expect(list.errors).toBeUndefined();
      expect(list.data!.barcodes).toEqual(codes.map((code) => ({ code, product: { name: 'Up' } })));

      const failures: [string, string, Record<string, unknown>][] = [
        ['uncached lookup', `{ barcode(code: "pg-down-unknown") { code } }`, {}],
        ['uncached product', `query ($id: ID!) { product(id: $id) { name } }`, { id: uncachedId }],
        ['createProduct', `mutation { createProduct(input: { sku: "PG-NEW", name: "New" }) { id } }`, {}],
        [
          'updateProduct',
          `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Down" }) { name } }`,
          { id },
        ],
        ['upsertBarcodes', UPSERT, { items: upsertItems(['pg-down-new-1', 'pg-down-new-2'], id) }],
        ['deleteBarcode', `mutation { deleteBarcode(code: "pg-down-1") }`, {}],
      ];
      const failedMs: number[] = [];
      for (const [what, query, variables] of failures) {
        const started = performance.now();
        const response = await app.gql(query, variables);
        failedMs.push(performance.now() - started);
        expect({ what, status: response.status }).toEqual({ what, status: 200 });
        expectRetryable(what, response.errors);
      }
      const ready = await fetch(`${app.base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', database: 'down' });

      // Six failed requests, one warning about them (and one about the readiness check).
      const logs = app.logs().slice(logsBefore);
      expect(logs.filter((line) => line.msg === 'database unavailable')).toHaveLength(1);
      expect(logs.filter((line) => line.level >= 50)).toEqual([]);
      expect(JSON.stringify(logs)).not.toMatch(/Internal server error/);
      console.log(
        [
          'Database refusing connections, Redis up:',
          `  cached lookups:  ${describeLatencies(cachedMs)}`,
          `  failed requests: ${describeLatencies(failedMs)} (SERVICE_UNAVAILABLE)`,
        ].join('\n'),
      );
    } finally {
      await allowConnections(app.databaseName, true);
    }

    const renamed = await app.gql(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Back" }) { name } }`,
      {
        id,
      },
    );
    expect(renamed.errors).toBeUndefined();
    for (const code of codes)
      expect((await lookup(app, code)).barcode).toMatchObject({ product: { name: 'Back' } });
    expect((await fetch(`${app.base}/readyz`)).status).toBe(200);
    expect(await countBarcodes(['pg-down-new-1', 'pg-down-new-2'])).toBe(0);
  });
});

describe('a connection ended in the middle of a transaction', () => {
  it('upsertBarcodes of 201 items, cut after 100: SERVICE_UNAVAILABLE, none of them written; the retry writes all', async () => {
    const id = await createProduct(app, 'PG-CUT', 'Cut', ['pg-cut-locked']);
    const before = Array.from({ length: 100 }, (_, i) => `pg-cut-a${i}`);
    const after = Array.from({ length: 100 }, (_, i) => `pg-cut-b${i}`);
    const items = upsertItems([...before, 'pg-cut-locked', ...after], id);

    // The test holds the row of item 100, so the upsert writes items 0-99 and then waits on it.
    const holder = await freshConnection();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM barcodes WHERE key = 'pg-cut-locked' FOR UPDATE`);
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

      const pending = app.gql(UPSERT, { items });
      await waitFor(
        async () => {
          const { rows } = await admin((c) =>
            c.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [
              app.databaseName,
            ]),
          );
          return rows.length > 0;
        },
        10_000,
        'the upsert to wait on the held row',
      );
      // Items 0-99 are written, uncommitted; the connection goes away now.
      expect(await terminateConnections(app.databaseName, [holderPid])).toBeGreaterThanOrEqual(1);
      const response = await pending;
      expectRetryable('the cut upsert', response.errors);
      expect(response.data).toBeNull();
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect(await countBarcodes([...before, ...after])).toBe(0);

    const retried = await app.gql<{ upsertBarcodes: unknown[] }>(UPSERT, { items });
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.upsertBarcodes).toHaveLength(201);
    expect(await countBarcodes([...before, 'pg-cut-locked', ...after])).toBe(201);
  });
});

describe('every connection ended again and again under load', () => {
  it('cached reads all answer; each write either succeeds or answers SERVICE_UNAVAILABLE, and is all there or not at all', async () => {
    const cachedCodes = Array.from({ length: 10 }, (_, i) => `pg-storm-c${i}`);
    const id = await createProduct(app, 'PG-STORM', 'Storm', cachedCodes);
    for (const code of cachedCodes) await lookup(app, code);

    const ITEMS = 20;
    const attempts: { codes: string[]; ok: boolean }[] = [];
    const unexpected: unknown[] = [];
    let reads = 0;
    let terminated = 0;
    let storming = true;
    const deadline = performance.now() + 10_000;
    const failed = () => attempts.filter((a) => !a.ok).length;
    // Bounded: until 2 s have passed and at least 3 writes were cut, at most 10 s.
    const keepGoing = (started: number) =>
      storming && performance.now() < deadline && (performance.now() - started < 2000 || failed() < 3);

    const started = performance.now();
    const writer = async (w: number) => {
      for (let n = 0; keepGoing(started); n++) {
        const codes = Array.from({ length: ITEMS }, (_, i) => `pg-storm-w${w}-${n}-${i}`);
        const response = await app.gql(UPSERT, { items: upsertItems(codes, id) });
        const code = response.errors?.[0]?.extensions?.code;
        if (!response.errors) attempts.push({ codes, ok: true });
        else if (code === 'SERVICE_UNAVAILABLE' && response.errors[0]!.extensions!.retryable === true)
          attempts.push({ codes, ok: false });
        else unexpected.push(response);
      }
    };
    const reader = async () => {
      while (keepGoing(started)) {
        const response = await app.gql<{ barcodes: { product: { name: string } }[] }>(
          `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { name } } }`,
          { codes: cachedCodes },
        );
        if (response.errors || response.data!.barcodes.some((b) => b?.product.name !== 'Storm'))
          unexpected.push(response);
        reads++;
      }
    };
    const killer = async () => {
      while (keepGoing(started)) {
        terminated += await terminateConnections(app.databaseName);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      await Promise.all([writer(1), writer(2), writer(3), reader(), reader(), killer()]);
    } finally {
      storming = false;
    }

    // On failure, what the server logged about it says which error went unrecognised.
    const logged = app.logs().filter((line) => line.level >= 50);
    expect({ unexpected, logged: unexpected.length ? logged : [] }).toEqual({ unexpected: [], logged: [] });
    expect(terminated).toBeGreaterThan(0);
    expect(failed()).toBeGreaterThanOrEqual(1);
    let failedButApplied = 0;
    for (const attempt of attempts) {
      const present = await countBarcodes(attempt.codes);
      // All or nothing, always; a success is all there.
      expect([0, ITEMS]).toContain(present);
      if (attempt.ok) expect(present).toBe(ITEMS);
      else if (present === ITEMS) failedButApplied++;
    }
    console.log(
      `Connections ended ${terminated} times in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
        `${reads} cached reads, all answered; ${attempts.length} upserts of ${ITEMS}: ` +
        `${attempts.length - failed()} succeeded, ${failed()} SERVICE_UNAVAILABLE ` +
        `(${failedButApplied} of them committed just before the connection went: the ambiguous-commit window)`,
    );
  });
});
