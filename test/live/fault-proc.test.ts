import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { fetchValues, getJson, startAgentProcess, type AgentProcess, type FetchReply } from '../support/agent.js';

/**
 * A /proc file turning unreadable while the agent runs. Root ignores file modes, so the
 * unreadability is made real another way: the agent reads a copy of the host's procfs files
 * (`--procfs <dir>`), and the test replaces `<dir>/meminfo` with a directory, whose read fails
 * with EISDIR exactly as an unexpected kernel error would.
 */
const COLLECTORS = ['loadavg', 'stat', 'meminfo'];
const INTERVAL_MS = 200;
const FAILED = /collector failed; its values are missing, other collectors are unaffected collector=meminfo/g;
const RECOVERED = /collector recovered collector=meminfo/g;

let dir: string;
let agent: AgentProcess;

before(async () => {
  dir = mkdtempSync(`${tmpdir()}/vigil-test-${process.pid}-`);
  mkdirSync(`${dir}/self`);
  // Read and written, not copied: procfs files report size 0, so copy_file_range copies nothing.
  for (const file of ['loadavg', 'stat', 'meminfo', 'uptime', 'cgroups', 'self/mountinfo']) writeFileSync(`${dir}/${file}`, readFileSync(`/proc/${file}`));
  // A load average no host has right now, so the served value can only come from this file.
  writeLoadavg('7.25 3.50 1.75 2/345 6789\n');
  agent = await startAgentProcess(['--procfs', dir, '--collectors', COLLECTORS.join(','), '--interval', `${INTERVAL_MS}ms`, '--history', '10s']);
});

after(async () => {
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeLoadavg(text: string): void {
  // Replaced whole (rename), so the agent never reads a half-written file.
  writeFileSync(`${dir}/loadavg.new`, text);
  renameSync(`${dir}/loadavg.new`, `${dir}/loadavg`);
}

/** Values of `name` in a fetch reply, by instance id (null for a singular metric). */
function valuesOf(reply: FetchReply, name: string): Map<number | null, unknown> | undefined {
  const metric = reply.values.find((v) => v.name === name);
  return metric && new Map(metric.instances.map((i) => [i.instance, i.value]));
}

/** The meminfo collector's vigil.collector.errors count. */
async function meminfoErrors(): Promise<bigint> {
  const reply = await fetchValues(agent.url, ['vigil.collector.errors']);
  const indom = (await getJson(`${agent.url}/pmapi/indom?name=vigil.collector.errors`)) as { instances: Array<{ instance: number; name: string }> };
  const id = indom.instances.find((i) => i.name === 'meminfo')?.instance;
  assert.notEqual(id, undefined, 'vigil.collector.errors has a meminfo instance');
  return BigInt(valuesOf(reply, 'vigil.collector.errors')!.get(id!) as string | number);
}

async function health(): Promise<{ status: number; body: { status: string; failingCollectors: string[] } }> {
  const response = await fetch(`${agent.url}/health`);
  return { status: response.status, body: (await response.json()) as { status: string; failingCollectors: string[] } };
}

/** Polls until `check` passes (or throws its last failure after `timeoutMs`). */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(INTERVAL_MS);
    }
  }
}

test('a /proc file that turns unreadable costs only its own metrics, is counted, logged once, and recovers', { timeout: 60_000 }, async () => {
  const memFree = BigInt(/^MemFree:\s+(\d+)/m.exec(readFileSync(`${dir}/meminfo`, 'utf8'))![1]!);
  const readable = await fetchValues(agent.url, ['mem.util.free']);
  assert.equal(BigInt(valuesOf(readable, 'mem.util.free')?.get(null) as string), memFree, 'mem.util.free is served from the meminfo file');
  const errorsBefore = await meminfoErrors();
  assert.equal((await health()).body.failingCollectors.includes('meminfo'), false);

  // The load changes first, so every sample that lacks meminfo was read after it.
  writeLoadavg('8.50 3.50 1.75 2/345 6789\n');
  // meminfo becomes a directory: every read fails with EISDIR.
  renameSync(`${dir}/meminfo`, `${dir}/meminfo.saved`);
  mkdirSync(`${dir}/meminfo`);
  const failing = await eventually(async () => {
    const reply = await fetchValues(agent.url, ['kernel.all.load', 'mem.util.free']);
    // pmproxy prints a singular metric that has no value as 0, and so does Vigil's pmapi.
    assert.equal(valuesOf(reply, 'mem.util.free')?.get(null), 0, 'mem.util.free is still served from an unreadable meminfo');
    return reply;
  });
  // The other collectors keep serving: the load is the file's current content.
  assert.equal(valuesOf(failing, 'kernel.all.load')?.get(1), 8.5, 'kernel.all.load (1 minute) follows the loadavg file while meminfo fails');
  // The history, which has no such convention, shows the values missing rather than zero.
  await sleep(3 * INTERVAL_MS);
  const recent = (await getJson(`${agent.url}/history?names=mem.util,kernel.all.load&start=-${2 * INTERVAL_MS}ms`)) as {
    metrics: Array<{ name: string }>; series: Array<[number, number | null]>;
  };
  const seriesNames = recent.series.map(([m]) => recent.metrics[m]!.name);
  assert.ok(seriesNames.includes('kernel.all.load'), `the history has recent kernel.all.load values: ${JSON.stringify(recent)}`);
  assert.deepEqual(seriesNames.filter((n) => n.startsWith('mem.util.')), [], 'no mem.util.* value was recorded while meminfo failed');

  // Several failing passes: each counted, but logged once.
  await sleep(6 * INTERVAL_MS);
  const errorsFailing = await meminfoErrors();
  assert.ok(errorsFailing - errorsBefore >= 3n, `vigil.collector.errors{meminfo} grew by ${errorsFailing - errorsBefore} over ~6 failing passes`);
  assert.equal(agent.log().match(FAILED)?.length, 1, `the failure is logged once; log:\n${agent.log()}`);
  assert.match(agent.log(), /EISDIR/, 'the log line says what failed');
  const unhealthy = await health();
  assert.equal(unhealthy.status, 200, 'a failing collector does not make the agent unhealthy');
  assert.equal(unhealthy.body.status, 'ok');
  assert.deepEqual(unhealthy.body.failingCollectors, ['meminfo']);

  // Restored: the metrics come back, the recovery is logged once, the count stops growing.
  rmSync(`${dir}/meminfo`, { recursive: true });
  renameSync(`${dir}/meminfo.saved`, `${dir}/meminfo`);
  await eventually(async () => {
    const reply = await fetchValues(agent.url, ['mem.util.free']);
    assert.equal(BigInt(valuesOf(reply, 'mem.util.free')?.get(null) as string), memFree, 'mem.util.free is back, from the restored file');
  });
  await eventually(async () => assert.equal(agent.log().match(RECOVERED)?.length, 1, 'the recovery is logged once'));
  assert.deepEqual((await health()).body.failingCollectors, []);
  const errorsRestored = await meminfoErrors();
  await sleep(4 * INTERVAL_MS);
  assert.equal(await meminfoErrors(), errorsRestored, 'vigil.collector.errors{meminfo} stops growing once the file is readable');
  assert.equal(agent.log().match(FAILED)?.length, 1);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
});
