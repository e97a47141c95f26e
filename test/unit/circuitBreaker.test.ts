// The breaker's states and the outage clock, on a fake clock: no timers, no Redis.
import { CircuitBreaker } from '../../src/cache/circuitBreaker';

function breakerAt(start: number) {
  const clock = { now: start };
  return { clock, breaker: new CircuitBreaker(() => clock.now) };
}

it('starts closed: Redis serves', () => {
  const { breaker } = breakerAt(0);
  expect(breaker.closed).toBe(true);
  expect(breaker.state).toEqual({ kind: 'primary' });
});

it('opens with the reason and the time of the failure', () => {
  const { clock, breaker } = breakerAt(1_000);
  clock.now = 1_500;
  breaker.open('Command timed out');
  expect(breaker.closed).toBe(false);
  expect(breaker.state).toEqual({ kind: 'fallback', reason: 'Command timed out', since: 1_500 });
});

it('recovers only from open, keeps the outage start through recovery, and reports the outage length on closing', () => {
  const { clock, breaker } = breakerAt(10_000);
  expect(breaker.beginRecovery()).toBe(false); // closed: nothing to recover from
  expect(breaker.state).toEqual({ kind: 'primary' });

  breaker.open('connect ECONNREFUSED 127.0.0.1:6379');
  clock.now = 12_000;
  expect(breaker.beginRecovery()).toBe(true);
  expect(breaker.state).toEqual({ kind: 'recovering', since: 10_000 });
  expect(breaker.closed).toBe(false); // the fallback serves while missed invalidations are replayed
  expect(breaker.beginRecovery()).toBe(false); // one recovery at a time

  clock.now = 12_750;
  expect(breaker.close()).toBe(2_750);
  expect(breaker.state).toEqual({ kind: 'primary' });
  expect(breaker.closed).toBe(true);
});

it('a failed recovery opens again with the new reason and the original outage start', () => {
  const { clock, breaker } = breakerAt(5_000);
  breaker.open('Command timed out');
  clock.now = 6_000;
  breaker.beginRecovery();
  clock.now = 6_100;
  breaker.recoveryFailed('OOM command not allowed when used memory > maxmemory');
  expect(breaker.state).toEqual({
    kind: 'fallback',
    reason: 'OOM command not allowed when used memory > maxmemory',
    since: 5_000,
  });
  clock.now = 9_000;
  expect(breaker.beginRecovery()).toBe(true);
  expect(breaker.close()).toBe(4_000);
});

it('opening again while open restarts the outage clock; closing while closed reports 0', () => {
  const { clock, breaker } = breakerAt(0);
  expect(breaker.close()).toBe(0);
  breaker.open('first');
  clock.now = 300;
  breaker.open('second');
  expect(breaker.state).toEqual({ kind: 'fallback', reason: 'second', since: 300 });
  clock.now = 1_000;
  expect(breaker.close()).toBe(700);
});
