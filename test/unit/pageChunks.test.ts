// Which chunks a page reads, and when it asks the database for the rest (src/modules/product/pageChunks.ts),
// against an in-memory table: the answer is always the page query's, the reads are counted.
import { createCacheKeys, productChunkOf } from '../../src/cache/keys';
import { capturedKeys, withDependentKeys } from '../../src/cache/keysCaptured';
import { chunksCovering, pageRowsFromChunks } from '../../src/modules/product/pageChunks';

const INT4_MAX = 2_147_483_647;

it('maps ids to chunks of 32, chunk 0 taking every id below 32', () => {
  expect([-5, 0, 1, 31, 32, 63, 64, INT4_MAX].map(productChunkOf)).toEqual([0, 0, 0, 0, 1, 1, 2, 67108863]);
});

it.each([
  [0, 21, [0]],
  [25, 21, [0, 1]],
  [31, 32, [1]],
  [31, 33, [1, 2]],
  [100, 101, [3, 4, 5, 6]],
  [INT4_MAX - 5, 21, [67108863]],
  [INT4_MAX, 21, []],
])('after %p, %p ids: chunks %p', (after, count, chunks) => {
  expect(chunksCovering(after, count)).toEqual(chunks);
});

/** A table of the given ids, read through counted chunk reads and a counted page query. */
function table(ids: number[]) {
  const sorted = [...ids].sort((a, b) => a - b).map((id) => ({ id }));
  const reads: number[][] = [];
  const rests: [number, number][] = [];
  return {
    reads,
    rests,
    source: {
      chunks: async (chunks: readonly number[]) => {
        reads.push([...chunks]);
        return chunks.map((n) => sorted.filter((row) => productChunkOf(row.id) === n));
      },
      rest: async (after: number, take: number) => {
        rests.push([after, take]);
        return sorted.filter((row) => row.id > after).slice(0, take);
      },
    },
    query: (after: number | null, take: number) =>
      sorted.filter((row) => after === null || row.id > after).slice(0, take),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

it('answers a page within the chunks from one read', async () => {
  const t = table(range(1, 200));
  expect(await pageRowsFromChunks(25, 21, t.source)).toEqual(t.query(25, 21));
  expect(t.reads).toEqual([[0, 1]]);
  expect(t.rests).toEqual([]);
});

it('reads the chunks that follow a gap in a second read', async () => {
  const t = table([...range(1, 63), ...range(101, 200)]);
  expect(await pageRowsFromChunks(60, 21, t.source)).toEqual(t.query(60, 21));
  expect(t.reads).toEqual([[1, 2], [3]]);
  expect(t.rests).toEqual([]);
});

it('asks the database for what two reads did not hold (the end, a long gap)', async () => {
  const end = table(range(1, 200));
  expect(await pageRowsFromChunks(190, 21, end.source)).toEqual(end.query(190, 21));
  expect(end.reads).toEqual([[5, 6], [7]]);
  expect(end.rests).toEqual([[255, 11]]);
  const gap = table([...range(1, 10), ...range(1000, 1100)]);
  expect(await pageRowsFromChunks(5, 21, gap.source)).toEqual(gap.query(5, 21));
  expect(gap.rests).toEqual([[63, 16]]);
});

it('starts a page without a cursor at the lowest id, below 1 too', async () => {
  const t = table([-7, 0, ...range(1, 50)]);
  expect(await pageRowsFromChunks(null, 21, t.source)).toEqual(t.query(null, 21));
});

it('reads nothing past the largest INTEGER id', async () => {
  const t = table([INT4_MAX - 1, INT4_MAX]);
  expect(await pageRowsFromChunks(INT4_MAX - 2, 21, t.source)).toEqual([
    { id: INT4_MAX - 1 },
    { id: INT4_MAX },
  ]);
  expect(t.rests).toEqual([]);
  expect(await pageRowsFromChunks(INT4_MAX, 21, t.source)).toEqual([]);
});

it("takes a product's page chunk along with its key, for the API's captured keys and the journal alike", () => {
  const keys = createCacheKeys('shop');
  expect(withDependentKeys(keys, { kind: 'product', id: 70 })).toEqual([
    'shop:v1:product:70',
    'shop:v1:product-chunk:2',
  ]);
  expect(
    capturedKeys(keys, [
      { kind: 'product', ident: '70' },
      { kind: 'product', ident: '71' },
      { kind: 'product-barcodes', ident: '70' },
    ]),
  ).toEqual({
    kind: 'keys',
    keys: [
      'shop:v1:product:70',
      'shop:v1:product-chunk:2',
      'shop:v1:product:71',
      'shop:v1:product-barcodes:70',
    ],
  });
});
