// Validation of scalar input shared by the modules. Each helper either returns the clean value or
// throws BAD_USER_INPUT with a message that names the field and says what was expected.
import { badUserInput } from './errors';

/** The range of a Postgres INTEGER (int4) column: ids, priceCents. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;
const MAX_ID = INT4_MAX;
/**
 * The longest ID text the boundary lets through. The column is an integer, and parseId is the
 * real check (its message says what an id looks like); this only bounds the text it is handed.
 */
export const ID_MAX_LENGTH = 64;

// C0 and C1 control characters (C1 includes NEL and the CSI that starts terminal escapes).
/* eslint-disable no-control-regex -- matching control characters is the point */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/* eslint-enable no-control-regex */
// With the u flag a paired surrogate is one code point, so only a lone one is of category Cs.
// (String.prototype.isWellFormed says the same, but is not in the ES2023 lib we compile against.)
const LONE_SURROGATE = /\p{Cs}/u;

/** An ID argument as the integer primary key it stands for. */
export function parseId(value: string, field: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > MAX_ID) {
    throw badUserInput(`Invalid ${field}: expected a positive integer id, got '${clip(value)}'`, { field });
  }
  return Number(value);
}

/** Trimmed text of bounded length without control characters (newlines allowed where multiline). */
export function parseText(
  value: string,
  field: string,
  { min = 1, max, multiline = false }: { min?: number; max: number; multiline?: boolean },
): string {
  const text = value.trim();
  if (text.length < min || text.length > max) {
    throw badUserInput(`Invalid ${field}: expected ${min}-${max} characters, got ${text.length}`, { field });
  }
  if ((multiline ? CONTROL_EXCEPT_NEWLINES : CONTROL).test(text)) {
    throw badUserInput(`Invalid ${field}: control characters are not allowed`, { field });
  }
  return text;
}

/**
 * What any text must pass to reach Postgres or Redis at all (src/graphql/inputBoundary.ts runs it on
 * every string argument): no NUL (Postgres text cannot hold one: the query fails), no lone
 * surrogate (not Unicode: node-postgres would silently store U+FFFD instead), and at most `max`
 * characters as sent (the column's size; counted before trimming, so that a field whose service
 * forgets to trim still cannot overflow its column).
 */
export function checkText(value: string, field: string, max: number): void {
  if (value.length > max) {
    throw badUserInput(`Invalid ${field}: expected at most ${max} characters, got ${value.length}`, {
      field,
    });
  }
  if (value.includes('\u0000')) {
    throw badUserInput(`Invalid ${field}: NUL characters (U+0000) are not allowed`, { field });
  }
  if (LONE_SURROGATE.test(value)) {
    throw badUserInput(`Invalid ${field}: not well-formed Unicode (a lone surrogate)`, { field });
  }
}

/** An integer within its column's range (a Postgres INTEGER unless the field says otherwise). */
export function checkInteger(value: number, field: string, min = INT4_MIN, max = INT4_MAX): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badUserInput(`Invalid ${field}: expected an integer ${min}-${max}, got ${value}`, { field });
  }
}

/** Shortens user input echoed in messages, so an error never repeats a megabyte back. */
export function clip(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
