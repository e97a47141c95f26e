// Bearer-token check for writes. Tokens are compared as SHA-256 digests with timingSafeEqual, and
// every configured token is compared on every call, so timing reveals neither a token's content
// nor its length, nor which token matched.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Returns whether an Authorization header grants writes. With no tokens configured, writes are open. */
export function createWriteCheck(
  tokens: readonly string[] | null,
): (authorization: string | undefined) => boolean {
  if (tokens === null) return () => true;
  const expected = tokens.map(digest);
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const given = digest(match?.[1] ?? '');
    let ok = false;
    for (const candidate of expected) ok = timingSafeEqual(candidate, given) || ok;
    return ok && match !== null;
  };
}
