// The invalidation journal: Redis keys that an instance could not delete (its Redis was down or
// failing while the others' was not), kept in Postgres so that EVERY instance that reaches Redis
// deletes them, within milliseconds, not only the instance that missed them once it recovers.
// It also carries what the database captured from every writer other than the API (psql, COPY,
// another service: the change_capture migration's triggers), as identities that drain() maps to
// keys (./keysCaptured.ts). Those rows belong to no namespace until an instance drains them: it
// fans them out, in the draining transaction, as one copy per other live namespace sharing the
// database (cache_capture_consumers, the capture_namespaces migration), so every namespace is
// invalidated, not only the first to drain. The triggers do not NOTIFY (a notifying transaction
// holds a database-wide lock through its commit, which serializes busy writers): the LISTEN
// connection polls for captured rows and this namespace's copies instead.
//
// - record(): one statement appends the keys and NOTIFYs every instance (the notification is
//   sent when it commits, so nobody drains before the rows are there).
// - listen(): a dedicated connection LISTENs (Prisma cannot, and a pooled connection would be
//   handed to someone else); a lost connection is reopened with back-off, and every reopening is
//   reported, since notifications sent meanwhile are lost. The same connection asks every 10 ms
//   whether the journal grew (its id sequence moved); that poll is also its heartbeat: one not answered within
//   1 s means a silently dead path (TCP keepalive would take minutes), treated as lost. The
//   connection registers the namespace as a consumer when it connects, and about once a second
//   renews it (./captureConsumers.ts).
// - drain(): a transaction takes a batch of rows (FOR UPDATE, SKIP LOCKED when several instances
//   drain at once), deletes their keys from Redis, copies the captured ones for the other
//   namespaces, deletes the rows, commits; until none are left. A failed Redis delete rolls back,
//   so the rows stay for whoever can reach Redis.
//
// A healthy instance writes nothing here through the pool; its LISTEN connection sends the 10 ms
// poll above (a sequence read, and once a second an EXISTS and the consumer heartbeat), and
// nothing else.
import type { Client, Notification } from 'pg';
import type { SqlSessionProvider } from '../db/sql';
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';
import type { CacheBackend } from './backend';
import { consumerHeartbeat } from './captureConsumers';
import type { CacheKeys } from './keys';
import { capturedKeysOf } from './keysCaptured';

/** The NOTIFY channel; the payload is the namespace whose journal grew, or `*` (captured changes, for everyone). */
export const JOURNAL_CHANNEL = 'cache_missed_invalidations';

/** Where drained keys are deleted: Redis. */
export type JournalTarget = Pick<CacheBackend, 'delete' | 'clear'>;

export type DrainResult =
  /** The journal was emptied (of what was not locked by another drainer, with skipLocked). */
  | { readonly kind: 'drained'; readonly keys: number; readonly cleared: boolean }
  /** The target failed: that batch's rows stay in the journal (and the other instances are told). */
  | { readonly kind: 'targetFailed'; readonly error: unknown; readonly keys: number };

export type JournalChange = 'recorded' | 'reconnected';

export interface InvalidationJournal {
  /** Appends the keys and notifies every listening instance, in one statement. Rejects if Postgres fails. */
  record(keys: readonly string[]): Promise<void>;
  /**
   * Deletes every journaled key of the namespace from the target, a batch per transaction, until
   * none is left. `skipLocked`: leave rows that another instance is draining right now to it
   * (steady state); without it, wait for them, so that when this resolves everything recorded
   * before the call is gone from Redis (start-up and recovery, before serving from Redis).
   * Rejects if Postgres fails; a target failure is returned, since callers treat it differently.
   */
  drain(target: JournalTarget, options: { readonly skipLocked: boolean }): Promise<DrainResult>;
  /**
   * Listens on a connection of its own and calls `onChange` for every record of this namespace,
   * anywhere, and after every reconnection. Resolves after the first attempt to connect (a
   * failed one is retried in the background).
   */
  listen(onChange: (change: JournalChange) => void): Promise<void>;
  close(): Promise<void>;
}

/** The payload of the triggers' notifications: captured rows concern every namespace. */
export const CAPTURED_PAYLOAD = '*';

