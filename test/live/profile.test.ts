import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { noContainers } from '../../agent/containers/scope.js';
import { Profiler } from '../../agent/profile/profiler.js';
import { TestAgent } from '../support/agent.js';
import { TestCgroup, untilOutput } from '../support/cgroup.js';
import {
  BURNER_C, findFrame, finished, HOT_JS, json, OUTSIDE_C, ourPerfProcesses, Programs, request, samplesIn, startOutside, type TreeNode,
} from './profile-support.js';

/**
 * Real perf on this machine: a C program and a node program with known hot functions run in a
 * test cgroup (node in its own pid and mount namespace, like a container, with its JIT map in
 * its private /tmp), while a busy process with another name runs outside it.
 */
describe('perf CPU profiles of a cgroup', { timeout: 180_000 }, () => {
  const programs = new Programs();
  const cgroup = new TestCgroup();
  let outside: ReturnType<typeof startOutside>;
  let agent: TestAgent;

  before(async () => {
    const burner = programs.compile('vigil-burn', BURNER_C);
    const spin = programs.compile('vigil-outside', OUTSIDE_C);
    outside = startOutside(spin);
    const burn = await cgroup.spawn(burner);
    // A "container": new pid + mount namespaces with a private /tmp, so the JIT map is
    // /tmp/perf-1.map in there, invisible at the host's /tmp/perf-<pid>.map where perf looks.
    const node = await cgroup.spawn('unshare', [
      '--pid', '--mount', '--fork', '--kill-child=SIGKILL', 'sh', '-c', 'mount -t tmpfs vigil-test-tmp /tmp && exec "$@"', 'sh',
      process.execPath, '--perf-basic-prof', '--no-turbo-inlining', '-e', HOT_JS,
    ]);
    await Promise.all([untilOutput(burn, 'ready'), untilOutput(node, 'ready', 30_000)]);
    agent = await TestAgent.start({ collectors: [] });
  });

  after(async () => {
    await agent?.close();
    await outside?.stop();
    await cgroup.destroy();
    programs.remove();
    assert.deepEqual(ourPerfProcesses(), [], 'every perf process the profiler started has exited');
  });

  it('finds the hot C and JIT functions inside the cgroup and nothing from outside it', async (t) => {
    const started = await json('POST', `${agent.url}/profile`, { target: { cgroup: cgroup.path }, seconds: 3, frequency: 99 });
    assert.equal(started.state, 'running');
    assert.deepEqual(started.target, { cgroup: cgroup.path, description: `cgroup ${cgroup.path}` });
    // Three busy loops share this machine's two CPUs with perf: the result must still arrive
    // promptly (perf script at nice 19 once took 40 s here).
    const status = await finished(agent.url, String(started.id), 25_000);
    assert.equal(status.state, 'done', JSON.stringify(status));
    const tree = (await json('GET', `${agent.url}/profile/${started.id}/tree`)) as unknown as TreeNode;
    assert.equal(tree.value, status.samples);
    assert.ok(tree.value >= 30, `only ${tree.value} samples in 3 s at 99 Hz`);

    const comms = tree.children.map((c) => c.name);
    assert.ok(!comms.some((c) => c.startsWith('vigil-outside')), `the outside process was sampled: ${comms}`);
    const folded = (await request('GET', `${agent.url}/profile/${started.id}/folded`)).text;
    assert.ok(!folded.includes('outside_spin_function'), 'no frame of the outside process');

    const burner = tree.children.find((c) => c.name === 'vigil-burn');
    assert.ok(burner, `the C program was sampled; comms: ${comms}`);
    const hot = samplesIn(burner, (n) => n === 'burn_hot_function');
    assert.ok(hot / burner.value > 0.6, `burn_hot_function has ${hot} of the program's ${burner.value} samples`);
    assert.equal(findFrame(burner, (n) => n === 'burn_hot_function')?.kind, 'native');

    const node = tree.children.find((c) => c.name === 'node');
    assert.ok(node, `node was sampled; comms: ${comms}`);
    const jit = findFrame(node, (n) => /^JS:\*hotJsFunction /.test(n));
    assert.ok(jit, 'the optimized hotJsFunction frame is named, from the map inside the namespace');
    assert.equal(jit.kind, 'jit');
    const hotJs = samplesIn(node, (n) => /^JS:.hotJsFunction /.test(n));
    assert.ok(hotJs / node.value > 0.5, `hotJsFunction has ${hotJs} of node's ${node.value} samples`);

    const cpu = Number(status.perfCpuSeconds);
    t.diagnostic(`perf used ${cpu.toFixed(2)} s of CPU for a ${status.elapsed} s profile at 99 Hz (${status.perfCpuPercent}% of one CPU), ${tree.value} samples`);
    assert.ok(cpu > 0, 'perf CPU time is measured');
  });

  it('refuses bad requests with the reason, before starting perf', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ target: { cgroup: cgroup.path }, seconds: 61 }, 400, /seconds must be from 1 to 60/],
      [{ target: { cgroup: cgroup.path }, frequency: 1000 }, 400, /frequency must be an integer from 1 to 99/],
      [{ target: { cgroup: `${cgroup.path}/../..` } }, 400, /"\.\."/],
      [{ target: { cgroup: 'relative' } }, 400, /must be absolute/],
      [{ target: { cgroup: `/vigil-test-${process.pid}-absent` } }, 404, /does not exist/],
      [{ target: { container: 'vigil-test-no-such-container' } }, 404, /no container/],
      [{ target: 'everything' }, 400, /target must be/],
      [{}, 400, /target/],
    ];
    for (const [body, status, message] of cases) {
      const reply = await request('POST', `${agent.url}/profile`, body);
      assert.equal(reply.status, status, `${JSON.stringify(body)} → ${reply.text}`);
      assert.match(JSON.parse(reply.text).error, message);
    }
    assert.equal((await request('GET', `${agent.url}/profile/000000000000/tree`)).status, 404);
    assert.deepEqual(ourPerfProcesses(), []);
    // The console posts JSON to other hosts' agents: the CORS preflight must pass.
    const preflight = await fetch(`${agent.url}/profile`, {
      method: 'OPTIONS', headers: { Origin: 'http://console.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Content-Type/i);
  });

  it('a live profile shows the last seconds, is shared by target, and stops when asked', async () => {
    const live = await json('POST', `${agent.url}/profile`, { target: { cgroup: cgroup.path }, live: true, frequency: 49 });
    assert.equal(live.live, true);
    assert.equal(live.window, 30);
    const again = await json('POST', `${agent.url}/profile`, { target: { cgroup: cgroup.path }, live: true });
    assert.equal(again.id, live.id, 'one live profile per target');
    let tree: TreeNode | undefined;
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      tree = (await json('GET', `${agent.url}/profile/${live.id}/tree`)) as unknown as TreeNode;
      if (findFrame(tree, (n) => n === 'burn_hot_function')) break;
      await sleep(1000);
    }
    assert.ok(tree && findFrame(tree, (n) => n === 'burn_hot_function'), 'samples stream in while the live profile runs');
    // At most the window's worth of samples for the CPUs there are.
    const status = await json('GET', `${agent.url}/profile/${live.id}`);
    assert.equal(status.state, 'running');
    assert.ok(Number(status.samples) <= 49 * 30 * 2 + 49, `${status.samples} samples in a 30 s window at 49 Hz`);
    const stopped = await json('DELETE', `${agent.url}/profile/${live.id}`);
    assert.equal(stopped.state, 'cancelled');
    for (let i = 0; i < 240 && (await request('GET', `${agent.url}/profile/${live.id}`)).status !== 404; i++) await sleep(250);
    assert.equal((await request('GET', `${agent.url}/profile/${live.id}`)).status, 404, 'a stopped live profile is gone');
  });

  it('a live profile nobody asks about stops by itself, and its perf processes exit', async () => {
    const profiler = new Profiler({ procfs: '/proc', containers: noContainers, limits: { liveIdleSeconds: 1 } });
    try {
      const live = profiler.live({ kind: 'cgroup', cgroup: cgroup.path });
      assert.equal(profiler.get(live.id)?.state, 'running');
      // Stopped within a sweep (2 s) of going idle, dropped once perf has drained.
      for (let i = 0; i < 240 && profiler.list().length > 0; i++) await sleep(250);
      assert.equal(profiler.list().length, 0, 'the idle live profile was stopped and dropped');
      for (let i = 0; i < 240 && ourPerfProcesses().length > 0; i++) await sleep(250);
      assert.deepEqual(ourPerfProcesses(), []);
    } finally {
      await profiler.close();
    }
  });

  it('bounds: one running profile per client, a global cap, and a clear error when perf is missing', async () => {
    const profiler = new Profiler({ procfs: '/proc', containers: noContainers, limits: { maxRunning: 1 } });
    try {
      const target = { kind: 'cgroup', cgroup: cgroup.path } as const;
      const first = profiler.start({ target, seconds: 2, owner: 'a' });
      assert.throws(() => profiler.start({ target, seconds: 2, owner: 'a' }), (e: Error & { status: number }) =>
        e.status === 409 && e.message.includes(first.id));
      assert.throws(() => profiler.start({ target, seconds: 2, owner: 'b' }), (e: Error & { status: number }) =>
        e.status === 503 && /at most 1 at once/.test(e.message));
      profiler.cancel(first.id);
      for (let i = 0; i < 240 && first.state === 'processing'; i++) await sleep(250);
      assert.equal(first.state, 'done', 'a cancelled one-shot profile keeps what it recorded');
      assert.ok(profiler.start({ target, seconds: 1, owner: 'b' }), 'the slot is free again');
    } finally {
      await profiler.close();
    }
    const missing = new Profiler({ procfs: '/proc', containers: noContainers, perf: `/nonexistent/vigil-test-${process.pid}/perf` });
    try {
      const profile = missing.start({ target: { kind: 'host' }, seconds: 1, owner: 'a' });
      for (let i = 0; i < 40 && (profile.state === 'running' || profile.state === 'processing'); i++) await sleep(100);
      assert.equal(profile.state, 'error');
      assert.match(profile.error!, /perf is not installed .*apt-get install linux-perf/);
    } finally {
      await missing.close();
    }
  });
});
