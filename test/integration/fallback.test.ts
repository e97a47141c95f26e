// Redis outages, end to end: the real app over a real Postgres and a PRIVATE redis-server that the
// tests kill (SIGKILL), pause (SIGSTOP: connections stay open, nothing answers) and bring back.
// Lookups must keep answering with correct data from the database fallback without waiting on
// Redis, the breaker must log each switch once, and an entry whose invalidation could not reach
// Redis must be gone before Redis serves again.
import { performance } from 'node:perf_hooks';
import { createCacheKeys } from '../../src/cache/keys';
import {
  cacheLines,
  commandCalls,
  createProduct,
  failureLines,
  INFO,
  inspect,
  lookup,
  recoveryLines,
  startLoggedApp,
  waitForRedis,
  WARN,
  type LoggedApp,
} from '../helpers/loggedApp';
import { freePort, startRedisProcess, uniquePrefix, type RedisProcess } from '../helpers/redis';

describe('start-up', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedisProcess();
  });
  afterAll(() => redis?.stop());

  it('uses a live Redis: backend REDIS, not degraded, one start-up line naming it', async () => {
    const prefix = uniquePrefix('fallback-live');
    const app = await startLoggedApp('fallback_live', { REDIS_URL: redis.url, CACHE_PREFIX: prefix });
    const client = inspect(redis);
    try {
      expect(await app.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });
      const startup = cacheLines(app.logs());
      expect(startup.map((line) => [line.level, line.msg])).toEqual([
        [INFO, '✅ Using External Redis Cache (BEST PERFORMANCE)'],
      ]);
      expect(await app.gql('{ __typename }')).toMatchObject({ status: 200 });

      await createProduct(app, 'FB-LIVE', 'Live', ['fb-live-1']);
      expect((await lookup(app, 'fb-live-1')).barcode).toMatchObject({ product: { name: 'Live' } });
      expect(await client.exists(createCacheKeys(prefix).barcode('fb-live-1'))).toBe(1);
    } finally {
      client.disconnect();
      await app.stop();
    }
  });

  it('starts with Redis unreachable: serves from the DATABASE fallback, degraded, one warning with the reason, no password in any log', async () => {
    const closedPort = await freePort();
    const app = await startLoggedApp('fallback_down', {
      REDIS_URL: `redis://default:s3cretpw@127.0.0.1:${closedPort}`,
      CACHE_PREFIX: uniquePrefix('fallback-down'),
      CACHE_PROBE_INTERVAL_MS: '100',
    });
    try {
      expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
      const readyz = (await (await fetch(`${app.base}/readyz`)).json()) as { cache: unknown };
      expect(readyz.cache).toEqual({ backend: 'DATABASE', degraded: true });

      await createProduct(app, 'FB-DOWN', 'Down', ['fb-down-1']);
      for (let i = 0; i < 3; i++) {
        const { barcode, ms } = await lookup(app, 'fb-down-1');
        expect(barcode).toMatchObject({ code: 'fb-down-1', product: { name: 'Down' } });
        expect(ms).toBeLessThan(2000);
      }
      // The second and third lookups were answered by the database cache table.
      expect(await app.cacheStats()).toMatchObject({
        backend: 'DATABASE',
        degraded: true,
        hits: 2,
      });
      // Several failed probes later, still exactly one line about the cache.
      await new Promise((resolve) => setTimeout(resolve, 400));

      const lines = cacheLines(app.logs());
      expect(lines).toHaveLength(1);
      expect(lines[0]!.level).toBe(WARN);
      expect(lines[0]!.msg).toMatch(
        /^⚠️ Redis unreachable \(.*(ECONNREFUSED|connection refused).*\): using Database Cache fallback$/i,
      );
    } finally {
      await app.stop();
    }
    expect(app.output.length).toBeGreaterThan(0);
    expect(app.output.join('')).not.toContain('s3cretpw');
  });

  it('without REDIS_URL: backend DATABASE, not degraded, one line saying so', async () => {
    const app = await startLoggedApp('fallback_none', { CACHE_PREFIX: uniquePrefix('fallback-none') });
    try {
      expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: false });
      expect(cacheLines(app.logs()).map((line) => [line.level, line.msg])).toEqual([
        [WARN, '⚠️ REDIS_URL not set: using Database Cache'],
      ]);
      await createProduct(app, 'FB-NONE', 'None', ['fb-none-1']);
      expect((await lookup(app, 'fb-none-1')).barcode).toMatchObject({ product: { name: 'None' } });
      expect((await lookup(app, 'fb-none-1')).barcode).toMatchObject({ product: { name: 'None' } });
      expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: false, hits: 1 });
    } finally {
      await app.stop();
    }
  });
});

