import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MetricTable, type MetricFamily } from '../../agent/metrics/table.js';
import type { Value } from '../../agent/metrics/types.js';
import { History, type HistoryWindow } from '../../agent/store/history.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';

const family: MetricFamily = {
  indoms: [{ indom: '500.99', oneline: 'test instances' }],
  metrics: [
    { name: 'test.double', pmid: '500.99.0', type: 'double', sem: 'instant', units: 'none', indom: null, oneline: 'doubles' },
    { name: 'test.u64', pmid: '500.99.1', type: 'u64', sem: 'counter', units: 'count', indom: '500.99', oneline: 'u64 counters' },
    { name: 'test.s64', pmid: '500.99.2', type: '64', sem: 'instant', units: 'none', indom: null, oneline: 'signed 64-bit' },
    { name: 'test.u32', pmid: '500.99.3', type: 'u32', sem: 'counter', units: 'count', indom: null, oneline: 'u32 counter' },
    { name: 'test.string', pmid: '500.99.4', type: 'string', sem: 'discrete', units: 'none', indom: '500.99', oneline: 'strings' },
    { name: 'test.float', pmid: '500.99.5', type: 'float', sem: 'instant', units: 'none', indom: '500.99', oneline: 'floats' },
  ],
};

type Row = Array<[metric: string, value: Value, instance?: string]>;

/** Builds samples the way the sampler does (CollectorBuffer → Sample) and records them. */
function record(history: History, table: MetricTable, time: number, row: Row): Sample {
  const sample = new Sample(time);
  const buffer = new CollectorBuffer(table, time);
  for (const [metric, value, instance] of row) buffer.put(metric, value, instance);
  buffer.mergeInto(sample);
  history.record(sample);
  return sample;
}

const bits = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
const fromBits = (b: bigint): number => new Float64Array(new BigUint64Array([b]).buffer)[0]!;

/** A window's column for metric[instance], by instance name. */
function column(window: HistoryWindow, metric: string, instance?: string): Array<Value | null> | undefined {
  return window.series.find((s) => s.desc.name === metric && s.name === instance)?.values;
}

function assertSameValues(actual: ReadonlyArray<Value | null> | undefined, expected: ReadonlyArray<Value | null>, what: string): void {
  assert.ok(actual, `${what}: series missing from the window`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.equal(actual[i], expected[i], `${what}[${i}]`);
}

/**
 * Compares float64 bit patterns. The expected side is kept as bits from the moment the value was
 * sampled: V8 canonicalizes NaN payloads when it stores a NaN in an array of doubles.
 */
function assertSameBits(actual: ReadonlyArray<Value | null> | undefined, expected: ReadonlyArray<bigint | null>, what: string): void {
  assert.ok(actual, `${what}: series missing from the window`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === null) {
      assert.equal(actual[i], null, `${what}[${i}] was not sampled`);
      continue;
    }
    assert.equal(typeof actual[i], 'number', `${what}[${i}] is a number`);
    assert.equal(bits(actual[i] as number).toString(16), expected[i]!.toString(16), `${what}[${i}]: float64 bits of ${actual[i]}`);
  }
}

