import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { fetchValues, getJson, startAgentProcess, type AgentProcess } from '../support/agent.js';
import { isType, StreamClient } from './stream-client.js';

/**
 * The wall clock stepping (an NTP correction, a VM resumed) while the agent runs. libfaketime
 * (Debian `faketime`) shifts the agent's CLOCK_REALTIME by the offset in a file it re-reads on
 * every call; CLOCK_MONOTONIC is left alone, as a real clock step leaves it.
 */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const INTERVAL_MS = 200;
const HOUR_MS = 3_600_000;

let dir: string;
let offsetFile: string;
let agent: AgentProcess;
let client: StreamClient;

before(async () => {
  assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: apt-get install -y faketime`);
  dir = mkdtempSync(`${tmpdir()}/vigil-test-${process.pid}-`);
  offsetFile = `${dir}/offset`;
  setOffset('+0');
  const saved = { ...process.env };
  Object.assign(process.env, {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  try {
    agent = await startAgentProcess(['--interval', `${INTERVAL_MS}ms`, '--history', '1m', '--collectors', 'stat,loadavg']);
  } finally {
    for (const key of ['LD_PRELOAD', 'FAKETIME_TIMESTAMP_FILE', 'FAKETIME_NO_CACHE', 'FAKETIME_DONT_FAKE_MONOTONIC']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  client = await StreamClient.connect(agent.url);
  client.send({ v: 1, type: 'subscribe', id: 'cpu', metrics: ['kernel.all.cpu.user'], rate: true, history: 0 });
  await client.next(isType('subscribed', 'cpu'));
});

after(async () => {
  client?.close();
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setOffset(offset: string): void {
  writeFileSync(offsetFile, `${offset}\n`);
}

async function sampleCount(): Promise<bigint> {
  const reply = await fetchValues(agent.url, ['vigil.sample.count']);
  return BigInt(reply.values[0]!.instances[0]!.value as string | number);
}

interface Phase {
  name: string;
  /** Wall-clock offset of the agent's clock, ms. */
  offsetMs: number;
}

test('a wall clock stepping back and forward an hour leaves sampling, /health, the stream, rates and /history intact', { timeout: 60_000 }, async () => {
  const ncpu = availableParallelism();
  const phases: Phase[] = [
    { name: 'steady', offsetMs: 0 },
    { name: 'clock stepped back 1 h', offsetMs: -HOUR_MS },
    { name: 'clock stepped forward to +1 h', offsetMs: HOUR_MS },
    { name: 'clock back to true time', offsetMs: 0 },
  ];
  const seen: string[] = [];
  for (const phase of phases) {
    setOffset(phase.offsetMs === 0 ? '+0' : `${phase.offsetMs > 0 ? '+' : '-'}${Math.abs(phase.offsetMs) / 1000}s`);
    const countBefore = await sampleCount();
    const streamedBefore = client.messages.length;
    await sleep(8 * INTERVAL_MS);

    const countAfter = await sampleCount();
    assert.ok(countAfter - countBefore >= 4n, `${phase.name}: vigil.sample.count grew by only ${countAfter - countBefore} in ~8 intervals`);

    const health = await fetch(`${agent.url}/health`);
    const body = (await health.json()) as { status: string; lastSampleAgeMs: number };
    assert.equal(health.status, 200, `${phase.name}: /health answered ${health.status} ${JSON.stringify(body)}`);
    assert.ok(body.lastSampleAgeMs < 3 * INTERVAL_MS, `${phase.name}: /health says the latest sample is ${body.lastSampleAgeMs} ms old`);

    const samples = client.messages.slice(streamedBefore).filter((m) => m.type === 'sample');
    assert.ok(samples.length >= 4, `${phase.name}: the stream delivered ${samples.length} samples in ~8 intervals`);
    assert.deepEqual(client.messages.slice(streamedBefore).filter((m) => m.type === 'error'), [], `${phase.name}: stream errors`);
    for (const m of samples) {
      const [utilization] = m.values as Array<number | null>;
      // Seconds of user CPU per second: at most one per CPU, never a spike from the clock step.
      if (utilization !== null && utilization !== undefined) {
        assert.ok(utilization >= 0 && utilization <= ncpu * 1.05, `${phase.name}: kernel.all.cpu.user utilization ${utilization} is outside [0, ${ncpu}]`);
      }
    }
    const nonNull = samples.filter((m) => (m.values as unknown[])[0] !== null).length;
    assert.ok(nonNull >= samples.length - 1, `${phase.name}: only ${nonNull} of ${samples.length} streamed rates are values`);

    // What the timestamps follow: the stream's and fetch's sample times, against the agent's wall clock.
    const fetched = await fetchValues(agent.url, ['kernel.all.load']);
    const wallNow = Date.now() + phase.offsetMs;
    const lastT = samples.at(-1)!.t as number;
    seen.push(`${phase.name}: fetch timestamp − agent wall clock = ${Math.round(fetched.timestamp * 1000 - wallNow)} ms, ` +
      `stream t − agent wall clock = ${Math.round(lastT - wallNow)} ms`);

    // /history's relative window (-2s) must cover the samples just taken, whatever the wall clock did.
    const recent = (await getJson(`${agent.url}/history?names=kernel.all.load&start=-2s`)) as { t: number[] };
    assert.ok(recent.t.length >= 4, `${phase.name}: /history?start=-2s returned ${recent.t.length} sample times`);
  }
  console.log(seen.join('\n'));
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
  assert.doesNotMatch(agent.log(), /uncaught|unhandled/i);
});
