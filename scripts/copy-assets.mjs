#!/usr/bin/env node
// The build's last step: what the compiled server reads from disk at run time, next to the
// compiled modules, so that the build output runs on its own (a production install, the Docker
// runtime stage) without src/ or prisma/:
// - the .graphql SDL files (and any other non-TypeScript file under src/), which tsc does not copy;
//   among them the explorer's bundle (src/generated/explorer, written by `npm run explorer:bundle`),
//   which the server serves from dist/generated/explorer: its packages are devDependencies;
// - prisma/migrations, which `npm run db:migrate` applies (src/db/migrate.ts looks for the nearest
//   prisma/migrations above itself, so dist/db/migrate.js finds dist/prisma/migrations first).
// The migrations folder and the explorer's bundle are replaced, not merged: a migration removed or
// renamed in the sources must not linger in the build and be applied from there, and the bundle's
// chunks are named by content hash, so every rebuild would leave the old ones beside the new.
// Usage: node scripts/copy-assets.mjs [target]   (default: dist, where tsconfig.build.json compiles src)
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';

const target = process.argv[2] ?? 'dist';
rmSync(path.join(target, 'generated', 'explorer'), { recursive: true, force: true });
cpSync('src', target, {
  recursive: true,
  filter: (source) => !/\.(ts|mts|cts)$/.test(source),
  force: true,
});
const migrations = path.join(target, 'prisma', 'migrations');
rmSync(migrations, { recursive: true, force: true });
cpSync(path.join('prisma', 'migrations'), migrations, { recursive: true });
