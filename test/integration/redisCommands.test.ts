// The Redis commands the cache sends, as Redis itself counts them (INFO commandstats on a private
// redis-server): every path (cold and warm lookups, a write's invalidation, the CLI's check, warm
// and clear) stays within REDIS_COMMANDS, the list an ACL for this project is built from. And
// cache:check runs what lookups run: on a Redis whose ACL lets a plain SET/GET round trip through
// but refuses a lookup's fill, it fails, as the server would.
import Redis from 'ioredis';
import { createRedisBackend } from '../../src/cache/redisBackend';
import { REDIS_COMMANDS } from '../../src/cache/redisCommands';
import * as cacheCheck from '../../src/cli/cacheCheck';
import * as cacheClear from '../../src/cli/cacheClear';
import * as cacheWarm from '../../src/cli/cacheWarm';
import type { CliDeps } from '../../src/cli/deps';
import { loadConfig } from '../../src/config/config';
import { demoEan13, seedDemoData } from '../../src/db/demoData';
import { startTestApp, type TestApp } from '../helpers/app';
import { commandStats, startRedisProcess, type RedisProcess } from '../helpers/redis';

let redisServer: RedisProcess;
let redis: Redis;
let app: TestApp;

beforeAll(async () => {
  redisServer = await startRedisProcess();
  redis = new Redis(redisServer.url);
  app = await startTestApp('redis_commands', { REDIS_URL: redisServer.url, CACHE_PREFIX: 'cmds' });
  await seedDemoData(app.db.prisma, 10);
});
afterAll(async () => {
  await app?.stop();
  redis?.disconnect();
  await redisServer?.stop();
});

async function runCommand(command: { run: (args: string[], deps: CliDeps) => Promise<number> }, url: string) {
  const out: string[] = [];
  const err: string[] = [];
  const config = loadConfig({
    DATABASE_URL: 'postgres://unused/unused',
    REDIS_URL: url,
    CACHE_PREFIX: 'cmds',
  });
  const code = await command.run([], {
    config,
    db: app.db,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const LIST = `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { name } } }`;

it('sends Redis only commands from REDIS_COMMANDS, on every path', async () => {
  const codes = Array.from({ length: 10 }, (_, i) => demoEan13(i + 1));
  for (let i = 0; i < 2; i++) expect((await app.gql(LIST, { codes })).errors).toBeUndefined(); // cold, warm
  const renamed = await app.gql(`mutation { updateProduct(id: "1", input: { name: "Renamed" }) { name } }`);
  expect(renamed.errors).toBeUndefined();
  expect(await runCommand(cacheCheck, redisServer.url)).toMatchObject({ code: 0 });
  expect(await runCommand(cacheWarm, redisServer.url)).toMatchObject({ code: 0 });
  expect(await runCommand(cacheClear, redisServer.url)).toMatchObject({ code: 0 });

  // Subcommands count under their command (client|setinfo is CLIENT).
  const executed = new Set(Object.keys(await commandStats(redis)).map((name) => name.split('|')[0]!));
  // This test's own inspection client sent INFO (in the list anyway) and nothing else.
  expect([...executed].filter((name) => !(REDIS_COMMANDS as readonly string[]).includes(name))).toEqual([]);
  // Not vacuous: the lookup, fill, invalidation and clear paths ran.
  for (const name of ['mget', 'evalsha', 'set', 'get', 'unlink', 'scan']) expect(executed).toContain(name);
});

describe('cache:check on a Redis whose ACL refuses GET (a fill checks its lease with GET, in the script)', () => {
  let url: string;
  beforeAll(async () => {
    await redis.acl('SETUSER', 'noget', 'on', '>noget-pw', '~*', '&*', '+@all', '-get');
    url = redisServer.url.replace('redis://', 'redis://noget:noget-pw@');
  });

  it('fails at the fill, with the reason', async () => {
    const result = await runCommand(cacheCheck, url);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^ {2}miss +\d+\.\d+ ms {2}✓$/m);
    expect(result.err).toMatch(
      /^❌ Cache check failed: ERR The user executing the script can't run this command/,
    );
    expect(result.out + result.err).not.toContain('noget-pw');
  });

  it('control: the server would fail there too, while a plain set/get/delete round trip passes', async () => {
    const backend = createRedisBackend({ url, timeoutMs: 1000 }, () => {});
    try {
      await backend.ping();
      const key = 'cmds:acl-control';
      // What cache:check used to do: all of it passes on this Redis.
      await backend.set(key, 'x', 60);
      expect(await backend.get([key])).toEqual(['x']);
      await backend.delete([key]);
      // What a cold lookup does: the lease passes, the fill is refused.
      const [slot] = await backend.readLeased([key]);
      const lease = (slot as { lease: string }).lease;
      await expect(backend.fillLeased([{ key, lease, value: 'row', ttlSeconds: 60 }])).rejects.toThrow(
        /can't run this command/,
      );
      await backend.delete([key]);
    } finally {
      await backend.close();
    }
  });
});
