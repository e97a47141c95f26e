// The stale-read judge of the mixed workload, on a clock the test moves by hand.
import { StaleReadCounter, UNIQUE_PRICES_FROM } from '../../bench/staleReads';

const PRODUCT = 7;
const setUp = () => {
  let now = 0;
  const counter = new StaleReadCounter(() => now);
  return { counter, at: (t: number) => (now = t) };
};

it('judges a read that started after a write was acknowledged and shows the older value as stale', () => {
  const { counter, at } = setUp();
  at(1);
  const write = counter.writeSent(PRODUCT, UNIQUE_PRICES_FROM);
  at(2);
  counter.writeAcknowledged(write);
  at(3);
  const read = counter.readStarted(PRODUCT);
  expect(counter.readAnswered(read, 42)).toBe(true); // the seeded price
  expect(counter.readAnswered(read, UNIQUE_PRICES_FROM)).toBe(false);
});

it('accepts any value for a read that started before the write was acknowledged', () => {
  const { counter, at } = setUp();
  at(1);
  const write = counter.writeSent(PRODUCT, UNIQUE_PRICES_FROM);
  const read = counter.readStarted(PRODUCT);
  at(2);
  counter.writeAcknowledged(write);
  expect(counter.readAnswered(read, 42)).toBe(false);
  expect(counter.readAnswered(read, UNIQUE_PRICES_FROM)).toBe(false);
});

it('accepts an overlapping write as current, and an overwritten one as stale', () => {
  const { counter, at } = setUp();
  // A acknowledged, then B sent and acknowledged: A was overwritten.
  at(1);
  const a = counter.writeSent(PRODUCT, UNIQUE_PRICES_FROM + 1);
  at(2);
  counter.writeAcknowledged(a);
  at(3);
  const b = counter.writeSent(PRODUCT, UNIQUE_PRICES_FROM + 2);
  // C overlaps B: sent before B was acknowledged, so either may have committed last.
  at(4);
  const c = counter.writeSent(PRODUCT, UNIQUE_PRICES_FROM + 3);
  at(5);
  counter.writeAcknowledged(b);
  at(6);
  counter.writeAcknowledged(c);
  at(7);
  const read = counter.readStarted(PRODUCT);
  expect(counter.readAnswered(read, UNIQUE_PRICES_FROM + 1)).toBe(true);
  expect(counter.readAnswered(read, UNIQUE_PRICES_FROM + 2)).toBe(false);
  expect(counter.readAnswered(read, UNIQUE_PRICES_FROM + 3)).toBe(false);
});

it('keeps products apart and never judges a value from a write still in flight', () => {
  const { counter, at } = setUp();
  at(1);
  const other = counter.writeSent(PRODUCT + 1, UNIQUE_PRICES_FROM);
  at(2);
  counter.writeAcknowledged(other);
  const inFlight = counter.writeSent(PRODUCT, UNIQUE_PRICES_FROM + 1);
  at(3);
  const read = counter.readStarted(PRODUCT);
  expect(counter.readAnswered(read, 42)).toBe(false);
  expect(counter.readAnswered(read, UNIQUE_PRICES_FROM + 1)).toBe(false);
  counter.writeAcknowledged(inFlight);
});
