/**
 * Not a scenario: where the built agent's CPU goes, from `perf record` of all its threads, the
 * kernel included, at `cgroups` bench cgroups with one console subscriber, from `age` seconds
 * after the console subscribed, for `seconds`. Each sample is put in one bucket:
 *
 * - in the kernel, by system call, and for reads by the kernel function that formats the file
 *   (`memory_stat_show` is memory.stat, `psi_show` a pressure file): what any reader of the
 *   same files pays, whatever it is written in;
 * - in the process, V8's optimising compiler, its garbage collector, JavaScript (JIT code, named
 *   or not), V8's builtins (Map lookups, string and regexp operations), Node and libuv, libc.
 *
 * bench/profile-agent.ts names the JavaScript functions; this says how much of the whole is
 * JavaScript at all. perf's sampling adds a little CPU of its own to the agent's figure.
 *   node --import tsx bench/perf-agent.ts [cgroups] [age s] [seconds] [agent args…]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { parsePerfScript, type PerfSample } from '../agent/profile/perf-script.js';
import { SCRIPT_FIELDS } from '../agent/profile/perf.js';
import { consoleMetrics, servedNames, startAgentProcess, subscribe } from './agent.js';
import { BenchCgroups, cpuMeter, sleep, table } from './lib.js';

const run = promisify(execFile);
const [count = '100', age = '240', seconds = '30', ...args] = process.argv.slice(2);
/** Samples per second per thread: prime, so that it does not beat with the agent's 1 s pass. */
const HZ = 997;

/** The kernel function a system call entered by; its name without the arch prefix. */
const SYSCALL = /^(?:__x64_sys_|__arm64_sys_|__do_sys_|__se_sys_|ksys_)(\w+)$/;
/** A kernel function that makes the text of one kind of file (`memory_stat_show`, `tcp_seq_next`). */
const FILE_FUNCTION = /(_show|_read|_read_u64|_read_s64|_format|_seq_start|_seq_next)$/;
/** Such functions on every read's path, whatever the file: skipped to find the file's own. */
const GENERIC_READ = new Set(['vfs_read', 'seq_read', 'kernfs_seq_show', 'cgroup_seqfile_show', 'proc_reg_read', 'kernfs_seq_start', 'kernfs_seq_next']);

/** The bucket of one sample. */
function bucket(sample: PerfSample): string {
  const frames = sample.frames.map((f) => ({ symbol: f.symbol.replace(/\+0x[0-9a-f]+$/, ''), dso: f.dso }));
  const leaf = frames[0];
  if (!leaf) return 'process: unknown';
  if (leaf.dso === '[kernel.kallsyms]') {
    const entry = frames.findIndex((f) => SYSCALL.test(f.symbol) || f.symbol === 'do_sys_openat2');
    if (entry < 0) {
      if (frames.some((f) => f.symbol === 'exc_page_fault' || f.symbol === 'asm_exc_page_fault')) return 'kernel: page faults';
      return 'kernel: interrupts, scheduling, other';
    }
    const call = frames[entry]!.symbol === 'do_sys_openat2' ? 'openat' : SYSCALL.exec(frames[entry]!.symbol)![1]!;
    if (call !== 'pread64' && call !== 'read' && call !== 'readv') return `kernel: ${call}`;
    // From the system call towards the leaf: the first function that makes one kind of file.
    for (let i = entry - 1; i >= 0; i--) {
      const fn = frames[i]!.symbol;
      if (FILE_FUNCTION.test(fn) && !GENERIC_READ.has(fn)) return `kernel: ${call} of ${fn}`;
    }
    return `kernel: ${call}, the read path itself (lookup, locks, copying)`;
  }
  const s = leaf.symbol;
  if (/v8::internal::compiler::|v8::internal::maglev::|Turboshaft|v8::internal::Zone|OptimizedCompilationJob|PipelineCompilationJob/.test(s)) return 'V8: optimising compiler';
  if (/Scavenge|MarkCompact|MinorMark|Sweeper|ConcurrentMarking|Evacuat|MarkingVisitor|MarkingBarrier|Heap::|GCTracer|MemoryAllocator|PagedSpace|SemiSpace/.test(s)) return 'V8: garbage collector';
  if (s.startsWith('Builtins_')) return 'V8: builtins (Map, string, regexp, calls)';
  if (s.startsWith('JS:') || leaf.dso.startsWith('/tmp/perf-') || leaf.dso.startsWith('[JIT]')) return 'JavaScript (JIT code)';
  if (/libc\.so/.test(leaf.dso)) return 'libc (malloc, memcpy, pread stub)';
  if (/^(node::|uv_|uv__)/.test(s)) return 'Node and libuv';
  if (s.startsWith('v8::') || /\/node$/.test(leaf.dso)) return 'V8: runtime, interpreter, other';
  return `process: ${leaf.dso}`;
}

const cgroups = await BenchCgroups.create(Number(count));
const agent = await startAgentProcess(['--interval', '1s', ...args]);
const dir = mkdtempSync(`${tmpdir()}/vigil-perf-`);
try {
  const sub = await subscribe(agent.url, consoleMetrics(await servedNames(agent.url)));
  await sleep(Number(age) * 1000);
  const pid = agent.child.pid!;
  const meter = cpuMeter([pid]);
  await run('perf', ['record', '-q', '-F', String(HZ), '-g', '-p', String(pid), '-o', `${dir}/perf.data`, '--', 'sleep', seconds]);
  const { cpu, wall, system } = meter.stop();
  sub.close();
  const { stdout } = await run('perf', ['script', '-i', `${dir}/perf.data`, '-F', SCRIPT_FIELDS], { maxBuffer: 1 << 30 });
  const samples = parsePerfScript(stdout).filter((s) => s.pid === pid);
  const byBucket = new Map<string, number>();
  for (const s of samples) {
    const where = bucket(s);
    byBucket.set(where, (byBucket.get(where) ?? 0) + 1);
  }
  // One sample stands for 1/HZ s of one thread's CPU.
  const msPerSecond = (n: number): string => ((n / HZ / wall) * 1000).toFixed(2);
  const rows = [...byBucket].sort((a, b) => b[1] - a[1]);
  const share = (n: number): string => `${((n / samples.length) * 100).toFixed(1)} %`;
  const sum = (kernel: boolean): number => rows.filter(([k]) => k.startsWith('kernel:') === kernel).reduce((n, [, v]) => n + v, 0);
  console.log(`agent at ${count} cgroups, one console, from ${age} s for ${wall.toFixed(1)} s: ${((cpu / wall) * 1000).toFixed(1)} ms CPU/s by /proc (${((system / wall) * 1000).toFixed(1)} of it in the kernel); ${samples.length} perf samples = ${msPerSecond(samples.length)} ms/s`);
  console.log(`kernel ${msPerSecond(sum(true))} ms/s, process ${msPerSecond(sum(false))} ms/s\n`);
  console.log(table(['where', 'ms/s', 'share', 'samples'], rows.map(([k, n]) => [k, msPerSecond(n), share(n), n])));
} finally {
  await agent.stop();
  await cgroups.destroy();
  rmSync(dir, { recursive: true, force: true });
}
