import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FdBudget, KEPT_FILES_MAX, KeptFiles, keptFileLimit } from '../../agent/collectors/kept-files.js';
import { readText } from '../../agent/collectors/read.js';
import { descriptorsOn } from '../support/descriptors.js';

// KeptFiles on this machine's /proc (no root needed): seq_files re-read through kept descriptors.

test('the budget is half the soft "Max open files" limit, and no more than KEPT_FILES_MAX', () => {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)![1]);
  assert.equal(keptFileLimit(limits), Math.min(Math.floor(soft / 2), KEPT_FILES_MAX));
  assert.equal(keptFileLimit('Max open files            2000                 4000                 files     \n'), 1000);
  assert.equal(keptFileLimit('Max open files            1048576              1048576              files     \n'), KEPT_FILES_MAX);
  assert.equal(keptFileLimit('Max open files            unlimited            unlimited            files     \n'), KEPT_FILES_MAX);
  assert.equal(keptFileLimit(''), 512);
});

test('a kept descriptor reads the file afresh each time, with one descriptor', async () => {
  const kept = new KeptFiles(new FdBudget(10));
  const first = kept.read('/proc/uptime', true);
  await sleep(50);
  const second = kept.read('/proc/uptime', true);
  assert.notEqual(second, first, '/proc/uptime moved on between the two reads');
  assert.ok(Number(second.split(' ')[0]) > Number(first.split(' ')[0]));
  assert.equal(descriptorsOn('/proc/uptime'), 1);
  assert.equal(kept.size, 1);
  kept.close();
  assert.equal(descriptorsOn('/proc/uptime'), 0);
});

test('a file longer than the read buffer reads whole through a kept descriptor, again and again', () => {
  const kept = new KeptFiles(new FdBudget(10));
  const keys = (text: string): string[] => text.split('\n').map((line) => line.split(' ')[0]!);
  // /proc/<pid>/smaps of a Node process runs to hundreds of KiB, past the 64 KiB first read. It
  // has one record per mapping, so a read returns about a page: read on to the end (not seqFile).
  const path = `/proc/${process.pid}/smaps`;
  const fresh = readText(path);
  assert.ok(fresh.length > 64 * 1024, `smaps is ${fresh.length} bytes, not enough to need a second read`);
  for (let n = 0; n < 3; n++) {
    // The process maps more memory as it runs, so the length moves; the shape must not.
    const text = kept.read(path, false);
    assert.ok(text.length > 64 * 1024, `read ${text.length} bytes, not the whole file`);
    assert.deepEqual(keys(text).slice(0, 20), keys(fresh).slice(0, 20), 'from offset 0');
    assert.match(text.slice(-200), /\nVmFlags:[^\n]*\n$/, 'to the end of the last mapping');
  }
  kept.close();
});

test('never more descriptors than the budget, and the files beyond it still read', () => {
  const budget = new FdBudget(3);
  const kept = new KeptFiles(budget);
  const paths = ['uptime', 'loadavg', 'stat', 'meminfo', 'vmstat', 'version'].map((f) => `/proc/${f}`);
  const before = readdirSync('/proc/self/fd').length;
  for (let pass = 0; pass < 3; pass++) {
    for (const path of paths) assert.ok(kept.read(path, true).length > 0, path);
    kept.sweep();
  }
  assert.equal(kept.size, 3);
  assert.equal(budget.held, 3);
  assert.ok(readdirSync('/proc/self/fd').length - before <= 3);
  const other = new KeptFiles(budget);
  other.read('/proc/cpuinfo', true);
  assert.equal(other.size, 0, 'the budget is shared: a second KeptFiles gets no descriptor while the first holds them all');
  kept.close();
  assert.equal(budget.held, 0);
});

test('sweep closes the descriptors of files not read since the previous sweep', () => {
  const kept = new KeptFiles(new FdBudget(10));
  kept.read('/proc/uptime', true);
  kept.read('/proc/loadavg', true);
  kept.sweep();
  kept.read('/proc/uptime', true);
  kept.sweep();
  assert.equal(descriptorsOn('/proc/loadavg'), 0, 'loadavg was not read in the latest pass');
  assert.equal(descriptorsOn('/proc/uptime'), 1);
  kept.sweep();
  assert.equal(kept.size, 0);
  assert.equal(descriptorsOn('/proc/uptime'), 0);
});

