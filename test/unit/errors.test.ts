// The error catalogue and the "Errors" table of docs/api.md name the same codes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError, ERROR_CODES, badUserInput, unauthenticated } from '../../src/graphql/errors';

it('docs/api.md lists exactly the codes of the catalogue', () => {
  const readme = readFileSync(path.join(__dirname, '../../docs/api.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Auth'));
  const documented = [...section.matchAll(/^\| `([A-Z_]+)` *\|/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
});

it('sets extensions.code once, keeping extra extensions', () => {
  const error = badUserInput('Invalid first: expected 1-100, got 0', { field: 'first' });
  expect(error).toBeInstanceOf(AppError);
  expect(error.extensions).toEqual({ field: 'first', code: 'BAD_USER_INPUT' });
  expect(unauthenticated().extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401 } });
});
