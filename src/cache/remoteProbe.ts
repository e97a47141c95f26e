// The background probe: while the breaker is open, checks every interval whether Redis can
// serve reads again, one check at a time, until the caller says to stop.
import { randomUUID } from 'node:crypto';
import type { CacheBackend } from './backend';

export interface RemoteProbeOptions {
  readonly remote: CacheBackend;
  /** This instance's own key for the check (instances sharing Redis must not see each other's lease). */
  readonly namespace: string;
  readonly intervalMs: number;
  /** Runs after each interval; `check()` is what tells whether Redis answers. */
  readonly onTick: () => Promise<void>;
  /** Asked after each tick: whether to schedule another. */
  readonly again: () => boolean;
}

export class RemoteProbe {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly probeKey: string;

  constructor(private readonly options: RemoteProbeOptions) {
    this.probeKey = `${options.namespace}probe:${randomUUID()}`;
  }

  /**
   * Whether Redis can serve reads: it answers (PING) and runs a lookup's read, which writes a
   * lease. A PING alone passes on a Redis that refuses writes (maxmemory reached with noeviction,
   * a command denied by an ACL, a read-only replica), and the breaker would close only for the
   * next request to fail again, every probe interval. Throws what Redis threw.
   */
  async check(): Promise<void> {
    const { remote } = this.options;
    await remote.ping();
    await remote.readLeased([this.probeKey]);
    await remote.delete([this.probeKey]);
  }

  /** Schedules the next tick, unless one is pending: the next starts only after the previous finished. */
  schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(async () => {
      await this.options.onTick();
      this.timer = undefined;
      if (this.options.again()) this.schedule();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
