// The explorer's HTTP routes as one Node (req, res, next) handler, so that any server can mount it
// in one line (here src/http/app.ts's `mounted` list; elsewhere express's app.use, or Fastify
// through middie or a hijacked reply):
//   GET /graphiql                 the local explorer's page
//   GET /graphiql/assets/<file>   the bundle scripts/build-explorer.mjs wrote (GraphiQL, Monaco)
// Anything else goes to next().
//
// Written by hand rather than with serve-static: the bundle is a fixed list of files known at build
// time (manifest.json), so a request names an entry of that list or nothing (no path is ever built
// from the URL), the ETags are content hashes from the build, and gzip is precompressed there.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { NodeHandler } from '../http/app';
import { ASSETS_PATH, EXPLORER_PATH, explorerPage, type ExplorerSettings } from './page';

export type { NodeHandler };

/** Where the build writes the bundle: src/generated/explorer, or dist/generated/explorer once built. */
export const BUNDLE_DIR = path.join(__dirname, '../generated/explorer');

interface BundleFile {
  readonly type: string;
  readonly etag: string;
  readonly gzip: boolean;
}

export class ExplorerBundleMissingError extends Error {
  override readonly name = 'ExplorerBundleMissingError';
}

/** Reads the bundle's manifest; the files themselves are read per request (a development tool). */
export function loadBundle(dir = BUNDLE_DIR): ReadonlyMap<string, BundleFile> {
  let manifest: { files: Record<string, BundleFile> };
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as typeof manifest;
  } catch (error) {
    throw new ExplorerBundleMissingError(
      `The explorer bundle is missing (${path.join(dir, 'manifest.json')}): run \`npm run build\` (or \`npm run generate\` for tsx and tests)`,
      { cause: error },
    );
  }
  return new Map(Object.entries(manifest.files));
}

export function explorerRoutes(settings: ExplorerSettings, dir = BUNDLE_DIR): NodeHandler {
  const files = loadBundle(dir);
  const page = explorerPage(settings);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const pathname = (req.url ?? '').split('?', 1)[0]!;
    if (pathname === EXPLORER_PATH || pathname === `${EXPLORER_PATH}/`) {
      send(
        req,
        res,
        200,
        {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': page.csp,
          // The page carries this server's settings (whether writes need a token).
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        },
        page.html,
      );
      return;
    }
    if (!pathname.startsWith(ASSETS_PATH)) return next();
    const name = pathname.slice(ASSETS_PATH.length);
    const file = files.get(name);
    if (!file) return next();
    const headers = {
      'content-type': file.type,
      etag: file.etag,
      // Entry files keep their names from build to build: revalidate (a 304 costs no body).
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(file.gzip && { vary: 'accept-encoding' }),
    };
    if (req.headers['if-none-match'] === file.etag) {
      send(req, res, 304, headers, '');
      return;
    }
    const gzip = file.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    readFile(path.join(dir, gzip ? `${name}.gz` : name)).then(
      (body) => send(req, res, 200, { ...headers, ...(gzip && { 'content-encoding': 'gzip' }) }, body),
      next,
    );
  };
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  res.writeHead(status, {
    ...headers,
    ...(status === 200 && { 'content-length': String(Buffer.byteLength(body)) }),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
