// Deterministic demo data: products with valid EAN-13 (and some UPC-A) barcodes, written in
// batches with createManyAndReturn so thousands of rows take a few statements, not thousands.
import { gs1CheckDigit } from '../modules/barcode/gtin';
import type { Prisma } from './database';

const ADJECTIVES = [
  'Organic',
  'Classic',
  'Crunchy',
  'Fresh',
  'Smoked',
  'Spicy',
  'Golden',
  'Wholegrain',
  'Light',
  'Dark',
];
const NOUNS = [
  'Coffee',
  'Tea',
  'Oat Milk',
  'Chocolate',
  'Pasta',
  'Olive Oil',
  'Cereal',
  'Honey',
  'Crackers',
  'Salsa',
];
const BATCH = 1000;

/** The EAN-13 of demo product n (company prefix 400, item number n). */
export function demoEan13(n: number): string {
  const body = `400${String(n).padStart(9, '0')}`;
  return `${body}${gs1CheckDigit(body)}`;
}

/** The UPC-A of demo product n, for every tenth product (a second code on the same product). */
export function demoUpcA(n: number): string {
  const body = `07${String(n).padStart(9, '0')}`;
  return `${body}${gs1CheckDigit(body)}`;
}

export async function seedDemoData(
  prisma: Prisma,
  count: number,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<{ products: number; barcodes: number }> {
  const start = (await prisma.product.count()) + 1; // continue after existing demo rows
  let barcodes = 0;
  for (let from = start; from < start + count; from += BATCH) {
    const numbers = Array.from({ length: Math.min(BATCH, start + count - from) }, (_, i) => from + i);
    const products = await prisma.product.createManyAndReturn({
      data: numbers.map((n) => ({
        sku: `DEMO-${String(n).padStart(6, '0')}`,
        name: `${ADJECTIVES[n % ADJECTIVES.length]} ${NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length]} #${n}`,
        description: n % 3 === 0 ? `Demo product number ${n}.` : null,
        priceCents: 99 + ((n * 37) % 2000),
      })),
      select: { id: true, sku: true },
      skipDuplicates: true,
    });
    const rows = products.flatMap(({ id, sku }) => {
      const n = Number(sku.slice(5));
      const ean = demoEan13(n);
      const own: { code: string; key: string; symbology: 'EAN_13' | 'UPC_A'; productId: number }[] = [
        { code: ean, key: ean.padStart(14, '0'), symbology: 'EAN_13', productId: id },
      ];
      if (n % 10 === 0) {
        const upc = demoUpcA(n);
        own.push({ code: upc, key: upc.padStart(14, '0'), symbology: 'UPC_A', productId: id });
      }
      return own;
    });
    barcodes += (await prisma.barcode.createMany({ data: rows, skipDuplicates: true })).count;
    onProgress(Math.min(from + BATCH, start + count) - start, count);
  }
  return { products: count, barcodes };
}
