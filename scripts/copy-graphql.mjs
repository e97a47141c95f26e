#!/usr/bin/env node
// tsc copies no .graphql files; the server reads its SDL next to the compiled modules.
// Usage: node scripts/copy-graphql.mjs [target]   (default: dist, where tsconfig.build.json compiles src)
import { cpSync } from 'node:fs';

cpSync('src', process.argv[2] ?? 'dist', {
  recursive: true,
  filter: (path) => !/\.(ts|mts|cts)$/.test(path),
  force: true,
});
