// This instance's side of the invalidation journal (./invalidationJournal.ts): it records the
// keys it could not delete from Redis, and deletes from Redis what any instance recorded, as
// soon as it is notified while it serves from Redis, and through recovery before it serves
// again. Postgres failing never stops Redis from serving: a failed drain is retried every
// interval, a failed record leaves the keys with this instance only.
import type { Logger } from '../logger';
import { throttledLog } from '../logThrottle';
import type { InvalidationJournal, JournalTarget } from './invalidationJournal';
import type { CacheStats } from './stats';

export interface JournalSyncOptions {
  readonly journal: InvalidationJournal;
  /** Redis, where drained keys are deleted. */
  readonly target: JournalTarget;
  /** How long after a drain that Postgres failed the next one is tried. */
  readonly retryIntervalMs: number;
  readonly stats: CacheStats;
  readonly logger: Logger;
  /** Whether this instance serves from Redis now: only then does it drain on a notification. */
  readonly serving: () => boolean;
  /** Redis failed during a drain on a notification (the caller opens the breaker). */
  readonly onTargetFailed: (error: unknown) => void;
}

export class JournalSync {
  /**
   * The journal may hold keys this instance has not deleted: set when anyone records (a
   * notification), after the LISTEN connection came back, and initially; cleared when a drain starts.
   */
  private dirtyFlag = true;
  private draining = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** A down database fails every journal call; logged once per interval. */
  private readonly warning = throttledLog();
  /** Steady-state drains, logged once per interval: each means another instance is cut off from Redis. */
  private readonly drainedLog = throttledLog();

  constructor(private readonly options: JournalSyncOptions) {}

  /** Whether recovery must drain before Redis serves. */
  get dirty(): boolean {
    return this.dirtyFlag;
  }

  /** Starts listening; a record made while the start-up drain runs is then drained too. */
  listen(): Promise<void> {
    return this.options.journal.listen(() => this.changed());
  }

  /** Appends keys whose Redis delete did not happen, for the instances that can reach Redis now. */
  async record(keys: readonly string[]): Promise<void> {
    try {
      await this.options.journal.record(keys);
    } catch (error) {
      this.failed('record', error);
    }
  }

  /**
   * One pass over the journal, waiting for rows other instances are draining (recovery, before
   * serving). Returns the keys (or namespaces, as 1) it deleted; throws what Redis threw; returns
   * null when Postgres failed: the journal stays marked and a later pass is scheduled, while
   * Redis serves meanwhile (holding every lookup on the fallback for a journal we cannot read
   * would turn a Postgres hiccup into a cache outage).
   */
  drainBeforeServing(): Promise<number | null> {
    return this.drain({ skipLocked: false });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.options.journal.close();
  }

  /** A record anywhere, or the LISTEN connection back: drain now if serving from Redis, else at recovery. */
  private changed(): void {
    this.dirtyFlag = true;
    if (this.options.serving()) void this.drainWhileServing();
  }

  /** One drain loop at a time; a notification during a drain makes it go round again. */
  private async drainWhileServing(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirtyFlag && this.options.serving() && !this.stopped) {
        let drained: number | null;
        try {
          drained = await this.drain({ skipLocked: true });
        } catch (error) {
          this.options.onTargetFailed(error);
          return;
        }
        if (drained === null) return; // Postgres failed: drain() scheduled a retry
        if (drained > 0) {
          const keys = drained;
          this.drainedLog((suppressed) =>
            this.options.logger.info(
              { cache: 'redis', keys, suppressed },
              'Deleted keys another instance could not invalidate (invalidation journal)',
            ),
          );
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async drain(options: { skipLocked: boolean }): Promise<number | null> {
    this.dirtyFlag = false;
    let result;
    try {
      result = await this.options.journal.drain(this.options.target, options);
    } catch (error) {
      this.dirtyFlag = true;
      this.failed('drain', error);
      this.scheduleRetry();
      return null;
    }
    if (result.kind === 'targetFailed') {
      this.dirtyFlag = true;
      throw result.error;
    }
    return result.keys + (result.cleared ? 1 : 0);
  }

  /**
   * After a drain that Postgres failed, tries again every interval until one succeeds: no
   * notification need come (the LISTEN connection can stay up while the pool fails or a
   * statement times out), and until the drain succeeds Redis may hold keys another instance
   * could not delete.
   */
  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.dirtyFlag) this.changed();
    }, this.options.retryIntervalMs);
    this.retryTimer.unref();
  }

  private failed(operation: 'record' | 'drain', error: unknown): void {
    this.options.stats.error('journal', operation);
    this.warning((suppressed) =>
      this.options.logger.warn(
        { err: error, operation, suppressed },
        operation === 'record'
          ? 'Invalidation journal unavailable: missed invalidations stay with this instance only'
          : 'Invalidation journal unavailable: serving from Redis without draining it',
      ),
    );
  }
}
