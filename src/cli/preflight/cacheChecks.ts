// Items 9-10: the fallback backend works on its own (cache:check exercises only the backend that
// serves now, Redis when it is healthy), and the cache round trip, which is cache:check itself,
// run as one step and told in one line.
import { randomUUID } from 'node:crypto';
import { createDatabaseBackend } from '../../cache/databaseBackend';
import { createCacheKeys } from '../../cache/keys';
import { describeError } from '../../cache/describeError';
import type { Config } from '../../config/config';
import type { Database } from '../../db/database';
import * as cacheCheck from '../cacheCheck';
import type { CliDeps } from '../deps';
import { fail, ok, skipped, warn, type Item } from './report';

export async function checkFallback(config: Config, db: Database, postgresReachable: boolean): Promise<Item> {
  const name = 'Fallback cache';
  // With CACHE_BACKEND forcing a local backend, that backend serves everything and cache:check tests it.
  const backend = config.cache.primary === 'redis' ? config.cache.fallback : config.cache.primary;
  switch (backend) {
    case 'none':
      return warn(
        name,
        'CACHE_FALLBACK=none: while Redis is unreachable every lookup goes to Postgres, uncached',
        'unset CACHE_FALLBACK (database is the default)',
      );
    case 'memory':
      return ok(name, 'the in-process memory cache (nothing to reach)');
    case 'database': {
      if (!postgresReachable) return skipped(name, 'Postgres does not answer');
      const database = createDatabaseBackend(db.prisma);
      const key = `${createCacheKeys(config.cache.prefix).namespace}preflight:${randomUUID()}`;
      const value = `preflight-${Date.now()}`;
      try {
        await database.set(key, value, 60);
        const [read] = await database.get([key]);
        if (read !== value) throw new Error(`read back ${JSON.stringify(read)} instead of what was written`);
        await database.delete([key]);
        const [gone] = await database.get([key]);
        if (gone !== null) throw new Error('the row was still there after its delete');
        return ok(name, 'the database cache (cache_entries): write, read and delete of its own row work');
      } catch (error) {
        await database.delete([key]).catch(() => {});
        return fail(
          name,
          `the database cache (cache_entries) failed its round trip (${describeError(error).trim()})`,
          'see Cache tables above: npm run db:migrate, and the table privileges',
        );
      }
    }
    default: {
      const unreachable: never = backend;
      throw new Error(`unknown cache backend ${String(unreachable)}`);
    }
  }
}

/** cache:check, unchanged, its lines gathered into one item. */
export async function checkRoundTrip(deps: CliDeps): Promise<Item> {
  const name = 'Cache round trip (cache:check)';
  const out: string[] = [];
  const err: string[] = [];
  let code: number;
  try {
    code = await cacheCheck.run([], { ...deps, out: (l) => out.push(l), err: (l) => err.push(l) });
  } catch (error) {
    err.push(describeError(error));
    code = 1;
  }
  const unmark = (line: string) => line.replace(/^(✅|❌) /, '');
  const steps = out.flatMap((line) => {
    const step = /^\s+(\w+)\s+([\d.]+) ms/.exec(line);
    return step ? [`${step[1]} ${step[2]} ms`] : [];
  });
  if (code === 0) return ok(name, `${unmark(out[out.length - 1] ?? '')} (${steps.join(', ')})`);
  return fail(
    name,
    err.map(unmark).join('; ') || `exit code ${code}`,
    'see the Redis and fallback items above; npm run cache:check prints every step',
  );
}
