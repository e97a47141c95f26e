// Items 6-8, on every Redis the cache talks to (one, or every master of a cluster): it answers to
// the configured credentials with a version new enough for REDIS_COMMANDS, its ACL lets this user
// run each of them on the cache's keys, and its maxmemory-policy does not turn a full Redis into a
// cache outage unnoticed.
import { randomUUID } from 'node:crypto';
import { describeRedis } from '../../cache/createCache';
import { createCacheKeys } from '../../cache/keys';
import { REDIS_COMMANDS, type RedisCommand } from '../../cache/redisCommands';
import type { Config } from '../../config/config';
import { COMMAND_USES, minimumVersion, olderThan, ruleFor, type UseContext } from './redisCommandUses';
import { connectRedis, RedisConnectError, type RedisServer, type RedisServers } from './redisServers';
import { fail, ok, skipped, warn, type Item } from './report';

const NAMES = ['Redis', 'Redis ACL', 'Redis memory'] as const;

/** What serves lookups while Redis refuses them, in the words of the items. */
const FALLBACK_WORDS: Record<Config['cache']['fallback'], string> = {
  database: 'the database cache (cache_entries)',
  memory: 'the in-process memory cache',
  none: 'Postgres directly, uncached',
};

export async function checkRedis(config: Config): Promise<Item[]> {
  const where = describeRedis(config.cache);
  if (!where) return NAMES.map((name) => skipped(name, 'neither REDIS_URL nor REDIS_CLUSTER_NODES is set'));
  if (config.cache.primary !== 'redis')
    return NAMES.map((name) => skipped(name, `CACHE_BACKEND=${config.cache.primary}: Redis is not used`));
  let redis: RedisServers;
  try {
    redis = await connectRedis(config.cache);
  } catch (error) {
    if (!(error instanceof RedisConnectError)) throw error;
    const refused = /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(error.message);
    return [
      fail(
        'Redis',
        `${where} ${refused ? 'refuses the credentials' : 'does not answer'} (${error.message})`,
        refused
          ? 'check the username and password in the Redis URL (ACL LIST on the server shows its users)'
          : 'check the Redis URL and that Redis accepts connections from here',
      ),
      ...NAMES.slice(1).map((name) => skipped(name, 'Redis does not answer')),
    ];
  }
  try {
    const namespace = createCacheKeys(config.cache.prefix).namespace;
    const context = (server: RedisServer): UseContext => ({
      // Sent to one server directly: in a cluster, a key of another master's slot answers MOVED,
      // but only after the ACL check, which is all a probe asks for.
      key: `${namespace}preflight:${randomUUID()}:${server.name}`,
      namespace,
      cluster: redis.cluster,
      db: redis.db,
      authenticates: redis.authenticates,
    });
    const label = (server: RedisServer) => (redis.cluster ? `${server.name}: ` : '');
    const reports = await Promise.all(
      redis.servers.map(async (server) => ({
        server,
        version: await versionOf(server),
        acl: await probeAcl(server, context(server)),
        memory: await memoryOf(server),
      })),
    );
    const anyContext = context(redis.servers[0]!);
    return [
      versionItem(where, redis, reports, anyContext, label),
      aclItem(redis, namespace, reports, label),
      memoryItem(config, reports, label),
    ];
  } finally {
    redis.close();
  }
}

type Report = {
  server: RedisServer;
  version: string | null;
  acl: Denial[];
  memory: Memory | null;
};

const field = (info: string, name: string) => new RegExp(`^${name}:(.*?)\\s*$`, 'm').exec(info)?.[1];

/** redis_version from INFO, or null when this user may not run INFO. */
async function versionOf(server: RedisServer): Promise<string | null> {
  try {
    return field(await server.client.info('server'), 'redis_version') ?? null;
  } catch (error) {
    if (isNoPerm(error)) return null;
    throw error;
  }
}

