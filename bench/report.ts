// Pure reporting for the benchmark: medians over rounds, the ratios the issue asks for, and the
// table, Markdown and SVG outputs. No I/O here, so test/unit/benchReport.test.ts can pin it.
import type { WriteKind } from './workloads';

export const MODES = [
  'floor',
  'raw-floor',
  'naive',
  'n-plus-one',
  'batched',
  'cached',
  'response-cache',
  'cached-cold',
  'fallback',
  'memory',
  'cluster',
  'two-instance',
] as const;
export type Mode = (typeof MODES)[number];
export const WORKLOADS = ['single', 'list50', 'page20', 'mixed'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** One measured window. */
export interface Sample {
  readonly mode: Mode;
  readonly workload: Workload;
  readonly round: number;
  readonly requests: number;
  readonly rps: number;
  /** Throughput of each server instance (one, or two in the two-instance mode); rps is their sum. */
  readonly instanceRps: readonly number[];
  readonly p50: number;
  readonly p99: number;
  /** Connection errors, timeouts, non-2xx answers and GraphQL error bodies. */
  readonly errors: number;
  readonly dbQueries: number;
  /** Write requests sent, per kind. */
  readonly writes: Readonly<Record<WriteKind, number>>;
  /** Of dbQueries, the statements the window's writes ran (0 for read-only workloads). */
  readonly writeQueries: number;
  readonly redisCalls: number;
  /** Every command the Redis servers executed, those run inside scripts included. */
  readonly redisCommands: number;
  /** CPU the Redis servers used during the window. */
  readonly redisCpuSeconds: number;
  /** CPU the server process used during the window (NaN where it cannot be read). */
  readonly serverCpuSeconds: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Reads judged for staleness (mixed workload) and those that showed an overwritten value. */
  readonly checkedReads: number;
  readonly staleReads: number;
}

export interface Summary {
  readonly mode: Mode;
  readonly workload: Workload;
  readonly rounds: number;
  readonly rps: number;
  /** Median throughput of each instance. */
  readonly instanceRps: readonly number[];
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly dbPerRequest: number;
  /** Queries per request issued by reads: dbPerRequest without the writes' own statements. */
  readonly readDbPerRequest: number;
  readonly redisPerRequest: number;
  /** Commands Redis executed per request (scripts' inner commands included). */
  readonly redisCommandsPerRequest: number;
  /** Redis CPU microseconds per request. */
  readonly redisCpuMicrosPerRequest: number;
  /** Server CPU microseconds per request: what a request costs, whatever else ran on the machine. */
  readonly cpuMicrosPerRequest: number;
  /** null when the mode has no cache lookups. */
  readonly hitRate: number | null;
  /** Summed over rounds; null for workloads whose reads are not judged (all but mixed). */
  readonly staleReads: { readonly stale: number; readonly of: number } | null;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(samples: readonly Sample[]): Summary[] {
  const groups = new Map<string, Sample[]>();
  for (const sample of samples) {
    const key = `${sample.mode}|${sample.workload}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  return [...groups.values()].map((group) => {
    const { mode, workload } = group[0]!;
    const perRequest = (pick: (s: Sample) => number) =>
      median(group.map((s) => (s.requests ? pick(s) / s.requests : 0)));
    const lookups = group.reduce((sum, s) => sum + s.cacheHits + s.cacheMisses, 0);
    return {
      mode,
      workload,
      rounds: group.length,
      rps: median(group.map((s) => s.rps)),
      instanceRps: group[0]!.instanceRps.map((_, i) => median(group.map((s) => s.instanceRps[i] ?? NaN))),
      p50: median(group.map((s) => s.p50)),
      p99: median(group.map((s) => s.p99)),
      errors: group.reduce((sum, s) => sum + s.errors, 0),
      dbPerRequest: perRequest((s) => s.dbQueries),
      readDbPerRequest: perRequest((s) => Math.max(0, s.dbQueries - s.writeQueries)),
      redisPerRequest: perRequest((s) => s.redisCalls),
      redisCommandsPerRequest: perRequest((s) => s.redisCommands),
      redisCpuMicrosPerRequest: perRequest((s) => s.redisCpuSeconds * 1e6),
      cpuMicrosPerRequest: perRequest((s) => s.serverCpuSeconds * 1e6),
      hitRate: lookups ? group.reduce((sum, s) => sum + s.cacheHits, 0) / lookups : null,
      staleReads:
        workload === 'mixed'
          ? {
              stale: group.reduce((sum, s) => sum + s.staleReads, 0),
              of: group.reduce((sum, s) => sum + s.checkedReads, 0),
            }
          : null,
    };
  });
}

export interface Ratio {
  readonly workload: Workload;
  readonly name: string;
  readonly value: number;
}

/** cached/floor, cached/naive, cached/n-plus-one, cached/batched (throughput) and database-load reduction vs naive. */
export function ratios(summaries: readonly Summary[]): Ratio[] {
  const find = (mode: Mode, workload: Workload) =>
    summaries.find((s) => s.mode === mode && s.workload === workload);
  const out: Ratio[] = [];
  for (const workload of WORKLOADS) {
    const cached = find('cached', workload);
    if (!cached) continue;
    const floor = find('floor', 'single');
    if (floor && workload === 'single')
      out.push({ workload, name: 'cached/floor throughput', value: cached.rps / floor.rps });
    for (const base of ['response-cache', 'naive', 'n-plus-one', 'batched'] as const) {
      const other = find(base, workload);
      if (other) out.push({ workload, name: `cached/${base} throughput`, value: cached.rps / other.rps });
    }
    // Scale-out: the same path on a Redis Cluster, and two instances sharing one Redis (and one core).
    for (const variant of ['cluster', 'two-instance'] as const) {
      const other = find(variant, workload);
      if (other) out.push({ workload, name: `${variant}/cached throughput`, value: other.rps / cached.rps });
    }
    const naive = find('naive', workload);
    if (naive && naive.dbPerRequest > 0) {
      out.push({
        workload,
        name: 'database load reduction vs naive',
        value: 1 - cached.dbPerRequest / naive.dbPerRequest,
      });
    }
    // With writes in the workload, also the reads' share: the load a cache can take away.
    if (naive && naive.readDbPerRequest > 0 && naive.readDbPerRequest !== naive.dbPerRequest) {
      out.push({
        workload,
        name: 'read database load reduction vs naive',
        value: 1 - cached.readDbPerRequest / naive.readDbPerRequest,
      });
    }
  }
  return out;
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const staleCell = (s: Summary) => (s.staleReads ? `${s.staleReads.stale} of ${s.staleReads.of}` : '-');

/** One row of the table and the Markdown: the same cells, in the same order as COLUMNS. */
const COLUMNS = [
  'workload',
  'mode',
  'req/s',
  'stale reads',
  'p50 ms',
  'p99 ms',
  'errors',
  'db/req',
  'read db/req',
  'redis/req',
  'redis cmds/req',
  'redis µs/req',
  'cpu µs/req',
  'hit rate',
];
const cells = (s: Summary) => [
  s.workload,
  s.mode,
  fixed(s.rps, 0),
  staleCell(s),
  fixed(s.p50),
  fixed(s.p99),
  String(s.errors),
  fixed(s.dbPerRequest, 2),
  fixed(s.readDbPerRequest, 2),
  fixed(s.redisPerRequest, 2),
  fixed(s.redisCommandsPerRequest, 2),
  fixed(s.redisCpuMicrosPerRequest, 0),
  fixed(s.cpuMicrosPerRequest, 0),
  s.hitRate === null ? '-' : `${(s.hitRate * 100).toFixed(1)}%`,
];

export function table(summaries: readonly Summary[]): string {
  const rows = summaries.map(cells);
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function markdown(
  summaries: readonly Summary[],
  computed: readonly Ratio[],
  meta: Record<string, string>,
  chartFile = 'chart.svg',
): string {
  const lines = [
    '# Benchmark results',
    '',
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
    ...summaries.map((s) => `| ${cells(s).join(' | ')} |`),
    '',
    '| workload | ratio | value |',
    '| --- | --- | ---: |',
    ...computed.map(
      (r) =>
        `| ${r.workload} | ${r.name} | ${r.name.includes('reduction') ? `${(r.value * 100).toFixed(1)}%` : `${r.value.toFixed(2)}×`} |`,
    ),
    '',
    ...summaries
      .filter((s) => s.instanceRps.length > 1)
      .map(
        (s) =>
          `- ${s.workload} · ${s.mode}: ${s.instanceRps.map((rps) => fixed(rps, 0)).join(' + ')} req/s per instance`,
      ),
    '',
    `![throughput and p99 per mode](${chartFile})`,
    '',
  ];
  return lines.join('\n');
}

/** A plain SVG bar chart: throughput per mode and workload, with p99 written on each bar. */
export function svgChart(summaries: readonly Summary[]): string {
  const barHeight = 16;
  const left = 190;
  const width = 720;
  const maxRps = Math.max(1, ...summaries.map((s) => s.rps));
  const bars = summaries.map((s, i) => {
    const y = 30 + i * (barHeight + 6);
    const w = Math.max(1, ((width - left - 120) * s.rps) / maxRps);
    return [
      `<text x="${left - 8}" y="${y + 12}" text-anchor="end">${s.workload} · ${s.mode}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${s.mode.startsWith('cached') ? '#2b7a78' : '#8a8a8a'}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 12}">${fixed(s.rps, 0)} req/s · p99 ${fixed(s.p99)} ms</text>`,
    ].join('');
  });
  const height = 40 + summaries.length * (barHeight + 6);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13" font-weight="bold">Throughput per mode (bar) and p99 latency</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}
