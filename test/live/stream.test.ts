import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { StreamClient, isType, type StreamMessage } from './stream-client.js';

/**
 * The stream against the real agent: every registered collector on this host's /proc and /sys,
 * sampling every 250 ms, on a free loopback port.
 */
const INTERVAL = 250;
let agent: Agent;
let url: string;
const clients: StreamClient[] = [];
const children: ChildProcess[] = [];
const cgroups: string[] = [];

async function connect(): Promise<StreamClient> {
  const client = await StreamClient.connect(url);
  clients.push(client);
  await client.next(isType('hello'), 2000, 'hello');
  return client;
}

interface Subscribed extends StreamMessage {
  metrics: Array<Record<string, string>>;
  instances: Record<string, Record<string, string>>;
  series: Array<[number, number | null]>;
  t: number[];
  values: unknown[][];
}

before(async () => {
  agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: INTERVAL });
  agent.sampler.start();
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
  // Some history for the back-fill.
  await new Promise((resolve) => setTimeout(resolve, 6 * INTERVAL));
});

after(async () => {
  for (const client of clients) client.close();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of cgroups) {
    try {
      rmdirSync(dir);
    } catch {
      // already removed by the test
    }
  }
  await agent?.close();
});

describe('subscribe', () => {
  test('hello, then metadata and back-fill in one columnar message, then one message per sample', async () => {
    const client = await StreamClient.connect(url);
    clients.push(client);
    const hello = await client.next(isType('hello'), 2000, 'hello');
    assert.equal(hello.v, 1);
    assert.equal(hello.interval, INTERVAL);

    // Metrics the agent keeps collecting (the console's main view), so the back-fill has them: a
    // metric nobody watched before has history only from its first subscription on.
    client.send({ v: 1, type: 'subscribe', id: 'host', metrics: ['kernel.all.load', 'kernel.all.cpu.user', 'kernel.all.runnable'] });
    const sub = (await client.next(isType('subscribed', 'host'), 2000, 'subscribed')) as Subscribed;

    // Metadata: pmapi's fields, from the table.
    assert.deepEqual(sub.metrics.map((m) => m.name), ['kernel.all.load', 'kernel.all.cpu.user', 'kernel.all.runnable']);
    for (const meta of sub.metrics) {
      const desc = agent.table.metric(meta.name!)!;
      assert.deepEqual(
        { pmid: meta.pmid, type: meta.type, sem: meta.sem, units: meta.units, oneline: meta['text-oneline'], help: meta['text-help'], indom: meta.indom },
        { pmid: desc.pmid, type: desc.type, sem: desc.sem, units: desc.units, oneline: desc.oneline, help: desc.help ?? desc.oneline, indom: desc.indom ?? undefined },
      );
      assert.equal(meta.delivered, 'raw');
    }
    assert.deepEqual(sub.instances['60.2'], { 1: '1 minute', 5: '5 minute', 15: '15 minute' });

    // Back-fill: one shared time column, one value column per series, no per-point objects.
    assert.ok(sub.t.length >= 4, `back-fill has ${sub.t.length} samples`);
    assert.equal(sub.values.length, sub.series.length);
    for (const column of sub.values) assert.equal(column.length, sub.t.length);
    const recorded = agent.history.read({ metrics: [agent.table.metric('kernel.all.load')!], start: sub.t[0]!, end: sub.t.at(-1)! });
    assert.deepEqual(sub.t, recorded.times, 'the back-fill times are the sample times the history holds');
    const cpuUser = sub.series.findIndex(([m]) => sub.metrics[m]!.name === 'kernel.all.cpu.user');
    const column = sub.values[cpuUser]!;
    assert.ok(column.every((v) => typeof v === 'string' && /^\d+$/.test(v)), 'u64 values travel as decimal strings');
    assert.ok(BigInt(column.at(-1) as string) >= BigInt(column[0] as string), 'the counter does not go backwards');
    const runnable = sub.series.findIndex(([m, i]) => sub.metrics[m]!.name === 'kernel.all.runnable' && i === null);
    assert.ok(runnable >= 0, 'a singular metric is a series with instance null');

    // Live: one message per sample, values in series order, times after the back-fill.
    let previous = sub.t.at(-1)!;
    for (let k = 0; k < 3; k++) {
      const sample = await client.next(isType('sample', 'host'), 2000, 'sample');
      assert.equal((sample.values as unknown[]).length, sub.series.length);
      const t = sample.t as number;
      assert.ok(t > previous && t - previous < 4 * INTERVAL, `sample ${k} ${t - previous} ms after the previous one`);
      previous = t;
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    const last = client.messages.filter((m) => m.type === 'sample').at(-1)!.values as number[];
    const one = sub.series.findIndex(([m, i]) => sub.metrics[m]!.name === 'kernel.all.load' && i === 1);
    assert.ok(Math.abs(last[one]! - load[0]!) < 0.5, `1-minute load ${last[one]} vs /proc/loadavg ${load[0]}`);
  });

  test('rates: counters per second, time counters as utilization, over the back-fill and live', async () => {
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'rates', metrics: ['vigil.sample.count', 'kernel.all.cpu.user', 'kernel.all.load'], rate: true });
    const sub = (await client.next(isType('subscribed', 'rates'), 2000, 'subscribed')) as Subscribed;
    assert.deepEqual(sub.metrics.map((m) => m.delivered), ['rate', 'utilization', 'raw']);
    const at = (name: string): number => sub.series.findIndex(([m]) => sub.metrics[m]!.name === name);
    // vigil.sample.count grows by exactly one per sample, so its rate is 1000 / (ms between samples),
    // unless more than 1.5 intervals passed (a pass delayed on a busy machine): then it is a gap.
    const expectedRate = (dt: number): number | null => (dt > 1.5 * INTERVAL ? null : 1000 / dt);
    const passes = sub.values[at('vigil.sample.count')]!;
    assert.equal(passes[0], null, 'the first back-fill point has nothing to rate against');
    assert.ok(sub.t.length > 2);
    for (let i = 1; i < sub.t.length; i++) {
      const expected = expectedRate(sub.t[i]! - sub.t[i - 1]!);
      if (expected === null) assert.equal(passes[i], null, `back-fill ${i}: a late pass is a gap`);
      else assert.ok(Math.abs((passes[i] as number) - expected) < 1e-6, `back-fill ${i}: ${passes[i]} passes/s, expected ${expected}`);
    }
    const ncpu = (readFileSync('/proc/stat', 'utf8').match(/^cpu\d+ /gm) ?? []).length;
    let previous = sub.t.at(-1)!;
    for (let k = 0; k < 3; k++) {
      const sample = await client.next(isType('sample', 'rates'), 2000, 'sample');
      const values = sample.values as Array<number | null>;
      const count = values[at('vigil.sample.count')];
      const user = values[at('kernel.all.cpu.user')];
      const expected = expectedRate((sample.t as number) - previous);
      previous = sample.t as number;
      if (expected === null) assert.equal(count, null);
      else assert.ok(Math.abs(count! - expected) < 1e-6, `live: ${count} passes/s, expected ${expected}`);
      if (user !== null) assert.ok(user! >= 0 && user! <= ncpu + 0.1, `user CPU ${user} s/s on ${ncpu} CPUs`);
      assert.equal(typeof values[at('kernel.all.load')], 'number');
    }
  });

  test('every n-th sample, a subscription changed and dropped without reconnecting', async () => {
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 's', metrics: ['kernel.all.load'], every: 2, history: 0 });
    const first = (await client.next(isType('subscribed', 's'), 2000, 'subscribed')) as Subscribed;
    assert.deepEqual(first.t, [], 'history: 0 asks for no back-fill');
    const a = await client.next(isType('sample', 's'), 3000, 'sample');
    const b = await client.next(isType('sample', 's'), 3000, 'sample');
    const between = agent.history.read({ metrics: [agent.table.metric('kernel.all.load')!], start: a.t as number, end: b.t as number });
    assert.equal(between.times.length, 3, 'every 2: one sample skipped between two delivered ones');

    // Same id, other metrics: the subscription is replaced in place.
    client.send({ v: 1, type: 'subscribe', id: 's', metrics: ['kernel.all.nprocs'] });
    const changed = (await client.next(isType('subscribed', 's'), 2000, 'subscribed again')) as Subscribed;
    assert.deepEqual(changed.metrics.map((m) => m.name), ['kernel.all.nprocs']);
    // nprocs was not collected before: the agent starts a pass for it at once, but a pass
    // already under way may deliver one sample without it (docs/STREAM.md).
    const after1 = await client.next((m) => m.type === 'sample' && m.id === 's' && (m.values as unknown[]).length > 0, 2000, 'sample after the change');
    assert.equal((after1.values as unknown[]).length, 1);
    assert.equal(after1.values && typeof (after1.values as unknown[])[0], 'number');

    client.send({ v: 1, type: 'unsubscribe', id: 's' });
    await client.next(isType('unsubscribed', 's'), 2000, 'unsubscribed');
    const count = client.messages.length;
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL));
    assert.deepEqual(client.messages.slice(count).filter((m) => m.id === 's'), [], 'no samples after unsubscribing');
  });

  test('errors name the problem and keep the connection', async () => {
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'e', metrics: ['no.such.metric', 'kernel.all.load'] });
    const unknown = await client.next(isType('error'), 2000, 'error');
    assert.equal(unknown.code, 'unknown-metric');
    assert.match(unknown.message as string, /no\.such\.metric/);
    assert.equal(unknown.id, 'e');
    client.ws.send('{not json');
    assert.equal((await client.next(isType('error'), 2000, 'error')).code, 'bad-json');
    client.send({ v: 2, type: 'subscribe', id: 'e', metrics: ['kernel.all.load'] });
    assert.equal((await client.next(isType('error'), 2000, 'error')).code, 'unsupported-version');
    client.send({ v: 1, type: 'subscribe', id: 'e', metrics: ['kernel.all.load'], containers: ['vigil-no-such-container'] });
    assert.equal((await client.next(isType('error'), 2000, 'error')).code, 'unknown-container');
    client.send({ v: 1, type: 'unsubscribe', id: 'never' });
    assert.equal((await client.next(isType('error'), 2000, 'error')).code, 'unknown-subscription');
    client.send({ v: 1, type: 'subscribe', id: 'big', metrics: ['x'.repeat(70 * 1024)] });
    const big = await client.next(isType('error'), 2000, 'error');
    assert.equal(big.code, 'message-too-large');
    assert.match(big.message as string, /65536-byte limit/);
    client.send({ v: 1, type: 'subscribe', id: 'ok', metrics: ['kernel.all.load'] });
    await client.next(isType('subscribed', 'ok'), 2000, 'subscribed after the errors');
  });
});

