import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FoldedStacks, foldSample, type JitResolver } from '../../agent/profile/folded.js';
import { JitMap } from '../../agent/profile/jit-map.js';
import { JitMaps } from '../../agent/profile/jit-resolver.js';
import { parsePerfScript } from '../../agent/profile/perf-script.js';
import { callTree, type CallTree } from '../../agent/profile/tree.js';

const fixtureUrl = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);
const fixture = (name: string): string => readFileSync(fixtureUrl(name), 'utf8');
const hostSamples = parsePerfScript(fixture('perf-host/script.txt'));
const containerSamples = parsePerfScript(fixture('perf-container-jit/script.txt'));
const noJit: JitResolver = () => undefined;

function fold(samples: ReturnType<typeof parsePerfScript>, resolve: JitResolver = noJit): FoldedStacks {
  const folded = new FoldedStacks();
  for (const s of samples) folded.add(foldSample(s, resolve));
  return folded;
}

test('folded stacks run from the process name to the leaf and count every sample', () => {
  const folded = fold(hostSamples);
  assert.equal(folded.total, hostSamples.length);
  const burner = hostSamples.filter((s) => s.comm === 'hot burner' && s.frames.length === 2 && s.frames[0]!.symbol === 'burn_hot_function');
  assert.ok(burner.length > 0);
  assert.equal(folded.counts.get('hot burner;__libc_start_call_main;burn_hot_function'), burner.length);
});

test('frame names carry FlameGraph\'s kernel and JIT suffixes; unnamed code says which file it is in', () => {
  const stacks = [...fold(hostSamples).counts.keys()];
  assert.ok(stacks.some((s) => s.startsWith('dd;') && s.includes(';entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k]')));
  assert.ok(stacks.some((s) => s.startsWith('node;') && s.endsWith(';JS:*hotJsFunction /tmp/vigil-h/hot.js:1:23_[j]')));
  // node without --perf-basic-prof wrote no map: its JIT code stays unknown.
  assert.ok(stacks.some((s) => s.startsWith('nojit-node;') && s.endsWith(';[unknown]')));
  const memfd = [...fold(containerSamples).counts.keys()].find((s) => s.startsWith('memfd:sealed-91;'));
  assert.ok(memfd?.includes(';[memfd:sealed-91173221a7ea (deleted)];'), memfd);
  assert.ok(memfd?.endsWith(';__vdso_clock_gettime'), memfd);
});

test('a JIT map parses as regions; the later of two lines for one start wins', () => {
  const text = fixture('perf-container-jit/perf-1.map');
  const map = JitMap.parse(text);
  const [start, size, ...name] = text.split('\n')[0]!.split(' ');
  const first = BigInt(`0x${start}`);
  assert.equal(map.lookup(first), name.join(' '));
  assert.equal(map.lookup(first + BigInt(`0x${size}`) - 1n), name.join(' '));
  assert.equal(map.lookup(first - 1n), undefined);
  assert.equal(JitMap.parse(`${start} ${size} old\n${start} ${size} new\n`).lookup(first), 'new');
});