describe('Redis killed mid-run (SIGKILL), then restarted', () => {
  let redis: RedisProcess;
  let app: LoggedApp;
  const prefix = uniquePrefix('fallback-kill');
  const keys = createCacheKeys(prefix);

  beforeAll(async () => {
    redis = await startRedisProcess();
    app = await startLoggedApp('fallback_kill', {
      REDIS_URL: redis.url,
      CACHE_PREFIX: prefix,
      // A request that waited on Redis at all would take 5 s.
      CACHE_TIMEOUT_MS: '5000',
      CACHE_PROBE_INTERVAL_MS: '100',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('keeps answering correctly without waiting on Redis, logs the switch once, and resumes Redis after a restart', async () => {
    const productId = await createProduct(app, 'FB-KILL', 'Killable', ['fb-kill-1', 'fb-kill-2']);
    await lookup(app, 'fb-kill-1');
    expect((await lookup(app, 'fb-kill-1')).barcode).toMatchObject({ product: { name: 'Killable' } });
    const client = inspect(redis);
    try {
      expect(await client.exists(keys.barcode('fb-kill-1'))).toBe(1);
    } finally {
      client.disconnect();
    }
    expect(await app.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });

    await redis.kill();
    const durations: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { barcode, ms } = await lookup(app, i % 2 ? 'fb-kill-1' : 'fb-kill-2');
      expect(barcode).toMatchObject({ product: { id: productId, name: 'Killable' } });
      durations.push(ms);
    }
    // Concurrent requests too.
    const concurrent = await Promise.all(
      Array.from({ length: 8 }, (_, i) => lookup(app, i % 2 ? 'fb-kill-1' : 'fb-kill-2')),
    );
    for (const { barcode, ms } of concurrent) {
      expect(barcode).toMatchObject({ product: { name: 'Killable' } });
      durations.push(ms);
    }
    // A write while Redis is gone succeeds, does not wait either, and is visible at once.
    let started = performance.now();
    const renamed = await app.gql(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Renamed" }) { name } }`,
      {
        id: productId,
      },
    );
    durations.push(performance.now() - started);
    expect(renamed.errors).toBeUndefined();
    for (const code of ['fb-kill-1', 'fb-kill-2']) {
      const { barcode, ms } = await lookup(app, code);
      expect(barcode).toMatchObject({ product: { name: 'Renamed' } });
      durations.push(ms);
    }
    expect(Math.max(...durations)).toBeLessThan(2000);

    expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
    const readyz = (await (await fetch(`${app.base}/readyz`)).json()) as { cache: unknown };
    expect(readyz.cache).toEqual({ backend: 'DATABASE', degraded: true });
    expect(await (await fetch(`${app.base}/metrics`)).text()).toMatch(/^cache_degraded 1$/m);
    // Over 20 requests, one line about the switch.
    expect(failureLines(app.logs())).toHaveLength(1);
    expect(failureLines(app.logs())[0]!.level).toBe(WARN);
    expect(failureLines(app.logs())[0]!.msg).toMatch(/Database Cache/);
    expect(recoveryLines(app.logs())).toHaveLength(0);

    await redis.start();
    started = performance.now();
    await waitForRedis(app, 5000);
    const recoveredMs = performance.now() - started;
    // A few probe intervals, plus ioredis's reconnect backoff (100 ms more per failed attempt).
    expect(recoveredMs).toBeLessThan(3000);

    for (const code of ['fb-kill-1', 'fb-kill-2', 'fb-kill-1']) {
      expect((await lookup(app, code)).barcode).toMatchObject({ code, product: { name: 'Renamed' } });
    }
    const after = inspect(redis);
    try {
      expect(JSON.parse((await after.get(keys.barcode('fb-kill-1')))!)).toMatchObject({
        product: { name: 'Renamed' },
      });
    } finally {
      after.disconnect();
    }
    expect(await (await fetch(`${app.base}/metrics`)).text()).toMatch(/^cache_degraded 0$/m);
    expect(failureLines(app.logs())).toHaveLength(1);
    expect(recoveryLines(app.logs())).toHaveLength(1);
  });
});

describe('Redis paused (SIGSTOP): it keeps its data and connections but answers nothing', () => {
  let redis: RedisProcess;
  let app: LoggedApp;
  const prefix = uniquePrefix('fallback-pause');
  const keys = createCacheKeys(prefix);
  const TIMEOUT_MS = 200;

  beforeAll(async () => {
    redis = await startRedisProcess();
    app = await startLoggedApp('fallback_pause', {
      REDIS_URL: redis.url,
      CACHE_PREFIX: prefix,
      CACHE_TIMEOUT_MS: String(TIMEOUT_MS),
      CACHE_PROBE_INTERVAL_MS: '100',
    });
  });
  afterAll(async () => {
    // stop() resumes a paused server before killing it.
    await redis?.resume();
    await app?.stop();
    await redis?.stop();
  });
  afterEach(() => redis.resume());

  /** Lookups twice so the entry is in Redis, then checks it is there with this name. */
  async function cacheInRedis(code: string, productId: string, name: string): Promise<void> {
    await lookup(app, code);
    expect((await lookup(app, code)).barcode).toMatchObject({ active: true, product: { name } });
    const client = inspect(redis);
    try {
      expect(JSON.parse((await client.get(keys.barcode(code)))!)).toMatchObject({
        barcode: { active: true },
        product: { name },
      });
      expect(await client.exists(keys.product(Number(productId)))).toBe(1);
    } finally {
      client.disconnect();
    }
  }

  it('never serves an entry whose invalidation was missed: it is deleted before Redis serves again', async () => {
    await waitForRedis(app);
    const logsBefore = app.logs().length;
    const productId = await createProduct(app, 'FB-STALE', 'Before', ['fb-stale-1']);
    await cacheInRedis('fb-stale-1', productId, 'Before');

    await redis.pause();
    // The first request waits for one command timeout and opens the breaker.
    const opening = await lookup(app, 'fb-stale-1');
    expect(opening.barcode).toMatchObject({ product: { name: 'Before' } });
    expect(opening.ms).toBeLessThan(2000);
    expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });

    const started = performance.now();
    const updated = await app.gql<{ p: { name: string }; b: { active: boolean } }>(
      `mutation ($id: ID!) {
        p: updateProduct(id: $id, input: { name: "After" }) { name }
        b: updateBarcode(code: "fb-stale-1", input: { active: false }) { active }
      }`,
      { id: productId },
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data).toEqual({ p: { name: 'After' }, b: { active: false } });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(app.running.cache.stats.counters.missedInvalidations).toBeGreaterThanOrEqual(2);

    for (let i = 0; i < 2; i++) {
      const { barcode, ms } = await lookup(app, 'fb-stale-1');
      expect(barcode).toMatchObject({ active: false, product: { id: productId, name: 'After' } });
      expect(ms).toBeLessThan(2000);
    }

    await redis.resume();
    await waitForRedis(app);
    // Redis serves again, and before any lookup reached it the stale entries are gone.
    const client = inspect(redis);
    try {
      expect(await client.exists(keys.barcode('fb-stale-1'), keys.product(Number(productId)))).toBe(0);
      for (let i = 0; i < 3; i++) {
        expect((await lookup(app, 'fb-stale-1')).barcode).toMatchObject({
          active: false,
          product: { name: 'After' },
        });
      }
      expect(await app.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });
      // Served from Redis again, with the new value in it.
      expect(JSON.parse((await client.get(keys.barcode('fb-stale-1')))!)).toMatchObject({
        barcode: { active: false },
        product: { name: 'After' },
      });
    } finally {
      client.disconnect();
    }

    const logs = app.logs().slice(logsBefore);
    expect(failureLines(logs)).toHaveLength(1);
    // The recovery names how many invalidations it replayed. (That it is logged exactly once is
    // checked by the last test, where several probes are deterministically in flight.)
    expect(recoveryLines(logs).length).toBeGreaterThanOrEqual(1);
    expect(recoveryLines(logs)[0]!.replayedInvalidations).toBeGreaterThanOrEqual(2);
  });

  it('a write that is the first to find Redis paused still succeeds, and its key is not served stale later', async () => {
    await waitForRedis(app);
    const productId = await createProduct(app, 'FB-FIRST', 'First', ['fb-first-1']);
    await cacheInRedis('fb-first-1', productId, 'First');

    await redis.pause();
    const started = performance.now();
    const updated = await app.gql(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Second" }) { name } }`,
      { id: productId },
    );
    expect(updated.errors).toBeUndefined();
    // At most one command timeout, never more.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
    expect((await lookup(app, 'fb-first-1')).barcode).toMatchObject({ product: { name: 'Second' } });

    await redis.resume();
    await waitForRedis(app);
    for (let i = 0; i < 2; i++) {
      expect((await lookup(app, 'fb-first-1')).barcode).toMatchObject({ product: { name: 'Second' } });
    }
  });

  it('sends nothing but the probe to Redis while the breaker is open', async () => {
    await waitForRedis(app);
    const logsBefore = app.logs().length;
    const codes = ['fb-open-1', 'fb-open-2', 'fb-open-3'];
    await createProduct(app, 'FB-OPEN', 'Open', codes);
    for (const code of codes) await lookup(app, code);

    const client = inspect(redis);
    try {
      await client.config('RESETSTAT');
      await redis.pause();
      const opening = await lookup(app, 'fb-open-1');
      expect(opening.barcode).toMatchObject({ product: { name: 'Open' } });
      expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
      const errorsAfterOpening = app.running.cache.stats.counters.errors;

      const durations: number[] = [];
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => lookup(app, codes[(round + i) % codes.length]!)),
        );
        for (const { barcode, ms } of results) {
          expect(barcode).toMatchObject({ product: { name: 'Open' } });
          durations.push(ms);
        }
      }
      expect(Math.max(...durations)).toBeLessThan(2000);
      // No request tried Redis (a try would have failed and been counted).
      expect(app.running.cache.stats.counters.errors).toBe(errorsAfterOpening);

      await redis.resume();
      await waitForRedis(app);
      // Commands since RESETSTAT, without this test's own (CONFIG RESETSTAT, INFO).
      const calls = Object.fromEntries(
        Object.entries(await commandCalls(client)).filter(([name]) => !/^(info|config)\b/.test(name)),
      );
      const { ping = 0, ...others } = calls;
      expect(ping).toBeGreaterThanOrEqual(1);
      // Besides the probes' PINGs, only the one read that opened the breaker reached Redis (its
      // MGET, run once Redis resumed; it timed out before the lease call), and the probe that
      // succeeded checked a lease on its own key (MGET, the lease script with its one SET, UNLINK:
      // commandstats counts commands run by scripts too). Which keys each command named is
      // checked through a proxy in redisFaults.test.ts.
      expect(others).toEqual({ mget: 2, evalsha: 1, set: 1, unlink: 1 });
    } finally {
      await redis.resume();
      client.disconnect();
    }
    const logs = app.logs().slice(logsBefore);
    expect(failureLines(logs)).toHaveLength(1);
  });

  it('logs a recovery once, with how long Redis was down, even when several probes were waiting on it', async () => {
    await waitForRedis(app);
    const logsBefore = app.logs().length;
    await createProduct(app, 'FB-ONCE', 'Once', ['fb-once-1']);
    await lookup(app, 'fb-once-1');

    await redis.pause();
    const opened = performance.now();
    expect((await lookup(app, 'fb-once-1')).barcode).toMatchObject({ product: { name: 'Once' } });
    // Probes go out every 100 ms and each waits up to 200 ms: after this, at least two PINGs are
    // waiting on the paused server, and all of them are answered at once on resume.
    await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS));
    await redis.resume();
    await waitForRedis(app);
    const downMs = performance.now() - opened;
    // Give any other probe that was waiting time to finish too.
    await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS));
    expect(await app.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });

    const logs = app.logs().slice(logsBefore);
    expect(failureLines(logs)).toHaveLength(1);
    expect(recoveryLines(logs).map((line) => line.downMs)).toEqual([expect.any(Number)]);
    expect(recoveryLines(logs)[0]!.downMs).toBeGreaterThanOrEqual(3 * TIMEOUT_MS);
    expect(recoveryLines(logs)[0]!.downMs).toBeLessThanOrEqual(downMs + 100);
  });
});
