import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import fc from 'fast-check';
import { type Config, ConfigError, DEFAULTS, loadConfig, redactUrl } from '../../src/config/config';

type Env = Record<string, string | undefined>;

const TOKEN = 'test-token-0123456789';
const OTHER_TOKEN = 'another-token-abcdefgh';
const OPTIONAL_VARIABLES = [
  'DATABASE_URL',
  'API_TOKEN',
  'GRAPHQL_INTROSPECTION',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'CACHE_BACKEND',
] as const;
const ALL_VARIABLES = [...Object.keys(DEFAULTS), ...OPTIONAL_VARIABLES];

/** loadConfig's error, asserting it is a ConfigError. */
function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

/** The variable each line of a ConfigError message names, in order. */
const namedVariables = (error: ConfigError) =>
  error.message
    .split('\n')
    .map((line) => /^Invalid ([A-Z_]+): /.exec(line)?.[1] ?? `(unexpected line: ${line})`);

const EXPECTED_DEFAULTS: Config = {
  nodeEnv: 'development',
  host: '0.0.0.0',
  port: 4000,
  logLevel: 'info',
  database: { kind: 'pglite', dir: './.data/pglite' },
  apiTokens: null,
  introspection: true,
  maxBodyBytes: 1_000_000,
  queryLimits: { depth: 8, aliases: 15, cost: 20_000, tokens: 1000, directives: 50 },
  shutdownTimeoutMs: 10_000,
  shutdownDelayMs: 0,
  cache: {
    primary: 'database',
    redisUrl: null,
    redisCluster: null,
    fallback: 'database',
    prefix: 'barcode-cache',
    ttlSeconds: 3600,
    negativeTtlSeconds: 60,
    timeoutMs: 250,
    probeIntervalMs: 1000,
    memoryMaxEntries: 100_000,
  },
};

describe('loadConfig defaults', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual(EXPECTED_DEFAULTS);
  });

  it('takes its defaults from DEFAULTS', () => {
    const config = loadConfig({});
    expect(config.nodeEnv).toBe(DEFAULTS.NODE_ENV);
    expect(config.host).toBe(DEFAULTS.HOST);
    expect(config.port).toBe(DEFAULTS.PORT);
    expect(config.logLevel).toBe(DEFAULTS.LOG_LEVEL);
    expect(config.database).toEqual({ kind: 'pglite', dir: DEFAULTS.PGLITE_DIR });
    expect(config.maxBodyBytes).toBe(DEFAULTS.MAX_BODY_BYTES);
    const postgres = loadConfig({ DATABASE_URL: 'postgres://localhost/db' }).database;
    expect(postgres).toEqual({
      kind: 'postgres',
      url: 'postgres://localhost/db',
      poolSize: DEFAULTS.DATABASE_POOL_SIZE,
      timeoutMs: DEFAULTS.DATABASE_TIMEOUT_MS,
    });
  });

  it('ignores variables it does not know', () => {
    expect(
      loadConfig({ PATH: '/usr/bin', HOME: '/root', port: 'abc', Port: '1', npm_config_x: 'y' }),
    ).toEqual(EXPECTED_DEFAULTS);
  });

  it('treats empty strings and undefined as unset', () => {
    const empty = Object.fromEntries(ALL_VARIABLES.map((name) => [name, '']));
    const missing = Object.fromEntries(ALL_VARIABLES.map((name) => [name, undefined]));
    expect(loadConfig(empty)).toEqual(EXPECTED_DEFAULTS);
    expect(loadConfig(missing)).toEqual(EXPECTED_DEFAULTS);
  });

  it('reads process.env when called without an argument', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      const config = loadConfig();
      expect(config.port).toBe(4321);
      expect(config).toEqual(loadConfig({ ...process.env }));
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('does not modify the environment it is given', () => {
    const env = Object.freeze({ PORT: '', LOG_LEVEL: 'debug', API_TOKEN: ` ${TOKEN} ` });
    expect(() => loadConfig(env)).not.toThrow();
    expect(env).toEqual({ PORT: '', LOG_LEVEL: 'debug', API_TOKEN: ` ${TOKEN} ` });
  });
});

