import fc from 'fast-check';
import {
  gs1CheckDigit,
  InvalidCodeError,
  isGtinSymbology,
  MAX_CODE_LENGTH,
  normalizeCode,
  type NormalizedCode,
  type Symbology,
} from '../../src/modules/barcode/gtin';

/** Independent GS1 mod-10 reference: weights 3,1,3,… counted from the check digit's left neighbour. */
function referenceCheckDigit(body: string): number {
  const digits = [...body].map(Number).reverse();
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 3 : 1), 0);
  return (10 - (sum % 10)) % 10;
}

/** normalizeCode's error, asserting it is an InvalidCodeError. */
function rejection(raw: string, symbology?: Symbology | null): InvalidCodeError {
  try {
    normalizeCode(raw, symbology);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCodeError);
    return error as InvalidCodeError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

const GTIN_LENGTHS = [8, 12, 13, 14] as const;
const SYMBOLOGY_BY_LENGTH: Record<number, Symbology> = {
  8: 'EAN_8',
  12: 'UPC_A',
  13: 'EAN_13',
  14: 'GTIN_14',
};
const isGtinShaped = (text: string) =>
  /^\d+$/.test(text) && (GTIN_LENGTHS as readonly number[]).includes(text.length);

const digitString = (length: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }).map((d) => d.join(''));
const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const printableString = (maxLength: number) => fc.string({ unit: printableChar, minLength: 1, maxLength });

/** A valid GTIN of the given total length (body of length - 1 plus its check digit). */
const validGtin = (length: number) => digitString(length - 1).map((body) => body + gs1CheckDigit(body));

describe('gs1CheckDigit', () => {
  it.each([
    ['03600029145', 2],
    ['400638133393', 1],
    ['9638507', 4],
    ['7351353', 7],
    ['1001234567890', 2],
    ['978030640615', 7],
    ['01234567890', 5],
    ['', 0],
    ['0000000', 0],
  ])('of %p is %p', (body, expected) => {
    expect(gs1CheckDigit(body)).toBe(expected);
  });

  it('agrees with an independent implementation and makes the weighted sum a multiple of 10', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }).chain(digitString), (body) => {
        const check = gs1CheckDigit(body);
        expect(check).toBe(referenceCheckDigit(body));
        expect(Number.isInteger(check) && check >= 0 && check <= 9).toBe(true);
        // The full code, check digit included, has weights 1,3,1,… from the right and sums to 0 mod 10.
        const full = [...(body + check)].reverse().map(Number);
        expect(full.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0) % 10).toBe(0);
      }),
    );
  });

  it('is unchanged by leading zeros (weights are counted from the right)', () => {
    fc.assert(
      fc.property(digitString(11), fc.integer({ min: 1, max: 5 }), (body, zeros) => {
        expect(gs1CheckDigit('0'.repeat(zeros) + body)).toBe(gs1CheckDigit(body));
      }),
    );
  });
});

describe('isGtinSymbology', () => {
  it.each<[Symbology, boolean]>([
    ['EAN_8', true],
    ['UPC_A', true],
    ['EAN_13', true],
    ['GTIN_14', true],
    ['CODE_128', false],
    ['OTHER', false],
  ])('%s → %p', (symbology, expected) => {
    expect(isGtinSymbology(symbology)).toBe(expected);
  });
});

