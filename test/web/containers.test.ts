import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupFamily } from '../../agent/metrics/cgroup.js';
import { containerNetworkFamily, containersFamily } from '../../agent/metrics/containers.js';
import { cpuFamily } from '../../agent/metrics/cpu.js';
import { memFamily } from '../../agent/metrics/mem.js';
import { ResourceReader, carryOver, containerRows, cpuLimit, cpusetSize, filterRows, memoryLimit, refreshRow, resourceTerms, sortRows } from '../../web/src/data/containers.js';
import { Catalog, HostData, SINGULAR, type MetricMeta } from '../../web/src/data/host-data.js';
import type { RawValue } from '../../web/src/data/rate.js';

/** The agent's own metric descriptors, as the stream sends them. */
function catalog(): Catalog {
  const c = new Catalog();
  for (const family of [cgroupFamily, containersFamily, containerNetworkFamily, cpuFamily, memFamily]) {
    c.setMeta(family.metrics.map((d): MetricMeta => ({ ...d, help: d.help ?? d.oneline })));
  }
  return c;
}

const WEB = '/system.slice/docker-0123456789ab.scope';
const DB = '/kubepods/burstable/pod42/ffeeddccbbaa';

/** Two samples one second apart of a host with two containers and a plain cgroup. */
function host(): HostData {
  const c = catalog();
  const indomOf = (m: string): string => c.meta.get(m)!.indom!;
  const ids = new Map<string, number>();
  const id = (indom: string, name: string): number => {
    const key = `${indom}|${name}`;
    if (!ids.has(key)) ids.set(key, ids.size + 1);
    c.setNames(indom, [[ids.get(key)!, name]]);
    return ids.get(key)!;
  };
  const s = new HostData(c, { capacity: 10 });
  const columns: Array<{ metric: string; instance: number; values: RawValue[] }> = [];
  const put = (metric: string, instance: string | null, values: RawValue[]): void => {
    columns.push({ metric, instance: instance === null ? SINGULAR : id(indomOf(metric), instance), values });
  };
  put('hinv.ncpu', null, [8, 8]);
  put('mem.physmem', null, ['16384000', '16384000']);
  put('containers.name', 'web0123', ['web', 'web']);
  put('containers.cgroup', 'web0123', [WEB, WEB]);
  put('containers.engine', 'web0123', ['docker', 'docker']);
  put('containers.state.running', 'web0123', [1, 1]);
  put('containers.name', 'db4567', ['db', 'db']);
  put('containers.cgroup', 'db4567', [DB, DB]);
  put('containers.engine', 'db4567', ['containerd', 'containerd']);
  put('containers.state.running', 'db4567', [1, 1]);
  // Stopped: the engine still lists it, with no cgroup.
  put('containers.name', 'old999', ['old', 'old']);
  put('containers.cgroup', 'old999', ['', '']);
  put('containers.engine', 'old999', ['docker', 'docker']);
  put('containers.state.running', 'old999', [0, 0]);
  for (const [cgroup, usage, quota] of [[WEB, 1.5e9, 200000], [DB, 0.25e9, -1], ['/system.slice/sshd.service', 0.01e9, -1]] as const) {
    put('cgroup.cpuacct.usage', cgroup, ['1000000000000', String(1e12 + usage)]);
    put('cgroup.cpusched.cfs_quota', cgroup, [String(quota), String(quota)]);
    put('cgroup.cpusched.cfs_period', cgroup, ['100000', '100000']);
    put('cgroup.cpusched.periods', cgroup, ['100', '110']);
    put('cgroup.cpusched.throttled', cgroup, ['10', cgroup === WEB ? '15' : '10']);
    put('cgroup.memory.usage', cgroup, ['300000000', '300000000']);
    put('cgroup.memory.working_set', cgroup, ['200000000', '200000000']);
    put('cgroup.memory.max', cgroup, [cgroup === DB ? '536870912' : '9223372036854771712', cgroup === DB ? '536870912' : '9223372036854771712']);
    put('cgroup.memory.events.oom_kill', cgroup, ['0', cgroup === DB ? '2' : '0']);
  }
  // Per-device I/O of the db container on two disks; network of web on eth0 and lo.
  put('cgroup.io.stat.rbytes', `${DB}::sda`, ['0', '1000']);
  put('cgroup.io.stat.rbytes', `${DB}::sdb`, ['0', '24']);
  put('containers.network.interface.in.bytes', 'web0123::eth0', ['0', '4096']);
  put('containers.network.interface.in.bytes', 'web0123::lo', ['0', '999999']);
  s.backfill([1000, 2000], columns);
  return s;
}

test('a row in view reads the newest sample again, with the host\'s reused reader', () => {
  const source = host();
  const reader = new ResourceReader(source);
  const fresh = containerRows(source, 'http://h:44322', 'h', true, reader);
  // Values as an older sample left them: refreshRow must replace every one of them.
  const stale = fresh.map((r) => ({ ...r, cpu: 0, throttled: 0, memory: 0, oomKills: 0, readBps: 0, rxBps: 0 }));
  for (const row of stale) refreshRow(source, reader, row);
  // Each refresh moves the row's version: that is what makes the table render it again.
  assert.deepEqual(stale.map((r) => r.version), fresh.map(() => 1));
  assert.deepEqual(stale.map((r) => ({ ...r, version: 0 })), fresh);
  assert.ok(fresh.some((r) => r.rxBps > 0) && fresh.some((r) => r.readBps > 0) && fresh.some((r) => r.oomKills > 0), 'the fixture has values to restore');
});