describe('history round trip', () => {
  const table = new MetricTable([family]);
  // Small chunks so that the 40 samples cross several sealed chunks and the open one.
  const history = new History(table, { retentionMs: 3_600_000, maxBytes: 64 << 20, chunkSamples: 7 });
  const specials = [
    0.1, -0, 0, NaN, fromBits(0x7ff8dead_beef0001n), fromBits(0xfff0000000000001n), Infinity, -Infinity,
    5e-324, Number.MAX_VALUE, -Number.MIN_VALUE, 1 / 3, 2 ** 53 + 2, 0.30000000000000004,
  ];
  const TOP = 2n ** 64n - 1n;
  const expected = {
    double: [] as Array<bigint | null>,
    u64a: [] as Value[],
    u64b: [] as Value[],
    u64c: [] as Array<Value | null>,
    u64d: [] as Value[],
    s64: [] as Array<Value | null>,
    u32: [] as Array<Value | null>,
    strA: [] as Array<Value | null>,
    floatA: [] as Array<bigint | null>,
  };
  const times: number[] = [];
  const t0 = 1_700_000_000_000.123;
  let counter = TOP - 25n;
  // Around 2^53, where deltas are computed in doubles or bigints: jumps of 2^52 and more, both ways.
  const edges = [0n, 2n ** 52n + 3n, 2n ** 53n - 1n, 2n ** 53n + 1n, 5n, 2n ** 53n - 2n, 2n ** 52n - 1n, 2n ** 53n, 2n ** 53n - 1n, 0n, 2n ** 53n - 2n];
  for (let i = 0; i < 40; i++) {
    // Counter near 2^64 that hits 2^64-1, resets to 0, then grows by more than 2^53 a step.
    counter = counter === TOP ? 0n : counter >= TOP - 25n ? counter + 1n : counter + 2n ** 53n + 1n;
    const row: Row = [
      ['test.u64', counter, 'a'],
      ['test.u64', 2n ** 53n + BigInt(i * i * 7 + 1), 'b'],
      ['test.u64', edges[i % edges.length]!, 'd'],
    ];
    // These skip a few samples (a collector late for a pass) and come back within the same chunk.
    const skipped = [3, 17, 18, 26].includes(i);
    if (!skipped) {
      row.push(
        ['test.double', i < specials.length ? specials[i]! : Math.random() * 10 ** (i % 20)],
        ['test.s64', i % 2 ? -(2n ** 63n) : 2n ** 63n - 1n - BigInt(i)],
        // u32 counter that resets at 20, with one non-integer value (a collector's mistake must not be rounded).
        ['test.u32', i === 13 ? 1.5 : i < 20 ? 4_000_000_000 + i * 1000 : i],
        ['test.string', i < 5 ? 'steady' : i < 9 ? 'ünïcödé ☃ "quoted"' : i < 12 ? '' : `v${Math.floor(i / 10)}`, 'a'],
        ['test.float', Math.fround(i / 7), 'a'],
      );
    }
    // Instance c appears twice: its gaps must read back as null, not as a neighbour's value.
    const present = (i >= 10 && i <= 15) || (i >= 30 && i <= 33);
    if (present) row.push(['test.u64', BigInt(i) * 1_000_000_007n, 'c']);
    const time = t0 + i * 1000 + (i % 3) * 0.25;
    const sample = record(history, table, time, row);
    times.push(Math.round(time * 1000) / 1000);
    const get = (metric: string, instance?: string): Value | null => {
      const desc = table.metric(metric)!;
      for (const [id, value] of sample.get(metric) ?? []) if (desc.indom === null || sample.instanceName(desc.indom, id) === instance) return value;
      return null;
    };
    const bitsOf = (value: Value | null): bigint | null => (value === null ? null : bits(value as number));
    expected.double.push(bitsOf(get('test.double')));
    expected.u64a.push(get('test.u64', 'a')!);
    expected.u64b.push(get('test.u64', 'b')!);
    expected.u64c.push(get('test.u64', 'c'));
    expected.u64d.push(get('test.u64', 'd')!);
    expected.s64.push(get('test.s64'));
    expected.u32.push(get('test.u32'));
    expected.strA.push(get('test.string', 'a'));
    expected.floatA.push(bitsOf(get('test.float', 'a')));
    assert.equal(expected.u64c.at(-1) !== null, present);
  }

  const all = history.read({ metrics: [...table.all()], start: 0, end: Infinity });

  test('times come back at microsecond resolution, one per sample', () => {
    assert.deepEqual(all.times, times);
    assert.deepEqual(all.seqs, times.map((_, i) => i));
  });

  test('float64 values keep their exact bit patterns (NaN payloads, -0, subnormals)', () => {
    assertSameBits(column(all, 'test.double'), expected.double, 'test.double');
    assert.ok(expected.double.includes(0x7ff8dead_beef0001n), 'a NaN with a payload was sampled');
    assertSameBits(column(all, 'test.float', 'a'), expected.floatA, 'test.float[a]');
  });

  test('u64 values are exact bigints, through 2^64-1, a reset to 0 and steps past 2^53', () => {
    assertSameValues(column(all, 'test.u64', 'a'), expected.u64a, 'test.u64[a]');
    assert.ok(expected.u64a.includes(TOP) && expected.u64a.includes(0n), 'the sequence really crosses 2^64-1 → 0');
    assertSameValues(column(all, 'test.u64', 'b'), expected.u64b, 'test.u64[b]');
    assertSameValues(column(all, 'test.u64', 'd'), expected.u64d, 'test.u64[d]');
    assertSameValues(column(all, 'test.s64'), expected.s64, 'test.s64');
    assert.equal(typeof column(all, 'test.u64', 'a')![0], 'bigint');
  });

  test('stats count every value held, in sealed chunks, finished runs and open runs', () => {
    const held = all.series.reduce((n, series) => n + series.values.filter((v) => v !== null).length, 0);
    assert.equal(history.stats().values, held);
    assert.ok(history.stats().encodedBytes > 0);
  });

  test('a u32 counter with a reset and a stray fraction reads back unchanged', () => {
    assertSameValues(column(all, 'test.u32'), expected.u32, 'test.u32');
  });

  test('strings read back, changes and repeats', () => {
    assertSameValues(column(all, 'test.string', 'a'), expected.strA, 'test.string[a]');
  });

  test('a series missing from some samples reads null there, whether it came back in the same chunk or a later one', () => {
    assertSameValues(column(all, 'test.u64', 'c'), expected.u64c, 'test.u64[c]');
    for (const i of [3, 17, 18, 26]) {
      assert.equal(column(all, 'test.s64')![i], null);
      assert.equal(column(all, 'test.string', 'a')![i], null);
    }
  });

  test('a window in the middle, and every n-th sample', () => {
    const mid = history.read({ metrics: [table.metric('test.u64')!], start: times[12]!, end: times[25]! });
    assert.deepEqual(mid.times, times.slice(12, 26));
    assertSameValues(column(mid, 'test.u64', 'a'), expected.u64a.slice(12, 26), 'window test.u64[a]');
    assertSameValues(column(mid, 'test.u64', 'c'), expected.u64c.slice(12, 26), 'window test.u64[c]');

    const third = history.read({ metrics: [table.metric('test.s64')!], start: 0, end: Infinity, every: 3 });
    assert.deepEqual(third.seqs, times.map((_, i) => i).filter((i) => i % 3 === 0));
    assertSameValues(column(third, 'test.s64'), expected.s64.filter((_, i) => i % 3 === 0), 'every 3 test.s64');
  });

  test('instance filter and maxValues truncation from the old end', () => {
    const onlyB = history.read({ metrics: [table.metric('test.u64')!], start: 0, end: Infinity, accept: (_d, _i, name) => name === 'b' });
    assert.deepEqual(onlyB.series.map((s) => s.name), ['b']);
    const capped = history.read({ metrics: [table.metric('test.u64')!], start: 0, end: Infinity, maxValues: 40 });
    assert.equal(capped.truncated, true);
    assert.deepEqual(capped.times, times.slice(-10), '4 series × 10 times fit 40 values');
    assertSameValues(column(capped, 'test.u64', 'a'), expected.u64a.slice(-10), 'capped test.u64[a]');
  });
});

