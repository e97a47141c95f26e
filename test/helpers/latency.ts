// Latency figures for printed reports (fault tests, the soak script). Never asserted on: the
// machine is shared, so speed goes to the output and only counts and outcomes are asserted.

/** The p-th percentile (0-100) of the values, nearest-rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** "n=120 p50=3.1 ms p99=12.4 ms max=15.0 ms" */
export function describeLatencies(values: readonly number[]): string {
  const ms = (p: number) => `${percentile(values, p).toFixed(1)} ms`;
  return `n=${values.length} p50=${ms(50)} p99=${ms(99)} max=${ms(100)}`;
}
