// `npm run cache:check`, the `manage.py test_cache` of this project: with the server's own
// configuration, names the backend that would serve, then does a set/get/mget/delete round trip
// on a temporary key and prints each latency. Exits 1 with the reason when anything fails.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createCache, describeRedis } from '../cache/createCache';
import { createLogger } from '../logger';
import type { CliDeps } from './deps';

export async function run(_args: string[], { config, db, out, err }: CliDeps): Promise<number> {
  const { cache, keys } = createCache(config.cache, db.prisma, createLogger({ logLevel: 'silent' }));
  try {
    await cache.start();
    const { state } = cache.status();
    const redis = describeRedis(config.cache);
    if (redis) out(`Redis: ${redis}`);
    if (state.kind === 'fallback') {
      err(
        `❌ Redis is unreachable (${state.reason}); requests would be served by the ${cache.servingName()} fallback`,
      );
      return 1;
    }
    const serving = cache.serving();
    if (!serving) {
      err('❌ Caching is off (CACHE_BACKEND=none, or CACHE_FALLBACK=none without Redis): nothing to check');
      return 1;
    }
    out(`Backend: ${cache.servingName()} (${serving.name}), key prefix '${keys.namespace}'`);
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
    out(`✅ ${cache.servingName()} works`);
    return 0;
  } finally {
    await cache.stop();
  }
}
