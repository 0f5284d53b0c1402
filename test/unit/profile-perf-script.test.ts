import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseFrame, parsePerfScript, PerfScriptParser, type PerfSample } from '../../agent/profile/perf-script.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const host = fixture('perf-host/script.txt');
const container = fixture('perf-container-jit/script.txt');

/** Header lines counted the dumb way: every non-blank line that is not an indented frame. */
const headerCount = (text: string): number => text.split('\n').filter((l) => l.trim() !== '' && !/^\s/.test(l)).length;
/** Frame lines counted the same way. */
const frameCount = (text: string): number => text.split('\n').filter((l) => /^\s+[0-9a-f]+ /.test(l)).length;

test('every sample and every frame of a real perf script capture is parsed', () => {
  for (const text of [host, container]) {
    const samples = parsePerfScript(text);
    assert.equal(samples.length, headerCount(text));
    assert.equal(samples.reduce((n, s) => n + s.frames.length, 0), frameCount(text));
    assert.ok(samples.every((s) => s.frames.length > 0 && Number.isInteger(s.pid) && s.time > 0));
  }
});

test('a comm name with a space keeps its space, and the pid/tid and time after it are found', () => {
  const burner = parsePerfScript(host).filter((s) => s.comm === 'hot burner');
  assert.ok(burner.length > 10, `expected the "hot burner" samples; comms: ${[...new Set(parsePerfScript(host).map((s) => s.comm))]}`);
  assert.ok(burner.every((s) => s.pid === 22404 && s.tid === 22404));
  assert.equal(burner[0]!.time, 1364.652492);
  const leaf = burner[0]!.frames[0]!;
  assert.deepEqual(leaf, { address: 0x115an, symbol: 'burn_hot_function', dso: '/tmp/vigil-h/hot burner' });
  // Frames are leaf first: the caller (libc's start) is last.
  assert.equal(burner[0]!.frames.at(-1)!.symbol, '__libc_start_call_main');
});

test('kernel frames keep their full 64-bit address exactly', () => {
  const dd = parsePerfScript(host).find((s) => s.comm === 'dd' && s.frames[0]!.symbol === 'do_syscall_64');
  assert.ok(dd, 'a dd sample that stopped in do_syscall_64');
  assert.equal(dd.frames[0]!.address, 0xffffffff821ef666n);
  assert.equal(dd.frames[0]!.dso, '[kernel.kallsyms]');
  assert.equal(dd.frames.at(-1)!.dso, '/usr/lib/x86_64-linux-gnu/libc.so.6');
});

test('JIT frames keep the spaces of their names; unnamed ones are [unknown] in the perf map dso', () => {
  const samples = parsePerfScript(host);
  const jit = samples.find((s) => s.comm === 'node')!.frames[0]!;
  assert.equal(jit.symbol, 'JS:*hotJsFunction /tmp/vigil-h/hot.js:1:23');
  assert.equal(jit.dso, '/tmp/perf-22406.map');
  const unknown = samples.find((s) => s.comm === 'nojit-node')!.frames[0]!;
  assert.equal(unknown.symbol, '[unknown]');
  assert.equal(unknown.dso, '/tmp/perf-22408.map');
});

test('parentheses inside symbols and inside the dso do not confuse the frame split', () => {
  const anon = parsePerfScript(host).flatMap((s) => s.frames).find((f) => f.symbol.includes('(anonymous namespace)'));
  assert.equal(anon?.symbol, 'v8::internal::(anonymous namespace)::Invoke');
  assert.equal(anon?.dso, '/usr/bin/node');
  const memfd = parsePerfScript(container).find((s) => s.comm === 'memfd:sealed-91');
  assert.ok(memfd, 'the memfd:sealed-91 sample');
  assert.equal(memfd.frames[0]!.symbol, '__vdso_clock_gettime');
  assert.equal(memfd.frames[0]!.dso, '[vdso]');
  assert.deepEqual(memfd.frames[1], { address: 0x91a33n, symbol: '[unknown]', dso: '/memfd:sealed-91173221a7ea (deleted)' });
  assert.deepEqual(parseFrame('\t    7f0d5b745f9f  (/tmp/perf-1.map)'), { address: 0x7f0d5b745f9fn, symbol: '[unknown]', dso: '/tmp/perf-1.map' });
});

test('the idle task is parsed like any process (pid 0)', () => {
  const idle = parsePerfScript(container).find((s) => s.comm === 'swapper');
  assert.equal(idle?.pid, 0);
  assert.equal(idle?.frames[0]!.symbol, 'pv_native_safe_halt');
});

test('text arriving in chunks that split lines anywhere parses exactly as in one piece', () => {
  const whole = parsePerfScript(host);
  for (const size of [1, 7, 4096]) {
    const got: PerfSample[] = [];
    const parser = new PerfScriptParser((s) => got.push(s));
    for (let i = 0; i < host.length; i += size) parser.feed(host.slice(i, i + size));
    parser.end();
    assert.deepEqual(got, whole, `chunks of ${size}`);
    assert.equal(parser.unparsed, 0);
  }
});

test('a trailing sample without a final newline is not lost; junk lines are counted, not fatal', () => {
  const samples: PerfSample[] = [];
  const parser = new PerfScriptParser((s) => samples.push(s));
  parser.feed('Warning:\nsomething odd\nx 1/1 2.5:\n\t 10 f (/bin/x)');
  parser.end();
  assert.equal(samples.length, 1);
  assert.equal(samples[0]!.frames[0]!.symbol, 'f');
  assert.equal(parser.unparsed, 2);
});
