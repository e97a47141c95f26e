// ResilientCache.invalidateAll (a write beyond capture_max_keys): the whole namespace, on the
// guarded path. The remote is a memory backend behind a switch that makes every call throw, as a
// Redis that stopped answering would; no Redis, no database.
import type { CacheBackend } from '../../src/cache/backend';
import { createMemoryBackend } from '../../src/cache/memoryBackend';
import { ResilientCache } from '../../src/cache/resilientCache';
import { CacheStats } from '../../src/cache/stats';
import { createLogger } from '../../src/logger';

const NS = 'ia:';
const KEY = `${NS}v1:product:1`;

/** A backend that throws on every call while `down`, and records the calls that reached it. */
function switchable(inner: CacheBackend) {
  const state = { down: false, calls: [] as string[] };
  const guarded = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return async (...args: unknown[]) => {
        state.calls.push(String(property));
        if (state.down) throw new Error('Connection is closed.');
        return value.apply(target, args);
      };
    },
  });
  return { backend: guarded, state };
}

async function setUp() {
  const remote = switchable(createMemoryBackend());
  const fallback = createMemoryBackend();
  const cache = new ResilientCache({
    remote: remote.backend,
    fallback,
    namespace: NS,
    probeIntervalMs: 20,
    stats: new CacheStats(),
    logger: createLogger({ logLevel: 'silent' }),
  });
  await cache.start();
  await remote.backend.set(KEY, 'old', 60);
  await fallback.set(KEY, 'old', 60);
  remote.state.calls.length = 0;
  return { cache, remote, fallback };
}

const degraded = (cache: ResilientCache) => cache.status().degraded;

/** Until the probe (every 20 ms) has let Redis serve again. */
async function recovered(cache: ResilientCache): Promise<void> {
  for (const start = Date.now(); degraded(cache); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() - start > 5000) throw new Error('Redis did not serve again within 5 s');
}

it('with the breaker open, Redis is not touched; the fallback is cleared, and recovery clears Redis before it serves', async () => {
  const { cache, remote, fallback } = await setUp();
  try {
    remote.state.down = true;
    await cache.read([KEY]); // fails: the breaker opens
    expect(degraded(cache)).toBe(true);
    remote.state.calls.length = 0;

    await cache.invalidateAll();
    expect(remote.state.calls).toEqual([]);
    expect(await fallback.get([KEY])).toEqual([null]);

    remote.state.down = false;
    await recovered(cache);
    expect(remote.state.calls).toContain('clear');
    expect(await remote.backend.get([KEY])).toEqual([null]);
  } finally {
    await cache.stop();
  }
});

it('a clear that fails opens the breaker, and recovery clears Redis before it serves', async () => {
  const { cache, remote, fallback } = await setUp();
  try {
    remote.state.down = true;
    await cache.invalidateAll(); // does not throw: the write it follows has committed
    expect(remote.state.calls).toEqual(['clear']);
    expect(degraded(cache)).toBe(true);
    expect(await fallback.get([KEY])).toEqual([null]);

    remote.state.down = false;
    await recovered(cache);
    expect(remote.state.calls.filter((call) => call === 'clear')).toHaveLength(2);
    expect(await remote.backend.get([KEY])).toEqual([null]);
  } finally {
    await cache.stop();
  }
});

it('with Redis healthy, clears both at once', async () => {
  const { cache, remote, fallback } = await setUp();
  try {
    await cache.invalidateAll();
    expect(remote.state.calls).toEqual(['clear']);
    expect(degraded(cache)).toBe(false);
    expect(await remote.backend.get([KEY])).toEqual([null]);
    expect(await fallback.get([KEY])).toEqual([null]);
  } finally {
    await cache.stop();
  }
});
