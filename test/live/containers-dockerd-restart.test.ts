import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import type { Sample } from '../../agent/store/sample.js';
import { fetchValues } from '../support/agent.js';
import { TestDocker } from '../support/docker.js';

function valueOf(sample: Sample, metric: string, instance: string): unknown {
  for (const [id, value] of sample.get(metric) ?? []) if (sample.instanceName('1.0', id) === instance) return value;
  return undefined;
}

/** Samples until `check` passes; fails after `limitMs`. */
async function until(agent: Agent, limitMs: number, check: (s: Sample) => boolean, what: string): Promise<Sample> {
  const started = performance.now();
  for (;;) {
    const sample = await agent.sampler.sampleNow();
    if (check(sample)) return sample;
    if (performance.now() - started > limitMs) assert.fail(`${what}: not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('dockerd killed mid-run', { timeout: 120_000 }, () => {
  let docker: TestDocker;
  let agent: Agent;
  let url: string;

  before(async () => {
    docker = await TestDocker.start();
    agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, dockerSocket: docker.socket, collectors: ['containers'] });
    url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await agent?.close();
    await docker?.stop();
  });

  it('keeps serving; names degrade to ids and come back with dockerd', async () => {
    const name = `${docker.tag}-survivor`;
    const id = await docker.runContainer(['--name', name]);
    await until(agent, 1000, (s) => valueOf(s, 'containers.name', id) === name, 'named while dockerd runs');

    await docker.killDaemon();
    // live-restore: the container runs on; only its cgroup tells of it now.
    const degraded = await until(agent, 2000, (s) => valueOf(s, 'containers.name', id) === id, 'name degraded to the id');
    assert.equal(valueOf(degraded, 'containers.state.running', id), 1);
    assert.equal(valueOf(degraded, 'containers.cgroup', id), `${docker.cgroup.path}/${id}`);
    const reply = await fetchValues(url, ['containers.name']);
    assert.ok(reply.values[0]!.instances.some((i) => i.value === id), 'the API still serves the container, by id');

    await docker.startDaemon();
    await until(agent, 10_000, (s) => valueOf(s, 'containers.name', id) === name && valueOf(s, 'containers.engine', id) === 'docker',
      'name back after dockerd restarted');
  });
});
