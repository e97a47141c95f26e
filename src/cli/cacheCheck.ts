// `npm run cache:check`, the `manage.py test_cache` of this project: with the server's own
// configuration, names the backend that would serve, then runs a lookup's own cache calls (read
// and lease a miss, fill it, read it warm, invalidate it) on a temporary key and prints each
// latency. Exits 1 with the reason when anything fails.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { LeasedRead } from '../cache/backend';
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
    const value = `check-${Date.now()}`;
    const step = async <T>(name: string, work: () => Promise<T>, verify: (result: T) => boolean) => {
      const started = performance.now();
      const result = await work();
      const ms = (performance.now() - started).toFixed(2);
      if (!verify(result)) throw new Error(`${name} returned ${JSON.stringify(result)}`);
      out(`  ${name.padEnd(6)} ${ms.padStart(8)} ms  ✓`);
      return result;
    };
    // The calls a lookup makes, in its order, through the backend a lookup would use: a cold read
    // (on Redis an MGET, then the lease script), the lease-conditional fill (the fill script), a
    // warm read (the MGET alone), and an invalidation. A plain SET/GET round trip would pass on a
    // Redis that refuses what lookups run (an ACL without GET inside scripts, scripting disabled).
    const leaseOf = (slot: LeasedRead | undefined) => (slot && 'lease' in slot ? slot.lease : null);
    try {
      const [missed] = await step(
        'miss',
        () => serving.readLeased([key]),
        ([slot]) => leaseOf(slot) !== null,
      );
      await step(
        'fill',
        () => serving.fillLeased([{ key, lease: leaseOf(missed)!, value, ttlSeconds: 60 }]),
        () => true,
      );
      await step(
        'hit',
        () => serving.readLeased([key]),
        ([slot]) => slot !== undefined && 'value' in slot && slot.value === value,
      );
      await step(
        'delete',
        () => serving.delete([key]),
        () => true,
      );
      await step(
        'gone',
        () => serving.get([key]),
        ([found]) => found === null,
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
