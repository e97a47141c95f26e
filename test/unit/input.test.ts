import fc from 'fast-check';
import { GraphQLError } from 'graphql';
import { clip, parseId, parseText } from '../../src/graphql/input';

const MAX_ID = 2_147_483_647;

/** The BAD_USER_INPUT error a call throws, checked for its code and field. */
function badInput(call: () => unknown, field: string): GraphQLError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const graphqlError = error as GraphQLError;
    expect(graphqlError.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    return graphqlError;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('parseId', () => {
  it.each([
    ['1', 1],
    ['9', 9],
    ['10', 10],
    ['42', 42],
    ['1000000000', 1_000_000_000],
    ['2147483646', MAX_ID - 1],
    ['2147483647', MAX_ID],
  ])('parses %p as %p', (text, id) => {
    expect(parseId(text, 'id')).toBe(id);
  });

  it('round-trips every id from 1 to 2^31-1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_ID }), (id) => {
        expect(parseId(String(id), 'productId')).toBe(id);
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['zero', '0'],
    ['negative', '-1'],
    ['explicitly positive', '+1'],
    ['a leading zero', '01'],
    ['zero-padded', '0000000001'],
    ['fractional', '1.0'],
    ['an exponent', '1e3'],
    ['hexadecimal', '0x10'],
    ['a leading space', ' 1'],
    ['a trailing space', '1 '],
    ['a trailing newline', '1\n'],
    ['thousands separators', '1,000'],
    ['underscores', '1_000'],
    ['letters', 'abc'],
    ['a GraphQL-style global id', 'UHJvZHVjdDox'],
    ['full-width digits', '\uff11\uff12'],
    ['Arabic-Indic digits', '\u0661\u0662'],
    ['2^31', '2147483648'],
    ['ten nines', '9999999999'],
    ['eleven digits', '10000000000'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
  ])('rejects %s', (_label, text) => {
    const error = badInput(() => parseId(text, 'productId'), 'productId');
    expect(error.message).toBe(`Invalid productId: expected a positive integer id, got '${text}'`);
  });

  it('clips a long value in the message', () => {
    const long = 'x'.repeat(10_000);
    const error = badInput(() => parseId(long, 'barcodeId'), 'barcodeId');
    expect(error.message).toBe(`Invalid barcodeId: expected a positive integer id, got '${'x'.repeat(64)}…'`);
  });

  it('accepts exactly the canonical decimal forms of 1..2^31-1', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?\d{1,12}$/)), (text) => {
        const canonical = /^[1-9]\d*$/.test(text) && Number(text) <= MAX_ID;
        if (canonical) {
          expect(parseId(text, 'id')).toBe(Number(text));
          expect(String(parseId(text, 'id'))).toBe(text);
        } else {
          badInput(() => parseId(text, 'id'), 'id');
        }
      }),
    );
  });
});

