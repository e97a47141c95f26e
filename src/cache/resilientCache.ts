// The one guarded path to the cache. Redis (the "remote" backend) sits behind a circuit breaker
// (./circuitBreaker.ts): the first failed command switches every request to the fallback at once
// (nobody waits for a Redis timeout twice), a background probe (./remoteProbe.ts) checks Redis,
// and when it answers, recovery (./recovery.ts) deletes the keys whose invalidation could not
// reach it before Redis serves again, so no entry that missed an invalidation is ever read. The
// fallback (database or memory backend) is invalidated on every write too, so it is coherent
// whenever it takes over.
//
// With several instances on one Redis, the keys one instance could not delete also go into the
// invalidation journal (Postgres, ./journalSync.ts), which every instance drains as soon as it is
// notified, while its Redis is healthy, and before it serves from Redis at all (start-up,
// recovery): an instance cut off from Redis no longer leaves the others serving what it changed.
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';
import type { CacheBackend, LeasedFill, LeasedRead } from './backend';
import { BackendNames } from './backendNames';
import { CircuitBreaker, type CacheState } from './circuitBreaker';
import { describeError } from './describeError';
import type { InvalidationJournal } from './invalidationJournal';
import { JournalSync } from './journalSync';
import { MissedInvalidations } from './missedInvalidations';
import { prepareRemote, type Recovered } from './recovery';
import { RemoteProbe } from './remoteProbe';
import type { ActiveBackend, CacheStats } from './stats';

export type { CacheState } from './circuitBreaker';

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
  /** The breaker's clock (outage start and length). @default Date.now */
  readonly now?: () => number;
}

export class ResilientCache {
  private readonly breaker: CircuitBreaker;
  private readonly names: BackendNames;
  private readonly missed = new MissedInvalidations();
  /** Null without a remote or without a journal. */
  private readonly journal: JournalSync | null;
  private readonly probe: RemoteProbe | null;
  /** Set once start() has chosen a backend; journal notifications before that wait for it. */
  private started = false;
  private lastRemoteError: string | undefined;
  /** A down database fails every fallback call; it is logged once per interval, not per call. */
  private readonly fallbackWarning = throttledLog();

  constructor(private readonly options: ResilientCacheOptions) {
    const { remote, journal } = options;
    this.breaker = new CircuitBreaker(options.now);
    this.names = new BackendNames(options);
    this.journal =
      remote && journal
        ? new JournalSync({
            journal,
            target: remote,
            retryIntervalMs: options.probeIntervalMs,
            stats: options.stats,
            logger: options.logger,
            serving: () => this.started && this.breaker.closed,
            onTargetFailed: (error) => this.remoteFailed('journal', error),
          })
        : null;
    this.probe = remote
      ? new RemoteProbe({
          remote,
          namespace: options.namespace,
          intervalMs: options.probeIntervalMs,
          onTick: () => this.tryRecovery(),
          again: () => !this.breaker.closed,
        })
      : null;
  }

  /** The error listener to give the remote client: remembers why it failed, for the log line. */
  readonly onRemoteError = (error: Error) => {
    this.lastRemoteError = describeError(error);
  };

