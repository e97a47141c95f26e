// loadConfig(env): the one reader of process.env. Every variable is parsed here, all problems are
// reported in one message naming each bad variable, and the result is frozen. Defaults live in
// DEFAULTS and are mirrored line for line in .env.example (test/unit/config.test.ts checks both).
import { z } from 'zod';

export const DEFAULTS = {
  NODE_ENV: 'development',
  HOST: '0.0.0.0',
  PORT: 4000,
  LOG_LEVEL: 'info',
  PGLITE_DIR: './.data/pglite',
  DATABASE_POOL_SIZE: 10,
  DATABASE_TIMEOUT_MS: 5000,
  MAX_BODY_BYTES: 1_000_000,
  MAX_QUERY_DEPTH: 8,
  MAX_QUERY_ALIASES: 15,
  MAX_QUERY_COST: 20_000,
  MAX_QUERY_TOKENS: 1000,
  MAX_QUERY_DIRECTIVES: 50,
  SHUTDOWN_TIMEOUT_MS: 10_000,
  SHUTDOWN_DELAY_MS: 0,
  CACHE_FALLBACK: 'database',
  CACHE_PREFIX: 'barcode-cache',
  CACHE_TTL_SECONDS: 3600,
  CACHE_NEGATIVE_TTL_SECONDS: 60,
  CACHE_TIMEOUT_MS: 250,
  CACHE_PROBE_INTERVAL_MS: 1000,
  CACHE_MEMORY_MAX_ENTRIES: 100_000,
} as const;

export type CacheBackendName = 'redis' | 'database' | 'memory' | 'none';
export type FallbackName = Exclude<CacheBackendName, 'redis'>;

export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  /** @default 'development'. 'production' turns Sandbox and introspection off and requires API_TOKEN. */
  readonly nodeEnv: NodeEnv;
  /** @default '0.0.0.0' */
  readonly host: string;
  /** @default 4000. 0 picks a free port (tests). */
  readonly port: number;
  /** pino level. @default 'info' */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where the data lives: a Postgres URL, or the embedded PGlite directory when DATABASE_URL is unset. */
  readonly database:
    | {
        readonly kind: 'postgres';
        readonly url: string;
        readonly poolSize: number;
        readonly timeoutMs: number;
      }
    | { readonly kind: 'pglite'; readonly dir: string };
  /** Bearer tokens accepted for writes; null means writes are open (refused in production). */
  readonly apiTokens: readonly string[] | null;
  /** Sandbox landing page and introspection. @default true except in production */
  readonly introspection: boolean;
  /** Largest accepted request body. @default 1000000 */
  readonly maxBodyBytes: number;
  /** Limits every GraphQL operation must stay within (see src/graphql/queryLimits.ts). */
  readonly queryLimits: QueryLimits;
  /** On SIGTERM/SIGINT, how long in-flight requests may take before their connections are cut. @default 10000 */
  readonly shutdownTimeoutMs: number;
  /**
   * On SIGTERM/SIGINT, how long to keep serving with /readyz answering 503 before the listener
   * closes, so a load balancer stops sending requests first. @default 0
   */
  readonly shutdownDelayMs: number;
  readonly cache: CacheConfig;
}

/** Per-operation limits, checked before anything runs; exceeding one is a 400 with an error naming it. */
export interface QueryLimits {
  /** Deepest field nesting (fragments do not count as a level; introspection is exempt). @default 8 */
  readonly depth: number;
  /** Aliased fields per operation (`__typename` is exempt). @default 15 */
  readonly aliases: number;
  /** GraphQL Armor's static cost estimate (introspection is exempt). @default 20000 */
  readonly cost: number;
  /** Lexical tokens in the document, counted while parsing. @default 1000 */
  readonly tokens: number;
  /** Directives per operation. @default 50 */
  readonly directives: number;
}

export interface CacheConfig {
  /** What serves first: CACHE_BACKEND, else redis when REDIS_URL or REDIS_CLUSTER_NODES is set, else the fallback. */
  readonly primary: CacheBackendName;
  /** REDIS_URL (redis:// or rediss:// for TLS), null when unset. */
  readonly redisUrl: string | null;
  /** REDIS_CLUSTER_NODES: a Redis Cluster instead of one Redis (never both), null when unset. */
  readonly redisCluster: RedisClusterConfig | null;
  /** What serves while Redis is unreachable (and when REDIS_URL is unset). @default 'database' */
  readonly fallback: FallbackName;
  /** Every key starts with `${prefix}:`. @default 'barcode-cache' */
  readonly prefix: string;
  /** Lifetime of cached rows, ±10% jitter. @default 3600 */
  readonly ttlSeconds: number;
  /** Lifetime of "unknown code" entries. @default 60 */
  readonly negativeTtlSeconds: number;
  /** A Redis command not answered in this time fails and opens the circuit breaker. @default 250 */
  readonly timeoutMs: number;
  /** While the breaker is open, how often Redis is probed in the background. @default 1000 */
  readonly probeIntervalMs: number;
  /** Bound of the memory backend (least recently used entries are evicted). @default 100000 */
  readonly memoryMaxEntries: number;
}

