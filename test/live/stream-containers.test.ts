import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { StreamClient, isType, type StreamMessage } from './stream-client.js';

/**
 * A subscription restricted to one container, against two real runc containers (busybox
 * `sleep`, each in its own cgroup) and the real agent: it must see that container's cgroups and
 * `containers.*` instance and nothing of the other one's, and the host's metrics unchanged.
 */
const RUNC = '/usr/sbin/runc';
const tag = `vigil-test-${process.pid}-${randomBytes(4).toString('hex')}`;
const containers = ['a', 'b'].map((n) => ({ id: `${tag}-${n}`, cgroup: `/${tag}-${n}`, bundle: '' }));
let agent: Agent;
let url: string;
const clients: StreamClient[] = [];
const missing = !existsSync(RUNC) || !existsSync('/bin/busybox');

before(async () => {
  if (missing) return;
  for (const c of containers) {
    c.bundle = mkdtempSync(join(tmpdir(), `${tag}-`));
    const bin = join(c.bundle, 'rootfs', 'bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync('/bin/busybox', join(bin, 'busybox'));
    for (const applet of ['sh', 'sleep']) symlinkSync('busybox', join(bin, applet));
    execFileSync(RUNC, ['spec'], { cwd: c.bundle });
    const config = JSON.parse(readFileSync(join(c.bundle, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['/bin/sleep', '600'];
    config.linux.cgroupsPath = c.cgroup;
    writeFileSync(join(c.bundle, 'config.json'), JSON.stringify(config));
    execFileSync(RUNC, ['run', '-d', '--pid-file', join(c.bundle, 'pid'), c.id], { cwd: c.bundle, stdio: 'ignore' });
  }
  agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 250 });
  agent.sampler.start();
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  for (const client of clients) client.close();
  await agent?.close();
  for (const c of containers) {
    if (!c.bundle) continue;
    try {
      execFileSync(RUNC, ['delete', '--force', c.id], { stdio: 'ignore' });
    } catch {
      // never started, or already gone
    }
    for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', hierarchy, c.cgroup);
      if (existsSync(dir)) rmdirSync(dir);
    }
    rmSync(c.bundle, { recursive: true, force: true });
  }
});

/** Subscribes, retrying while container discovery has not found the container yet. */
async function subscribeWhenFound(client: StreamClient, request: object): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    client.send(request);
    const answer = await client.next((m) => m.type === 'subscribed' || m.type === 'error', 3000, 'an answer to subscribe');
    if (answer.type === 'subscribed') return;
    assert.equal(answer.code, 'unknown-container', JSON.stringify(answer));
    assert.ok(performance.now() < deadline, `discovery did not find the runc container within 10 s: ${answer.message}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

test('a subscription restricted to one container sees its cgroups and its containers.* instance only', { skip: missing && 'needs runc and /bin/busybox' }, async () => {
  const [mine, other] = containers as [typeof containers[0], typeof containers[0]];
  const client = await StreamClient.connect(url);
  clients.push(client);
  await subscribeWhenFound(client, {
    v: 1, type: 'subscribe', id: 'c', history: 0, containers: [mine.id],
    metrics: ['cgroup.cpuacct.usage', 'cgroup.memory.usage', 'containers.state.running', 'kernel.all.load'],
  });
  const subscribed = client.messages.findLast((m) => m.type === 'subscribed')!;
  const metrics = (subscribed.metrics as Array<{ name: string }>).map((m) => m.name);
  // The first sample announces every series the subscription has.
  const announced = (await client.next(isType('instances', 'c'), 5000, 'the series announced')) as StreamMessage & {
    added: Record<string, Record<string, string>>;
    series: { added: Array<[number, number | null]> };
  };
  const names = (metric: string): string[] => {
    const m = metrics.indexOf(metric);
    const indom = agent.table.metric(metric)!.indom!;
    return announced.series.added.filter(([i]) => i === m).map(([, id]) => announced.added[indom]![String(id)]!);
  };
  for (const metric of ['cgroup.cpuacct.usage', 'cgroup.memory.usage']) {
    const cgroups = names(metric);
    assert.ok(cgroups.includes(mine.cgroup), `${metric}: ${mine.cgroup} is among ${JSON.stringify(cgroups)}`);
    for (const name of cgroups) assert.ok(name === mine.cgroup || name.startsWith(`${mine.cgroup}/`), `${metric}: ${name} is outside the container`);
    assert.ok(!cgroups.includes(other.cgroup) && !cgroups.includes('/'), `${metric}: neither the other container nor the root cgroup`);
  }
  assert.deepEqual(names('containers.state.running'), [mine.id]);
  assert.deepEqual(names('kernel.all.load').sort(), ['1 minute', '15 minute', '5 minute'], 'host metrics are not restricted');

  const sample = await client.next(isType('sample', 'c'), 3000, 'a sample');
  const running = announced.series.added.findIndex(([m]) => m === metrics.indexOf('containers.state.running'));
  assert.equal((sample.values as unknown[])[running], 1, 'the container is running');
});
