import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatG, timestampJson, valueJson } from '../../agent/api/json.js';
import { InstanceAllocator } from '../../agent/metrics/instances.js';
import { indomFromNumber, indomToNumber, parseIndom, parsePmid, pmidFromNumber, pmidToNumber } from '../../agent/metrics/pmid.js';
import { MetricTable, type MetricFamily } from '../../agent/metrics/table.js';
import { Sampler, selfFamily } from '../../agent/sampler.js';
import { setLogSink } from '../../agent/log.js';
import type { Collector } from '../../agent/collectors/types.js';
import { Demand } from '../../agent/demand.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';

const family: MetricFamily = {
  indoms: [{ indom: '500.99', oneline: 'things', fixed: [[7, 'seven']] }],
  metrics: [
    { name: 'test.a.one', pmid: '500.99.0', type: 'u64', sem: 'counter', units: 'nanosec', indom: '500.99', oneline: 'one' },
    { name: 'test.a.two', pmid: '500.99.1', type: 'float', sem: 'instant', units: 'none', indom: null, oneline: 'two' },
    { name: 'test.b', pmid: '500.99.2', type: 'string', sem: 'discrete', units: 'none', indom: null, oneline: 'b' },
  ],
};

test('pmids and indoms convert between dotted and numeric forms as PCP packs them', () => {
  assert.equal(pmidToNumber('60.2.0'), 251660288);
  assert.equal(pmidToNumber('60.0.32'), 251658272);
  assert.equal(pmidFromNumber(251660288), '60.2.0');
  assert.equal(indomToNumber('60.2'), 251658242);
  assert.equal(indomFromNumber(251658242), '60.2');
  assert.equal(parsePmid('0xF000020'), '60.0.32');
  assert.equal(parsePmid('251658272'), '60.0.32');
  assert.equal(parsePmid('60.0.32'), '60.0.32');
  assert.equal(parsePmid('60.0'), undefined);
  assert.equal(parsePmid('600.0.1'), undefined);
  assert.equal(parsePmid('junk'), undefined);
  assert.equal(parseIndom('60.2'), '60.2');
  assert.equal(parseIndom('251658242'), '60.2');
  assert.equal(parseIndom('junk'), undefined);
});

test('the table walks the PMNS in declaration order and refuses clashes', () => {
  const table = new MetricTable([family]);
  assert.deepEqual(table.traverse('test').map((m) => m.name), ['test.a.one', 'test.a.two', 'test.b']);
  assert.deepEqual(table.traverse('test.a.two').map((m) => m.name), ['test.a.two']);
  assert.deepEqual(table.traverse('test.nope'), []);
  assert.deepEqual(table.children('test'), { leaf: ['b'], nonleaf: ['a'] });
  assert.deepEqual(table.children('test.b'), { leaf: [], nonleaf: [] });
  assert.equal(table.children('nope'), undefined);
  assert.equal(table.metricByPmid('500.99.1')?.name, 'test.a.two');
  assert.throws(() => table.add({ metrics: [{ ...family.metrics[0]!, name: 'test.c' }] }), /pmid 500.99.0 .* already belongs to test.a.one/);
  assert.throws(() => table.add({ metrics: [{ ...family.metrics[1]!, pmid: '500.99.9', indom: '1.234' }] }), /declared twice|undeclared indom/);
});

test('instance ids are never given to another name, even after a name is forgotten', () => {
  const allocator = new InstanceAllocator();
  const a = allocator.idOf('/a', 0);
  const b = allocator.idOf('/b', 0);
  assert.notEqual(a, b);
  assert.equal(allocator.idOf('/a', 5), a);
  allocator.forgetOlderThan(3); // /b unseen since 0: forgotten
  assert.equal(allocator.size, 1);
  const c = allocator.idOf('/c', 6);
  const b2 = allocator.idOf('/b', 6);
  assert.ok(![a, b].includes(c), 'a new name gets a new id');
  assert.ok(![a, b, c].includes(b2), 'a returning name gets a fresh id, never a reused one');
});

test('u64 values stay exact from collector to JSON text; floats print like pmproxy', () => {
  assert.equal(valueJson('u64', 18446744073709551615n), '18446744073709551615');
  assert.equal(valueJson('u64', 9007199254740993n), '9007199254740993');
  assert.equal(valueJson('float', 0.6), '0.60000002');
  assert.equal(valueJson('float', 0.39), '0.38999999');
  assert.equal(valueJson('double', 0.009887401138780439), '0.009887401138780439');
  assert.equal(valueJson('string', 'we"ird'), '"we\\"ird"');
  assert.equal(formatG(123456789, 8), '1.2345679e+08');
  assert.equal(formatG(9.999999999, 8), '10');
  assert.equal(formatG(1e-5, 16), '1e-05');
  assert.equal(timestampJson(1795759297029.218), '1795759297.029218000');
});

