// Unfiltered products pages served from the cached page chunks (keys.productChunk): the same
// answer as the page query (order, cursors, hasNextPage) for pages across chunk boundaries, over
// gaps of deleted ids and past the last product; a warm page costs one MGET for its chunks, one
// for its barcode lists and no SQL (Redis's own INFO commandstats on a private redis-server,
// Prisma's query events); and every kind of product write is seen on the next page read: a
// rename, a create and a delete through the API, an UPDATE, INSERT and DELETE by plain SQL.
import Redis from 'ioredis';
import { Client } from 'pg';
import { createCacheKeys, productChunkOf } from '../../src/cache/keys';
import { seedDemoData } from '../../src/db/demoData';
import { encodeCursor } from '../../src/modules/product/cursor';
import { startTestApp, type TestApp } from '../helpers/app';
import { commandsBetween, commandStats, startRedisProcess, type RedisProcess } from '../helpers/redis';

const PREFIX = 'pages';
const keys = createCacheKeys(PREFIX);
let redisServer: RedisProcess;
let redis: Redis;
let app: TestApp;
/** A writer outside the API: a plain pg connection, as psql or another service would have. */
let writer: Client;

/** Products 1-200, then gaps: 10, 11 and 40 deleted, and 64-100 (all of chunk 2 and more). */
const SEEDED = 200;
const DELETED = [10, 11, 40, ...Array.from({ length: 37 }, (_, i) => 64 + i)];

beforeAll(async () => {
  redisServer = await startRedisProcess();
  redis = new Redis(redisServer.url);
  app = await startTestApp('product_pages', { REDIS_URL: redisServer.url, CACHE_PREFIX: PREFIX });
  await seedDemoData(app.db.prisma, SEEDED);
  await app.db.prisma.product.deleteMany({ where: { id: { in: DELETED } } });
  await app.settled();
  writer = new Client({ connectionString: app.databaseUrl });
  writer.on('error', () => {});
  await writer.connect();
});
afterAll(async () => {
  await writer?.end();
  await app?.stop();
  redis?.disconnect();
  await redisServer?.stop();
});

