import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { collectorFactories } from '../../agent/collectors/index.js';
import { discoveryFor, type DiscoveryOptions } from '../../agent/containers/discovery.js';
import type { ContainerScope } from '../../agent/containers/scope.js';
import { containerScope } from '../../agent/containers/view.js';
import type { Sample } from '../../agent/store/sample.js';
import { fetchValues } from '../support/agent.js';
import { TestDocker } from '../support/docker.js';

/** The default --interval: what "within one interval" means below. */
const INTERVAL_MS = 1000;
/** The agent's own interval only sets how long a collector may take; generous, so a busy machine does not drop values. */
const AGENT_INTERVAL_MS = 5000;

/** The value of `metric` for the instance named `instance` in a sample. */
function valueOf(sample: Sample, agent: Agent, metric: string, instance: string): unknown {
  const indom = agent.table.metric(metric)?.indom;
  assert.ok(indom, `${metric} is not in the table`);
  for (const [id, value] of sample.get(metric) ?? []) if (sample.instanceName(indom, id) === instance) return value;
  return undefined;
}

function instanceNames(sample: Sample, agent: Agent, metric: string): string[] {
  const indom = agent.table.metric(metric)!.indom!;
  return [...(sample.get(metric)?.keys() ?? [])].map((id) => sample.instanceName(indom, id)!);
}

