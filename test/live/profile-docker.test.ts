import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAgent, type Agent } from '../../agent/agent.js';
import { TestDocker } from '../support/docker.js';
import { BURNER_C, findFrame, finished, json, OUTSIDE_C, Programs, request, samplesIn, startOutside, type TreeNode } from './profile-support.js';

/** Profiles of a real docker container, found by name through the agent's container discovery. */
describe('perf CPU profiles of a docker container', { timeout: 240_000 }, () => {
  const programs = new Programs();
  let docker: TestDocker;
  let agent: Agent;
  let url: string;
  let outside: ReturnType<typeof startOutside>;
  let name: string;
  let id: string;

  before(async () => {
    // Static, so that it runs in the busybox image; the build directory is bind-mounted in.
    programs.compile('vigil-burn', BURNER_C, ['-static']);
    outside = startOutside(programs.compile('vigil-outside', OUTSIDE_C));
    docker = await TestDocker.start();
    name = `${docker.tag}-burn`;
    id = await docker.runContainer(['--name', name, '-v', `${programs.dir}:/w:ro`], ['/w/vigil-burn']);
    agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, dockerSocket: docker.socket, collectors: ['containers'] });
    url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
    // Discovery learns containers when the agent samples.
    for (let i = 0; i < 50; i++) {
      await agent.sampler.sampleNow();
      if ((await request('GET', `${url}/pmapi/fetch?names=containers.name`)).text.includes(name)) break;
      await sleep(200);
    }
  });

  after(async () => {
    await agent?.close();
    await outside?.stop();
    await docker?.stop();
    programs.remove();
  });

  it('a container named in the request is profiled through its cgroup; the host outside it is not', async (t) => {
    const started = await json('POST', `${url}/profile`, { target: { container: name }, seconds: 3, frequency: 99 });
    const target = started.target as { cgroup: string; container: { name: string; id: string }; description: string };
    assert.deepEqual(target.container, { name, id });
    assert.ok(target.cgroup.includes(id), `the container's own cgroup: ${target.cgroup}`);
    assert.equal(target.description, `container ${name} (${id.slice(0, 12)})`);
    const status = await finished(url, String(started.id));
    assert.equal(status.state, 'done', JSON.stringify(status));
    const tree = (await json('GET', `${url}/profile/${started.id}/tree`)) as unknown as TreeNode;
    assert.deepEqual(tree.children.map((c) => c.name), ['vigil-burn'], 'only the container\'s process');
    const burner = tree.children[0]!;
    const hot = samplesIn(burner, (n) => n === 'burn_hot_function');
    assert.ok(hot / burner.value > 0.6, `burn_hot_function has ${hot} of ${burner.value} samples`);
    t.diagnostic(`container profile: ${tree.value} samples; perf used ${status.perfCpuSeconds} s CPU over ${status.elapsed} s`);
  });

  it('Vector: a context scoped to the container profiles the container', async () => {
    const context = Number((await json('GET', `${url}/pmapi/context?hostspec=localhost&polltimeout=120`)).context);
    assert.equal((await request('GET', `${url}/pmapi/${context}/_store?name=pmcd.client.container&value=${name}`)).status, 200);
    assert.equal((await request('GET', `${url}/pmapi/${context}/_store?name=vector.task.cpuflamegraph&value=2`)).status, 200);
    let value = '';
    const seen: string[] = [];
    for (let i = 0; i < 120 && !/^(DONE|ERROR)/.test(value); i++) {
      const reply = await json('GET', `${url}/pmapi/${context}/_fetch?names=vector.task.cpuflamegraph`);
      value = (reply.values as Array<{ instances: Array<{ value: string }> }>)[0]!.instances[0]!.value;
      if (seen.at(-1) !== value) seen.push(value);
      await sleep(500);
    }
    assert.match(seen[0]!, new RegExp(`^Profiling container ${name} \\(${id.slice(0, 12)}\\) for 2 seconds`));
    const done = /^DONE (\S+\.svg)$/.exec(value);
    assert.ok(done, seen.join(' | '));
    const svg = await request('GET', `${url}/${done[1]}`);
    assert.match(svg.text, new RegExp(`CPU flame graph: container ${name}`));
    assert.match(svg.text, /data-name="burn_hot_function"/);
    assert.ok(!svg.text.includes('outside_spin_function'));
    const profileId = /cpuflamegraph\.([0-9a-f]+)\.svg/.exec(done[1]!)![1]!;
    const tree = (await json('GET', `${url}/profile/${profileId}/tree`)) as unknown as TreeNode;
    assert.ok(findFrame(tree, (n) => n === 'burn_hot_function'));
  });
});
