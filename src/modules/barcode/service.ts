// Barcode writes, and the input rules they share with product creation. All validation happens
// before the first query, and multi-row writes run in one transaction, so nothing is half-written.
import type { Prisma as DbClient } from '../../db/database';
import { deleteIfExists, translatePrismaErrors } from '../../db/prismaErrors';
import { badUserInput, conflict, notFound } from '../../graphql/errors';
import { clip, parseId } from '../../graphql/input';
import type { Barcode as BarcodeRow, Prisma } from '../../generated/prisma/client';
import type { BarcodeInput, UpdateBarcodeInput, UpsertBarcodeInput } from '../../generated/graphql';
import { InvalidCodeError, normalizeCode, type NormalizedCode, type Symbology } from './gtin';

/** Checked at the input boundary (inputLimits.ts). */
export const MAX_UPSERT_ITEMS = 1000;
/** upsertBarcodes runs up to 1000 statements in one transaction; Prisma's default of 5 s is too tight. */
const UPSERT_TRANSACTION_TIMEOUT_MS = 60_000;

/** A code as validated for a write: what the barcodes table stores. */
export interface BarcodeWrite {
  code: string;
  key: string;
  symbology: Symbology;
  active?: boolean;
}

/** normalizeCode, with its error turned into BAD_USER_INPUT naming the field. */
export function normalizeOrReject(code: string, field: string, symbology?: Symbology | null): NormalizedCode {
  try {
    return normalizeCode(code, symbology);
  } catch (error) {
    if (error instanceof InvalidCodeError)
      throw badUserInput(`Invalid ${field}: ${error.message}`, { field });
    throw error;
  }
}

/** The canonical key of a code given as a lookup argument. */
export function keyOf(code: string, field: string): string {
  return normalizeOrReject(code, field).key;
}

/** Validates a list of BarcodeInput and rejects two inputs that are the same barcode. */
export function normalizeBarcodeInputs(inputs: readonly BarcodeInput[], field: string): BarcodeWrite[] {
  const writes = inputs.map((input, index) => {
    const normalized = normalizeOrReject(input.code, `${field}[${index}].code`, input.symbology);
    return {
      code: normalized.code,
      key: normalized.key,
      symbology: normalized.symbology,
      ...(input.active != null && { active: input.active }),
    };
  });
  rejectRepeatedKeys(
    writes.map((w) => w.key),
    field,
  );
  return writes;
}

function rejectRepeatedKeys(keys: readonly string[], field: string): void {
  const firstIndex = new Map<string, number>();
  keys.forEach((key, index) => {
    const earlier = firstIndex.get(key);
    if (earlier !== undefined) {
      throw badUserInput(
        `Invalid ${field}[${index}]: the same barcode as ${field}[${earlier}] (${clip(key)}); each barcode may appear once`,
        { field: `${field}[${index}]` },
      );
    }
    firstIndex.set(key, index);
  });
}

const barcodeConflict = (code: string) => () =>
  conflict(`Barcode '${clip(code)}' (or an equivalent GTIN) already exists`, { field: 'code' });
const productMissing =
  (id: number, field = 'productId') =>
  () =>
    notFound(`Product ${id} does not exist`, { field });
const barcodeMissing = (code: string) => () =>
  notFound(`Barcode '${clip(code)}' does not exist`, { field: 'code' });

export class BarcodeService {
  constructor(private readonly prisma: DbClient) {}

  async add(productIdText: string, input: BarcodeInput): Promise<BarcodeRow> {
    const productId = parseId(productIdText, 'productId');
    const normalized = normalizeOrReject(input.code, 'input.code', input.symbology);
    const write: BarcodeWrite = {
      code: normalized.code,
      key: normalized.key,
      symbology: normalized.symbology,
      ...(input.active != null && { active: input.active }),
    };
    return translatePrismaErrors(() => this.prisma.barcode.create({ data: { ...write, productId } }), {
      barcodes_key_key: barcodeConflict(write.code),
      barcodes_product_id_fkey: productMissing(productId),
    });
  }

