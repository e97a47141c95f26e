// The benchmark's counting and reporting: medians, per-request counts, hit rates and ratios.
import { markdown, median, ratios, summarize, svgChart, table, type Sample } from '../../bench/report';

const sample = (overrides: Partial<Sample>): Sample => ({
  mode: 'cached',
  workload: 'single',
  round: 1,
  requests: 1000,
  rps: 500,
  instanceRps: [500],
  p50: 5,
  p99: 20,
  errors: 0,
  dbQueries: 0,
  writes: { updateProduct: 0, updateBarcode: 0 },
  writeQueries: 0,
  redisCalls: 1000,
  redisCommands: 1000,
  redisCpuSeconds: 0.01,
  serverCpuSeconds: 0.5,
  cacheHits: 2000,
  cacheMisses: 0,
  checkedReads: 0,
  staleReads: 0,
  ...overrides,
});

it('takes the median of odd and even counts', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
});

it('summarizes rounds into medians, per-request counts and a pooled hit rate', () => {
  const [summary] = summarize([
    sample({
      round: 1,
      rps: 400,
      p99: 30,
      requests: 1000,
      dbQueries: 100,
      redisCalls: 1000,
      cacheHits: 900,
      cacheMisses: 100,
      serverCpuSeconds: 0.4,
    }),
    sample({
      round: 2,
      rps: 600,
      p99: 10,
      requests: 2000,
      dbQueries: 0,
      redisCalls: 2000,
      cacheHits: 2000,
      cacheMisses: 0,
      serverCpuSeconds: 0.6,
    }),
    sample({
      round: 3,
      rps: 500,
      p99: 20,
      requests: 1000,
      dbQueries: 50,
      redisCalls: 1000,
      cacheHits: 1000,
      cacheMisses: 0,
      errors: 2,
    }),
  ]);
  expect(summary).toEqual({
    mode: 'cached',
    workload: 'single',
    rounds: 3,
    rps: 500,
    instanceRps: [500],
    p50: 5,
    p99: 20,
    errors: 2,
    dbPerRequest: 0.05,
    readDbPerRequest: 0.05,
    redisPerRequest: 1,
    redisCommandsPerRequest: 1,
    redisCpuMicrosPerRequest: 10,
    cpuMicrosPerRequest: 400,
    hitRate: 3900 / 4000,
    staleReads: null,
  });
});

it('computes the throughput ratios and the database-load reduction the issue asks for', () => {
  const summaries = summarize([
    sample({ mode: 'floor', rps: 1000, cacheHits: 0 }),
    sample({ mode: 'cached', rps: 700, dbQueries: 0 }),
    sample({ mode: 'naive', rps: 100, dbQueries: 2000, cacheHits: 0 }),
    sample({ mode: 'n-plus-one', rps: 50, dbQueries: 4000, cacheHits: 0 }),
    sample({ mode: 'batched', rps: 350, dbQueries: 2000, cacheHits: 0 }),
  ]);
  const byName = Object.fromEntries(ratios(summaries).map((r) => [r.name, r.value]));
  expect(byName).toEqual({
    'cached/floor throughput': 0.7,
    'cached/naive throughput': 7,
    'cached/n-plus-one throughput': 14,
    'cached/batched throughput': 2,
    'database load reduction vs naive': 1,
  });
});

it("separates the reads' database load from the writes' own statements in a mixed workload", () => {
  // 1000 requests, 50 of them writes costing 4 statements each: 200 statements are the writes'.
  const summaries = summarize([
    sample({
      mode: 'naive',
      workload: 'mixed',
      dbQueries: 2100,
      writeQueries: 200,
      cacheHits: 0,
    }),
    sample({ mode: 'cached', workload: 'mixed', dbQueries: 295, writeQueries: 200 }),
  ]);
  expect(summaries.map((s) => [s.mode, s.dbPerRequest, s.readDbPerRequest])).toEqual([
    ['naive', 2.1, 1.9],
    ['cached', 0.295, 0.095],
  ]);
  const byName = Object.fromEntries(ratios(summaries).map((r) => [r.name, r.value]));
  expect(byName['database load reduction vs naive']).toBeCloseTo(1 - 0.295 / 2.1);
  expect(byName['read database load reduction vs naive']).toBeCloseTo(0.95);
});

