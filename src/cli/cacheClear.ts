// `npm run cache:clear`: removes this project's keys (CACHE_PREFIX) from Redis (SCAN + UNLINK in
// batches, never FLUSHDB/FLUSHALL) and from the database cache table. Use it after what the change
// capture does not see: writes with its triggers disabled, DDL, a file-level restore
// (docs/cache.md, "Writes from outside the API").
import { createCache } from '../cache/createCache';
import { createLogger } from '../logger';
import type { CliDeps } from './deps';

export async function run(_args: string[], { config, db, out, err }: CliDeps): Promise<number> {
  const { cache, keys } = createCache(config.cache, db.prisma, createLogger({ logLevel: 'silent' }));
  try {
    await cache.start();
    const { state } = cache.status();
    if (state.kind === 'fallback') {
      err(`❌ Redis is unreachable (${state.reason}): nothing was cleared there; run again when it answers`);
      return 1;
    }
    const removed = await cache.clear();
    out(`✅ Removed ${removed} key(s) under '${keys.namespace}'`);
    return 0;
  } finally {
    await cache.stop();
  }
}
