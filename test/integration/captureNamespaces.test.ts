// Several cache namespaces (CACHE_PREFIX and its Redis) on one database: a blue/green deploy, two
// apps, the bench's modes (the capture_namespaces migration). Every captured change reaches every
// namespace: an external write is invalidated in both of two apps with different prefixes (it
// used to reach only the namespace that drained it first), and an API write through one is
// invalidated in the other (it used to be handed back to its own transaction only), while the
// writer's namespace does not apply its own write twice. With no other namespace live, an API
// write journals nothing. Then the consumers' lifecycle, on journals of the test's own: a
// namespace dropped while away gets a clear when it returns (a first registration does not),
// copies beyond maxRows collapse into one clear, and a rolled-back API transaction journals
// nothing.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import { createApp, type App, type RunningApp } from '../../src/app';
import { READ_BACK_SQL } from '../../src/cache/invalidation';
import {
  createInvalidationJournal,
  type InvalidationJournal,
  type InvalidationJournalOptions,
  type JournalTarget,
} from '../../src/cache/invalidationJournal';
import { createCacheKeys } from '../../src/cache/keys';
import { capturedKeysOf } from '../../src/cache/keysCaptured';
import { loadConfig } from '../../src/config/config';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { TEST_TOKEN } from '../helpers/app';
import { captureDrained } from '../helpers/capture';
import { createMigratedDatabase, type TestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/loggedApp';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const silent = createLogger({ logLevel: 'silent' });

interface Instance {
  readonly prefix: string;
  readonly namespace: string;
  readonly app: App;
  readonly db: Database;
  readonly running: RunningApp;
}

let testDb: TestDatabase;
let redis: Redis;
/** The external writer: a plain pg connection, as psql or a legacy app would have. */
let writer: Client;
const instances: Instance[] = [];
const journals: InvalidationJournal[] = [];

async function startInstance(label: string): Promise<Instance> {
  const prefix = uniquePrefix(label);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    API_TOKEN: TEST_TOKEN,
    DATABASE_URL: testDb.url,
    REDIS_URL: SHARED_REDIS_URL,
    CACHE_PREFIX: prefix,
  });
  const db = await openDatabase(config.database);
  const app = createApp(config, { db, logger: silent });
  const instance = { prefix, namespace: `${prefix}:`, app, db, running: await app.start() };
  instances.push(instance);
  return instance;
}

beforeAll(async () => {
  testDb = await createMigratedDatabase('namespaces');
  redis = new Redis(SHARED_REDIS_URL);
  writer = new Client({ connectionString: testDb.url });
  writer.on('error', () => {});
  await writer.connect();
  await startInstance('ns-a');
});
afterEach(async () => {
  await Promise.all(journals.splice(0).map((journal) => journal.close()));
});
afterAll(async () => {
  for (const { app, db, prefix } of instances) {
    await app.stop();
    await db.close();
    await clearPrefix(prefix);
  }
  await writer?.end();
  redis?.disconnect();
  await testDb?.drop();
});

/** A target that records what it was asked to delete and clear. */
function recordingTarget() {
  const deleted: string[] = [];
  const cleared: string[] = [];
  const target: JournalTarget = {
    async delete(keys) {
      deleted.push(...keys);
    },
    async clear(namespace) {
      cleared.push(namespace);
      return 0;
    },
  };
  return { target, deleted, cleared };
}

let counter = 0;
const unique = (label: string) => `NS-${label}-${++counter}`;

