import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CollectContext } from '../../agent/collectors/types.js';
import { ContainerDiscovery, type Container } from '../../agent/containers/discovery.js';

const HOST = fileURLToPath(new URL('../fixtures/containers-host', import.meta.url));
const ID1 = 'a1'.repeat(32);
const ID2 = 'b2'.repeat(32);
const ID3 = 'c3'.repeat(32);
const ID4 = 'd4'.repeat(32);
const ctx: CollectContext = { wants: () => true, unreadable: (key) => assert.fail(`unexpected unreadable ${key}`) };

describe('container discovery on a constructed host tree (every engine layout)', () => {
  let discovery: ContainerDiscovery;
  let found: Map<string, Container>;

  before(async () => {
    discovery = new ContainerDiscovery({ procfs: `${HOST}/proc`, sysfs: `${HOST}/sys`, root: HOST });
    found = new Map((await discovery.refresh(ctx)).map((c) => [c.id, c]));
  });
  after(() => discovery.close());

  it('finds every container and nothing else', () => {
    assert.deepEqual([...found.keys()].sort(), [
      ID1, ID2, ID3, ID4, 'ctr1', 'nginx.service', 'systemd-nspawn@debian-box.service', 'vigil-x', 'web1',
    ].sort());
  });

  it('containerd CRI: pod/container name and Kubernetes labels from the bundle annotations, QoS from the cgroup', () => {
    const c = found.get(ID1)!;
    assert.equal(c.engine, 'containerd');
    assert.equal(c.name, 'api-7d9f8-xk2lp/api');
    assert.equal(c.pid, 4101);
    assert.equal(c.cgroup, `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b7c3a52_5c1e_4d5f_9a3e_2f1e0d9c8b7a.slice/cri-containerd-${ID1}.scope`);
    assert.deepEqual(c.labels, {
      engine: 'containerd', image: 'registry.example/shop/api:1.4', pod: 'api-7d9f8-xk2lp', namespace: 'shop',
      container: 'api', container_type: 'container', pod_uid: '0b7c3a52-5c1e-4d5f-9a3e-2f1e0d9c8b7a', qos_class: 'burstable',
    });
  });

  it('CRI-O: from userdata/config.json annotations, not the podman store that shares the directory', () => {
    const c = found.get(ID2)!;
    assert.equal(c.engine, 'crio');
    assert.equal(c.name, 'worker-5f6c9/worker');
    assert.equal(c.hostname, 'worker-5f6c9');
    assert.equal(c.labels.qos_class, 'besteffort');
    assert.equal(c.labels.namespace, 'batch');
    assert.equal(c.labels.image, 'registry.example/jobs/worker:2');
  });

  it('docker down: id for a name, engine and hostname from its containerd task', () => {
    const c = found.get(ID3)!;
    assert.equal(c.engine, 'docker');
    assert.equal(c.name, ID3);
    assert.equal(c.hostname, 'cache01');
    assert.equal(c.cgroup, `/system.slice/docker-${ID3}.scope`);
    assert.equal(c.running, true);
  });

  it('podman without its API: name and image from the store', () => {
    const c = found.get(ID4)!;
    assert.equal(c.engine, 'podman');
    assert.equal(c.name, 'redis-dev');
    assert.equal(c.labels.image, 'docker.io/library/redis:7');
    assert.equal(c.pid, 4401);
  });

  it('runc and crun: by state file, cgroup from the init process, names from bundle annotations', () => {
    const runc = found.get('vigil-x')!;
    assert.equal(runc.engine, 'runc');
    assert.equal(runc.pid, 4801);
    assert.equal(runc.cgroup, '/runc-test/vigil-x');
    assert.equal(runc.hostname, 'runc-box');
    assert.equal(runc.name, 'batch-job/loader');
    const crun = found.get('ctr1')!;
    assert.equal(crun.engine, 'crun');
    assert.equal(crun.cgroup, '/crun-test/ctr1');
    assert.equal(crun.hostname, 'crun-box');
  });

  it('LXC, nspawn and systemd services by cgroup name alone', () => {
    assert.equal(found.get('web1')?.engine, 'lxc');
    assert.equal(found.get('web1')?.cgroup, '/lxc.payload.web1');
    const nspawn = found.get('systemd-nspawn@debian-box.service')!;
    assert.equal(nspawn.engine, 'nspawn');
    assert.equal(nspawn.name, 'debian-box');
    assert.equal(nspawn.cgroup, '/machine.slice/systemd-nspawn@debian-box.service');
    assert.equal(found.get('nginx.service')?.engine, 'systemd');
  });

  it('finds by name, id and unique id prefix', () => {
    assert.equal(discovery.find('redis-dev')?.id, ID4);
    assert.equal(discovery.find(ID1)?.id, ID1);
    assert.equal(discovery.find(ID3.slice(0, 12))?.id, ID3);
    assert.equal(discovery.find(ID3.slice(0, 11)), undefined, 'a prefix shorter than 12 does not match');
    assert.equal(discovery.find('nosuch'), undefined);
  });
});

describe('engine state directories are listed again when their mtime moves', () => {
  it('sees a runc container that appears after a pass, and forgets it when its directory goes', async (t) => {
    const host = mkdtempSync(join(tmpdir(), 'vigil-test-discovery-'));
    t.after(() => rmSync(host, { recursive: true, force: true }));
    cpSync(HOST, host, { recursive: true });
    const runc = join(host, 'run/runc');
    const discovery = new ContainerDiscovery({ procfs: `${host}/proc`, sysfs: `${host}/sys`, root: host });
    t.after(() => discovery.close());
    const ids = async (): Promise<string[]> => (await discovery.refresh(ctx)).map((c) => c.id).filter((id) => id.startsWith('vigil-'));
    // An old mtime: the listing of this pass is reused while the directory keeps it.
    const old = new Date(Date.now() - 60_000);
    utimesSync(runc, old, old);
    assert.deepEqual(await ids(), ['vigil-x']);

    mkdirSync(join(runc, 'vigil-y'));
    writeFileSync(join(runc, 'vigil-y/state.json'), readFileSync(join(runc, 'vigil-x/state.json'), 'utf8').replaceAll('vigil-x', 'vigil-y'));
    utimesSync(runc, old, old);
    assert.deepEqual(await ids(), ['vigil-x'], 'same mtime: the earlier listing is reused');
    utimesSync(runc, new Date(), new Date());
    assert.deepEqual((await ids()).sort(), ['vigil-x', 'vigil-y'], 'the mtime moved: listed again');
    rmSync(join(runc, 'vigil-y'), { recursive: true });
    assert.deepEqual(await ids(), ['vigil-x']);
    // An engine that is not installed is no error.
    rmSync(runc, { recursive: true });
    assert.deepEqual(await ids(), []);
  });
});
