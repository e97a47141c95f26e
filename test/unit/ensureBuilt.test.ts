// scripts/ensure-built.cjs decides whether an npm script must build before it runs dist/: the
// hash covers the build's inputs and nothing else, and the state follows dist/ and its stamp.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ensureBuilt = require('../../scripts/ensure-built.cjs') as {
  inputFiles(root: string): string[];
  inputsHash(root: string): string | null;
  buildState(root: string): 'current' | 'stale' | 'missing';
  writeStamp(root: string): void;
  missingBuildMessage(env: Record<string, string | undefined>): string;
};

let root: string;
const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
};

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'bc-ensure-built-'));
  write('package.json', '{}');
  write('tsconfig.json', '{}');
  write('src/main.ts', 'export {};');
  write('src/modules/a.graphql', 'type A { id: ID }');
  write('prisma/migrations/1_init/migration.sql', 'CREATE TABLE a ();');
  write('scripts/copy-assets.mjs', '');
  write('web/explorer/main.tsx', 'export {};');
  write('README.md', '# x');
  write('docs/a.md', '# a');
  write('test/a.test.ts', '');
  write('src/generated/graphql.ts', 'generated');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

it('hashes the sources, prisma/, scripts/, web/ and root config files, not docs, tests or generated code', () => {
  expect(ensureBuilt.inputFiles(root)).toEqual([
    'package.json',
    path.join('prisma', 'migrations', '1_init', 'migration.sql'),
    path.join('scripts', 'copy-assets.mjs'),
    path.join('src', 'main.ts'),
    path.join('src', 'modules', 'a.graphql'),
    'tsconfig.json',
    path.join('web', 'explorer', 'main.tsx'),
  ]);
  const before = ensureBuilt.inputsHash(root);
  write('docs/a.md', '# changed');
  write('test/a.test.ts', 'changed');
  write('src/generated/graphql.ts', 'changed');
  expect(ensureBuilt.inputsHash(root)).toBe(before);
  write('prisma/migrations/1_init/migration.sql', 'CREATE TABLE b ();');
  const afterMigration = ensureBuilt.inputsHash(root);
  expect(afterMigration).not.toBe(before);
  write('web/explorer/main.tsx', 'export const changed = 1;');
  expect(ensureBuilt.inputsHash(root)).not.toBe(afterMigration);
});

it('is missing without dist/main.js, current after the stamp, stale once an input changes', () => {
  expect(ensureBuilt.buildState(root)).toBe('missing');
  write('dist/main.js', '');
  expect(ensureBuilt.buildState(root)).toBe('stale'); // no stamp: an interrupted build
  ensureBuilt.writeStamp(root);
  expect(ensureBuilt.buildState(root)).toBe('current');
  write('src/main.ts', 'export const changed = 1;');
  expect(ensureBuilt.buildState(root)).toBe('stale');
});

it('takes dist/ as it is where there are no sources (a runtime image)', () => {
  write('dist/main.js', '');
  rmSync(path.join(root, 'src'), { recursive: true });
  expect(ensureBuilt.inputsHash(root)).toBeNull();
  expect(ensureBuilt.buildState(root)).toBe('current');
});

it('says how to build where dist/ is missing, and why npm ci left the tools out under NODE_ENV=production', () => {
  expect(ensureBuilt.missingBuildMessage({})).toBe(
    '❌ dist/ is missing and cannot be built here: the build tools (devDependencies: typescript, prisma, ' +
      '@graphql-codegen/cli, esbuild) are not installed. Build first: npm ci && npm run build ' +
      '(then npm prune --omit=dev for a production install).',
  );
  expect(ensureBuilt.missingBuildMessage({ NODE_ENV: 'production' })).toBe(
    '❌ dist/ is missing and cannot be built here: the build tools (devDependencies: typescript, prisma, ' +
      '@graphql-codegen/cli, esbuild) are not installed, and with NODE_ENV=production npm ci leaves them out. ' +
      'Build first: npm ci --include=dev && npm run build (then npm prune --omit=dev for a production install).',
  );
});