test('with linger, a file read every few passes keeps its descriptor between reads, and loses it after', () => {
  const kept = new KeptFiles(new FdBudget(10), 3);
  // Read in the first pass only: the sweeps after the next 3 passes without a read keep it,
  // the one after the 4th lets it go.
  kept.read('/proc/loadavg', true);
  for (let pass = 0; pass < 5; pass++) {
    kept.read('/proc/uptime', true);
    kept.sweep();
    assert.equal(descriptorsOn('/proc/loadavg'), pass < 4 ? 1 : 0, `after pass ${pass}`);
  }
  kept.read('/proc/loadavg', true);
  for (let pass = 0; pass < 3; pass++) {
    kept.sweep();
    assert.equal(descriptorsOn('/proc/loadavg'), 1, `sweep ${pass + 1} after its read: still kept`);
  }
  // Read again within the linger: the same descriptor, no second one.
  kept.read('/proc/loadavg', true);
  assert.equal(descriptorsOn('/proc/loadavg'), 1);
  assert.equal(kept.size, 2);
  kept.close();
});

test('with linger, a full budget lets go of every file not read in the latest pass', () => {
  const budget = new FdBudget(2);
  const kept = new KeptFiles(budget, 10);
  kept.read('/proc/version', true);
  kept.read('/proc/meminfo', true);
  kept.sweep();
  kept.read('/proc/meminfo', true);
  kept.sweep();
  // The budget was full at the sweep: version, not read in the latest pass, gave its descriptor
  // up for files read every pass, whatever the linger.
  assert.equal(descriptorsOn('/proc/version'), 0);
  assert.equal(descriptorsOn('/proc/meminfo'), 1);
  kept.read('/proc/vmstat', true);
  assert.equal(kept.size, 2, 'the freed descriptor went to a file read in this pass');
  kept.close();
});

test('a missing file: readOptional gives undefined and counts it vanished; other errors throw', () => {
  const kept = new KeptFiles(new FdBudget(10));
  const ctx = { wants: () => true, unreadable: () => assert.fail('not a permission problem') };
  assert.equal(kept.readOptional('/proc/no-such-file', ctx, true), undefined);
  assert.equal(kept.vanished, 1);
  assert.equal(kept.size, 0);
  assert.throws(() => kept.read('/proc', true), { code: 'EISDIR' });
});

test('a share of a budget stops at its own limit and counts against the whole', () => {
  const whole = new FdBudget(5);
  const share = new FdBudget(2, whole);
  const shared = new KeptFiles(share);
  for (const f of ['uptime', 'loadavg', 'stat']) shared.read(`/proc/${f}`, true);
  assert.equal(shared.size, 2, 'the share holds at most its own limit');
  assert.equal(whole.held, 2, 'and what it holds counts against the whole');
  const rest = new KeptFiles(whole);
  for (const f of ['meminfo', 'vmstat', 'version', 'cpuinfo']) rest.read(`/proc/${f}`, true);
  assert.equal(rest.size, 3, 'the whole budget is 5, 2 of them in the share');
  shared.close();
  assert.equal(whole.held, 3);
  shared.read('/proc/uptime', true);
  assert.equal(shared.size, 1, 'the share keeps again once the whole has room');
  shared.close();
  rest.close();
  assert.equal(whole.held, 0);
});

test('a kept /proc/<pid> file of a process that exited reads as gone and lets its descriptor go', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const path = `/proc/${child.pid}/stat`;
  const kept = new KeptFiles(new FdBudget(10));
  assert.match(kept.read(path, true), /^\d+ \(sleep\) [RS] /);
  assert.equal(descriptorsOn(path), 1);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited; // reaped: the pid is gone from /proc
  const ctx = { wants: () => true, unreadable: () => assert.fail('not a permission problem') };
  // The kept descriptor reads ESRCH; the path is opened again once (a reused pid would read on), and is gone.
  assert.equal(kept.readOptional(path, ctx, true), undefined);
  assert.equal(kept.size, 0);
  assert.equal(descriptorsOn(path), 0);
});
