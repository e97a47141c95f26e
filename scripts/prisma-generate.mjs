#!/usr/bin/env node
// `npm run prisma:generate`, on a machine with or without internet.
// `prisma generate` does not use Prisma's schema engine, but the CLI tries to download it at start
// and fails offline. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download;
// a real engine path set by the caller is kept.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));
}
const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
execFileSync(process.execPath, [prismaCli, 'generate', ...process.argv.slice(2)], { stdio: 'inherit', env });
