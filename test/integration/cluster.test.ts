// Redis Cluster, for real: a private cluster of redis-server processes (3 masters, each with a
// replica) on loopback ports, joined by redis-cli. The cluster backend passes the same contract as
// the other backends and splits every batch by hash slot; the app over it serves lookups,
// write-backs and invalidations across slots, cache:check and cache:clear work on it; and a master
// failing switches the app to its fallback until the replica has taken over, after which Redis
// serves again without any entry that missed an invalidation.
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { CLUSTER_KEY_BUCKETS, createCacheKeys } from '../../src/cache/keys';
import { createRedisBackend } from '../../src/cache/redisBackend';
import * as cacheCheck from '../../src/cli/cacheCheck';
import * as cacheClear from '../../src/cli/cacheClear';
import { loadConfig } from '../../src/config/config';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeCacheBackend } from '../helpers/cacheContract';
import { startRedisCluster, uniquePrefix, type RedisCluster, type RedisProcess } from '../helpers/redis';

let cluster: RedisCluster;
beforeAll(async () => {
  const started = Date.now();
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
  console.log(`Redis Cluster of 3 masters + 3 replicas ready in ${Date.now() - started} ms`);
}, 60_000);
afterAll(() => cluster?.stop());

const clusterConfig = () => loadConfig({ REDIS_CLUSTER_NODES: cluster.seeds }).cache.redisCluster!;

/** An inspection client on the whole cluster (never used by the app); disconnect it. */
function inspect(): Cluster {
  const seed = cluster.nodes.find((node) => node.running())!;
  const client = new Cluster([{ host: '127.0.0.1', port: seed.port }], {
    redisOptions: { commandTimeout: 2000 },
  });
  client.on('error', () => {});
  client.on('node error', () => {});
  return client;
}

/** The nodes that are masters now, by their own account. */
async function currentMasters(): Promise<RedisProcess[]> {
  const roles = await Promise.all(
    cluster.nodes
      .filter((node) => node.running())
      .map(async (node) => {
        const client = cluster.client(node);
        try {
          return { node, role: ((await client.role()) as string[])[0] };
        } finally {
          client.disconnect();
        }
      }),
  );
  return roles.filter(({ role }) => role === 'master').map(({ node }) => node);
}

describeCacheBackend('redis cluster', async () => {
  const backend = createRedisBackend({ cluster: clusterConfig(), timeoutMs: 1000 }, () => {});
  await backend.ping();
  return { backend, namespace: `${uniquePrefix('cluster-contract')}:`, close: () => backend.close() };
});

it('splits a batch by hash slot: one script call per slot, over every master, answered in key order', async () => {
  const namespace = `${uniquePrefix('cluster-slots')}:`;
  const backend = createRedisBackend({ cluster: clusterConfig(), timeoutMs: 2000 }, () => {});
  const masters = await currentMasters();
  try {
    await backend.ping();
    // Every master has loaded the scripts once, so what follows is EVALSHA only.
    const warm = Array.from({ length: 60 }, (_, i) => `${namespace}warm-${i}`);
    await backend.readLeased(warm);
    await backend.delete(warm);

    const keys = Array.from({ length: 200 }, (_, i) => `${namespace}k-${i}`);
    const slots = new Set(keys.map((key) => calculateSlot(key)));
    const owners = new Set(await Promise.all(keys.slice(0, 30).map((key) => cluster.masterOf(key))));
    expect(owners.size).toBe(3);
    await Promise.all(masters.map((node) => withClient(node, (c) => c.config('RESETSTAT'))));

    const read = await backend.readLeased([...keys, keys[0]!]);
    expect(read.every((slot) => 'lease' in slot && slot.lease)).toBe(true);
    // The repeated key shares the lease its first occurrence took.
    expect(read[200]).toEqual(read[0]);
    const calls = await Promise.all(masters.map((node) => withClient(node, scriptCalls)));
    expect(calls.reduce((a, b) => a + b, 0)).toBe(slots.size);
    expect(calls.every((n) => n > 0)).toBe(true);

    await backend.fillLeased(
      keys.map((key, i) => ({
        key,
        lease: (read[i] as { lease: string }).lease,
        value: `v${i}`,
        ttlSeconds: 60,
      })),
    );
    expect(await backend.readLeased(keys)).toEqual(keys.map((_, i) => ({ value: `v${i}` })));
    expect(await backend.get([keys[5]!, `${namespace}absent`, keys[150]!])).toEqual(['v5', null, 'v150']);
    await backend.delete(keys.slice(0, 100));
    expect(await backend.get(keys.slice(0, 101))).toEqual([...Array(100).fill(null), 'v100']);
    expect(await backend.clear(namespace)).toBe(100);
  } finally {
    await backend.close();
  }
});

