// Several instances on one Postgres and one Redis, one of them cut off from Redis: instance A
// reaches a private redis-server through a TCP proxy that the test black-holes, instance B (or C)
// reaches it directly. A write through A commits, but A cannot delete the Redis entries it
// changed; with the invalidation journal the instances that reach Redis delete them:
// - partition: B, healthy, drains them within milliseconds of A's write;
// - full outage (Redis paused for everyone): B, the first back, drains before it serves again;
// - start-up: C, starting while A is still cut off, drains before it serves at all.
// Each scenario runs twice: with the journal, and as the control without it (the app option
// `invalidationJournal: false`), where B or C serves the stale entry until A itself recovers.
import { createMigratedDatabase, type TestDatabase } from '../helpers/database';
import {
  createProduct,
  inspect,
  lookup,
  recoveryLines,
  renameProduct,
  startLoggedApp,
  waitFor,
  waitForRedis,
  type LoggedApp,
} from '../helpers/loggedApp';
import { startRedisProcess, uniquePrefix, type RedisProcess } from '../helpers/redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy';
import { createCacheKeys } from '../../src/cache/keys';

const TIMEOUT_MS = 200;
const PROBE_INTERVAL_MS = 100;
/** How long the control watches B serve the stale entry while A stays cut off. */
const CONTROL_WINDOW_MS = 1500;

let redis: RedisProcess;
let proxy: TcpProxy;
let testDb: TestDatabase;
const apps: LoggedApp[] = [];

beforeAll(async () => {
  redis = await startRedisProcess();
  proxy = await startTcpProxy({ port: redis.port });
  testDb = await createMigratedDatabase('partition');
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  proxy.setFault({ kind: 'none' });
  await redis.resume();
});
afterAll(async () => {
  await proxy?.close();
  await redis?.stop();
  await testDb?.drop();
});

async function instance(name: string, redisUrl: string, prefix: string, journal: boolean) {
  const app = await startLoggedApp(
    `partition_${name}`,
    {
      REDIS_URL: redisUrl,
      CACHE_PREFIX: prefix,
      CACHE_TIMEOUT_MS: String(TIMEOUT_MS),
      CACHE_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
    },
    { database: testDb, deps: { invalidationJournal: journal } },
  );
  apps.push(app);
  return app;
}

const nameThrough = async (app: LoggedApp, code: string) => (await lookup(app, code)).barcode?.product.name;

/** A product with two codes, read through `app` until Redis holds both. */
async function cachedProduct(app: LoggedApp, prefix: string, label: string) {
  const codes = [`${label}-1`, `${label}-2`];
  const id = await createProduct(app, label, 'Old', codes);
  for (const code of [...codes, ...codes]) expect(await nameThrough(app, code)).toBe('Old');
  const client = inspect(redis);
  try {
    const keys = createCacheKeys(prefix);
    expect(await client.exists(...codes.map((code) => keys.barcode(code)))).toBe(2);
  } finally {
    client.disconnect();
  }
  return { id, codes };
}

