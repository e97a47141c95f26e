// Item 1: the configuration is fit for production. loadConfig already refuses what is invalid in
// any environment (and API_TOKEN missing under NODE_ENV=production); this adds what a deploy
// needs on top, and reports every problem at once, on one line.
import type { Config, ConfigError } from '../../config/config';
import { fail, ok, warn, type Item } from './report';

const NAME = 'Configuration';

interface Finding {
  readonly found: string;
  readonly fix: string;
}

function join(findings: readonly Finding[]): { detail: string; fix: string } {
  return {
    detail: findings.map((f) => f.found).join('; '),
    fix: findings.map((f) => f.fix).join('; '),
  };
}

/** What loadConfig refused: every bad variable, as it named them (secret values are never shown). */
export function configErrorItem(error: ConfigError): Item {
  const problems = error.message.split('\n').filter(Boolean);
  return fail(
    NAME,
    `${problems.length} invalid variable(s): ${problems.join('; ')}`,
    'correct each variable named (docs/configuration.md lists them with their defaults)',
  );
}

export function checkConfig(config: Config, instances: number): Item {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  if (config.nodeEnv !== 'production')
    problems.push({
      found: `NODE_ENV is '${config.nodeEnv}', expected production`,
      fix: 'set NODE_ENV=production (Sandbox and introspection off, API_TOKEN required)',
    });
  if (config.apiTokens === null)
    problems.push({
      found: 'API_TOKEN is not set (writes are open to anyone)',
      fix: 'set API_TOKEN to one or more comma-separated tokens of at least 16 characters',
    });
  if (config.database.kind !== 'postgres')
    problems.push({
      found: 'DATABASE_URL is not set (the embedded PGlite is a one-process development database)',
      fix: 'set DATABASE_URL=postgresql://…',
    });
  const { cache } = config;
  if (cache.redisUrl === null && cache.redisCluster === null)
    problems.push({
      found: `neither REDIS_URL nor REDIS_CLUSTER_NODES is set (lookups would use the ${cache.primary} cache only)`,
      fix: 'set REDIS_URL=redis://… (or rediss://), or REDIS_CLUSTER_NODES=host:port,… for a Redis Cluster',
    });
  else if (cache.primary !== 'redis')
    warnings.push({
      found: `CACHE_BACKEND=${cache.primary} while Redis is configured (Redis is not used)`,
      fix: 'unset CACHE_BACKEND to serve from Redis',
    });
  if (config.nodeEnv === 'production' && config.introspection)
    warnings.push({
      found: 'GRAPHQL_INTROSPECTION=true in production (anyone can read the schema, Sandbox is served)',
      fix: 'unset GRAPHQL_INTROSPECTION',
    });
  if (cache.fallback === 'memory' && instances > 1)
    warnings.push({
      found: `CACHE_FALLBACK=memory with ${instances} instances (each keeps its own copy, which other instances' writes do not invalidate)`,
      fix: 'use CACHE_FALLBACK=database (the default) with several instances',
    });
  if (problems.length) {
    const { detail, fix } = join([...problems, ...warnings]);
    return fail(NAME, detail, fix);
  }
  if (warnings.length) {
    const { detail, fix } = join(warnings);
    return warn(NAME, detail, fix);
  }
  const tokens = config.apiTokens!.length;
  const redis = cache.redisCluster
    ? `REDIS_CLUSTER_NODES (${cache.redisCluster.nodes.length} seed(s))`
    : 'REDIS_URL';
  return ok(NAME, `NODE_ENV=production, API_TOKEN (${tokens} token(s)), DATABASE_URL, ${redis}`);
}
