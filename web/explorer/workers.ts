// Monaco runs its language services in web workers. graphiql ships set-ups for webpack, Vite and
// esm.sh (a CDN, so not for us); esbuild builds each worker as an entry of its own
// (scripts/build-explorer.mjs), served beside this bundle, so the browser fetches them from here.
import type { ExplorerConfig } from './config';

const WORKERS: Record<string, string> = {
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
};

export function setUpWorkers(config: ExplorerConfig): void {
  (globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
    getWorker(_workerId: string, label: string) {
      return new Worker(`${config.assets}${WORKERS[label] ?? 'editor.worker.js'}`);
    },
  };
}
