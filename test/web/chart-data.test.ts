import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuFamily } from '../../agent/metrics/cpu.js';
import { FrameBuilder, widgetChart } from '../../web/src/data/chart-data.js';
import { Catalog, HostData, SINGULAR, type MetricMeta } from '../../web/src/data/host-data.js';
import { WIDGETS } from '../../web/src/data/widgets.js';

function cpuHost(t0: number, userMsPerSecond: number): HostData {
  const catalog = new Catalog();
  catalog.setMeta(cpuFamily.metrics.map((d): MetricMeta => ({ ...d, help: d.help ?? d.oneline })));
  catalog.setNames('60.0', [[0, 'cpu0'], [1, 'cpu1']]);
  const s = new HostData(catalog, { capacity: 20 });
  const times = Array.from({ length: 10 }, (_, i) => t0 + i * 1000);
  const counter = (perSecond: number): string[] => times.map((_, i) => String(1_000_000 + i * perSecond));
  s.backfill(times, [
    { metric: 'hinv.ncpu', instance: SINGULAR, values: times.map(() => 2) },
    { metric: 'kernel.all.cpu.user', instance: SINGULAR, values: counter(userMsPerSecond) },
    { metric: 'kernel.all.cpu.sys', instance: SINGULAR, values: counter(100) },
    { metric: 'kernel.percpu.cpu.user', instance: 0, values: counter(userMsPerSecond / 2) },
    { metric: 'kernel.percpu.cpu.sys', instance: 0, values: counter(50) },
    { metric: 'kernel.percpu.cpu.user', instance: 1, values: counter(userMsPerSecond / 2) },
    { metric: 'kernel.percpu.cpu.sys', instance: 1, values: counter(50) },
  ]);
  return s;
}

const widget = (id: string) => WIDGETS.find((w) => w.id === id)!;

test('a widget over one host: columns go to uPlot without copies, units from metadata', () => {
  const s = cpuHost(1_000_000, 500);
  const spec = widgetChart(widget('cpu'), [{ source: s, name: 'h' }]);
  // The host serves steal and iowait but sent no values for them here: no lines, and not "missing".
  assert.deepEqual(spec.lines.map((l) => l.label), ['user', 'sys']);
  assert.deepEqual(spec.missing, []);
  const bare = new Catalog();
  bare.setMeta([]);
  assert.ok(widgetChart(widget('cpu'), [{ source: new HostData(bare, { capacity: 2 }), name: 'h' }]).missing.includes('kernel.all.cpu.steal'),
    'a host without the metric says so');
  const frame = new FrameBuilder().build(spec);
  // The chart's scale turns ms per second of all CPUs into a share of the host (2 CPUs).
  assert.equal(frame.scale, 1e-3 / 2);
  assert.equal(frame.ys[0]!.buffer, s.column('kernel.all.cpu.user')!.view().buffer, 'the ring itself, not a copy');
  assert.equal(frame.ys[0]!.at(-1)! * frame.scale, 0.25, '500 ms/s of 2 CPUs');
  assert.equal(frame.ys[1]!.at(-1)! * frame.scale, 0.05);
  const copied = new FrameBuilder().build(spec, true);
  assert.notEqual(copied.ys[0]!.buffer, s.column('kernel.all.cpu.user')!.view().buffer, 'paused: a snapshot');
});

test('per-CPU busy sums user and sys per CPU', () => {
  const s = cpuHost(0, 800);
  const spec = widgetChart(widget('percpu'), [{ source: s, name: 'h' }]);
  assert.deepEqual(spec.lines.map((l) => l.label), ['cpu0', 'cpu1']);
  const frame = new FrameBuilder().build(spec);
  assert.equal(frame.ys[0]!.at(-1)! * frame.scale, 0.45, '(400 + 50) ms per second of one CPU');
});

test('two hosts overlaid on one time axis, sampled 400 ms apart', () => {
  const a = cpuHost(10_000, 500);
  const b = cpuHost(10_400, 1000);
  const spec = widgetChart(widget('cpu'), [{ source: a, name: 'a' }, { source: b, name: 'b' }]);
  assert.deepEqual(spec.lines.map((l) => l.label), ['a user', 'a sys', 'b user', 'b sys']);
  const frame = new FrameBuilder().build(spec);
  assert.deepEqual([...frame.xs], [...a.times.view()]);
  assert.equal(frame.ys[2]!.length, frame.xs.length);
  assert.equal(frame.ys[2]!.at(-1)! * frame.scale, 0.5, 'b\'s samples placed on a\'s times');
});

test('a live chart takes only its window (one sample more, to enter from the edge)', () => {
  const s = cpuHost(0, 500);
  const spec = widgetChart(widget('cpu'), [{ source: s, name: 'h' }]);
  const frame = new FrameBuilder().build(spec, false, 6500);
  assert.deepEqual([...frame.xs], [6000, 7000, 8000, 9000]);
  assert.equal(frame.ys[0]!.length, 4);
});
