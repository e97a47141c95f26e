// Counts stale reads in the mixed workload: a read that started after a write was acknowledged
// and still shows an older value. Pure bookkeeping on the load generator's side, so every mode
// is judged the same way, whatever it caches and wherever.
//
// Only product prices are judged: every price write sends a price no other write sends (and no
// seeded product has: see UNIQUE_PRICES_FROM), so a price seen in an answer names the write that
// set it. A barcode's `active` flag has two values and cannot say which write it came from.
import { performance } from 'node:perf_hooks';

/** Price writes count up from here; seeded prices are below it (n % 5000). */
export const UNIQUE_PRICES_FROM = 10_000;

export interface PriceWrite {
  readonly product: number;
  readonly sentAt: number;
  ackedAt: number | null;
}

/** What a read remembers from its start: the newest write acknowledged by then. */
export interface ReadStart {
  readonly product: number;
  /** sentAt of the latest-sent write of this product acknowledged before the read started; -Infinity if none. */
  readonly newestAckedSentAt: number;
}

export class StaleReadCounter {
  private readonly writes = new Map<number, PriceWrite>();
  /** Per product: the latest sentAt among its acknowledged writes. */
  private readonly newestAcked = new Map<number, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  writeSent(product: number, price: number): PriceWrite {
    const write: PriceWrite = { product, sentAt: this.now(), ackedAt: null };
    this.writes.set(price, write);
    return write;
  }

  writeAcknowledged(write: PriceWrite): void {
    write.ackedAt = this.now();
    const newest = this.newestAcked.get(write.product) ?? -Infinity;
    if (write.sentAt > newest) this.newestAcked.set(write.product, write.sentAt);
  }

  readStarted(product: number): ReadStart {
    return { product, newestAckedSentAt: this.newestAcked.get(product) ?? -Infinity };
  }

  /**
   * Judges an answered read by the price it showed. The value is stale when some write of the
   * same product that was sent after the shown value's write was acknowledged (so it committed
   * later) had itself been acknowledged before the read started. A value from a write still in
   * flight is never stale; a seeded value is stale once any write of the product was acknowledged
   * before the read started.
   */
  readAnswered(start: ReadStart, shownPrice: number): boolean {
    const producer = shownPrice >= UNIQUE_PRICES_FROM ? this.writes.get(shownPrice) : undefined;
    const shownSince =
      shownPrice < UNIQUE_PRICES_FROM ? -Infinity : (producer?.ackedAt ?? Number.POSITIVE_INFINITY);
    return start.newestAckedSentAt > shownSince;
  }
}
