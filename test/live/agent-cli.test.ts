import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchValues, startAgentProcess, type AgentProcess } from '../support/agent.js';

// The built agent as an operator runs it: `vigil [options]` (dist/agent/cli.js, which npm test builds).

const CLI = fileURLToPath(new URL('../../dist/agent/cli.js', import.meta.url));

describe('vigil command line', () => {
  it('--help explains the options and exits 0', () => {
    const run = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    for (const option of ['--port', '--host', '--procfs', '--sysfs', '--interval', '--collectors']) {
      assert.match(run.stdout, new RegExp(`^\\s+${option}\\b`, 'm'), `--help does not explain ${option}`);
    }
  });

  it('--help is what README.md says it is', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const shown = /`vigil --help`[^\n]*\n+```\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(shown, 'README.md has no ``` block after the line that mentions `vigil --help`');
    const run = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.equal(run.stdout, shown, 'README.md shows an out-of-date `vigil --help`; paste the current output');
  });

  it('refuses a bad option with exit code 2 and says what is wrong', () => {
    const run = spawnSync(process.execPath, [CLI, '--interval', 'soon'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--interval "soon" is not a duration/);
  });
});

describe('vigil serving this host', () => {
  let vigil: AgentProcess | undefined;
  after(async () => {
    await vigil?.stop();
  });

  it('samples on its --interval and serves /proc/loadavg through /pmapi/fetch', async () => {
    vigil = await startAgentProcess(['--interval', '200ms']);
    const names = ['kernel.all.load', 'kernel.all.nprocs', 'vigil.sample.interval', 'vigil.sample.count'];
    const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map((v) => Math.fround(Number(v)));
    const first = await fetchValues(vigil.url, names);
    const before = loadavg();
    // Longer than an interval, so the sample served next was read after `before`.
    await sleep(700);
    const second = await fetchValues(vigil.url, names);
    const after = loadavg();

    const byName = new Map(second.values.map((v) => [v.name, v.instances]));
    assert.deepEqual(byName.get('vigil.sample.interval'), [{ instance: null, value: 200 }]);
    const count = (reply: typeof first) => BigInt(reply.values.find((v) => v.name === 'vigil.sample.count')!.instances[0]!.value as number);
    assert.ok(count(second) - count(first) >= 2n, `only ${count(second) - count(first)} samples in 700 ms at a 200 ms interval`);
    assert.ok(second.timestamp - first.timestamp >= 0.4, `timestamps ${first.timestamp} → ${second.timestamp}`);
    // The kernel recomputes the averages every 5 s, so the sample saw what one of the reads saw.
    // They are PCP floats: compare as float32, as they travel (%.8g).
    const load = byName.get('kernel.all.load')!.map((i) => Math.fround(i.value as number));
    assert.ok([before, after].some((read) => read.every((v, k) => v === load[k])),
      `kernel.all.load ${load} vs /proc/loadavg ${before} before, ${after} after`);

    assert.equal(await vigil.stop(), 0, `vigil did not exit cleanly on SIGTERM; its log:\n${vigil.log()}`);
    assert.match(vigil.log(), /shutting down signal=SIGTERM/);
    vigil = undefined;
  });
});