/** Samples until `check` passes; resolves to the milliseconds that took, fails after `limitMs`. */
async function within(agent: Agent, limitMs: number, check: (s: Sample) => boolean, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const sample = await agent.sampler.sampleNow();
    if (check(sample)) return performance.now() - started;
    if (performance.now() - started > limitMs) assert.fail(`${what}: not seen within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('containers discovered through a private dockerd', { timeout: 120_000 }, () => {
  let docker: TestDocker;
  let agent: Agent;
  let url: string;
  let web: string;
  let scope: ContainerScope;
  const cgroupCollectors = Object.keys(collectorFactories).filter((name) => name.startsWith('cgroup'));

  before(async () => {
    docker = await TestDocker.start();
    // These tests read the agent's samples directly, so it collects everything (not on demand).
    const options: DiscoveryOptions & { intervalMs: number; collectors: string[]; collect: 'all' } = {
      procfs: '/proc', sysfs: '/sys', intervalMs: AGENT_INTERVAL_MS, dockerSocket: docker.socket, collect: 'all',
      collectors: ['containers', 'processes', 'pmcd', ...cgroupCollectors].filter((c) => c in collectorFactories),
    };
    agent = await createAgent(options);
    // The same discovery the agent's collectors and server use (one per options object).
    scope = containerScope(discoveryFor(options), agent.table);
    url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
    web = await docker.runContainer([
      '--name', `${docker.tag}-web`, '--hostname', 'webhost', '--memory', '64m', '--cpus', '0.5',
      '--label', 'io.kubernetes.pod.name=web-0', '--label', 'io.kubernetes.pod.namespace=shop',
      '--label', 'io.kubernetes.container.name=nginx',
    ]);
  });

  after(async () => {
    await agent?.close();
    await docker?.stop();
  });

  it('names the container, with engine, state, pid, hostname and namespaces', async () => {
    const sample = await agent.sampler.sampleNow();
    assert.equal(valueOf(sample, agent, 'containers.name', web), `${docker.tag}-web`);
    assert.equal(valueOf(sample, agent, 'containers.engine', web), 'docker');
    assert.equal(valueOf(sample, agent, 'containers.state.running', web), 1);
    assert.equal(valueOf(sample, agent, 'containers.state.paused', web), 0);
    const pid = await docker.containerPid(web);
    assert.equal(valueOf(sample, agent, 'containers.pid', web), pid);
    assert.equal(valueOf(sample, agent, 'containers.hostname', web), 'webhost');
    const inode = (link: string): number => Number(/\[(\d+)\]/.exec(link)![1]);
    assert.equal(valueOf(sample, agent, 'containers.ns.net', web), inode(readlinkSync(`/proc/${pid}/ns/net`)));
    assert.notEqual(valueOf(sample, agent, 'containers.ns.net', web), inode(readlinkSync('/proc/self/ns/net')));
    assert.notEqual(valueOf(sample, agent, 'containers.ns.pid', web), inode(readlinkSync('/proc/self/ns/pid')));
  });

  it('serves it over /pmapi/fetch, instance name = id, value = name', async () => {
    await agent.sampler.sampleNow();
    const reply = await fetchValues(url, ['containers.name', 'containers.cgroup']);
    const names = reply.values.find((v) => v.name === 'containers.name')!.instances;
    const id = agent.table.indom('1.0')!.idOf(web, Date.now());
    assert.deepEqual(names.find((i) => i.instance === id)?.value, `${docker.tag}-web`);
  });

  it('puts engine, image and the Kubernetes pod, namespace and container on the instance as labels', async () => {
    const sample = await agent.sampler.sampleNow();
    const id = agent.table.indom('1.0')!.idOf(web, sample.time);
    assert.deepEqual(sample.labelsOf('1.0', id), { engine: 'docker', image: docker.image, pod: 'web-0', namespace: 'shop', container: 'nginx' });
  });

  it('gives the cgroup exactly as cgroup.* names it, where the limits are', async () => {
    const sample = await agent.sampler.sampleNow();
    const cgroup = valueOf(sample, agent, 'containers.cgroup', web);
    assert.equal(cgroup, `${docker.cgroup.path}/${web}`);
    // The path is relative to each hierarchy root: the limits docker set are there.
    assert.equal(readFileSync(`/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`, 'utf8').trim(), String(64 << 20));
    assert.equal(readFileSync(`/sys/fs/cgroup/cpu${cgroup}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
    if (agent.table.metric('cgroup.memory.limit')) {
      assert.ok(instanceNames(sample, agent, 'cgroup.memory.limit').includes(cgroup as string), 'containers.cgroup is a cgroup.* instance name');
      assert.equal(valueOf(sample, agent, 'cgroup.memory.limit', cgroup as string), BigInt(64 << 20));
      assert.equal(valueOf(sample, agent, 'cgroup.cpusched.cfs_quota', cgroup as string), 50000n);
    }
  });

  it('lists its processes with host and in-namespace pids, and scopes a context to it', async () => {
    const sample = await agent.sampler.sampleNow();
    const pid = await docker.containerPid(web);
    const inst = `${String(pid).padStart(6, '0')} sleep`;
    assert.equal(valueOf(sample, agent, 'proc.id.container', inst), web);
    assert.equal(valueOf(sample, agent, 'proc.namespaces.pid', inst), `${pid} 1`);
    assert.equal(valueOf(sample, agent, 'proc.psinfo.cmd', inst), 'sleep');
    assert.equal(valueOf(sample, agent, 'proc.psinfo.psargs', inst), 'sleep 100000');

    const ref = scope.find(`${docker.tag}-web`);
    assert.equal(ref?.id, web);
    assert.equal(scope.find(web.slice(0, 12))?.id, web, 'a 12-digit id prefix finds it');
    const view = scope.view(sample, ref!);
    assert.deepEqual(instanceNames(view, agent, 'proc.psinfo.pid'), [inst], 'only its processes');
    assert.equal(valueOf(view, agent, 'proc.psinfo.pid', inst), pid);
    assert.equal([...view.get('proc.nprocs')!.values()][0], 1);
    if (agent.table.metric('pmcd.hostname')) assert.equal([...view.get('pmcd.hostname')!.values()][0], 'webhost');
    if (agent.table.metric('cgroup.memory.limit')) {
      assert.deepEqual(instanceNames(view, agent, 'cgroup.memory.limit'), [ref!.cgroup], 'cgroup.* limited to its subtree');
    }
  });

  it('shows a paused container as paused', async () => {
    await docker.cli(['pause', web]);
    try {
      await within(agent, INTERVAL_MS, (s) => valueOf(s, agent, 'containers.state.paused', web) === 1, 'paused');
    } finally {
      await docker.cli(['unpause', web]);
    }
  });

  it('sees a new container, and a stopped and a removed one, within one interval (events)', async () => {
    const name = `${docker.tag}-new`;
    const id = await docker.runContainer(['--name', name]);
    await within(agent, INTERVAL_MS, (s) => valueOf(s, agent, 'containers.name', id) === name, 'new container by name');

    await docker.cli(['stop', '-t', '0', id]);
    await within(agent, INTERVAL_MS, (s) =>
      valueOf(s, agent, 'containers.state.running', id) === 0 && valueOf(s, agent, 'containers.cgroup', id) === undefined,
    'stopped container not running and without cgroup');

    await docker.cli(['rm', id]);
    await within(agent, INTERVAL_MS, (s) => valueOf(s, agent, 'containers.name', id) === undefined, 'removed container gone');
  });
});