describe('instances come and go in the stream', () => {
  test('a new process is announced with its name, and retired when it exits', async (t) => {
    if (!agent.table.metric('proc.psinfo.pid')) return t.skip('no processes collector registered');
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'procs', metrics: ['proc.psinfo.pid'], history: 0 });
    await client.next(isType('subscribed', 'procs'), 2000, 'subscribed');
    await client.next(isType('sample', 'procs'), 3000, 'first sample');
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    children.push(child);
    // PCP names a process instance by its zero-padded pid and command.
    const token = `${String(child.pid).padStart(6, '0')} `;
    const added = await client.next(
      (m) => m.type === 'instances' && Object.values((m.added as Record<string, Record<string, string>>)['3.9'] ?? {}).some((n) => n.startsWith(token)),
      5000, `the process ${child.pid} announced`,
    );
    const [id] = Object.entries((added.added as Record<string, Record<string, string>>)['3.9']!).find(([, n]) => n.startsWith(token))!;
    assert.ok((added.series as { added: unknown[][] }).added.some(([m, i]) => m === 0 && i === Number(id)), 'its series is appended');
    // Its pid is the value of its series in the next sample.
    const sample = await client.next(isType('sample', 'procs'), 2000, 'sample');
    assert.ok((sample.values as number[]).includes(child.pid!), `pid ${child.pid} is among the values`);

    child.kill('SIGKILL');
    const removed = await client.next(
      (m) => m.type === 'instances' && ((m.removed as Record<string, number[]>)['3.9'] ?? []).includes(Number(id)),
      5000, `the process ${child.pid} retired`,
    );
    assert.ok((removed.series as { removed: unknown[][] }).removed.some(([m, i]) => m === 0 && i === Number(id)));
  });

  test('a stream client is itself an instance of vigil.stream.client.*', async () => {
    const watcher = await connect();
    watcher.send({ v: 1, type: 'subscribe', id: 'clients', metrics: ['vigil.stream.client.subscriptions'], history: 0 });
    await watcher.next(isType('subscribed', 'clients'), 2000, 'subscribed');
    const other = await connect();
    const port = (other.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    const added = await watcher.next(
      (m) => m.type === 'instances' && Object.values((m.added as Record<string, Record<string, string>>)['500.60'] ?? {}).some((n) => n.endsWith(`:${port}`)),
      5000, `client on port ${port} announced`,
    );
    const [id] = Object.entries((added.added as Record<string, Record<string, string>>)['500.60']!).find(([, n]) => n.endsWith(`:${port}`))!;
    other.close();
    await watcher.next(
      (m) => m.type === 'instances' && ((m.removed as Record<string, number[]>)['500.60'] ?? []).includes(Number(id)),
      5000, `client on port ${port} retired`,
    );
  });

  test('a new cgroup is announced and retired', async (t) => {
    if (!agent.table.metric('cgroup.cpuacct.usage')) return t.skip('no cgroup collector registered in agent/collectors/index.ts yet');
    const name = `vigil-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'cg', metrics: ['cgroup'], instances: [`/${name}`], history: 0 });
    await client.next(isType('subscribed', 'cg'), 2000, 'subscribed');
    const dirs = [`/sys/fs/cgroup/cpuacct/${name}`, `/sys/fs/cgroup/unified/${name}`];
    for (const dir of dirs) {
      mkdirSync(dir);
      cgroups.push(dir);
    }
    const added = await client.next(
      (m) => m.type === 'instances' && Object.values(m.added as Record<string, Record<string, string>>).some((names) => Object.values(names).includes(`/${name}`)),
      5000, `cgroup /${name} announced`,
    );
    const ids = Object.entries(added.added as Record<string, Record<string, string>>).map(([indom, names]) => [indom, Object.keys(names)]);
    for (const dir of dirs) rmdirSync(dir);
    await client.next(
      (m) => m.type === 'instances' && ids.some(([indom, list]) => ((m.removed as Record<string, number[]>)[indom as string] ?? []).some((i) => (list as string[]).includes(String(i)))),
      5000, `cgroup /${name} retired`,
    );
  });
});

describe('GET /history', () => {
  test('the same columns over HTTP, raw and rated', async () => {
    const raw = await (await fetch(`${url}/history?names=kernel.all.load,kernel.all.cpu.user&start=-1s`)).json() as Subscribed;
    assert.equal(raw.v, 1);
    assert.deepEqual(raw.metrics.map((m) => m.name), ['kernel.all.load', 'kernel.all.cpu.user']);
    assert.ok(raw.t.length >= 2 && raw.t.length <= 1000 / INTERVAL + 2, `${raw.t.length} samples in the last second`);
    assert.ok(raw.t[0]! >= Date.now() - 1500);
    for (const column of raw.values) assert.equal(column.length, raw.t.length);

    const rated = await (await fetch(`${url}/history?names=kernel.all.cpu.user&instances=x&start=-2s&rate=1`)).json() as Subscribed;
    assert.equal(rated.metrics[0]!.delivered, 'utilization');
    assert.ok(rated.values[0]!.slice(1).some((v) => typeof v === 'number'), 'rated values are numbers');

    const only = await (await fetch(`${url}/history?names=kernel.all.load&instances=5%20minute`)).json() as Subscribed;
    assert.deepEqual(only.series.map(([, i]) => i), [5]);

    const bad = await fetch(`${url}/history?names=kernel.all.load&start=yesterday`);
    assert.equal(bad.status, 400);
    const error = await bad.json() as { code: string; message: string };
    assert.equal(error.code, 'bad-request');
    assert.match(error.message, /start="yesterday" is not a time/);
  });

  test('a repeated parameter keeps its first value, and a malformed %-escape is a 400', async () => {
    // Found by the fuzz test: a repeated names= reached the handler as an array and answered 500.
    const twice = await fetch(`${url}/history?names=kernel.all.load&names=5&start=-1s&start=x`);
    assert.equal(twice.status, 200);
    assert.deepEqual(((await twice.json()) as Subscribed).metrics.map((m) => m.name), ['kernel.all.load']);

    const malformed = await fetch(`${url}/history?names=kernel.all.load%zz`);
    assert.equal(malformed.status, 400);
    const error = await malformed.json() as { code: string; message: string };
    assert.equal(error.code, 'bad-request');
    assert.match(error.message, /malformed %-escape/);
  });
});
