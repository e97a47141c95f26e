// The Redis backend (ioredis). Reads and fills are Lua scripts so that "MGET, and lease the
// misses" and "fill only where my lease still stands" are each one atomic round trip.
//
// Client options are fail-fast on purpose: ioredis's defaults (offline queue on, 20 retries per
// request, no command timeout) make a request wait while Redis is down. Here a command fails at
// once when disconnected and after CACHE_TIMEOUT_MS when Redis does not answer, and the circuit
// breaker in resilientCache.ts decides what happens next; ioredis only reconnects in the background.
import { randomUUID } from 'node:crypto';
import Redis, { type RedisOptions } from 'ioredis';
import { LEASE_MARKER, LEASE_TTL_MS, isLease, type CacheBackend } from './backend';

const READ_LEASED = `
local out = {}
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if not value then
    value = ARGV[1] .. i
    redis.call('SET', key, value, 'PX', ARGV[2])
  end
  out[i] = value
end
return out`;

const FILL_LEASED = `
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 3
  if redis.call('GET', key) == ARGV[base + 1] then
    redis.call('SET', key, ARGV[base + 2], 'EX', ARGV[base + 3])
  end
end
return 0`;

/** How many keys one SCAN/UNLINK step handles in clear(). */
const CLEAR_BATCH = 500;

interface ScriptedRedis extends Redis {
  readLeased(...args: (string | number)[]): Promise<string[]>;
  fillLeased(...args: (string | number)[]): Promise<number>;
}

export interface RedisBackendOptions {
  readonly url: string;
  /** Command timeout (ms): a command Redis does not answer in time fails with an error. */
  readonly timeoutMs: number;
  /** Longest pause between background reconnection attempts (ms). @default 2000 */
  readonly reconnectMaxMs?: number;
}

export function redisClientOptions(timeoutMs: number, reconnectMaxMs = 2000): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    lazyConnect: true,
    // Keep reconnecting in the background, backing off to reconnectMaxMs; requests never wait for it.
    retryStrategy: (times) => Math.min(times * 100, reconnectMaxMs),
  };
}

export function createRedisBackend(
  options: RedisBackendOptions,
  onError: (error: Error) => void,
): CacheBackend & {
  readonly client: Redis;
} {
  const client = new Redis(
    options.url,
    redisClientOptions(options.timeoutMs, options.reconnectMaxMs),
  ) as ScriptedRedis;
  // Without a listener ioredis would print every connection error; the resilient cache logs state changes once.
  client.on('error', onError);
  client.defineCommand('readLeased', { lua: READ_LEASED });
  client.defineCommand('fillLeased', { lua: FILL_LEASED });
  const connecting = client.connect().catch(() => {});

  return {
    name: 'redis',
    client,
    async readLeased(keys) {
      if (keys.length === 0) return [];
      const values = await client.readLeased(
        keys.length,
        ...keys,
        `${LEASE_MARKER}${randomUUID()}:`,
        LEASE_TTL_MS,
      );
      return values.map((value) => (isLease(value) ? { lease: value } : { value }));
    },
    async fillLeased(fills) {
      if (fills.length === 0) return;
      const args = fills.flatMap((f) => [f.lease, f.value, f.ttlSeconds]);
      await client.fillLeased(fills.length, ...fills.map((f) => f.key), ...args);
    },
    async get(keys) {
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      return values.map((value) => (value === null || isLease(value) ? null : value));
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, 'EX', ttlSeconds);
    },
    async delete(keys) {
      if (keys.length) await client.unlink(...keys);
    },
    async clear(namespace) {
      let removed = 0;
      const pattern = `${namespace.replace(/[*?[\]\\]/g, '\\$&')}*`;
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', CLEAR_BATCH);
        if (keys.length) removed += await client.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      return removed;
    },
    async ping() {
      await connecting;
      await client.ping();
    },
    async close() {
      client.disconnect();
    },
  };
}
