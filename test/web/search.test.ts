import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { MetricMeta } from '../../web/src/data/host-data.js';
import { searchMetrics } from '../../web/src/data/search.js';

/** PCP's own metadata for this host: 3000+ metrics with their one-line help. */
const metas: MetricMeta[] = readFileSync(new URL('../fixtures/pcp/all-metrics-desc.tsv', import.meta.url), 'utf8')
  .trim().split('\n').slice(1).map((line) => {
    const [name, pmid, indom, type, sem, units, , oneline] = line.split('\t') as string[];
    return { name: name!, pmid: pmid!, indom: indom === 'PM_INDOM_NULL' ? null : indom!, type: type!, sem: sem!, units: units!, oneline: oneline ?? '', help: oneline ?? '' };
  });

test('metrics are found by words of their help text, names first', () => {
  assert.ok(metas.length > 1000);
  assert.equal(searchMetrics(metas, 'run queues')[0]?.name, 'kernel.all.runnable');
  const memoryLimit = searchMetrics(metas, 'cgroup memory limit').map((m) => m.name);
  assert.ok(memoryLimit.includes('cgroup.memory.limit'), memoryLimit.join());
  // A word in the name ranks above the same word only in help text.
  const retrans = searchMetrics(metas, 'retrans');
  assert.ok(retrans.every((m, i) => i === 0 || !m.name.includes('retrans') || retrans[i - 1]!.name.includes('retrans')));
  assert.deepEqual(searchMetrics(metas, ''), []);
  assert.deepEqual(searchMetrics(metas, 'zzzz-no-such-word'), []);
  assert.equal(searchMetrics(metas, 'cgroup', 10).length, 10);
});
