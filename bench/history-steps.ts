/**
 * Not a scenario: the longest synchronous step of History.recordSliced, for a history the size
 * of 1000 cgroups (METRICS metrics × INSTANCES instances), over passes that seal a chunk and
 * passes that do not. Each step is a stretch a request arriving meanwhile waits for.
 * SYNC=1 measures record(), all in one step, for comparison.
 *   node --import tsx bench/history-steps.ts [instances] [metrics]
 */
import { MetricTable, type MetricFamily } from '../agent/metrics/table.js';
import { History } from '../agent/store/history.js';
import { CollectorBuffer, Sample } from '../agent/store/sample.js';
import { quantile } from './lib.js';

const [instances = 1000, metrics = 40] = process.argv.slice(2).map(Number);
const family: MetricFamily = {
  indoms: [{ indom: '500.98', oneline: 'steps' }],
  metrics: Array.from({ length: metrics }, (_, m) => ({
    name: `steps.m${m}`, pmid: `500.98.${m}`, type: m % 2 ? 'u64' : 'double', sem: 'counter', units: 'none', indom: '500.98', oneline: 'x',
  } as const)),
};
const table = new MetricTable([family]);
const history = new History(table, { retentionMs: 3_600_000, maxBytes: 1 << 30, chunkSamples: 120 });
const names = Array.from({ length: instances }, (_, i) => `/c${i}`);
const plain: number[] = [];
const sealing: number[] = [];
let longest = 0;
let last = 0;
const slices = {
  next: async (): Promise<void> => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = performance.now();
  },
};
const t0 = Date.now();
for (let i = 0; i < 250; i++) {
  const sample = new Sample(t0 + i * 1000);
  const buffer = new CollectorBuffer(table, t0 + i * 1000);
  for (let m = 0; m < metrics; m++) {
    for (let k = 0; k < instances; k++) buffer.put(`steps.m${m}`, m % 2 ? BigInt(i * (k + 1) * 4096) : i * (k + 1) * 0.37, names[k]);
  }
  buffer.mergeInto(sample);
  longest = 0;
  last = performance.now();
  if (process.env.SYNC === '1') history.record(sample);
  else await history.recordSliced(sample, slices);
  longest = Math.max(longest, performance.now() - last);
  if (i < 10) continue; // warm-up
  (i % 120 === 0 ? sealing : plain).push(longest);
}
const f = (a: number[]): string => `median ${quantile(a, 0.5).toFixed(2)} ms, max ${Math.max(...a).toFixed(2)} ms (${a.length} passes)`;
console.log(`${instances * metrics} series; longest step: passes that seal ${f(sealing)}; other passes ${f(plain)}`);
