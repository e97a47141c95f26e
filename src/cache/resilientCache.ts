// The one guarded path to the cache. Redis (the "remote" backend) sits behind a circuit breaker:
// the first failed command switches every request to the fallback at once (nobody waits for a
// Redis timeout twice), a background probe pings Redis, and when it answers, the keys whose
// invalidation could not reach it are deleted (or the whole namespace cleared) before Redis
// serves again, so no entry that missed an invalidation is ever read. The fallback (database or
// memory backend) is invalidated on every write too, so it is coherent whenever it takes over.
//
// With several instances on one Redis, the keys one instance could not delete are also appended
// to the invalidation journal (Postgres, ./invalidationJournal.ts), which every instance drains as
// soon as it is notified, while its Redis is healthy, and before it serves from Redis at all
// (start-up, recovery): an instance cut off from Redis no longer leaves the others serving what
// it changed.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';
import type { CacheBackend, LeasedFill, LeasedRead } from './backend';
import type { InvalidationJournal } from './invalidationJournal';
import type { ActiveBackend, CacheStats } from './stats';

export type CacheState =
  | { readonly kind: 'primary' }
  | { readonly kind: 'fallback'; readonly reason: string; readonly since: number }
  | { readonly kind: 'recovering'; readonly since: number };

/** Beyond this many keys that missed an invalidation, recovery clears the whole namespace instead. */
export const MAX_TRACKED_MISSED_KEYS = 10_000;

export interface CacheRead {
  readonly slots: LeasedRead[];
  /** Where the leases came from; fills go back there (or nowhere if null). */
  readonly source: CacheBackend | null;
}

export interface ResilientCacheOptions {
  /** Redis or a Redis Cluster, or null when neither REDIS_URL nor REDIS_CLUSTER_NODES is set or another backend is forced. */
  readonly remote: CacheBackend | null;
  /** The database or memory backend, or null for none. */
  readonly fallback: CacheBackend | null;
  readonly namespace: string;
  readonly probeIntervalMs: number;
  readonly stats: CacheStats;
  readonly logger: Logger;
  /** Why the remote is not configured, for the start-up line ("REDIS_URL not set"). */
  readonly remoteAbsentReason?: string;
  /** How log lines name the remote. @default 'External Redis Cache' */
  readonly remoteName?: string;
  /** Said next to the remote's name when it starts serving ("3 seed nodes"). */
  readonly remoteNote?: string;
  /**
   * Shares missed invalidations with the other instances (Postgres only; null with one process,
   * e.g. on PGlite, or without a remote). @default null
   */
  readonly journal?: InvalidationJournal | null;
}

const DISPLAY_NAMES: Record<string, string> = {
  redis: 'External Redis Cache',
  database: 'Database Cache',
  memory: 'In-Memory Cache',
};

export class ResilientCache {
  private state: CacheState = { kind: 'primary' };
  private probeTimer: NodeJS.Timeout | undefined;
  private journalRetryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly missedKeys = new Set<string>();
  private missedAll = false;
  /**
   * The journal may hold keys this instance has not deleted: set when anyone records (a
   * notification), after the LISTEN connection came back, and initially; cleared when a drain starts.
   */
  private journalDirty: boolean;
  private journalDraining = false;
  /** Set once start() has chosen a backend; notifications before that wait for it. */
  private started = false;
  /** A down database fails every journal call; logged once per interval. */
  private readonly journalWarning = throttledLog();
  /** Steady-state drains, logged once per interval: each means another instance is cut off from Redis. */
  private readonly journalDrainedLog = throttledLog();
  private lastRemoteError: string | undefined;
  /** This instance's own key for checkRemote (instances sharing Redis must not see each other's lease). */
  private readonly probeKey: string;
  /** A down database fails every fallback call; it is logged once per interval, not per call. */
  private readonly fallbackWarning = throttledLog();

  constructor(private readonly options: ResilientCacheOptions) {
    this.probeKey = `${options.namespace}probe:${randomUUID()}`;
    this.journalDirty = Boolean(options.journal);
  }

  /** The error listener to give the remote client: remembers why it failed, for the log line. */
  readonly onRemoteError = (error: Error) => {
    this.lastRemoteError = describeError(error);
  };

