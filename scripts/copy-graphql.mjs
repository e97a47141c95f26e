#!/usr/bin/env node
// tsc copies no .graphql files; the server reads its SDL next to the compiled modules.
import { cpSync } from 'node:fs';

cpSync('src', 'dist', {
  recursive: true,
  filter: (path) => !/\.(ts|mts|cts)$/.test(path) || false,
  force: true,
});