describe('loadConfig: each variable', () => {
  it.each(['development', 'test', 'production'] as const)('NODE_ENV=%s', (nodeEnv) => {
    expect(loadConfig({ NODE_ENV: nodeEnv, API_TOKEN: TOKEN }).nodeEnv).toBe(nodeEnv);
  });

  it.each(['prod', 'Production', 'DEVELOPMENT', 'staging', ' test'])('refuses NODE_ENV=%j', (value) => {
    const error = configError({ NODE_ENV: value });
    expect(namedVariables(error)).toEqual(['NODE_ENV']);
    expect(error.message).toMatch(new RegExp(`^Invalid NODE_ENV: .*got '${value}'$`));
  });

  it('HOST and PGLITE_DIR take any non-empty text as is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (host, dir) => {
        const config = loadConfig({ HOST: host, PGLITE_DIR: dir });
        expect(config.host).toBe(host);
        expect(config.database).toEqual({ kind: 'pglite', dir });
      }),
    );
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const)(
    'LOG_LEVEL=%s',
    (level) => {
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    },
  );

  it.each(['loud', 'INFO', 'warning', 'verbose', '30'])('refuses LOG_LEVEL=%s', (value) => {
    const error = configError({ LOG_LEVEL: value });
    expect(namedVariables(error)).toEqual(['LOG_LEVEL']);
    expect(error.message).toMatch(new RegExp(`^Invalid LOG_LEVEL: .*got '${value}'$`));
    expect(error.message).toContain('info');
  });

  describe.each<[string, number, number, (c: Config) => number]>([
    ['PORT', 0, 65_535, (c) => c.port],
    ['MAX_BODY_BYTES', 1024, 100_000_000, (c) => c.maxBodyBytes],
    ['MAX_QUERY_DEPTH', 1, 1000, (c) => c.queryLimits.depth],
    ['MAX_QUERY_ALIASES', 0, 100_000, (c) => c.queryLimits.aliases],
    ['MAX_QUERY_COST', 1, 100_000_000, (c) => c.queryLimits.cost],
    ['MAX_QUERY_TOKENS', 200, 10_000_000, (c) => c.queryLimits.tokens],
    ['MAX_QUERY_DIRECTIVES', 0, 100_000, (c) => c.queryLimits.directives],
    [
      'DATABASE_POOL_SIZE',
      1,
      1000,
      (c) => (c.database.kind === 'postgres' ? c.database.poolSize : Number.NaN),
    ],
    [
      'DATABASE_TIMEOUT_MS',
      100,
      600_000,
      (c) => (c.database.kind === 'postgres' ? c.database.timeoutMs : Number.NaN),
    ],
  ])('%s, an integer %p-%p', (name, min, max, read) => {
    const load = (value: string) => loadConfig({ DATABASE_URL: 'postgres://localhost/db', [name]: value });

    it('accepts the bounds and everything between', () => {
      expect(read(load(String(min)))).toBe(min);
      expect(read(load(String(max)))).toBe(max);
      fc.assert(
        fc.property(fc.integer({ min, max }), (n) => {
          expect(read(load(String(n)))).toBe(n);
        }),
      );
    });

    it('accepts leading zeros as decimal', () => {
      expect(read(load(`00${min + 1}`))).toBe(min + 1);
    });

    it.each([
      ['below the range', String(min - 1)],
      ['above the range', String(max + 1)],
      ['not a number', 'abc'],
      ['fractional', '1.5'],
      ['an exponent', '1e3'],
      ['hexadecimal', '0x10'],
      ['negative', '-1'],
      ['padded with spaces', ` ${min + 1} `],
      ['with an underscore', '1_000'],
    ])('refuses a value %s', (_label, value) => {
      const error = configError({ DATABASE_URL: 'postgres://localhost/db', [name]: value });
      expect(error.message).toBe(`Invalid ${name}: expected an integer ${min}-${max}, got '${value}'`);
    });

    it('is validated even when it would be unused', () => {
      // Pool settings are only used with DATABASE_URL, but a typo is still worth reporting.
      expect(namedVariables(configError({ [name]: 'abc' }))).toEqual([name]);
    });
  });

  // zod's int() also fails beyond Number.MAX_SAFE_INTEGER and adds its own line, which contradicts
  // the range the first line gives.
  it('reports an integer beyond 2^53 once, with the range of the variable', () => {
    const messages = Object.fromEntries(
      ['PORT', 'MAX_BODY_BYTES', 'DATABASE_POOL_SIZE', 'DATABASE_TIMEOUT_MS'].map((name) => [
        name,
        configError({ [name]: '99999999999999999999999' }).message,
      ]),
    );
    expect(messages).toEqual({
      PORT: "Invalid PORT: expected an integer 0-65535, got '99999999999999999999999'",
      MAX_BODY_BYTES:
        "Invalid MAX_BODY_BYTES: expected an integer 1024-100000000, got '99999999999999999999999'",
      DATABASE_POOL_SIZE:
        "Invalid DATABASE_POOL_SIZE: expected an integer 1-1000, got '99999999999999999999999'",
      DATABASE_TIMEOUT_MS:
        "Invalid DATABASE_TIMEOUT_MS: expected an integer 100-600000, got '99999999999999999999999'",
    });
  });

  it.each(['postgres://localhost/db', 'postgresql://user:pw@db.example.com:6543/app?sslmode=require'])(
    'DATABASE_URL=%s selects Postgres',
    (url) => {
      expect(
        loadConfig({
          DATABASE_URL: url,
          DATABASE_POOL_SIZE: '3',
          DATABASE_TIMEOUT_MS: '250',
          PGLITE_DIR: '/x',
        }).database,
      ).toEqual({ kind: 'postgres', url, poolSize: 3, timeoutMs: 250 });
    },
  );

  it.each([
    'mysql://root:hunter2@db/app',
    'http://localhost:5432',
    'localhost:5432/db',
    'postgres:/localhost/db',
    ' postgres://localhost/db',
  ])('refuses DATABASE_URL=%s without echoing it', (url) => {
    expect(configError({ DATABASE_URL: url }).message).toBe(
      'Invalid DATABASE_URL: expected a postgres:// or postgresql:// URL, got (hidden)',
    );
  });

  it.each<[string, string[]]>([
    [TOKEN, [TOKEN]],
    [`${TOKEN},${OTHER_TOKEN}`, [TOKEN, OTHER_TOKEN]],
    [` ${TOKEN} , ${OTHER_TOKEN} `, [TOKEN, OTHER_TOKEN]],
    ['x'.repeat(16), ['x'.repeat(16)]],
  ])('API_TOKEN=%j', (value, tokens) => {
    expect(loadConfig({ API_TOKEN: value }).apiTokens).toEqual(tokens);
  });

  it.each([
    ['a 15-character token', 'x'.repeat(15)],
    ['one short token among good ones', `${TOKEN},short,${OTHER_TOKEN}`],
    ['a trailing comma', `${TOKEN},`],
    ['an empty item', `${TOKEN},,${OTHER_TOKEN}`],
    ['only whitespace', '   '],
  ])('refuses API_TOKEN with %s', (_label, value) => {
    const error = configError({ API_TOKEN: value });
    expect(new Set(namedVariables(error))).toEqual(new Set(['API_TOKEN']));
    expect(error.message).toContain('expected tokens of at least 16 characters, got (hidden)');
  });

  it.each<[string, boolean]>([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('GRAPHQL_INTROSPECTION=%s', (value, expected) => {
    expect(loadConfig({ GRAPHQL_INTROSPECTION: value }).introspection).toBe(expected);
    expect(
      loadConfig({ GRAPHQL_INTROSPECTION: value, NODE_ENV: 'production', API_TOKEN: TOKEN }).introspection,
    ).toBe(expected);
  });

  it.each(['yes', 'no', 'on', 'TRUE', 'False', '2'])('refuses GRAPHQL_INTROSPECTION=%s', (value) => {
    const error = configError({ GRAPHQL_INTROSPECTION: value });
    expect(namedVariables(error)).toEqual(['GRAPHQL_INTROSPECTION']);
    expect(error.message).toMatch(new RegExp(`^Invalid GRAPHQL_INTROSPECTION: .*got '${value}'$`));
  });

  it.each<[string, boolean]>([
    ['development', true],
    ['test', true],
    ['production', false],
  ])('defaults introspection for NODE_ENV=%s to %p', (nodeEnv, expected) => {
    expect(loadConfig({ NODE_ENV: nodeEnv, API_TOKEN: TOKEN }).introspection).toBe(expected);
  });
});

