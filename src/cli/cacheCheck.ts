// `npm run cache:check`, the `manage.py test_cache` of this project: with the server's own
// configuration, names the backend that would serve, then does a set/get/mget/delete round trip
// on a temporary key and prints each latency. Exits 1 with the reason when anything fails.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { redactUrl } from '../config/config';
import { createCache } from '../cache/createCache';
import { createLogger } from '../logger';
import type { CliDeps } from './deps';

const NAMES = {
  REDIS: 'External Redis Cache',
  DATABASE: 'Database Cache',
  MEMORY: 'In-Memory Cache',
  NONE: 'none',
};

export async function run(_args: string[], { config, db, out, err }: CliDeps): Promise<number> {
  const { cache, keys } = createCache(config.cache, db.prisma, createLogger({ logLevel: 'silent' }));
  try {
    await cache.start();
    const { backend, state } = cache.status();
    if (config.cache.redisUrl) out(`Redis: ${redactUrl(config.cache.redisUrl)}`);
    if (state.kind === 'fallback') {
      err(
        `❌ Redis is unreachable (${state.reason}); requests would be served by the ${NAMES[backend]} fallback`,
      );
      return 1;
    }
    const serving = cache.serving();
    if (!serving) {
      err(
        '❌ Caching is off (CACHE_BACKEND=none or CACHE_FALLBACK=none without REDIS_URL): nothing to check',
      );
      return 1;
    }
    out(`Backend: ${NAMES[backend]} (${serving.name}), key prefix '${keys.namespace}'`);
    const key = `${keys.namespace}cache-check:${randomUUID()}`;
    const other = `${key}:absent`;
    const value = `check-${Date.now()}`;
    const step = async <T>(name: string, work: () => Promise<T>, verify: (result: T) => boolean) => {
      const started = performance.now();
      const result = await work();
      const ms = (performance.now() - started).toFixed(2);
      if (!verify(result)) throw new Error(`${name} returned ${JSON.stringify(result)}`);
      out(`  ${name.padEnd(6)} ${ms.padStart(8)} ms  ✓`);
    };
    try {
      await step(
        'set',
        () => serving.set(key, value, 60),
        () => true,
      );
      await step(
        'get',
        () => serving.get([key]),
        (r) => r[0] === value,
      );
      await step(
        'mget',
        () => serving.get([key, other]),
        (r) => r[0] === value && r[1] === null,
      );
      await step(
        'delete',
        () => serving.delete([key]),
        () => true,
      );
      await step(
        'get',
        () => serving.get([key]),
        (r) => r[0] === null,
      );
    } catch (error) {
      err(`❌ Cache check failed: ${(error as Error).message}`);
      await serving.delete([key]).catch(() => {});
      return 1;
    }
    out(`✅ ${NAMES[backend]} works`);
    return 0;
  } finally {
    await cache.stop();
  }
}
