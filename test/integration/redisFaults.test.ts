// Redis faults that fallback.test.ts (kill, SIGSTOP) does not cover, injected by the test: the
// app reaches a private redis-server through a TCP proxy that adds latency, black-holes the
// path, cuts replies or garbles them, and counts every command the app sends; and a real Redis
// that answers errors (maxmemory reached with noeviction: writes, and so the read script's
// leases, answer OOM while PING still answers).
//
// For each: lookups keep answering correctly from the database fallback; once the breaker is
// open no command carrying a lookup's key reaches the proxy (only the probe's PING and its own
// probe key), so no request waits for Redis; a write made meanwhile is what a lookup sees after
// recovery. The latency added while Redis is unreachable is printed, not asserted.
import { createCacheKeys } from '../../src/cache/keys';
import { describeLatencies, percentile } from '../helpers/latency';
import {
  createProduct,
  failureLines,
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
import { startTcpProxy, type ProxiedCommand, type TcpProxy } from '../helpers/tcpProxy';

const TIMEOUT_MS = 200;
const PROBE_INTERVAL_MS = 100;

let redis: RedisProcess;
let proxy: TcpProxy;
let app: LoggedApp;
const prefix = uniquePrefix('redis-faults');
const keys = createCacheKeys(prefix);

beforeAll(async () => {
  redis = await startRedisProcess();
  proxy = await startTcpProxy({ port: redis.port });
  app = await startLoggedApp('redis_faults', {
    REDIS_URL: proxy.url,
    CACHE_PREFIX: prefix,
    CACHE_TIMEOUT_MS: String(TIMEOUT_MS),
    CACHE_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
  });
});
afterEach(async () => {
  proxy.setFault({ kind: 'none' });
  await waitForRedis(app);
});
afterAll(async () => {
  await app?.stop();
  await proxy?.close();
  await redis?.stop();
});

/** Commands that name a key of a lookup or a write (the probe's key is `<prefix>:probe:…`). */
const requestCommands = (commands: readonly ProxiedCommand[]) =>
  commands.filter((command) => command.args.some((arg) => arg.startsWith(`${prefix}:v1:`)));

/** Creates a product with the codes and reads each twice, so Redis holds them. */
async function cached(sku: string, name: string, codes: string[]): Promise<string> {
  const id = await createProduct(app, sku, name, codes);
  for (const code of [...codes, ...codes]) await lookup(app, code);
  const client = inspect(redis);
  try {
    expect(await client.exists(...codes.map((code) => keys.barcode(code)))).toBe(codes.length);
  } finally {
    client.disconnect();
  }
  return id;
}

/** Sequential lookups of the codes, every answer checked; returns the durations. */
async function lookups(codes: string[], count: number, name: string): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const { barcode, ms } = await lookup(app, codes[i % codes.length]!);
    expect(barcode).toMatchObject({ product: { name } });
    durations.push(ms);
  }
  return durations;
}

/**
 * With the breaker open: lookups (sequential and concurrent) and a write all succeed, and none of
 * them sends a command to Redis. Returns the lookup durations.
 */
async function servedWithoutRedis(id: string, codes: string[], before: string, after: string) {
  const errorsWhenOpen = app.running.cache.stats.counters.errors;
  proxy.resetCounts();
  const durations = await lookups(codes, 30, before);
  const concurrent = await Promise.all(codes.flatMap((code) => [lookup(app, code), lookup(app, code)]));
  for (const { barcode } of concurrent) expect(barcode).toMatchObject({ product: { name: before } });
  await renameProduct(app, id, after);
  durations.push(...(await lookups(codes, 10, after)));

  expect(requestCommands(proxy.commands())).toEqual([]);
  // No request tried Redis and failed (every try is counted).
  expect(app.running.cache.stats.counters.errors).toBe(errorsWhenOpen);
  expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });
  return durations;
}

/** After the fault heals: Redis serves again, with the write made meanwhile, never the old value. */
async function recoversWithoutStaleValues(codes: string[], name: string): Promise<void> {
  await waitForRedis(app);
  for (const code of [...codes, ...codes]) {
    expect((await lookup(app, code)).barcode).toMatchObject({ code, product: { name } });
  }
  const client = inspect(redis);
  try {
    expect(JSON.parse((await client.get(keys.barcode(codes[0]!)))!)).toMatchObject({ product: { name } });
  } finally {
    client.disconnect();
  }
}

it('black-holed (connections accepted, nothing answered): one request waits one timeout, then only the probe is sent until it heals', async () => {
  const codes = ['rf-hole-1', 'rf-hole-2'];
  const id = await cached('RF-HOLE', 'Light', codes);
  await lookups(codes, 20, 'Light'); // warm-up, not measured
  const healthy = await lookups(codes, 40, 'Light');
  const logsBefore = app.logs().length;

  proxy.setFault({ kind: 'blackhole' });
  const opening = await lookup(app, codes[0]!);
  expect(opening.barcode).toMatchObject({ product: { name: 'Light' } });
  const unreachable = await servedWithoutRedis(id, codes, 'Light', 'Dark');
  // The probe is still trying, and only with PINGs (nothing answers them).
  await waitFor(async () => proxy.commands().some((c) => c.name === 'ping'), 5000, 'a probe PING');
  expect(new Set(proxy.commands().map((c) => c.name))).toEqual(new Set(['ping']));

  proxy.setFault({ kind: 'none' });
  await recoversWithoutStaleValues(codes, 'Dark');
  const logs = app.logs().slice(logsBefore);
  expect(failureLines(logs)).toHaveLength(1);
  expect(recoveryLines(logs)).toHaveLength(1);
  expect(recoveryLines(logs)[0]!.replayedInvalidations).toBeGreaterThanOrEqual(codes.length);

  console.log(
    [
      `Redis black-holed (CACHE_TIMEOUT_MS=${TIMEOUT_MS}), sequential lookups:`,
      `  healthy:             ${describeLatencies(healthy)}`,
      `  opening request:     ${opening.ms.toFixed(1)} ms (one command timeout)`,
      `  breaker open:        ${describeLatencies(unreachable)}`,
      `  p99 added while unreachable: ${(percentile(unreachable, 99) - percentile(healthy, 99)).toFixed(1)} ms`,
    ].join('\n'),
  );
});

