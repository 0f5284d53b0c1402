import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { DEFAULT_LIMITS } from '../../agent/api/contexts.js';
import { MAX_URL_LENGTH } from '../../agent/api/http.js';
import { rawRequest } from './support.js';

/**
 * Every bound on what a client can make the agent hold, counted up to the limit: the request at
 * the limit works, the next one fails with an error that says which limit and what to do.
 */

let agent: Agent;
let url: string;

before(async () => {
  agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, collectors: ['loadavg'] });
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => agent.close());

async function get(target: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${target}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test(`contexts: ${DEFAULT_LIMITS.contexts} live at once, the next is refused until idle ones expire`, async (t) => {
  // its own agent: this test fills the context table
  const own = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, collectors: ['loadavg'] });
  t.after(() => own.close());
  const base = await own.app.listen({ port: 0, host: '127.0.0.1' });
  const get = async (target: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${base}${target}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const ids = new Set<number>();
  // explicit and implicit creations count alike
  for (let i = 0; i < DEFAULT_LIMITS.contexts; i++) {
    const reply = await get(i % 2 ? '/pmapi/context?polltimeout=30' : '/pmapi/fetch?polltimeout=30&names=kernel.all.load');
    assert.equal(reply.status, 200, `context ${i + 1}: ${JSON.stringify(reply.body)}`);
    ids.add(reply.body.context as number);
  }
  assert.equal(ids.size, DEFAULT_LIMITS.contexts, 'every id distinct');
  const refused = await get('/pmapi/context');
  assert.equal(refused.status, 400);
  assert.match(refused.body.message as string, new RegExp(`at most ${DEFAULT_LIMITS.contexts} at once.*expire after their polltimeout.*\\?context=N`));
  // an existing context still works
  assert.equal((await get(`/pmapi/fetch?context=${[...ids][0]}&names=kernel.all.load`)).status, 200);
});

test(`derived metrics: ${DEFAULT_LIMITS.derivedPerContext} per context`, async () => {
  const context = await newContext();
  for (let i = 0; i < DEFAULT_LIMITS.derivedPerContext; i++) {
    const reply = await get(`/pmapi/derive?context=${context}&name=derived.n${i}&expr=kernel.all.load*${i}`);
    assert.equal(reply.status, 200, `derived ${i + 1}: ${JSON.stringify(reply.body)}`);
  }
  const refused = await get(`/pmapi/derive?context=${context}&name=derived.more&expr=kernel.all.load`);
  assert.equal(refused.status, 400);
  assert.match(refused.body.message as string, new RegExp(`too many derived metrics in context ${context}: at most ${DEFAULT_LIMITS.derivedPerContext}`));
  const metrics = await get(`/pmapi/metric?context=${context}&prefix=derived`);
  assert.equal((metrics.body.metrics as unknown[]).length, DEFAULT_LIMITS.derivedPerContext);
});

test(`names: ${DEFAULT_LIMITS.namesPerRequest} per request (sent as a POST form, past the URL limit)`, async () => {
  const context = await newContext();
  const names = (n: number): string => `names=${Array.from({ length: n }, () => 'kernel.all.load').join(',')}`;
  const post = (body: string) =>
    rawRequest(url, { method: 'POST', target: `/pmapi/fetch?context=${context}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  const atLimit = await post(names(DEFAULT_LIMITS.namesPerRequest));
  assert.equal(atLimit.status, 200, atLimit.body);
  assert.equal((JSON.parse(atLimit.body) as { values: unknown[] }).values.length, 1, 'the same metric once');
  const over = await post(names(DEFAULT_LIMITS.namesPerRequest + 1));
  assert.equal(over.status, 400);
  assert.match((JSON.parse(over.body) as { message: string }).message, new RegExp(`${DEFAULT_LIMITS.namesPerRequest + 1} given, at most ${DEFAULT_LIMITS.namesPerRequest}.*split`));
});

test(`request body: ${DEFAULT_LIMITS.bodyBytes} bytes`, async () => {
  const context = await newContext();
  const config = (bytes: number): string => `# ${'x'.repeat(bytes - 3)}\n`;
  const post = (body: string) =>
    rawRequest(url, { method: 'POST', target: `/pmapi/derive?context=${context}`, headers: { 'Content-Type': 'text/plain' }, body });
  const atLimit = await post(config(DEFAULT_LIMITS.bodyBytes));
  assert.equal(atLimit.status, 200, atLimit.body.slice(0, 300));
  const over = await post(config(DEFAULT_LIMITS.bodyBytes + 1));
  assert.equal(over.status, 413);
  assert.match((JSON.parse(over.body) as { message: string }).message, new RegExp(`at most ${DEFAULT_LIMITS.bodyBytes} bytes`));
});

test(`URL: shorter than ${MAX_URL_LENGTH} bytes, as pmproxy (414 URI Too Long)`, async () => {
  const target = (length: number): string => {
    const prefix = '/pmapi/fetch?names=';
    return prefix + 'x'.repeat(length - prefix.length);
  };
  const below = await rawRequest(url, { target: target(MAX_URL_LENGTH - 1) });
  assert.notEqual(below.status, 414);
  const at = await rawRequest(url, { target: target(MAX_URL_LENGTH) });
  assert.equal(at.status, 414);
  assert.match(at.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(at.body, /request URL too long/);
});

async function newContext(): Promise<number> {
  const reply = await get('/pmapi/context?polltimeout=600');
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.context as number;
}
