import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAgent, type Agent } from '../../agent/agent.js';
import { pmidToNumber } from '../../agent/metrics/pmid.js';
import { TestCgroup } from '../support/cgroup.js';
import { CHECKLIST, PLAIN_METRIC, rawRequest } from './support.js';

/**
 * The request sequences real clients send (CLIENTS.md 1.2, 1.3, 2.2), replayed against the
 * real agent on this host: Netflix Vector 1.x and 2.x (pmwebd dialect) and grafana-pcp's PCP
 * Vector datasource (native dialect), including context expiry and recovery, container
 * selection on a real cgroup with a real process, and server-side derived metrics.
 */

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let agent: Agent;
let url: string;
/** A real container: an LXC-style cgroup (`/lxc.payload.<name>`) with a process in it. */
let cgroup: TestCgroup;
let container: string;

async function get(path: string, expectStatus = 200): Promise<Body> {
  const response = await fetch(`${url}${path}`);
  const text = await response.text();
  assert.equal(response.status, expectStatus, `GET ${path}: ${text.slice(0, 400)}`);
  assert.ok(text.endsWith('\r\n'), `GET ${path}: JSON ends in CRLF`);
  return JSON.parse(text) as Body;
}

/** What Vector 1.x does with a failed request: read the body as text and look for -12376. */
async function vectorError(path: string): Promise<{ status: number; text: string; type: string }> {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') ?? '' };
}

before(async () => {
  const name = `vigil-test-${process.pid}-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 8)}`;
  cgroup = new TestCgroup(`lxc.payload.${name}`);
  container = name;
  await cgroup.spawn('/bin/sleep', ['600']);
  agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 500 });
  agent.sampler.start();
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await agent?.close();
  await cgroup?.destroy();
});

/** Waits until the container discovery (a real one, engineer E's) lists our container. */
async function containerListed(): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const reply = await get(`/pmapi/fetch?names=containers.name`);
    if (reply.values[0]?.instances.some((i: Body) => i.value === container)) return;
    await sleep(250);
  }
  assert.fail(`container ${container} (cgroup ${cgroup.path}) never appeared in containers.name`);
}

describe('Netflix Vector 1.x', () => {
  test('connect, learn metrics, poll by names then pmids, map instances, select a container', async () => {
    const { context } = await get('/pmapi/context?hostspec=localhost&polltimeout=600&exclusive=1');
    assert.ok(Number.isInteger(context) && context > 0);

    const metrics = await get(`/pmapi/${context}/_metric`);
    assert.equal(metrics.metrics.length, agent.table.size, 'the whole namespace for the custom-widget picker');
    const load = metrics.metrics.find((m: Body) => m.name === 'kernel.all.load');
    assert.equal(load.pmid, pmidToNumber('60.2.0'));

    const hostname = await get(`/pmapi/${context}/_fetch?names=pmcd.hostname`);
    assert.equal(typeof hostname.values[0].instances[0].value, 'string');
    assert.equal(hostname.values[0].instances[0].instance, -1);

    // first poll: names whose pmids Vector does not know yet
    const first = await get(`/pmapi/${context}/_fetch?names=kernel.all.load,kernel.all.cpu.user,mem.util.free`);
    assert.ok(Number.isInteger(first.timestamp.s) && Number.isInteger(first.timestamp.us), 'timestamp {s, us}');
    assert.equal(first.context, undefined, 'no context in a compat fetch');
    const pmids = first.values.map((v: Body) => v.pmid);
    assert.ok(pmids.every((p: unknown) => typeof p === 'number'));

    // later polls: the learnt pmids, plus names of a newly added widget, in one request
    const next = await get(`/pmapi/${context}/_fetch?pmids=${pmids.join(',')}&names=network.interface.in.bytes`);
    assert.deepEqual(next.values.map((v: Body) => v.name), ['kernel.all.load', 'kernel.all.cpu.user', 'mem.util.free', 'network.interface.in.bytes']);
    assert.ok(next.timestamp.s * 1e6 + next.timestamp.us >= first.timestamp.s * 1e6 + first.timestamp.us);

    // after every fetch, one _indom per metric with the ids it saw (-1 for singular ones)
    for (const metric of next.values) {
      const ids = metric.instances.map((i: Body) => i.instance).join(',');
      const indom = await get(`/pmapi/${context}/_indom?name=${metric.name}&instance=${ids}`);
      assert.ok(Array.isArray(indom.instances), `${metric.name}: instances exists even for singular metrics`);
      if (ids === '-1') assert.equal(indom.instances.length, 0);
      else assert.deepEqual(indom.instances.map((i: Body) => i.instance).sort(), metric.instances.map((i: Body) => i.instance).sort());
    }

    // picking "no container" stores an empty name
    assert.equal((await get(`/pmapi/${context}/_store?name=pmcd.client.container&value=`)).success, true);
  });

  test('an expired context answers text containing -12376, and a new context works', async () => {
    const { context } = await get('/pmapi/context?hostspec=localhost&polltimeout=0.2&exclusive=1');
    await get(`/pmapi/${context}/_fetch?names=kernel.all.load`);
    await sleep(400);
    const failed = await vectorError(`/pmapi/${context}/_fetch?names=kernel.all.load`);
    assert.equal(failed.status, 400);
    assert.ok(failed.text.indexOf('-12376') >= 0, `Vector looks for -12376 in: ${failed.text}`);
    assert.match(failed.type, /^text\/plain/, 'Vector 1.x calls .indexOf on the body: it must not be JSON');
    const again = await get('/pmapi/context?hostspec=localhost&polltimeout=600&exclusive=1');
    assert.notEqual(again.context, context);
    assert.equal((await get(`/pmapi/${again.context}/_fetch?names=kernel.all.load`)).values.length, 1);
    // long after collection it is unknown, still -12376
    await sleep(4200);
    assert.match((await vectorError(`/pmapi/${context}/_fetch?names=kernel.all.load`)).text, /-12376.*unknown context identifier/);
  });
});

