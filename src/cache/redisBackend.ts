// The Redis backend (ioredis), for one Redis or a Redis Cluster. A read is a plain MGET; only
// when something missed does a second call lease the missed keys (a script, so that "lease each
// key nobody holds, share the lease of the ones somebody holds, return values filled meanwhile" is
// one call for the whole batch); a fill is a script that writes only where the reader's lease
// still stands. A warm batch is therefore exactly one MGET and runs no script.
//
// In a cluster a multi-key command or script must keep to one hash slot (CROSSSLOT otherwise), so
// every batch is split by slot and the parts are sent at once: still one round of network trips
// per batch, each part to the master of its slot. The keys carry one of 12 hash tags
// (./keys.ts), so a batch has at most 12 parts however many keys it has; one tag for all would
// put the whole cache on one node.
//
// Client options are fail-fast on purpose: ioredis's defaults (offline queue on, 20 retries per
// request, no command timeout) make a request wait while Redis is down. Here a command fails at
// once when disconnected and after CACHE_TIMEOUT_MS when Redis does not answer (in a cluster the
// timeout also covers ioredis's retries after MOVED, CLUSTERDOWN or a failover), and the circuit
// breaker in resilientCache.ts decides what happens next; ioredis only reconnects in the background.
import { randomUUID } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig } from '../config/config';
import { LEASE_MARKER, LEASE_TTL_MS, isLease, type CacheBackend, type LeasedRead } from './backend';

/**
 * Leases the keys an MGET missed. SET NX GET (Redis 7.0+) sets the lease where the key is empty
 * and otherwise returns what is there: another reader's lease, which is shared, or a value filled
 * since the MGET, which is served.
 */
