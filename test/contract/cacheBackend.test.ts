// One suite every cache backend must pass (test/helpers/cacheContract.ts): plain reads and writes,
// the lease protocol, TTLs and clearing by namespace. Redis and the database backend run against
// the real servers; test/integration/cluster.test.ts runs it against a Redis Cluster too.
import { createDatabaseBackend } from '../../src/cache/databaseBackend';
import { createMemoryBackend } from '../../src/cache/memoryBackend';
import { createRedisBackend } from '../../src/cache/redisBackend';
import { describeCacheBackend } from '../helpers/cacheContract';
import { openMigratedDatabase } from '../helpers/database';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

describeCacheBackend('memory', async () => ({
  backend: createMemoryBackend(),
  namespace: 'mem-test:',
  close: async () => {},
}));

describeCacheBackend('redis', async () => {
  const prefix = uniquePrefix('contract');
  const backend = createRedisBackend({ url: SHARED_REDIS_URL, timeoutMs: 1000 }, () => {});
  await backend.ping(); // the first command waits for the connection (the app does the same at start-up)
  return {
    backend,
    namespace: `${prefix}:`,
    close: async () => {
      await clearPrefix(prefix);
      await backend.close();
    },
  };
});

describeCacheBackend('database', async () => {
  const opened = await openMigratedDatabase('cache_contract');
  return { backend: createDatabaseBackend(opened.db.prisma), namespace: 'db-test:', close: opened.close };
});
