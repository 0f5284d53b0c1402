import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { parseHostspec } from '../../agent/api/contexts.js';
import { PmapiError } from '../../agent/api/errors.js';
import { rawRequest } from './support.js';

/**
 * Native-dialect behaviour that the golden replies show only in shape: what profiles select,
 * POST bodies, derived metrics' per-context visibility and pmids, OpenMetrics values, hostspecs.
 */

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let agent: Agent;
let url: string;

before(async () => {
  agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, collectors: ['loadavg', 'network', 'stat'] });
  agent.sampler.start();
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => agent.close());

async function get(path: string, status = 200): Promise<Body> {
  const response = await fetch(`${url}${path}`);
  const text = await response.text();
  assert.equal(response.status, status, `${path}: ${text}`);
  return JSON.parse(text) as Body;
}

const context = async (): Promise<number> => (await get('/pmapi/context?polltimeout=60')).context;
const loadInstances = async (c: number): Promise<number[]> =>
  (await get(`/pmapi/fetch?context=${c}&names=kernel.all.load`)).values[0].instances.map((i: Body) => i.instance);

test('instance profiles restrict later fetches of their indom in that context only', async () => {
  const c = await context();
  const other = await context();
  assert.deepEqual(await loadInstances(c), [1, 5, 15]);
  await get(`/pmapi/profile?context=${c}&expr=add&indom=60.2&iname=1%20minute`);
  assert.deepEqual(await loadInstances(c), [1]);
  assert.deepEqual(await loadInstances(other), [1, 5, 15], 'another context is unaffected');
  await get(`/pmapi/profile?context=${c}&expr=del&indom=60.2`);
  assert.deepEqual(await loadInstances(c), []);
  await get(`/pmapi/profile?context=${c}&expr=add&name=kernel.all.load&instance=5,15`);
  assert.deepEqual(await loadInstances(c), [5, 15]);
  await get(`/pmapi/profile?context=${c}&expr=add&indom=60.2&iname=1*&match=glob`);
  assert.deepEqual(await loadInstances(c), [1, 5, 15]);
  await get(`/pmapi/profile?context=${c}&expr=del&indom=251658242&instance=5`);
  assert.deepEqual(await loadInstances(c), [1, 15]);
  await get(`/pmapi/profile?context=${c}&expr=add&indom=60.2`);
  assert.deepEqual(await loadInstances(c), [1, 5, 15], 'add without instances restores all');
});

test('POST and PUT carry parameters in JSON or form bodies; store takes its value from the body', async () => {
  const c = await context();
  const json = await rawRequest(url, {
    method: 'POST', target: `/pmapi/fetch?context=${c}`, headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ names: ['kernel.all.load', 'kernel.all.nprocs'] }),
  });
  assert.equal(json.status, 200, json.body);
  assert.deepEqual((JSON.parse(json.body) as Body).values.map((v: Body) => v.name), ['kernel.all.load', 'kernel.all.nprocs']);
  const form = await rawRequest(url, {
    method: 'PUT', target: '/pmapi/metric', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `context=${c}&names=kernel.all.nprocs`,
  });
  assert.equal((JSON.parse(form.body) as Body).metrics[0].name, 'kernel.all.nprocs');
  const store = await rawRequest(url, { method: 'POST', target: `/pmapi/store?context=${c}&name=kernel.all.load`, body: '2' });
  assert.equal(store.status, 400);
  assert.equal((JSON.parse(store.body) as Body).message, 'failed to store value to metric kernel.all.load: No permission to perform requested operation');
});

