// A legacy application writing the tables directly: its own process, a plain pg connection (no
// Prisma, nothing of the API's), one write per transaction in a loop for a few seconds. Each write
// gives its row a value no earlier write had (the loop's sequence number is in it), and is reported
// as one JSON line on stdout with the row's whole new state, the time just before BEGIN and the
// time just after COMMIT returned, so a reader can tell which write a value it read came from and
// whether it should have seen a newer one.
//
//   node --import tsx test/helpers/legacyWriter.ts '<LegacyWriterOptions as JSON>'
//
// Products are renamed or repriced; a barcode is deactivated, then re-keyed to a new code (and
// active again), then deactivated... With `uncaptured`, each transaction disables the capture
// triggers first (and enables them again before COMMIT): the control, a writer the cache misses.
import { Client } from 'pg';
import { DISABLE_CAPTURE_SQL, ENABLE_CAPTURE_SQL } from './capture';

export interface LegacyWriterOptions {
  readonly databaseUrl: string;
  readonly durationMs: number;
  /** The pause between writes: a busy legacy app, not a bulk job. */
  readonly pauseMs: number;
  readonly uncaptured: boolean;
  /** A label for the values, so two runs on one database never write the same one. */
  readonly label: string;
  readonly products: readonly ProductRow[];
  readonly barcodes: readonly BarcodeRow[];
}

export interface ProductRow {
  readonly id: number;
  readonly name: string;
  readonly priceCents: number;
}
export interface BarcodeRow {
  readonly id: number;
  readonly code: string;
  readonly active: boolean;
}

/** One line of the writer's output. */
export type LegacyWrite = { readonly began: number; readonly committed: number } & (
  | { readonly table: 'products'; readonly row: ProductRow }
  | { readonly table: 'barcodes'; readonly row: BarcodeRow }
);

async function main(options: LegacyWriterOptions): Promise<void> {
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  const products = options.products.map((row) => ({ ...row }));
  const barcodes = options.barcodes.map((row) => ({ ...row }));
  const report = (write: LegacyWrite) => process.stdout.write(`${JSON.stringify(write)}\n`);
  const pick = <T>(rows: T[]): T => rows[Math.floor(Math.random() * rows.length)]!;
  const end = Date.now() + options.durationMs;
  try {
    for (let n = 1; Date.now() < end; n++) {
      const began = Date.now();
      await client.query('BEGIN');
      if (options.uncaptured) for (const sql of DISABLE_CAPTURE_SQL) await client.query(sql);
      const kind = pick(['rename', 'price', 'barcode'] as const);
      let write: (committed: number) => LegacyWrite;
      if (kind === 'barcode') {
        const row = pick(barcodes);
        if (row.active) {
          await client.query('UPDATE barcodes SET active = false, updated_at = now() WHERE id = $1', [
            row.id,
          ]);
          row.active = false;
        } else {
          row.code = `${options.label}-B${row.id}-${n}`; // not a GTIN, so its key is the code itself
          await client.query(
            'UPDATE barcodes SET code = $2, key = $2, active = true, updated_at = now() WHERE id = $1',
            [row.id, row.code],
          );
          row.active = true;
        }
        const state = { ...row };
        write = (committed) => ({ table: 'barcodes', row: state, began, committed });
      } else {
        const row = pick(products);
        if (kind === 'rename') row.name = `${options.label} product ${row.id} #${n}`;
        else row.priceCents = n;
        await client.query(
          'UPDATE products SET name = $2, price_cents = $3, updated_at = now() WHERE id = $1',
          [row.id, row.name, row.priceCents],
        );
        const state = { ...row };
        write = (committed) => ({ table: 'products', row: state, began, committed });
      }
      if (options.uncaptured) for (const sql of ENABLE_CAPTURE_SQL) await client.query(sql);
      await client.query('COMMIT');
      report(write(Date.now()));
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  } finally {
    await client.end();
  }
}

// The test imports only this file's types; run as a script, it writes.
main(JSON.parse(process.argv[2]!) as LegacyWriterOptions).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
