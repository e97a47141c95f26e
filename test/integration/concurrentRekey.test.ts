// The old known limit: two writers changing the SAME barcode's code at the same moment, outside
// a transaction. Before the change capture, the extension read the old key just before its
// write, so a writer whose update ran after another's had read a key that was no longer the old
// one, and the key in between stayed cached, pointing at a barcode that no longer has it. Now
// the old key comes from the row the UPDATE replaced (the trigger's transition table), which is
// exact whatever ran in between. Deterministic: the second writer's UPDATE is held by a gate
// (a pool under the app's Prisma client holds its SQL) until the first writer has finished and a reader
// has cached the first writer's key. Written against createApp only, so it runs on a checkout
// from before the capture too (where it fails).
import Redis from 'ioredis';
import { createApp } from '../../src/app';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import type { Database } from '../../src/db/database';
import { PrismaClient } from '../../src/generated/prisma/client';
import { createLogger } from '../../src/logger';
import { openMigratedDatabase } from '../helpers/database';
import { waitFor } from '../helpers/loggedApp';
import { clearPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis';

const prefix = uniquePrefix('rekey');
const databaseUrlOf = (opened: { config: { database: { kind: string; url?: string } } }) =>
  (opened.config.database as { url: string }).url;

it('two concurrent code changes of one barcode leave no key cached that the barcode no longer has', async () => {
  const opened = await openMigratedDatabase('rekey', {
    HOST: '127.0.0.1',
    PORT: '0',
    REDIS_URL: SHARED_REDIS_URL,
    CACHE_PREFIX: prefix,
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const heldNow = new Promise<void>((resolve) => (held = resolve));
  let holdNext = false;
  // The app's Prisma client over a pool whose connections hold the next UPDATE of barcodes
  // before it reaches Postgres: below any extension, so whatever the write path reads before
  // its UPDATE has been read when the gate holds it.
  const pool = new Pool({ connectionString: databaseUrlOf(opened) });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { query: typeof query }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string };
      const text = typeof first === 'string' ? first : (first?.text ?? '');
      if (holdNext && /^UPDATE\s+"public"\."barcodes"/i.test(text)) {
        holdNext = false;
        held();
        return gate.then(() => query(...args));
      }
      return query(...args);
    };
  });
  const gated = new PrismaClient({ adapter: new PrismaPg(pool) }) as unknown as Database['prisma'];
  const app = createApp(opened.config, {
    db: { ...opened.db, prisma: gated },
    logger: createLogger({ logLevel: 'silent' }),
  });
  const running = await app.start();
  const redis = new Redis(SHARED_REDIS_URL);
  const lookup = async (code: string) => {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ barcode(code: "${code}") { code } }` }),
    });
    return ((await response.json()) as { data: { barcode: { code: string } | null } }).data.barcode;
  };
  try {
    const product = await opened.db.prisma.product.create({
      data: {
        sku: 'REKEY',
        name: 'p',
        barcodes: { create: [{ code: 'REKEY-0', key: 'REKEY-0', symbology: 'CODE_128' }] },
      },
    });
    const { id } = (await opened.db.prisma.barcode.findUnique({ where: { key: 'REKEY-0' } }))!;
    // The fixture's own capture (if any) is drained before anything is cached.
    await waitFor(
      async () =>
        Number(
          (
            await opened.db.sessions((s) =>
              s.query<{ n: string }>(
                'SELECT count(*) AS n FROM cache_missed_invalidations WHERE cache_key IS NULL',
              ),
            )
          )[0]!.n,
        ) === 0,
      5000,
      'the fixture drained',
    );
    expect(product.id).toBeGreaterThan(0);

    // Writer 2 starts first (by id, to REKEY-2), and is held before its UPDATE...
    holdNext = true;
    // (Prisma's query promises are lazy: the async function starts it now.)
    const second = (async () =>
      running.writes.barcode.update({ where: { id }, data: { code: 'REKEY-2', key: 'REKEY-2' } }))();
    await heldNow;
    // ...while writer 1 changes REKEY-0 to REKEY-1, all the way, and a reader caches REKEY-1.
    await running.writes.barcode.update({ where: { id }, data: { code: 'REKEY-1', key: 'REKEY-1' } });
    expect(await lookup('REKEY-1')).toEqual({ code: 'REKEY-1' });
    expect(await redis.get(`${prefix}:v1:barcode:REKEY-1`)).not.toBeNull();
    // Writer 2's UPDATE now replaces REKEY-1 (not the REKEY-0 it may have read before).
    release();
    await second;
    expect((await opened.db.prisma.barcode.findUnique({ where: { id } }))!.key).toBe('REKEY-2');
    expect(await redis.get(`${prefix}:v1:barcode:REKEY-1`)).toBeNull();
    expect(await lookup('REKEY-1')).toBeNull();
    expect(await lookup('REKEY-2')).toEqual({ code: 'REKEY-2' });
  } finally {
    redis.disconnect();
    await app.stop();
    await gated.$disconnect();
    await pool.end();
    await opened.close();
    await clearPrefix(prefix);
  }
});
