// `npm run preflight [-- --instances N]`: the deployment checklist run as a program (Django's
// `manage.py check --deploy`). With the server's own configuration it checks, one line per item
// (✅ / ⚠️ / ❌, each ⚠️ and ❌ with its fix): the configuration, Postgres and its migrations and
// tables, connections for N instances, each Redis (version, ACL, maxmemory-policy), the fallback
// cache, and the cache round trip (cache:check). Exits 1 if any item is ❌, else 0; 2 on a bad
// argument. The items are described in docs/operations.md, "Preflight".
import type { ConfigError } from '../config/config';
import type { CliDeps } from './deps';
import { checkFallback, checkRoundTrip } from './preflight/cacheChecks';
import { checkConfig, configErrorItem } from './preflight/configCheck';
import { checkPostgres } from './preflight/postgresChecks';
import { checkRedis } from './preflight/redisChecks';
import { formatItem, summarize, type Item } from './preflight/report';

/** How many instances will share Postgres, for the Connections item. @default 1 */
function parseInstances(args: readonly string[]): number | string {
  const flag = args.indexOf('--instances');
  if (flag < 0) return 1;
  const text = args[flag + 1];
  const count = Number(text);
  return Number.isInteger(count) && count >= 1 && count <= 10_000
    ? count
    : `Invalid --instances: expected an integer 1-10000, got '${text ?? ''}'`;
}

export async function run(args: string[], deps: CliDeps): Promise<number> {
  const instances = parseInstances(args);
  if (typeof instances === 'string') {
    deps.err(instances);
    return 2;
  }
  const { config, db, out } = deps;
  const items: Item[] = [];
  const report = (item: Item) => {
    items.push(item);
    out(formatItem(item));
  };
  report(checkConfig(config, instances));
  const postgres = await checkPostgres(config, db, instances);
  postgres.items.forEach(report);
  (await checkRedis(config)).forEach(report);
  report(await checkFallback(config, db, postgres.reachable));
  report(await checkRoundTrip(deps));
  const { line, code } = summarize(items);
  out(line);
  return code;
}

/** When loadConfig refused the environment, nothing else can be checked: one item saying why. */
export function onConfigError(error: ConfigError, out: (line: string) => void): number {
  const item = configErrorItem(error);
  out(formatItem(item));
  out(summarize([item]).line);
  return 1;
}