describe('Netflix Vector 2.x', () => {
  test('fetches by numeric pmids only, keys singular values on -1, scopes a context to a container', async () => {
    await containerListed();
    const { context } = await get('/pmapi/context?exclusive=1&hostspec=localhost&polltimeout=10');
    const metrics = await get(`/pmapi/${context}/_metric`);
    const pmidOf = new Map<string, number>(metrics.metrics.map((m: Body) => [m.name, m.pmid]));
    const chart = ['kernel.all.cpu.user', 'mem.util.free', 'network.interface.in.bytes', 'cgroup.cpuacct.usage'];
    for (const name of chart) assert.ok(pmidOf.has(name), `${name} is in _metric (a chart is greyed out otherwise)`);

    // context poll: container list joined by instance id
    const names = await get(`/pmapi/${context}/_fetch?names=containers.name`);
    const cgroups = await get(`/pmapi/${context}/_fetch?names=containers.cgroup`);
    const ours = names.values[0].instances.find((i: Body) => i.value === container);
    const path = cgroups.values[0].instances.find((i: Body) => i.instance === ours.instance)?.value;
    assert.equal(path, cgroup.path, 'containers.cgroup is the cgroup instance name');

    // the target's container is stored once per context
    assert.equal((await get(`/pmapi/${context}/_store?name=pmcd.client.container&value=${encodeURIComponent(container)}`)).success, true);
    const dataset = await get(`/pmapi/${context}/_fetch?pmids=${chart.map((n) => pmidOf.get(n)).join(',')}`);
    const byName = new Map(dataset.values.map((v: Body) => [v.name, v]));
    assert.equal((byName.get('mem.util.free') as Body).instances[0].instance, -1);
    const usage = byName.get('cgroup.cpuacct.usage') as Body;
    const indom = await get(`/pmapi/${context}/_indom?name=cgroup.cpuacct.usage`);
    const instanceNames = new Map(indom.instances.map((i: Body) => [i.instance, i.name]));
    const seen = usage.instances.map((i: Body) => instanceNames.get(i.instance));
    assert.ok(seen.length > 0 && seen.every((n: string) => n === cgroup.path || n.startsWith(`${cgroup.path}/`)), `only the container's cgroups: ${seen}`);

    // an unknown container is refused, saying how to list them
    const refused = await vectorError(`/pmapi/${context}/_store?name=pmcd.client.container&value=no-such-container`);
    assert.equal(refused.status, 400);
    assert.match((JSON.parse(refused.text) as Body).message, /unknown container "no-such-container".*containers\.name/);
  });
});

