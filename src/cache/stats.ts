// Cache counters: one object feeds both `cacheStats` in the schema and GET /metrics
// (prom-client, on a registry per app so that several apps in one process stay apart).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type ActiveBackend = 'REDIS' | 'DATABASE' | 'MEMORY' | 'NONE';

export interface CacheCounters {
  hits: number;
  negativeHits: number;
  misses: number;
  dbBatches: number;
  dbRows: number;
  errors: number;
  missedInvalidations: number;
}

export class CacheStats {
  readonly counters: CacheCounters = {
    hits: 0,
    negativeHits: 0,
    misses: 0,
    dbBatches: 0,
    dbRows: 0,
    errors: 0,
    missedInvalidations: 0,
  };
  readonly registry = new Registry();
  private readonly lookups = new Counter({
    name: 'cache_lookups_total',
    help: 'Cache lookups by result: hit, negative_hit (a cached "unknown"), miss.',
    labelNames: ['entity', 'result'] as const,
    registers: [this.registry],
  });
  private readonly dbBatchCounter = new Counter({
    name: 'cache_db_batches_total',
    help: 'Database queries made for cache misses.',
    labelNames: ['entity'] as const,
    registers: [this.registry],
  });
  private readonly dbRowCounter = new Counter({
    name: 'cache_db_rows_total',
    help: 'Rows loaded from the database for cache misses.',
    labelNames: ['entity'] as const,
    registers: [this.registry],
  });
  private readonly errorCounter = new Counter({
    name: 'cache_errors_total',
    help: 'Cache operations that failed, by backend and operation.',
    labelNames: ['backend', 'operation'] as const,
    registers: [this.registry],
  });
  private readonly missedInvalidationCounter = new Counter({
    name: 'cache_missed_invalidations_total',
    help: 'Keys whose invalidation could not reach Redis (cleared before Redis is used again).',
    registers: [this.registry],
  });
  private readonly backendGauge = new Gauge({
    name: 'cache_backend_active',
    help: '1 for the backend serving lookups now.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  private readonly degradedGauge = new Gauge({
    name: 'cache_degraded',
    help: '1 while serving from the fallback because Redis is unreachable.',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  lookup(entity: string, hits: number, negativeHits: number, misses: number): void {
    this.counters.hits += hits;
    this.counters.negativeHits += negativeHits;
    this.counters.misses += misses;
    if (hits) this.lookups.inc({ entity, result: 'hit' }, hits);
    if (negativeHits) this.lookups.inc({ entity, result: 'negative_hit' }, negativeHits);
    if (misses) this.lookups.inc({ entity, result: 'miss' }, misses);
  }

  databaseBatch(entity: string, rows: number): void {
    this.counters.dbBatches += 1;
    this.counters.dbRows += rows;
    this.dbBatchCounter.inc({ entity });
    this.dbRowCounter.inc({ entity }, rows);
  }

  error(backend: string, operation: string): void {
    this.counters.errors += 1;
    this.errorCounter.inc({ backend, operation });
  }

  missedInvalidations(count: number): void {
    this.counters.missedInvalidations += count;
    this.missedInvalidationCounter.inc(count);
  }

  activeBackend(backend: ActiveBackend, degraded: boolean): void {
    for (const name of ['REDIS', 'DATABASE', 'MEMORY', 'NONE'] as const) {
      this.backendGauge.set({ backend: name }, name === backend ? 1 : 0);
    }
    this.degradedGauge.set(degraded ? 1 : 0);
  }
}