export interface InvalidationJournalOptions {
  /** Pooled sessions for record and drain. */
  readonly sessions: SqlSessionProvider;
  /** A new, unconnected client outside the pool, for LISTEN. */
  readonly createListenClient: () => Client;
  /** The cache namespace (`<prefix>:`): instances with another CACHE_PREFIX ignore these rows. */
  readonly namespace: string;
  /**
   * How captured identities become keys: the cache's own CacheKeys, so that on a Redis Cluster
   * they carry its clusterBuckets hash tags. Required: a default built from the namespace alone
   * would name keys the cluster's cache never wrote, and their entries would stay stale.
   */
  readonly keys: CacheKeys;
  readonly logger: Logger;
  /**
   * Beyond this many rows for the namespace, the journal is replaced by one "clear the namespace"
   * row. A long partition under heavy writes would otherwise grow it without bound, and draining
   * tens of thousands of keys key by key takes longer than clearing the prefix, which costs the
   * other instances no more than a cold cache. @default 10000 (as MAX_TRACKED_MISSED_KEYS)
   */
  readonly maxRows?: number;
  /** Rows per drain transaction (one Redis delete each). @default 500 */
  readonly batchSize?: number;
  /** First reconnection delay of the LISTEN connection; doubles per failure. @default 100 */
  readonly reconnectMinMs?: number;
  /** @default 5000 */
  readonly reconnectMaxMs?: number;
  /**
   * Every this many ms the LISTEN connection asks whether the journal grew (NEWEST_ID_SQL),
   * which bounds the capture's lag. It is the connection's heartbeat
   * too: an idle LISTEN connection sends nothing, so a path that silently drops packets would
   * otherwise go unnoticed until TCP keepalive gives up (minutes). 0 turns both off (tests).
   * @default 10
   */
  readonly pollMs?: number;
  /** A poll not answered within this many ms counts as a lost connection. @default 1000 */
  readonly heartbeatTimeoutMs?: number;
  /**
   * About every this many ms, a poll also sends the consumer heartbeat: it renews this namespace
   * in cache_capture_consumers (unseen for 5 minutes, it is dropped: no more copies, and a clear
   * when it returns), drops the namespaces unseen that long and collapses any namespace's copies
   * beyond maxRows (./captureConsumers.ts). Off with the poll. @default 1000
   */
  readonly consumerHeartbeatMs?: number;
}

/** The row that stands for "every key of the namespace": no real key ends the namespace with `*`. */
export const clearMarker = (namespace: string) => `${namespace}*`;

// One statement, so one round trip and atomic: count the namespace's rows (bounded scan), then
// either append the keys or replace every row with the clear marker; the data-modifying CTEs run
// whether referenced or not, and NOTIFY is delivered at commit.
const RECORD_SQL = `
WITH backlog AS (
  SELECT count(*) + cardinality($1::text[]) > $3::int AS over
    FROM (SELECT 1 FROM cache_missed_invalidations WHERE starts_with(cache_key, $2::text) LIMIT $3::int) AS kept
), cleared AS (
  DELETE FROM cache_missed_invalidations
   WHERE starts_with(cache_key, $2::text) AND (SELECT over FROM backlog)
), added AS (
  INSERT INTO cache_missed_invalidations (cache_key)
  SELECT missed FROM unnest($1::text[]) AS missed WHERE NOT (SELECT over FROM backlog)
  UNION ALL
  SELECT $4::text WHERE (SELECT over FROM backlog)
)
SELECT pg_notify('${JOURNAL_CHANNEL}', $2::text)`;

// This namespace's missed keys, and the captured changes (cache_key NULL), which are everyone's.
// Products first: a barcode's entry embeds its product, and a barcode refilled after its own key
// was drained reads the product through the product cache, so a product key drained in a later
// batch than its barcodes' left them embedding the old product until TTL (a 300-product bulk
// UPDATE spans batches; changeCapture.test.ts's bulk case failed 2 of 3 runs under load).
// Rows of one statement commit together, so a product's row is always in its barcodes' batch or
// an earlier one. Left open: two instances draining at once (SKIP LOCKED) can take the barcode
// rows while the other holds the product rows, a window of one batch's Redis round trip.
// An outside UPDATE of products journals 'product-with-barcodes' rows: their barcodes' keys are
// looked up here, so they are always deleted in the same batch as their product's.
// Taken: this namespace's missed keys, its copies of captured changes, and the captured changes
// not yet fanned out (cache_key and namespace NULL), which are everyone's. A looked-up barcode
// carries its product row's namespace and origin (applied, or skipped, as that row is).
const selectBatchSql = (skipLocked: boolean) => `
WITH taken AS (
  SELECT id, cache_key, kind, ident, namespace, origin FROM cache_missed_invalidations
   WHERE (cache_key IS NULL AND namespace IS NULL) OR namespace = $1::text OR starts_with(cache_key, $1::text)
   ORDER BY kind NOT IN ('product', 'product-with-barcodes'), id LIMIT $2::int
     FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}
)
SELECT id, cache_key, kind, ident, namespace, origin FROM taken
UNION ALL
SELECT NULL, NULL, 'barcode', barcodes.key, taken.namespace, taken.origin
  FROM taken JOIN barcodes
    ON barcodes.product_id = CASE WHEN taken.kind = 'product-with-barcodes' THEN taken.ident::integer END`;