it('slowed below the command timeout: Redis keeps serving; above it: the breaker opens and stops sending', async () => {
  const codes = ['rf-slow-1', 'rf-slow-2'];
  const id = await cached('RF-SLOW', 'Slow', codes);
  const healthy = await lookups(codes, 20, 'Slow');

  // 30 ms each way: a round trip well inside the 200 ms timeout.
  proxy.setFault({ kind: 'latency', ms: 30 });
  proxy.resetCounts();
  const hitsBefore = app.running.cache.stats.counters.hits;
  const slowed = await lookups(codes, 20, 'Slow');
  expect(await app.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });
  expect(requestCommands(proxy.commands())).toHaveLength(20);
  expect(app.running.cache.stats.counters.hits - hitsBefore).toBe(20);

  // 300 ms each way: every command times out.
  proxy.setFault({ kind: 'latency', ms: 300 });
  expect((await lookup(app, codes[0]!)).barcode).toMatchObject({ product: { name: 'Slow' } });
  await servedWithoutRedis(id, codes, 'Slow', 'Slower');

  proxy.setFault({ kind: 'none' });
  await recoversWithoutStaleValues(codes, 'Slower');
  console.log(
    [
      'Redis slowed by 30 ms each way (stays on Redis):',
      `  healthy: ${describeLatencies(healthy)}`,
      `  slowed:  ${describeLatencies(slowed)}`,
    ].join('\n'),
  );
});

it.each([
  ['cut mid-reply, then the connection reset', 'cut' as const],
  ['answering bytes that are not RESP', 'garbage' as const],
])('%s: every lookup still gets the right answer from the fallback', async (_title, kind) => {
  const codes = [`rf-${kind}-1`, `rf-${kind}-2`];
  const id = await cached(`RF-${kind.toUpperCase()}`, 'Whole', codes);
  const logsBefore = app.logs().length;

  proxy.setFault({ kind });
  expect((await lookup(app, codes[0]!)).barcode).toMatchObject({
    code: codes[0],
    product: { name: 'Whole' },
  });
  await servedWithoutRedis(id, codes, 'Whole', 'Mended');

  proxy.setFault({ kind: 'none' });
  await recoversWithoutStaleValues(codes, 'Mended');
  expect(failureLines(app.logs().slice(logsBefore))).toHaveLength(1);
});

describe('a Redis that answers errors: maxmemory reached with noeviction', () => {
  afterEach(async () => {
    const client = inspect(redis);
    try {
      await client.config('SET', 'maxmemory', '0');
    } finally {
      client.disconnect();
    }
  });

  it('PING passes but a lease cannot be written: the breaker opens once and stays open (no flapping) until memory is freed', async () => {
    const codes = ['rf-oom-1', 'rf-oom-2'];
    const id = await cached('RF-OOM', 'Full', codes);
    const logsBefore = app.logs().length;
    const client = inspect(redis);
    try {
      await client.config('SET', 'maxmemory-policy', 'noeviction');
      await client.config('SET', 'maxmemory', '1');
      await expect(client.set(`${prefix}:oom-check`, '1')).rejects.toThrow(/^OOM /);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }

    // Cached entries are still read (the script writes nothing for a hit)...
    expect((await lookup(app, codes[0]!)).barcode).toMatchObject({ product: { name: 'Full' } });
    expect(await app.cacheStats()).toMatchObject({ backend: 'REDIS', degraded: false });
    // ...a miss needs a lease, which Redis refuses: the breaker opens.
    await createProduct(app, 'RF-OOM-NEW', 'New', ['rf-oom-new']);
    expect((await lookup(app, 'rf-oom-new')).barcode).toMatchObject({ product: { name: 'New' } });
    expect(await app.cacheStats()).toMatchObject({ backend: 'DATABASE', degraded: true });

    await servedWithoutRedis(id, codes, 'Full', 'Freed');
    // Ten probe intervals: every probe gets its PONG, tries its lease, is refused, and the
    // breaker stays open; the switch was logged once.
    proxy.resetCounts();
    await new Promise((resolve) => setTimeout(resolve, 10 * PROBE_INTERVAL_MS));
    const probes = proxy.commands().filter((c) => c.name === 'evalsha' || c.name === 'eval');
    expect(probes.length).toBeGreaterThanOrEqual(2);
    for (const probe of probes)
      expect(probe.args.filter((arg) => arg.startsWith(prefix))).toEqual([
        expect.stringMatching(`^${prefix}:probe:`),
      ]);
    expect(requestCommands(proxy.commands())).toEqual([]);
    expect(await app.cacheStats()).toMatchObject({ degraded: true });
    expect(failureLines(app.logs().slice(logsBefore))).toHaveLength(1);
    expect(recoveryLines(app.logs().slice(logsBefore))).toHaveLength(0);

    const freeing = inspect(redis);
    try {
      await freeing.config('SET', 'maxmemory', '0');
    } finally {
      freeing.disconnect();
    }
    await recoversWithoutStaleValues(codes, 'Freed');
    expect(recoveryLines(app.logs().slice(logsBefore))).toHaveLength(1);
  });
});