export interface RedisClusterConfig {
  /** Seed nodes; the client discovers every other node (and each slot's master) from them. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** Credentials and TLS apply to every node, seeds and discovered ones alike. */
  readonly username: string | null;
  readonly password: string | null;
  /** rediss:// seeds: TLS to every node. */
  readonly tls: boolean;
}

const booleanText = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const integerText = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (value >= min && value <= max) return value;
    ctx.addIssue({ code: 'custom', message: `expected an integer ${min}-${max}` });
    return z.NEVER;
  });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default(DEFAULTS.NODE_ENV),
  HOST: z.string().min(1).default(DEFAULTS.HOST),
  PORT: integerText(0, 65535).default(DEFAULTS.PORT),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default(DEFAULTS.LOG_LEVEL),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  PGLITE_DIR: z.string().min(1).default(DEFAULTS.PGLITE_DIR),
  DATABASE_POOL_SIZE: integerText(1, 1000).default(DEFAULTS.DATABASE_POOL_SIZE),
  DATABASE_TIMEOUT_MS: integerText(100, 600_000).default(DEFAULTS.DATABASE_TIMEOUT_MS),
  API_TOKEN: z
    .string()
    .transform((v) => v.split(',').map((t) => t.trim()))
    .pipe(z.array(z.string().min(16, 'expected tokens of at least 16 characters')))
    .optional(),
  GRAPHQL_INTROSPECTION: booleanText.optional(),
  MAX_BODY_BYTES: integerText(1024, 100_000_000).default(DEFAULTS.MAX_BODY_BYTES),
  MAX_QUERY_DEPTH: integerText(1, 1000).default(DEFAULTS.MAX_QUERY_DEPTH),
  MAX_QUERY_ALIASES: integerText(0, 100_000).default(DEFAULTS.MAX_QUERY_ALIASES),
  MAX_QUERY_COST: integerText(1, 100_000_000).default(DEFAULTS.MAX_QUERY_COST),
  MAX_QUERY_TOKENS: integerText(200, 10_000_000).default(DEFAULTS.MAX_QUERY_TOKENS),
  MAX_QUERY_DIRECTIVES: integerText(0, 100_000).default(DEFAULTS.MAX_QUERY_DIRECTIVES),
  SHUTDOWN_TIMEOUT_MS: integerText(0, 600_000).default(DEFAULTS.SHUTDOWN_TIMEOUT_MS),
  SHUTDOWN_DELAY_MS: integerText(0, 600_000).default(DEFAULTS.SHUTDOWN_DELAY_MS),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
    .optional(),
  REDIS_CLUSTER_NODES: z.string().transform(parseClusterNodes).optional(),
  CACHE_BACKEND: z.enum(['redis', 'database', 'memory', 'none']).optional(),
  CACHE_FALLBACK: z.enum(['database', 'memory', 'none']).default(DEFAULTS.CACHE_FALLBACK),
  CACHE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 letters, digits, _ . or -')
    .default(DEFAULTS.CACHE_PREFIX),
  CACHE_TTL_SECONDS: integerText(1, 30 * 86400).default(DEFAULTS.CACHE_TTL_SECONDS),
  CACHE_NEGATIVE_TTL_SECONDS: integerText(1, 86400).default(DEFAULTS.CACHE_NEGATIVE_TTL_SECONDS),
  CACHE_TIMEOUT_MS: integerText(1, 60_000).default(DEFAULTS.CACHE_TIMEOUT_MS),
  CACHE_PROBE_INTERVAL_MS: integerText(50, 600_000).default(DEFAULTS.CACHE_PROBE_INTERVAL_MS),
  CACHE_MEMORY_MAX_ENTRIES: integerText(100, 100_000_000).default(DEFAULTS.CACHE_MEMORY_MAX_ENTRIES),
});

/** Variables whose values never appear in an error message. */
const SECRET_VARIABLES = new Set(['API_TOKEN', 'DATABASE_URL', 'REDIS_URL', 'REDIS_CLUSTER_NODES']);

const SEED_SYNTAX = 'expected comma-separated host:port or redis[s]://[user:password@]host:port seeds';

