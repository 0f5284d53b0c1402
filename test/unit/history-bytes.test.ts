import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import type { Value } from '../../agent/metrics/types.js';
import type { Sample } from '../../agent/store/sample.js';

/**
 * The history's compression on what this host really produces: the whole agent (every
 * registered collector, reading this machine's /proc and /sys) sampling every 100 ms, 300 times.
 */
const SAMPLES = 300;
let agent: Agent;
const samples: Sample[] = [];

before(async () => {
  agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 100, collect: 'all' });
  // The sampler's timer does not hold the process open; this one does, with a deadline.
  let deadline: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    deadline = setTimeout(() => reject(new Error(`only ${samples.length} of ${SAMPLES} samples in 120 s`)), 120_000);
    agent.history.on('record', (sample) => {
      if (samples.length < SAMPLES) samples.push(sample);
      if (samples.length === SAMPLES) resolve();
    });
    agent.sampler.start();
  }).finally(() => clearTimeout(deadline));
  agent.sampler.stop();
});

after(async () => {
  await agent?.close();
});

test('real agent samples cost at most 2 bytes per value in the history', (t) => {
  const stats = agent.history.stats();
  const encoded = stats.encodedBytes / stats.values;
  const held = stats.bytes / stats.values;
  t.diagnostic(
    `${stats.series} series, ${stats.values} values over ${samples.length}+ samples at 100 ms: ` +
      `${encoded.toFixed(3)} encoded bytes/value, ${held.toFixed(3)} bytes/value with object overhead (${stats.bytes} bytes held)`,
  );
  assert.ok(stats.series > 10, `the agent sampled ${stats.series} series`);
  assert.ok(encoded <= 2, `${encoded.toFixed(3)} encoded bytes per value`);
});

test('every real value reads back exactly', () => {
  const window = agent.history.read({ metrics: [...agent.table.all()], start: 0, end: Infinity });
  const column = new Map<string, Array<Value | null>>();
  for (const series of window.series) column.set(`${series.desc.name}\u0000${series.instance}`, series.values);
  const index = new Map(window.times.map((t, i) => [t, i]));
  const f64 = new Float64Array(1);
  const u64 = new BigUint64Array(f64.buffer);
  const bits = (x: number): bigint => ((f64[0] = x), u64[0]!);
  let compared = 0;
  for (const sample of samples) {
    const at = index.get(Math.round(sample.time * 1000) / 1000);
    assert.ok(at !== undefined, `sample at ${sample.time} is in the history`);
    for (const [metric, values] of sample.values) {
      for (const [instance, value] of values) {
        const got: Value | null | undefined = column.get(`${metric}\u0000${instance}`)?.[at];
        if (typeof value === 'number' && typeof got === 'number') assert.equal(bits(got), bits(value), `${metric}[${instance}] at ${at}`);
        else assert.equal(got, value, `${metric}[${instance}] at ${at}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 1000, `${compared} values compared`);
});