test('JIT frames perf left [unknown] are named from the map the container wrote inside its own /tmp', (t) => {
  // A procfs tree as the host sees the container's node (host pid 23139, pid 1 inside).
  const procfs = mkdtempSync(join(tmpdir(), 'vigil-test-procfs-'));
  t.after(() => rmSync(procfs, { recursive: true, force: true }));
  mkdirSync(join(procfs, '23139/root/tmp'), { recursive: true });
  copyFileSync(fixtureUrl('perf-container-jit/status.txt'), join(procfs, '23139/status'));
  copyFileSync(fixtureUrl('perf-container-jit/perf-1.map'), join(procfs, '23139/root/tmp/perf-1.map'));
  const jit = new JitMaps(procfs);
  assert.equal(jit.mapPath(23139, containerSamples[0]!.frames[0]!), join(procfs, '23139/root/tmp/perf-1.map'));

  const node = containerSamples.filter((s) => s.pid === 23139);
  const unknownBefore = node.flatMap((s) => s.frames).filter((f) => f.symbol === '[unknown]').length;
  assert.ok(unknownBefore > 50, 'perf could not name the JIT frames itself');
  const folded = fold(node, jit.resolve);
  const stacks = [...folded.counts];
  const hot = stacks.filter(([s]) => s.endsWith(';JS:*outerJs /tmp/app/hot.js:2:17_[j];JS:*hotJsFunction /tmp/app/hot.js:1:23_[j]'));
  const hotSamples = hot.reduce((n, [, c]) => n + c, 0);
  assert.ok(hotSamples > node.length / 2, `hotJsFunction under outerJs in ${hotSamples} of ${node.length} samples`);
  assert.equal(stacks.filter(([s]) => s.includes('[unknown]')).length, 0, 'every JIT frame of the container\'s node is named');
  // Without the map (a process that is gone and left nothing in the host's /tmp) they stay unknown.
  const none = mkdtempSync(join(tmpdir(), 'vigil-test-procfs-'));
  t.after(() => rmSync(none, { recursive: true, force: true }));
  assert.ok([...fold(node, new JitMaps(none).resolve).counts.keys()].some((s) => s.includes('[unknown]')));
});

function checkTree(node: CallTree): void {
  const below = node.children.reduce((n, c) => n + c.value, 0);
  assert.equal(node.value, node.self + below, `${node.name}: total = self + children`);
  const names = node.children.map((c) => c.name);
  assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), `${node.name}: children sorted by name`);
  node.children.forEach(checkTree);
}

test('the call tree holds every sample once, totals are self plus callees, kinds come from the suffixes', () => {
  const folded = fold(hostSamples);
  const tree = callTree(folded.counts);
  assert.equal(tree.name, 'all');
  assert.equal(tree.value, hostSamples.length);
  assert.equal(tree.self, 0);
  checkTree(tree);
  const burner = tree.children.find((c) => c.name === 'hot burner')!;
  assert.equal(burner.kind, 'process');
  assert.equal(burner.value, hostSamples.filter((s) => s.comm === 'hot burner').length);
  const hot = burner.children.find((c) => c.name === '__libc_start_call_main')!.children.find((c) => c.name === 'burn_hot_function')!;
  assert.equal(hot.kind, 'native');
  assert.ok(hot.self > 0);
  const node = tree.children.find((c) => c.name === 'node')!;
  const findKind = (n: CallTree, kind: string): CallTree | undefined => (n.kind === kind ? n : n.children.map((c) => findKind(c, kind)).find(Boolean));
  assert.equal(findKind(node, 'jit')?.name.startsWith('JS:'), true);
  assert.equal(findKind(tree.children.find((c) => c.name === 'dd')!, 'kernel')?.name.endsWith('_[k]'), false, 'suffix stripped');
});

test('folded text lists each stack once with its count, and round-trips through the tree', () => {
  const folded = fold(hostSamples);
  const lines = folded.toText().trimEnd().split('\n');
  assert.equal(lines.length, folded.counts.size);
  const parsed = lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))] as const);
  assert.equal(parsed.reduce((n, [, c]) => n + c, 0), hostSamples.length);
  assert.deepEqual(callTree(parsed), callTree(folded.counts));
});

test('past the bound on distinct stacks, samples still count, under <comm>;[other stacks]', () => {
  const folded = new FoldedStacks(2);
  folded.add('a;x');
  folded.add('a;y');
  folded.add('a;z', 3);
  folded.add('a;x');
  assert.equal(folded.total, 6);
  assert.equal(folded.overflowed, 3);
  assert.equal(folded.counts.get('a;x'), 2);
  assert.equal(folded.counts.get('a;[other stacks]'), 3);
});
