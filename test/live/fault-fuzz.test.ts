import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startAgentProcess, type AgentProcess } from '../support/agent.js';
import { fuzzSeed, inParallel, Prng, randomBody, randomText, rawRequest, rssBytes } from '../support/fuzz.js';

/**
 * Thousands of generated malformed and oversized requests at every endpoint of a real agent
 * process. A 4xx is the right answer to garbage; a 5xx, a hang or a crash is a bug in the agent.
 * The seed is printed; `VIGIL_FUZZ_SEED=<seed>` replays the same cases.
 */
const SEED = fuzzSeed();
const HTTP_CASES = Number(process.env.VIGIL_FUZZ_CASES ?? 3000);
const WS_CONNECTIONS = 24;
const WS_MESSAGES_EACH = 16;

const VERBS = ['context', 'metric', 'fetch', 'indom', 'children', 'profile', 'store', 'derive', 'pmid', 'metrics', 'fetchx', 'x', ''];
const PARAMS = ['names', 'name', 'pmid', 'pmids', 'context', 'polltimeout', 'client', 'instance', 'iname', 'indom', 'prefix', 'value',
  'expr', 'hostspec', 'hostname', 'times', 'match', 'start', 'end', 'rate', 'every', 'instances', 'containers', 'full', 'exist'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'get', 'BREW', 'GET /x'];
const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', ''];

function randomPath(rng: Prng): string {
  const n = rng.pick(['0', '1', '2', '-1', '99999999999', 'abc', randomText(rng, 2)]);
  switch (rng.int(12)) {
    case 0: case 1: case 2: return `/pmapi/${rng.pick(VERBS)}`;
    case 3: return `/pmapi/${n}/${rng.pick(VERBS)}`;
    case 4: return `/pmapi/${n}/_${rng.pick(VERBS)}`;
    case 5: return rng.pick(['/metrics', '/pmapi/metrics', '/pmapi/_metrics']);
    case 6: return '/history';
    case 7: return rng.pick(['/profile', `/profile/${n}`, `/profile/${n}/tree`, `/profile/${n}/folded`, `/profile/${n}/svg`, `/flamegraphs/${n}`]);
    case 8: return rng.pick(['/health', '/', '/stream', '/index.html', `/assets/${n}`]);
    default: return `/${randomText(rng, 3)}`;
  }
}