test('rows made again keep their objects while the host lists the same rows', () => {
  const source = host();
  const reader = new ResourceReader(source);
  const shown = containerRows(source, 'http://h:44322', 'h', true, reader).map((r) => ({ ...r, cpu: 0, readBps: 0 }));
  const fresh = containerRows(source, 'http://h:44322', 'h', true, reader);
  const objects = [...shown];
  const kept = carryOver(shown, fresh);
  assert.equal(kept, shown, 'the same array: the view keeps its order and filter');
  assert.ok(kept.every((r, i) => r === objects[i]), 'the same row objects');
  assert.deepEqual(kept.map((r) => ({ ...r, version: 0 })), fresh, 'with the new values');
  assert.ok(kept.every((r) => r.version === 1), 'each version moved, so the table renders it again');
  assert.ok(fresh.some((r) => r.cpu > 0) && fresh.some((r) => r.readBps > 0), 'the fixture has values to carry over');
  // Another row set, or a row that is another container now: the new rows.
  const gone = fresh.slice(1);
  assert.equal(carryOver(kept, gone), gone);
  const renamed = fresh.map((r, i) => (i === 0 ? { ...r, name: 'renamed' } : r));
  assert.equal(carryOver(kept, renamed), renamed);
  assert.equal(kept[0]!.name, fresh[0]!.name, 'a row set not carried over is left as it was');
});

test('containers join their cgroup metrics through containers.cgroup', () => {
  const rows = containerRows(host(), 'http://h:44322', 'h', false);
  assert.deepEqual(rows.map((r) => r.name).sort(), ['db', 'old', 'web']);
  const old = rows.find((r) => r.name === 'old')!;
  assert.equal(old.running, false, 'a stopped container is listed, marked stopped');
  assert.ok(Number.isNaN(old.cpu));
  const web = rows.find((r) => r.name === 'web')!;
  assert.equal(web.cgroup, WEB);
  assert.equal(web.engine, 'docker');
  assert.equal(web.cpu, 1.5, 'cores: ns per second ÷ 1e9');
  assert.equal(web.cpuLimit, 2, 'CFS quota 200 ms per 100 ms period');
  assert.equal(web.throttled, 0.5, '5 of 10 periods throttled');
  assert.ok(Number.isNaN(web.memoryLimit), 'v1 "unlimited" is no limit');
  assert.equal(web.rxBps, 4096, 'the container\'s loopback is not its traffic');
  const db = rows.find((r) => r.name === 'db')!;
  assert.ok(Number.isNaN(db.cpuLimit), 'quota -1: unlimited');
  assert.equal(db.memoryLimit, 536870912);
  assert.equal(db.oomKills, 2);
  assert.equal(db.readBps, 1024, 'per-device I/O summed per cgroup');
  assert.equal(db.workingSet, 200000000);
});

test('hosts without engines: every cgroup is a row', () => {
  const rows = containerRows(host(), 'http://h:44322', 'h', true);
  assert.deepEqual(rows.map((r) => `${r.kind} ${r.name}`).sort(), ['cgroup /system.slice/sshd.service', 'container db', 'container old', 'container web']);
});

test('top-N chart terms for a resource, in base units', () => {
  const s = host();
  const web = containerRows(s, 'u', 'h', false).find((r) => r.name === 'web')!;
  const cpu = resourceTerms(s, web, 'cpu')!;
  assert.equal(cpu.length, 1);
  assert.equal(s.current(cpu[0]!.metric, cpu[0]!.instance) * cpu[0]!.factor, 1.5);
  assert.equal(resourceTerms(s, web, 'io'), undefined, 'no I/O metrics for web');
});

test('limits, filter and sort', () => {
  assert.equal(cpusetSize('0-3,8,10-11'), 7);
  assert.equal(cpuLimit(50000, 100000, NaN), 0.5);
  assert.equal(cpuLimit(-1, 100000, 2), 2, 'a cpuset limits too');
  assert.equal(cpuLimit(400000, 100000, 2), 2, 'the smaller of the two');
  assert.ok(Number.isNaN(memoryLimit(9223372036854771712)));
  assert.ok(Number.isNaN(memoryLimit(32 * 2 ** 30, 16 * 2 ** 30)), 'a limit above the host\'s memory is none');
  const rows = containerRows(host(), 'http://h:44322', 'h', true);
  assert.deepEqual(filterRows(rows, 'engine:docker').map((r) => r.name).sort(), ['old', 'web']);
  assert.deepEqual(filterRows(rows, 'kubepods').map((r) => r.name), ['db']);
  assert.deepEqual(filterRows(rows, 'nothing-like-this'), []);
  assert.deepEqual(sortRows(rows, '-cpu').map((r) => r.name), ['web', 'db', '/system.slice/sshd.service', 'old'], 'no data sorts last');
  assert.deepEqual(sortRows(rows, 'name').map((r) => r.name), ['/system.slice/sshd.service', 'db', 'old', 'web']);
  // Rows without a limit sort last whichever way.
  assert.equal(sortRows(rows, '-cpulimit').at(-1)!.name !== 'web', true);
});
