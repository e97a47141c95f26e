// `npm run db:seed [-- --products N]`: loads demo products with valid GTINs, with a progress bar.
import { SingleBar, Presets } from 'cli-progress';
import { seedDemoData } from '../db/demoData';
import { pendingMigrations } from '../db/migrate';
import type { CliDeps } from './deps';

export const DEFAULT_SEED_PRODUCTS = 5000;

export async function run(args: string[], { db, out, err }: CliDeps): Promise<number> {
  const flag = args.indexOf('--products');
  const count = flag >= 0 ? Number(args[flag + 1]) : DEFAULT_SEED_PRODUCTS;
  if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
    err(`Invalid --products: expected an integer 1-10000000, got '${args[flag + 1]}'`);
    return 2;
  }
  const pending = await pendingMigrations(db.sessions);
  if (pending.length) {
    err(`❌ The database has pending migrations (${pending.join(', ')}): run \`npm run db:migrate\` first`);
    return 1;
  }
  const bar = new SingleBar(
    { format: 'seeding [{bar}] {value}/{total} products | {eta_formatted} left' },
    Presets.shades_classic,
  );
  bar.start(count, 0);
  const result = await seedDemoData(db.prisma, count, (done) => bar.update(done));
  bar.stop();
  out(`✅ Seeded ${result.products} products with ${result.barcodes} barcodes`);
  return 0;
}