test('a failing or overrunning collector loses only its own values', async () => {
  const lines: string[] = [];
  setLogSink((line) => lines.push(line));
  let calls = 0;
  const good: Collector = {
    name: 'good', family,
    collect(out) {
      out.put('test.a.one', 2n ** 60n + 1n, 'seven');
      out.put('test.a.one', 5n, 'other');
      out.put('test.b', 'hello');
    },
  };
  const bad: Collector = {
    name: 'bad', family: { metrics: [] },
    collect(out) {
      calls++;
      out.put('test.a.two', 1.5); // written, then the collector fails: must not land
      throw new Error('boom');
    },
  };
  const slow: Collector = {
    name: 'slow', family: { metrics: [] },
    collect: () => new Promise((resolve) => setTimeout(resolve, 400)),
  };
  const table = new MetricTable([selfFamily, family]);
  const sampler = new Sampler(table, [good, bad, slow], 100, { collectorDeadlineMs: 90 });
  try {
    const sample = await sampler.sampleNow();
    const one = sample.get('test.a.one')!;
    assert.equal(one.get(7), 2n ** 60n + 1n, 'fixed instance id from the indom');
    assert.equal(sample.instanceName('500.99', 7), 'seven');
    assert.equal(sample.get('test.b')?.get(-1), 'hello');
    assert.equal(sample.get('test.a.two'), undefined, 'a failed collector leaves nothing behind');
    const errors = sample.get('vigil.collector.errors')!;
    const byName = new Map([...errors].map(([id, v]) => [sample.instanceName('500.0', id), v]));
    assert.deepEqual(byName, new Map([['good', 0n], ['bad', 1n], ['slow', 1n]]));
    await sampler.sampleNow(); // failures logged once, not per pass
    assert.equal(calls, 2);
    assert.equal(lines.filter((l) => l.includes('collector=bad')).length, 1, lines.join('\n'));
  } finally {
    setLogSink((line) => process.stderr.write(line + '\n'));
  }
});

test('writing an undeclared metric or a wrong type is a programming error', async () => {
  const table = new MetricTable([selfFamily, family]);
  const wrong: Collector = { name: 'wrong', family: { metrics: [] }, collect: (out) => out.put('test.a.one', 1.5, 'x') };
  const sampler = new Sampler(table, [wrong], 100);
  setLogSink(() => {});
  try {
    const sample = await sampler.sampleNow();
    assert.equal(sample.get('test.a.one'), undefined);
  } finally {
    setLogSink((line) => process.stderr.write(line + '\n'));
  }
});

test('a put names the same instance through domains that share an allocator, and not through one with fixed ids', () => {
  const shared: MetricFamily = {
    indoms: [
      { indom: '500.97', oneline: 'cgroups, cpu', allocator: 'paths' },
      { indom: '500.98', oneline: 'cgroups, memory', allocator: 'paths' },
    ],
    metrics: [
      { name: 'test.c.cpu', pmid: '500.97.0', type: 'u64', sem: 'counter', units: 'nanosec', indom: '500.97', oneline: 'cpu' },
      { name: 'test.c.mem', pmid: '500.98.0', type: 'u64', sem: 'instant', units: 'byte', indom: '500.98', oneline: 'mem' },
    ],
  };
  const table = new MetricTable([family, shared]);
  const buffer = new CollectorBuffer(table, 0);
  buffer.put('test.c.cpu', 1n, 'seven');
  buffer.put('test.c.mem', 2n, 'seven');
  buffer.put('test.a.one', 3n, 'seven'); // same name, but 500.99 fixes 'seven' as 7
  buffer.put('test.c.cpu', 4n, '/other');
  const sample = new Sample(0);
  buffer.mergeInto(sample);
  const [cpuId] = [...sample.get('test.c.cpu')!.keys()];
  assert.notEqual(cpuId, 7);
  assert.deepEqual([...sample.get('test.c.mem')!], [[cpuId, 2n]], 'one allocator, one id for a name');
  assert.deepEqual([...sample.get('test.a.one')!], [[7, 3n]]);
  assert.equal(sample.instanceName('500.98', cpuId!), 'seven');
  assert.equal(sample.instanceName('500.99', 7), 'seven');
  assert.equal(sample.get('test.c.cpu')!.size, 2);
});

test('the sampler keeps only wanted metrics, and what it keeps follows the demand', async () => {
  const collector: Collector = {
    name: 'things', family,
    collect(out) {
      out.put('test.a.one', 1n, 'seven');
      out.put('test.b', 'hello');
    },
  };
  const table = new MetricTable([selfFamily, family]);
  const demand = new Demand(table, { all: false, kept: ['vigil', 'test.b'] });
  const sampler = new Sampler(table, [collector], 100, { demand });
  const first = await sampler.sampleNow();
  assert.equal(first.get('test.a.one'), undefined, 'unwanted values are dropped');
  assert.equal(first.get('test.b')?.get(-1), 'hello');
  demand.hold({}, ['test.a']);
  const second = await sampler.sampleNow();
  assert.equal(second.get('test.a.one')?.get(7), 1n, 'newly wanted values are kept from the next pass');
});
