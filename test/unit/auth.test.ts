import crypto from 'node:crypto';
import fc from 'fast-check';
import { createWriteCheck } from '../../src/http/auth';

const TOKEN_A = 'tok_A_0123456789abcdef';
const TOKEN_B = 'tok_B_fedcba9876543210';
const TOKEN_C = 'tok_C_!#$%&*+-.^_`|~0123';

afterEach(() => jest.restoreAllMocks());

describe('createWriteCheck with no tokens configured (null)', () => {
  const canWrite = createWriteCheck(null);

  it.each([undefined, '', 'Bearer anything', 'Basic dXNlcjpwYXNz', 'garbage'])(
    'grants writes for %p',
    (header) => {
      expect(canWrite(header)).toBe(true);
    },
  );
});

describe('createWriteCheck with one token', () => {
  const canWrite = createWriteCheck([TOKEN_A]);

  it('grants the configured token as a Bearer token', () => {
    expect(canWrite(`Bearer ${TOKEN_A}`)).toBe(true);
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])(
    'accepts the scheme spelt %s (schemes are case-insensitive)',
    (scheme) => {
      expect(canWrite(`${scheme} ${TOKEN_A}`)).toBe(true);
    },
  );

  it.each([
    ['several spaces', `Bearer    ${TOKEN_A}`],
    ['a tab', `Bearer\t${TOKEN_A}`],
    ['trailing whitespace', `Bearer ${TOKEN_A}  `],
  ])('tolerates %s', (_label, header) => {
    expect(canWrite(header)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['the token without a scheme', TOKEN_A],
    ['another scheme', `Basic ${TOKEN_A}`],
    ['a Token scheme', `Token ${TOKEN_A}`],
    ['no space after the scheme', `Bearer${TOKEN_A}`],
    ['leading whitespace', ` Bearer ${TOKEN_A}`],
    ['a wrong token', `Bearer ${TOKEN_B}`],
    ['the token in upper case', `Bearer ${TOKEN_A.toUpperCase()}`],
    ['a prefix of the token', `Bearer ${TOKEN_A.slice(0, -1)}`],
    ['the token with an extra character', `Bearer ${TOKEN_A}x`],
    ['the token followed by another word', `Bearer ${TOKEN_A} extra`],
    ['the token twice', `Bearer ${TOKEN_A} ${TOKEN_A}`],
    ['the token quoted', `Bearer "${TOKEN_A}"`],
    ['a doubled scheme', `Bearer Bearer ${TOKEN_A}`],
  ])('refuses %s', (_label, header) => {
    expect(canWrite(header)).toBe(false);
  });

  it('refuses any header that is not exactly "Bearer <token>"', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (scheme, token) => {
        fc.pre(token !== TOKEN_A);
        expect(canWrite(`${scheme} ${token}`)).toBe(false);
        expect(canWrite(`Bearer ${token}`)).toBe(false);
        expect(canWrite(token)).toBe(false);
      }),
    );
  });
});

describe('createWriteCheck with several tokens (API_TOKEN=a,b,c)', () => {
  const canWrite = createWriteCheck([TOKEN_A, TOKEN_B, TOKEN_C]);

  it.each([TOKEN_A, TOKEN_B, TOKEN_C])('grants %s', (token) => {
    expect(canWrite(`Bearer ${token}`)).toBe(true);
  });

  it.each([
    ['the comma-joined list', `Bearer ${TOKEN_A},${TOKEN_B}`],
    ['two tokens', `Bearer ${TOKEN_A} ${TOKEN_B}`],
    ['the concatenation', `Bearer ${TOKEN_A}${TOKEN_B}`],
    ['an unknown token', 'Bearer tok_D_0000000000000000'],
    ['nothing', undefined],
  ])('refuses %s', (_label, header) => {
    expect(canWrite(header)).toBe(false);
  });

  it('compares against every configured token on every call, matched or not', () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    for (const header of [`Bearer ${TOKEN_A}`, `Bearer ${TOKEN_C}`, 'Bearer wrong', undefined, 'Basic x']) {
      compare.mockClear();
      canWrite(header);
      expect(compare).toHaveBeenCalledTimes(3);
    }
  });

  it('compares fixed-length digests, so the comparison never depends on the token length', () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    canWrite('Bearer short');
    canWrite(`Bearer ${'x'.repeat(10_000)}`);
    expect(compare).toHaveBeenCalledTimes(6);
    for (const [a, b] of compare.mock.calls as [Buffer, Buffer][]) {
      expect(a.length).toBe(32);
      expect(b.length).toBe(32);
    }
  });
});

describe('createWriteCheck with an empty token list', () => {
  it('refuses everything (unlike null, which means open)', () => {
    const canWrite = createWriteCheck([]);
    expect(canWrite(undefined)).toBe(false);
    expect(canWrite('Bearer ')).toBe(false);
    expect(canWrite(`Bearer ${TOKEN_A}`)).toBe(false);
  });
});

describe('createWriteCheck with non-ASCII tokens', () => {
  it('compares the UTF-8 text exactly', () => {
    const canWrite = createWriteCheck(['jeton-secret-\u00e9t\u00e9-2024']);
    expect(canWrite('Bearer jeton-secret-\u00e9t\u00e9-2024')).toBe(true);
    // Same letters, decomposed (e + combining acute): a different token.
    expect(canWrite('Bearer jeton-secret-e\u0301te\u0301-2024')).toBe(false);
  });
});
