// Validation of scalar input shared by the modules. Each helper either returns the clean value or
// throws BAD_USER_INPUT with a message that names the field and says what was expected.
import { badUserInput } from './errors';

const MAX_ID = 2_147_483_647; // Postgres INTEGER

// C0 and C1 control characters (C1 includes NEL and the CSI that starts terminal escapes).
/* eslint-disable no-control-regex -- matching control characters is the point */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/* eslint-enable no-control-regex */

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

/** Shortens user input echoed in messages, so an error never repeats a megabyte back. */
export function clip(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
