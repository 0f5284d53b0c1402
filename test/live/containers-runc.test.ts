import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { collectorFactories } from '../../agent/collectors/index.js';
import type { Sample } from '../../agent/store/sample.js';
import { TestCgroup } from '../support/cgroup.js';
import { busyboxRootfs, run } from '../support/docker.js';

function valueOf(sample: Sample, agent: Agent, metric: string, instance: string): unknown {
  const indom = agent.table.metric(metric)!.indom!;
  for (const [id, value] of sample.get(metric) ?? []) if (sample.instanceName(indom, id) === instance) return value;
  return undefined;
}

/** `runc run -d`, its stdio detached from ours (a detached container would hold our pipes open). */
function runcRun(bundle: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('runc', ['run', '-d', '--bundle', bundle, '--pid-file', join(bundle, 'pid'), id], { stdio: 'ignore' });
    child.once('error', (error) => reject(new Error(`cannot run runc (apt-get install -y runc): ${error.message}`)));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run ${id} exited with ${code}`))));
  });
}

describe('a runc container found by its state file', { timeout: 60_000 }, () => {
  const parent = new TestCgroup();
  const id = `${parent.name}-${randomBytes(2).toString('hex')}`;
  let bundle: string;
  let agent: Agent;

  before(async () => {
    bundle = mkdtempSync(join(tmpdir(), 'vigil-test-bundle-'));
    renameSync(busyboxRootfs(), join(bundle, 'rootfs'));
    await run('runc', ['spec', '--bundle', bundle]);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['sleep', '100000'];
    config.hostname = 'batchbox';
    config.linux.cgroupsPath = `${parent.path}/${id}`;
    config.linux.resources = { memory: { limit: 48 << 20 }, cpu: { quota: 20000, period: 100000 } };
    config.annotations = {
      'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'loader',
      'io.kubernetes.cri.sandbox-name': 'etl-7f9c', 'io.kubernetes.cri.sandbox-namespace': 'batch',
    };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    await runcRun(bundle, id);
    const cgroupCollectors = Object.keys(collectorFactories).filter((c) => c.startsWith('cgroup'));
    // A generous interval: it only sets how long a collector may take on a busy machine.
    agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 5000, collect: 'all', collectors: ['containers', 'processes', ...cgroupCollectors] });
  });

  after(async () => {
    await agent?.close();
    await run('runc', ['delete', '--force', id]).catch(() => undefined);
    await parent.destroy();
    rmSync(bundle, { recursive: true, force: true });
  });

  it('names it from its bundle annotations, with engine, pid, hostname, cgroup and labels', async () => {
    const sample = await agent.sampler.sampleNow();
    const pid = Number(readFileSync(join(bundle, 'pid'), 'utf8'));
    assert.equal(valueOf(sample, agent, 'containers.engine', id), 'runc');
    assert.equal(valueOf(sample, agent, 'containers.name', id), 'etl-7f9c/loader');
    assert.equal(valueOf(sample, agent, 'containers.pid', id), pid);
    assert.equal(valueOf(sample, agent, 'containers.state.running', id), 1);
    assert.equal(valueOf(sample, agent, 'containers.hostname', id), 'batchbox');
    const cgroup = valueOf(sample, agent, 'containers.cgroup', id);
    assert.equal(cgroup, `${parent.path}/${id}`);
    assert.equal(readFileSync(`/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`, 'utf8').trim(), String(48 << 20));
    if (agent.table.metric('cgroup.memory.limit')) assert.equal(valueOf(sample, agent, 'cgroup.memory.limit', cgroup as string), BigInt(48 << 20));
    const labels = sample.labelsOf('1.0', agent.table.indom('1.0')!.idOf(id, sample.time));
    assert.deepEqual(labels, { engine: 'runc', pod: 'etl-7f9c', namespace: 'batch', container: 'loader', container_type: 'container' });
    assert.equal(valueOf(sample, agent, 'proc.id.container', `${String(pid).padStart(6, '0')} sleep`), id);
  });

  it('drops its pid and cgroup once it is killed', async () => {
    await run('runc', ['kill', id, 'KILL']);
    for (let i = 0; ; i++) {
      const sample = await agent.sampler.sampleNow();
      if (valueOf(sample, agent, 'containers.state.running', id) === 0) {
        assert.equal(valueOf(sample, agent, 'containers.cgroup', id), undefined);
        assert.equal(valueOf(sample, agent, 'containers.pid', id), undefined);
        return;
      }
      assert.ok(i < 20, 'still running 2 s after SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
