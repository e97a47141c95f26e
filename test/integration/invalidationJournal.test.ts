// The invalidation journal (src/cache/invalidationJournal.ts) on its own, against a real Postgres
// (a throwaway database): records and notifications per namespace, drains in batches, the bound,
// two drainers at once (SKIP LOCKED, or waiting for the other), a target that fails, and the
// LISTEN connection lost and reopened with back-off. Keys are "deleted" into a recording target
// in front of the memory backend; the end-to-end tests with real Redis are in partition.test.ts.
// Last, the resilient cache over a real Redis: healthy, it sends the journal nothing at all.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { CacheBackend } from '../../src/cache/backend';
import {
  clearMarker,
  createInvalidationJournal,
  type InvalidationJournal,
  type InvalidationJournalOptions,
  type JournalChange,
  type JournalTarget,
} from '../../src/cache/invalidationJournal';
import { createCacheKeys } from '../../src/cache/keys';
import { createMemoryBackend } from '../../src/cache/memoryBackend';
import { createRedisBackend } from '../../src/cache/redisBackend';
import { ResilientCache } from '../../src/cache/resilientCache';
import { CacheStats } from '../../src/cache/stats';
import { LISTEN_APPLICATION_NAME, type Database } from '../../src/db/database';
import type { SqlSessionProvider } from '../../src/db/sql';
import { createLogger } from '../../src/logger';
import { admin, allowConnections, openMigratedDatabase, type TestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/loggedApp';
import { startRedisProcess, type RedisProcess } from '../helpers/redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy';

const silent = createLogger({ logLevel: 'silent' });

let db: Database;
let testDb: TestDatabase;
let close: () => Promise<void>;
const journals: InvalidationJournal[] = [];

beforeAll(async () => {
  ({ db, testDb, close } = await openMigratedDatabase('journal'));
});
afterEach(async () => {
  await Promise.all(journals.splice(0).map((journal) => journal.close()));
});
afterAll(() => close());

/** A namespace of the test's own, so tests on the one database stay apart. */
const newNamespace = () => `jt-${randomBytes(3).toString('hex')}:`;

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

/** A journal listening, with every change it reported. */
async function listening(namespace: string, options: Partial<InvalidationJournalOptions> = {}) {
  const journal = journalFor(namespace, options);
  const changes: JournalChange[] = [];
  await journal.listen((change) => changes.push(change));
  return { journal, changes };
}

/** The memory backend, with every delete and clear it was asked for; `gate` holds deletes. */
function recordingTarget(gate?: Promise<void>) {
  const backend = createMemoryBackend(1000);
  const deleted: string[][] = [];
  const cleared: string[] = [];
  const target: JournalTarget & { deleted: string[][]; cleared: string[]; backend: CacheBackend } = {
    deleted,
    cleared,
    backend,
    async delete(keys) {
      deleted.push([...keys]);
      await gate;
      await backend.delete(keys);
    },
    async clear(namespace) {
      cleared.push(namespace);
      return backend.clear(namespace);
    },
  };
  return target;
}

const failingTarget: JournalTarget = {
  delete: () => Promise.reject(new Error('Redis is down')),
  clear: () => Promise.reject(new Error('Redis is down')),
};

const rowsOf = async (namespace: string) =>
  (
    await db.sessions((s) =>
      s.query<{ cache_key: string }>(
        'SELECT cache_key FROM cache_missed_invalidations WHERE starts_with(cache_key, $1) ORDER BY id',
        [namespace],
      ),
    )
  ).map((row) => row.cache_key);

const keysIn = (namespace: string, ...names: string[]) =>
  names.map((name) => `${namespace}v1:barcode:${name}`);

it('records keys in one statement and notifies the listeners of that namespace only', async () => {
  const ns = newNamespace();
  const other = newNamespace();
  const writer = journalFor(ns);
  // No poll: it wakes every instance whenever the journal grows (its sequence moved), which is
  // harmless (an empty drain) but would hide what this pins, where NOTIFY goes.
  const peer = await listening(ns, { pollMs: 0 });
  const stranger = await listening(other, { pollMs: 0 });

  await writer.record(keysIn(ns, 'a', 'b'));
  expect(await rowsOf(ns)).toEqual(keysIn(ns, 'a', 'b'));
  await waitFor(async () => peer.changes.length === 1, 5000, 'the peer to be notified');
  expect(peer.changes).toEqual(['recorded']);

  // Each listener gets notifications in commit order: once the stranger has its own, it has
  // seen (and ignored) the first one.
  await journalFor(other).record(keysIn(other, 'c'));
  await waitFor(async () => stranger.changes.length > 0, 5000, 'the stranger to be notified');
  expect(stranger.changes).toEqual(['recorded']);
  expect(peer.changes).toEqual(['recorded']);
});

it('drains in batches, one target delete and one transaction each, and leaves other namespaces alone', async () => {
  const ns = newNamespace();
  const other = newNamespace();
  const journal = journalFor(ns, { batchSize: 2 });
  await journal.record(keysIn(ns, '1', '2', '3'));
  await journal.record(keysIn(ns, '3', '4', '5')); // '3' twice: deleted once per batch it is in
  await journalFor(other).record(keysIn(other, 'x'));
  const target = recordingTarget();
  await target.backend.set(keysIn(ns, '1')[0]!, 'stale', 60);

  expect(await journal.drain(target, { skipLocked: true })).toEqual({
    kind: 'drained',
    keys: 5, // the repeated key is deleted once in its batch
    cleared: false,
  });
  expect(target.deleted).toEqual(
    [keysIn(ns, '1', '2'), keysIn(ns, '3', '3'), keysIn(ns, '4', '5')].map((batch) => [...new Set(batch)]),
  );
  expect(await target.backend.get(keysIn(ns, '1'))).toEqual([null]);
  expect(await rowsOf(ns)).toEqual([]);
  expect(await rowsOf(other)).toEqual(keysIn(other, 'x'));

  // Nothing left: no delete at all.
  expect(await journal.drain(target, { skipLocked: false })).toEqual({
    kind: 'drained',
    keys: 0,
    cleared: false,
  });
  expect(target.deleted).toHaveLength(3);
});

it('keeps the rows when the target fails, and tells the other instances to try', async () => {
  const ns = newNamespace();
  const journal = journalFor(ns);
  await journal.record(keysIn(ns, 'a'));
  const peer = await listening(ns);

  const result = await journal.drain(failingTarget, { skipLocked: true });
  expect(result).toMatchObject({ kind: 'targetFailed', keys: 0 });
  expect((result as { error: Error }).error.message).toBe('Redis is down');
  expect(await rowsOf(ns)).toEqual(keysIn(ns, 'a'));
  await waitFor(async () => peer.changes.includes('recorded'), 5000, 'the retry notification');

  const target = recordingTarget();
  expect(await journal.drain(target, { skipLocked: true })).toMatchObject({ kind: 'drained', keys: 1 });
  expect(await rowsOf(ns)).toEqual([]);
});

it('beyond maxRows, replaces the namespace\'s rows with one "clear the namespace" row', async () => {
  const ns = newNamespace();
  const journal = journalFor(ns, { maxRows: 5 });
  await journal.record(keysIn(ns, '1', '2', '3'));
  await journal.record(keysIn(ns, '4', '5'));
  expect(await rowsOf(ns)).toEqual(keysIn(ns, '1', '2', '3', '4', '5'));
  await journal.record(keysIn(ns, '6'));
  expect(await rowsOf(ns)).toEqual([clearMarker(ns)]);
  await journal.record(keysIn(ns, '7')); // below the bound again: appended after the marker
  expect(await rowsOf(ns)).toEqual([clearMarker(ns), ...keysIn(ns, '7')]);

  const target = recordingTarget();
  await target.backend.set(`${ns}v1:product:9`, 'stale', 60);
  expect(await journal.drain(target, { skipLocked: true })).toEqual({
    kind: 'drained',
    keys: 0,
    cleared: true,
  });
  expect(target.cleared).toEqual([ns]);
  expect(target.deleted).toEqual([]);
  expect(await target.backend.get([`${ns}v1:product:9`])).toEqual([null]);
  expect(await rowsOf(ns)).toEqual([]);
});

describe('two drainers at once', () => {
  it('SKIP LOCKED: the second takes the rows the first is not holding; waiting, it returns only once the first has committed', async () => {
    const ns = newNamespace();
    const journal = journalFor(ns, { batchSize: 2 });
    await journal.record(keysIn(ns, '1', '2', '3', '4'));
    let release!: () => void;
    const held = recordingTarget(new Promise<void>((resolve) => (release = resolve)));
    const first = journal.drain(held, { skipLocked: true });
    await waitFor(async () => held.deleted.length === 1, 5000, 'the first drainer to lock its batch');
    expect(held.deleted).toEqual([keysIn(ns, '1', '2')]);

    const second = recordingTarget();
    expect(await journal.drain(second, { skipLocked: true })).toEqual({
      kind: 'drained',
      keys: 2,
      cleared: false,
    });
    expect(second.deleted).toEqual([keysIn(ns, '3', '4')]);
    expect(await rowsOf(ns)).toEqual(keysIn(ns, '1', '2')); // still there, locked by the first

    // Without SKIP LOCKED (start-up, recovery) a drainer waits for the locked rows.
    const third = recordingTarget();
    let thirdDone = false;
    const waiting = journal.drain(third, { skipLocked: false }).then((result) => {
      thirdDone = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(thirdDone).toBe(false);

    release();
    expect(await first).toEqual({ kind: 'drained', keys: 2, cleared: false });
    // The first deleted its rows, so the waiting drainer finds nothing: each key went once.
    expect(await waiting).toEqual({ kind: 'drained', keys: 0, cleared: false });
    expect(third.deleted).toEqual([]);
    expect(await rowsOf(ns)).toEqual([]);
  });
});

describe('the LISTEN connection', () => {
  /** Ends the journal's LISTEN session (as a Postgres restart or a network cut would). */
  const terminateListener = () =>
    admin(async (c) => {
      const { rows } = await c.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM (
           SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 OFFSET 0) AS listeners`,
        [testDb.name, LISTEN_APPLICATION_NAME],
      );
      return rows.filter((row) => row.ended).length;
    });

  it('is reopened with back-off after it drops, reports the reconnection, and hears records again', async () => {
    const ns = newNamespace();
    let attempts = 0;
    const peer = await listening(ns, {
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
      createListenClient: () => {
        attempts++;
        return db.createListenClient!();
      },
    });
    expect(attempts).toBe(1);
    const started = Date.now();
    // Refused while down, so the reconnection has to retry.
    await allowConnections(testDb.name, false);
    try {
      expect(await terminateListener()).toBe(1);
      await waitFor(async () => attempts >= 4, 5000, 'three reconnection attempts');
      expect(peer.changes).toEqual([]);
    } finally {
      await allowConnections(testDb.name, true);
    }
    const ms = await waitFor(async () => peer.changes.includes('reconnected'), 5000, 'the reconnection');
    console.log(
      `LISTEN connection back ${Date.now() - started} ms after it was cut (${attempts - 1} attempts, the last ${Math.round(ms)} ms after connections were allowed again)`,
    );
    expect(peer.changes).toEqual(['reconnected']);

    await journalFor(ns).record(keysIn(ns, 'after'));
    await waitFor(
      async () => peer.changes.includes('recorded'),
      5000,
      'a notification on the new connection',
    );
    // The NOTIFY, and the poll seeing the journal grow, may both have been heard.
    expect(peer.changes[0]).toBe('reconnected');
    expect([...new Set(peer.changes.slice(1))]).toEqual(['recorded']);
  });

  it('a listener that could not connect at first retries, and reports the success as a reconnection', async () => {
    const ns = newNamespace();
    await allowConnections(testDb.name, false);
    let peer!: Awaited<ReturnType<typeof listening>>;
    try {
      peer = await listening(ns, { reconnectMinMs: 20, reconnectMaxMs: 100 });
      expect(peer.changes).toEqual([]);
    } finally {
      await allowConnections(testDb.name, true);
    }
    await waitFor(async () => peer.changes.includes('reconnected'), 5000, 'the first connection');
  });
});

describe("the LISTEN connection's poll (its heartbeat): a path that silently drops everything", () => {
  let proxy: TcpProxy;
  beforeEach(async () => {
    proxy = await startTcpProxy({ port: Number(new URL(testDb.url).port || 5432) });
  });
  afterEach(() => proxy.close());

  /** LISTEN connections through the proxy, counted. */
  const throughProxy = () => {
    const url = new URL(testDb.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const attempts: number[] = [];
    return {
      attempts,
      createListenClient: () => {
        attempts.push(performance.now());
        const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 1000 });
        return client;
      },
    };
  };

  it('notices within about a second (defaults: a poll every 10 ms, 1 s to answer), reconnects and is told to drain', async () => {
    const ns = newNamespace();
    const path = throughProxy();
    const peer = await listening(ns, { createListenClient: path.createListenClient, reconnectMinMs: 50 });
    expect(path.attempts).toHaveLength(1);
    const cut = performance.now();
    proxy.setFault({ kind: 'blackhole' });
    // A record while the path is dead: its notification is held, never delivered to this listener.
    await journalFor(ns).record(keysIn(ns, 'while-cut'));
    await waitFor(async () => path.attempts.length >= 2, 5000, 'a reconnection attempt');
    const noticedMs = path.attempts[1]! - cut;
    proxy.setFault({ kind: 'none' });
    await waitFor(async () => peer.changes.includes('reconnected'), 5000, 'the reconnection');
    console.log(`dead LISTEN path noticed ${Math.round(noticedMs)} ms after it went silent`);
    expect(noticedMs).toBeLessThan(2000);
    // 'reconnected' is what makes the resilient cache drain: the missed record is there for it.
    const target = recordingTarget();
    await journalFor(ns).drain(target, { skipLocked: false });
    expect(target.deleted.flat()).toEqual(keysIn(ns, 'while-cut'));
  });

  it('control: without the poll the dead path goes unnoticed (no reconnection, no notification)', async () => {
    const ns = newNamespace();
    const path = throughProxy();
    const peer = await listening(ns, { createListenClient: path.createListenClient, pollMs: 0 });
    proxy.setFault({ kind: 'blackhole' });
    try {
      await journalFor(ns).record(keysIn(ns, 'while-cut'));
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(path.attempts).toHaveLength(1);
      expect(peer.changes).toEqual([]);
    } finally {
      proxy.setFault({ kind: 'none' });
    }
  });
});

describe('the resilient cache with a journal, over a real Redis', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedisProcess();
  });
  afterAll(() => redis?.stop());

  it('healthy, sends the journal nothing: reads, fills and invalidations cost no database session', async () => {
    const ns = newNamespace();
    let sessions = 0;
    const counting: SqlSessionProvider = (work) => {
      sessions++;
      return db.sessions(work);
    };
    const stats = new CacheStats();
    const cache: ResilientCache = new ResilientCache({
      remote: createRedisBackend({ url: redis.url, timeoutMs: 1000, reconnectMaxMs: 100 }, (error) =>
        cache.onRemoteError(error),
      ),
      fallback: null,
      namespace: ns,
      probeIntervalMs: 100,
      stats,
      logger: silent,
      journal: journalFor(ns, { sessions: counting }),
    });
    try {
      await cache.start();
      expect(cache.status()).toMatchObject({ backend: 'REDIS', degraded: false });
      const startup = sessions; // the start-up drain: one empty batch
      expect(startup).toBe(1);
      const key = `${ns}v1:product:1`;
      let hits = 0;
      for (let i = 0; i < 20; i++) {
        const { slots, source } = await cache.read([key]);
        const slot = slots[0]!;
        if ('value' in slot) hits++;
        else if (slot.lease)
          await cache.fill(source, [{ key, lease: slot.lease, value: 'v', ttlSeconds: 60 }]);
        if (i % 5 === 4) await cache.invalidate([key]);
      }
      expect(hits).toBe(16); // 4 rounds: a miss and its fill, 4 hits, then the invalidation
      expect(cache.status()).toMatchObject({ backend: 'REDIS', degraded: false });
      expect(sessions).toBe(startup);
    } finally {
      await cache.stop();
    }
  });
  it('retries a drain that Postgres failed, although no notification comes, until the key is gone from Redis', async () => {
    const ns = newNamespace();
    const inner = journalFor(ns);
    let failDrains = 0;
    // A journal whose pool fails while its LISTEN connection stays up: the drain throws, nothing re-notifies.
    const flaky: InvalidationJournal = {
      ...inner,
      drain: (target, options) =>
        failDrains-- > 0
          ? Promise.reject(new Error('timeout exceeded when trying to connect'))
          : inner.drain(target, options),
    };
    const remote = createRedisBackend({ url: redis.url, timeoutMs: 1000, reconnectMaxMs: 100 }, () => {});
    const cache = new ResilientCache({
      remote,
      fallback: null,
      namespace: ns,
      probeIntervalMs: 100,
      stats: new CacheStats(),
      logger: silent,
      journal: flaky,
    });
    try {
      await cache.start();
      const key = `${ns}v1:product:1`;
      const [slot] = await remote.readLeased([key]);
      await remote.fillLeased([
        { key, lease: (slot as { lease: string }).lease, value: 'old', ttlSeconds: 60 },
      ]);
      failDrains = 1;
      // Another instance, cut off from Redis, records the key: one notification, one failed drain.
      await journalFor(ns).record([key]);
      const took = await waitFor(async () => (await remote.get([key]))[0] === null, 5000, 'the key drained');
      expect(failDrains).toBeLessThan(0); // the failing drain ran, and a later one succeeded
      // The drain deletes the key from Redis before it deletes the rows and commits.
      await waitFor(async () => (await rowsOf(ns)).length === 0, 5000, 'the rows drained');
      console.log(`journal drain retried: key gone ${took.toFixed(0)} ms after the record`);
    } finally {
      await cache.stop();
    }
  });
});
