// Graceful shutdown, end to end: the real server entry (src/main.ts) in a child process, keep-alive
// clients sending reads and writes, SIGTERM in the middle. Requests the server had received when
// the signal came are held in flight deterministically (their UPDATE waits on a row lock the test
// holds) and must all get a complete, successful answer; any request that failed must not have
// reached the server (its write is absent); the exit code is 0, or 1 when the deadline cut a
// request. The shutdown delay's readiness answer is checked in-process.
import { request, Agent } from 'node:http';
import { Client } from 'pg';
import { TEST_TOKEN, startTestApp } from '../helpers/app';
import { admin, openMigratedDatabase } from '../helpers/database';
import { waitFor } from '../helpers/loggedApp';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';
import { startServerProcess, type ServerProcess } from '../helpers/serverProcess';

interface Answer {
  status: number;
  connection: string | undefined;
  body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}

/** POST /graphql over the given agent (keep-alive connections); rejects with the socket error. */
function post(
  url: string,
  agent: Agent,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(text) });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query, variables }));
  });
}

const CREATE = `mutation ($sku: String!) { createProduct(input: { sku: $sku, name: "Load" }) { id } }`;
const RENAME = `mutation ($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { name } }`;
const READ = `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { name } } }`;

/** A server process on its own database (and its own key prefix on the shared Redis). */
async function startServer(label: string, env: Record<string, string> = {}) {
  const opened = await openMigratedDatabase(label);
  await opened.db.close();
  const prefix = uniquePrefix(label);
  const server = await startServerProcess({
    DATABASE_URL: opened.testDb.url,
    API_TOKEN: TEST_TOKEN,
    REDIS_URL: SHARED_REDIS_URL,
    CACHE_PREFIX: prefix,
    ...env,
  });
  const pg = new Client({ connectionString: opened.testDb.url });
  pg.on('error', () => {}); // a terminated idle client must not take the test process down
  await pg.connect();
  return {
    server,
    pg,
    name: opened.testDb.name,
    async cleanup() {
      await server.stop('SIGKILL');
      await pg.end();
      await opened.testDb.drop();
      await clearPrefix(prefix);
    },
  };
}

/** Holds the product's row so every UPDATE of it waits; returns the release. */
async function holdRow(pg: Client, productId: string): Promise<() => Promise<void>> {
  await pg.query('BEGIN');
  await pg.query('SELECT id FROM products WHERE id = $1 FOR UPDATE', [Number(productId)]);
  return async () => {
    await pg.query('COMMIT');
  };
}

const lockWaiters = async (database: string) =>
  (
    await admin((c) =>
      c.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [database]),
    )
  ).rows.length;

async function createProduct(server: ServerProcess, agent: Agent, sku: string): Promise<string> {
  const answer = await post(server.url, agent, CREATE, { sku });
  expect(answer.body.errors).toBeUndefined();
  return (answer.body.data!.createProduct as { id: string }).id;
}

const errorCode = (error: unknown) => (error as { code?: string }).code ?? String(error);

