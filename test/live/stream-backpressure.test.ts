import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { StreamClient, isType } from './stream-client.js';

/**
 * A client that stops reading while the agent streams every metric to it, next to a client
 * that keeps reading. The agent, sampling this host every 100 ms, must keep the slow client's
 * backlog bounded (by its own counters), skip samples and announce the gap when it catches up,
 * close it when it stays behind, and keep the other client on time throughout.
 */
const INTERVAL = 100;
const HIGH_WATER = 256 * 1024;
const MAX_BEHIND_MS = 4000;
const MAX_BUFFERED = 4 * 1024 * 1024;
/** Subscriptions of everything on the slow client, so that it outruns the kernel's socket buffers quickly. */
const FIREHOSE = 8;
let agent: Agent;
let url: string;
const clients: StreamClient[] = [];

before(async () => {
  agent = await createAgent({
    procfs: '/proc', sysfs: '/sys', intervalMs: INTERVAL,
    streamLimits: { highWaterBytes: HIGH_WATER, maxBufferedBytes: MAX_BUFFERED, maxBehindMs: MAX_BEHIND_MS },
  });
  agent.sampler.start();
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  for (const client of clients) client.close();
  await agent?.close();
});

const socketOf = (client: StreamClient): Socket => (client.ws as unknown as { _socket: Socket })._socket;

/** The agent's own view of one client, from its latest sample (vigil.stream.client.*), and its totals. */
function serverCounters(port: number): { buffered: bigint | undefined; dropped: bigint | undefined; closed: bigint } {
  const sample = agent.sampler.latest!;
  const of = (metric: string): bigint | undefined => {
    for (const [id, value] of sample.get(metric) ?? []) {
      if (sample.instanceName('500.60', id)?.endsWith(`:${port}`)) return value as bigint;
    }
    return undefined;
  };
  const closed = [...(sample.get('vigil.stream.closed') ?? new Map()).values()][0] as bigint;
  return { buffered: of('vigil.stream.client.buffered'), dropped: of('vigil.stream.client.dropped'), closed };
}

async function until(what: string, timeoutMs: number, check: () => boolean, each?: () => void): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    each?.();
  }
}

