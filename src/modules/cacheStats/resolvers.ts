// cacheStats: the cache's counters and state, as the schema shows them.
import type { Resolvers } from '../../generated/graphql';

export const cacheStatsResolvers: Resolvers = {
  Query: {
    cacheStats: (_, __, { cache }) => {
      const { backend, degraded } = cache.cache.status();
      const { hits, negativeHits, misses, dbBatches } = cache.stats.counters;
      const answered = hits + negativeHits;
      return {
        backend,
        degraded,
        hits: answered,
        misses,
        hitRate: answered + misses === 0 ? 0 : answered / (answered + misses),
        dbQueries: dbBatches,
      };
    },
  },
};