describe('normalizeCode: real-world GTINs', () => {
  // Every check digit here was recomputed independently (see referenceCheckDigit).
  it.each<[string, string, Symbology, string]>([
    ['UPC-A, Wrigley gum (the textbook UPC)', '036000291452', 'UPC_A', '00036000291452'],
    ['UPC-A, GS1 sample 0 12345 67890 5', '012345678905', 'UPC_A', '00012345678905'],
    ['EAN-13, Stabilo (textbook EAN-13)', '4006381333931', 'EAN_13', '04006381333931'],
    ['EAN-13, GS1 Poland sample', '5901234123457', 'EAN_13', '05901234123457'],
    ['EAN-13, Coca-Cola 330 ml can', '5449000000996', 'EAN_13', '05449000000996'],
    ['EAN-13, Nutella 400 g', '3017620422003', 'EAN_13', '03017620422003'],
    ['ISBN-13 978-0-306-40615-7', '9780306406157', 'EAN_13', '09780306406157'],
    ['ISBN-13 978-0-13-235088-4', '9780132350884', 'EAN_13', '09780132350884'],
    ['EAN-8 (textbook)', '96385074', 'EAN_8', '00000096385074'],
    ['EAN-8 (textbook)', '73513537', 'EAN_8', '00000073513537'],
    ['GTIN-14, GS1 sample with indicator digit 1', '10012345678902', 'GTIN_14', '10012345678902'],
    ['GTIN-14, GS1 sample of a UPC-A', '00012345600012', 'GTIN_14', '00012345600012'],
  ])('%s: %s', (_label, code, symbology, gtin) => {
    expect(referenceCheckDigit(code.slice(0, -1))).toBe(Number(code.at(-1)));
    expect(normalizeCode(code)).toEqual<NormalizedCode>({ code, key: gtin, symbology, gtin });
  });

  it('treats UPC-A 036000291452, EAN-13 0036000291452 and GTIN-14 00036000291452 as one barcode', () => {
    const forms = ['036000291452', '0036000291452', '00036000291452'].map((c) => normalizeCode(c));
    expect(forms.map((n) => n.symbology)).toEqual(['UPC_A', 'EAN_13', 'GTIN_14']);
    expect(forms.map((n) => n.code)).toEqual(['036000291452', '0036000291452', '00036000291452']);
    expect(new Set(forms.map((n) => n.key))).toEqual(new Set(['00036000291452']));
    expect(new Set(forms.map((n) => n.gtin))).toEqual(new Set(['00036000291452']));
  });

  it('treats an EAN-8 and its zero-padded UPC-A, EAN-13 and GTIN-14 forms as one barcode', () => {
    const forms = ['96385074', '000096385074', '0000096385074', '00000096385074'].map((c) =>
      normalizeCode(c),
    );
    expect(forms.map((n) => n.symbology)).toEqual(['EAN_8', 'UPC_A', 'EAN_13', 'GTIN_14']);
    expect(new Set(forms.map((n) => n.key))).toEqual(new Set(['00000096385074']));
  });

  it('keeps different GTINs apart, even when one is a suffix of the other', () => {
    // 10012345678902 (GTIN-14, indicator 1) is not 0012345678902 padded.
    expect(normalizeCode('10012345678902').key).not.toBe(normalizeCode('012345678905').key);
    expect(normalizeCode('4006381333931').key).not.toBe(normalizeCode('5901234123457').key);
  });
});

describe('normalizeCode: trimming', () => {
  it.each([
    ['spaces', '  036000291452  '],
    ['tabs and newlines', '\t036000291452\r\n'],
    ['no-break spaces', '\u00a0036000291452\u00a0'],
    ['a byte-order mark', '\ufeff036000291452'],
    ['ideographic space', '\u3000036000291452'],
  ])('strips %s around the code', (_label, raw) => {
    expect(normalizeCode(raw)).toEqual({
      code: '036000291452',
      key: '00036000291452',
      symbology: 'UPC_A',
      gtin: '00036000291452',
    });
  });

  it('trims non-GTIN codes but keeps their inner spaces', () => {
    expect(normalizeCode('  LOT 42 A  ')).toEqual({
      code: 'LOT 42 A',
      key: 'LOT 42 A',
      symbology: 'CODE_128',
      gtin: null,
    });
  });

  it('measures the length after trimming', () => {
    const longest = 'X'.repeat(MAX_CODE_LENGTH);
    expect(normalizeCode(`   ${longest}   `).code).toBe(longest);
  });
});

