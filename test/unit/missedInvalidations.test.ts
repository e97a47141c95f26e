// The keys this instance could not invalidate, replayed against a recording target (no Redis).
import { MissedInvalidations } from '../../src/cache/missedInvalidations';

function recordingTarget(fail = { delete: false, clear: false }) {
  const calls: string[] = [];
  return {
    calls,
    fail,
    delete: async (keys: readonly string[]) => {
      calls.push(`delete ${keys.join(',')}`);
      if (fail.delete) throw new Error('Connection is closed.');
    },
    clear: async (namespace: string) => {
      calls.push(`clear ${namespace}`);
      if (fail.clear) throw new Error('Connection is closed.');
      return 42;
    },
  };
}

it('replays the missed keys once, each key once, and forgets them', async () => {
  const missed = new MissedInvalidations();
  expect(missed.pending).toBe(false);
  missed.add(['p:1', 'p:2']);
  missed.add(['p:2', 'p:3']);
  const target = recordingTarget();
  expect(await missed.replay(target, 'p:')).toBe(3);
  expect(target.calls).toEqual(['delete p:1,p:2,p:3']);
  expect(missed.pending).toBe(false);
  expect(await missed.replay(target, 'p:')).toBe(0);
  expect(target.calls).toHaveLength(1);
});

it('beyond its bound, clears the namespace instead, and keeps nothing else', async () => {
  const missed = new MissedInvalidations(3);
  missed.add(['p:1', 'p:2', 'p:3']);
  missed.add(['p:4']);
  missed.add(['p:5']); // after the switch, further keys change nothing
  const target = recordingTarget();
  expect(await missed.replay(target, 'p:')).toBe(42);
  expect(target.calls).toEqual(['clear p:']);
  expect(missed.pending).toBe(false);
});

it('keeps everything when Redis fails, and what was missed meanwhile', async () => {
  const missed = new MissedInvalidations(3);
  missed.add(['p:1']);
  const target = recordingTarget({ delete: true, clear: true });
  await expect(missed.replay(target, 'p:')).rejects.toThrow('Connection is closed.');
  expect(missed.pending).toBe(true);
  target.fail.delete = false;
  missed.add(['p:2']);
  expect(await missed.replay(target, 'p:')).toBe(2);

  missed.add(['a', 'b', 'c', 'd']);
  await expect(missed.replay(target, 'p:')).rejects.toThrow('Connection is closed.');
  expect(missed.pending).toBe(true); // still "clear the namespace"
  target.fail.clear = false;
  expect(await missed.replay(target, 'p:')).toBe(42);
  expect(target.calls.slice(-2)).toEqual(['clear p:', 'clear p:']);
});

it('markAll (a clear that could not reach Redis): recovery clears the namespace, and the keys go with it', async () => {
  const missed = new MissedInvalidations();
  missed.add(['p:1']);
  missed.markAll();
  missed.add(['p:2']); // covered by the clear
  const target = recordingTarget();
  expect(await missed.replay(target, 'p:')).toBe(42);
  expect(target.calls).toEqual(['clear p:']);
  expect(missed.pending).toBe(false);
});
