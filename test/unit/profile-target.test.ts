import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseTarget } from '../../agent/api/profiling.js';
import { noContainers } from '../../agent/containers/scope.js';
import { cgroupMounts, parseMountInfo } from '../../agent/parsers/mountinfo.js';
import { parseProcCgroups } from '../../agent/parsers/proc-cgroups.js';
import { explainPerfFailure, explainSpawnFailure } from '../../agent/profile/perf.js';
import { checkCgroupPath, perfHierarchy, resolveTarget, TargetError } from '../../agent/profile/target.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

function mountsOf(tree: string, extraMountinfo = ''): ReturnType<typeof cgroupMounts> {
  const subsystems = new Set(parseProcCgroups(fixture(`${tree}/proc/cgroups`)).map((s) => s.name));
  return cgroupMounts(parseMountInfo(fixture(`${tree}/proc/self/mountinfo`) + extraMountinfo), subsystems);
}

test('cgroup paths from clients must be absolute and canonical, without control characters', () => {
  for (const good of ['/', '/docker/0a1b', '/system.slice/docker-0a1b.scope', '/kubepods/burstable/pod1/x', '/a b']) {
    assert.equal(checkCgroupPath(good), good);
  }
  for (const bad of ['', 'docker/x', '/a/../b', '/..', '/a//b', '/a/./b', '/a/', '/a\nb', '/a\u0000', `/${'x'.repeat(4096)}`]) {
    assert.throws(() => checkCgroupPath(bad), TargetError, JSON.stringify(bad));
  }
});

test('perf filters on the v1 perf_event hierarchy when mounted, else on the unified one', () => {
  assert.equal(perfHierarchy(mountsOf('cgroup-hybrid-vm'))?.mountPoint, '/sys/fs/cgroup/unified');
  assert.equal(perfHierarchy(mountsOf('cgroup-v2-vm'))?.mountPoint, '/sys/fs/cgroup');
  // A v1-only host without perf_event mounted offers perf nothing to filter on.
  assert.equal(perfHierarchy(mountsOf('cgroup-v1-vm')), undefined);
  // Mount a v1 perf_event hierarchy beside the hybrid ones (the line a `mount -t cgroup -o perf_event` adds).
  const perfEvent = '99 31 0:99 / /sys/fs/cgroup/perf_event rw,relatime - cgroup cgroup rw,perf_event\n';
  assert.equal(perfHierarchy(mountsOf('cgroup-hybrid-vm', perfEvent))?.mountPoint, '/sys/fs/cgroup/perf_event');
});

test('targets on this host: the root cgroup is the host; a missing cgroup or container is a 404 that says what to do', () => {
  const roots = { procfs: '/proc', containers: noContainers };
  assert.equal(resolveTarget({ kind: 'host' }, roots).perfCgroup, undefined);
  assert.equal(resolveTarget({ kind: 'cgroup', cgroup: '/' }, roots).description, 'host');
  const missing = `/vigil-test-${process.pid}-missing`;
  assert.throws(() => resolveTarget({ kind: 'cgroup', cgroup: missing }, roots), (e: TargetError) =>
    e instanceof TargetError && e.status === 404 && e.message.includes(missing) && e.message.includes('does not exist'));
  assert.throws(() => resolveTarget({ kind: 'container', container: 'no-such-container' }, roots), (e: TargetError) =>
    e.status === 404 && e.message.includes('containers.name'));
});

test('a request target is "host", {cgroup} or {container}, nothing else', () => {
  assert.deepEqual(parseTarget('host'), { kind: 'host' });
  assert.deepEqual(parseTarget({ cgroup: '/docker/x' }), { kind: 'cgroup', cgroup: '/docker/x' });
  assert.deepEqual(parseTarget({ container: 'web' }), { kind: 'container', container: 'web' });
  for (const bad of [undefined, null, 'all', 5, [], {}, { cgroup: 5 }, { container: '' }, { cgroup: '/x', container: 'y' }]) {
    assert.throws(() => parseTarget(bad), TargetError, JSON.stringify(bad));
  }
});

test('perf failures are explained with the fix: package, capability or sysctl', () => {
  const paranoid = explainPerfFailure(fixture('perf-errors/paranoid-2.txt'), 255);
  assert.match(paranoid, /perf_event_paranoid is 2/);
  assert.match(paranoid, /sysctl -w kernel\.perf_event_paranoid=-1/);
  assert.match(paranoid, /CAP_PERFMON/);
  const cgroup = explainPerfFailure(fixture('perf-errors/no-cgroup.txt'), 129);
  assert.match(cgroup, /cannot open the cgroup \/sys\/fs\/cgroup\/unified\/vigil-no-such-cgroup/);
  const missing = explainSpawnFailure('perf', Object.assign(new Error('spawn perf ENOENT'), { code: 'ENOENT' }));
  assert.match(missing, /not installed/);
  assert.match(missing, /apt-get install linux-perf/);
});