function versionItem(
  where: string,
  redis: RedisServers,
  reports: readonly Report[],
  context: UseContext,
  label: (server: RedisServer) => string,
): Item {
  const name = 'Redis';
  const { version: minimum, command: newest } = minimumVersion(context);
  const needs = `${minimum}+ needed for ${newest} (${COMMAND_USES[newest].why})`;
  const who = `${where}${redis.cluster ? ` (${redis.servers.length} master(s))` : ''}, as user '${redis.username}'`;
  const old = reports.filter((r) => r.version !== null && olderThan(r.version, minimum));
  if (old.length)
    return fail(
      name,
      `${who}: ${old.map((r) => `${label(r.server)}Redis ${r.version}`).join(', ')} is older than ${needs}`,
      `upgrade Redis to ${minimum} or later`,
    );
  const unknown = reports.filter((r) => r.version === null);
  if (unknown.length)
    return warn(
      name,
      `${who}: the version is unreadable (INFO refused${redis.cluster ? ` on ${unknown.map((r) => r.server.name).join(', ')}` : ''}); ${needs}`,
      'allow +info for this user, or make sure the server runs Redis ' + minimum + ' or later',
    );
  const versions = [...new Set(reports.map((r) => r.version))].join(', ');
  return ok(name, `${who}: Redis ${versions}, ${needs}`);
}

interface Denial {
  readonly command: RedisCommand;
  readonly rule: string;
  /** Refused for the key (a `~pattern` rule), not for the command. */
  readonly keys: boolean;
  readonly tolerated: boolean;
}

const isNoPerm = (error: unknown) => error instanceof Error && /^NOPERM/.test(error.message);

/** Runs every probe the setup needs, as this user; returns what the ACL refused. */
async function probeAcl(server: RedisServer, context: UseContext): Promise<Denial[]> {
  const denials: Denial[] = [];
  for (const command of REDIS_COMMANDS) {
    const use = COMMAND_USES[command];
    const need = use.need(context);
    if (need === null) continue;
    for (const [name, ...args] of use.probes(context)) {
      try {
        await server.client.call(String(name), ...args);
      } catch (error) {
        // Anything but NOPERM (NOSCRIPT, OOM, an unknown subcommand) came after the ACL check.
        if (!isNoPerm(error)) continue;
        const keys = /access/.test((error as Error).message);
        denials.push({ command, rule: ruleFor([name!, ...args]), keys, tolerated: need === 'tolerated' });
      }
    }
  }
  await server.client.call('unlink', context.key).catch(() => {});
  return denials;
}

function aclItem(
  redis: RedisServers,
  namespace: string,
  reports: readonly Report[],
  label: (server: RedisServer) => string,
): Item {
  const name = 'Redis ACL';
  const pattern = `${namespace}*`;
  const describe = (denials: readonly Denial[]) =>
    reports
      .map((r) => {
        const own = denials.filter((d) => r.acl.includes(d));
        if (own.length === 0) return null;
        const commands = [...new Set(own.filter((d) => !d.keys).map((d) => d.command))];
        const keyed = [...new Set(own.filter((d) => d.keys).map((d) => d.command))];
        const parts = [
          commands.length && `may not run ${commands.join(', ')}`,
          keyed.length && `may not access keys '${pattern}' (refused ${keyed.join(', ')})`,
        ].filter(Boolean);
        return `${label(r.server)}user '${redis.username}' ${parts.join('; ')}`;
      })
      .filter(Boolean)
      .join('; ');
  const fixFor = (denials: readonly Denial[]) => {
    const rules = [...new Set(denials.filter((d) => !d.keys).map((d) => d.rule))];
    if (denials.some((d) => d.keys)) rules.push(`~${pattern}`);
    return `ACL SETUSER ${redis.username} ${rules.join(' ')}${redis.cluster ? ' on every master' : ''} (and in its ACL file or ACL SAVE, so it lasts)`;
  };
  const all = reports.flatMap((r) => r.acl);
  const refused = all.filter((d) => !d.tolerated);
  if (refused.length)
    return fail(name, `${describe(refused)}: the cache sends these (REDIS_COMMANDS)`, fixFor(refused));
  if (all.length)
    return warn(
      name,
      `${describe(all)}: ioredis goes on without it (INFO: a warning at every connect; CLIENT SETINFO: ignored)`,
      fixFor(all),
    );
  const where = redis.cluster ? ` on all ${reports.length} masters` : '';
  return ok(
    name,
    `user '${redis.username}' may run every command the cache sends (REDIS_COMMANDS) on '${pattern}'${where}`,
  );
}