describe('grafana-pcp PCP Vector datasource', () => {
  test('context, derived rate metrics, metadata, fetch: rate of a real counter is positive and in rate units', async () => {
    const refreshMs = 1000;
    const hostspec = encodeURIComponent('pcp://127.0.0.1');
    const created = await get(`/pmapi/context?hostspec=${hostspec}&polltimeout=${Math.round((refreshMs + 10_000) / 1000)}`);
    const context = created.context;
    assert.equal(created.labels.hostname, created.hostspec);

    const md5 = (expr: string): string => `derived_${createHash('md5').update(expr).digest('hex')}`;
    const cpu = 'rate(kernel.all.cpu.user)';
    const bytes = 'rate(network.interface.in.bytes)';
    for (const expr of [cpu, bytes]) {
      assert.equal((await get(`/pmapi/derive?context=${context}&expr=${encodeURIComponent(expr)}&name=${md5(expr)}`)).success, true);
    }
    // re-registering after a reload: grafana ignores exactly this error
    const duplicate = await get(`/pmapi/derive?context=${context}&expr=${encodeURIComponent(cpu)}&name=${md5(cpu)}`, 400);
    assert.match(duplicate.message, /Duplicate per-context derived metric name/);

    const names = ['kernel.all.load', 'kernel.all.cpu.user', md5(cpu), md5(bytes), 'no.such.metric'];
    const metadata = await get(`/pmapi/metric?context=${context}&names=${names.join(',')}`);
    const meta = new Map(metadata.metrics.map((m: Body) => [m.name, m]));
    assert.equal((meta.get('no.such.metric') as Body).success, false, 'unknown names come back as entries, which grafana drops');
    assert.equal((meta.get('kernel.all.cpu.user') as Body).sem, 'counter');
    assert.equal((meta.get(md5(cpu)) as Body).units, 'none', 'rate of a millisec counter is a utilization');
    assert.equal((meta.get(md5(bytes)) as Body).units, 'byte / sec');
    assert.equal((meta.get(md5(bytes)) as Body).sem, 'instant');

    const fetchNames = names.slice(0, 4).join(',');
    const first = await get(`/pmapi/fetch?context=${context}&names=${fetchNames}`);
    assert.equal(typeof first.timestamp, 'number');
    const firstRate = first.values.find((v: Body) => v.name === md5(cpu));
    assert.deepEqual(firstRate.instances, [{ instance: null, value: 0 }], "the first rate sample is pmproxy's singular 0");
    assert.deepEqual(first.values.find((v: Body) => v.name === md5(bytes)).instances, [], 'and [] for an indom metric');

    await sleep(1200); // the next sample; this test's own requests are traffic on lo
    const second = await get(`/pmapi/fetch?context=${context}&names=${fetchNames}`);
    assert.ok(second.timestamp > first.timestamp);
    const utilization = second.values.find((v: Body) => v.name === md5(cpu)).instances[0].value;
    assert.ok(utilization > 0 && utilization < 64, `user CPU utilization ${utilization} (fraction of one CPU, 2 CPUs here)`);
    const indom = await get(`/pmapi/indom?context=${context}&name=network.interface.in.bytes`);
    const lo = indom.instances.find((i: Body) => i.name === 'lo').instance;
    const loRate = second.values.find((v: Body) => v.name === md5(bytes)).instances.find((i: Body) => i.instance === lo).value;
    assert.ok(loRate > 0, `bytes/s received on lo: ${loRate}`);

    // editor autocompletion: no context, an implicit one per request
    const children = await get(`/pmapi/children?hostspec=${hostspec}&prefix=kernel.all`);
    assert.ok(children.leaf.includes('load') && children.nonleaf.includes('cpu'));
    assert.notEqual(children.context, context);
    // "Test datasource"
    const version = await get(`/pmapi/fetch?hostspec=${hostspec}&names=pmcd.version`);
    assert.equal(typeof version.values[0].instances[0].value, 'string');
  });

  test("every expression of the checklist dashboards registers and, where this host has its metrics, has values", async () => {
    const { context } = await get('/pmapi/context?hostspec=pcp%3A%2F%2F127.0.0.1&polltimeout=30');
    const name = (expr: string): string => `derived_${createHash('md5').update(expr).digest('hex')}`;
    const derived = CHECKLIST.filter((expr) => !PLAIN_METRIC.test(expr));
    assert.ok(derived.length >= 6);
    for (const expr of derived) {
      assert.equal((await get(`/pmapi/derive?context=${context}&expr=${encodeURIComponent(expr)}&name=${name(expr)}`)).success, true, expr);
    }
    const names = derived.map(name).join(',');
    await get(`/pmapi/fetch?context=${context}&names=${names}`);
    await sleep(1100);
    const reply = await get(`/pmapi/fetch?context=${context}&names=${names}`);
    const served = new Map(reply.values.map((v: Body) => [v.name, v.instances]));
    for (const expr of derived) {
      const operands = [...expr.matchAll(/[a-z][a-z0-9_]*(\.[a-z0-9_]+)+/g)].map((m) => m[0]);
      const available = operands.every((o) => agent.table.metric(o));
      if (!available) {
        assert.equal(served.has(name(expr)), false, `${expr}: operands missing here, so never reported (as PCP)`);
        continue;
      }
      const instances = served.get(name(expr)) as Body[];
      assert.ok(instances, `${expr}: reported`);
      // a ratio over a zero divisor (no link speed in a VM, no I/O this second) has no value
      if (!expr.includes('/')) assert.ok(instances.length > 0, `${expr}: values`);
      for (const { value } of instances) assert.ok(typeof value === 'number' && Number.isFinite(value), `${expr}: numeric values`);
    }
  });

  test('an expired context is recognised by its message; a new context and re-registered derived metrics work', async () => {
    const { context } = await get('/pmapi/context?hostspec=pcp%3A%2F%2F127.0.0.1&polltimeout=0.2');
    await get(`/pmapi/derive?context=${context}&expr=hinv.ncpu*2&name=derived_x`);
    await sleep(400);
    const failed = await get(`/pmapi/fetch?context=${context}&names=derived_x`, 400);
    assert.equal(failed.message, `expired context identifier: ${context}`);
    const fresh = (await get('/pmapi/context?hostspec=pcp%3A%2F%2F127.0.0.1&polltimeout=11')).context;
    await get(`/pmapi/derive?context=${fresh}&expr=hinv.ncpu*2&name=derived_x`);
    const values = await get(`/pmapi/fetch?context=${fresh}&names=derived_x,hinv.ncpu`);
    assert.equal(values.values[0].instances[0].value, values.values[1].instances[0].value * 2);
  });

  test('a container selected by hostspec attribute: its labels and only its cgroups', async () => {
    await containerListed();
    const hostspec = encodeURIComponent(`pcp://127.0.0.1?container=${container}`);
    const created = await get(`/pmapi/context?hostspec=${hostspec}&polltimeout=11`);
    assert.equal(created.labels.container, container);
    const usage = await get(`/pmapi/fetch?context=${created.context}&names=cgroup.cpuacct.usage`);
    const indom = await get(`/pmapi/indom?context=${created.context}&name=cgroup.cpuacct.usage`);
    assert.ok(usage.values[0].instances.length >= 1);
    for (const { name } of indom.instances) assert.ok(name === cgroup.path || name.startsWith(`${cgroup.path}/`), `${name} is outside the container`);

    const unknown = await get(`/pmapi/context?hostspec=${encodeURIComponent('pcp://127.0.0.1?container=no-such-container')}`, 400);
    assert.match(unknown.message, /^unknown container "no-such-container"/);
    // grafana-pcp skips such queries itself, because PCP would show every cgroup: we refuse them
    const empty = await get(`/pmapi/context?hostspec=${encodeURIComponent('pcp://127.0.0.1?container=')}`, 400);
    assert.match(empty.message, /empty container name/);
  });

  test('a browser preflight carrying Grafana and Authorization headers is allowed', async () => {
    const reply = await rawRequest(url, {
      method: 'OPTIONS',
      target: '/pmapi/fetch?names=hinv.ncpu',
      headers: {
        Origin: 'http://grafana.example:3000',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-grafana-org-id,x-grafana-device-id,authorization',
      },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('access-control-allow-origin'), 'http://grafana.example:3000');
    const allowed = (reply.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    for (const h of ['x-grafana-org-id', 'x-grafana-device-id', 'authorization', 'content-type']) assert.ok(allowed.includes(h), `${h} allowed: ${allowed}`);
    const post = await rawRequest(url, { method: 'OPTIONS', target: '/pmapi/derive?name=a&expr=b', headers: { Origin: 'http://g', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(post.status, 200);
    assert.equal(post.headers.get('access-control-allow-methods'), 'GET, HEAD, POST, TRACE, OPTIONS');
    const refused = await rawRequest(url, { method: 'OPTIONS', target: '/pmapi/fetch?names=a', headers: { Origin: 'http://g', 'Access-Control-Request-Method': 'DELETE' } });
    assert.equal(refused.status, 405);
  });
});