test('derived metrics live in their context, with pmids allocated downwards from 511.2047.1023', async () => {
  const c = await context();
  const other = await context();
  await get(`/pmapi/derive?context=${c}&name=my.load1&expr=${encodeURIComponent('kernel.all.load * 2')}`);
  await get(`/pmapi/derive?context=${c}&name=my.unknown&expr=${encodeURIComponent('no.such.metric * 2')}`);
  await get(`/pmapi/derive?context=${c}&name=my.procs&expr=${encodeURIComponent('kernel.all.nprocs + 1')}`);
  const both = await get(`/pmapi/fetch?context=${c}&names=my.load1,my.procs,my.unknown,kernel.all.load,kernel.all.nprocs`);
  const by = new Map(both.values.map((v: Body) => [v.name, v]));
  assert.equal((by.get('my.load1') as Body).pmid, '511.2047.1023');
  assert.equal((by.get('my.procs') as Body).pmid, '511.2047.1022', 'the accepted-but-unknown one takes no pmid');
  assert.equal(by.has('my.unknown'), false, 'a metric over unknown operands is never reported (as PCP)');
  const loads = (by.get('kernel.all.load') as Body).instances;
  (by.get('my.load1') as Body).instances.forEach((i: Body, n: number) => {
    assert.equal(i.instance, loads[n].instance);
    assert.ok(Math.abs(i.value - 2 * loads[n].value) < 1e-5);
  });
  assert.equal((by.get('my.procs') as Body).instances[0].value, (by.get('kernel.all.nprocs') as Body).instances[0].value + 1);
  assert.deepEqual((await get(`/pmapi/fetch?context=${other}&names=my.load1`)).values, []);
  assert.deepEqual((await get(`/pmapi/children?context=${c}&prefix=my`)).leaf, ['load1', 'procs']);
  await get(`/pmapi/children?context=${other}&prefix=my`, 400);
  const byPmid = await get(`/pmapi/fetch?context=${c}&pmids=511.2047.1022`);
  assert.equal(byPmid.values[0].name, 'my.procs');
  const semantic = await get(`/pmapi/derive?context=${c}&name=my.bad&expr=${encodeURIComponent('kernel.all.load + network.interface.mtu')}`, 400);
  assert.match(semantic.message, /^Semantic Error: derived metric my\.bad: .*: Dimensions are not the same/);
});

test('OpenMetrics: PCP metadata lines, one sample line per instance, u64 counters exact, string metrics left out', async () => {
  const response = await fetch(`${url}/metrics?names=kernel.all.load,network.interface.in.bytes,kernel.uname.release&times=true`);
  assert.equal(response.headers.get('content-type'), 'text/plain');
  const text = await response.text();
  assert.match(text, /^# PCP5 kernel\.all\.load 60\.2\.0 float 60\.2 instant none\n# HELP kernel_all_load .+\n# TYPE kernel_all_load gauge\n/);
  assert.match(text, /# TYPE network_interface_in_bytes counter\n/);
  assert.doesNotMatch(text, /kernel_uname_release/);
  const lines = text.split('\n').filter((l) => l.startsWith('network_interface_in_bytes{'));
  const fetched = await get(`/pmapi/fetch?names=network.interface.in.bytes`);
  assert.equal(lines.length, fetched.values[0].instances.length);
  for (const line of lines) {
    const m = /instname="([^"]+)",instid="(\d+)"} (\d+) (\d+)$/.exec(line);
    assert.ok(m, line);
    assert.ok(/^\d+$/.test(m[3]!) && BigInt(m[3]!) >= 0n, 'an integer, printed exactly');
    assert.ok(Math.abs(Number(m[4]) - Date.now()) < 60_000, 'sample time in ms');
  }
});

test('hostspecs: this host in its spellings, the container attribute, other hosts refused', () => {
  const spec = (text: string) => parseHostspec(text, 'vm');
  for (const local of ['localhost', 'pcp://127.0.0.1', 'pcp://127.0.0.1:44321', '127.0.0.1', 'vm', '[::1]', 'local:', 'unix:']) {
    assert.doesNotThrow(() => spec(local), local);
  }
  assert.equal(spec('local:').local, true);
  assert.equal(spec('pcp://127.0.0.1?container=web-1').container, 'web-1');
  assert.equal(spec('localhost?container=web%201').container, 'web 1');
  assert.equal(spec('pcp://127.0.0.1?username=x&container=db').container, 'db');
  assert.equal(spec('pcp://127.0.0.1?container=').container, '', 'an empty name is kept, for the caller to refuse');
  assert.throws(() => spec('otherhost'), (e: unknown) => e instanceof PmapiError && /serves only its own host \(vm\)/.test(e.message));
  assert.throws(() => spec('127.0.0.1:9'), (e: unknown) => e instanceof PmapiError && e.message === 'cannot connect to PMCD: Connection refused');
});

test('verbs match by prefix, the context may be a path segment, unknown URLs get the HTML page', async () => {
  const c = await context();
  assert.equal((await get(`/pmapi/${c}/fetchx?names=kernel.all.load`)).context, c);
  assert.equal((await get(`/pmapi/${c}/metric/?names=kernel.all.load`)).context, c);
  const openMetrics = await fetch(`${url}/pmapi/${c}/metrics?names=kernel.all.load`);
  assert.equal(openMetrics.headers.get('content-type'), 'text/plain', '`metrics` is matched before `metric`');
  const head = await rawRequest(url, { method: 'HEAD', target: `/pmapi/${c}/fetch?names=kernel.all.load` });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  for (const target of ['/pmapi/FETCH', '/pmapi/12x/_fetch', '/nonsense/deeper']) {
    const reply = await rawRequest(url, { target });
    assert.equal(reply.status, 400, target);
    assert.match(reply.body, /no handler for URL/);
  }
});