interface Memory {
  readonly policy: string;
  readonly max: number;
  readonly used: number;
  readonly maxHuman: string;
  readonly usedHuman: string;
}

async function memoryOf(server: RedisServer): Promise<Memory | null> {
  let info: string;
  try {
    info = await server.client.info('memory');
  } catch (error) {
    if (isNoPerm(error)) return null;
    throw error;
  }
  return {
    policy: field(info, 'maxmemory_policy') ?? 'unknown',
    max: Number(field(info, 'maxmemory') ?? 0),
    used: Number(field(info, 'used_memory') ?? 0),
    maxHuman: field(info, 'maxmemory_human') ?? '?',
    usedHuman: field(info, 'used_memory_human') ?? '?',
  };
}

function memoryItem(
  config: Config,
  reports: readonly Report[],
  label: (server: RedisServer) => string,
): Item {
  const name = 'Redis memory';
  const fallback = FALLBACK_WORDS[config.cache.fallback];
  const problems: { status: 'warn' | 'fail'; text: string; fix: string }[] = [];
  const fine: string[] = [];
  for (const { server, memory } of reports) {
    const at = label(server);
    if (!memory) {
      problems.push({ status: 'warn', text: `${at}INFO memory refused`, fix: 'allow +info for this user' });
      continue;
    }
    const usage = `used ${memory.usedHuman} of maxmemory ${memory.maxHuman}`;
    if (memory.max === 0) {
      problems.push({
        status: 'warn',
        text: `${at}no maxmemory (used ${memory.usedHuman}, maxmemory-policy ${memory.policy}): Redis grows with the cache until the host runs out of memory`,
        fix: 'set maxmemory and maxmemory-policy allkeys-lru',
      });
    } else if (memory.policy === 'noeviction') {
      // What the code does (resilientCache.ts): MGET still works on a full Redis, but the first
      // miss's lease (a SET) is refused with OOM, the breaker opens, and every lookup goes to the
      // fallback until a background probe's lease succeeds again.
      const full = memory.used >= memory.max;
      problems.push({
        status: full ? 'fail' : 'warn',
        text:
          `${at}maxmemory-policy noeviction (${usage})${full ? ', full now' : ''}: a full Redis refuses writes (OOM), ` +
          `so the first lookup that misses fails its lease, the breaker opens and every lookup is served by ${fallback} ` +
          `until a probe (every CACHE_PROBE_INTERVAL_MS) can write again, when keys have expired`,
        fix: 'CONFIG SET maxmemory-policy allkeys-lru (or volatile-lru: every key the cache writes has a TTL), and the same in redis.conf',
      });
    } else {
      fine.push(`${at}maxmemory-policy ${memory.policy} (${usage})`);
    }
  }
  if (problems.length === 0)
    return ok(name, `${fine.join('; ')}: a full Redis evicts, it does not refuse writes`);
  const status = problems.some((p) => p.status === 'fail') ? 'fail' : 'warn';
  const detail = [...problems.map((p) => p.text), ...fine].join('; ');
  const fix = [...new Set(problems.map((p) => p.fix))].join('; ');
  return status === 'fail' ? fail(name, detail, fix) : warn(name, detail, fix);
}
