// Opaque pagination cursors. Pages are ordered by id, so a cursor is the last id seen, wrapped so
// clients do not build their own (which would pin us to this ordering forever).
import { badUserInput } from '../../graphql/errors';

const PREFIX = 'product:';
/** Longer than any cursor encodeCursor makes ("product:2147483647" in base64url is 24). */
export const CURSOR_MAX_LENGTH = 40;

export function encodeCursor(id: number): string {
  return Buffer.from(`${PREFIX}${id}`, 'utf8').toString('base64url');
}

/** The id inside a cursor; BAD_USER_INPUT for anything encodeCursor did not make. */
export function decodeCursor(cursor: string): number {
  const text =
    cursor.length <= CURSOR_MAX_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor)
      ? Buffer.from(cursor, 'base64url').toString('utf8')
      : '';
  const match = /^product:([1-9]\d{0,9})$/.exec(text);
  if (!match || Number(match[1]) > 2_147_483_647 || encodeCursor(Number(match[1])) !== cursor) {
    throw badUserInput('Invalid cursor: pass an endCursor or cursor value from an earlier products page', {
      field: 'after',
    });
  }
  return Number(match[1]);
}