const LEASE_MISSES = `
local out = {}
for i, key in ipairs(KEYS) do
  local lease = ARGV[1] .. i
  out[i] = redis.call('SET', key, lease, 'NX', 'PX', ARGV[2], 'GET') or lease
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

interface Scripts {
  leaseMisses(...args: (string | number)[]): Promise<string[]>;
  fillLeased(...args: (string | number)[]): Promise<number>;
}

export type RedisBackendOptions = ({ readonly url: string } | { readonly cluster: RedisClusterConfig }) & {
  /** Command timeout (ms): a command Redis does not answer in time fails with an error. */
  readonly timeoutMs: number;
  /** Longest pause between background reconnection attempts (ms). @default 2000 */
  readonly reconnectMaxMs?: number;
};

/** Keeps reconnecting in the background, backing off to reconnectMaxMs; requests never wait for it. */
const backoff = (reconnectMaxMs: number) => (times: number) => Math.min(times * 100, reconnectMaxMs);

function redisClientOptions(timeoutMs: number, reconnectMaxMs = 2000): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    lazyConnect: true,
    retryStrategy: backoff(reconnectMaxMs),
  };
}

function redisClusterOptions(
  cluster: RedisClusterConfig,
  timeoutMs: number,
  reconnectMaxMs = 2000,
): ClusterOptions {
  const { commandTimeout, connectTimeout, maxRetriesPerRequest } = redisClientOptions(timeoutMs);
  return {
    enableOfflineQueue: false,
    lazyConnect: true,
    clusterRetryStrategy: backoff(reconnectMaxMs),
    slotsRefreshTimeout: connectTimeout,
    // Node connections: ioredis itself keeps their offline queue on and never reconnects them
    // (it asks the cluster where a slot went instead); the command timeout still bounds each command.
    redisOptions: {
      commandTimeout,
      connectTimeout,
      maxRetriesPerRequest,
      username: cluster.username ?? undefined,
      password: cluster.password ?? undefined,
      tls: cluster.tls ? {} : undefined,
    },
    // With TLS, keep seed hostnames as they are so certificates are checked against them (the
    // set-up ioredis documents for managed clusters such as ElastiCache).
    ...(cluster.tls && {
      dnsLookup: (address: string, callback: (error: null, address: string) => void) =>
        callback(null, address),
    }),
  };
}

/** Positions of the keys grouped by hash slot: each group may share one command in a cluster. */
function groupBySlot(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>();
  keys.forEach((key, position) => {
    const slot = calculateSlot(key);
    const group = groups.get(slot);
    if (group) group.push(position);
    else groups.set(slot, [position]);
  });
  return [...groups.values()];
}

export function createRedisBackend(
  options: RedisBackendOptions,
  onError: (error: Error) => void,
): CacheBackend & {
  readonly client: Redis | Cluster;
} {
  const client = (
    'cluster' in options
      ? new Cluster(
          options.cluster.nodes.map(({ host, port }) => ({ host, port })),
          redisClusterOptions(options.cluster, options.timeoutMs, options.reconnectMaxMs),
        )
      : new Redis(options.url, redisClientOptions(options.timeoutMs, options.reconnectMaxMs))
  ) as (Redis | Cluster) & Scripts;
  const cluster = client instanceof Cluster ? client : null;
  // Without a listener ioredis would print every connection error; the resilient cache logs state changes once.
  client.on('error', onError);
  client.on('node error', onError);
  client.defineCommand('leaseMisses', { lua: LEASE_MISSES });
  client.defineCommand('fillLeased', { lua: FILL_LEASED });
  const connecting = client.connect().catch(() => {});

  /**
   * Sends `command` once per group of keys one command may carry (all of them on one Redis, one
   * group per slot in a cluster), every group at once; resolves with each group's answer.
   */
  const perGroup = <R>(
    keys: readonly string[],
    command: (groupKeys: string[], positions: number[]) => Promise<R>,
  ): Promise<R[]> => {
    if (keys.length === 0) return Promise.resolve([]);
    const groups = cluster ? groupBySlot(keys) : [keys.map((_, position) => position)];
    return Promise.all(
      groups.map((positions) =>
        command(
          positions.map((p) => keys[p]!),
          positions,
        ),
      ),
    );
  };

  const unlink = async (keys: readonly string[]): Promise<number> => {
    const counts = await perGroup(keys, (groupKeys) => client.unlink(...groupKeys));
    return counts.reduce((a, b) => a + b, 0);
  };

  /** Asks the cluster for its current slot map, so that nodes() lists today's masters. */
  const refreshSlots = (c: Cluster) =>
    new Promise<void>((resolve, reject) =>
      // Marked internal in ioredis's typings, but it is what the client itself runs after a MOVED.
      c.refreshSlotsCache((error) => (error ? reject(error) : resolve())),
    );

  return {
    name: 'redis',
    client,
    async readLeased(keys) {
      const slots = new Array<LeasedRead>(keys.length);
      const missed: number[] = [];
      await perGroup(keys, async (groupKeys, positions) => {
        const found = await client.mget(...groupKeys);
        found.forEach((value, i) => {
          if (value === null || isLease(value)) missed.push(positions[i]!);
          else slots[positions[i]!] = { value };
        });
      });
      if (missed.length === 0) return slots;
      const token = `${LEASE_MARKER}${randomUUID()}:`;
      await perGroup(
        missed.map((p) => keys[p]!),
        async (groupKeys, positions) => {
          const values = await client.leaseMisses(groupKeys.length, ...groupKeys, token, LEASE_TTL_MS);
          values.forEach((value, i) => {
            slots[missed[positions[i]!]!] = isLease(value) ? { lease: value } : { value };
          });
        },
      );
      return slots;
    },
    async fillLeased(fills) {
      await perGroup(
        fills.map((f) => f.key),
        (groupKeys, positions) =>
          client.fillLeased(
            groupKeys.length,
            ...groupKeys,
            ...positions.flatMap((p) => [fills[p]!.lease, fills[p]!.value, fills[p]!.ttlSeconds]),
          ),
      );
    },
    async get(keys) {
      const values = new Array<string | null>(keys.length);
      await perGroup(keys, async (groupKeys, positions) => {
        const found = await client.mget(...groupKeys);
        found.forEach(
          (value, i) => (values[positions[i]!] = value === null || isLease(value) ? null : value),
        );
      });
      return values;
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, 'EX', ttlSeconds);
    },
    async delete(keys) {
      await unlink(keys);
    },
    async clear(namespace) {
      const pattern = `${namespace.replace(/[*?[\]\\]/g, '\\$&')}*`;
      // SCAN walks one server: in a cluster, every master.
      if (cluster) await refreshSlots(cluster);
      const servers = cluster ? cluster.nodes('master') : [client as Redis];
      const counts = await Promise.all(
        servers.map(async (server) => {
          let removed = 0;
          let cursor = '0';
          do {
            const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', CLEAR_BATCH);
            removed += await unlink(keys);
            cursor = next;
          } while (cursor !== '0');
          return removed;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    async ping() {
      await connecting;
      if (!cluster) {
        await client.ping();
        return;
      }
      // A cluster answers PING even while some slots have no master: it serves again only when
      // every master it lists answers and each of them sees the cluster whole.
      await refreshSlots(cluster);
      const masters = cluster.nodes('master');
      if (masters.length === 0) throw new Error('no Redis Cluster master is reachable');
      await Promise.all(
        masters.map(async (master) => {
          const info = await master.cluster('INFO');
          if (!/^cluster_state:ok\s*$/m.test(info))
            throw new Error(`cluster_state is not ok on ${master.options.host}:${master.options.port}`);
        }),
      );
    },
    async close() {
      client.disconnect();
    },
  };
}