interface JournalRow {
  /** Null on the barcodes a 'product-with-barcodes' row stands for (looked up, not journaled). */
  readonly id: string | null;
  readonly cache_key: string | null;
  readonly kind: string;
  readonly ident: string | null;
  /** NULL: a missed key, or a captured change not yet fanned out; else the namespace of a copy. */
  readonly namespace: string | null;
  /** The namespace whose API transaction journaled it (and invalidated it itself). */
  readonly origin: string | null;
}

/** A captured change no instance has fanned out yet: copies are made for the other namespaces. */
const unfanned = (row: JournalRow) => row.id !== null && row.cache_key === null && row.namespace === null;

// After the Redis delete, in the batch's transaction: a copy of each unfanned row for every other
// live namespace but the row's origin (which invalidated it itself), then the batch's rows go. One
// statement: the copy reads the rows the DELETE removes (both see the statement's snapshot).
const FAN_OUT_AND_DELETE_SQL = `
WITH copies AS (
  INSERT INTO cache_missed_invalidations (kind, ident, namespace, origin, recorded_at)
  SELECT row.kind, row.ident, consumer.namespace, row.origin, row.recorded_at
    FROM cache_missed_invalidations AS row
    JOIN cache_capture_consumers AS consumer
      ON consumer.dropped_at IS NULL AND consumer.namespace <> $3::text
     AND consumer.namespace IS DISTINCT FROM row.origin
   WHERE row.id = ANY($2::bigint[])
)
DELETE FROM cache_missed_invalidations WHERE id = ANY($1::bigint[])`;

/**
 * The keys a row stands for; null for "clear the namespace". A missed key is recorded as the key
 * itself (its dependents were recorded with it); a captured change maps to its keys and theirs.
 */
const keysOfRow = (row: JournalRow, keys: CacheKeys, marker: string): readonly string[] | null => {
  if (row.cache_key !== null) return row.cache_key === marker ? null : [row.cache_key];
  return capturedKeysOf(keys, row);
};

/**
 * The poll: the journal's newest id. Every row appended since the last poll moved it, so a
 * change means "drain". Reading a sequence costs the same however many rows the journal holds;
 * the EXISTS over the table that it replaces scanned every row the drains had deleted and
 * autovacuum had not yet removed (up to a minute's worth under steady writes: about 15 ms per
 * 100,000, and one poll in flight at all times took a fifth of the database's CPU from the
 * writers in npm run bench:capture -- pgbench). pg_sequence_last_value needs USAGE on the
 * sequence, which the change_capture migration grants to every role; null until the first row.
 */
const NEWEST_ID_SQL =
  "SELECT pg_sequence_last_value('cache_missed_invalidations_id_seq'::regclass)::text AS newest";

/**
 * The poll with the question the sequence cannot answer: are captured rows waiting? A row's id
 * is taken before its transaction commits, so a drain woken by the move can run before the row
 * is visible; and rows a drain left behind (its Redis failed, or its connection died mid-batch)
 * move nothing. Asked on the first poll, on every poll after one that saw the sequence move (so
 * on every poll while writes keep coming), and every PENDING_CHECK_EVERY polls.
 * What is left: a transaction that commits long after its write, with no write after it, is
 * drained within PENDING_CHECK_EVERY polls (1 s) of its commit.
 */
const NEWEST_ID_AND_PENDING_SQL = `SELECT pg_sequence_last_value('cache_missed_invalidations_id_seq'::regclass)::text AS newest,
  EXISTS (SELECT 1 FROM cache_missed_invalidations
           WHERE cache_key IS NULL AND (namespace IS NULL OR namespace = $1::text)) AS pending`;
