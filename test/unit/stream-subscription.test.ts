import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Selection } from '../../agent/api/stream-selection.js';
import { Subscription } from '../../agent/api/stream-subscription.js';
import { noContainers } from '../../agent/containers/scope.js';
import { MetricTable, type MetricFamily } from '../../agent/metrics/table.js';
import type { Value } from '../../agent/metrics/types.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';

const family: MetricFamily = {
  indoms: [{ indom: '500.99', oneline: 'test instances' }],
  metrics: [
    { name: 'test.u64', pmid: '500.99.1', type: 'u64', sem: 'counter', units: 'count', indom: '500.99', oneline: 'u64 counters' },
    { name: 'test.double', pmid: '500.99.0', type: 'double', sem: 'instant', units: 'none', indom: null, oneline: 'doubles' },
  ],
};

type Row = Array<[metric: string, value: Value, instance?: string]>;

function sampleOf(table: MetricTable, time: number, row: Row): Sample {
  const sample = new Sample(time);
  const buffer = new CollectorBuffer(table, time);
  for (const [metric, value, instance] of row) buffer.put(metric, value, instance);
  buffer.mergeInto(sample);
  return sample;
}

interface Message {
  type: string;
  values?: unknown[];
  series?: { added: Array<[number, number | null]> };
}

test('values follow the client\'s series list, whatever order samples list them in, pass after pass', () => {
  const table = new MetricTable([family]);
  const subscription = new Subscription({
    id: 'main', every: 1, rate: false, intervalMs: 1000, scope: noContainers,
    selection: Selection.resolve(table, { metrics: ['test'] }, noContainers, undefined),
  });
  const t0 = 1_700_000_000_000;
  const deliver = (i: number, row: Row): Message[] =>
    subscription.onSample(sampleOf(table, t0 + i * 1000, row), i).map((m) => JSON.parse(m) as Message);

  // The client's list starts as a, b, then c joins at its end; the sample lists c before b.
  let messages = deliver(0, [['test.u64', 1n, 'a'], ['test.u64', 2n, 'b'], ['test.double', 0.5]]);
  assert.deepEqual(messages.map((m) => m.type), ['instances', 'sample']);
  assert.deepEqual(messages[1]!.values, ['1', '2', 0.5]);
  messages = deliver(1, [['test.u64', 10n, 'a'], ['test.u64', 2n ** 64n - 1n, 'c'], ['test.u64', 20n, 'b'], ['test.double', 0.5]]);
  assert.deepEqual(messages.map((m) => m.type), ['instances', 'sample']);
  assert.equal(messages[0]!.series!.added.length, 1);
  assert.deepEqual(messages[1]!.values, ['10', '20', 0.5, '18446744073709551615']);
  // The same order again, with some values unchanged and some moved: still the client's order.
  for (let i = 2; i < 5; i++) {
    messages = deliver(i, [['test.u64', 10n, 'a'], ['test.u64', 2n ** 64n - BigInt(i), 'c'], ['test.u64', BigInt(20 + i), 'b'], ['test.double', i]]);
    assert.deepEqual(messages.map((m) => m.type), ['sample'], `sample ${i}`);
    assert.deepEqual(messages[0]!.values, ['10', String(20 + i), i, String(2n ** 64n - BigInt(i))], `sample ${i}`);
  }
  // b goes: announced, and the values close up.
  messages = deliver(5, [['test.u64', 11n, 'a'], ['test.u64', 7n, 'c'], ['test.double', 1]]);
  assert.deepEqual(messages.map((m) => m.type), ['instances', 'sample']);
  assert.deepEqual(messages[1]!.values, ['11', 1, '7']);
});
