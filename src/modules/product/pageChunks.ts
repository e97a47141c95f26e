// Unfiltered products pages read from the cached page chunks (keys.productChunk, chunk n = ids
// 32n to 32n + 31 in id order), with exactly the page query's answer: the `take` lowest ids
// above `after`, in id order. A warm 20-product page is one cache read of the 1-2 chunks its
// ids fall in, and no query.
//
// Deleted ids leave gaps, so the chunks that cover `take` ids may hold fewer products: a second
// read takes the chunks that follow, as many as the shortfall would fill without gaps. Past the
// last product every chunk is empty (and cached as such), and an empty chunk cannot tell the end
// from a long gap, so what two reads did not find comes from one query for the rest.
import { INT4_MAX } from '../../graphql/input';
import { productChunkEnd, productChunkOf } from '../../cache/keys';

/** Cache reads of chunks before the rest of a page is asked of the database. */
export const CHUNK_READS = 2;

export interface ChunkSource<R> {
  /** The rows of each chunk, in chunk order, each chunk's in id order (one cache read). */
  readonly chunks: (chunks: readonly number[]) => Promise<readonly (readonly R[])[]>;
  /** The page query itself: the `take` lowest ids above `afterId`, in id order. */
  readonly rest: (afterId: number, take: number) => Promise<readonly R[]>;
}

/** The chunks that hold ids afterId + 1 to afterId + count (none past the largest INTEGER). */
export function chunksCovering(afterId: number, count: number): number[] {
  if (afterId >= INT4_MAX) return [];
  const first = productChunkOf(afterId + 1);
  const last = productChunkOf(Math.min(INT4_MAX, afterId + count));
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/**
 * The page's rows: the `take` lowest ids above `afterId` (null: from the lowest id, as a page
 * without a cursor), read from the chunks, then the database for what they did not hold.
 */
export async function pageRowsFromChunks<R extends { readonly id: number }>(
  afterId: number | null,
  take: number,
  source: ChunkSource<R>,
): Promise<R[]> {
  const rows: R[] = [];
  // Every id up to `covered` has been looked at.
  let covered = afterId ?? 0;
  for (let read = 0; read < CHUNK_READS && rows.length < take; read++) {
    const chunks = chunksCovering(covered, take - rows.length);
    if (chunks.length === 0) return rows;
    const found = await source.chunks(chunks);
    for (const chunkRows of found)
      for (const row of chunkRows) if (afterId === null || row.id > afterId) rows.push(row);
    covered = productChunkEnd(chunks.at(-1)!);
  }
  if (rows.length >= take) return rows.slice(0, take);
  if (covered >= INT4_MAX) return rows;
  return [...rows, ...(await source.rest(covered, take - rows.length))];
}