describe('REDIS_CLUSTER_NODES', () => {
  const cluster = (value: string) => loadConfig({ REDIS_CLUSTER_NODES: value }).cache;

  it('takes host:port seeds and makes redis the primary backend', () => {
    expect(cluster('10.0.0.1:7000, redis-b:7001,[::1]:7002')).toMatchObject({
      primary: 'redis',
      redisUrl: null,
      redisCluster: {
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'redis-b', port: 7001 },
          { host: '::1', port: 7002 },
        ],
        username: null,
        password: null,
        tls: false,
      },
    });
  });

  it('takes credentials and TLS from URL seeds, for every node', () => {
    expect(cluster('rediss://app:p%40ss@a.example:6380,b.example:6380').redisCluster).toEqual({
      nodes: [
        { host: 'a.example', port: 6380 },
        { host: 'b.example', port: 6380 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(cluster('redis://:pw@a:7000,redis://:pw@b').redisCluster).toMatchObject({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 6379 },
      ],
      username: null,
      password: 'pw',
    });
  });

  it.each([
    ['a missing port', 'a.example'],
    ['port 0', 'a:0'],
    ['a port beyond 65535', 'a:65536'],
    ['an empty seed', 'a:7000,,b:7001'],
    ['a trailing comma', 'a:7000,'],
    ['a path', 'a:7000/x'],
    ['a database other than 0', 'redis://:secret-pw@a:7000/2'],
    ['another scheme', 'http://a:7000'],
  ])('refuses %s without echoing the value', (_label, value) => {
    expect(configError({ REDIS_CLUSTER_NODES: value }).message).toBe(
      'Invalid REDIS_CLUSTER_NODES: expected comma-separated host:port or redis[s]://[user:password@]host:port seeds, got (hidden)',
    );
  });

  it('refuses URL seeds that disagree on credentials or TLS', () => {
    for (const value of ['redis://:one@a:1,redis://:two@b:2', 'redis://a:1,rediss://b:2']) {
      expect(configError({ REDIS_CLUSTER_NODES: value }).message).toBe(
        'Invalid REDIS_CLUSTER_NODES: expected the same scheme and credentials on every URL seed, got (hidden)',
      );
    }
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together', () => {
    expect(configError({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' }).message).toBe(
      'Invalid REDIS_CLUSTER_NODES: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    );
  });

  it('satisfies CACHE_BACKEND=redis, which needs one of the two', () => {
    expect(loadConfig({ CACHE_BACKEND: 'redis', REDIS_CLUSTER_NODES: 'a:7000' }).cache.primary).toBe('redis');
    expect(configError({ CACHE_BACKEND: 'redis' }).message).toBe(
      'Invalid CACHE_BACKEND: redis needs REDIS_URL or REDIS_CLUSTER_NODES, got both unset',
    );
  });
});

describe('loadConfig errors', () => {
  it('reports PORT=abc and LOG_LEVEL=loud together in one ConfigError', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(error.name).toBe('ConfigError');
    expect(error).toBeInstanceOf(Error);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("Invalid PORT: expected an integer 0-65535, got 'abc'");
    expect(lines[1]).toMatch(/^Invalid LOG_LEVEL: .*"info".*, got 'loud'$/);
  });

  it('names every bad variable at once', () => {
    const error = configError({
      NODE_ENV: 'prod',
      PORT: '70000',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://db/app',
      DATABASE_POOL_SIZE: '0',
      DATABASE_TIMEOUT_MS: '1.5',
      API_TOKEN: 'short',
      GRAPHQL_INTROSPECTION: 'yes',
      MAX_BODY_BYTES: '-1',
    });
    expect(namedVariables(error).sort()).toEqual(
      [
        'NODE_ENV',
        'PORT',
        'LOG_LEVEL',
        'DATABASE_URL',
        'DATABASE_POOL_SIZE',
        'DATABASE_TIMEOUT_MS',
        'API_TOKEN',
        'GRAPHQL_INTROSPECTION',
        'MAX_BODY_BYTES',
      ].sort(),
    );
  });

  it('names exactly the bad variables of any combination', () => {
    const bad: Record<string, string> = {
      NODE_ENV: 'staging',
      PORT: 'http',
      LOG_LEVEL: 'LOUD',
      DATABASE_URL: 'sqlite://x',
      DATABASE_POOL_SIZE: '-5',
      DATABASE_TIMEOUT_MS: '99',
      API_TOKEN: 'tiny',
      GRAPHQL_INTROSPECTION: 'maybe',
      MAX_BODY_BYTES: '1023',
    };
    fc.assert(
      fc.property(fc.subarray(Object.keys(bad), { minLength: 1 }), (names) => {
        const env = Object.fromEntries(names.map((name) => [name, bad[name]]));
        expect(new Set(namedVariables(configError(env)))).toEqual(new Set(names));
      }),
    );
  });

  it('refuses production without API_TOKEN', () => {
    for (const env of [{ NODE_ENV: 'production' }, { NODE_ENV: 'production', API_TOKEN: '' }]) {
      expect(configError(env).message).toBe(
        'Invalid API_TOKEN: required when NODE_ENV=production (writes would be open to anyone); set one or more comma-separated tokens',
      );
    }
  });

  it('accepts production with a token, with introspection off', () => {
    const config = loadConfig({ NODE_ENV: 'production', API_TOKEN: `${TOKEN},${OTHER_TOKEN}` });
    expect(config).toEqual({
      ...EXPECTED_DEFAULTS,
      nodeEnv: 'production',
      apiTokens: [TOKEN, OTHER_TOKEN],
      introspection: false,
    });
  });

  it('reports the missing production API_TOKEN together with the other bad variables', () => {
    const error = configError({ NODE_ENV: 'production', PORT: 'abc' });
    expect(new Set(namedVariables(error))).toEqual(new Set(['PORT', 'API_TOKEN']));
  });

  it('never echoes API_TOKEN or DATABASE_URL values', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9:/@._-]{0,30}$/).map((s) => `SECRET${s}`);
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        secret,
        fc.boolean(),
        (tokens, url, otherProblems) => {
          const env: Env = { API_TOKEN: tokens.join(','), DATABASE_URL: url };
          if (otherProblems) Object.assign(env, { PORT: 'abc', LOG_LEVEL: 'loud', NODE_ENV: 'production' });
          let message: string;
          try {
            loadConfig(env);
            // Long enough tokens and a URL that happens to be valid are not errors: nothing to leak.
            return;
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            message = (error as ConfigError).message;
          }
          expect(message).not.toContain('SECRET');
          expect(message).toContain('Invalid DATABASE_URL');
        },
      ),
    );
  });
});