async function withClient<T>(
  node: RedisProcess,
  work: (client: ReturnType<RedisCluster['client']>) => Promise<T>,
) {
  const client = cluster.client(node);
  try {
    return await work(client);
  } finally {
    client.disconnect();
  }
}

/** Script calls (EVAL and EVALSHA) a node ran since the last CONFIG RESETSTAT. */
async function scriptCalls(client: ReturnType<RedisCluster['client']>): Promise<number> {
  const info = await client.info('commandstats');
  return [...info.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** MGET calls a node ran since the last CONFIG RESETSTAT. */
async function mgetCalls(client: ReturnType<RedisCluster['client']>): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/^cmdstat_mget:calls=(\d+)/m.exec(info)?.[1] ?? 0);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const LIST = `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { id name } } }`;

async function createProducts(app: TestApp, label: string, count: number, codesEach: number) {
  const products: { id: string; codes: string[] }[] = [];
  for (let i = 0; i < count; i++) {
    const codes = Array.from({ length: codesEach }, (_, j) => `${label}-${i}-${j}`);
    const created = await app.gql<{ createProduct: { id: string } }>(
      `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
      { input: { sku: `${label}-${i}`, name: `${label} ${i}`, barcodes: codes.map((code) => ({ code })) } },
    );
    expect(created.errors).toBeUndefined();
    products.push({ id: created.data!.createProduct.id, codes });
  }
  return products;
}

describe('the app over the cluster', () => {
  let app: TestApp;
  const prefix = uniquePrefix('cluster-app');
  const keys = createCacheKeys(prefix, { clusterBuckets: true });
  let client: Cluster;
  beforeAll(async () => {
    app = await startTestApp(
      'cluster_app',
      { REDIS_CLUSTER_NODES: cluster.seeds, CACHE_PREFIX: prefix },
      { captureLogs: true },
    );
    client = inspect();
  });
  afterAll(async () => {
    client?.disconnect();
    await app?.stop();
  });

  it('names the cluster in its one start-up line; cacheStats, /readyz and /metrics say REDIS', async () => {
    expect(app.logs().filter((line) => /redis|cache/i.test(line.msg))).toEqual([
      expect.objectContaining({
        level: 30,
        msg: '✅ Using Redis Cluster Cache (6 seed node(s), BEST PERFORMANCE)',
        redis: `cluster redis://${cluster.seeds}`,
      }),
    ]);
    const stats = await app.gql<{ cacheStats: { backend: string; degraded: boolean } }>(
      '{ cacheStats { backend degraded } }',
    );
    expect(stats.data!.cacheStats).toEqual({ backend: 'REDIS', degraded: false });
    const base = new URL(app.url).origin;
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({
      cache: { backend: 'REDIS', degraded: false },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^cache_backend_active\{backend="REDIS"\} 1$/m);
    expect(metrics).toMatch(/^cache_degraded 0$/m);
  });

  it('serves a 40-code lookup cold, writes every entry back to its own master, then answers it from Redis alone', async () => {
    const products = await createProducts(app, 'CL-LIST', 20, 2);
    const codes = products.flatMap((p) => p.codes);
    const expected = products.flatMap((p, i) =>
      p.codes.map((code) => ({ code, product: { id: p.id, name: `CL-LIST ${i}` } })),
    );

    const cold = await app.gql(LIST, { codes });
    expect(cold).toMatchObject({ data: { barcodes: expected } });
    const written = [
      ...codes.map((code) => keys.barcode(code)),
      ...products.map((p) => keys.product(Number(p.id))),
    ];
    expect(await Promise.all(written.map((key) => client.exists(key)))).toEqual(written.map(() => 1));
    const owners = new Set(await Promise.all(written.map((key) => cluster.masterOf(key))));
    expect(owners.size).toBe(3);

    app.queries.length = 0;
    const warm = await app.gql(LIST, { codes });
    expect(warm).toMatchObject({ data: { barcodes: expected } });
    expect(app.queries).toEqual([]);
  });

  it('a 50-code list costs one call per hash-tag bucket its keys fall in (at most 12), not one per key; warm, only MGETs', async () => {
    const products = await createProducts(app, 'CL-BKT', 25, 2);
    const codes = products.flatMap((p) => p.codes);
    const bucketsOf = (list: string[]) => new Set(list.map((key) => calculateSlot(key))).size;
    const barcodeBuckets = bucketsOf(codes.map((code) => keys.barcode(code)));
    const productBuckets = bucketsOf(products.map((p) => keys.product(Number(p.id))));
    expect(barcodeBuckets).toBeLessThanOrEqual(CLUSTER_KEY_BUCKETS);
    expect(productBuckets).toBeLessThanOrEqual(CLUSTER_KEY_BUCKETS);
    // Control: the plain keys of one Redis would spread these codes over about one slot each.
    expect(bucketsOf(codes.map((code) => createCacheKeys(prefix).barcode(code)))).toBeGreaterThanOrEqual(45);

    const masters = await currentMasters();
    const counted = async (work: () => Promise<unknown>) => {
      await Promise.all(masters.map((node) => withClient(node, (c) => c.config('RESETSTAT'))));
      await work();
      const mgets = await Promise.all(masters.map((node) => withClient(node, mgetCalls)));
      const scripts = await Promise.all(masters.map((node) => withClient(node, scriptCalls)));
      return { mgets, scripts, total: { mget: sum(mgets), script: sum(scripts) } };
    };
    const list = async () => expect((await app.gql(LIST, { codes })).errors).toBeUndefined();

    // Cold, per loader (barcodes, then their products): one MGET, one lease call and one fill call per bucket.
    const cold = await counted(list);
    expect(cold.total).toEqual({
      mget: barcodeBuckets + productBuckets,
      script: 2 * (barcodeBuckets + productBuckets),
    });
    // Warm: one MGET per bucket of the barcodes (their products are in their entries), on every master, no script.
    app.queries.length = 0;
    const warm = await counted(list);
    expect(warm.total).toEqual({ mget: barcodeBuckets, script: 0 });
    expect(warm.mgets.every((n) => n > 0)).toBe(true);
    expect(app.queries).toEqual([]);
    console.log(
      `cluster, 50-code list: warm ${warm.total.mget} MGETs (per master ${warm.mgets.join('/')}), cold ${cold.total.mget} MGETs + ${cold.total.script} script calls`,
    );
  });

  it('invalidates across slots: a product rename removes its entry and every barcode entry of it, wherever they live', async () => {
    const [product] = await createProducts(app, 'CL-INV', 1, 8);
    const { id, codes } = product!;
    await app.gql(LIST, { codes });
    const entries = [keys.product(Number(id)), ...codes.map((code) => keys.barcode(code))];
    expect(new Set(await Promise.all(entries.map((key) => cluster.masterOf(key)))).size).toBeGreaterThan(1);
    expect(await Promise.all(entries.map((key) => client.exists(key)))).toEqual(entries.map(() => 1));

    const renamed = await app.gql(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Renamed" }) { name } }`,
      {
        id,
      },
    );
    expect(renamed.errors).toBeUndefined();
    expect(await Promise.all(entries.map((key) => client.exists(key)))).toEqual(entries.map(() => 0));
    const after = await app.gql<{ barcodes: { product: { name: string } }[] }>(LIST, { codes });
    expect(after.data!.barcodes.map((b) => b.product.name)).toEqual(codes.map(() => 'Renamed'));
  });

  describe('cache:check and cache:clear', () => {
    const run = async (command: typeof cacheCheck) => {
      const out: string[] = [];
      const err: string[] = [];
      const config = loadConfig({ REDIS_CLUSTER_NODES: cluster.seeds, CACHE_PREFIX: prefix });
      const code = await command.run([], {
        config,
        db: app.db,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('cache:check runs the cache calls of a lookup (miss, fill, hit, delete) on the cluster', async () => {
      const result = await run(cacheCheck);
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(result.out).toMatch(new RegExp(`^Redis: cluster redis://${cluster.seeds}$`, 'm'));
      expect(result.out).toMatch(/^Backend: Redis Cluster Cache \(redis\)/m);
      for (const step of ['miss', 'fill', 'hit', 'delete', 'gone'])
        expect(result.out).toMatch(new RegExp(`^  ${step} +\\d+\\.\\d+ ms  ✓$`, 'm'));
      expect(result.out).toMatch(/✅ Redis Cluster Cache works$/);
    });

    it('cache:clear removes the prefix from every master and nothing else', async () => {
      const outsider = `${uniquePrefix('cluster-outside')}:k`;
      await client.set(outsider, 'keep', 'EX', 60);
      const ours = (await Promise.all(
        (await currentMasters()).map((node) => withClient(node, (c) => c.keys(`${prefix}:*`))),
      )) as string[][];
      expect(ours.filter((found) => found.length > 0)).toHaveLength(3);
      const total = ours.reduce((n, found) => n + found.length, 0);

      const cleared = await run(cacheClear);
      expect(cleared).toEqual({ code: 0, out: `✅ Removed ${total} key(s) under '${prefix}:'`, err: '' });
      for (const node of await currentMasters())
        expect(await withClient(node, (c) => c.keys(`${prefix}:*`))).toEqual([]);
      expect(await client.get(outsider)).toBe('keep');
      await client.del(outsider);
    });
  });
});

describe('a master fails (SIGKILL) and its replica takes over', () => {
  let app: TestApp;
  const prefix = uniquePrefix('cluster-failover');
  const keys = createCacheKeys(prefix, { clusterBuckets: true });
  beforeAll(async () => {
    app = await startTestApp(
      'cluster_failover',
      {
        REDIS_CLUSTER_NODES: cluster.seeds,
        CACHE_PREFIX: prefix,
        CACHE_TIMEOUT_MS: '500',
        CACHE_PROBE_INTERVAL_MS: '100',
      },
      { captureLogs: true },
    );
  });
  afterAll(() => app?.stop());

  const names = async (codes: string[]) => {
    const response = await app.gql<{ barcodes: { product: { name: string } }[] }>(LIST, { codes });
    expect(response.errors).toBeUndefined();
    return response.data!.barcodes.map((b) => b.product.name);
  };
  const cacheState = async () =>
    (
      await app.gql<{ cacheStats: { backend: string; degraded: boolean } }>(
        '{ cacheStats { backend degraded } }',
      )
    ).data!.cacheStats;

  it('serves from the fallback meanwhile, then Redis again, with no entry that missed an invalidation', async () => {
    const [product] = await createProducts(app, 'CL-FAIL', 1, 12);
    const { id, codes } = product!;
    await names(codes);
    expect(await names(codes)).toEqual(codes.map(() => 'CL-FAIL 0'));

    // One code on the master that will fail, one on a master that stays.
    const owners = await Promise.all(codes.map((code) => cluster.masterOf(keys.barcode(code))));
    const victim = owners[0]!;
    const survivorCode = codes[owners.findIndex((owner) => owner !== victim)]!;
    const victimCode = codes[0]!;
    // The victim's replica has its entries before it fails (replication is asynchronous: wait for it).
    expect(await withClient(victim, (c) => c.wait(1, 2000))).toBe(1);
    const replicaOfVictim = (
      await Promise.all(
        cluster.nodes
          .filter((node) => node !== victim)
          .map(async (node) => {
            const role = (await withClient(node, (c) => c.role())) as unknown[];
            return role[0] === 'slave' && role[2] === victim.port ? node : null;
          }),
      )
    ).find((node) => node !== null)!;
    expect(
      await withClient(replicaOfVictim, async (c) => {
        await c.readonly();
        return c.get(keys.barcode(victimCode));
      }),
    ).toContain('CL-FAIL 0');

    await victim.kill();
    // The first request that reaches the dead master opens the breaker; all are answered.
    expect(await names(codes)).toEqual(codes.map(() => 'CL-FAIL 0'));
    expect(await cacheState()).toEqual({ backend: 'DATABASE', degraded: true });

    const renamed = await app.gql(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "After" }) { name } }`,
      {
        id,
      },
    );
    expect(renamed.errors).toBeUndefined();
    expect(app.running.cache.stats.counters.missedInvalidations).toBeGreaterThanOrEqual(codes.length + 1);
    expect(await names(codes)).toEqual(codes.map(() => 'After'));
    // Control: the surviving master still holds the old entry that Redis would serve if nothing replayed it.
    const inspector = inspect();
    try {
      expect(await inspector.get(keys.barcode(survivorCode))).toContain('CL-FAIL 0');
    } finally {
      inspector.disconnect();
    }

    const failedAt = Date.now();
    await cluster.waitUntilOk(20_000);
    for (let i = 0; ; i++) {
      const state = await cacheState();
      if (state.backend === 'REDIS' && !state.degraded) break;
      if (i > 200) throw new Error('the app did not return to Redis');
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`master failed → replica promoted and app back on Redis in ${Date.now() - failedAt} ms`);
    expect(await currentMasters()).toContain(replicaOfVictim);

    const after = inspect();
    try {
      // Replayed before Redis served again: neither the promoted replica nor the survivor has the old entries.
      for (const code of [victimCode, survivorCode])
        expect((await after.get(keys.barcode(code))) ?? '').not.toContain('CL-FAIL 0');
      expect(await names(codes)).toEqual(codes.map(() => 'After'));
      app.queries.length = 0;
      expect(await names(codes)).toEqual(codes.map(() => 'After'));
      expect(app.queries).toEqual([]); // served from the cluster again
      expect(await after.get(keys.barcode(victimCode))).toContain('After');
    } finally {
      after.disconnect();
    }
    const lines = app.logs().map((line) => line.msg);
    expect(lines.filter((msg) => msg.startsWith('⚠️ Redis failed'))).toHaveLength(1);
    expect(lines.filter((msg) => msg.startsWith('✅ Redis answers again'))).toEqual([
      '✅ Redis answers again: using Redis Cluster Cache (6 seed node(s), BEST PERFORMANCE)',
    ]);
  });
});