describe('normalizeCode: codes that are not GTINs', () => {
  it.each([
    ['letters', 'ABC-123'],
    ['a 7-digit number', '1234567'],
    ['a 9-digit number', '123456789'],
    ['an 11-digit number', '12345678901'],
    ['a 15-digit number', '123456789012345'],
    ['a single digit', '0'],
    ['a GTIN with a letter in it', '03600029145X'],
    ['a GTIN with a dash in it', '0360-00291452'],
    ['a GTIN with an inner space', '036000 291452'],
    ['a GTIN with a sign', '+36000291452'],
    ['punctuation', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'],
    ['the longest allowed code', 'Z'.repeat(MAX_CODE_LENGTH)],
  ])('%s is CODE_128 keyed by itself', (_label, code) => {
    expect(normalizeCode(code)).toEqual<NormalizedCode>({
      code,
      key: code,
      symbology: 'CODE_128',
      gtin: null,
    });
  });

  it('does not pad or collapse leading zeros of non-GTIN numbers', () => {
    expect(normalizeCode('123456789').key).toBe('123456789');
    expect(normalizeCode('0123456789').key).toBe('0123456789');
    expect(normalizeCode('00123456789').key).toBe('00123456789');
  });

  it('is case-sensitive', () => {
    const keys = ['abc-123', 'ABC-123', 'Abc-123'].map((c) => normalizeCode(c).key);
    expect(new Set(keys).size).toBe(3);
    expect(keys).toEqual(['abc-123', 'ABC-123', 'Abc-123']);
  });
});

describe('normalizeCode: rejections', () => {
  it.each([
    ['4006381333932', 'expected 1, got 2'],
    ['4006381333930', 'expected 1, got 0'],
    ['036000291453', 'expected 2, got 3'],
    ['036000291450', 'expected 2, got 0'],
    ['96385075', 'expected 4, got 5'],
    ['73513539', 'expected 7, got 9'],
    ['10012345678903', 'expected 2, got 3'],
    ['9780306406150', 'expected 7, got 0'],
    // Two adjacent digits swapped: the classic transcription error mod-10 is there to catch.
    ['4006383133931', 'expected 5, got 1'],
  ])('%s has a wrong check digit (%s)', (code, detail) => {
    expect(rejection(code).message).toBe(`Barcode '${code}' has a wrong check digit: ${detail}`);
  });

  it('reports the trimmed code in the check digit message', () => {
    expect(rejection('  4006381333932\n').message).toBe(
      "Barcode '4006381333932' has a wrong check digit: expected 1, got 2",
    );
  });

  it.each(['', ' ', '   ', '\t\r\n', '\u00a0\u3000\ufeff'])('rejects the blank code %j as empty', (raw) => {
    expect(rejection(raw).message).toBe('Barcode is empty');
  });

  it(`rejects codes longer than ${MAX_CODE_LENGTH} characters`, () => {
    expect(MAX_CODE_LENGTH).toBe(48);
    expect(rejection('A'.repeat(49)).message).toBe(
      'Barcode is too long: expected at most 48 characters, got 49',
    );
    expect(rejection('1'.repeat(1000)).message).toBe(
      'Barcode is too long: expected at most 48 characters, got 1000',
    );
    expect(normalizeCode('A'.repeat(48)).key).toBe('A'.repeat(48));
  });

  it.each([
    ['a NUL', 'ABC\u0000DEF', 'ABC\\u{0}DEF'],
    ['an inner tab', 'ABC\tDEF', 'ABC\\u{9}DEF'],
    ['an inner newline', 'ABC\nDEF', 'ABC\\u{a}DEF'],
    ['DEL', 'ABC\u007f', 'ABC\\u{7f}'],
    ['an accented letter', 'caf\u00e9', 'caf\\u{e9}'],
    ['a zero-width space inside a GTIN', '0360\u200b00291452', '0360\\u{200b}00291452'],
    ['full-width digits', '\uff10\uff13\uff16', '\\u{ff10}\\u{ff13}\\u{ff16}'],
    ['Arabic-Indic digits', '\u0660\u0661\u0662', '\\u{660}\\u{661}\\u{662}'],
    ['an emoji (one code point, two UTF-16 units)', 'A\u{1f600}B', 'A\\u{1f600}B'],
    ['a lone surrogate', 'A\ud800B', 'A\\u{d800}B'],
  ])('rejects %s and escapes it in the message', (_label, raw, shown) => {
    expect(rejection(raw).message).toBe(`Barcode '${shown}' has characters other than printable ASCII`);
  });

  it('checks the length before the characters', () => {
    expect(rejection('\u00e9'.repeat(49)).message).toBe(
      'Barcode is too long: expected at most 48 characters, got 49',
    );
  });

  it('names the error InvalidCodeError', () => {
    const error = rejection('');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InvalidCodeError');
  });
});

describe('normalizeCode: given symbology', () => {
  it.each<[string, Symbology]>([
    ['96385074', 'EAN_8'],
    ['036000291452', 'UPC_A'],
    ['4006381333931', 'EAN_13'],
    ['10012345678902', 'GTIN_14'],
    ['ABC-123', 'CODE_128'],
  ])('accepts %s given as its own symbology %s', (code, symbology) => {
    expect(normalizeCode(code, symbology)).toEqual(normalizeCode(code));
  });

  it('treats null and undefined as "infer it"', () => {
    expect(normalizeCode('036000291452', null)).toEqual(normalizeCode('036000291452'));
    expect(normalizeCode('036000291452', undefined)).toEqual(normalizeCode('036000291452'));
  });

  it('lets a non-GTIN code be labelled OTHER, keeping its key', () => {
    expect(normalizeCode('QR:https://example.com/p/1', 'OTHER')).toEqual<NormalizedCode>({
      code: 'QR:https://example.com/p/1',
      key: 'QR:https://example.com/p/1',
      symbology: 'OTHER',
      gtin: null,
    });
  });

  it.each<[string, Symbology, string]>([
    ['036000291452', 'EAN_13', 'a 12-digit GTIN is UPC_A'],
    ['036000291452', 'GTIN_14', 'a 12-digit GTIN is UPC_A'],
    ['0036000291452', 'UPC_A', 'a 13-digit GTIN is EAN_13'],
    ['4006381333931', 'CODE_128', 'a 13-digit GTIN is EAN_13'],
    ['4006381333931', 'OTHER', 'a 13-digit GTIN is EAN_13'],
    ['96385074', 'UPC_A', 'an 8-digit GTIN is EAN_8'],
    ['10012345678902', 'EAN_13', 'a 14-digit GTIN is GTIN_14'],
    ['ABC-123', 'EAN_13', 'a code that is not a GTIN is CODE_128'],
    ['123456789', 'UPC_A', 'a code that is not a GTIN is CODE_128'],
  ])('rejects %s given as %s', (code, symbology, detail) => {
    expect(rejection(code, symbology).message).toBe(
      `Barcode '${code}' does not match symbology ${symbology}: ${detail}`,
    );
  });

  it('reports the trimmed code in the mismatch message', () => {
    expect(rejection('  036000291452 ', 'EAN_13').message).toBe(
      "Barcode '036000291452' does not match symbology EAN_13: a 12-digit GTIN is UPC_A",
    );
  });

  it('checks the check digit of GTIN-shaped codes whatever symbology is given', () => {
    for (const symbology of ['EAN_13', 'CODE_128', 'OTHER'] as const) {
      expect(rejection('4006381333932', symbology).message).toBe(
        "Barcode '4006381333932' has a wrong check digit: expected 1, got 2",
      );
    }
  });
});

describe('normalizeCode: properties', () => {
  it('accepts every body of length 7/11/12/13 followed by its check digit, keyed by the 14-digit form', () => {
    fc.assert(
      fc.property(fc.constantFrom(7, 11, 12, 13).chain(digitString), (body) => {
        const code = body + gs1CheckDigit(body);
        const gtin = code.padStart(14, '0');
        expect(normalizeCode(code)).toEqual<NormalizedCode>({
          code,
          key: gtin,
          symbology: SYMBOLOGY_BY_LENGTH[code.length],
          gtin,
        });
        // Zero-padded to every longer GTIN length, it is the same barcode.
        for (const length of GTIN_LENGTHS.filter((l) => l > code.length)) {
          const padded = normalizeCode(code.padStart(length, '0'));
          expect(padded.key).toBe(gtin);
          expect(padded.symbology).toBe(SYMBOLOGY_BY_LENGTH[length]);
        }
      }),
    );
  });

  it('rejects every other check digit with the exact message', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(7, 11, 12, 13).chain(digitString),
        fc.integer({ min: 1, max: 9 }),
        (body, offset) => {
          const expected = gs1CheckDigit(body);
          const got = (expected + offset) % 10;
          const code = `${body}${got}`;
          expect(rejection(code).message).toBe(
            `Barcode '${code}' has a wrong check digit: expected ${expected}, got ${got}`,
          );
        },
      ),
    );
  });

  it('keys any printable ASCII code that is not GTIN-shaped by itself, trimmed, as CODE_128', () => {
    const spaces = fc.string({ unit: fc.constant(' '), maxLength: 3 });
    fc.assert(
      fc.property(spaces, printableString(MAX_CODE_LENGTH), spaces, (before, text, after) => {
        const code = text.trim();
        fc.pre(code.length > 0 && !isGtinShaped(code));
        expect(normalizeCode(before + text + after)).toEqual<NormalizedCode>({
          code,
          key: code,
          symbology: 'CODE_128',
          gtin: null,
        });
      }),
    );
  });

  it('keys all-digit codes of non-GTIN lengths by themselves as CODE_128', () => {
    const length = fc.integer({ min: 1, max: MAX_CODE_LENGTH }).filter((l) => !isGtinShaped('0'.repeat(l)));
    fc.assert(
      fc.property(length.chain(digitString), (code) => {
        expect(normalizeCode(code)).toEqual<NormalizedCode>({
          code,
          key: code,
          symbology: 'CODE_128',
          gtin: null,
        });
      }),
    );
  });

  it('is idempotent on its own output code, with or without the symbology it inferred', () => {
    const accepted = fc.oneof(
      fc.constantFrom(...GTIN_LENGTHS).chain(validGtin),
      printableString(MAX_CODE_LENGTH),
      fc
        .tuple(fc.constantFrom(' ', '\t', '\n', '\u00a0'), fc.constantFrom(...GTIN_LENGTHS).chain(validGtin))
        .map(([ws, code]) => ws + code + ws),
    );
    fc.assert(
      fc.property(accepted, (raw) => {
        let first: NormalizedCode;
        try {
          first = normalizeCode(raw);
        } catch {
          return; // e.g. a printable string that happens to be an invalid GTIN, or blank
        }
        expect(normalizeCode(first.code)).toEqual(first);
        expect(normalizeCode(first.code, first.symbology)).toEqual(first);
        expect(normalizeCode(first.key).key).toBe(first.key);
      }),
    );
  });

  it('either returns a printable ASCII key of at most 48 characters or throws InvalidCodeError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (raw) => {
        let result: NormalizedCode;
        try {
          result = normalizeCode(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidCodeError);
          // Messages are safe to show: printable ASCII only (plus the ellipsis never needed here).
          expect((error as Error).message).toMatch(/^[\x20-\x7e]+$/);
          return;
        }
        expect(result.key).toMatch(/^[\x20-\x7e]{1,48}$/);
        expect(result.code).toBe(raw.trim());
      }),
    );
  });

  it('escapes every non-printable character in the message, one \\u{…} per code point', () => {
    const bad = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.integer({ min: 0x7f, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    );
    fc.assert(
      fc.property(printableString(20), bad, printableString(20), (a, codePoint, b) => {
        const raw = `X${a}${String.fromCodePoint(codePoint)}${b}X`;
        const shown = `X${a}\\u{${codePoint.toString(16)}}${b}X`;
        expect(rejection(raw).message).toBe(`Barcode '${shown}' has characters other than printable ASCII`);
      }),
    );
  });
});

