// Barcode normalisation: pure functions, no I/O. A code's canonical key is what the database's
// unique index and the cache are keyed by, so equivalent GTINs (UPC-A 036000291452, EAN-13
// 0036000291452, GTIN-14 00036000291452) are one barcode.

export type Symbology = 'EAN_8' | 'UPC_A' | 'EAN_13' | 'GTIN_14' | 'CODE_128' | 'OTHER';

export interface NormalizedCode {
  /** The code as entered, trimmed. */
  readonly code: string;
  /** Canonical key: the 14-digit form for GTINs, the trimmed code otherwise (case-sensitive). */
  readonly key: string;
  /** Inferred from the code. */
  readonly symbology: Symbology;
  /** The 14-digit form for GTINs, null otherwise. */
  readonly gtin: string | null;
}

export const MAX_CODE_LENGTH = 48;

const GTIN_SYMBOLOGY_BY_LENGTH: Readonly<Record<number, Symbology>> = {
  8: 'EAN_8',
  12: 'UPC_A',
  13: 'EAN_13',
  14: 'GTIN_14',
};

const GTIN_SYMBOLOGIES: ReadonlySet<Symbology> = new Set(Object.values(GTIN_SYMBOLOGY_BY_LENGTH));

/** A code rejected by the rules below; the message is shown to API clients as is. */
export class InvalidCodeError extends Error {
  override readonly name = 'InvalidCodeError';
}

/** GS1 mod-10 check digit of the digits before it (weights 3,1,3,… from the right). */
export function gs1CheckDigit(digitsWithoutCheck: string): number {
  let sum = 0;
  for (let i = digitsWithoutCheck.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) {
    sum += (digitsWithoutCheck.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10;
}

export function isGtinSymbology(symbology: Symbology): boolean {
  return GTIN_SYMBOLOGIES.has(symbology);
}

/** Trims and validates a code and derives its key; throws InvalidCodeError with a message for the client. */
export function normalizeCode(raw: string, symbology?: Symbology | null): NormalizedCode {
  const code = raw.trim();
  if (code.length === 0) throw new InvalidCodeError('Barcode is empty');
  if (code.length > MAX_CODE_LENGTH) {
    throw new InvalidCodeError(
      `Barcode is too long: expected at most ${MAX_CODE_LENGTH} characters, got ${code.length}`,
    );
  }
  if (!/^[\x20-\x7e]+$/.test(code)) {
    throw new InvalidCodeError(`Barcode '${printable(code)}' has characters other than printable ASCII`);
  }
  const normalized = inferFromCode(code);
  if (symbology && symbology !== normalized.symbology && !(symbology === 'OTHER' && !normalized.gtin)) {
    throw new InvalidCodeError(
      `Barcode '${code}' does not match symbology ${symbology}: ${describe(normalized)} is ${normalized.symbology}`,
    );
  }
  return symbology ? { ...normalized, symbology } : normalized;
}

function inferFromCode(code: string): NormalizedCode {
  const gtinSymbology = /^\d+$/.test(code) ? GTIN_SYMBOLOGY_BY_LENGTH[code.length] : undefined;
  if (!gtinSymbology) return { code, key: code, symbology: 'CODE_128', gtin: null };
  const expected = gs1CheckDigit(code.slice(0, -1));
  const got = code.charCodeAt(code.length - 1) - 48;
  if (expected !== got) {
    throw new InvalidCodeError(`Barcode '${code}' has a wrong check digit: expected ${expected}, got ${got}`);
  }
  const gtin = code.padStart(14, '0');
  return { code, key: gtin, symbology: gtinSymbology, gtin };
}

function describe(normalized: NormalizedCode): string {
  return normalized.gtin
    ? `${normalized.code.length === 8 ? 'an' : 'a'} ${normalized.code.length}-digit GTIN`
    : 'a code that is not a GTIN';
}

/** Shows control and non-ASCII characters as \u escapes so error messages stay readable and safe. */
function printable(text: string): string {
  const shown = text.length > MAX_CODE_LENGTH ? `${text.slice(0, MAX_CODE_LENGTH)}…` : text;
  return shown.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