it('SIGTERM during a load: every request already received gets a complete answer, and the process exits 0', async () => {
  const { server, pg, name, cleanup } = await startServer('shutdown_load');
  const agent = new Agent({ keepAlive: true, maxSockets: 6 });
  const heldAgent = new Agent({ keepAlive: true, maxSockets: 3 });
  try {
    const heldId = await createProduct(server, agent, 'SD-HELD');
    const codes = Array.from({ length: 10 }, (_, i) => `sd-read-${i}`);
    const seeded = await post(
      server.url,
      agent,
      `mutation ($codes: [BarcodeInput!]!) { createProduct(input: { sku: "SD-READ", name: "Read", barcodes: $codes }) { id } }`,
      { codes: codes.map((code) => ({ code })) },
    );
    expect(seeded.body.errors).toBeUndefined();

    // Three writes the server has received and is working on when the signal comes.
    const release = await holdRow(pg, heldId);
    const held = [1, 2, 3].map((i) => post(server.url, heldAgent, RENAME, { id: heldId, name: `Held ${i}` }));
    await waitFor(async () => (await lockWaiters(name)) === 3, 10_000, 'three updates waiting on the row');

    // Six keep-alive clients, reads and writes, until the listener refuses them.
    const writes: { sku: string; answered: boolean }[] = [];
    const failures: string[] = [];
    const unsuccessful: Answer[] = [];
    let answered = 0;
    let signalled = false;
    let answeredAfterSignal = 0;
    const deadline = performance.now() + 20_000;
    const client = async (c: number) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const sku = `SD-W-${c}-${n}`;
        const isWrite = n % 3 === 0;
        try {
          const answer = isWrite
            ? await post(server.url, agent, CREATE, { sku })
            : await post(server.url, agent, READ, { codes });
          // A complete answer must be a successful one.
          if (answer.status !== 200 || answer.body.errors) unsuccessful.push(answer);
          if (isWrite) writes.push({ sku, answered: true });
          answered++;
          if (signalled) answeredAfterSignal++;
        } catch (error) {
          if (isWrite) writes.push({ sku, answered: false });
          failures.push(errorCode(error));
          if (errorCode(error) === 'ECONNREFUSED') return;
        }
      }
    };
    const clients = Promise.all([1, 2, 3, 4, 5, 6].map(client));
    await waitFor(async () => answered >= 30, 10_000, 'the load to get going');
    server.child.kill('SIGTERM');
    signalled = true;
    await clients;

    // The listener is closed and the held writes are still waiting: now let them finish.
    expect(server.child.exitCode).toBeNull();
    await release();
    const heldAnswers = await Promise.all(held);
    for (const [i, answer] of heldAnswers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { updateProduct: { name: `Held ${i + 1}` } } });
      // Answered while draining: the client is told not to reuse the connection.
      expect(answer.connection).toBe('close');
    }
    expect(await server.stop()).toBe(0);
    expect(server.output()).toMatch(/shutting down: finishing in-flight requests/);
    expect(server.output()).toMatch(/"msg":"stopped"/);

    // A write is there exactly when it was answered: no failed request had reached the server.
    const { rows } = await pg.query<{ sku: string }>(`SELECT sku FROM products WHERE sku LIKE 'SD-W-%'`);
    const stored = new Set(rows.map((row) => row.sku));
    for (const write of writes)
      expect({ sku: write.sku, stored: stored.has(write.sku) }).toEqual({
        sku: write.sku,
        stored: write.answered,
      });
    expect(stored.size).toBe(writes.filter((w) => w.answered).length);
    expect(unsuccessful).toEqual([]);
    expect(failures).toContain('ECONNREFUSED');
    const counts = failures.reduce<Record<string, number>>(
      (all, code) => ({ ...all, [code]: (all[code] ?? 0) + 1 }),
      {},
    );
    console.log(
      `SIGTERM under load: ${answered} requests answered (${answeredAfterSignal} after the signal), ` +
        `3 held writes finished after it; ${writes.length} writes, ${stored.size} stored; ` +
        `not accepted: ${JSON.stringify(counts)}`,
    );
  } finally {
    agent.destroy();
    heldAgent.destroy();
    await cleanup();
  }
});

it('when SHUTDOWN_TIMEOUT_MS passes, the requests still in flight are cut, nothing of them is written, and the exit code is 1', async () => {
  const { server, pg, cleanup } = await startServer('shutdown_deadline', {
    SHUTDOWN_TIMEOUT_MS: '300',
    DATABASE_TIMEOUT_MS: '2000',
  });
  const agent = new Agent({ keepAlive: true });
  try {
    const id = await createProduct(server, agent, 'SD-STUCK');
    const release = await holdRow(pg, id);
    const stuck = post(server.url, agent, RENAME, { id, name: 'Never' }).then(
      () => 'answered',
      (error: unknown) => errorCode(error),
    );
    await waitFor(
      async () =>
        (
          await pg.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
          )
        ).rows.length === 1,
      10_000,
      'the update to wait on the row',
    );
    server.child.kill('SIGTERM');
    expect(await stuck).toMatch(/^(ECONNRESET|socket hang up)$/);
    expect(await server.stop()).toBe(1);
    expect(server.output()).toMatch(/shutdown deadline passed: 1 in-flight request\(s\) cut/);
    await release();
    const { rows } = await pg.query<{ name: string }>('SELECT name FROM products WHERE id = $1', [
      Number(id),
    ]);
    expect(rows).toEqual([{ name: 'Load' }]);
  } finally {
    agent.destroy();
    await cleanup();
  }
});

it('with SHUTDOWN_DELAY_MS, /readyz answers 503 "draining" at once while requests are still served, then the listener closes', async () => {
  const app = await startTestApp('shutdown_delay', { SHUTDOWN_DELAY_MS: '500' });
  const agent = new Agent({ keepAlive: true });
  const base = new URL(app.url).origin;
  let stopping: Promise<void> | undefined;
  try {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    stopping = app.stop();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    const answer = await post(app.url, agent, '{ __typename }');
    expect(answer).toMatchObject({
      status: 200,
      connection: 'close',
      body: { data: { __typename: 'Query' } },
    });
    await stopping;
    await expect(post(app.url, agent, '{ __typename }')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  } finally {
    agent.destroy();
    if (!stopping) await app.stop();
  }
});
