// Product reads that are not by id (pages, counts) and all product writes. Writes validate first,
// then run in one Prisma call or transaction, so a rejected input never writes half.
import type DataLoader from 'dataloader';
import type { Prisma as DbClient } from '../../db/database';
import { deleteIfExists, translatePrismaErrors } from '../../db/prismaErrors';
import { badUserInput, conflict, notFound } from '../../graphql/errors';
import { parseId, parseText } from '../../graphql/input';
import type { Prisma, Product as ProductRow } from '../../generated/prisma/client';
import type { CreateProductInput, ProductFilter, UpdateProductInput } from '../../generated/graphql';
import { normalizeBarcodeInputs } from '../barcode/service';
import { decodeCursor, encodeCursor } from './cursor';
import { pageRowsFromChunks } from './pageChunks';
import { keyOf } from '../barcode/service';

export const MAX_PAGE_SIZE = 100;
export const SKU_MAX = 64;
export const NAME_MAX = 200;
export const DESCRIPTION_MAX = 5000;
/** Barcodes in one createProduct (checked at the input boundary, as the API's other lists). */
export const MAX_BARCODES_PER_PRODUCT = 1000;

/** The request's page chunks (Loaders.productChunks). */
export type ProductChunks = Pick<DataLoader<number, ProductRow[]>, 'load'>;

export interface ProductEdgeRow {
  readonly cursor: string;
  readonly node: ProductRow;
}

/** A page of products; totalCount is counted only when a client asks for it. */
export interface ProductPage {
  readonly edges: readonly ProductEdgeRow[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  readonly count: () => Promise<number>;
}

export const productConstraints = {
  products_sku_key: () => conflict('A product with this sku already exists', { field: 'sku' }),
  products_price_cents_non_negative: () => badUserInput('priceCents must be ≥ 0', { field: 'priceCents' }),
};

const productNotFound = (id: number) => () =>
  notFound(`Product ${id} does not exist`, { field: 'id', id: String(id) });

export class ProductService {
  constructor(private readonly prisma: DbClient) {}

  /**
   * Products in id order after the cursor. An unfiltered page is read from the cached page
   * chunks when the request has them (`chunks`, the productChunks loader), else one query.
   */
  async page(
    filter: ProductFilter | null | undefined,
    first: number,
    after: string | null | undefined,
    chunks: ProductChunks | null = null,
  ): Promise<ProductPage> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw badUserInput(`Invalid first: expected 1-${MAX_PAGE_SIZE}, got ${first}`, { field: 'first' });
    }
    const conditions = conditionsOf(filter);
    const where = { AND: conditions };
    const afterId = after == null ? null : decodeCursor(after);
    const query = (from: number | null, take: number) =>
      this.prisma.product.findMany({
        where: from === null ? where : { AND: [where, { id: { gt: from } }] },
        orderBy: { id: 'asc' },
        take,
      });
    // first + 1 rows: the one past the page says whether there is a next page.
    const rows =
      chunks && conditions.length === 0
        ? await pageRowsFromChunks(afterId, first + 1, {
            chunks: (numbers) => Promise.all(numbers.map((n) => chunks.load(n))),
            rest: query,
          })
        : await query(afterId, first + 1);
    const nodes = rows.slice(0, first);
    const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      count: () => this.prisma.product.count({ where }),
    };
  }

  async create(input: CreateProductInput): Promise<ProductRow> {
    const barcodes = normalizeBarcodeInputs(input.barcodes ?? [], 'barcodes');
    const data = {
      sku: parseText(input.sku, 'sku', { max: SKU_MAX }),
      name: parseText(input.name, 'name', { max: NAME_MAX }),
      description:
        input.description == null
          ? null
          : parseText(input.description, 'description', { min: 0, max: DESCRIPTION_MAX, multiline: true }),
      priceCents: input.priceCents ?? null,
    };
    return translatePrismaErrors(
      () => this.prisma.product.create({ data: { ...data, barcodes: { create: barcodes } } }),
      {
        ...productConstraints,
        barcodes_key_key: () =>
          conflict('One of the barcodes (or an equivalent GTIN) already exists', { field: 'barcodes' }),
      },
    );
  }

  async update(idText: string, input: UpdateProductInput): Promise<ProductRow> {
    const id = parseId(idText, 'id');
    const data: Prisma.ProductUpdateInput = {};
    if (input.sku !== undefined) data.sku = parseText(required(input.sku, 'sku'), 'sku', { max: SKU_MAX });
    if (input.name !== undefined)
      data.name = parseText(required(input.name, 'name'), 'name', { max: NAME_MAX });
    if (input.description !== undefined) {
      data.description =
        input.description === null
          ? null
          : parseText(input.description, 'description', { min: 0, max: DESCRIPTION_MAX, multiline: true });
    }
    if (input.priceCents !== undefined) data.priceCents = input.priceCents;
    return translatePrismaErrors(
      () => this.prisma.product.update({ where: { id }, data }),
      productConstraints,
      productNotFound(id),
    );
  }

  /** Deletes the product; its barcodes go with it (ON DELETE CASCADE). */
  async delete(idText: string): Promise<boolean> {
    const id = parseId(idText, 'id');
    return deleteIfExists(() => this.prisma.product.delete({ where: { id } }));
  }
}

function required<T>(value: T | null, field: string): T {
  if (value === null) throw badUserInput(`Invalid ${field}: cannot be null`, { field });
  return value;
}

/** The filter's conditions; none for an unfiltered page (a blank search is no condition). */
function conditionsOf(filter: ProductFilter | null | undefined): Prisma.ProductWhereInput[] {
  const conditions: Prisma.ProductWhereInput[] = [];
  if (filter?.search != null && filter.search.trim() !== '') {
    const search = filter.search.trim();
    conditions.push({
      OR: [
        { name: { contains: search, mode: 'insensitive' } },
        { sku: { contains: search, mode: 'insensitive' } },
      ],
    });
  }
  if (filter?.sku != null) conditions.push({ sku: filter.sku.trim() });
  if (filter?.barcode != null)
    conditions.push({ barcodes: { some: { key: keyOf(filter.barcode, 'filter.barcode') } } });
  return conditions;
}