const PENDING_CHECK_EVERY = 100;

type BatchResult =
  | { readonly kind: 'empty' }
  /** `more`: the batch was full, so rows may be left (a short batch took all there were). */
  | { readonly kind: 'done'; readonly keys: number; readonly cleared: boolean; readonly more: boolean }
  | { readonly kind: 'targetFailed'; readonly error: unknown };

export function createInvalidationJournal(options: InvalidationJournalOptions): InvalidationJournal {
  const { sessions, namespace, logger } = options;
  const maxRows = options.maxRows ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  const reconnectMinMs = options.reconnectMinMs ?? 100;
  const reconnectMaxMs = options.reconnectMaxMs ?? 5000;
  const pollMs = options.pollMs ?? 10;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 1000;
  const consumerHeartbeatMs = options.consumerHeartbeatMs ?? 1000;
  const { keys } = options;
  const marker = clearMarker(namespace);
  const listenerWarning = throttledLog();

  let listener: Client | null = null;
  let onChange: ((change: JournalChange) => void) | null = null;
  let failures = 0;
  /** After the first attempt, every successful connection is a reconnection (see listen). */
  let firstAttemptMade = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** One batch in one transaction: its rows stay locked until their keys are gone from the target. */
  const drainBatch = (target: JournalTarget, skipLocked: boolean) =>
    sessions(async (session): Promise<BatchResult> => {
      await session.exec('BEGIN');
      try {
        const rows = await session.query<JournalRow>(selectBatchSql(skipLocked), [namespace, batchSize]);
        if (rows.length === 0) {
          await session.exec('COMMIT');
          return { kind: 'empty' };
        }
        // This namespace's API already invalidated what its own transactions journaled.
        const applied = rows.filter((row) => row.origin !== namespace);
        const rowKeys = applied.map((row) => keysOfRow(row, keys, marker));
        const cleared = rowKeys.includes(null);
        const batchKeys = [...new Set(rowKeys.flatMap((found) => found ?? []))];
        if (cleared && applied.some((row) => row.cache_key === null && row.kind === 'clear'))
          logger.warn(
            { cache: 'redis' },
            'invalidation journal: the database captured a TRUNCATE or a statement beyond capture_max_keys, or this namespace missed changes: clearing the cache namespace',
          );
        try {
          if (cleared) await target.clear(namespace);
          else if (batchKeys.length > 0) await target.delete(batchKeys);
        } catch (error) {
          // The rows stay for an instance that can reach Redis; a failed rollback must not hide
          // the Redis failure (the session is discarded either way).
          await session.exec('ROLLBACK').catch(() => {});
          return { kind: 'targetFailed', error };
        }
        const ids = rows.flatMap((row) => (row.id === null ? [] : [row.id]));
        await session.query(FAN_OUT_AND_DELETE_SQL, [
          ids,
          rows.filter(unfanned).map((row) => row.id),
          namespace,
        ]);
        await session.exec('COMMIT');
        return { kind: 'done', keys: cleared ? 0 : batchKeys.length, cleared, more: ids.length >= batchSize };
      } catch (error) {
        await session.exec('ROLLBACK').catch(() => {});
        throw error;
      }
    });

  const scheduleReconnect = (error: unknown) => {
    if (closed || retryTimer) return;
    const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** failures++);
    listenerWarning((suppressed) =>
      logger.warn(
        { err: error, retryInMs: delay, suppressed },
        'invalidation journal: LISTEN connection lost, reconnecting',
      ),
    );
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connectListener();
    }, delay);
    retryTimer.unref();
  };

  /**
   * Polls on the LISTEN connection every pollMs (one poll in flight at a time): captured rows
   * waiting → 'recorded'. No answer within heartbeatTimeoutMs (a black-holed path), or an error,
   * ends the connection and reconnects. The socket is destroyed rather than ended: a polite end
   * would wait on the same dead path.
   */
  const startPolling = (client: Client, onLost: (error?: unknown) => void) => {
    if (pollMs <= 0) return;
    let inFlight = false;
    let polls = 0;
    /** The journal's newest id at the last poll; undefined before the first. */
    let newestSeen: string | null | undefined;
    /** The sequence moved at the last poll: the next one asks for waiting rows too. */
    let movedLastPoll = false;
    let heartbeatAt = Date.now();
    const poll = setInterval(() => {
      if (listener !== client) {
        clearInterval(poll);
        return;
      }
      if (inFlight) return;
      inFlight = true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`LISTEN connection: no answer within ${heartbeatTimeoutMs} ms`)),
          heartbeatTimeoutMs,
        );
        timer.unref();
      });
      polls++;
      const checkPending = newestSeen === undefined || movedLastPoll || polls % PENDING_CHECK_EVERY === 0;
      const heartbeatDue = Date.now() - heartbeatAt >= consumerHeartbeatMs;
      if (heartbeatDue) heartbeatAt = Date.now();
      const heartbeat = heartbeatDue
        ? consumerHeartbeat(client, { namespace, maxRows, logger })
        : Promise.resolve(false);
      const asked = heartbeat.then((copiesWaiting) =>
        (checkPending
          ? client.query<{ newest: string | null; pending?: boolean }>(NEWEST_ID_AND_PENDING_SQL, [namespace])
          : client.query<{ newest: string | null; pending?: boolean }>(NEWEST_ID_SQL)
        ).then(({ rows: [answer] }) => {
          const newest = answer?.newest ?? null;
          const moved = newestSeen !== undefined && newest !== newestSeen;
          newestSeen = newest;
          movedLastPoll = moved;
          return copiesWaiting || moved || answer?.pending === true;
        }),
      );
      Promise.race([asked, timedOut]).then(
        (pending) => {
          clearTimeout(timer);
          inFlight = false;
          if (pending && listener === client) onChange?.('recorded');
        },
        (error: unknown) => {
          clearTimeout(timer);
          clearInterval(poll);
          (
            client as unknown as { connection?: { stream?: { destroy(): void } } }
          ).connection?.stream?.destroy();
          onLost(error);
        },
      );
    }, pollMs);
    poll.unref();
  };

  const connectListener = async (): Promise<void> => {
    if (closed) return;
    const client = options.createListenClient();
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (listener === client) listener = null;
      void client.end().catch(() => {});
      scheduleReconnect(error ?? new Error('connection ended'));
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message: Notification) => {
      if (
        message.channel === JOURNAL_CHANNEL &&
        (message.payload === namespace || message.payload === CAPTURED_PAYLOAD)
      )
        onChange?.('recorded');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${JOURNAL_CHANNEL}`);
      // Registered before listen() resolves, so before the start-up drain: a change captured from
      // here on gets a copy for this namespace, whoever drains it.
      await consumerHeartbeat(client, { namespace, maxRows, logger });
    } catch (error) {
      onLost(error);
      return;
    }
    if (lost) return;
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    listener = client;
    failures = 0;
    startPolling(client, onLost);
    if (firstAttemptMade) {
      logger.info('invalidation journal: LISTEN connection back');
      onChange?.('reconnected');
    }
  };

  return {
    async record(keys) {
      if (keys.length === 0) return;
      await sessions((session) => session.query(RECORD_SQL, [keys, namespace, maxRows, marker]));
    },

    async drain(target, { skipLocked }) {
      let keys = 0;
      let cleared = false;
      for (;;) {
        const batch = await drainBatch(target, skipLocked);
        switch (batch.kind) {
          case 'empty':
            return { kind: 'drained', keys, cleared };
          case 'done':
            keys += batch.keys;
            cleared ||= batch.cleared;
            // A short batch took every row there was: asking again would cost a transaction for
            // nothing (rows appended since move the sequence, and the next poll drains them).
            if (!batch.more) return { kind: 'drained', keys, cleared };
            break;
          case 'targetFailed':
            // Other instances skipped these rows while they were locked: tell them to try again.
            await sessions((session) =>
              session.query(`SELECT pg_notify('${JOURNAL_CHANNEL}', $1::text)`, [namespace]),
            ).catch(() => {});
            return { kind: 'targetFailed', error: batch.error, keys };
          default: {
            const unreachable: never = batch;
            throw new Error(`unknown batch result ${JSON.stringify(unreachable)}`);
          }
        }
      }
    },

    async listen(handler) {
      onChange = handler;
      await connectListener();
      // A failed first attempt that succeeds later counts as a reconnection: notifications sent
      // until then were never seen here.
      firstAttemptMade = true;
    },

    async close() {
      closed = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      const client = listener;
      listener = null;
      await client?.end().catch(() => {});
    },
  };
}