async function gql<T>(instance: Instance, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(instance.running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const nameThrough = async (instance: Instance, code: string) =>
  (
    await gql<{ barcode: { product: { name: string } } | null }>(
      instance,
      'query ($code: String!) { barcode(code: $code) { product { name } } }',
      { code },
    )
  ).barcode?.product.name;

const cachedIn = async (instance: Instance, code: string) =>
  (await redis.exists(createCacheKeys(instance.prefix).barcode(code))) === 1;

/** Everything captured so far drained by every namespace (no unfanned row, no copy for any of them). */
async function allDrained() {
  for (const { db, namespace } of instances) await captureDrained(db.sessions, 5000, namespace);
}

/** A product with one barcode, written by the external writer, drained, then cached in every instance. */
async function cachedProduct(label: string) {
  const code = unique(label);
  const { rows } = await writer.query<{ id: number }>(
    `INSERT INTO products (sku, name, updated_at) VALUES ($1, 'before', now()) RETURNING id`,
    [unique('sku')],
  );
  const id = rows[0]!.id;
  await writer.query(
    `INSERT INTO barcodes (code, key, symbology, product_id, updated_at) VALUES ($1, $1, 'CODE_128', $2, now())`,
    [code, id],
  );
  await allDrained();
  for (const instance of instances) {
    expect(await nameThrough(instance, code)).toBe('before');
    expect(await cachedIn(instance, code)).toBe(true);
  }
  return { id, code };
}

const lastJournalId = async () =>
  Number(
    (await writer.query<{ n: string }>('SELECT last_value AS n FROM cache_missed_invalidations_id_seq'))
      .rows[0]!.n,
  );

const renameThrough = (instance: Instance, id: number, name: string) =>
  gql(
    instance,
    'mutation ($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { name } }',
    {
      id: String(id),
      name,
    },
  );

it('alone on the database, an API write journals nothing (the read back finds no other namespace live)', async () => {
  const [a] = instances as [Instance];
  const { id, code } = await cachedProduct('alone');
  const before = await lastJournalId();
  await renameThrough(a, id, 'renamed alone');
  expect(await nameThrough(a, code)).toBe('renamed alone');
  expect(await lastJournalId()).toBe(before);
});

describe('two namespaces on one database', () => {
  beforeAll(async () => {
    await startInstance('ns-b');
  });

  it('an external SQL write is invalidated in both', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { id, code } = await cachedProduct('external');
    await writer.query(`UPDATE products SET name = 'after SQL', updated_at = now() WHERE id = $1`, [id]);
    await waitFor(
      async () =>
        (await nameThrough(a, code)) === 'after SQL' && (await nameThrough(b, code)) === 'after SQL',
      3000,
      'both namespaces to serve the external write',
    );
    await allDrained();
    expect([await nameThrough(a, code), await nameThrough(b, code)]).toEqual(['after SQL', 'after SQL']);
  });

  it('an API write through A is invalidated in B (A skipping its own rows: see the quiet database below)', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { id, code } = await cachedProduct('api');
    await renameThrough(a, id, 'after API');
    // A invalidated before answering; B within the capture's lag.
    expect(await nameThrough(a, code)).toBe('after API');
    await waitFor(async () => (await nameThrough(b, code)) === 'after API', 3000, 'B to serve the API write');
    await allDrained();
    expect(await nameThrough(b, code)).toBe('after API');
  });
});

