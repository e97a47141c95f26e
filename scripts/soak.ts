// `npm run soak [-- --duration 60 --connections 8 --flap]`: the real server (src/main.ts, a child
// process) on a throwaway database and a private redis-server, both made and removed here, under
// mixed reads and writes from several keep-alive connections for a fixed time. With --flap the
// redis-server is killed and restarted during the run. Reports errors, p50/p99 (with Redis up
// and while it is unreachable), the server's memory at the start and the end, and every stale
// read: a read that started after a write of the same product was acknowledged, yet answered an
// older name. Loopback only; bounded in time (at most an hour) and connections (at most 64).
// With --heap-every N the server runs with --expose-gc and a preloaded agent (scripts/soakHeap.ts):
// the heap used after a forced GC every N seconds, and heap snapshots before the warm-up, at the
// start of the load and at its end.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/database';
import { seedDemoData } from '../src/db/demoData';
import { migrate } from '../src/db/migrate';
import { TEST_TOKEN } from '../test/helpers/app';
import { createTestDatabase } from '../test/helpers/database';
import { percentile } from '../test/helpers/latency';
import { startRedisProcess } from '../test/helpers/redis';
import { startServerProcess, type ServerProcess } from '../test/helpers/serverProcess';
import { HEAP_AGENT_ARGS, HeapRecorder } from './soakHeap';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '8' },
    products: { type: 'string', default: '2000' },
    'write-percent': { type: 'string', default: '10' },
    flap: { type: 'boolean', default: false },
    'flap-every': { type: 'string', default: '10' },
    'flap-down': { type: 'string', default: '3' },
    'heap-every': { type: 'string', default: '0' },
  },
});