/**
 * REDIS_CLUSTER_NODES: `host:port` seeds, or seeds written like REDIS_URL to give credentials and
 * TLS. Those apply to the whole cluster, so URL seeds must agree on them; bare seeds share them.
 */
function parseClusterNodes(text: string, ctx: z.RefinementCtx): RedisClusterConfig {
  const nodes: { host: string; port: number }[] = [];
  const settings = new Set<string>();
  let shared = { username: null as string | null, password: null as string | null, tls: false };
  for (const seed of text.split(',').map((s) => s.trim())) {
    let host: string | undefined;
    let port: number | undefined;
    if (/^rediss?:\/\//.test(seed)) {
      const url = URL.canParse(seed) ? new URL(seed) : null;
      if (url && /^\/?0?$/.test(url.pathname) && url.hostname) {
        host = url.hostname.replace(/^\[(.*)\]$/, '$1');
        port = Number(url.port || 6379);
        shared = {
          username: url.username ? decodeURIComponent(url.username) : null,
          password: url.password ? decodeURIComponent(url.password) : null,
          tls: url.protocol === 'rediss:',
        };
        settings.add(JSON.stringify(shared));
      }
    } else {
      const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(seed);
      if (match) [host, port] = [(match[1] ?? match[2])!, Number(match[3])];
    }
    if (host === undefined || !(port! >= 1 && port! <= 65535)) {
      ctx.addIssue({ code: 'custom', message: SEED_SYNTAX });
      return z.NEVER;
    }
    nodes.push({ host, port: port! });
  }
  if (settings.size > 1) {
    ctx.addIssue({ code: 'custom', message: 'expected the same scheme and credentials on every URL seed' });
    return z.NEVER;
  }
  return { nodes, ...shared };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; throws ConfigError naming every bad variable (never its value if secret). */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  // Empty strings mean "unset", as in most .env files.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const problems = new Set(
    (parsed.error?.issues ?? []).map((issue) => {
      const name = String(issue.path[0]);
      const shown = SECRET_VARIABLES.has(name) ? '(hidden)' : `'${present[name]}'`;
      return `Invalid ${name}: ${issue.message}, got ${shown}`;
    }),
  );
  if (present.NODE_ENV === 'production' && !present.API_TOKEN) {
    problems.add(
      'Invalid API_TOKEN: required when NODE_ENV=production (writes would be open to anyone); set one or more comma-separated tokens',
    );
  }
  if (present.REDIS_URL && present.REDIS_CLUSTER_NODES) {
    problems.add(
      'Invalid REDIS_CLUSTER_NODES: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    );
  }
  if (present.CACHE_BACKEND === 'redis' && !present.REDIS_URL && !present.REDIS_CLUSTER_NODES) {
    problems.add('Invalid CACHE_BACKEND: redis needs REDIS_URL or REDIS_CLUSTER_NODES, got both unset');
  }
  if (!parsed.success || problems.size) throw new ConfigError([...problems].join('\n'));
  const e = parsed.data;
  const config: Config = {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          timeoutMs: e.DATABASE_TIMEOUT_MS,
        }
      : { kind: 'pglite', dir: e.PGLITE_DIR },
    apiTokens: e.API_TOKEN ?? null,
    introspection: e.GRAPHQL_INTROSPECTION ?? e.NODE_ENV !== 'production',
    maxBodyBytes: e.MAX_BODY_BYTES,
    queryLimits: {
      depth: e.MAX_QUERY_DEPTH,
      aliases: e.MAX_QUERY_ALIASES,
      cost: e.MAX_QUERY_COST,
      tokens: e.MAX_QUERY_TOKENS,
      directives: e.MAX_QUERY_DIRECTIVES,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    cache: {
      primary: e.CACHE_BACKEND ?? (e.REDIS_URL || e.REDIS_CLUSTER_NODES ? 'redis' : e.CACHE_FALLBACK),
      redisUrl: e.REDIS_URL ?? null,
      redisCluster: e.REDIS_CLUSTER_NODES ?? null,
      fallback: e.CACHE_FALLBACK,
      prefix: e.CACHE_PREFIX,
      ttlSeconds: e.CACHE_TTL_SECONDS,
      negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_SECONDS,
      timeoutMs: e.CACHE_TIMEOUT_MS,
      probeIntervalMs: e.CACHE_PROBE_INTERVAL_MS,
      memoryMaxEntries: e.CACHE_MEMORY_MAX_ENTRIES,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Query parameters that libpq-style clients read as credentials. */
const SECRET_URL_PARAMS = /^(password|pass|passwd|pwd|sslpassword|token|secret)$/i;

/** A URL with its password (in the userinfo or a query parameter) replaced by '***', for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_URL_PARAMS.test(name)) parsed.searchParams.set(name, '***');
    }
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
