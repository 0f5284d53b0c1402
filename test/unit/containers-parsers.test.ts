import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDockerEvent, parseDockerInspect, parseDockerList } from '../../agent/parsers/docker.js';
import { kubernetesOf, parseCrunStatus, parseOciConfig, parsePodmanStore, parseRuncState } from '../../agent/parsers/oci.js';
import {
  cgroupsString, parseCmdline, parseProcCgroup, parseProcStat, parseProcStatus, procInstanceName,
} from '../../agent/parsers/proc-pid.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const ID = 'f5acc8dbe355d07fa8f486f4d0bdb82af8267f87773b9425ff7f43331481f989';

describe('Docker Engine API answers (real, docker 20.10)', () => {
  it('/containers/json: id, name without slash, image, labels, state word', () => {
    const [c, ...rest] = parseDockerList(fixture('containers-docker/containers-json.json'));
    assert.equal(rest.length, 0);
    assert.deepEqual(c, {
      id: ID, name: 'vigil-test-probe3761-c1', image: 'vigil-test-probe3761/busybox:latest',
      labels: { 'io.kubernetes.pod.name': 'pod1' }, state: { running: true, paused: false, restarting: false },
    });
  });

  it('/containers/<id>/json: adds the init pid and the configured hostname', () => {
    const c = parseDockerInspect(fixture('containers-docker/container-inspect.json'));
    assert.equal(c.id, ID);
    assert.equal(c.name, 'vigil-test-probe3761-c1');
    assert.equal(c.pid, 9646);
    assert.equal(c.hostname, 'myhost');
    assert.deepEqual(c.state, { running: true, paused: false, restarting: false });
  });

  it('/events: every line is a container event with its id and action', () => {
    const events = fixture('containers-docker/events.jsonl').trim().split('\n').map(parseDockerEvent);
    assert.deepEqual(events.map((e) => e?.action), ['create', 'start', 'kill', 'kill', 'die', 'stop', 'destroy']);
    assert.ok(events.every((e) => e?.id === events[0]!.id && /^[0-9a-f]{64}$/.test(e.id)));
    assert.equal(parseDockerEvent('{"Type":"network","Action":"connect","Actor":{"ID":"x"}}'), undefined);
  });
});

describe('OCI runtime state', () => {
  it('runc state.json (real): id, init pid, hostname, bundle', () => {
    assert.deepEqual(parseRuncState(fixture('containers-docker/runc-state.json')), {
      id: ID, pid: 9646, hostname: 'myhost',
      bundle: `/run/vigil-test-probe3761/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/${ID}`,
    });
  });

  it('bundle config.json (real): hostname and cgroupsPath, no annotations from docker', () => {
    assert.deepEqual(parseOciConfig(fixture('containers-docker/oci-config.json')), {
      hostname: 'myhost', cgroupsPath: `/vigil-test-probe3761/${ID}`, annotations: {},
    });
  });

  it('crun status and podman containers.json (constructed, see containers-host/SOURCE.md)', () => {
    assert.deepEqual(parseCrunStatus('ctr1', fixture('containers-host/run/crun/ctr1/status')), { id: 'ctr1', pid: 4901, bundle: '/bundles/ctr1' });
    const store = parsePodmanStore(fixture('containers-host/var/lib/containers/storage/overlay-containers/containers.json'));
    assert.deepEqual(store[0], { id: 'd4'.repeat(32), name: 'redis-dev', image: 'docker.io/library/redis:7' });
    assert.equal(store[1]!.image, '', 'metadata without image-name');
  });

  it('Kubernetes identity from containerd CRI annotations, CRI-O annotations and dockershim labels alike', () => {
    assert.deepEqual(kubernetesOf({
      'io.kubernetes.cri.sandbox-name': 'p', 'io.kubernetes.cri.sandbox-namespace': 'ns', 'io.kubernetes.cri.container-name': 'c',
      'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.image-name': 'img',
    }), { pod: 'p', namespace: 'ns', container: 'c', type: 'sandbox', image: 'img' });
    assert.deepEqual(kubernetesOf({
      'io.kubernetes.pod.name': 'p', 'io.kubernetes.pod.namespace': 'ns', 'io.kubernetes.container.name': 'POD',
      'io.kubernetes.docker.type': 'podsandbox', 'io.kubernetes.pod.uid': 'u',
    }), { pod: 'p', namespace: 'ns', container: 'POD', podUid: 'u', type: 'sandbox' });
    assert.deepEqual(kubernetesOf({ 'org.opencontainers.image.title': 'x' }), {});
  });
});

describe('/proc/<pid> files (real)', () => {
  it('stat: a command with spaces and parentheses, times in ms', () => {
    const stat = parseProcStat(fixture('containers-proc/weird/stat'));
    assert.equal(stat.pid, 23954);
    assert.equal(stat.comm, 'we (ird) x');
    assert.equal(stat.state, 'S');
    assert.equal(stat.ppid, 1);
    assert.equal(stat.threads, 1);
    assert.equal(stat.startMs, 141817n * 10n);
    assert.equal(stat.nice, 0);
    assert.equal(stat.priority, 20);
  });

  it('cmdline → psargs, and PCP instance names', () => {
    const psargs = parseCmdline(fixture('containers-proc/weird/cmdline'), 'we (ird) x');
    assert.equal(psargs, '/tmp/we (ird) x -c sleep 300; : arg two');
    assert.equal(procInstanceName(23954, psargs), '023954 /tmp/we');
    assert.equal(parseCmdline(fixture('containers-proc/kthread/cmdline'), 'kthreadd'), '(kthreadd)');
    assert.equal(procInstanceName(2, '(kthreadd)'), '000002 (kthreadd)');
    assert.equal(procInstanceName(4194303, 'x'), '4194303 x');
  });

  it('status: uid, threads, memory; kernel threads have no memory lines; NSpid in a pid namespace', () => {
    assert.deepEqual(parseProcStatus(fixture('containers-proc/weird/status')), { uid: 0, nspid: [23954], threads: 1, vmRssKb: 1700, vmSizeKb: 2592 });
    const kthread = parseProcStatus(fixture('containers-proc/kthread/status'));
    assert.equal(kthread.vmRssKb, undefined);
    assert.deepEqual(parseProcStatus(fixture('containers-proc/nspid/status')).nspid, [24071, 1]);
  });

  it('cgroup → PCP proc.psinfo.cgroups, in file order', () => {
    const cgroups = parseProcCgroup(fixture('containers-proc/weird/cgroup'));
    assert.deepEqual(cgroups[0], { hierarchy: 9, controllers: 'name=systemd', path: '/' });
    assert.deepEqual(cgroups.at(-1), { hierarchy: 0, controllers: '', path: '/' });
    assert.equal(cgroupsString(cgroups),
      'name=systemd:/;pids:/;blkio:/;freezer:/;devices:/;memory:/process_api/443722cecfbcdcb425a0c30ce2f2bdcd;cpuset:/;cpuacct:/;cpu:/;:/');
  });
});