  /** Checks the remote once and logs exactly one line naming the backend in use. */
  async start(): Promise<void> {
    const { remote, logger } = this.options;
    if (!remote) {
      this.state = { kind: 'primary' };
      this.publish();
      const reason = this.options.remoteAbsentReason ?? 'REDIS_URL not set';
      if (this.options.fallback)
        logger.warn({ cache: this.options.fallback.name }, `⚠️ ${reason}: using ${this.fallbackName()}`);
      else logger.warn({ cache: 'none' }, `⚠️ ${reason}: caching is off`);
      this.started = true;
      return;
    }
    // Listening first: a record made while the start-up drain runs is then drained too.
    await this.options.journal?.listen(() => this.journalChanged());
    try {
      await this.checkRemote(remote);
      const journaled = await this.drainJournalBeforeServing(remote);
      this.state = { kind: 'primary' };
      this.publish();
      logger.info(
        { cache: 'redis', ...(this.options.journal && { journaledInvalidations: journaled }) },
        `✅ Using ${this.remoteServing()}`,
      );
    } catch (error) {
      const reason = this.lastRemoteError ?? describeError(error);
      this.enterFallback(reason);
      logger.warn(
        { cache: 'redis', reason },
        `⚠️ Redis unreachable (${reason}): using ${this.fallbackName()} fallback`,
      );
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    clearTimeout(this.journalRetryTimer);
    this.journalRetryTimer = undefined;
    await this.options.journal?.close();
    await this.options.remote?.close();
    await this.options.fallback?.close();
  }

  status(): { backend: ActiveBackend; degraded: boolean; state: CacheState } {
    const serving = this.serving();
    return {
      backend: (serving?.name.toUpperCase() ?? 'NONE') as ActiveBackend,
      degraded: this.options.remote !== null && this.state.kind !== 'primary',
      state: this.state,
    };
  }

  async read(keys: readonly string[]): Promise<CacheRead> {
    const { remote, fallback } = this.options;
    if (remote && this.state.kind === 'primary') {
      try {
        return { slots: await remote.readLeased(keys), source: remote };
      } catch (error) {
        this.remoteFailed('read', error);
      }
    }
    if (!fallback) return { slots: keys.map(() => ({ lease: null })), source: null };
    try {
      return { slots: await fallback.readLeased(keys), source: fallback };
    } catch (error) {
      this.fallbackFailed('read', error);
      return { slots: keys.map(() => ({ lease: null })), source: null };
    }
  }

  async fill(source: CacheBackend | null, fills: readonly LeasedFill[]): Promise<void> {
    if (!source || fills.length === 0) return;
    if (source === this.options.remote && this.state.kind !== 'primary') return;
    try {
      await source.fillLeased(fills);
    } catch (error) {
      if (source === this.options.remote) this.remoteFailed('fill', error);
      else this.fallbackFailed('fill', error);
    }
  }

  /**
   * Deletes the keys everywhere they may be cached. Resolves once done (a mutation answers only
   * after this); a Redis failure is counted, logged, opens the breaker and records the keys for
   * recovery, so an invalidation is never silently lost.
   */
  async invalidate(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const { remote, fallback } = this.options;
    const remoteDone = (async () => {
      if (!remote) return;
      if (this.state.kind !== 'primary') return this.recordMissed(keys);
      try {
        await remote.delete(keys);
      } catch (error) {
        this.remoteFailed('invalidate', error);
        await this.recordMissed(keys);
      }
    })();
    const fallbackDone = (async () => {
      if (!fallback) return;
      try {
        await fallback.delete(keys);
      } catch (error) {
        this.fallbackFailed('invalidate', error);
      }
    })();
    await Promise.all([remoteDone, fallbackDone]);
  }

  /** Removes everything under the namespace from every backend; returns how many keys. */
  async clear(): Promise<number> {
    const backends = [this.options.remote, this.options.fallback].filter(
      (b): b is CacheBackend => b !== null,
    );
    const counts = await Promise.all(backends.map((b) => b.clear(this.options.namespace)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** The backend serving lookups now, or null when caching is off. */
  serving(): CacheBackend | null {
    return this.options.remote && this.state.kind === 'primary' ? this.options.remote : this.options.fallback;
  }

  /** The display name of the backend serving lookups now ('no cache' when caching is off). */
  servingName(): string {
    const serving = this.serving();
    if (!serving) return 'no cache';
    return serving === this.options.remote ? this.remoteName() : DISPLAY_NAMES[serving.name]!;
  }

  private remoteName(): string {
    return this.options.remoteName ?? DISPLAY_NAMES.redis!;
  }

  /** "External Redis Cache (BEST PERFORMANCE)", with the remote's note if any. */
  private remoteServing(): string {
    const note = [this.options.remoteNote, 'BEST PERFORMANCE'].filter(Boolean).join(', ');
    return `${this.remoteName()} (${note})`;
  }

  private fallbackName(): string {
    return this.options.fallback ? DISPLAY_NAMES[this.options.fallback.name]! : 'no cache';
  }

  private publish(): void {
    const { backend, degraded } = this.status();
    this.options.stats.activeBackend(backend, degraded);
  }

  /**
   * Records keys whose Redis delete did not happen: in memory (replayed by this instance's own
   * recovery, which must not depend on the journal's round trip having finished) and in the
   * journal, for the instances that can reach Redis now. If Postgres fails as well, the memory
   * record is all there is, as without a journal.
   */
  private async recordMissed(keys: readonly string[]): Promise<void> {
    this.options.stats.missedInvalidations(keys.length);
    if (!this.missedAll) {
      for (const key of keys) this.missedKeys.add(key);
      if (this.missedKeys.size > MAX_TRACKED_MISSED_KEYS) {
        this.missedAll = true;
        this.missedKeys.clear();
      }
    }
    const journal = this.options.journal;
    if (!journal) return;
    try {
      await journal.record(keys);
    } catch (error) {
      this.journalFailed('record', error);
    }
  }

  private journalFailed(operation: string, error: unknown): void {
    this.options.stats.error('journal', operation);
    this.journalWarning((suppressed) =>
      this.options.logger.warn(
        { err: error, operation, suppressed },
        operation === 'record'
          ? 'Invalidation journal unavailable: missed invalidations stay with this instance only'
          : 'Invalidation journal unavailable: serving from Redis without draining it',
      ),
    );
  }

  /** A record anywhere, or the LISTEN connection back: drain now if serving from Redis, else at recovery. */
  private journalChanged(): void {
    this.journalDirty = true;
    if (this.started && this.state.kind === 'primary') void this.drainJournalWhilePrimary();
  }

  /** One drain loop at a time; a notification during a drain makes it go round again. */
  private async drainJournalWhilePrimary(): Promise<void> {
    const remote = this.options.remote;
    if (this.journalDraining || !remote) return;
    this.journalDraining = true;
    try {
      while (this.journalDirty && this.state.kind === 'primary' && !this.stopped) {
        let drained: number | null;
        try {
          drained = await this.drainJournal(remote, { skipLocked: true });
        } catch (error) {
          this.remoteFailed('journal', error);
          return;
        }
        if (drained === null) return; // Postgres failed: drainJournal scheduled a retry
        if (drained > 0) {
          const keys = drained;
          this.journalDrainedLog((suppressed) =>
            this.options.logger.info(
              { cache: 'redis', keys, suppressed },
              'Deleted keys another instance could not invalidate (invalidation journal)',
            ),
          );
        }
      }
    } finally {
      this.journalDraining = false;
    }
  }

  /**
   * Before serving from Redis (start-up): waits for rows other instances are draining. Throws if
   * Redis fails; if Postgres fails, serves anyway (see drainJournal).
   */
  private async drainJournalBeforeServing(remote: CacheBackend): Promise<number> {
    let total = 0;
    while (this.journalDirty) {
      const drained = await this.drainJournal(remote, { skipLocked: false });
      if (drained === null) break;
      total += drained;
    }
    return total;
  }

  /**
   * One pass over the journal. Returns the keys (or namespaces, as 1) it deleted; throws what the
   * remote threw; returns null when Postgres failed: the journal stays marked and a later pass is
   * scheduled, while Redis serves meanwhile (holding every lookup on the fallback for a journal we
   * cannot read would turn a Postgres hiccup into a cache outage).
   */
  private async drainJournal(remote: CacheBackend, options: { skipLocked: boolean }): Promise<number | null> {
    const journal = this.options.journal;
    if (!journal) return 0;
    this.journalDirty = false;
    let result;
    try {
      result = await journal.drain(remote, options);
    } catch (error) {
      this.journalDirty = true;
      this.journalFailed('drain', error);
      this.scheduleJournalRetry();
      return null;
    }
    if (result.kind === 'targetFailed') {
      this.journalDirty = true;
      throw result.error;
    }
    return result.keys + (result.cleared ? 1 : 0);
  }

  /**
   * After a drain that Postgres failed, tries again every probe interval until one succeeds: no
   * notification need come (the LISTEN connection can stay up while the pool fails or a
   * statement times out), and until the drain succeeds Redis may hold keys another instance
   * could not delete.
   */
  private scheduleJournalRetry(): void {
    if (this.journalRetryTimer || this.stopped) return;
    this.journalRetryTimer = setTimeout(() => {
      this.journalRetryTimer = undefined;
      if (this.journalDirty) this.journalChanged();
    }, this.options.probeIntervalMs);
    this.journalRetryTimer.unref();
  }

  private remoteFailed(operation: string, error: unknown): void {
    this.options.stats.error('redis', operation);
    if (this.state.kind !== 'primary') return;
    const reason = describeError(error);
    this.enterFallback(reason);
    this.options.logger.warn(
      { cache: 'redis', operation, reason },
      `⚠️ Redis failed (${reason}): switching to ${this.fallbackName()} until it answers again`,
    );
  }

  private fallbackFailed(operation: string, error: unknown): void {
    this.options.stats.error(this.options.fallback?.name ?? 'none', operation);
    this.fallbackWarning((suppressed) =>
      this.options.logger.warn({ err: error, operation, suppressed }, `${this.fallbackName()} failed`),
    );
  }

  private enterFallback(reason: string): void {
    this.state = { kind: 'fallback', reason, since: Date.now() };
    this.publish();
    this.scheduleProbe();
  }

  /**
   * Whether Redis can serve reads: it answers (PING) and runs the read script, which writes a
   * lease. A PING alone passes on a Redis that refuses writes (maxmemory reached with noeviction,
   * EVALSHA denied by an ACL, a read-only replica), and the breaker would close only for the next
   * request to fail again, every probe interval.
   */
  private async checkRemote(remote: CacheBackend): Promise<void> {
    await remote.ping();
    await remote.readLeased([this.probeKey]);
    await remote.delete([this.probeKey]);
  }

  /** One probe at a time: the next is scheduled only after the previous one has finished. */
  private scheduleProbe(): void {
    if (this.probeTimer || this.stopped) return;
    this.probeTimer = setTimeout(async () => {
      await this.probe();
      this.probeTimer = undefined;
      if (this.state.kind !== 'primary') this.scheduleProbe();
    }, this.options.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** One background check; on success, replays missed invalidations, then resumes Redis. */
  private async probe(): Promise<void> {
    const remote = this.options.remote;
    if (!remote || this.state.kind !== 'fallback') return;
    const since = this.state.since;
    try {
      await this.checkRemote(remote);
    } catch {
      return;
    }
    if (this.state.kind !== 'fallback') return;
    this.state = { kind: 'recovering', since };
    try {
      // Invalidations that arrive while replaying are recorded too; loop until none are left.
      // Then the journal: what other instances could not invalidate (all of it, waiting for rows
      // another instance is draining), so the first instance back never serves what they missed.
      let replayed = 0;
      let journaled = 0;
      let journalReachable = true;
      while (this.missedAll || this.missedKeys.size > 0 || (this.journalDirty && journalReachable)) {
        if (this.missedAll) {
          this.missedAll = false;
          this.missedKeys.clear();
          try {
            replayed += await remote.clear(this.options.namespace);
          } catch (error) {
            this.missedAll = true;
            throw error;
          }
        } else if (this.missedKeys.size > 0) {
          const keys = [...this.missedKeys];
          await remote.delete(keys);
          for (const key of keys) this.missedKeys.delete(key);
          replayed += keys.length;
        } else {
          const drained = await this.drainJournal(remote, { skipLocked: false });
          if (drained === null) journalReachable = false;
          else journaled += drained;
        }
      }
      this.state = { kind: 'primary' };
      this.publish();
      this.options.logger.info(
        {
          cache: 'redis',
          downMs: Date.now() - since,
          replayedInvalidations: replayed,
          ...(this.options.journal && { journaledInvalidations: journaled }),
        },
        `✅ Redis answers again: using ${this.remoteServing()}`,
      );
    } catch (error) {
      // Still unhealthy: stay on the fallback, keep what is left to replay, probe again later.
      this.state = { kind: 'fallback', reason: describeError(error), since };
    }
  }
}

/** A short reason for logs: the error's message without anything that looks like credentials. */
export function describeError(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^(\w*Error: )+/, '');
  return message.replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 200);
}
