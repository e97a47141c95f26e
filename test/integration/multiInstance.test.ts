// Several API instances on one Postgres and one shared cache, as behind a load balancer: real
// server processes (src/main.ts), once over one Redis and once over a Redis Cluster. Random writes
// go through one instance and the read that follows, the moment the write has answered, through
// another; no read may see anything older than the last write (a write answers only after its
// invalidation is done, and the cache is shared). A control write past the invalidation (the
// change capture's triggers disabled in its transaction) shows the check would catch a stale entry.
import { Client } from 'pg';
import { TEST_TOKEN } from '../helpers/app';
import { DISABLE_CAPTURE_SQL, ENABLE_CAPTURE_SQL } from '../helpers/capture';
import { openMigratedDatabase } from '../helpers/database';
import { startServerProcess, type ServerProcess } from '../helpers/serverProcess';
import { startRedisCluster, startRedisProcess, uniquePrefix } from '../helpers/redis';

const INSTANCES = 2;
const WORKERS = 4;
const OPERATIONS_PER_WORKER = 60;
const PRODUCTS_PER_WORKER = 3;

interface Topology {
  readonly name: string;
  start(): Promise<{ env: Record<string, string>; stop(): Promise<void> }>;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'one Redis',
    async start() {
      const redis = await startRedisProcess();
      return { env: { REDIS_URL: redis.url }, stop: () => redis.stop() };
    },
  },
  {
    name: 'a Redis Cluster of 3 masters',
    async start() {
      const cluster = await startRedisCluster({ masters: 3 });
      return { env: { REDIS_CLUSTER_NODES: cluster.seeds }, stop: () => cluster.stop() };
    },
  },
];