/** Cuts A off from Redis and opens its breaker (one lookup waits out the timeout). */
async function cutOff(a: LoggedApp, code: string) {
  proxy.setFault({ kind: 'blackhole' });
  expect(await nameThrough(a, code)).toBe('Old');
  expect(await a.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
}

/** Reads through `app` for the whole window; returns every name it saw. */
async function namesDuring(app: LoggedApp, code: string, ms: number): Promise<string[]> {
  const seen: string[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    seen.push((await nameThrough(app, code))!);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return seen;
}

describe.each([
  { journal: true, title: 'with the journal' },
  { journal: false, title: 'control: without the journal' },
])('$title', ({ journal }) => {
  it('partition: a write through the instance cut off from Redis, read through the healthy one', async () => {
    const prefix = uniquePrefix('partition');
    const a = await instance('a', proxy.url, prefix, journal);
    const b = await instance('b', redis.url, prefix, journal);
    const { id, codes } = await cachedProduct(b, prefix, `PT-${journal}`);
    await cutOff(a, codes[0]!);

    await renameProduct(a, id, 'New');
    expect(await nameThrough(a, codes[0]!)).toBe('New'); // A reads the database fallback
    if (journal) {
      const ms = await waitFor(
        async () =>
          (await nameThrough(b, codes[0]!)) === 'New' && (await nameThrough(b, codes[1]!)) === 'New',
        5000,
        'B to serve the new name',
      );
      console.log(
        `partition, journal: B served the write made through A ${Math.round(ms)} ms after it answered`,
      );
    } else {
      const seen = await namesDuring(b, codes[0]!, CONTROL_WINDOW_MS);
      console.log(`partition, control: B served ${seen.length} reads in ${CONTROL_WINDOW_MS} ms, all 'Old'`);
      expect(new Set(seen)).toEqual(new Set(['Old']));
    }
    // B served from Redis throughout, and A was still cut off: only the journal can have done it.
    expect(await b.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });
    expect(await a.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });

    // A back: it replays what it missed either way.
    proxy.setFault({ kind: 'none' });
    await waitForRedis(a);
    for (const code of codes) {
      expect(await nameThrough(b, code)).toBe('New');
      expect(await nameThrough(a, code)).toBe('New');
    }
  });

  it('full outage: what the first instance back on Redis serves, and what Redis still holds then', async () => {
    const prefix = uniquePrefix('outage');
    const a = await instance('a', proxy.url, prefix, journal);
    const b = await instance('b', redis.url, prefix, journal);
    const { id, codes } = await cachedProduct(b, prefix, `OT-${journal}`);
    // A stays cut off after Redis comes back; Redis keeps its entries while paused.
    await cutOff(a, codes[0]!);
    await redis.pause();
    expect(await nameThrough(b, codes[0]!)).toBe('Old');
    expect(await b.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });

    await renameProduct(a, id, 'New');
    await redis.resume();
    await waitForRedis(b);
    const keys = createCacheKeys(prefix);
    const client = inspect(redis);
    let left: number;
    try {
      left = await client.exists(...codes.map((code) => keys.barcode(code)));
    } finally {
      client.disconnect();
    }
    const recovery = recoveryLines(b.logs()).at(-1);
    const first = await nameThrough(b, codes[0]!);
    console.log(
      `full outage, ${journal ? 'journal' : 'control'}: when B was back on Redis, ${left} of 2 stale entries were left; its first read: '${first}'; recovery: ${JSON.stringify({ replayed: recovery?.replayedInvalidations, journaled: recovery?.journaledInvalidations })}`,
    );
    if (journal) {
      expect(left).toBe(0);
      // The product, its page chunk (keysCaptured's withDependentKeys) and its two barcodes, which A recorded.
      expect(recovery).toMatchObject({ replayedInvalidations: 0, journaledInvalidations: 4 });
      expect(first).toBe('New');
    } else {
      expect(left).toBe(2);
      expect(first).toBe('Old');
    }
    expect(await a.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
  });

  it('start-up: what an instance serves first when it starts while another is cut off', async () => {
    const prefix = uniquePrefix('startup');
    const a = await instance('a', proxy.url, prefix, journal);
    const { id, codes } = await cachedProduct(a, prefix, `SU-${journal}`);
    await cutOff(a, codes[0]!);
    await renameProduct(a, id, 'New');

    const c = await instance('c', redis.url, prefix, journal);
    const started = c.logs().find((line) => line.msg.startsWith('✅ Using External Redis Cache'));
    const first = await nameThrough(c, codes[0]!);
    console.log(
      `start-up, ${journal ? 'journal' : 'control'}: C's first read '${first}', start-up line ${JSON.stringify({ journaled: started?.journaledInvalidations })}`,
    );
    expect(await c.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });
    if (journal) {
      // The product, its page chunk and its two barcodes, as in the full outage.
      expect(started).toMatchObject({ journaledInvalidations: 4 });
      expect(first).toBe('New');
    } else {
      expect(started).not.toHaveProperty('journaledInvalidations');
      expect(first).toBe('Old');
    }
  });
});