  /** Checks the remote once and logs exactly one line naming the backend in use. */
  async start(): Promise<void> {
    const { remote, fallback, logger } = this.options;
    if (!remote || !this.probe) {
      this.publish();
      const reason = this.options.remoteAbsentReason ?? 'REDIS_URL not set';
      if (fallback) logger.warn({ cache: fallback.name }, `⚠️ ${reason}: using ${this.names.fallback()}`);
      else logger.warn({ cache: 'none' }, `⚠️ ${reason}: caching is off`);
      this.started = true;
      return;
    }
    // Listening first: a record made while the start-up drain runs is then drained too.
    await this.journal?.listen();
    try {
      await this.probe.check();
      const { journaled } = await this.prepare(remote);
      this.breaker.close();
      this.publish();
      logger.info(
        { cache: 'redis', ...(this.journal && { journaledInvalidations: journaled }) },
        `✅ Using ${this.names.remoteServing()}`,
      );
    } catch (error) {
      const reason = this.lastRemoteError ?? describeError(error);
      this.openBreaker(reason);
      logger.warn(
        { cache: 'redis', reason },
        `⚠️ Redis unreachable (${reason}): using ${this.names.fallback()} fallback`,
      );
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    this.probe?.stop();
    if (this.journal) await this.journal.stop();
    else await this.options.journal?.close();
    await this.options.remote?.close();
    await this.options.fallback?.close();
  }

  status(): { backend: ActiveBackend; degraded: boolean; state: CacheState } {
    const serving = this.serving();
    return {
      backend: (serving?.name.toUpperCase() ?? 'NONE') as ActiveBackend,
      degraded: this.options.remote !== null && !this.breaker.closed,
      state: this.breaker.state,
    };
  }

  async read(keys: readonly string[]): Promise<CacheRead> {
    const { remote, fallback } = this.options;
    if (remote && this.breaker.closed) {
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
    if (source === this.options.remote && !this.breaker.closed) return;
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
      if (!this.breaker.closed) return this.recordMissed(keys);
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

  /**
   * invalidate() for the whole namespace, on the same guarded path: with the breaker open Redis
   * is not touched and recovery clears it before it serves again; a failed clear opens the
   * breaker and does the same. The fallback is cleared either way. Nothing goes to the journal:
   * the writes that call this (beyond capture_max_keys) have queued their own "clear" row there.
   */
  async invalidateAll(): Promise<void> {
    const { remote, fallback, namespace } = this.options;
    const remoteDone = (async () => {
      if (!remote) return;
      if (!this.breaker.closed) return this.missed.markAll();
      try {
        await remote.clear(namespace);
      } catch (error) {
        this.remoteFailed('clear', error);
        this.missed.markAll();
      }
    })();
    const fallbackDone = (async () => {
      if (!fallback) return;
      try {
        await fallback.clear(namespace);
      } catch (error) {
        this.fallbackFailed('clear', error);
      }
    })();
    await Promise.all([remoteDone, fallbackDone]);
  }

  /**
   * Removes everything under the namespace from every backend, unguarded (cache:clear, which
   * must fail loudly); returns how many keys.
   */
  async clear(): Promise<number> {
    const backends = [this.options.remote, this.options.fallback].filter(
      (b): b is CacheBackend => b !== null,
    );
    const counts = await Promise.all(backends.map((b) => b.clear(this.options.namespace)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** The backend serving lookups now, or null when caching is off. */
  serving(): CacheBackend | null {
    return this.options.remote && this.breaker.closed ? this.options.remote : this.options.fallback;
  }

  /** The display name of the backend serving lookups now ('no cache' when caching is off). */
  servingName(): string {
    return this.names.of(this.serving());
  }

  private publish(): void {
    const { backend, degraded } = this.status();
    this.options.stats.activeBackend(backend, degraded);
  }

  /**
   * Records keys whose Redis delete did not happen: in memory (replayed by this instance's own
   * recovery) and in the journal, for the instances that can reach Redis now. If Postgres fails
   * as well, the memory record is all there is, as without a journal.
   */
  private async recordMissed(keys: readonly string[]): Promise<void> {
    this.options.stats.missedInvalidations(keys.length);
    this.missed.add(keys);
    await this.journal?.record(keys);
  }

  private prepare(remote: CacheBackend): Promise<Recovered> {
    return prepareRemote({
      remote,
      namespace: this.options.namespace,
      missed: this.missed,
      journal: this.journal,
    });
  }

  private remoteFailed(operation: string, error: unknown): void {
    this.options.stats.error('redis', operation);
    if (!this.breaker.closed) return;
    const reason = describeError(error);
    this.openBreaker(reason);
    this.options.logger.warn(
      { cache: 'redis', operation, reason },
      `⚠️ Redis failed (${reason}): switching to ${this.names.fallback()} until it answers again`,
    );
  }

  private fallbackFailed(operation: string, error: unknown): void {
    this.options.stats.error(this.options.fallback?.name ?? 'none', operation);
    this.fallbackWarning((suppressed) =>
      this.options.logger.warn({ err: error, operation, suppressed }, `${this.names.fallback()} failed`),
    );
  }

  private openBreaker(reason: string): void {
    this.breaker.open(reason);
    this.publish();
    this.probe?.schedule();
  }

  /** One probe tick: if Redis answers, recovery runs, then Redis serves again. */
  private async tryRecovery(): Promise<void> {
    const { remote } = this.options;
    if (!remote || !this.probe || this.breaker.state.kind !== 'fallback') return;
    try {
      await this.probe.check();
    } catch {
      return;
    }
    if (!this.breaker.beginRecovery()) return;
    try {
      const { replayed, journaled } = await this.prepare(remote);
      const downMs = this.breaker.close();
      this.publish();
      this.options.logger.info(
        {
          cache: 'redis',
          downMs,
          replayedInvalidations: replayed,
          ...(this.journal && { journaledInvalidations: journaled }),
        },
        `✅ Redis answers again: using ${this.names.remoteServing()}`,
      );
    } catch (error) {
      // Still unhealthy: stay on the fallback, keep what is left to replay, probe again later.
      this.breaker.recoveryFailed(describeError(error));
    }
  }
}