describe('parseText', () => {
  it('trims and returns the text', () => {
    expect(parseText('  Sparkling water  ', 'name', { max: 200 })).toBe('Sparkling water');
    expect(parseText('\t\nName\r\n', 'name', { max: 200 })).toBe('Name');
    expect(parseText('\u00a0Name\u3000', 'name', { max: 200 })).toBe('Name');
  });

  it('keeps inner whitespace and any Unicode text', () => {
    expect(parseText('Caf\u00e9  cr\u00e8me \u{1f600} \u4e2d\u6587', 'name', { max: 200 })).toBe(
      'Caf\u00e9  cr\u00e8me \u{1f600} \u4e2d\u6587',
    );
  });

  it('defaults min to 1, so blank text is refused', () => {
    for (const blank of ['', ' ', '\t\n ']) {
      const error = badInput(() => parseText(blank, 'name', { max: 10 }), 'name');
      expect(error.message).toBe('Invalid name: expected 1-10 characters, got 0');
    }
  });

  it('measures the length after trimming, bounds inclusive', () => {
    expect(parseText(`  ${'a'.repeat(10)}  `, 'sku', { max: 10 })).toBe('a'.repeat(10));
    expect(parseText('abc', 'sku', { min: 3, max: 10 })).toBe('abc');
    expect(badInput(() => parseText('a'.repeat(11), 'sku', { max: 10 }), 'sku').message).toBe(
      'Invalid sku: expected 1-10 characters, got 11',
    );
    expect(badInput(() => parseText(' ab ', 'sku', { min: 3, max: 10 }), 'sku').message).toBe(
      'Invalid sku: expected 3-10 characters, got 2',
    );
  });

  it('allows empty text when min is 0', () => {
    expect(parseText('   ', 'description', { min: 0, max: 10 })).toBe('');
  });

  it('does not echo the text in the length message', () => {
    const error = badInput(() => parseText('s3cret'.repeat(100), 'name', { max: 200 }), 'name');
    expect(error.message).not.toContain('s3cret');
  });

  it.each([
    ['NUL', '\u0000'],
    ['BEL', '\u0007'],
    ['backspace', '\b'],
    ['tab', '\t'],
    ['newline', '\n'],
    ['vertical tab', '\u000b'],
    ['form feed', '\f'],
    ['carriage return', '\r'],
    ['escape (ANSI sequences)', '\u001b'],
    ['unit separator', '\u001f'],
    ['DEL', '\u007f'],
  ])('refuses an inner %s in single-line text', (_label, control) => {
    const error = badInput(() => parseText(`a${control}b`, 'name', { max: 10 }), 'name');
    expect(error.message).toBe('Invalid name: control characters are not allowed');
  });

  it.each([
    ['newline', 'line 1\nline 2'],
    ['CRLF', 'line 1\r\nline 2'],
    ['tab', 'col 1\tcol 2'],
  ])('allows %s in multiline text', (_label, text) => {
    expect(parseText(text, 'description', { max: 100, multiline: true })).toBe(text);
  });

  it.each([
    ['NUL', '\u0000'],
    ['vertical tab', '\u000b'],
    ['form feed', '\f'],
    ['escape', '\u001b'],
    ['DEL', '\u007f'],
  ])('still refuses %s in multiline text', (_label, control) => {
    const error = badInput(
      () => parseText(`a${control}b`, 'description', { max: 10, multiline: true }),
      'description',
    );
    expect(error.message).toBe('Invalid description: control characters are not allowed');
  });

  it('checks the length before the characters', () => {
    expect(badInput(() => parseText('\u0000'.repeat(20), 'name', { max: 10 }), 'name').message).toBe(
      'Invalid name: expected 1-10 characters, got 20',
    );
  });

  // The doc comment promises text "without control characters". Unicode's control characters
  // (general category Cc) are U+0000-U+001F and U+007F-U+009F; the C1 range U+0080-U+009F (NEL,
  // the 8-bit CSI that starts ANSI sequences, ...) is let through by parseText.
  it('refuses the C1 control characters U+0080-U+009F too', () => {
    const accepted: string[] = [];
    for (let c = 0x80; c <= 0x9f; c++) {
      for (const multiline of [false, true]) {
        try {
          parseText(`a${String.fromCharCode(c)}b`, 'name', { max: 10, multiline });
          accepted.push(
            `U+${c.toString(16).toUpperCase().padStart(4, '0')}${multiline ? ' (multiline)' : ''}`,
          );
        } catch {
          badInput(() => parseText(`a${String.fromCharCode(c)}b`, 'name', { max: 10, multiline }), 'name');
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('returns trimmed, bounded text free of C0 controls, or throws BAD_USER_INPUT', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.boolean(), (value, multiline) => {
        let text: string;
        try {
          text = parseText(value, 'field', { min: 1, max: 30, multiline });
        } catch {
          badInput(() => parseText(value, 'field', { min: 1, max: 30, multiline }), 'field');
          return;
        }
        expect(text).toBe(value.trim());
        expect(text.length).toBeGreaterThanOrEqual(1);
        expect(text.length).toBeLessThanOrEqual(30);
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)).toBe(false);
        if (!multiline) expect(/[\n\r\t]/.test(text)).toBe(false);
      }),
    );
  });
});

describe('clip', () => {
  it('leaves text of at most 64 characters alone', () => {
    expect(clip('')).toBe('');
    expect(clip('short')).toBe('short');
    expect(clip('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('cuts longer text to 64 characters and an ellipsis', () => {
    expect(clip('a'.repeat(65))).toBe(`${'a'.repeat(64)}…`);
    expect(clip('b'.repeat(1_000_000))).toBe(`${'b'.repeat(64)}…`);
  });

  it('takes another limit', () => {
    expect(clip('abcdef', 3)).toBe('abc…');
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abc', 0)).toBe('…');
  });

  it('returns a prefix of at most max characters plus the ellipsis only when it cut', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 0, max: 100 }), (text, max) => {
        const clipped = clip(text, max);
        if (text.length <= max) {
          expect(clipped).toBe(text);
        } else {
          expect(clipped).toBe(`${text.slice(0, max)}…`);
          expect(clipped.length).toBe(max + 1);
        }
      }),
    );
  });
});
