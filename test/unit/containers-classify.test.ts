import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyCgroup, type CgroupContainer } from '../../agent/parsers/container-cgroup.js';

const ID = '4f1b9c0e2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
const UID = '0b7c3a52-5c1e-4d5f-9a3e-2f1e0d9c8b7a';
const UID_ = UID.replaceAll('-', '_');

/**
 * Every cgroup path form the engines use, as documented by each (docker's cgroupfs and systemd
 * drivers, podman, containerd's and CRI-O's Kubernetes layouts with both kubelet cgroup drivers,
 * LXC 2–4, systemd-machined, plain services), and paths that are not containers.
 */
const CASES: ReadonlyArray<readonly [string, CgroupContainer | undefined]> = [
  // Docker
  [`/docker/${ID}`, { engine: 'docker', id: ID }],
  [`/system.slice/docker-${ID}.scope`, { engine: 'docker', id: ID }],
  [`/docker/${ID}/docker/${ID.replace('4f', '5e')}`, { engine: 'docker', id: ID.replace('4f', '5e') }], // docker-in-docker
  ['/docker', undefined],
  // podman
  [`/machine.slice/libpod-${ID}.scope`, { engine: 'podman', id: ID }],
  [`/libpod_parent/libpod-${ID}`, { engine: 'podman', id: ID }],
  [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, { engine: 'podman', id: ID }],
  [`/machine.slice/libpod-conmon-${ID}.scope`, undefined],
  // containerd and CRI-O under Kubernetes, systemd cgroup driver, each QoS class
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`,
    { engine: 'containerd', id: ID, pod: { uid: UID, qos: 'burstable' } }],
  [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-${ID}.scope`,
    { engine: 'crio', id: ID, pod: { uid: UID, qos: 'besteffort' } }],
  [`/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`,
    { engine: 'containerd', id: ID, pod: { uid: UID, qos: 'guaranteed' } }],
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${ID}.scope`, undefined],
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice`, undefined],
  // Kubernetes, cgroupfs driver: the runtime is not in the path
  [`/kubepods/burstable/pod${UID}/${ID}`, { engine: 'kubernetes', id: ID, pod: { uid: UID, qos: 'burstable' } }],
  [`/kubepods/besteffort/pod${UID}/${ID}`, { engine: 'kubernetes', id: ID, pod: { uid: UID, qos: 'besteffort' } }],
  [`/kubepods/pod${UID}/${ID}`, { engine: 'kubernetes', id: ID, pod: { uid: UID, qos: 'guaranteed' } }],
  [`/kubepods/burstable/pod${UID}`, undefined],
  ['/kubepods/burstable', undefined],
  // Standalone containerd (`ctr run`), runc with a custom cgroupsPath: an id-shaped leaf, engine unknown
  [`/default/${ID}`, { engine: 'unknown', id: ID }],
  // LXC: v1 layout, LXC 3 and LXC 4
  ['/lxc/web1', { engine: 'lxc', id: 'web1', name: 'web1' }],
  ['/lxc.payload/web1', { engine: 'lxc', id: 'web1', name: 'web1' }],
  ['/lxc.payload.web1', { engine: 'lxc', id: 'web1', name: 'web1' }],
  ['/lxc.monitor.web1', undefined],
  ['/lxc/web1/init.scope', undefined],
  // systemd-machined: nspawn containers and libvirt VMs, names unescaped
  ['/machine.slice/systemd-nspawn@debian\\x2dbox.service', { engine: 'nspawn', id: 'systemd-nspawn@debian\\x2dbox.service', name: 'debian-box' }],
  ['/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope', { engine: 'machine', id: 'machine-qemu\\x2d1\\x2dvm1.scope', name: 'qemu-1-vm1' }],
  ['/machine.slice/machine-qemu-1-vm1.scope', { engine: 'machine', id: 'machine-qemu-1-vm1.scope', name: 'qemu-1-vm1' }], // already decoded, as cgroup.* names are
  ['/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/vcpu0', undefined],
  // systemd services
  ['/system.slice/nginx.service', { engine: 'systemd', id: 'nginx.service', name: 'nginx.service' }],
  ['/system.slice/system-getty.slice/getty@tty1.service', undefined],
  ['/system.slice', undefined],
  ['/user.slice/user-0.slice/session-1.scope', undefined],
  // neither
  ['/', undefined],
  ['', undefined],
  ['/vigil-test-1-abc/worker', undefined],
  [`/docker/${ID.slice(0, 63)}`, undefined],
  [`/docker/${ID.toUpperCase()}`, undefined],
];

describe('classifyCgroup', () => {
  for (const [path, expected] of CASES) {
    it(`${path || '(empty)'} → ${expected ? `${expected.engine} ${expected.name ?? expected.id.slice(0, 12)}` : 'not a container'}`, () => {
      assert.deepEqual(classifyCgroup(path), expected);
    });
  }
});
