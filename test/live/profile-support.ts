import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseJson, type Json } from '../support/json.js';

/**
 * Programs with known hot spots for the profiling tests, built with frame pointers and without
 * inlining so that perf's frame-pointer unwinding sees every function.
 */
export const BURNER_C = `
#include <stdio.h>
volatile unsigned long sink;
void burn_hot_function(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i * i; }
void burn_cold_function(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink ^= i; }
int main(void) {
  printf("ready\\n");
  fflush(stdout);
  for (;;) { burn_hot_function(9000000); burn_cold_function(1000000); }
}
`;

export const OUTSIDE_C = `
#include <stdio.h>
volatile unsigned long sink;
void outside_spin_function(void) { for (unsigned long i = 0; i < 1000000; i++) sink += i; }
int main(void) { printf("ready\\n"); fflush(stdout); for (;;) outside_spin_function(); }
`;

/** Warmed up before "ready", so that the profile sees optimized code, not the compiler. */
export const HOT_JS = `
function hotJsFunction(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) * (i & 7); return s; }
function outerJs() { let t = 0; for (let k = 0; k < 20; k++) t += hotJsFunction(200000); return t; }
for (let w = 0; w < 20; w++) outerJs();
console.log('ready');
for (;;) outerJs();
`;

/** A private build directory; `remove()` deletes it. */
export class Programs {
  readonly dir = mkdtempSync(join(tmpdir(), 'vigil-test-profile-'));

  /** gcc with frame pointers, no inlining; the binary's file name becomes its comm. */
  compile(name: string, source: string, extra: readonly string[] = []): string {
    const src = join(this.dir, `${name}.c`);
    const out = join(this.dir, name);
    writeFileSync(src, source);
    execFileSync('gcc', ['-g', '-O1', '-fno-omit-frame-pointer', '-fno-inline', ...extra, '-o', out, src], { stdio: 'pipe' });
    return out;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A process started outside any test cgroup; `stop()` kills it by pid and waits. */
export function startOutside(path: string): { child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(path, [], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function request(method: string, url: string, body?: unknown): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

export async function json(method: string, url: string, body?: unknown, expect = [200, 202]): Promise<Record<string, Json>> {
  const reply = await request(method, url, body);
  if (!expect.includes(reply.status)) throw new Error(`${method} ${url} answered ${reply.status}: ${reply.text}`);
  return parseJson(reply.text) as Record<string, Json>;
}

/** Polls a profile until it is finished; resolves to its final status. */
export async function finished(base: string, id: string, limitMs = 60_000): Promise<Record<string, Json>> {
  const started = Date.now();
  for (;;) {
    const status = await json('GET', `${base}/profile/${id}`);
    if (status.state !== 'running' && status.state !== 'processing') return status;
    if (Date.now() - started > limitMs) throw new Error(`profile ${id} still ${status.state} after ${limitMs} ms`);
    await sleep(250);
  }
}

export interface TreeNode {
  name: string;
  kind: string;
  value: number;
  self: number;
  children: TreeNode[];
}

/** Samples in frames named by `match` under `node`, counting nested (recursive) matches once. */
export function samplesIn(node: TreeNode, match: (name: string) => boolean): number {
  if (match(node.name)) return node.value;
  return node.children.reduce((n, c) => n + samplesIn(c, match), 0);
}

export function findFrame(node: TreeNode, match: (name: string) => boolean): TreeNode | undefined {
  if (match(node.name)) return node;
  for (const child of node.children) {
    const found = findFrame(child, match);
    if (found) return found;
  }
  return undefined;
}

/** perf processes this test process started that are still alive (by parent pid, never by name alone). */
export function ourPerfProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid === process.pid && comm.startsWith('perf')) pids.push(Number(entry));
  }
  return pids;
}
