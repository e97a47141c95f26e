// `npm run preflight` through the CLI's own dispatch (runCli: loadConfig on a literal env, the
// database opened as the CLI opens it), against a throwaway Postgres database and private
// redis-server processes whose ACL users, maxmemory and policy each test sets. Every failing
// case asserts the item's line with its fix; no line may carry a secret.
import Redis from 'ioredis';
import { Client } from 'pg';
import { REDIS_COMMANDS } from '../../src/cache/redisCommands';
import { runCli } from '../../src/cli/runCli';
import {
  createMigratedDatabase,
  createTestDatabase,
  databaseUrl,
  type TestDatabase,
} from '../helpers/database';
import { freePort, startRedisCluster, startRedisProcess, type RedisProcess } from '../helpers/redis';

const PREFIX = 'pf';
const API_TOKEN = 'preflight-token-0123456789';
const APP_PASSWORD = 'app-s3cret-pw';
const PG_PASSWORD = 'pg-s3cret-pw';
const SECRETS = [API_TOKEN, APP_PASSWORD, PG_PASSWORD];

let migrated: TestDatabase;
let redisServer: RedisProcess;
let redis: Redis;

/** Postgres here trusts local connections, so the password is ignored, and must never be printed. */
const urlWithPassword = (name: string) => databaseUrl(name).replace('postgres@', `postgres:${PG_PASSWORD}@`);
/** One statement on a test database, as its owner would type it by hand; returns the rows. */
async function sql(name: string, statement: string): Promise<unknown[]> {
  const client = new Client({ connectionString: databaseUrl(name) });
  await client.connect();
  try {
    return (await client.query(statement)).rows;
  } finally {
    await client.end();
  }
}

const userUrl = (user: string) => redisServer.url.replace('redis://', `redis://${user}:${APP_PASSWORD}@`);

/** An ACL user with exactly what REDIS_COMMANDS lists, on the prefix's keys, plus `extra` rules. */
async function aclUser(user: string, ...extra: string[]): Promise<string> {
  const allowed = REDIS_COMMANDS.map((command) => `+${command}`);
  await redis.acl('SETUSER', user, 'reset', 'on', `>${APP_PASSWORD}`, `~${PREFIX}:*`, ...allowed, ...extra);
  return userUrl(user);
}

beforeAll(async () => {
  migrated = await createMigratedDatabase('preflight');
  redisServer = await startRedisProcess();
  redis = new Redis(redisServer.url);
  await redis.config('SET', 'maxmemory', '64mb');
  await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
  await migrated?.drop();
});

function productionEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'production',
    API_TOKEN,
    DATABASE_URL: urlWithPassword(migrated.name),
    CACHE_PREFIX: PREFIX,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

async function preflight(env: Record<string, string | undefined>, args: string[] = []) {
  const lines: string[] = [];
  const code = await runCli(['preflight', ...args], env, {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
  });
  const output = lines.join('\n');
  for (const secret of SECRETS) expect(output).not.toContain(secret);
  /** The line of one item, by its name. */
  const item = (name: string) =>
    lines.find((line) => line.slice(line.indexOf(' ') + 1).startsWith(`${name}: `));
  return { code, lines, output, item };
}

const ITEMS = [
  'Configuration',
  'Postgres',
  'Migrations',
  'Cache tables',
  'Connections',
  'Redis',
  'Redis ACL',
  'Redis memory',
  'Fallback cache',
  'Cache round trip (cache:check)',
];

it('passes a healthy setup: every item ✅, exit 0, as an ACL user with exactly REDIS_COMMANDS', async () => {
  const result = await preflight(productionEnv({ REDIS_URL: await aclUser('app') }));
  expect(result.lines.slice(0, -1).map((line) => line.slice(0, line.indexOf(': ')))).toEqual(
    ITEMS.map((name) => `✅ ${name}`),
  );
  expect(result.lines.at(-1)).toBe('Preflight passed: 10 ✅, 0 ⚠️ of 10 items');
  expect(result.code).toBe(0);
  expect(result.item('Redis')).toMatch(/as user 'app': Redis \d+\.\d+\.\d+, 7\.0\.0\+ needed for set/);
  expect(result.item('Cache round trip (cache:check)')).toMatch(
    /^✅ Cache round trip \(cache:check\): External Redis Cache works \(miss [\d.]+ ms, fill [\d.]+ ms, hit [\d.]+ ms, delete [\d.]+ ms, gone [\d.]+ ms\)$/,
  );
  // It removed what it wrote: its probe key in Redis, its row in cache_entries.
  expect(await redis.keys(`${PREFIX}:*`)).toEqual([]);
  expect(await sql(migrated.name, `SELECT key FROM cache_entries WHERE key LIKE '${PREFIX}:%'`)).toEqual([]);
});

