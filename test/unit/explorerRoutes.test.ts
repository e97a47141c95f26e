// The explorer's routes over real HTTP (a loopback server in this process) with a small bundle of
// the test's own: only files the manifest lists are served, with their ETag, gzip when asked, and
// everything else goes on to the next handler.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ExplorerBundleMissingError, explorerRoutes } from '../../src/explorer';

const SCRIPT = 'console.log("explorer");'.repeat(100);
let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bc-explorer-bundle-'));
  writeFileSync(path.join(dir, 'explorer.js'), SCRIPT);
  writeFileSync(path.join(dir, 'explorer.js.gz'), gzipSync(SCRIPT));
  writeFileSync(path.join(dir, 'unlisted.js'), 'not in the manifest');
  const files = { 'explorer.js': { type: 'text/javascript; charset=utf-8', etag: '"abc"', gzip: true } };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ files }));
  const routes = explorerRoutes({ writesNeedToken: false }, dir);
  server = createServer((req, res) =>
    routes(req, res, () => {
      res.writeHead(404).end('next');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${base}${url}`, { method, headers });

it('serves the page with its policy, and never caches it', async () => {
  for (const url of ['/graphiql', '/graphiql/', '/graphiql?x=1']) {
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; script-src 'self';/,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toContain('<script type="module" src="/graphiql/assets/explorer.js">');
  }
});

it('serves a listed file with its type and ETag, 304 when unchanged, gzip when accepted', async () => {
  // Node's fetch always asks for gzip and decodes it; `identity` asks for the file as it is.
  const plain = await get('/graphiql/assets/explorer.js', { 'accept-encoding': 'identity' });
  expect(plain.status).toBe(200);
  expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(plain.headers.get('etag')).toBe('"abc"');
  expect(plain.headers.get('content-encoding')).toBeNull();
  expect(await plain.text()).toBe(SCRIPT);

  // node:http, which hands back the compressed bytes as they came.
  const zipped = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
    httpGet(`${base}/graphiql/assets/explorer.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
      );
    }).on('error', reject);
  });
  expect(zipped.encoding).toBe('gzip');
  expect(gunzipSync(zipped.body).toString()).toBe(SCRIPT);

  const unchanged = await get('/graphiql/assets/explorer.js', { 'if-none-match': '"abc"' });
  expect(unchanged.status).toBe(304);
  const head = await get('/graphiql/assets/explorer.js', {}, 'HEAD');
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
});

it('passes on anything else: unlisted files, paths out of the folder, other methods and paths', async () => {
  for (const url of [
    '/graphiql/assets/unlisted.js',
    '/graphiql/assets/manifest.json',
    '/graphiql/assets/%2e%2e/manifest.json',
    '/graphiqlx',
    '/graphql',
  ]) {
    const response = await get(url);
    expect([url, response.status, await response.text()]).toEqual([url, 404, 'next']);
  }
  const post = await get('/graphiql', {}, 'POST');
  expect(post.status).toBe(404);
});

it('refuses to start without a built bundle, naming the command', () => {
  expect(() => explorerRoutes({ writesNeedToken: false }, path.join(dir, 'nowhere'))).toThrow(
    ExplorerBundleMissingError,
  );
  expect(() => explorerRoutes({ writesNeedToken: false }, path.join(dir, 'nowhere'))).toThrow(
    /run `npm run build`/,
  );
});
