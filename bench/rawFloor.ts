// BENCHMARK PEER ONLY: the `raw-floor` mode, a bare node:http server that reads each request's
// body and answers with the bytes of a single lookup's answer, the same headers included. No
// routing, no GraphQL, no cache: what HTTP on Node costs on this machine, the floor under every
// other mode. Started by bench/server.ts in place of the app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the app answers for the single workload's lookup of a seeded code, byte for byte in shape. */
const ANSWER = Buffer.from(
  JSON.stringify({
    data: {
      barcode: {
        code: '4000000000013',
        gtin: '04000000000013',
        product: { name: 'Bench product 1', priceCents: 1 },
      },
    },
  }) + '\n',
);

export async function startRawFloor(port: number, host: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    // Read the body as any real handler must before it answers.
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': ANSWER.length,
      });
      res.end(ANSWER);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}/graphql`, server };
}