async function gql<T>(server: ServerProcess, query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** What the database holds, as the workers wrote it: each worker owns its products and their barcodes. */
interface Model {
  products: Map<string, { name: string; priceCents: number }>;
  barcodes: Map<string, { productId: string; active: boolean }>;
  /** Codes that were renamed away: they must read as unknown. */
  retired: Set<string>;
}

/** The read every check makes: every barcode of the worker (and its retired codes), and its products. */
function readQuery(model: Model) {
  const codes = [...model.barcodes.keys(), ...model.retired];
  const ids = [...model.products.keys()];
  const products = ids.map((id, i) => `p${i}: product(id: "${id}") { id name priceCents }`).join('\n');
  const query = `query ($codes: [String!]!) {
    barcodes(codes: $codes) { code active product { id name priceCents } }
    ${products}
  }`;
  const expected = {
    barcodes: codes.map((code) => {
      const barcode = model.barcodes.get(code);
      if (!barcode) return null;
      return {
        code,
        active: barcode.active,
        product: { id: barcode.productId, ...model.products.get(barcode.productId)! },
      };
    }),
    ...Object.fromEntries(ids.map((id, i) => [`p${i}`, { id, ...model.products.get(id)! }])),
  };
  return { query, variables: { codes }, expected };
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** One random write through `server`, applied to the model once it has answered. */
async function randomWrite(server: ServerProcess, model: Model, label: string, n: number): Promise<string> {
  const productId = pick([...model.products.keys()]);
  const code = pick([...model.barcodes.keys()]);
  switch (pick(['rename', 'price', 'toggle', 'move', 'recode'] as const)) {
    case 'rename': {
      const name = `${label} name ${n}`;
      await gql(
        server,
        `mutation ($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { id } }`,
        {
          id: productId,
          name,
        },
      );
      model.products.get(productId)!.name = name;
      return 'rename';
    }
    case 'price': {
      const priceCents = n * 7;
      await gql(
        server,
        `mutation ($id: ID!, $p: NonNegativeInt) { updateProduct(id: $id, input: { priceCents: $p }) { id } }`,
        {
          id: productId,
          p: priceCents,
        },
      );
      model.products.get(productId)!.priceCents = priceCents;
      return 'price';
    }
    case 'toggle': {
      const active = !model.barcodes.get(code)!.active;
      await gql(
        server,
        `mutation ($code: String!, $a: Boolean) { updateBarcode(code: $code, input: { active: $a }) { code } }`,
        {
          code,
          a: active,
        },
      );
      model.barcodes.get(code)!.active = active;
      return 'toggle';
    }
    case 'move': {
      await gql(
        server,
        `mutation ($code: String!, $p: ID) { updateBarcode(code: $code, input: { productId: $p }) { code } }`,
        {
          code,
          p: productId,
        },
      );
      model.barcodes.get(code)!.productId = productId;
      return 'move';
    }
    case 'recode': {
      const next = `${label}-${n}`;
      await gql(
        server,
        `mutation ($code: String!, $next: String) { updateBarcode(code: $code, input: { code: $next }) { code } }`,
        {
          code,
          next,
        },
      );
      model.barcodes.set(next, model.barcodes.get(code)!);
      model.barcodes.delete(code);
      model.retired.add(code);
      return 'recode';
    }
  }
}

describe.each(TOPOLOGIES)('instances sharing $name', (topology) => {
  let servers: ServerProcess[] = [];
  let stopCache: () => Promise<void> = async () => {};
  let closeDatabase: () => Promise<void> = async () => {};
  let databaseUrl: string;

  beforeAll(async () => {
    const opened = await openMigratedDatabase('multi_instance');
    closeDatabase = opened.close;
    databaseUrl = opened.testDb.url;
    const cache = await topology.start();
    stopCache = cache.stop;
    const started = Date.now();
    const env = {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '4',
      API_TOKEN: TEST_TOKEN,
      CACHE_PREFIX: uniquePrefix('multi'),
      LOG_LEVEL: 'info',
      ...cache.env,
    };
    servers = await Promise.all(Array.from({ length: INSTANCES }, () => startServerProcess(env)));
    console.log(`${topology.name}: ${INSTANCES} server processes ready in ${Date.now() - started} ms`);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await stopCache();
    await closeDatabase();
  });

  it('a read through one instance right after a write through another never sees the old value', async () => {
    const started = Date.now();
    const counts: Record<string, number> = {};
    const stale: string[] = [];
    let reads = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const label = `MI-${w}`;
        const model: Model = { products: new Map(), barcodes: new Map(), retired: new Set() };
        for (let p = 0; p < PRODUCTS_PER_WORKER; p++) {
          const codes = [`${label}-p${p}-a`, `${label}-p${p}-b`];
          const { createProduct } = await gql<{ createProduct: { id: string } }>(
            pick(servers),
            `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
            {
              input: {
                sku: `${label}-${p}`,
                name: `${label} ${p}`,
                priceCents: 100,
                barcodes: codes.map((code) => ({ code })),
              },
            },
          );
          model.products.set(createProduct.id, { name: `${label} ${p}`, priceCents: 100 });
          for (const code of codes) model.barcodes.set(code, { productId: createProduct.id, active: true });
        }
        const check = async (reader: ServerProcess, after: string) => {
          const { query, variables, expected } = readQuery(model);
          const seen = await gql(reader, query, variables);
          reads++;
          if (JSON.stringify(seen) !== JSON.stringify(expected))
            stale.push(`${after}: expected ${JSON.stringify(expected)}, read ${JSON.stringify(seen)}`);
        };
        for (let n = 0; n < OPERATIONS_PER_WORKER; n++) {
          const writer = pick(servers);
          const reader = pick(servers.filter((server) => server !== writer));
          await check(reader, 'before a write'); // the entries are cached (and shared) when the write comes
          const kind = await randomWrite(writer, model, label, n);
          counts[kind] = (counts[kind] ?? 0) + 1;
          await check(reader, `right after a ${kind} through another instance`);
        }
      }),
    );
    const writes = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(
      `${topology.name}: ${writes} writes ${JSON.stringify(counts)} and ${reads} reads over ${INSTANCES} instances in ${Date.now() - started} ms, ${stale.length} stale`,
    );
    expect(writes).toBe(WORKERS * OPERATIONS_PER_WORKER);
    expect(stale).toEqual([]);
    // ...and the reads were served by the shared Redis, not by a fallback.
    for (const server of servers) {
      const { cacheStats } = await gql<{ cacheStats: { backend: string; degraded: boolean; hits: number } }>(
        server,
        '{ cacheStats { backend degraded hits } }',
      );
      expect(cacheStats).toMatchObject({ backend: 'REDIS', degraded: false });
      expect(cacheStats.hits).toBeGreaterThan(0);
    }
  });

  it('control: a write past the invalidation (the capture triggers disabled in its transaction) is read stale, so the check above can fail', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const { createProduct } = await gql<{ createProduct: { id: string } }>(
      a,
      `mutation { createProduct(input: { sku: "MI-CONTROL", name: "Cached", barcodes: [{ code: "MI-CONTROL-1" }] }) { id } }`,
    );
    const read = () =>
      gql<{ barcode: { product: { name: string } } }>(
        b,
        '{ barcode(code: "MI-CONTROL-1") { product { name } } }',
      );
    expect((await read()).barcode.product.name).toBe('Cached');
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      await pg.query('BEGIN');
      for (const statement of DISABLE_CAPTURE_SQL) await pg.query(statement);
      await pg.query(`UPDATE products SET name = 'Bypassed' WHERE id = $1`, [Number(createProduct.id)]);
      for (const statement of ENABLE_CAPTURE_SQL) await pg.query(statement);
      await pg.query('COMMIT');
    } finally {
      await pg.end();
    }
    expect((await read()).barcode.product.name).toBe('Cached');
  });
});