describe('history expiry', () => {
  test('by age: whole chunks go, and a vanished instance is forgotten with its last chunk', () => {
    const table = new MetricTable([family]);
    const history = new History(table, { retentionMs: 10_000, maxBytes: 64 << 20, chunkSamples: 4 });
    const t0 = 1_700_000_000_000;
    let seriesWhileGonePresent = 0;
    for (let i = 0; i < 60; i++) {
      const row: Row = [['test.u64', BigInt(i) * 3n, 'stay']];
      if (i < 6) row.push(['test.u64', BigInt(i), 'gone']);
      record(history, table, t0 + i * 1000, row);
      if (i === 7) seriesWhileGonePresent = history.stats().series;
    }
    assert.equal(seriesWhileGonePresent, 2);
    const stats = history.stats();
    assert.equal(stats.series, 1, 'the vanished instance was dropped entirely');
    const newest = t0 + 59_000;
    assert.ok(stats.oldest! >= newest - 10_000 - 4 * 1000, `oldest kept ${newest - stats.oldest!} ms back, retention 10 s + one chunk`);
    assert.ok(stats.values <= (10 + 4 + 1) * 1, `${stats.values} values kept`);
    const window = history.read({ metrics: [table.metric('test.u64')!], start: 0, end: Infinity });
    assert.ok(window.times[0]! >= newest - 10_000, 'reads are clipped to the retention');
    assert.deepEqual(window.series.map((s) => s.name), ['stay']);
    assert.equal(window.series[0]!.values.at(-1), 59n * 3n);
  });

  test('a vanished instance is forgotten even when its last chunk expires before the next chunk is sealed', () => {
    // Retention shorter than a chunk: the chunk holding the instance's last values goes while
    // the open chunk still has its (emptied) run; sealing that chunk must forget it.
    const table = new MetricTable([family]);
    const history = new History(table, { retentionMs: 3_000, maxBytes: 64 << 20, chunkSamples: 10 });
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 40; i++) {
      const row: Row = [['test.u64', BigInt(i), 'stay']];
      if (i < 12) row.push(['test.u64', BigInt(i), 'gone']);
      record(history, table, t0 + i * 1000, row);
    }
    assert.equal(history.stats().series, 1, 'the vanished instance was dropped entirely');
    const window = history.read({ metrics: [table.metric('test.u64')!], start: 0, end: Infinity });
    assert.deepEqual(window.series.map((s) => s.name), ['stay']);
  });

  test('by memory budget: the oldest chunks go first and the budget holds after every sample', () => {
    const table = new MetricTable([family]);
    const maxBytes = 256 * 1024;
    const history = new History(table, { retentionMs: 3_600_000, maxBytes, chunkSamples: 10 });
    const t0 = 1_700_000_000_000;
    let last: number[] = [];
    for (let i = 0; i < 400; i++) {
      // Random doubles are the worst case for the encoding: ~8 bytes each.
      last = Array.from({ length: 100 }, () => Math.random());
      record(history, table, t0 + i * 1000, last.map((v, k) => ['test.float', v, `f${k}`]));
      assert.ok(history.bytes <= maxBytes, `sample ${i}: ${history.bytes} bytes held, budget ${maxBytes}`);
    }
    const stats = history.stats();
    assert.ok(stats.evicted > 0, 'chunks were evicted for memory');
    assert.ok(stats.oldest! > t0 + 100_000, `oldest kept is ${(stats.oldest! - t0) / 1000} s after the first sample`);
    const window = history.read({ metrics: [table.metric('test.float')!], start: 0, end: Infinity });
    assert.equal(window.times.at(-1), t0 + 399_000);
    assert.deepEqual(window.series.map((s) => s.values.at(-1)), last);
  });
});

