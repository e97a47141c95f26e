// `npx tsx bench/profileSummary.ts bench/profiles/<file>.cpuprofile [top]`: where a server's CPU
// went, from a V8 CPU profile written by `npm run bench -- --profile`. Prints self time per
// package (node_modules/<name>, the app's own src/, node: internals, GC, idle) and the top
// functions, as shares of the busy (non-idle) time. The flame graph is in Chrome DevTools;
// this is the same data as a table that a note can quote.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The package a frame belongs to: the last node_modules/<name> in its path, or src/, or a V8/Node category. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internals';
  const modules = url.split('/node_modules/');
  if (modules.length > 1) {
    const rest = modules[modules.length - 1]!.split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const app = /\/(src|bench)\/(.*)$/.exec(url);
  return app ? `${app[1]}/${app[2]!.split('/')[0]}` : url;
}

export function summarizeProfile(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const pkg = packageOf(url, functionName);
    if (pkg === '(idle)' || pkg === '(program)') continue;
    busy += micros;
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${pkg}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const ranked = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([name, micros]) => ({ name, share: micros / busy }));
  return { busyMicros: busy, packages: ranked(packages), functions: ranked(functions) };
}

if (require.main === module) {
  const [file, top = '25'] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profileSummary.ts <file.cpuprofile> [top]');
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  console.log(`busy ${(summary.busyMicros / 1e6).toFixed(2)} s (idle and (program) left out)\n\nby package:`);
  for (const { name, share } of summary.packages.slice(0, Number(top))) console.log(`${pct(share)}  ${name}`);
  console.log('\nby function (self time):');
  for (const { name, share } of summary.functions.slice(0, Number(top)))
    console.log(`${pct(share)}  ${name}`);
}
