// The soak's heap recorder (`npm run soak -- --heap-every 60`): asks the agent preloaded into the
// server (scripts/soakHeapAgent.ts) for the heap used after a forced GC every interval, and for
// heap snapshots (before the warm-up, at the start and at the end of the load), written with the
// curve (curve.csv) into a git-ignored folder, .soak/<start time>/.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Node flags for the soak's server when the heap is recorded. */
export const HEAP_AGENT_ARGS = ['--expose-gc', '--import', './scripts/soakHeapAgent.ts'] as const;

const ROOT = path.resolve(__dirname, '..');

export interface HeapPoint {
  /** Seconds since the load began (negative before). */
  readonly atS: number;
  readonly label: string;
  readonly heapMb: number;
  readonly rssMb: number;
}

interface Reply {
  readonly id: number;
  readonly heapUsed?: number;
  readonly rss?: number;
  readonly path?: string;
  readonly error?: string;
}

export class HeapRecorder {
  readonly dir: string;
  readonly points: HeapPoint[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private timer: NodeJS.Timeout | undefined;
  private loadStartedAt = performance.now();

  constructor(private readonly child: ChildProcess) {
    this.dir = path.join(ROOT, '.soak', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(this.dir, { recursive: true });
    child.on('message', (reply: Reply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  /** Heap used after a full GC, recorded under the label and printed. */
  async sample(label: string): Promise<HeapPoint> {
    const reply = await this.ask({ op: 'heap' });
    const point: HeapPoint = {
      atS: (performance.now() - this.loadStartedAt) / 1000,
      label,
      heapMb: reply.heapUsed! / 2 ** 20,
      rssMb: reply.rss! / 2 ** 20,
    };
    this.points.push(point);
    console.log(
      `  heap after GC, ${label.padEnd(12)} ${point.heapMb.toFixed(1).padStart(6)} MB (RSS ${point.rssMb.toFixed(0)} MB)`,
    );
    return point;
  }

  /** Writes a heap snapshot into the folder and answers its path. */
  async snapshot(name: string): Promise<string> {
    const reply = await this.ask({ op: 'snapshot', path: path.join(this.dir, `${name}.heapsnapshot`) });
    console.log(`  heap snapshot: ${path.relative(process.cwd(), reply.path!)}`);
    return reply.path!;
  }

  /** From now on, one sample every `everyS` seconds, labelled by the minute (or second) of the load. */
  startLoad(everyS: number): void {
    this.loadStartedAt = performance.now();
    this.timer = setInterval(() => {
      const atS = Math.round((performance.now() - this.loadStartedAt) / 1000);
      void this.sample(atS % 60 === 0 ? `min ${atS / 60}` : `${atS} s`).catch((error: unknown) =>
        console.error(`heap sample failed: ${String(error)}`),
      );
    }, everyS * 1000);
  }

  /** Stops the interval's samples (before the last sample, so that none lands after it). */
  endLoad(): void {
    clearInterval(this.timer);
  }

  /** Writes curve.csv (seconds since the load began, label, heap MB, RSS MB). */
  finish(): string {
    const file = path.join(this.dir, 'curve.csv');
    const rows = this.points.map(
      (p) => `${p.atS.toFixed(0)},${p.label},${p.heapMb.toFixed(1)},${p.rssMb.toFixed(1)}`,
    );
    writeFileSync(file, ['seconds,label,heap_used_mb,rss_mb', ...rows, ''].join('\n'));
    console.log(`  heap curve: ${path.relative(process.cwd(), file)}`);
    return file;
  }

  private ask(request: { op: 'heap' | 'snapshot'; path?: string }): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, (reply) =>
        reply.error ? reject(new Error(`heap agent: ${reply.error}`)) : resolve(reply),
      );
      this.child.send({ id, ...request });
    });
  }
}
