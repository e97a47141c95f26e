// `npx tsx scripts/heapSnapshotDiff.ts <a.heapsnapshot> <b.heapsnapshot> [--top 25]`: what grew
// between two V8 heap snapshots (the soak writes them into .soak/, scripts/soakHeap.ts). Sums the
// self size and count of the nodes per V8 node type (the categories DevTools shows as "(compiled
// code)", "(string)", "(array)", …) and per type and name (an object's name is its constructor),
// and prints both sides and the difference, largest growth first.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Totals {
  size: number;
  count: number;
}

/** Types whose names are their contents (a string's text, a number's value): summed by type only. */
const BY_TYPE_ONLY = new Set([
  'string',
  'concatenated string',
  'sliced string',
  'number',
  'bigint',
  'symbol',
]);

function summarize(file: string): { byType: Map<string, Totals>; byName: Map<string, Totals> } {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const byType = new Map<string, Totals>();
  const byName = new Map<string, Totals>();
  const add = (map: Map<string, Totals>, key: string, size: number) => {
    const totals = map.get(key) ?? { size: 0, count: 0 };
    totals.size += size;
    totals.count += 1;
    map.set(key, totals);
  };
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt]!]!;
    const size = heap.nodes[i + sizeAt]!;
    add(byType, type, size);
    const name = BY_TYPE_ONLY.has(type) ? '' : ` ${heap.strings[heap.nodes[i + nameAt]!]!.slice(0, 70)}`;
    add(byName, `(${type})${name}`, size);
  }
  return { byType, byName };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
if (positionals.length !== 2) {
  console.error('usage: tsx scripts/heapSnapshotDiff.ts <a.heapsnapshot> <b.heapsnapshot> [--top N]');
  process.exit(2);
}
const [a, b] = positionals.map(summarize) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(2).padStart(7);

function table(title: string, left: Map<string, Totals>, right: Map<string, Totals>, top: number): void {
  const keys = [...new Set([...left.keys(), ...right.keys()])];
  const rows = keys
    .map((key) => {
      const l = left.get(key) ?? { size: 0, count: 0 };
      const r = right.get(key) ?? { size: 0, count: 0 };
      return { key, l, r, delta: r.size - l.size };
    })
    .sort((x, y) => y.delta - x.delta);
  const sum = (map: Map<string, Totals>) => [...map.values()].reduce((s, t) => s + t.size, 0);
  console.log(`\n${title}: ${mb(sum(left))} → ${mb(sum(right))} MB (self sizes)`);
  console.log(`${'   before MB'} ${'  after MB'} ${'  delta MB'} ${'  count before → after'.padEnd(26)} key`);
  for (const { key, l, r, delta } of rows.slice(0, top))
    console.log(
      `${mb(l.size).padStart(12)} ${mb(r.size).padStart(10)} ${mb(delta).padStart(10)} ${`  ${l.count} → ${r.count}`.padEnd(26)} ${key}`,
    );
  const shrunk = rows.filter((row) => row.delta < 0).reduce((s, row) => s + row.delta, 0);
  console.log(`  (all that shrank: ${mb(shrunk)} MB)`);
}

const top = Number(values.top);
table('by node type', a.byType, b.byType, top);
table('by node type and name (constructor)', a.byName, b.byName, top);
