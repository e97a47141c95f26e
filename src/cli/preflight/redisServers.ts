// The Redis servers preflight inspects, as the configured user: the one REDIS_URL names, or every
// master of the Redis Cluster. Connections of its own, failing at once (no retries, no offline
// queue), so an unreachable Redis is one error, not a wait.
import Redis, { Cluster } from 'ioredis';
import { describeError } from '../../cache/describeError';
import type { CacheConfig } from '../../config/config';

export interface RedisServer {
  /** host:port, never credentials. */
  readonly name: string;
  readonly client: Redis;
}

export interface RedisServers {
  readonly servers: readonly RedisServer[];
  /** The ACL user the cache runs as. */
  readonly username: string;
  readonly cluster: boolean;
  /** The database number from REDIS_URL (0 on a cluster). */
  readonly db: number;
  readonly authenticates: boolean;
  close(): void;
}

export class RedisConnectError extends Error {
  override readonly name = 'RedisConnectError';
}

const nameOf = (client: Redis) => `${client.options.host}:${client.options.port}`;

export async function connectRedis(config: CacheConfig): Promise<RedisServers> {
  const timeouts = {
    connectTimeout: Math.max(config.timeoutMs, 2000),
    commandTimeout: Math.max(config.timeoutMs, 2000),
    maxRetriesPerRequest: 0,
    // preflight reads INFO itself, and a refused INFO must be its finding, not ioredis's warning.
    enableReadyCheck: false,
  };
  if (config.redisUrl) {
    const client = new Redis(config.redisUrl, {
      ...timeouts,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    // A refused AUTH arrives as an 'error' event, after which the failing PING only says the
    // connection is gone: the event is the reason worth telling.
    let lastError: unknown;
    client.on('error', (error) => (lastError = error));
    try {
      await client.connect();
      // With the ready check off, connect() resolves before AUTH has been answered: PING tells.
      await client.ping();
    } catch (error) {
      client.disconnect();
      throw new RedisConnectError(describeError(lastError ?? error));
    }
    return {
      servers: [{ name: nameOf(client), client }],
      username: client.options.username ?? 'default',
      cluster: false,
      db: client.options.db ?? 0,
      authenticates: Boolean(client.options.password),
      close: () => client.disconnect(),
    };
  }
  const seeds = config.redisCluster!;
  const cluster = new Cluster(
    seeds.nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: true,
      enableReadyCheck: false,
      clusterRetryStrategy: () => null,
      slotsRefreshTimeout: timeouts.connectTimeout,
      redisOptions: {
        ...timeouts,
        username: seeds.username ?? undefined,
        password: seeds.password ?? undefined,
        tls: seeds.tls ? {} : undefined,
      },
      ...(seeds.tls && {
        dnsLookup: (address: string, callback: (error: null, address: string) => void) =>
          callback(null, address),
      }),
    },
  );
  cluster.on('error', () => {});
  cluster.on('node error', () => {});
  try {
    await cluster.connect();
  } catch (error) {
    cluster.disconnect();
    const cause = (error as { lastNodeError?: unknown }).lastNodeError;
    throw new RedisConnectError(describeError(cause ?? error));
  }
  const masters = cluster.nodes('master');
  return {
    servers: masters.map((client) => ({ name: nameOf(client), client })),
    username: seeds.username ?? 'default',
    cluster: true,
    db: 0,
    authenticates: seeds.password !== null,
    close: () => cluster.disconnect(),
  };
}
