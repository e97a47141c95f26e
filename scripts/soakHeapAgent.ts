// Preloaded into the soak's server process only (`node --expose-gc --import tsx --import
// ./scripts/soakHeapAgent.ts src/main.ts`), never into a deployed server: answers the soak's
// requests over the IPC channel. `{ id, op: 'heap' }` forces a full GC and answers the heap used
// after it (the only figure that says whether memory is retained: heap used before a GC counts
// garbage V8 has not collected yet); `{ id, op: 'snapshot', path }` writes a heap snapshot there.
// An IPC channel rather than an HTTP route, so that nothing is added to the server's surface.
import { writeHeapSnapshot } from 'node:v8';

interface Request {
  readonly id: number;
  readonly op: 'heap' | 'snapshot';
  readonly path?: string;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('soakHeapAgent needs node --expose-gc');
if (!process.send) throw new Error('soakHeapAgent needs an IPC channel');
// The channel must not keep the server alive after its own shutdown.
process.channel?.unref();

process.on('message', (request: Request) => {
  try {
    if (request.op === 'heap') {
      gc();
      const { heapUsed, rss } = process.memoryUsage();
      process.send!({ id: request.id, heapUsed, rss });
    } else {
      process.send!({ id: request.id, path: writeHeapSnapshot(request.path) });
    }
  } catch (error) {
    process.send!({ id: request.id, error: String(error) });
  }
});