it('sums stale reads over the rounds of a mixed workload and shows them next to throughput', () => {
  const summaries = summarize([
    sample({ mode: 'response-cache', workload: 'mixed', round: 1, checkedReads: 900, staleReads: 40 }),
    sample({ mode: 'response-cache', workload: 'mixed', round: 2, checkedReads: 950, staleReads: 60 }),
    sample({ mode: 'cached', workload: 'mixed', rps: 1000, checkedReads: 900 }),
    sample({ mode: 'response-cache', workload: 'single', rps: 800 }),
    sample({ mode: 'cached', workload: 'single', rps: 600, redisCommands: 2000, redisCpuSeconds: 0.02 }),
  ]);
  expect(summaries.map((s) => [s.mode, s.workload, s.staleReads])).toEqual([
    ['response-cache', 'mixed', { stale: 100, of: 1850 }],
    ['cached', 'mixed', { stale: 0, of: 900 }],
    ['response-cache', 'single', null],
    ['cached', 'single', null],
  ]);
  expect(table(summaries)).toMatch(/^mixed +response-cache +500 +100 of 1850 /m);
  expect(table(summaries)).toMatch(/^single +cached +600 +- .* 2\.00 +20 +500 +100\.0%$/m);
  const byName = ratios(summaries).map((r) => [r.workload, r.name, r.value]);
  expect(byName).toEqual(
    expect.arrayContaining([
      ['mixed', 'cached/response-cache throughput', 2],
      ['single', 'cached/response-cache throughput', 0.75],
    ]),
  );
});

it('compares the scale-out modes with the cached path and lists each instance', () => {
  const summaries = summarize([
    sample({ mode: 'cached', rps: 1000 }),
    sample({ mode: 'cluster', rps: 800 }),
    sample({ mode: 'two-instance', rps: 900, instanceRps: [460, 440] }),
  ]);
  const byName = Object.fromEntries(ratios(summaries).map((r) => [r.name, r.value]));
  expect(byName['cluster/cached throughput']).toBeCloseTo(0.8);
  expect(byName['two-instance/cached throughput']).toBeCloseTo(0.9);
  expect(markdown(summaries, ratios(summaries), {})).toContain(
    '- single · two-instance: 460 + 440 req/s per instance',
  );
});

it('renders the table, Markdown and SVG with every mode', () => {
  const summaries = summarize([
    sample({ mode: 'cached' }),
    sample({ mode: 'naive', cacheHits: 0, rps: 123.4 }),
  ]);
  expect(table(summaries).split('\n')[0]).toMatch(
    /^workload +mode +req\/s +stale reads +p50 ms +p99 ms +errors +db\/req +read db\/req +redis\/req +redis cmds\/req +redis µs\/req +cpu µs\/req +hit rate$/,
  );
  expect(table(summaries)).toMatch(
    /^single +naive +123 +- +5\.0 +20\.0 +0 +0\.00 +0\.00 +1\.00 +1\.00 +10 +500 +-$/m,
  );
  const md = markdown(summaries, ratios(summaries), { date: 'today' });
  expect(md).toContain(
    '| single | cached | 500 | - | 5.0 | 20.0 | 0 | 0.00 | 0.00 | 1.00 | 1.00 | 10 | 500 | 100.0% |',
  );
  expect(md).toContain('| single | cached/naive throughput | 4.05× |');
  expect(svgChart(summaries)).toMatch(/^<svg[^>]+>[\s\S]*single · naive[\s\S]*<\/svg>\n$/);
});
