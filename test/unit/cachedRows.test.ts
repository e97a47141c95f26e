// Cached rows round-trip exactly, and entries written by an older build (ISO timestamps) still read.
import fc from 'fast-check';
import { rowCodec } from '../../src/cache/cachedRows';

interface Row {
  id: number;
  name: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}
const codec = rowCodec<Row>();
const date = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('2200-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const row = fc.record({
  id: fc.integer({ min: 1 }),
  name: fc.string(),
  description: fc.option(fc.string(), { nil: null }),
  createdAt: date,
  updatedAt: date,
});

it('decodes what it encodes into an equal row, Dates included', () => {
  fc.assert(
    fc.property(row, (original) => {
      const decoded = codec.decode(codec.encode(original));
      expect(decoded).toEqual(original);
      expect(decoded.createdAt).toBeInstanceOf(Date);
    }),
  );
});

it('stores timestamps as epoch milliseconds', () => {
  const at = new Date('2026-11-26T12:34:56.789Z');
  expect(
    JSON.parse(codec.encode({ id: 1, name: 'n', description: null, createdAt: at, updatedAt: at })),
  ).toEqual({
    id: 1,
    name: 'n',
    description: null,
    createdAt: at.getTime(),
    updatedAt: at.getTime(),
  });
});

it('reads entries an older build wrote with ISO timestamps', () => {
  fc.assert(
    fc.property(row, (original) => {
      expect(codec.decode(JSON.stringify(original))).toEqual(original);
    }),
  );
});