function randomQuery(rng: Prng): string {
  const pairs: string[] = [];
  for (let i = rng.int(5); i > 0; i--) {
    const key = rng.chance(0.8) ? rng.pick(PARAMS) : randomText(rng, 2);
    const value = randomText(rng);
    // Mostly escaped as a client would; sometimes raw bytes straight into the request line.
    pairs.push(rng.chance(0.8) ? `${percentEncode(key)}=${percentEncode(value)}` : `${key}=${value}`);
  }
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

/** encodeURIComponent, but of the UTF-8 bytes, so that lone surrogates are sent too (as U+FFFD). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');
}

/** One request as raw bytes, and a short printable form of it for the report. */
function randomRequest(rng: Prng): { bytes: Buffer; shown: string } {
  const method = rng.pick(METHODS);
  const target = randomPath(rng) + randomQuery(rng);
  const body = method === 'GET' && rng.chance(0.9) ? '' : randomBody(rng);
  const headers = ['Host: 127.0.0.1', 'Connection: close'];
  const type = rng.pick(CONTENT_TYPES);
  if (type) headers.push(`Content-Type: ${type}`);
  const bodyBytes = Buffer.from(body, 'utf8');
  // Now and then a Content-Length that lies, or none at all for a body.
  const length = rng.chance(0.05) ? bodyBytes.length + rng.pick([-1, 1, 1000]) : bodyBytes.length;
  if (body !== '' || rng.chance(0.2)) headers.push(`Content-Length: ${Math.max(0, length)}`);
  if (rng.chance(0.03)) headers.push(`X-Big: ${'h'.repeat(20_000)}`);
  const head = `${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
  const shown = `${method} ${target.slice(0, 400)}${target.length > 400 ? `…(${target.length} chars)` : ''}` +
    (body ? ` [${type || 'no content-type'}, ${bodyBytes.length} bytes: ${JSON.stringify(body.slice(0, 200))}]` : '');
  return { bytes: Buffer.concat([Buffer.from(head, 'utf8'), bodyBytes]), shown };
}

let agent: AgentProcess;
let port: number;

before(async () => {
  agent = await startAgentProcess(['--interval', '1s', '--history', '1m']);
  port = Number(new URL(agent.url).port);
});

after(async () => {
  await agent?.stop();
});

async function healthy(): Promise<void> {
  const response = await fetch(`${agent.url}/health`, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { status: string };
  assert.equal(response.status, 200, `/health answered ${response.status} ${JSON.stringify(body)}; agent log ends:\n${agent.log().slice(-2000)}`);
  assert.equal(body.status, 'ok');
}

test(`fuzzed HTTP and WebSocket requests get no 5xx, no hang, no crash (VIGIL_FUZZ_SEED=${SEED})`, { timeout: 150_000 }, async () => {
  console.log(`fuzz seed ${SEED} (replay with VIGIL_FUZZ_SEED=${SEED})`);
  const rng = new Prng(SEED);
  const cases = Array.from({ length: HTTP_CASES }, () => randomRequest(rng));
  const serverErrors: string[] = [];
  const statuses = new Map<string, number>();
  const send = async ({ bytes, shown }: { bytes: Buffer; shown: string }): Promise<void> => {
    const reply = await rawRequest(port, bytes);
    const key = String(reply.status ?? 'closed');
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    if (reply.status !== undefined && reply.status >= 500) serverErrors.push(`${reply.status} ← ${shown}\n    reply: ${JSON.stringify(reply.head)}`);
  };

  // Warm up (JIT, contexts, caches) before the baseline, so growth afterwards means a leak. The
  // agent collects what clients ask for: one full /metrics scrape makes it collect everything
  // from here on (for 5 minutes), as any fuzzed scrape would, so the baseline already holds that.
  assert.equal((await fetch(`${agent.url}/metrics`)).status, 200);
  await inParallel(cases.slice(0, 300), 8, send);
  await sleep(3000);
  const baseline = rssBytes(agent.child.pid!);

  await inParallel(cases.slice(300), 8, send);
  await healthy();

  // The stream: invalid JSON, wrong types, huge messages, binary frames, abrupt closes.
  const wsProblems: string[] = [];
  await inParallel(Array.from({ length: WS_CONNECTIONS }, (_, i) => i), 4, async (i) => {
    const ws = new WebSocket(`${agent.url.replace(/^http/, 'ws')}/stream`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const sent: string[] = [];
    for (let m = 0; m < WS_MESSAGES_EACH && ws.readyState === WebSocket.OPEN; m++) {
      const kind = rng.int(10);
      const message = kind === 0 ? 'x'.repeat(rng.pick([65_537, 300_000, 2_000_000])) : randomBody(rng);
      sent.push(JSON.stringify(message.slice(0, 150)) + (message.length > 150 ? `…(${message.length} chars)` : ''));
      if (kind === 1) ws.send(Buffer.from(message), { binary: true });
      else ws.send(message);
      await sleep(rng.int(5));
    }
    // Half the connections go away mid-conversation; the rest say goodbye.
    if (i % 2 === 0) ws.terminate();
    else ws.close(1000);
    const code = await Promise.race([closed, sleep(5000).then(() => -1)]);
    // 1011 is "internal error" (the WebSocket 500); -1 is a connection the agent never closed.
    if (code === 1011 || code === -1) wsProblems.push(`connection ${i} ended with ${code} after: ${sent.join(' | ')}`);
  });

  assert.equal(agent.child.exitCode, null, `the agent exited; its log ends:\n${agent.log().slice(-3000)}`);
  await healthy();
  const fetched = await fetch(`${agent.url}/pmapi/fetch?names=kernel.all.load`);
  assert.equal(fetched.status, 200);
  assert.match(await fetched.text(), /"name":"kernel.all.load"/);

  console.log(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  assert.deepEqual(serverErrors, [], `requests answered with 5xx (seed ${SEED}):\n  ${serverErrors.join('\n  ')}`);
  assert.deepEqual(wsProblems, [], `stream connections that failed (seed ${SEED}):\n  ${wsProblems.join('\n  ')}`);
  // A 4xx for most of it: the generator really reached the agent's validation, not just the HTTP parser.
  assert.ok([...statuses].some(([s, n]) => s.startsWith('4') && n > HTTP_CASES / 10), `too few 4xx: ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get('200') ?? 0) > 0, 'no request at all succeeded: the generator is not reaching real routes');

  // Garbage must not stay in memory: after a settle period RSS is back near the warmed-up baseline.
  await sleep(5000);
  const settled = rssBytes(agent.child.pid!);
  console.log(`RSS: baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, after fuzz + 5 s ${(settled / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(settled < baseline + 64 * 2 ** 20, `RSS grew from ${baseline} to ${settled} bytes after the fuzz: a leak?`);
});
