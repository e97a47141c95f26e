// A warning repeated during an outage is logged once per interval, with how many were left out.
import { throttledLog } from '../../src/logThrottle';

it('logs the first call at once, counts the calls within the interval, and reports them with the next line', () => {
  let now = 1_000;
  const throttle = throttledLog(10_000, () => now);
  const lines: number[] = [];
  const log = () => throttle((suppressed) => lines.push(suppressed));

  log();
  expect(lines).toEqual([0]);
  for (let i = 0; i < 50; i++) {
    now += 100;
    log();
  }
  expect(lines).toEqual([0]);
  now = 1_000 + 10_000;
  log();
  expect(lines).toEqual([0, 50]);
  now += 9_999;
  log();
  now += 1;
  log();
  expect(lines).toEqual([0, 50, 1]);
});