interface Page {
  edges: { cursor: string; node: { id: string; name: string; barcodes: { code: string }[] } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const PAGE = `query ($first: Int, $after: String) {
  products(first: $first, after: $after) {
    edges { cursor node { id name barcodes { code } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The page through the API (from the chunks). */
async function page(after: number | null, first: number): Promise<Page> {
  const response = await app.gql<{ products: Page }>(PAGE, {
    first,
    after: after === null ? null : encodeCursor(after),
  });
  expect(response.errors).toBeUndefined();
  return response.data!.products;
}

/** The page query itself, straight from Postgres: `id > after ORDER BY id LIMIT first + 1`. */
async function sqlPage(after: number | null, first: number): Promise<Page> {
  const rows = await app.db.prisma.product.findMany({
    where: after === null ? {} : { id: { gt: after } },
    orderBy: { id: 'asc' },
    take: first + 1,
    include: { barcodes: { orderBy: { id: 'asc' } } },
  });
  const edges = rows.slice(0, first).map((row) => ({
    cursor: encodeCursor(row.id),
    node: { id: String(row.id), name: row.name, barcodes: row.barcodes.map((b) => ({ code: b.code })) },
  }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** Redis commands and SQL tables of one page read. */
async function measure(after: number | null, first: number) {
  const before = await commandStats(redis);
  app.queries.length = 0;
  const result = await page(after, first);
  const tables = app.queries.map((q) => /FROM "public"\."(\w+)"/.exec(q)?.[1] ?? q.slice(0, 30));
  return { page: result, redis: commandsBetween(before, await commandStats(redis)), tables };
}

const ids = (p: Page) => p.edges.map((e) => Number(e.node.id));

// after: chunk starts and ends (31/32, 63/64), just before and inside the gaps, the last
// product (200), past it, and the largest id a cursor can name; first: within a chunk, a
// chunk's size and either side of it, more than a chunk, the most a page may ask.
const AFTERS = [null, 1, 9, 25, 31, 32, 39, 50, 63, 64, 90, 101, 150, 185, 199, 200, 250, 2_147_483_647];
const FIRSTS = [1, 20, 31, 32, 33, 64, 100];

describe('pages from the chunks answer what the page query answers', () => {
  it.each(AFTERS.map((after) => [after]))('after %p, every page size, cold then warm', async (after) => {
    for (const first of FIRSTS) {
      const expected = await sqlPage(after, first);
      expect(await page(after, first)).toEqual(expected);
      expect(await page(after, first)).toEqual(expected);
    }
  });

  it('walks every product with endCursor as the page query does, across chunks and gaps', async () => {
    for (const first of [7, 20, 32]) {
      const seen: number[] = [];
      let after: number | null = null;
      for (;;) {
        const p = await page(after, first);
        expect(p).toEqual(await sqlPage(after, first));
        seen.push(...ids(p));
        if (!p.pageInfo.hasNextPage) break;
        after = Number(ids(p).at(-1));
      }
      const all = Array.from({ length: SEEDED }, (_, i) => i + 1).filter((id) => !DELETED.includes(id));
      expect(seen).toEqual(all);
    }
  });

  it('caches a chunk past the last product as an empty list', async () => {
    await page(250, 20);
    expect(await redis.get(keys.productChunk(productChunkOf(251)))).toBe('[]');
  });
});

describe('what a page read costs', () => {
  it('a warm page across two chunks is one MGET for the chunks, one for the barcode lists, and no SQL', async () => {
    await page(25, 20); // ids 26-46: chunks 0 and 1
    const warm = await measure(25, 20);
    expect(ids(warm.page)).toEqual([
      26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 41, 42, 43, 44, 45, 46,
    ]);
    expect(warm.tables).toEqual([]);
    expect(warm.redis).toEqual({ mget: 2 });
  });

  it('a cold page: one MGET, lease and fill for its chunks with one query, then the lists', async () => {
    await redis.unlink(keys.productChunk(4), keys.productChunk(5));
    const cold = await measure(140, 20); // ids 141-161: chunks 4 and 5, their lists warm already
    expect(cold.tables).toEqual(['products']);
    expect(cold.redis).toEqual({ mget: 2, evalsha: 2, set: 2 * 2, get: 2 });
  });

  it('a page over a gap reads the chunks that follow in a second MGET, still no SQL', async () => {
    await page(60, 20);
    const warm = await measure(60, 20); // 61-63, then nothing until 101: chunks 1-2, then 3
    expect(ids(warm.page)).toEqual([61, 62, 63, ...Array.from({ length: 17 }, (_, i) => 101 + i)]);
    expect(warm.tables).toEqual([]);
    expect(warm.redis).toEqual({ mget: 3 });
  });

  it('the last page asks the database only whether anything follows the chunks it read', async () => {
    await page(190, 20);
    const warm = await measure(190, 20);
    expect(warm.tables).toEqual(['products']);
    expect(warm.redis).toEqual({ mget: 3 });
    expect(warm.page.pageInfo.hasNextPage).toBe(false);
  });

  it('a filtered page and totalCount stay SQL', async () => {
    await app.gql(`{ products(filter: { search: "#1" }, first: 5) { edges { node { id } } totalCount } }`);
    app.queries.length = 0;
    const response = await app.gql<{ products: { totalCount: number } }>(
      `{ products(first: 5) { edges { node { id } } totalCount } }`,
    );
    expect(response.data!.products.totalCount).toBe(SEEDED - DELETED.length);
    expect(app.queries.map((q) => /FROM "public"\."(\w+)"/.exec(q)?.[1])).toEqual(['products']);
    app.queries.length = 0;
    await app.gql(`{ products(filter: { search: "#1" }, first: 5) { edges { node { id } } } }`);
    expect(app.queries.map((q) => /FROM "public"\."(\w+)"/.exec(q)?.[1])).toEqual(['products']);
  });
});

describe('a product write is seen on the next page read', () => {
  /**
   * Reads the page until its chunks and lists are all cached (MGETs only: no lease, no fill), so
   * that what follows shows an invalidation.
   */
  async function warmPage(after: number | null, first: number) {
    await page(after, first);
    expect(Object.keys((await measure(after, first)).redis)).toEqual(['mget']);
  }

  const api = async (query: string, variables: Record<string, unknown>) => {
    const response = await app.gql(query, variables);
    expect(response.errors).toBeUndefined();
    return response.data as Record<string, { id?: string } | boolean>;
  };

  it('a rename through the API', async () => {
    await warmPage(null, 20);
    await api(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Renamed by the API" }) { id } }`,
      {
        id: '5',
      },
    );
    const next = await page(null, 20);
    expect(next.edges[4]!.node).toMatchObject({ id: '5', name: 'Renamed by the API' });
    expect(next).toEqual(await sqlPage(null, 20));
  });

  it('a product created through the API', async () => {
    await warmPage(190, 20);
    const created = await api(
      `mutation { createProduct(input: { sku: "PAGES-NEW", name: "New" }) { id } }`,
      {},
    );
    const id = Number((created.createProduct as { id: string }).id);
    const next = await page(190, 20);
    expect(ids(next).at(-1)).toBe(id);
    expect(next).toEqual(await sqlPage(190, 20));
  });

  it('a product deleted through the API', async () => {
    await warmPage(100, 20);
    expect(await api(`mutation { deleteProduct(id: "105") }`, {})).toEqual({ deleteProduct: true });
    const next = await page(100, 20);
    expect(ids(next)).not.toContain(105);
    expect(next).toEqual(await sqlPage(100, 20));
  });

  it('an UPDATE by plain SQL (change capture, drained from the journal)', async () => {
    await warmPage(120, 20);
    await writer.query(`UPDATE products SET name = 'Renamed by SQL', updated_at = now() WHERE id = 130`);
    await app.settled();
    const next = await page(120, 20);
    expect(next.edges.find((e) => e.node.id === '130')!.node.name).toBe('Renamed by SQL');
    expect(next).toEqual(await sqlPage(120, 20));
  });

  it('an INSERT and a DELETE by plain SQL, into a gap and out of a chunk', async () => {
    await warmPage(60, 20);
    await writer.query(
      `INSERT INTO products (id, sku, name, updated_at) VALUES (70, 'PAGES-SQL-70', 'Inserted by SQL', now())`,
    );
    await writer.query(`DELETE FROM products WHERE id = 62`);
    await app.settled();
    const next = await page(60, 20);
    expect(ids(next).slice(0, 3)).toEqual([61, 63, 70]);
    expect(next).toEqual(await sqlPage(60, 20));
  });

  it('an id below 1 (only SQL can insert one) leads the first page, as in the page query', async () => {
    await warmPage(null, 20);
    await writer.query(
      `INSERT INTO products (id, sku, name, updated_at) VALUES (-3, 'PAGES-SQL-M3', 'Minus three', now())`,
    );
    await app.settled();
    const next = await page(null, 20);
    expect(ids(next)[0]).toBe(-3);
    expect(next).toEqual(await sqlPage(null, 20));
  });
});
