// `npm run bench:explorer [-- --runs N]`: the local explorer's size and its time to interactive on
// this machine. Sizes: every file of the bundle (what `npm run build` ships), and what a page
// actually fetches until interactive, raw and gzip (the server sends the .gz the build wrote).
// Time, per load, in a fresh browser context (no cache, no localStorage), offline Chromium
// (test/helpers/browser.ts), against the real server on the embedded database, for /graphql
// (Sandbox's CDN tried and failed first) and /graphiql:
// - interactive: from page.goto until the operation editor shows the pre-filled Scan query and the
//   run button is there and enabled (waitUntilInteractive), i.e. a click would run the query;
// - schema: from page.goto until the introspection answer arrived (docs and completion work).
// One warm-up load per URL first (the server's first read of each file), reported apart.
// Run it under the team's lock: flock /tmp/barcode-bench.lock npm run bench:explorer
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { BUNDLE_DIR, loadBundle } from '../src/explorer/routes';
import {
  isIntrospection,
  launchOfflineChromium,
  newPage,
  waitUntilInteractive,
} from '../test/helpers/browser';
import { startServerProcess } from '../test/helpers/serverProcess';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const sizeOf = (name: string, gzip: boolean) =>
  statSync(path.join(BUNDLE_DIR, gzip ? `${name}.gz` : name)).size;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const summary = (xs: number[]) =>
  `median ${ms(median(xs))}, max ${ms(Math.max(...xs))} (min ${ms(Math.min(...xs))})`;

function sizes(names: string[]) {
  const files = loadBundle();
  let raw = 0;
  let gzip = 0;
  for (const name of names) {
    raw += sizeOf(name, false);
    gzip += files.get(name)!.gzip ? sizeOf(name, true) : sizeOf(name, false);
  }
  return `${names.length} files, ${kib(raw)} raw, ${kib(gzip)} gzip`;
}

interface Load {
  readonly interactive: number;
  readonly schema: number;
  readonly assets: string[];
}

async function load(browser: Browser, url: string): Promise<Load> {
  const page = await newPage(browser);
  try {
    const assets: string[] = [];
    page.on('request', (request) => {
      const match = /\/graphiql\/assets\/(.+)$/.exec(request.url());
      if (match) assets.push(match[1]!);
    });
    const started = performance.now();
    const schema = page.waitForResponse(isIntrospection).then(() => performance.now() - started);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await waitUntilInteractive(page);
    const interactive = performance.now() - started;
    return { interactive, schema: await schema, assets };
  } finally {
    await page.close();
  }
}

async function main() {
  console.log(`bundle (${BUNDLE_DIR}): ${sizes([...loadBundle().keys()])}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bc-bench-explorer-'));
  const server = await startServerProcess({ PGLITE_DIR: path.join(dataDir, 'pglite') }, 180_000);
  const browser = await launchOfflineChromium();
  try {
    const graphiql = server.url.replace(/\/graphql$/, '/graphiql');
    for (const url of [server.url, graphiql]) {
      const name = new URL(url).pathname;
      const warmUp = await load(browser, url);
      const loads: Load[] = [];
      for (let run = 0; run < runs; run++) loads.push(await load(browser, url));
      console.log(`${name}: fetched until interactive: ${sizes(loads.at(-1)!.assets)}`);
      console.log(
        `${name}: warm-up load: interactive ${ms(warmUp.interactive)}, schema ${ms(warmUp.schema)}`,
      );
      console.log(`${name}: interactive over ${runs} loads: ${summary(loads.map((l) => l.interactive))}`);
      console.log(`${name}: schema over ${runs} loads: ${summary(loads.map((l) => l.schema))}`);
    }
  } finally {
    await browser.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
