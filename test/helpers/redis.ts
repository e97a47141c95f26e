// Redis for tests: the machine's shared server (under a random key prefix of the test's own), a
// private redis-server process on a free port for tests that kill, pause or restart it, or a
// private Redis Cluster of such processes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test run uses; remove what it wrote with clearPrefix. */
export const uniquePrefix = (label: string) => `bc-test-${label}-${randomBytes(4).toString('hex')}`;

/** Every key under `prefix:` (SCAN, so a large shared server is not blocked). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

export async function clearPrefix(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisProcess {
  readonly port: number;
  /** The running redis-server's process id (a new one after each start()). */
  readonly pid: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: the server vanishes without closing connections cleanly. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the server keeps its data and its clients' connections open but answers nothing
   * (commands time out) until resume(). Resolves once the process is stopped.
   */
  pause(): Promise<void>;
  /** SIGCONT after pause(): the server answers again, with everything it held. */
  resume(): Promise<void>;
  /** Resumes a paused server, then kills it and removes its directory. */
  stop(): Promise<void>;
  /** True between start() and kill()/stop(). */
  running(): boolean;
}

/** The process state letter from /proc (Linux), or null where there is no /proc. */
function processState(pid: number): string | null {
  try {
    // "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

async function waitForProcessState(pid: number, wanted: (state: string) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const state = processState(pid);
    if (state === null) {
      await new Promise((r) => setTimeout(r, 50));
      return;
    }
    if (wanted(state)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} did not change state`);
}

export interface RedisProcessOptions {
  /** Start in cluster mode, with this cluster-node-timeout (ms); the cluster bus gets its own free port. */
  readonly clusterNodeTimeoutMs?: number;
  /** Require AUTH with this password; `url` then carries it (redis://:password@…). */
  readonly password?: string;
}

/**
 * A private redis-server on a free port; kill() and start() again reuse the port and the
 * directory (a cluster node keeps its identity, in nodes.conf, across a restart).
 */
export async function startRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  // A free port can be taken by someone else between freePort() and redis-server's bind (a CI
  // run once lost a cluster node that way): try again on new ports before giving up.
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startRedisProcessOnce(options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startRedisProcessOnce(options: RedisProcessOptions): Promise<RedisProcess> {
  const port = await freePort();
  let busPort = await freePort();
  while (busPort === port) busPort = await freePort();
  const clusterArgs =
    options.clusterNodeTimeoutMs === undefined
      ? []
      : [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          ...['--cluster-node-timeout', String(options.clusterNodeTimeoutMs)],
          ...['--cluster-port', String(busPort)],
        ];
  const dir = mkdtempSync(path.join(tmpdir(), 'bc-redis-'));
  let child: ChildProcess | undefined;
  let paused = false;
  const waitForPing = async () => {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      password: options.password,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    try {
      for (let i = 0; i < 100; i++) {
        if (!handle.running()) break; // exited: the port was taken after all
        try {
          if (client.status !== 'ready') await client.connect();
          // The server answering must be this one, not another that took the port first.
          const info = await client.info('server');
          if (Number(/^process_id:(\d+)/m.exec(info)?.[1]) !== child!.pid) break;
          return;
        } catch {
          client.disconnect();
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error(`redis-server on port ${port} did not start`);
    } finally {
      client.disconnect();
    }
  };
  const handle: RedisProcess = {
    port,
    get pid() {
      return child!.pid!;
    },
    url: `redis://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          ...['--dir', dir, ...clusterArgs],
          ...(options.password ? ['--requirepass', options.password] : []),
        ],
        {
          stdio: 'ignore',
        },
      );
      await waitForPing();
    },
    async kill() {
      if (!handle.running()) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child!.kill('SIGKILL');
      await exited;
    },
    async pause() {
      if (!handle.running() || paused) return;
      child!.kill('SIGSTOP');
      paused = true;
      await waitForProcessState(child!.pid!, (state) => state === 'T');
    },
    async resume() {
      if (!handle.running() || !paused) return;
      child!.kill('SIGCONT');
      paused = false;
      await waitForProcessState(child!.pid!, (state) => state !== 'T');
    },
    async stop() {
      await handle.resume();
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
    // A process killed by a signal has signalCode set and exitCode still null.
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
  };
  try {
    await handle.start();
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

export interface RedisCluster {
  /** Every node, masters first in the order redis-cli made them, then their replicas. */
  readonly nodes: readonly RedisProcess[];
  /** The REDIS_CLUSTER_NODES value for it: every node as a seed. */
  readonly seeds: string;
  /** A plain client on one node (for INFO, ROLE, CLUSTER ...); disconnect it. */
  client(node: RedisProcess): Redis;
  /** The node serving a key's slot now, asked of the cluster itself. */
  masterOf(key: string): Promise<RedisProcess>;
  /** Resolves once every running node reports cluster_state:ok and agrees on each slot's master. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster on loopback: `masters` redis-server processes in cluster mode (plus
 * `replicasPerMaster` replicas of each), joined by `redis-cli --cluster create`. A small node
 * timeout makes a failed master's replica take over within a few seconds.
 */
export async function startRedisCluster({
  masters = 3,
  replicasPerMaster = 0,
  nodeTimeoutMs = 1000,
}: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  const client = (node: RedisProcess) => {
    const c = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => null });
    c.on('error', () => {});
    return c;
  };
  const running = () => nodes.filter((node) => node.running());
  const cluster: RedisCluster = {
    nodes,
    seeds: '',
    client,
    async masterOf(key) {
      const asker = client(running()[0]!);
      try {
        const slot = Number(await asker.cluster('KEYSLOT', key));
        const ranges = await asker.cluster('SLOTS');
        const [, , master] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
        return nodes.find((node) => node.port === master![1])!;
      } finally {
        asker.disconnect();
      }
    },
    async waitUntilOk(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const views = await Promise.all(
          running().map(async (node) => {
            const c = client(node);
            try {
              const info = await c.cluster('INFO');
              const slots = JSON.stringify(await c.cluster('SLOTS'));
              return /^cluster_state:ok\s*$/m.test(info) ? slots : null;
            } catch {
              return null;
            } finally {
              c.disconnect();
            }
          }),
        );
        if (views.every((view) => view !== null && view === views[0])) return;
        if (Date.now() > deadline) throw new Error(`Redis Cluster not ok after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++)
      nodes.push(await startRedisProcess({ clusterNodeTimeoutMs: nodeTimeoutMs }));
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await promisify(execFile)('redis-cli', [
      ...['--cluster', 'create', ...addresses],
      ...['--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
    ]);
    await cluster.waitUntilOk();
    // A replica can take over only once it has synced with its master.
    for (const node of nodes) {
      const c = client(node);
      try {
        for (let i = 0; ; i++) {
          const info = await c.info('replication');
          if (/^role:master/m.test(info) || /^master_link_status:up/m.test(info)) break;
          if (i > 200) throw new Error(`replica on port ${node.port} did not sync`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        c.disconnect();
      }
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { ...cluster, seeds: nodes.map((node) => `127.0.0.1:${node.port}`).join(',') };
}

/** Calls per command name from INFO commandstats (scripts' own commands included, as Redis counts them). */
export async function commandStats(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const counts: Record<string, number> = {};
  for (const [, name, calls] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm))
    counts[name!] = Number(calls);
  return counts;
}

/**
 * What Redis executed between two commandStats snapshots, by name; the INFO that took `before`
 * is left out (it is counted once it has answered).
 */
export function commandsBetween(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0);
    if (delta > 0) counts[name] = delta;
  }
  return counts;
}
