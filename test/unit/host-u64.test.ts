import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { valueJson } from '../../agent/api/json.js';
import { createCollectors } from '../../agent/collectors/index.js';
import { MetricTable } from '../../agent/metrics/table.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/host-vm', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), `vigil-test-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 2^53 + 1, the first integer a double cannot hold, and a counter near 2^64. */
const PAST_DOUBLE = 9007199254740993n;
const NEAR_U64_MAX = 18446744073709551557n;

/** The JSON text the API would print for a metric's value after one pass over the tree. */
async function printed(collector: string, metric: string, instance?: string): Promise<string> {
  const [c] = createCollectors({ procfs: join(dir, 'proc'), sysfs: join(dir, 'sys'), root: dir }, [collector]);
  const table = new MetricTable([c!.family]);
  const sample = new Sample(Date.now());
  const buffer = new CollectorBuffer(table, sample.time);
  await c!.collect(buffer, { wants: () => true, unreadable: () => {} });
  buffer.mergeInto(sample);
  const desc = table.metric(metric)!;
  const id = instance === undefined ? -1 : table.indom(desc.indom!)!.idOf(instance, sample.time);
  const value = sample.get(metric)?.get(id);
  assert.notEqual(value, undefined, `${metric} ${instance ?? ''} has a value`);
  return valueJson(desc.type, value!);
}

test('counters past 2^53 reach the JSON text digit for digit', async () => {
  cpSync(FIXTURE, dir, { recursive: true });
  const netdev = readFileSync(join(dir, 'proc/net/dev'), 'utf8');
  writeFileSync(join(dir, 'proc/net/dev'), netdev.replace(/^(\s*eth0:\s*)\d+/m, `$1${PAST_DOUBLE}`));
  const diskstats = readFileSync(join(dir, 'proc/diskstats'), 'utf8');
  writeFileSync(join(dir, 'proc/diskstats'), diskstats.replace(/^(\s*254\s+0 vda \d+ \d+ )\d+/m, `$1${NEAR_U64_MAX}`));
  const vmstat = readFileSync(join(dir, 'proc/vmstat'), 'utf8');
  writeFileSync(join(dir, 'proc/vmstat'), vmstat.replace(/^pgfault \d+$/m, `pgfault ${NEAR_U64_MAX}`));

  assert.equal(await printed('network', 'network.interface.in.bytes', 'eth0'), PAST_DOUBLE.toString());
  assert.equal(await printed('network', 'network.all.in.bytes'), PAST_DOUBLE.toString());
  assert.equal(await printed('disk', 'disk.dev.blkread', 'vda'), NEAR_U64_MAX.toString());
  assert.equal(await printed('disk', 'disk.dev.read_bytes', 'vda'), (NEAR_U64_MAX / 2n).toString());
  assert.equal(await printed('vmstat', 'mem.vmstat.pgfault'), NEAR_U64_MAX.toString());
  // Number() would have printed 9007199254740992 and 18446744073709552000.
  assert.notEqual(String(Number(PAST_DOUBLE)), PAST_DOUBLE.toString());
});

test('Tcp MaxConn -1 of the real fixture is PCP\'s 2^64 - 1, exactly', async () => {
  cpSync(FIXTURE, dir, { recursive: true });
  assert.match(readFileSync(join(dir, 'proc/net/snmp'), 'utf8'), /^Tcp: 1 200 120000 -1 /m);
  assert.equal(await printed('network', 'network.tcp.maxconn'), '18446744073709551615');
});
