import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createAgent, type Agent } from '../../agent/agent.js';
import { AgentConnection, type SocketLike } from '../../web/src/data/connection.js';
import { containerRows } from '../../web/src/data/containers.js';
import { mainSubscription } from '../../web/src/data/needs.js';
import { TestCgroup, type CgroupProcess } from '../support/cgroup.js';

/**
 * The console's connection against a real agent on this machine, in node (the `ws` package
 * stands in for the browser's WebSocket): back-fill, live samples, exact counters, a real
 * cgroup joined to its metrics, unknown metrics left out, and reconnecting with backoff after
 * the agent restarts.
 */

const Socket = WebSocket as unknown as new (url: string) => SocketLike;

async function until<T>(what: string, check: () => T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function startAgent(port = 0): Promise<{ agent: Agent; url: string }> {
  const agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 500 });
  agent.sampler.start();
  return { agent, url: await agent.app.listen({ port, host: '127.0.0.1' }) };
}

describe('AgentConnection against a real agent', { timeout: 120_000 }, () => {
  let running: { agent: Agent; url: string } | undefined;
  let conn: AgentConnection | undefined;
  let cgroup: TestCgroup | undefined;
  let burner: CgroupProcess;

  before(async () => {
    cgroup = new TestCgroup();
    cgroup.set('cpu', 'cpu.cfs_period_us', 100_000);
    cgroup.set('cpu', 'cpu.cfs_quota_us', 30_000);
    burner = await cgroup.spawn('/bin/sh', ['-c', 'while :; do :; done']);
    running = await startAgent();
    // Some history to back-fill.
    await sleep(2000);
  });

  after(async () => {
    conn?.close();
    await running?.agent.close();
    await cgroup?.destroy();
  });

  test('subscribes, gets the back-fill and then live samples', async () => {
    conn = new AgentConnection(running!.url, { windowSeconds: 60, WebSocket: Socket });
    conn.start();
    const spec = mainSubscription();
    const store = conn.subscribe('main', { ...spec, metrics: [...spec.metrics, 'no.such.metric'] });
    await until('live', () => conn!.state === 'live' && conn!.ready('main'));
    // The catalogue request runs beside the socket: on a busy host it may land after the first samples.
    await until('the metric catalogue from /pmapi/metric', () => conn!.catalogLoaded);
    assert.ok(conn.missing('main').includes('no.such.metric'), 'an unknown name is left out, not fatal');
    assert.equal(conn.subscriptionError('main'), undefined);
    assert.equal(conn.hostname, hostname());
    assert.ok(store.length >= 3, `back-filled samples: ${store.length}`);
    const before = store.length;
    await until('two more samples', () => store.length >= before + 2);
    // 64-bit counters arrive exact, as decimal strings.
    const pswitch = store.latest('kernel.all.pswitch');
    assert.equal(typeof pswitch, 'string');
    assert.ok(BigInt(pswitch as string) > 0n);
    assert.ok(store.current('kernel.all.pswitch') > 0, 'context switches per second');
    const load = [...store.instances('kernel.all.load')].map((id) => store.instanceName('kernel.all.load', id)).sort();
    assert.deepEqual(load, ['1 minute', '15 minute', '5 minute']);
  });

  test('a real cgroup with a CPU burner is a row with its CPU and its limit', async () => {
    const store = conn!.store('main')!;
    const row = await until(`a row for ${cgroup!.path}`, () => {
      const r = containerRows(store, conn!.url, conn!.hostname, true).find((x) => x.cgroup === cgroup!.path);
      return r && r.cpu > 0 ? r : undefined;
    });
    assert.equal(row.kind, 'cgroup');
    assert.equal(row.cpuLimit, 0.3, 'quota 30 ms per 100 ms');
    // CFS runs the quota in bursts, so one interval's rate is off by up to a burst (and an
    // off-cadence pass for a REST ask makes one interval shorter): judge the median of three.
    const cpu: number[] = [];
    for (let n = store.length; cpu.length < 3; n++) {
      await until(`sample ${n + 1}`, () => store.length > n);
      cpu.push(containerRows(store, conn!.url, conn!.hostname, true).find((x) => x.cgroup === cgroup!.path)?.cpu ?? NaN);
    }
    const median = cpu.sort((a, b) => a - b)[1];
    assert.ok(median > 0.15 && median < 0.4, `a burner under a 0.3-core quota uses ${cpu.join(', ')} cores`);
    assert.ok(row.throttled > 0.5, `throttled in ${row.throttled * 100} % of periods`);
    assert.equal(row.tasks, 1, `pid ${burner.pid} alone`);
  });

  test('reconnects by itself when the agent comes back', async () => {
    const port = Number(new URL(running!.url).port);
    await running!.agent.close();
    running = undefined;
    await until('unreachable', () => conn!.state === 'unreachable');
    assert.match(conn!.detail, /retrying in \d+ s/);
    running = await startAgent(port);
    await until('live again', () => conn!.state === 'live' && conn!.ready('main'), 40_000);
    await until('rates from the new agent', () => conn!.store('main')!.current('kernel.all.pswitch') > 0);
  });
});
