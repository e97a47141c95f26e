// `npm run cache:warm [-- --batch N]`: loads every active barcode (with its product) into the
// cache in batches, so a fresh deploy does not start cold. It goes through the same cached
// loaders as requests, so it takes leases like any reader and never overwrites a newer write.
import { Presets, SingleBar } from 'cli-progress';
import { createCache } from '../cache/createCache';
import { createLoaders } from '../graphql/loaders';
import { createLogger } from '../logger';
import type { CliDeps } from './deps';

export const DEFAULT_WARM_BATCH = 500;

export async function run(args: string[], { config, db, out, err }: CliDeps): Promise<number> {
  const flag = args.indexOf('--batch');
  const batch = flag >= 0 ? Number(args[flag + 1]) : DEFAULT_WARM_BATCH;
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
    err(`Invalid --batch: expected an integer 1-10000, got '${args[flag + 1]}'`);
    return 2;
  }
  const cache = createCache(config.cache, db.prisma, createLogger({ logLevel: 'silent' }));
  try {
    await cache.cache.start();
    const { state } = cache.cache.status();
    if (state.kind === 'fallback') {
      err(`❌ Redis is unreachable (${state.reason}): warming the fallback instead would not help a deploy`);
      return 1;
    }
    if (!cache.cache.serving()) {
      err('❌ Caching is off: nothing to warm');
      return 1;
    }
    const total = await db.prisma.barcode.count({ where: { active: true } });
    const bar = new SingleBar(
      { format: 'warming [{bar}] {value}/{total} barcodes | {eta_formatted} left' },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    let afterId = 0;
    let done = 0;
    for (;;) {
      const rows = await db.prisma.barcode.findMany({
        where: { active: true, id: { gt: afterId } },
        orderBy: { id: 'asc' },
        take: batch,
        select: { id: true, key: true },
      });
      if (rows.length === 0) break;
      // Fresh loaders per batch: nothing is held across batches.
      await createLoaders(db.prisma, cache).barcodeByKey.loadMany(rows.map((r) => r.key));
      afterId = rows.at(-1)!.id;
      done += rows.length;
      bar.update(Math.min(done, total));
    }
    bar.stop();
    const { hits, misses } = cache.stats.counters;
    out(
      `✅ Warmed ${done} barcodes: ${misses} cache entries (barcodes and products) loaded from the database, ${hits} already cached`,
    );
    return 0;
  } finally {
    await cache.cache.stop();
  }
}
