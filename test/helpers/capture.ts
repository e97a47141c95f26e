// The database's change capture (the change_capture migration) as tests need it: waiting until
// what it captured has been drained, and writing with it switched off, for the controls that
// show what a write would leave stale without it.
import type { Prisma as DbClient } from '../../src/db/database';
import type { SqlSessionProvider } from '../../src/db/sql';

export const CAPTURE_TRIGGERS = {
  barcodes: [
    'barcodes_capture_insert',
    'barcodes_capture_update',
    'barcodes_capture_delete',
    'barcodes_capture_truncate',
  ],
  products: [
    'products_capture_insert',
    'products_capture_update',
    'products_capture_delete',
    'products_capture_truncate',
  ],
} as const;

/** The statements that switch the capture off, and back on (ENABLE ALWAYS, as the migration leaves it). */
export const DISABLE_CAPTURE_SQL = Object.keys(CAPTURE_TRIGGERS).map(
  (table) => `ALTER TABLE "${table}" DISABLE TRIGGER USER`,
);
export const ENABLE_CAPTURE_SQL = Object.entries(CAPTURE_TRIGGERS).flatMap(([table, names]) =>
  names.map((name) => `ALTER TABLE "${table}" ENABLE ALWAYS TRIGGER "${name}"`),
);

/**
 * Runs `work` in one transaction with the capture triggers disabled (and enabled again before the
 * commit, so nobody else's writes are affected): a write past the invalidation, as writes through
 * the plain client were before the capture existed.
 */
export function uncaptured<T>(
  prisma: DbClient,
  work: (tx: Parameters<Parameters<DbClient['$transaction']>[0]>[0]) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    for (const sql of DISABLE_CAPTURE_SQL) await tx.$executeRawUnsafe(sql);
    const result = await work(tx);
    for (const sql of ENABLE_CAPTURE_SQL) await tx.$executeRawUnsafe(sql);
    return result;
  });
}

/**
 * Captured changes still waiting in the journal: not yet drained (and fanned out) by any
 * instance, and with `namespace`, also the copies waiting for that namespace. Copies for other
 * namespaces are not counted: on a database that tests share, a namespace whose instances are
 * gone keeps its copies until it is dropped (5 minutes), and nobody else waits for them.
 */
export async function capturedPending(sessions: SqlSessionProvider, namespace?: string): Promise<number> {
  const [row] = await sessions((s) =>
    s.query<{ n: string }>(
      `SELECT count(*) AS n FROM cache_missed_invalidations
        WHERE cache_key IS NULL AND (namespace IS NULL OR namespace = $1::text)`,
      [namespace ?? null],
    ),
  );
  return Number(row!.n);
}

/**
 * Resolves once every change captured so far has been drained: a drain deletes its rows in the
 * transaction that follows its Redis delete, so none left means their invalidations are done.
 * Fixtures written with the plain client are external writes now: a test that caches rows right
 * after writing them waits here, or the fixture's own invalidation could land after its lookup.
 */
export async function captureDrained(
  sessions: SqlSessionProvider,
  timeoutMs = 5000,
  namespace?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await capturedPending(sessions, namespace);
    if (pending === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${pending} captured change(s) still not drained after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
