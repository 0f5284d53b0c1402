import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, test } from 'node:test';
import { startAgentProcess, type AgentProcess } from '../support/agent.js';
import { Prng, fuzzSeed } from '../support/fuzz.js';

/**
 * pmproxy 6.0.3 segfaults under two concurrent connections and spins forever after a client
 * aborts a large reply and asks again on the same context (docs: /work/shared/pcp/REFERENCE.md
 * section 9). Vigil must take 64 connections at once, half of them hanging up mid-reply, and
 * answer every later request completely.
 */
const SEED = fuzzSeed();
const CONNECTIONS = 64;
const ROUNDS = 4;

let agent: AgentProcess;
let context: number;
let cgroupFetch: string;
/** Sizes of the complete replies, to tell a truncated body from a whole one. */
let metricCount: number;

interface Outcome {
  status: number;
  body: string;
}

/** GET with a fresh connection; `abortAfter` bytes of body, then hang up (resolves undefined). */
function request(url: string, abortAfter?: number, timeoutMs = 20_000): Promise<Outcome | undefined> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (abortAfter !== undefined && bytes >= abortAfter) {
          clearTimeout(timer);
          req.destroy();
          resolve(undefined);
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', () => undefined);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no complete reply within ${timeoutMs} ms to ${url.slice(0, 200)}`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      // Our own hang-up after abortAfter bytes is not a failure.
      if (abortAfter !== undefined) resolve(undefined);
      else reject(error);
    });
  });
}

async function complete(url: string): Promise<Outcome> {
  const outcome = await request(url);
  assert.ok(outcome);
  assert.equal(outcome.status, 200, `${url.slice(0, 200)} answered ${outcome.status}: ${outcome.body.slice(0, 300)}`);
  return outcome;
}

/** A whole /pmapi/metric reply: parses, and lists every metric. */
function assertAllMetrics(body: string): void {
  const reply = JSON.parse(body) as { metrics: Array<{ name: string }> };
  assert.equal(reply.metrics.length, metricCount, 'a /pmapi/metric reply lists a different number of metrics than before');
}

before(async () => {
  agent = await startAgentProcess(['--interval', '1s', '--history', '1m']);
  const all = await complete(`${agent.url}/pmapi/metric`);
  const metrics = (JSON.parse(all.body) as { metrics: Array<{ name: string }> }).metrics;
  metricCount = metrics.length;
  console.log(`/pmapi/metric: ${metricCount} metrics, ${all.body.length} bytes`);
  assert.ok(all.body.length > 200_000, 'the full metric list is expected to be a large reply (~430 KB)');
  const cgroupNames = metrics.map((m) => m.name).filter((n) => n.startsWith('cgroup.'));
  assert.ok(cgroupNames.length > 20, 'the agent serves cgroup metrics');
  cgroupFetch = `${agent.url}/pmapi/fetch?names=${cgroupNames.join(',')}`;
  context = (JSON.parse((await complete(`${agent.url}/pmapi/context`)).body) as { context: number }).context;
});

after(async () => {
  await agent?.stop();
});

test(`${CONNECTIONS} concurrent connections, half aborting mid-reply, leave every later request answered (seed ${SEED})`, { timeout: 120_000 }, async () => {
  const rng = new Prng(SEED);
  const urls = [
    `${agent.url}/pmapi/metric`,
    `${agent.url}/pmapi/${context}/metric`,
    `${agent.url}/pmapi/${context}/_metric`,
    cgroupFetch,
    `${agent.url}/pmapi/${context}/fetch?names=${new URL(cgroupFetch).searchParams.get('names')}`,
    `${agent.url}/metrics`,
  ];
  let aborted = 0;
  let whole = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const url = rng.pick(urls);
        if (rng.chance(0.5)) {
          // Hang up somewhere in the first part of the reply, as a closed browser tab does.
          await request(url, 1 + rng.int(100_000));
          aborted++;
          return;
        }
        const outcome = await request(url);
        assert.ok(outcome);
        assert.equal(outcome.status, 200, `${url.slice(0, 120)} answered ${outcome.status} under load: ${outcome.body.slice(0, 300)}`);
        if (url.endsWith('/pmapi/metric')) assertAllMetrics(outcome.body);
        else if (!url.endsWith('/metrics')) JSON.parse(outcome.body); // whole JSON, not a truncated one
        whole++;
      }),
    );
  }
  console.log(`${aborted} replies aborted mid-way, ${whole} read whole`);
  assert.ok(aborted > 0 && whole > 0);

  // pmproxy's failure: a request on the context whose reply was just aborted never finishes.
  assert.equal(agent.child.exitCode, null, `the agent exited; its log ends:\n${agent.log().slice(-3000)}`);
  assertAllMetrics((await complete(`${agent.url}/pmapi/${context}/metric`)).body);
  assertAllMetrics((await complete(`${agent.url}/pmapi/metric`)).body);
  const fetched = JSON.parse((await complete(cgroupFetch)).body) as { values: unknown[] };
  assert.ok(fetched.values.length > 20, 'cgroup values are still served');
  const health = JSON.parse((await complete(`${agent.url}/health`)).body) as { status: string };
  assert.equal(health.status, 'ok');
  assert.doesNotMatch(agent.log(), /uncaught|unhandled/i, 'the agent logged an uncaught error');
});
