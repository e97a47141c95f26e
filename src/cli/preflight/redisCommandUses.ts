// What preflight knows about each command in REDIS_COMMANDS (src/cache/redisCommands.ts, the one
// list): the oldest Redis that runs it the way the cache sends it, whether this setup sends it at
// all, and a harmless call that an ACL would refuse exactly when it refuses the cache's own. Keyed
// by RedisCommand, so a command added to the list does not compile until it is described here.
import { REDIS_COMMANDS, type RedisCommand } from '../../cache/redisCommands';

export interface UseContext {
  /** Under the cache's prefix, this preflight's own: the key-pattern rules (`~prefix:*`) apply to it. */
  readonly key: string;
  readonly namespace: string;
  readonly cluster: boolean;
  /** The database number in REDIS_URL (ioredis SELECTs it only when it is not 0). */
  readonly db: number;
  readonly authenticates: boolean;
}

/**
 * 'required': the cache fails without it. 'tolerated': ioredis carries on when it is refused.
 * null: not sent in this setup.
 */
export type Need = 'required' | 'tolerated' | null;

export interface CommandUse {
  /** Oldest Redis version that runs the command as the cache sends it, and why that one. */
  readonly since: string;
  readonly why: string;
  need(ctx: UseContext): Need;
  /** Calls to try as the configured user; none for a command no ACL rule can refuse. */
  probes(ctx: UseContext): (string | number)[][];
}

const always = (): Need => 'required';

export const COMMAND_USES: { readonly [C in RedisCommand]: CommandUse } = {
  mget: { since: '1.0.0', why: 'every read', need: always, probes: (c) => [['mget', c.key]] },
  // A script that is not loaded answers NOSCRIPT, after the ACL check: the check is all we want.
  evalsha: {
    since: '2.6.0',
    why: 'the lease and fill scripts',
    need: always,
    probes: (c) => [['evalsha', '0'.repeat(40), 1, c.key]],
  },
  eval: {
    since: '2.6.0',
    why: 'loading a script on first use',
    need: always,
    probes: (c) => [['eval', 'return 1', 1, c.key]],
  },
  // Scripts' commands are checked against the same ACL as direct ones, so a direct call tells.
  set: {
    since: '7.0.0',
    why: 'SET NX … GET in the lease script',
    need: always,
    probes: (c) => [['set', c.key, 'preflight', 'NX', 'PX', 10_000, 'GET']],
  },
  get: {
    since: '1.0.0',
    why: "the fill script's lease check",
    need: always,
    probes: (c) => [['get', c.key]],
  },
  unlink: { since: '4.0.0', why: 'invalidations', need: always, probes: (c) => [['unlink', c.key]] },
  scan: {
    since: '2.8.0',
    why: 'cache:clear and recovery after a long outage',
    need: always,
    probes: (c) => [['scan', 0, 'MATCH', `${c.namespace}*`, 'COUNT', 1]],
  },
  ping: { since: '1.0.0', why: "the breaker's probe", need: always, probes: () => [['ping']] },
  cluster: {
    since: '3.0.0',
    why: 'the slot map and cluster_state',
    need: (c) => (c.cluster ? 'required' : null),
    probes: () => [
      ['cluster', 'info'],
      ['cluster', 'slots'],
    ],
  },
  // AUTH is never subject to ACL rules; wrong credentials fail the Redis item instead.
  auth: {
    since: '6.0.0',
    why: 'AUTH with a username',
    need: (c) => (c.authenticates ? 'required' : null),
    probes: () => [],
  },
  select: {
    since: '1.0.0',
    why: 'the database number in REDIS_URL',
    need: (c) => (c.db !== 0 ? 'required' : null),
    probes: (c) => [['select', c.db]],
  },
  // ioredis's ready check: refused, it warns at every connect and goes on.
  info: {
    since: '1.0.0',
    why: "ioredis's ready check",
    need: () => 'tolerated',
    probes: () => [['info', 'server']],
  },
  // ioredis names itself with CLIENT SETINFO (7.2+) and ignores a refusal or an older Redis.
  client: {
    since: '7.2.0',
    why: "ioredis's CLIENT SETINFO",
    need: () => 'tolerated',
    probes: () => [['client', 'setinfo', 'lib-name', 'ioredis']],
  },
};

/** Commands whose ACL rules are given per subcommand (`+cluster|info`), so a fix grants no more. */
const BY_SUBCOMMAND = new Set(['cluster', 'client']);

/** The ACL rule that allows one probe's call. */
export function ruleFor(call: readonly (string | number)[]): string {
  const [command, sub] = call.map(String);
  return BY_SUBCOMMAND.has(command!) ? `+${command}|${sub}` : `+${command}`;
}

const parts = (version: string) => version.split('.').map((n) => Number.parseInt(n, 10) || 0);

/** Whether version a is older than b ('6.2.14' < '7.0.0'). */
export function olderThan(a: string, b: string): boolean {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  }
  return false;
}

/** The oldest Redis that runs every command this setup requires, and the command that sets the bar. */
export function minimumVersion(context: UseContext): { version: string; command: RedisCommand } {
  const required = REDIS_COMMANDS.filter((c) => COMMAND_USES[c].need(context) === 'required');
  const command = required.reduce((a, b) =>
    olderThan(COMMAND_USES[a].since, COMMAND_USES[b].since) ? b : a,
  );
  return { version: COMMAND_USES[command].since, command };
}