describe('Redis ACL: a user missing what the cache sends fails, naming the command and the rule to add', () => {
  it('-@scripting: eval and evalsha', async () => {
    const result = await preflight(productionEnv({ REDIS_URL: await aclUser('noscript', '-@scripting') }));
    expect(result.item('Redis ACL')).toBe(
      "❌ Redis ACL: user 'noscript' may not run evalsha, eval: the cache sends these (REDIS_COMMANDS) " +
        '→ fix: ACL SETUSER noscript +evalsha +eval (and in its ACL file or ACL SAVE, so it lasts)',
    );
    expect(result.code).toBe(1);
  });

  it('-unlink', async () => {
    const result = await preflight(productionEnv({ REDIS_URL: await aclUser('nounlink', '-unlink') }));
    expect(result.item('Redis ACL')).toBe(
      "❌ Redis ACL: user 'nounlink' may not run unlink: the cache sends these (REDIS_COMMANDS) " +
        '→ fix: ACL SETUSER nounlink +unlink (and in its ACL file or ACL SAVE, so it lasts)',
    );
    expect(result.code).toBe(1);
  });

  it('no access to the cache prefix', async () => {
    await aclUser('otherkeys');
    await redis.acl('SETUSER', 'otherkeys', 'resetkeys', '~other:*');
    const result = await preflight(productionEnv({ REDIS_URL: userUrl('otherkeys') }));
    expect(result.item('Redis ACL')).toBe(
      `❌ Redis ACL: user 'otherkeys' may not access keys '${PREFIX}:*' (refused mget, evalsha, eval, set, get, unlink): ` +
        `the cache sends these (REDIS_COMMANDS) → fix: ACL SETUSER otherkeys ~${PREFIX}:* (and in its ACL file or ACL SAVE, so it lasts)`,
    );
    expect(result.code).toBe(1);
  });

  it('a refused INFO, which ioredis tolerates, is a warning, and so are the items it would have read', async () => {
    // cache:check's client is the server's own, whose ioredis ready check says so at connect.
    const warned = jest.spyOn(console, 'warn').mockImplementation(() => {});
    let result;
    try {
      result = await preflight(productionEnv({ REDIS_URL: await aclUser('noinfo', '-info') }));
      expect(warned).toHaveBeenCalledWith(
        expect.stringMatching(/^Skipping the ready check because INFO command fails/),
      );
    } finally {
      warned.mockRestore();
    }
    expect(result.item('Redis ACL')).toMatch(
      /^⚠️ Redis ACL: user 'noinfo' may not run info: ioredis goes on without it .* → fix: ACL SETUSER noinfo \+info /,
    );
    expect(result.item('Redis')).toMatch(/^⚠️ Redis: .*the version is unreadable \(INFO refused\)/);
    expect(result.item('Redis memory')).toBe(
      '⚠️ Redis memory: INFO memory refused → fix: allow +info for this user',
    );
    expect(result.item('Cache round trip (cache:check)')).toMatch(/^✅/);
    expect(result.code).toBe(0);
  });
});

describe('maxmemory-policy noeviction', () => {
  beforeEach(() => redis.config('SET', 'maxmemory-policy', 'noeviction'));
  afterEach(async () => {
    await redis.config('SET', 'maxmemory', '64mb');
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
  });

  it('warns, saying what a full Redis does to this service', async () => {
    const result = await preflight(productionEnv({ REDIS_URL: redisServer.url }));
    expect(result.item('Redis memory')).toMatch(
      /^⚠️ Redis memory: maxmemory-policy noeviction \(used [\d.]+\w of maxmemory 64\.00M\): a full Redis refuses writes \(OOM\), so the first lookup that misses fails its lease, the breaker opens and every lookup is served by the database cache \(cache_entries\) until a probe .* → fix: CONFIG SET maxmemory-policy allkeys-lru/,
    );
    expect(result.code).toBe(0);
  });

  it('full: the round trip fails as the server would, on the fallback, and the ACL is not blamed', async () => {
    await redis.config('SET', 'maxmemory', '1');
    const result = await preflight(productionEnv({ REDIS_URL: redisServer.url }));
    expect(result.item('Redis memory')).toMatch(
      /^❌ Redis memory: maxmemory-policy noeviction \(.*\), full now: /,
    );
    // What the server does too (resilientCache.ts): its start-up check takes a lease, which is refused.
    expect(result.item('Cache round trip (cache:check)')).toMatch(
      /^❌ Cache round trip \(cache:check\): Redis is unreachable \(OOM command not allowed when used memory > 'maxmemory'\. script: \w+, on @user_script:\d+\.\); requests would be served by the Database Cache fallback → fix: /,
    );
    expect(result.item('Redis ACL')).toMatch(/^✅/);
    expect(result.item('Fallback cache')).toMatch(/^✅/);
    expect(result.code).toBe(1);
  });
});