describe('loadConfig result', () => {
  it('is deeply frozen', () => {
    const config = loadConfig({
      API_TOKEN: `${TOKEN},${OTHER_TOKEN}`,
      DATABASE_URL: 'postgres://localhost/db',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
    expect(Object.isFrozen(config.apiTokens)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.database as { url: string }).url = 'postgres://evil/db';
    }).toThrow(TypeError);
    expect(() => {
      (config.apiTokens as string[]).push('x'.repeat(20));
    }).toThrow(TypeError);
    expect(config.port).toBe(4000);
    expect(config.apiTokens).toEqual([TOKEN, OTHER_TOKEN]);
  });

  it('is a new object on every call', () => {
    expect(loadConfig({})).not.toBe(loadConfig({}));
  });
});

describe('.env.example', () => {
  const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  const lines = text.split('\n');
  const assignments = new Map<string, string>();
  const commentedOut: string[] = [];
  for (const line of lines) {
    const assignment = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (assignment) {
      expect(assignments.has(assignment[1])).toBe(false);
      assignments.set(assignment[1], assignment[2]);
    }
    const optional = /^# ?([A-Z][A-Z0-9_]*)=$/.exec(line);
    if (optional) commentedOut.push(optional[1]);
  }

  it('has only blank lines, comments and NAME=value lines', () => {
    for (const line of lines) expect(line).toMatch(/^(|#.*|[A-Z][A-Z0-9_]*=.*)$/);
  });

  it('sets exactly the variables of DEFAULTS, each to its default', () => {
    expect([...assignments.keys()].sort()).toEqual(Object.keys(DEFAULTS).sort());
    for (const [name, value] of Object.entries(DEFAULTS)) expect(assignments.get(name)).toBe(String(value));
  });

  it('lists the optional variables commented out and unset', () => {
    expect([...commentedOut].sort()).toEqual([...OPTIONAL_VARIABLES].sort());
  });

  it('documents every variable with a comment right above it', () => {
    lines.forEach((line, i) => {
      if (/^(# ?)?[A-Z][A-Z0-9_]*=/.test(line)) expect(lines[i - 1]).toMatch(/^# \S/);
    });
  });

  it('parses, as dotenv reads it, to the default configuration', () => {
    const parsed = parseDotenv(text);
    expect(parsed).toEqual(Object.fromEntries(assignments));
    expect(loadConfig(parsed)).toEqual(EXPECTED_DEFAULTS);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://user:secret@host:5432/db', 'postgres://user:***@host:5432/db'],
    ['postgresql://user:p%40ss@host/db?sslmode=require', 'postgresql://user:***@host/db?sslmode=require'],
    ['postgres://:secret@host/db', 'postgres://:***@host/db'],
    ['postgres://user@host/db', 'postgres://user@host/db'],
    ['postgres://host/db', 'postgres://host/db'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it.each(['not a url', '', 'postgres://u:secret@/db?host=/var/run/postgresql'])(
    'shows %j as unparseable rather than echoing it',
    (url) => {
      expect(redactUrl(url)).toBe('(unparseable URL)');
    },
  );

  it('masks any password, whatever its characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (password) => {
        const url = `postgres://app:${encodeURIComponent(password)}@db.internal:5432/barcodes`;
        expect(redactUrl(url)).toBe('postgres://app:***@db.internal:5432/barcodes');
      }),
    );
  });

  // libpq and node-postgres (pg-connection-string) also take the password as a query parameter,
  // and app.ts logs redactUrl(config.database.url) at startup.
  it('masks a password given as a query parameter', () => {
    const redacted = redactUrl('postgres://app@db.internal:5432/barcodes?sslmode=require&password=s3cret');
    expect(redacted).not.toContain('s3cret');
  });
});