describe('the journal of a namespace', () => {
  const newNamespace = () => `ns-jt-${randomBytes(3).toString('hex')}:`;
  let db: Database;
  beforeAll(() => {
    db = instances[0]!.db;
  });

  function journalFor(namespace: string, options: Partial<InvalidationJournalOptions> = {}) {
    const journal = createInvalidationJournal({
      sessions: db.sessions,
      createListenClient: db.createListenClient!,
      namespace,
      keys: createCacheKeys(namespace.replace(/:$/, '')),
      logger: silent,
      ...options,
    });
    journals.push(journal);
    return journal;
  }

  const rowsFor = async (namespace: string) =>
    (
      await writer.query<{ kind: string; ident: string | null }>(
        'SELECT kind, ident FROM cache_missed_invalidations WHERE namespace = $1 ORDER BY id',
        [namespace],
      )
    ).rows;

  /** A namespace registered (its journal connected once), then gone: its copies wait for it. */
  async function registeredThenGone(namespace: string) {
    const journal = journalFor(namespace);
    await journal.listen(() => {});
    await journal.close();
  }

  it('a namespace dropped while away (unseen for 5 minutes) gets no copies, and one clear when it returns', async () => {
    const ns = newNamespace();
    await registeredThenGone(ns);
    // A first registration owes nothing: no clear.
    expect(await rowsFor(ns)).toEqual([]);
    const { id } = await cachedProduct('dropped');
    await writer.query(`UPDATE products SET name = 'while live', updated_at = now() WHERE id = $1`, [id]);
    await allDrained();
    expect((await rowsFor(ns)).length).toBeGreaterThan(0); // copies wait for it

    await writer.query(
      `UPDATE cache_capture_consumers SET seen_at = now() - interval '10 minutes' WHERE namespace = $1`,
      [ns],
    );
    // The running apps' heartbeats (about once a second) drop it and delete its copies.
    await waitFor(async () => (await rowsFor(ns)).length === 0, 5000, 'its copies deleted');
    const { rows } = await writer.query<{ dropped: boolean }>(
      'SELECT dropped_at IS NOT NULL AS dropped FROM cache_capture_consumers WHERE namespace = $1',
      [ns],
    );
    expect(rows).toEqual([{ dropped: true }]);
    await writer.query(`UPDATE products SET name = 'while dropped', updated_at = now() WHERE id = $1`, [id]);
    await allDrained();
    expect(await rowsFor(ns)).toEqual([]);

    const returned = journalFor(ns);
    await returned.listen(() => {});
    expect(await rowsFor(ns)).toEqual([{ kind: 'clear', ident: null }]);
    const target = recordingTarget();
    await returned.drain(target.target, { skipLocked: false });
    expect(target.cleared).toEqual([ns]);
  });

  it("collapses a namespace's copies beyond maxRows into one clear copy", async () => {
    const slow = newNamespace();
    await registeredThenGone(slow);
    const { rows } = await writer.query<{ id: number }>(
      `INSERT INTO products (sku, name, updated_at)
       SELECT 'NS-BULK-' || g || '-' || $1, 'bulk', now() FROM generate_series(1, 8) AS g RETURNING id`,
      [++counter],
    );
    await allDrained();
    expect((await rowsFor(slow)).length).toBe(2 * rows.length); // product and product-barcodes each
    // A journal bounding at 5 rows: its registration is a heartbeat, which collapses the others' copies too.
    await journalFor(newNamespace(), { maxRows: 5 }).listen(() => {});
    expect(await rowsFor(slow)).toEqual([{ kind: 'clear', ident: null }]);
  });

  it('a rolled-back API transaction journals nothing', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { id, code } = await cachedProduct('rollback');
    // The API's transaction as src/cache/invalidation.ts runs it, on a connection of the test's own.
    await writer.query('BEGIN');
    await writer.query(`SELECT set_config('barcode_cache.api_transaction', 'on', true)`);
    await writer.query(`UPDATE products SET name = 'rolled back', updated_at = now() WHERE id = $1`, [id]);
    await writer.query(READ_BACK_SQL, [a.namespace]);
    const inside = await writer.query<{ n: string }>(
      'SELECT count(*) AS n FROM cache_missed_invalidations WHERE origin = $1',
      [a.namespace],
    );
    expect(Number(inside.rows[0]!.n)).toBeGreaterThan(0); // journaled for B, in the transaction...
    await writer.query('ROLLBACK');
    const after = await writer.query<{ n: string }>(
      'SELECT count(*) AS n FROM cache_missed_invalidations WHERE origin = $1',
      [a.namespace],
    );
    expect(Number(after.rows[0]!.n)).toBe(0); // ...and gone with it
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await cachedIn(b, code)).toBe(true);
    expect(await nameThrough(b, code)).toBe('before');
  });
});

describe('a database no instance drains', () => {
  let quiet: TestDatabase;
  let quietDb: Database;
  beforeAll(async () => {
    quiet = await createMigratedDatabase('namespaces_quiet');
    quietDb = await openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: quiet.url }).database);
  });
  afterAll(async () => {
    await quietDb?.close();
    await quiet?.drop();
  });

  const journalOn = (namespace: string) => {
    const journal = createInvalidationJournal({
      sessions: quietDb.sessions,
      createListenClient: quietDb.createListenClient!,
      namespace,
      keys: createCacheKeys(namespace.replace(/:$/, '')),
      logger: silent,
      pollMs: 0,
    });
    journals.push(journal);
    return journal;
  };

  it('a namespace skips the rows its own API journaled; the other namespaces apply them', async () => {
    const [mine, other] = ['ns-mine:', 'ns-other:'];
    for (const ns of [mine, other]) await journalOn(ns).listen(() => {}); // registered
    // As an API transaction of `mine` journals a write while `other` is live: unfanned, with its origin.
    await quietDb.sessions((s) =>
      s.query(`INSERT INTO cache_missed_invalidations (kind, ident, origin) VALUES ('product', '4242', $1)`, [
        mine,
      ]),
    );
    const own = recordingTarget();
    expect(await journalOn(mine).drain(own.target, { skipLocked: false })).toEqual({
      kind: 'drained',
      keys: 0,
      cleared: false,
    });
    expect([own.deleted, own.cleared]).toEqual([[], []]);
    const theirs = recordingTarget();
    await journalOn(other).drain(theirs.target, { skipLocked: false });
    // The product's key and its dependents' (its page chunk).
    const expected = capturedKeysOf(createCacheKeys('ns-other'), { kind: 'product', ident: '4242' });
    expect(expected).toContain('ns-other:v1:product:4242');
    expect(theirs.deleted).toEqual(expected);
    const left = await quietDb.sessions((s) => s.query('SELECT id FROM cache_missed_invalidations'));
    expect(left).toEqual([]);
  });
});