describe('Postgres', () => {
  let fresh: TestDatabase;
  beforeAll(async () => {
    fresh = await createTestDatabase('preflight_fresh');
  });
  afterAll(() => fresh?.drop());

  const env = (name: string) =>
    productionEnv({ DATABASE_URL: urlWithPassword(name), REDIS_URL: redisServer.url });

  it('pending migrations and missing tables fail, with db:migrate as the fix', async () => {
    const result = await preflight(env(fresh.name));
    expect(result.item('Migrations')).toBe(
      '❌ Migrations: 6 of 6 pending: 20261126000000_init, 20261126180000_invalidation_journal, 20261202143000_change_capture, 20261202160000_capture_fixes, 20261203160000_capture_product_ids, 20261203170000_capture_namespaces → fix: npm run db:migrate',
    );
    expect(result.item('Cache tables')).toMatch(
      /^❌ Cache tables: missing: cache_entries \(the database cache \(fallback\) table\), cache_missed_invalidations \(the invalidation journal\), cache_capture_consumers \(the journal's consumer namespaces\) → fix: npm run db:migrate/,
    );
    expect(result.item('Fallback cache')).toMatch(
      /^❌ Fallback cache: .*relation "cache_entries" does not exist/,
    );
    expect(result.code).toBe(1);
  });

  it('an edited migration fails with the runner’s own reason', async () => {
    const db = await createMigratedDatabase('preflight_edited');
    try {
      await sql(
        db.name,
        `UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name LIKE '%_init'`,
      );
      const result = await preflight(env(db.name));
      expect(result.item('Migrations')).toMatch(
        /^❌ Migrations: Migration 20261126000000_init was changed after it was applied .* Restore the original file/,
      );
      expect(result.code).toBe(1);
    } finally {
      await db.drop();
    }
  });

  it('a table dropped by hand fails though every migration is applied', async () => {
    const db = await createMigratedDatabase('preflight_dropped');
    try {
      await sql(db.name, 'DROP TABLE cache_missed_invalidations');
      const result = await preflight(env(db.name));
      expect(result.item('Migrations')).toMatch(/^✅/);
      expect(result.item('Cache tables')).toMatch(
        /^❌ Cache tables: missing: cache_missed_invalidations \(the invalidation journal\) → fix: /,
      );
      expect(result.code).toBe(1);
    } finally {
      await db.drop();
    }
  });

  it('a user lacking some of SELECT, INSERT, UPDATE, DELETE on a cache table fails, naming each and its GRANT', async () => {
    // Roles are cluster-wide: a name of this run's own, dropped in the finally.
    const role = `pf_partial_${process.pid}`;
    const db = await createMigratedDatabase('preflight_grants');
    try {
      await sql(db.name, `CREATE ROLE ${role} LOGIN`);
      await sql(db.name, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      await sql(db.name, `GRANT INSERT, UPDATE ON cache_entries TO ${role}`);
      // The journal: only what the change-capture migration grants to PUBLIC (INSERT), no SELECT of its own.
      await sql(db.name, `REVOKE ALL ON cache_missed_invalidations FROM ${role}`);
      const url = urlWithPassword(db.name).replace('postgres:', `${role}:`);
      const result = await preflight(productionEnv({ DATABASE_URL: url, REDIS_URL: redisServer.url }));
      expect(result.item('Cache tables')).toBe(
        `❌ Cache tables: this database user (${role}) may not DELETE on cache_entries (the database cache (fallback) table); ` +
          'SELECT, UPDATE, DELETE on cache_missed_invalidations (the invalidation journal); ' +
          "INSERT, UPDATE on cache_capture_consumers (the journal's consumer namespaces) " +
          `→ fix: GRANT DELETE ON cache_entries TO ${role}; GRANT SELECT, UPDATE, DELETE ON cache_missed_invalidations TO ${role}; ` +
          `GRANT INSERT, UPDATE ON cache_capture_consumers TO ${role}`,
      );
      expect(result.code).toBe(1);
    } finally {
      await sql(db.name, `DROP OWNED BY ${role}`).catch(() => {});
      await db.drop();
      await sql(migrated.name, `DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('pools of too many instances for max_connections fail', async () => {
    const result = await preflight(env(migrated.name), ['--instances', '50']);
    expect(result.item('Connections')).toMatch(
      /^❌ Connections: 50 instance\(s\) × \(DATABASE_POOL_SIZE 10 \+ 1 LISTEN\) = 550 > \d+ allowed \(max_connections \d+/,
    );
    expect(result.code).toBe(1);
  });

  it('an unreachable Postgres fails, and what needs it is skipped', async () => {
    const port = await freePort();
    const url = `postgresql://postgres:${PG_PASSWORD}@127.0.0.1:${port}/none`;
    const result = await preflight(productionEnv({ DATABASE_URL: url, REDIS_URL: redisServer.url }));
    expect(result.item('Postgres')).toMatch(
      new RegExp(
        `^❌ Postgres: 127\\.0\\.0\\.1:${port}/none does not answer \\(.*ECONNREFUSED.*\\) → fix: check DATABASE_URL`,
      ),
    );
    expect(result.item('Migrations')).toBe(
      '⚠️ Migrations: not checked: Postgres does not answer → fix: see the items above',
    );
    expect(result.code).toBe(1);
  });
});

describe('Configuration', () => {
  it('a development configuration fails, listing every problem', async () => {
    const result = await preflight({ DATABASE_URL: urlWithPassword(migrated.name), LOG_LEVEL: 'silent' });
    expect(result.item('Configuration')).toBe(
      "❌ Configuration: NODE_ENV is 'development', expected production; API_TOKEN is not set (writes are open to anyone); " +
        'neither REDIS_URL nor REDIS_CLUSTER_NODES is set (lookups would use the database cache only) ' +
        '→ fix: set NODE_ENV=production (Sandbox and introspection off, API_TOKEN required); ' +
        'set API_TOKEN to one or more comma-separated tokens of at least 16 characters; ' +
        'set REDIS_URL=redis://… (or rediss://), or REDIS_CLUSTER_NODES=host:port,… for a Redis Cluster',
    );
    expect(result.code).toBe(1);
  });

  it('a configuration loadConfig refuses is one item listing every variable, secrets hidden', async () => {
    const result = await preflight({
      NODE_ENV: 'production',
      PORT: 'eighty',
      REDIS_URL: `http://app:${APP_PASSWORD}@127.0.0.1:6379`,
      DATABASE_URL: urlWithPassword(migrated.name),
    });
    expect(result.lines).toEqual([
      "❌ Configuration: 3 invalid variable(s): Invalid PORT: expected an integer 0-65535, got 'eighty'; " +
        'Invalid REDIS_URL: expected a redis:// or rediss:// URL, got (hidden); ' +
        'Invalid API_TOKEN: required when NODE_ENV=production (writes would be open to anyone); set one or more comma-separated tokens ' +
        '→ fix: correct each variable named (docs/configuration.md lists them with their defaults)',
      'Preflight failed: 1 ❌, 0 ⚠️ of 1 items',
    ]);
    expect(result.code).toBe(1);
  });

  it('wrong Redis credentials fail the Redis item, never printing them', async () => {
    await aclUser('app');
    const url = redisServer.url.replace('redis://', `redis://app:wrong-${APP_PASSWORD}@`);
    const result = await preflight(productionEnv({ REDIS_URL: url }));
    expect(result.item('Redis')).toMatch(
      /^❌ Redis: redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+ refuses the credentials \(WRONGPASS .*\) → fix: check the username and password/,
    );
    expect(result.output).not.toContain(`wrong-${APP_PASSWORD}`);
    expect(result.code).toBe(1);
  });
});

describe('Redis Cluster: every master is checked', () => {
  it('names the one master whose ACL refuses unlink', async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    const clients = cluster.nodes.map((node) => cluster.client(node));
    try {
      for (const client of clients) {
        await client.config('SET', 'maxmemory', '64mb');
        await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      }
      const env = productionEnv({ REDIS_CLUSTER_NODES: cluster.seeds });
      const healthy = await preflight(env);
      expect(healthy.item('Redis ACL')).toMatch(/^✅ .* on all 3 masters$/);
      expect(healthy.code).toBe(0);

      const [, second] = cluster.nodes;
      await clients[1]!.acl('SETUSER', 'default', '-unlink');
      const result = await preflight(env);
      expect(result.item('Redis ACL')).toBe(
        `❌ Redis ACL: 127.0.0.1:${second!.port}: user 'default' may not run unlink: the cache sends these (REDIS_COMMANDS) ` +
          '→ fix: ACL SETUSER default +unlink on every master (and in its ACL file or ACL SAVE, so it lasts)',
      );
      expect(result.code).toBe(1);
    } finally {
      for (const client of clients) client.disconnect();
      await cluster.stop();
    }
  });
});
