import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A mounted cgroup hierarchy: a v1 one with its controllers (and `name=` tag), or the v2 one. */
export interface Hierarchy {
  mountPoint: string;
  version: 1 | 2;
  controllers: string[];
}

/** The cgroup hierarchies mounted here, from mountinfo (hybrid hosts have both kinds). */
export function cgroupHierarchies(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Hierarchy[] {
  const known = new Set(
    readFileSync('/proc/cgroups', 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t')[0]!),
  );
  const hierarchies: Hierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const fstype = fields[dash + 1];
    if (dash < 0 || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    // mountinfo escapes blanks in paths as octal (\040).
    const mountPoint = fields[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const options = (fields[dash + 3] ?? '').split(',');
    hierarchies.push(
      fstype === 'cgroup2'
        ? { mountPoint, version: 2, controllers: [] }
        : { mountPoint, version: 1, controllers: options.filter((o) => known.has(o) || o.startsWith('name=')) },
    );
  }
  return hierarchies;
}

export interface CgroupProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A kernel file's contents without the trailing newline. */
export function readKernel(path: string): string {
  return readFileSync(path, 'utf8').trimEnd();
}

/** A kernel file holding one integer, exact. */
export function readCounter(path: string): bigint {
  return BigInt(readKernel(path));
}

/** A flat-keyed kernel file (`nr_periods 12`, `oom_kill 1`) as key → exact integer. */
export function readKeyed(path: string): Map<string, bigint> {
  return new Map(
    readKernel(path)
      .split('\n')
      .map((line) => line.split(' ') as [string, string])
      .map(([key, value]) => [key, BigInt(value)]),
  );
}

export function writeKernel(path: string, value: string | number): void {
  try {
    writeFileSync(path, String(value));
  } catch (error) {
    throw new Error(`cannot write "${value}" to ${path}: ${(error as Error).message}`);
  }
}

/**
 * A real cgroup for one test, named `vigil-test-<pid>-<random>` and created in every mounted
 * hierarchy (each v1 controller's and the v2 one), so that every cgroup collector sees it under
 * the same path. `destroy()` kills the processes this object started, waits for them, and
 * removes the directories leaf first.
 */
export class TestCgroup {
  /** Its path inside every hierarchy, as `cgroup.*` instance names spell it. */
  readonly path: string;
  private readonly v1 = new Map<string, string>();
  private v2Dir?: string;
  private readonly created: string[] = [];
  private readonly processes: CgroupProcess[] = [];

  constructor(readonly name = `vigil-test-${process.pid}-${randomBytes(4).toString('hex')}`) {
    this.path = `/${name}`;
    try {
      for (const h of cgroupHierarchies()) {
        const dir = `${h.mountPoint}/${name}`;
        mkdirSync(dir);
        this.created.push(dir);
        if (h.version === 2) this.v2Dir = dir;
        for (const controller of h.controllers) this.v1.set(controller, dir);
        // A new v1 cpuset has no CPUs or memory nodes, and a cgroup without them takes no tasks.
        if (h.controllers.includes('cpuset')) {
          for (const file of ['cpuset.cpus', 'cpuset.mems']) writeKernel(`${dir}/${file}`, readKernel(`${h.mountPoint}/${file}`));
        }
      }
    } catch (error) {
      for (const dir of this.created.reverse()) rmdirSync(dir);
      throw error;
    }
    if (this.created.length === 0) throw new Error('no cgroup hierarchy is mounted (see /proc/self/mountinfo)');
  }

  /** Its directory in the v1 hierarchy of `controller`; throws when this host has no such hierarchy. */
  dir(controller: string): string {
    const dir = this.v1.get(controller);
    if (!dir) throw new Error(`this test needs the cgroup v1 "${controller}" controller mounted (a hybrid v1 host); it is not`);
    return dir;
  }

  has(controller: string): boolean {
    return this.v1.has(controller);
  }

  /** Its directory in the v2 hierarchy (`/sys/fs/cgroup/unified/…` on a hybrid host). */
  get unified(): string {
    if (!this.v2Dir) throw new Error('this test needs a cgroup v2 hierarchy mounted; there is none');
    return this.v2Dir;
  }

  set(controller: string, file: string, value: string | number): void {
    writeKernel(`${this.dir(controller)}/${file}`, value);
  }

  /** Moves a process into this cgroup in every hierarchy. */
  join(pid: number): void {
    for (const dir of this.created) writeKernel(`${dir}/cgroup.procs`, pid);
  }

  /**
   * Starts `command` so that it is inside this cgroup before it runs a single instruction of its
   * own: a shell waits on stdin until it has been moved here, then execs the command (same pid).
   */
  async spawn(command: string, args: readonly string[] = []): Promise<CgroupProcess> {
    const child = spawn('/bin/sh', ['-c', 'read go; exec "$@"', 'sh', command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    const started: CgroupProcess = { child, pid: child.pid!, exited };
    this.processes.push(started);
    this.join(started.pid);
    child.stdin!.end('go\n');
    return started;
  }

  async destroy(): Promise<void> {
    for (const { child } of this.processes) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all(this.processes.map((p) => p.exited));
    const failures: string[] = [];
    for (const dir of this.created) {
      try {
        await removeTree(dir);
      } catch (error) {
        failures.push(`${dir}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) {
      throw new Error(`could not remove test cgroup ${this.name}; remove it by hand (rmdir) once empty:\n  ${failures.join('\n  ')}`);
    }
  }
}

/** Reads a child's stdout until `text` appears (a "ready" line); rejects if it exits first. */
export function untilOutput(started: CgroupProcess, text: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`pid ${started.pid} did not print "${text}" within ${timeoutMs} ms`)), timeoutMs);
    started.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void started.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`pid ${started.pid} exited (code ${code}, signal ${signal}) before printing "${text}"`));
    });
  });
}

/** rmdir a cgroup and any cgroups below it, children first; waits briefly while the kernel lets go. */
async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) if (entry.isDirectory()) await removeTree(`${dir}/${entry.name}`);
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY for a moment after the last task exits (its css is still being released).
      if (code !== 'EBUSY' || attempt >= 40) throw error;
      await sleep(50);
    }
  }
}
