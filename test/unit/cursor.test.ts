import fc from 'fast-check';
import { GraphQLError } from 'graphql';
import { decodeCursor, encodeCursor } from '../../src/modules/product/cursor';

const MAX_ID = 2_147_483_647;
const MESSAGE = 'Invalid cursor: pass an endCursor or cursor value from an earlier products page';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** decodeCursor's error, asserting it is the documented BAD_USER_INPUT. */
function rejection(cursor: string): GraphQLError {
  try {
    decodeCursor(cursor);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const graphqlError = error as GraphQLError;
    expect(graphqlError.message).toBe(MESSAGE);
    expect(graphqlError.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
    return graphqlError;
  }
  throw new Error(`expected cursor ${JSON.stringify(cursor)} to be rejected`);
}

describe('encodeCursor', () => {
  it('is stable: cursors handed out earlier keep decoding the same', () => {
    expect(encodeCursor(1)).toBe('cHJvZHVjdDox');
    expect(encodeCursor(10)).toBe('cHJvZHVjdDoxMA');
    expect(encodeCursor(MAX_ID)).toBe('cHJvZHVjdDoyMTQ3NDgzNjQ3');
  });

  it('makes URL-safe, unpadded, opaque cursors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_ID }), (id) => {
        const cursor = encodeCursor(id);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(cursor).not.toContain('product');
      }),
    );
  });

  it('gives different ids different cursors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_ID }), fc.integer({ min: 1, max: MAX_ID }), (a, b) => {
        fc.pre(a !== b);
        expect(encodeCursor(a)).not.toBe(encodeCursor(b));
      }),
    );
  });
});

describe('decodeCursor', () => {
  it('round-trips every id from 1 to 2^31-1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_ID }), (id) => {
        expect(decodeCursor(encodeCursor(id))).toBe(id);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([1, 2, 9, 10, 99, 100, 65_535, 1_000_000_000, MAX_ID - 1, MAX_ID])(
    'round-trips the boundary id %p',
    (id) => {
      expect(decodeCursor(encodeCursor(id))).toBe(id);
    },
  );

  it.each([
    ['empty', ''],
    ['a space', ' '],
    ['plain text', 'abc'],
    ['punctuation', '!!!!'],
    ['a number', '1'],
    ['the word null', 'null'],
    ['the plain, unencoded form', 'product:1'],
    ['JSON', '{"id":1}'],
    ['an emoji', '\u{1f600}'],
    ['a valid cursor with a trailing space', 'cHJvZHVjdDox '],
    ['a valid cursor with a leading space', ' cHJvZHVjdDox'],
    ['a valid cursor with a trailing newline', 'cHJvZHVjdDox\n'],
    ['a valid cursor twice', 'cHJvZHVjdDoxcHJvZHVjdDox'],
    ['41 characters', 'A'.repeat(41)],
    ['a megabyte', 'A'.repeat(1_000_000)],
  ])('rejects garbage: %s', (_label, cursor) => {
    rejection(cursor);
  });

  it.each([
    ['another type', 'user:1'],
    ['an upper-case prefix', 'PRODUCT:1'],
    ['no id', 'product:'],
    ['a non-numeric id', 'product:abc'],
    ['a negative id', 'product:-1'],
    ['a fractional id', 'product:1.5'],
    ['an exponent', 'product:1e3'],
    ['a hexadecimal id', 'product:0x10'],
    ['a leading zero', 'product:01'],
    ['a space before the id', 'product: 1'],
    ['a space after the id', 'product:1 '],
    ['a newline after the id', 'product:1\n'],
    ['two ids', 'product:1:2'],
    ['a full-width digit', 'product:\uff11'],
  ])('rejects a well-formed base64url cursor with %s', (_label, text) => {
    rejection(b64url(text));
  });

  it.each([
    ['zero', 'product:0'],
    ['2^31', 'product:2147483648'],
    ['2^32-1', 'product:4294967295'],
    ['ten nines', 'product:9999999999'],
    ['eleven digits', 'product:10000000000'],
    ['beyond double precision', 'product:99999999999999999999'],
  ])('rejects an id out of range: %s', (_label, text) => {
    rejection(b64url(text));
  });

  it('rejects what encodeCursor makes of ids that are not valid', () => {
    for (const id of [0, -1, MAX_ID + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      rejection(encodeCursor(id));
  });

  it('rejects non-canonical encodings of a valid cursor', () => {
    // Padded and standard-alphabet forms.
    rejection('cHJvZHVjdDoxMA==');
    rejection('cHJvZHVjdDoxMA=');
    rejection(Buffer.from('product:10').toString('base64'));
    // Same bytes, different unused trailing bits: Buffer decodes it to 'product:10', but it is not ours.
    expect(Buffer.from('cHJvZHVjdDoxMB', 'base64url').toString()).toBe('product:10');
    rejection('cHJvZHVjdDoxMB');
    // '+' and '/' are not base64url.
    rejection('cHJvZHVjdDox+');
    rejection('cHJv/HVjdDox');
    // Upper-casing changes the bytes entirely.
    rejection('CHJVZHVJDDOX');
  });

  it('rejects a tampered cursor unless the tampering produced exactly the cursor of another id', () => {
    const tampered = fc
      .tuple(
        fc.integer({ min: 1, max: MAX_ID }),
        fc.nat(),
        fc.constantFrom(...BASE64URL, '=', '+', '/', '.', ' ', '%', '\u00e9'),
      )
      .map(([id, position, replacement]) => {
        const cursor = encodeCursor(id);
        const at = position % cursor.length;
        return { id, cursor: cursor.slice(0, at) + replacement + cursor.slice(at + 1) };
      });
    fc.assert(
      fc.property(tampered, ({ id, cursor }) => {
        if (cursor === encodeCursor(id)) {
          expect(decodeCursor(cursor)).toBe(id);
          return;
        }
        let decoded: number;
        try {
          decoded = decodeCursor(cursor);
        } catch {
          rejection(cursor);
          return;
        }
        expect(decoded).not.toBe(id);
        expect(encodeCursor(decoded)).toBe(cursor);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts only cursors encodeCursor makes, for any string', () => {
    const candidates = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 40 }),
      fc.string({ unit: 'binary' }),
      fc.string().map((s) => b64url(`product:${s}`)),
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).map((n) => b64url(`product:${n}`)),
    );
    fc.assert(
      fc.property(candidates, (cursor) => {
        let decoded: number;
        try {
          decoded = decodeCursor(cursor);
        } catch {
          rejection(cursor);
          return;
        }
        expect(Number.isInteger(decoded) && decoded >= 1 && decoded <= MAX_ID).toBe(true);
        expect(encodeCursor(decoded)).toBe(cursor);
      }),
      { numRuns: 1000 },
    );
  });
});
