import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { processesCollector } from '../../agent/collectors/processes.js';
import { cgroupsString, parseProcCgroup } from '../../agent/parsers/proc-pid.js';
import { descriptorsUnder } from '../support/descriptors.js';

// The processes collector on this machine's /proc, against a child process it can change:
// open descriptors, burn CPU, rename itself. Reads go through kept descriptors on a real procfs,
// so each assertion that a value moved is also one that a kept descriptor reads afresh.

const CHILD = `
const fs = require('fs');
for (let i = 0; i < 5; i++) fs.openSync('/dev/null', 'r');
process.stdin.setEncoding('utf8').on('data', (line) => {
  for (const cmd of line.trim().split('\\n')) {
    if (cmd === 'open') for (let i = 0; i < 7; i++) fs.openSync('/dev/null', 'r');
    if (cmd === 'spin') { const end = Date.now() + 300; while (Date.now() < end); }
    if (cmd === 'title') process.title = 'vigil-test-renamed';
    process.stdout.write(cmd + '\\n');
  }
});
process.stdout.write('ready\\n');
// padding so that the title fits in argv: ${'x'.repeat(64)}
`;

type Values = Map<string, Map<string, unknown>>;

async function collect(collector: ReturnType<typeof processesCollector>): Promise<Values> {
  const values: Values = new Map();
  const out = {
    put(name: string, value: unknown, instance?: string) {
      const key = instance ?? '';
      let metrics = values.get(key);
      if (!metrics) values.set(key, (metrics = new Map()));
      metrics.set(name, value);
    },
  };
  const ctx = { wants: () => true, unreadable: () => undefined };
  await collector.collect(out as never, ctx);
  return values;
}

function ofPid(values: Values, pid: number): Map<string, unknown> | undefined {
  return [...values.values()].find((m) => m.get('proc.psinfo.pid') === pid);
}

test('processes: values follow the process pass after pass, and an exited one lets its descriptors go', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pid = child.pid!;
  const lines: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.trim().split('\n')));
  const answered = async (cmd: string): Promise<void> => {
    if (cmd !== 'ready') child.stdin!.write(`${cmd}\n`);
    while (!lines.includes(cmd)) await new Promise((r) => setTimeout(r, 10));
  };
  const collector = processesCollector({ procfs: '/proc', sysfs: '/sys' });
  try {
    await answered('ready');
    const first = ofPid(await collect(collector), pid);
    assert.ok(first, `pid ${pid} is collected`);
    assert.equal(first.get('proc.fd.count'), readdirSync(`/proc/${pid}/fd`).length, 'fd count = entries of its fd directory');
    assert.equal(first.get('proc.psinfo.cgroups'), cgroupsString(parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))));
    assert.match(String(first.get('proc.psinfo.psargs')), /^\S*node -e /);
    assert.ok(descriptorsUnder(`/proc/${pid}`) >= 4, 'stat, status, cmdline and cgroup are read through kept descriptors');

    await answered('open');
    const opened = ofPid(await collect(collector), pid)!;
    assert.equal(opened.get('proc.fd.count'), (first.get('proc.fd.count') as number) + 7, 'seven more descriptors');

    const cpu = (m: Map<string, unknown>): bigint => (m.get('proc.psinfo.utime') as bigint) + (m.get('proc.psinfo.stime') as bigint);
    await answered('spin');
    const spun = ofPid(await collect(collector), pid)!;
    assert.ok(cpu(spun) >= cpu(opened) + 200n, `300 ms of spinning shows in utime + stime (${cpu(opened)} → ${cpu(spun)} ms)`);

    await answered('title');
    const renamed = ofPid(await collect(collector), pid)!;
    assert.match(String(renamed.get('proc.psinfo.psargs')), /^vigil-test-renamed/, 'a new cmdline is parsed again');
    assert.match([...(await collect(collector)).keys()].find((k) => k.startsWith(String(pid).padStart(6, '0')))!, / vigil-test-renamed$/,
      'and names the instance');

    child.kill('SIGKILL');
    await once(child, 'exit');
    const after = await collect(collector);
    assert.equal(ofPid(after, pid), undefined, 'an exited process is not collected');
    assert.equal(descriptorsUnder(`/proc/${pid}`), 0, 'and its descriptors are closed');
    assert.ok((after.get('')!.get('proc.nprocs') as number) > 0);
  } finally {
    child.kill('SIGKILL');
  }
});