describe('history recorded in slices', () => {
  /** Samples of 300 float series (more than one seal step) and a few others; some come and go. */
  function rows(count: number): Row[] {
    return Array.from({ length: count }, (_, i) => {
      const row: Row = Array.from({ length: 300 }, (_, k) => ['test.float', Math.fround(i + k / 8), `f${k}`]);
      row.push(['test.u64', BigInt(i) * 1000n, 'a'], ['test.double', i % 4 === 0 ? 0.5 : i]);
      // An instance born mid-chunk, and a string series whose run ends when it turns numeric…
      if (i >= 5) row.push(['test.u64', BigInt(i), `late${i % 3}`]);
      if (i % 5 !== 2) row.push(['test.string', `s${Math.floor(i / 3)}`, 'a']);
      return row;
    });
  }
  const sampleOf = (table: MetricTable, time: number, row: Row): Sample => {
    const sample = new Sample(time);
    const buffer = new CollectorBuffer(table, time);
    for (const [metric, value, instance] of row) buffer.put(metric, value, instance);
    buffer.mergeInto(sample);
    return sample;
  };
  const t0 = 1_700_000_000_000;

  test('a read between two slices sees the history before the sample, whole, including while a chunk is sealed', async () => {
    const table = new MetricTable([family]);
    const history = new History(table, { retentionMs: 3_600_000, maxBytes: 64 << 20, chunkSamples: 4 });
    const query = { metrics: [...table.all()], start: 0, end: Infinity };
    let before = history.read(query);
    // Two values per u64 series: a series born in the sample being recorded would cut that to one.
    const truncating = () => ({ metrics: [table.metric('test.u64')!], start: 0, end: Infinity, maxValues: 2 * before.series.filter((s) => s.desc.name === 'test.u64').length });
    let beforeTruncated = history.read(truncating());
    let pauses = 0;
    // Every step of the record gives way, and a read at each must equal the read before the record.
    const slices = {
      next: async (): Promise<void> => {
        pauses++;
        assert.deepEqual(history.read(query), before, `read during the record of sample ${before.times.length}`);
        assert.deepEqual(history.read(truncating()), beforeTruncated, `truncated read during the record of sample ${before.times.length}`);
      },
    };
    const all = rows(13);
    for (let i = 0; i < all.length; i++) {
      const pausesBefore = pauses;
      await history.recordSliced(sampleOf(table, t0 + i * 1000, all[i]!), slices);
      const after = history.read(query);
      assert.deepEqual(after.times, [...before.times, t0 + i * 1000], `sample ${i} is in the history once recorded`);
      // A step per 256 values, and per 256 open runs when some series is missing from the
      // sample; a record that seals a chunk sizes, packs and empties its 300-odd runs in steps too.
      const appends = Math.floor(all[i]!.length / 256);
      const seals = i % 4 === 0 && i > 0;
      const steps = pauses - pausesBefore;
      assert.ok(appends >= 1);
      assert.ok(seals ? steps >= appends + 3 : steps >= appends && steps <= appends + 2, `sample ${i} gave way ${steps} times`);
      before = after;
      beforeTruncated = history.read(truncating());
    }
  });

  test('reads the same as a history recorded at once, and keeps the order of the calls', async () => {
    const table = new MetricTable([family]);
    const options = { retentionMs: 3_600_000, maxBytes: 64 << 20, chunkSamples: 4 };
    const atOnce = new History(table, options);
    const sliced = new History(table, options);
    const always = { next: () => new Promise<void>((resolve) => setImmediate(resolve)) };
    const all = rows(13);
    for (let i = 0; i < all.length; i++) atOnce.record(sampleOf(table, t0 + i * 1000, all[i]!));
    // Not awaited one by one: each waits for the one before.
    const seqs = await Promise.all(all.map((row, i) => sliced.recordSliced(sampleOf(table, t0 + i * 1000, row), always)));
    assert.deepEqual(seqs, all.map((_, i) => i));
    const query = { metrics: [...table.all()], start: 0, end: Infinity };
    assert.deepEqual(sliced.read(query), atOnce.read(query));
    assert.deepEqual(sliced.stats(), atOnce.stats());
  });

  test('record() refuses to run while a sliced record is under way', async () => {
    const table = new MetricTable([family]);
    const history = new History(table, { retentionMs: 3_600_000, maxBytes: 64 << 20 });
    const pending = history.recordSliced(sampleOf(table, t0, rows(1)[0]!), { next: () => new Promise((resolve) => setImmediate(resolve)) });
    assert.throws(() => history.record(sampleOf(table, t0 + 1000, rows(1)[0]!)), /sliced record is under way/);
    assert.equal(await pending, 0);
    assert.equal(history.record(sampleOf(table, t0 + 1000, rows(1)[0]!)), 1);
  });
});