describe('normalizeCode: round trips, equivalence classes and check-digit rejection', () => {
  /** Any accepted input: valid GTINs of every length (some zero-padded), and printable codes, with whitespace around. */
  const gtinOfAnyLength = fc.constantFrom(...GTIN_LENGTHS).chain(validGtin);
  const whitespace = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u3000'), maxLength: 2 });
  const acceptedInput = fc
    .tuple(whitespace, fc.oneof(gtinOfAnyLength, printableString(MAX_CODE_LENGTH)), whitespace)
    .map(([before, code, after]) => before + code + after)
    .filter((raw) => {
      try {
        normalizeCode(raw);
        return true;
      } catch {
        return false;
      }
    });

  /** The reference model of "the same barcode": GTINs by numeric value, anything else by its trimmed text. */
  const identity = (raw: string) => {
    const code = raw.trim();
    return isGtinShaped(code) ? `gtin:${BigInt(code)}` : `text:${code}`;
  };

  it('gives two inputs the same key exactly when the model calls them the same barcode', () => {
    // Pairs drawn from a small pool so that equal pairs are common, not just different ones.
    const pair = fc.oneof(
      fc.tuple(acceptedInput, acceptedInput),
      gtinOfAnyLength.chain((code) => {
        const digits = code.replace(/^0+/, '');
        const forms = GTIN_LENGTHS.filter((l) => l >= digits.length).map((l) => digits.padStart(l, '0'));
        return fc.tuple(fc.constantFrom(...forms), fc.constantFrom(...forms));
      }),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(normalizeCode(a).key === normalizeCode(b).key).toBe(identity(a) === identity(b));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips a GTIN-14 key to every shorter form its leading zeros allow, and back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), digitString(13), (zeros, body) => {
        const key = ('0'.repeat(zeros) + body).slice(0, 13).padEnd(13, '0');
        const gtin = key + gs1CheckDigit(key);
        const significant = gtin.replace(/^0+/, '');
        for (const length of GTIN_LENGTHS.filter((l) => l >= significant.length)) {
          const form = gtin.slice(14 - length);
          const normalized = normalizeCode(form);
          expect(normalized).toEqual<NormalizedCode>({
            code: form,
            key: gtin,
            symbology: SYMBOLOGY_BY_LENGTH[length]!,
            gtin,
          });
          // …and the key itself is an accepted code with the same key (the cache and the index agree).
          expect(normalizeCode(normalized.key).key).toBe(gtin);
        }
      }),
    );
  });

  it('keeps GTIN keys and other keys apart: a GTIN key is 14 digits, no other key is', () => {
    fc.assert(
      fc.property(acceptedInput, (raw) => {
        const { key, gtin } = normalizeCode(raw);
        expect(/^\d{14}$/.test(key)).toBe(gtin !== null);
      }),
    );
  });

  it('rejects every single-digit substitution anywhere in a GTIN', () => {
    fc.assert(
      fc.property(gtinOfAnyLength, fc.nat(), fc.integer({ min: 1, max: 9 }), (code, position, offset) => {
        const index = position % code.length;
        const changed = String((Number(code[index]) + offset) % 10);
        const typo = code.slice(0, index) + changed + code.slice(index + 1);
        expect(rejection(typo).message).toMatch(
          /^Barcode '\d+' has a wrong check digit: expected \d, got \d$/,
        );
      }),
    );
  });

  it('rejects swapping two adjacent different digits, except the pairs mod-10 cannot see (differing by 5)', () => {
    fc.assert(
      fc.property(gtinOfAnyLength, fc.nat(), (code, position) => {
        const index = position % (code.length - 1);
        const [a, b] = [code[index]!, code[index + 1]!];
        fc.pre(a !== b);
        const swapped = code.slice(0, index) + b + a + code.slice(index + 2);
        if (Math.abs(Number(a) - Number(b)) === 5) {
          // A known blind spot of GS1 mod-10 (weights 3 and 1 differ by 2, and 2 × 5 ≡ 0 mod 10).
          expect(normalizeCode(swapped).key).not.toBe(normalizeCode(code).key);
        } else {
          expect(rejection(swapped).message).toContain('has a wrong check digit');
        }
      }),
    );
  });
});
