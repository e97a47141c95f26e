#!/usr/bin/env node
// Bundles the local explorer (web/explorer: GraphiQL, React, Monaco and its workers) with esbuild
// into src/generated/explorer/, beside the other generated code: tsx and jest serve it from there,
// and the build's copy step (scripts/copy-assets.mjs copies every non-TypeScript file of src/)
// carries it into dist/, so a pruned production install needs none of these packages (esbuild,
// graphiql and react are devDependencies). Its sources (web/explorer) are among the inputs whose
// hash scripts/ensure-built.cjs compares, so `npm start` rebuilds when they change.
// Writes manifest.json (every file's type, ETag and whether a .gz sibling exists) for the server.
// Usage: node scripts/build-explorer.mjs [--quiet]
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const OUT = 'src/generated/explorer';
const quiet = process.argv.includes('--quiet');

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
};

// Monaco's modules import their own CSS; graphiql/style.css already holds all of it (fonts inlined),
// so those imports would only duplicate it, in the page and in CSS files beside the lazy chunks that
// nothing loads.
const monacoCssFromGraphiqlStyle = {
  name: 'monaco-css-from-graphiql-style',
  setup(builder) {
    builder.onResolve({ filter: /\.css$/ }, ({ path: file, importer }) =>
      /node_modules[\\/]monaco-editor[\\/]/.test(importer) ? { path: file, namespace: 'no-css' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'no-css' }, () => ({ contents: '', loader: 'css' }));
  },
};

const shared = {
  bundle: true,
  minify: true,
  legalComments: 'linked',
  target: ['chrome120', 'firefox120', 'safari17'],
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

rmSync(OUT, { recursive: true, force: true });
const started = performance.now();
await Promise.all([
  // The page scripts: ES modules, split so that GraphiQL's lazy imports (prettier, Monaco's GraphQL
  // mode) stay lazy.
  build({
    ...shared,
    entryPoints: { explorer: 'web/explorer/main.tsx', landing: 'web/explorer/landing.ts' },
    outdir: OUT,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    loader: { '.ttf': 'file', '.woff2': 'file' },
    plugins: [monacoCssFromGraphiqlStyle],
  }),
  // Monaco's web workers: classic scripts (a module worker would need Firefox ≥ 114 and buys nothing).
  build({
    ...shared,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    outdir: OUT,
    format: 'iife',
  }),
]);

const files = {};
for (const name of readdirSync(OUT, { recursive: true }).map((f) => f.split(path.sep).join('/'))) {
  const file = path.join(OUT, name);
  const type = TYPES[path.extname(name)];
  if (!statSync(file).isFile() || !type) continue; // *.LEGAL.txt (licences) stay on disk, unserved
  const body = readFileSync(file);
  if (body.length === 0) {
    rmSync(file); // the empty CSS esbuild writes for lazy chunks whose only CSS was Monaco's
    continue;
  }
  const gzip = /\.(js|css)$/.test(name) && body.length > 1024;
  if (gzip) writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  files[name] = { type, etag, gzip };
}
writeFileSync(path.join(OUT, 'manifest.json'), `${JSON.stringify({ files }, null, 2)}\n`);
if (!quiet) {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`explorer bundle: ${Object.keys(files).length} files in ${OUT} (${seconds} s)`);
}