function bounded(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name}: expected an integer ${min}-${max}, got '${text}'`);
    process.exit(2);
  }
  return value;
}

const DURATION_S = bounded('duration', args.duration, 5, 3600);
const CONNECTIONS = bounded('connections', args.connections, 1, 64);
const PRODUCTS = bounded('products', args.products, 10, 100_000);
const WRITE_PERCENT = bounded('write-percent', args['write-percent'], 0, 100);
const FLAP_EVERY_S = bounded('flap-every', args['flap-every'], 2, 3600);
const FLAP_DOWN_S = bounded('flap-down', args['flap-down'], 1, FLAP_EVERY_S - 1);
/** 0: the heap is not recorded (and the server runs without --expose-gc). */
const HEAP_EVERY_S = bounded('heap-every', args['heap-every'], 0, 3600);
const CODES_PER_READ = 5;

interface Barcode {
  code: string;
  productId: number;
}

interface Sample {
  readonly startedAt: number;
  readonly ms: number;
  readonly kind: 'read' | 'write';
}

const READ = `query ($codes: [String!]!) { barcodes(codes: $codes) { code product { id name } } }`;
const WRITE = `mutation ($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { name } }`;

/** The version a product name carries ("Soak 12 v7" → 7); a seeded name is version 0. */
const versionOf = (name: string) => Number(/ v(\d+)$/.exec(name)?.[1] ?? 0);

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

async function memory(base: string) {
  return {
    rssMb: (await metric(base, 'process_resident_memory_bytes')) / 2 ** 20,
    heapMb: (await metric(base, 'nodejs_heap_size_used_bytes')) / 2 ** 20,
  };
}

async function main(): Promise<void> {
  console.log(
    `soak: ${DURATION_S} s, ${CONNECTIONS} connections, ${PRODUCTS} products, ${WRITE_PERCENT}% writes` +
      (args.flap ? `, Redis killed every ${FLAP_EVERY_S} s for ${FLAP_DOWN_S} s` : '') +
      (HEAP_EVERY_S ? `, heap after a forced GC every ${HEAP_EVERY_S} s` : ''),
  );
  const testDb = await createTestDatabase('soak');
  const redis = await startRedisProcess();
  let server: ServerProcess | undefined;
  try {
    const db = await openDatabase(loadConfig({ DATABASE_URL: testDb.url }).database);
    let barcodes: Barcode[];
    try {
      await migrate(db.sessions);
      await seedDemoData(db.prisma, PRODUCTS);
      barcodes = await db.prisma.barcode.findMany({ select: { code: true, productId: true } });
    } finally {
      await db.close();
    }
    server = await startServerProcess(
      {
        DATABASE_URL: testDb.url,
        REDIS_URL: redis.url,
        API_TOKEN: TEST_TOKEN,
        CACHE_PREFIX: 'soak',
        NODE_ENV: 'production',
      },
      undefined,
      HEAP_EVERY_S ? { nodeArgs: HEAP_AGENT_ARGS, ipc: true } : {},
    );
    const heap = HEAP_EVERY_S ? new HeapRecorder(server.child) : undefined;
    if (heap) {
      await heap.sample('started');
      // Before the warm-up too: what the warm-up adds is most of the growth (docs/production.md#soak).
      await heap.snapshot('started');
    }
    const url = server.url;
    const base = new URL(url).origin;
    const productOf = new Map(barcodes.map((b) => [b.code, b.productId]));
    const codesOf = new Map<number, string[]>();
    for (const { code, productId } of barcodes)
      codesOf.set(productId, [...(codesOf.get(productId) ?? []), code]);
    const productIds = [...codesOf.keys()];

    // Per product: the highest version whose write was acknowledged, and whether one is in flight
    // (one writer per product at a time, so versions commit in order).
    const acknowledged = new Map<number, number>();
    const issued = new Map<number, number>();
    const writing = new Set<number>();
    const samples: Sample[] = [];
    const errors = new Map<string, number>();
    const stale: string[] = [];
    const countError = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);
    const random = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

    const gql = async (kind: Sample['kind'], query: string, variables: Record<string, unknown>) => {
      const startedAt = performance.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as {
          data?: Record<string, unknown> | null;
          errors?: { extensions?: { code?: string } }[];
        };
        samples.push({ startedAt, ms: performance.now() - startedAt, kind });
        if (response.status !== 200 || body.errors) {
          countError(`${kind}: ${body.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`}`);
          return null;
        }
        return body.data!;
      } catch (error) {
        countError(`${kind}: ${(error as { cause?: { code?: string } }).cause?.code ?? String(error)}`);
        return null;
      }
    };

    /** Reads the codes; flags any product older than what was acknowledged before the read began. */
    const read = async (codes: string[]) => {
      const floor = codes.map((code) => acknowledged.get(productOf.get(code)!) ?? 0);
      const data = await gql('read', READ, { codes });
      const answers = (data?.barcodes ?? []) as ({
        code: string;
        product: { id: string; name: string };
      } | null)[];
      answers.forEach((answer, i) => {
        if (!answer) return;
        const seen = versionOf(answer.product.name);
        if (seen < floor[i]!)
          stale.push(
            `${codes[i]} (product ${answer.product.id}): read v${seen} after v${floor[i]} was acknowledged`,
          );
      });
    };

    const write = async () => {
      const id = random(productIds);
      if (writing.has(id)) return;
      writing.add(id);
      try {
        const version = (issued.get(id) ?? 0) + 1;
        issued.set(id, version);
        const data = await gql('write', WRITE, { id: String(id), name: `Soak ${id} v${version}` });
        if (data) acknowledged.set(id, Math.max(acknowledged.get(id) ?? 0, version));
      } finally {
        writing.delete(id);
      }
      // Read-after-write, by the writer itself.
      await read(codesOf.get(id)!);
    };

    // Warm-up (not measured): every code once, so the run starts with a warm cache.
    for (let i = 0; i < barcodes.length; i += 100) {
      await gql('read', READ, { codes: barcodes.slice(i, i + 100).map((b) => b.code) });
    }
    samples.length = 0;
    errors.clear();
    const memoryBefore = await memory(base);
    if (heap) {
      await heap.sample('warm');
      await heap.snapshot('start');
      heap.startLoad(HEAP_EVERY_S);
    }

    const started = performance.now();
    const endAt = started + DURATION_S * 1000;
    const downWindows: [number, number][] = [];
    const flapper = async () => {
      if (!args.flap) return;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, (FLAP_EVERY_S - FLAP_DOWN_S) * 1000));
        if (performance.now() + FLAP_DOWN_S * 1000 >= endAt) return;
        const down = performance.now();
        await redis.kill();
        await new Promise((resolve) => setTimeout(resolve, FLAP_DOWN_S * 1000));
        await redis.start();
        downWindows.push([down, performance.now()]);
      }
    };
    const worker = async () => {
      while (performance.now() < endAt) {
        if (Math.random() * 100 < WRITE_PERCENT) await write();
        else await read(Array.from({ length: CODES_PER_READ }, () => random(barcodes).code));
      }
    };
    // One line rewritten every second on a terminal, a line every 10 s in a log.
    const progress = setInterval(
      () => {
        const done = `  ${((performance.now() - started) / 1000).toFixed(0)} / ${DURATION_S} s, ${samples.length} requests`;
        process.stdout.write(process.stdout.isTTY ? `\r${done}` : `${done}\n`);
      },
      process.stdout.isTTY ? 1000 : 10_000,
    );
    await Promise.all([...Array.from({ length: CONNECTIONS }, worker), flapper()]);
    clearInterval(progress);
    const elapsedS = (performance.now() - started) / 1000;
    const memoryAfter = await memory(base);
    if (heap) {
      heap.endLoad();
      await heap.sample('end');
      await heap.snapshot('end');
      heap.finish();
    }
    const exitCode = await server.stop('SIGTERM');
    server = undefined;

    const redisDown = (s: Sample) =>
      downWindows.some(([from, to]) => s.startedAt >= from && s.startedAt < to);
    const line = (label: string, list: Sample[]) =>
      `  ${label.padEnd(28)} n=${String(list.length).padStart(7)}  p50=${percentile(
        list.map((s) => s.ms),
        50,
      ).toFixed(1)} ms  p99=${percentile(
        list.map((s) => s.ms),
        99,
      ).toFixed(1)} ms`;
    const up = samples.filter((s) => !redisDown(s));
    const down = samples.filter(redisDown);
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    console.log(
      [
        '',
        `soak done: ${samples.length} requests in ${elapsedS.toFixed(1)} s (${(samples.length / elapsedS).toFixed(0)} req/s)`,
        line('all', samples),
        line(
          'reads',
          samples.filter((s) => s.kind === 'read'),
        ),
        line(
          'writes',
          samples.filter((s) => s.kind === 'write'),
        ),
        ...(args.flap
          ? [
              line('Redis up', up),
              line(`Redis unreachable (${downWindows.length}×)`, down),
              `  p99 added while Redis is unreachable: ${(
                percentile(
                  down.map((s) => s.ms),
                  99,
                ) -
                percentile(
                  up.map((s) => s.ms),
                  99,
                )
              ).toFixed(1)} ms`,
            ]
          : []),
        `  errors: ${errorCount}${errorCount ? ` ${JSON.stringify(Object.fromEntries(errors))}` : ''}`,
        `  stale reads: ${stale.length}${stale.length ? `\n    ${stale.slice(0, 20).join('\n    ')}` : ''}`,
        `  server memory: RSS ${memoryBefore.rssMb.toFixed(1)} → ${memoryAfter.rssMb.toFixed(1)} MB, ` +
          `heap used ${memoryBefore.heapMb.toFixed(1)} → ${memoryAfter.heapMb.toFixed(1)} MB`,
        `  server exit code after SIGTERM: ${exitCode}`,
      ].join('\n'),
    );
    process.exitCode = errorCount || stale.length || exitCode !== 0 ? 1 : 0;
  } finally {
    await server?.stop('SIGKILL');
    await redis.stop();
    await testDb.drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
