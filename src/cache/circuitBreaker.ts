// The breaker in front of Redis: whether Redis serves now, and since when it has not. It holds
// state only; what opens it (a failed command), what closes it (a probe, then recovery) and what
// is logged on each switch belong to the resilient cache. The clock is injected so that tests
// can move time without waiting.

export type CacheState =
  /** Redis serves (the breaker is closed). */
  | { readonly kind: 'primary' }
  /** Redis failed; the fallback serves and a probe checks Redis every interval. */
  | { readonly kind: 'fallback'; readonly reason: string; readonly since: number }
  /** A probe found Redis answering; missed invalidations are being replayed before it serves. */
  | { readonly kind: 'recovering'; readonly since: number };

const PRIMARY: CacheState = { kind: 'primary' };

export class CircuitBreaker {
  private current: CacheState = PRIMARY;

  /** @param now milliseconds since the epoch. @default Date.now */
  constructor(private readonly now: () => number = Date.now) {}

  get state(): CacheState {
    return this.current;
  }

  /** Whether Redis serves requests now. */
  get closed(): boolean {
    return this.current.kind === 'primary';
  }

  /** Redis failed: the fallback serves from now on (from any state; the outage starts now). */
  open(reason: string): void {
    this.current = { kind: 'fallback', reason, since: this.now() };
  }

  /** A probe found Redis answering. False (and nothing changes) unless the breaker was open. */
  beginRecovery(): boolean {
    if (this.current.kind !== 'fallback') return false;
    this.current = { kind: 'recovering', since: this.current.since };
    return true;
  }

  /** Recovery failed: open again, keeping when the outage started. */
  recoveryFailed(reason: string): void {
    this.current = { kind: 'fallback', reason, since: this.outageStart() };
  }

  /** Redis serves again. Returns how long it did not, in milliseconds (0 if it was serving). */
  close(): number {
    const downMs = this.now() - this.outageStart();
    this.current = PRIMARY;
    return downMs;
  }

  private outageStart(): number {
    const state = this.current;
    switch (state.kind) {
      case 'primary':
        return this.now();
      case 'fallback':
      case 'recovering':
        return state.since;
      default: {
        const unreachable: never = state;
        throw new Error(`unknown breaker state ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