test('a slow client is coalesced, told of the gap, then closed; the other client stays on time', async (t) => {
  const normal = await StreamClient.connect(url);
  const slow = await StreamClient.connect(url);
  clients.push(normal, slow);
  normal.send({ v: 1, type: 'subscribe', id: 'n', metrics: ['kernel.all.load', 'vigil.stream'], history: 0 });
  for (let i = 0; i < FIREHOSE; i++) slow.send({ v: 1, type: 'subscribe', id: `all${i}`, metrics: [''], history: 0 });
  await normal.next(isType('sample', 'n'), 3000, 'a sample on the normal client');
  await slow.next(isType('sample', `all${FIREHOSE - 1}`), 3000, 'a sample on the slow client');

  // One sample's worth of messages to the slow client is the most the agent may add past the
  // high-water mark. Samples differ in size (a cgroup appearing anywhere on the host adds series
  // and an instances message to every subscription), so the bound uses the largest delivery the
  // client eventually reads: it reads everything the agent queued, up to the close frame.
  const largestDelivery = (): number => {
    const perSample = new Map<unknown, number>();
    for (const m of slow.messages) if (m.t !== undefined) perSample.set(m.t, (perSample.get(m.t) ?? 0) + m.bytes);
    return Math.max(...perSample.values());
  };
  const port = socketOf(slow).localPort!;
  let maxBuffered = 0n;
  const watch = (): void => {
    const { buffered } = serverCounters(port);
    if (buffered !== undefined && buffered > maxBuffered) maxBuffered = buffered;
  };
  const normalFrom = normal.messages.length;

  // Phase 1: stop reading until the agent skips samples for the slow client, then read again.
  socketOf(slow).pause();
  await until('the agent skips samples for the paused client', 30_000, () => (serverCounters(port).dropped ?? 0n) >= 5n, watch);
  socketOf(slow).resume();
  const gap = await slow.next(isType('gap'), 10_000, 'a gap message');
  // Every skipped sample is in the gap, and counted by the agent (its counter is sampled, so wait a pass).
  await until(`vigil.stream.client.dropped reaches the gap's ${gap.samples} samples`, 2000, () => serverCounters(port).dropped === BigInt(gap.samples as number));
  t.diagnostic(`gap of ${gap.samples} samples over ${((gap.to as number) - (gap.from as number)).toFixed(0)} ms; slow client's backlog peaked at ${maxBuffered} bytes (high water ${HIGH_WATER}, largest delivery so far ${largestDelivery()})`);
  assert.ok((gap.samples as number) >= 5 && (gap.to as number) >= (gap.from as number));
  const resumed = await slow.next(isType('sample'), 5000, 'samples after the gap');
  assert.ok((resumed.t as number) > (gap.to as number), 'streaming resumes after the skipped range');

  // Phase 2: stop reading for good: the agent closes the client once it has been behind too long.
  const closedBefore = serverCounters(port).closed;
  socketOf(slow).pause();
  await until('the agent closes the client that stays behind', MAX_BEHIND_MS + 30_000, () => serverCounters(port).closed > closedBefore, watch);
  socketOf(slow).resume();
  const closed = await slow.whenClosed(10_000);
  assert.equal(closed.code, 1013);
  assert.match(closed.reason, /too slow: behind for over 4 s/);

  // The backlog never grew past the high-water mark by more than what one sample adds.
  const delivery = largestDelivery();
  assert.ok(maxBuffered > 0n, 'the agent did buffer for the paused client');
  assert.ok(maxBuffered <= BigInt(HIGH_WATER + delivery + 1024), `peak backlog ${maxBuffered} bytes (high water ${HIGH_WATER}, largest delivery ${delivery})`);

  // The normal client got every sample, in time, and no gap.
  const received = normal.messages.slice(normalFrom).filter((m) => m.type === 'sample');
  assert.deepEqual(normal.messages.slice(normalFrom).filter((m) => m.type === 'gap'), []);
  const first = received[0]!.t as number;
  const lastTime = received.at(-1)!.t as number;
  const recorded = agent.history.read({ metrics: [agent.table.metric('kernel.all.load')!], start: first, end: lastTime });
  assert.deepEqual(received.map((m) => m.t), recorded.times, 'every sample reached the normal client');
  const lag = Math.max(...received.map((m) => performance.timeOrigin + m.receivedAt - (m.t as number)));
  t.diagnostic(`normal client: ${received.length} samples, worst delay from sampling to arrival ${lag.toFixed(0)} ms`);
  assert.ok(lag < 2000, `the normal client received every sample within 2 s of its sampling (worst ${lag.toFixed(0)} ms)`);
});

test('a client that asks for back-fills it does not read is closed with 1008 once 4 MiB are unsent', async (t) => {
  const client = await StreamClient.connect(url);
  clients.push(client);
  await client.next(isType('hello'));
  const port = socketOf(client).localPort!;
  const closedBefore = serverCounters(port).closed;
  socketOf(client).pause();
  // Each back-fill of every metric is megabytes; the agent must stop before it holds too many.
  for (let i = 0; i < 30; i++) client.send({ v: 1, type: 'subscribe', id: `fill${i}`, metrics: [''] });
  let maxBuffered = 0n;
  await until('the agent closes the client', 30_000, () => serverCounters(port).closed > closedBefore, () => {
    const { buffered } = serverCounters(port);
    if (buffered !== undefined && buffered > maxBuffered) maxBuffered = buffered;
  });
  socketOf(client).resume();
  const closed = await client.whenClosed(35_000);
  const backfills = client.messages.filter((m) => m.type === 'subscribed');
  const largest = Math.max(...backfills.map((m) => m.bytes));
  t.diagnostic(`closed with ${closed.code} "${closed.reason}" after ${backfills.length} back-fills of up to ${largest} bytes; backlog seen at up to ${maxBuffered} bytes`);
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /too slow: \d+\.\d MiB unsent/);
  assert.ok(backfills.length < 30, `the agent stopped after ${backfills.length} of 30 back-fills`);
  assert.ok(maxBuffered <= BigInt(MAX_BUFFERED + largest), `peak backlog ${maxBuffered} bytes`);
});
