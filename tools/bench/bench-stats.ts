import { performance } from 'node:perf_hooks';

export interface BenchRow {
  name: string;
  n: number;
  perSecond: number;
  p50us: number;
  p99us: number;
}

/** Prints one row (calls/s, p50, p99) and returns it. */
export function stats(name: string, samples: number[]): BenchRow {
  const sorted = [...samples].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const total = samples.reduce((a, b) => a + b, 0);
  const row = {
    name,
    n: samples.length,
    perSecond: Math.round((samples.length / total) * 1e6),
    p50us: q(0.5),
    p99us: q(0.99),
  };
  process.stdout.write(
    `${name.padEnd(38)} ${String(row.perSecond).padStart(8)}/s   p50 ${row.p50us.toFixed(1).padStart(8)} µs   p99 ${row.p99us.toFixed(1).padStart(8)} µs\n`,
  );
  return row;
}

/** `warmup` unmeasured calls, then `n` sequential calls timed in microseconds. */
export async function time(
  fn: () => unknown | Promise<unknown>,
  n: number,
  warmup: number,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push((performance.now() - t) * 1000);
  }
  return out;
}
