// `npm run bench:explorer [-- --runs N]`: the local explorer's size and its time to interactive on
// this machine. Sizes: every file of the bundle (what `npm run build` ships), and what a page
// actually fetches until interactive, raw and gzip (the server sends the .gz the build wrote).
// Time: from page.goto to an interactive explorer (the operation editor shows the Scan query and
// the schema's introspection answer has arrived), in a fresh browser context each run (no cache),
// offline Chromium, for /graphiql and for /graphql (Sandbox's CDN tried and failed first).
// Run it under the team's lock: flock /tmp/barcode-bench.lock npm run bench:explorer
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLE_DIR, loadBundle } from '../src/explorer/routes';
import { launchOfflineChromium, newPage, openExplorer } from '../test/helpers/browser';
import { startServerProcess } from '../test/helpers/serverProcess';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' } } });
const runs = Number(values.runs);

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const sizeOf = (name: string, gzip: boolean) =>
  statSync(path.join(BUNDLE_DIR, gzip ? `${name}.gz` : name)).size;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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

async function main() {
  console.log(`bundle (${BUNDLE_DIR}): ${sizes([...loadBundle().keys()])}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bc-bench-explorer-'));
  const server = await startServerProcess({ PGLITE_DIR: path.join(dataDir, 'pglite') }, 180_000);
  const browser = await launchOfflineChromium();
  try {
    const graphiql = server.url.replace(/\/graphql$/, '/graphiql');
    for (const url of [graphiql, server.url]) {
      const times: number[] = [];
      let fetched: string[] = [];
      for (let run = 0; run < runs + 1; run++) {
        const page = await newPage(browser);
        const assets: string[] = [];
        page.on('request', (request) => {
          const match = /\/graphiql\/assets\/(.+)$/.exec(request.url());
          if (match) assets.push(match[1]!);
        });
        const started = performance.now();
        await openExplorer(page, url);
        const elapsed = performance.now() - started;
        if (run > 0) times.push(elapsed); // the first run warms the server's file cache, not counted
        fetched = assets;
        await page.close();
      }
      console.log(`${new URL(url).pathname}: fetched until interactive: ${sizes(fetched)}`);
      console.log(
        `${new URL(url).pathname}: time to interactive over ${runs} runs: median ${median(times).toFixed(0)} ms ` +
          `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`,
      );
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