  async update(codeText: string, input: UpdateBarcodeInput): Promise<BarcodeRow> {
    const key = keyOf(codeText, 'code');
    const productId = input.productId == null ? undefined : parseId(input.productId, 'input.productId');
    if (input.code === null)
      throw badUserInput('Invalid input.code: cannot be null', { field: 'input.code' });
    if (input.active === null)
      throw badUserInput('Invalid input.active: cannot be null', { field: 'input.active' });
    if (input.productId === null)
      throw badUserInput('Invalid input.productId: cannot be null', { field: 'input.productId' });
    return translatePrismaErrors(
      () =>
        this.prisma.$transaction(async (tx) => {
          const current = await tx.barcode.findUnique({ where: { key } });
          if (!current) throw barcodeMissing(codeText)();
          const data: Prisma.BarcodeUncheckedUpdateInput = {};
          if (input.code != null || input.symbology != null) {
            // A new code re-infers the symbology unless one is given; a new symbology must fit the code.
            const next = normalizeOrReject(
              input.code ?? current.code,
              input.code != null ? 'input.code' : 'input.symbology',
              input.symbology,
            );
            Object.assign(data, { code: next.code, key: next.key, symbology: next.symbology });
          }
          if (input.active != null) data.active = input.active;
          if (productId !== undefined) data.productId = productId;
          return tx.barcode.update({ where: { id: current.id }, data });
        }),
      {
        barcodes_key_key: barcodeConflict(input.code ?? codeText),
        barcodes_product_id_fkey: productMissing(productId ?? 0, 'input.productId'),
      },
    );
  }

  async delete(codeText: string): Promise<boolean> {
    const key = keyOf(codeText, 'code');
    return deleteIfExists(() => this.prisma.barcode.delete({ where: { key } }));
  }

  /** All or nothing: every item is validated, every product checked, then all rows written in one transaction. */
  async upsertMany(items: readonly UpsertBarcodeInput[]): Promise<BarcodeRow[]> {
    const writes = items.map((item, index) => ({
      ...normalizeOrReject(item.code, `items[${index}].code`, item.symbology),
      productId: parseId(item.productId, `items[${index}].productId`),
      active: item.active ?? undefined,
    }));
    rejectRepeatedKeys(
      writes.map((w) => w.key),
      'items',
    );
    return translatePrismaErrors(
      () =>
        this.prisma.$transaction(
          async (tx) => {
            const productIds = [...new Set(writes.map((w) => w.productId))];
            const found = new Set(
              (await tx.product.findMany({ where: { id: { in: productIds } }, select: { id: true } })).map(
                (p) => p.id,
              ),
            );
            const missing = writes.findIndex((w) => !found.has(w.productId));
            if (missing >= 0) {
              throw notFound(
                `Invalid items[${missing}].productId: product ${writes[missing]!.productId} does not exist`,
                {
                  field: `items[${missing}].productId`,
                },
              );
            }
            const rows: BarcodeRow[] = [];
            for (const { code, key, symbology, productId, active } of writes) {
              rows.push(
                await tx.barcode.upsert({
                  where: { key },
                  create: { code, key, symbology, productId, ...(active !== undefined && { active }) },
                  update: { code, symbology, productId, ...(active !== undefined && { active }) },
                }),
              );
            }
            return rows;
          },
          { timeout: UPSERT_TRANSACTION_TIMEOUT_MS },
        ),
      {
        // A concurrent upsert of the same key can still lose the race on the unique index.
        barcodes_key_key: () =>
          conflict('A barcode in items was created concurrently; retry the call', { field: 'items' }),
        barcodes_product_id_fkey: () =>
          notFound('A product in items was deleted concurrently', { field: 'items' }),
      },
    );
  }
}
