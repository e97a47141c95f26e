// Redis for tests: the machine's shared server (under a random key prefix of the test's own), or
// a private redis-server process on a free port for tests that kill, pause or restart it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test run uses; remove what it wrote with clearPrefix. */
export const uniquePrefix = (label: string) => `bc-test-${label}-${randomBytes(4).toString('hex')}`;

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

/** A private redis-server on a free port; kill() and start() again reuse the port. */
export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'bc-redis-'));
  let child: ChildProcess | undefined;
  let paused = false;
  const waitForPing = async () => {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    try {
      for (let i = 0; i < 100; i++) {
        try {
          if (client.status !== 'ready') await client.connect();
          await client.ping();
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
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        {
          stdio: 'ignore',
        },
      );
      await waitForPing();
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async pause() {
      if (!child || child.exitCode !== null || paused) return;
      child.kill('SIGSTOP');
      paused = true;
      await waitForProcessState(child.pid!, (state) => state === 'T');
    },
    async resume() {
      if (!child || child.exitCode !== null || !paused) return;
      child.kill('SIGCONT');
      paused = false;
      await waitForProcessState(child.pid!, (state) => state !== 'T');
    },
    async stop() {
      await handle.resume();
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
