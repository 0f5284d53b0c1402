import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestCgroup } from './cgroup.js';

/** The Debian docker.io client matches its daemon; any other `docker` on PATH negotiates down. */
const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
const APPLETS = ['sh', 'sleep', 'cat', 'nc', 'ping', 'ip', 'ifconfig', 'hostname', 'ls', 'true', 'yes'];

/** Runs a command; resolves to its stdout, rejects with its stderr. */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: options.env ?? process.env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim());
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** A directory holding `/bin/busybox` and its applet links: the smallest useful container rootfs. */
export function busyboxRootfs(): string {
  if (!BUSYBOX) throw new Error('busybox is not installed: apt-get install -y busybox-static');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-test-rootfs-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'etc'));
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  return dir;
}

/** GET over a unix socket; resolves to the status code, or undefined when nothing answers. */
function ping(socketPath: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * A private dockerd for one test file, started with the flags that work on this host
 * (no iptables, no bridge, overlay2) and everything of its own: socket, data root, exec root
 * (so its containerd, shims and runc state are private too), pidfile, and a cgroup parent
 * `/vigil-test-<pid>-<random>` created by TestCgroup, so that cleanup removes only what it made.
 * `--live-restore` keeps containers running while dockerd is down, which the restart test needs.
 */
export class TestDocker {
  readonly tag = `vigil-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly runDir = `/run/${this.tag}`;
  readonly dataRoot = `/var/lib/${this.tag}`;
  readonly socket = `${this.runDir}/docker.sock`;
  readonly image = `${this.tag}/busybox:latest`;
  readonly cgroup: TestCgroup;
  private daemon?: ChildProcess;
  private daemonExited?: Promise<void>;
  private log = '';

  private constructor() {
    mkdirSync(this.runDir, { recursive: true });
    this.cgroup = new TestCgroup(this.tag);
  }

  /** Starts dockerd and imports the busybox image every test container runs. */
  static async start(): Promise<TestDocker> {
    const docker = new TestDocker();
    try {
      await docker.startDaemon();
      const rootfs = busyboxRootfs();
      try {
        await run('tar', ['-C', rootfs, '-c', '-f', `${docker.runDir}/rootfs.tar`, '.']);
        await docker.cli(['import', `${docker.runDir}/rootfs.tar`, docker.image]);
      } finally {
        rmSync(rootfs, { recursive: true, force: true });
      }
      return docker;
    } catch (error) {
      await docker.stop().catch(() => undefined);
      throw error;
    }
  }

  get pid(): number | undefined {
    return this.daemon?.pid;
  }

  /** The docker CLI against this daemon. */
  cli(args: readonly string[]): Promise<string> {
    return run(DOCKER_CLI, ['--host', `unix://${this.socket}`, ...args]);
  }

  /** `docker run -d` of the test image; resolves to the full container id. */
  runContainer(options: readonly string[], command: readonly string[] = ['sleep', '100000']): Promise<string> {
    return this.cli(['run', '-d', '--network', 'none', ...options, this.image, ...command]);
  }

  async containerPid(id: string): Promise<number> {
    return Number(await this.cli(['inspect', '-f', '{{.State.Pid}}', id]));
  }

  async startDaemon(): Promise<void> {
    if (this.daemon) throw new Error('dockerd is already running');
    const args = [
      '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none', '--storage-driver=overlay2',
      '--live-restore',
      '--host', `unix://${this.socket}`,
      '--data-root', this.dataRoot,
      '--exec-root', `${this.runDir}/exec`,
      '--pidfile', `${this.runDir}/docker.pid`,
      '--cgroup-parent', this.cgroup.path,
    ];
    const daemon = spawn('dockerd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.daemon = daemon;
    this.daemonExited = new Promise((resolve) => daemon.once('exit', () => resolve()));
    daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.log = (this.log + chunk).slice(-20_000)));
    await new Promise<void>((resolve, reject) => daemon.once('spawn', resolve).once('error', (error) => {
      reject(new Error(`cannot start dockerd (apt-get install -y docker.io): ${error.message}`));
    }));
    for (let i = 0; i < 200; i++) {
      if ((await ping(this.socket)) === 200) return;
      if (daemon.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`dockerd did not answer on ${this.socket} within 10 s; its log ends:\n${this.log.slice(-3000)}`);
  }

  /** SIGKILL dockerd (its containerd goes with it; live-restore keeps the containers). */
  async killDaemon(): Promise<void> {
    const daemon = this.daemon;
    if (!daemon) return;
    daemon.kill('SIGKILL');
    await this.daemonExited;
    this.daemon = undefined;
    // Its containerd is its child and exits on its own; wait so that a restart finds the socket free.
    const containerdPid = Number(readOptionalFile(`${this.runDir}/exec/containerd/containerd.pid`));
    for (let i = 0; containerdPid > 0 && alive(containerdPid) && i < 100; i++) await sleep(50);
  }

  private async stopDaemon(): Promise<void> {
    const daemon = this.daemon;
    if (!daemon) return;
    daemon.kill('SIGTERM');
    const stopped = await Promise.race([this.daemonExited!.then(() => true), sleep(20_000).then(() => false)]);
    if (!stopped) {
      daemon.kill('SIGKILL');
      await this.daemonExited;
    }
    this.daemon = undefined;
  }

  /**
   * Removes everything this daemon made: its containers and image (through dockerd, started
   * again if a test killed it), then dockerd itself, leftover processes in its cgroup parent,
   * the cgroups, its mounts and directories.
   */
  async stop(): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, work: () => Promise<unknown>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        failures.push(`${what}: ${(error as Error).message}`);
      }
    };
    if (!this.daemon && existsSync(this.dataRoot)) await attempt('restart dockerd for cleanup', () => this.startDaemon());
    if (this.daemon) {
      await attempt('remove containers', async () => {
        const ids = (await this.cli(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
        if (ids.length > 0) await this.cli(['rm', '-f', '-v', ...ids]);
      });
      await attempt('remove image', () => this.cli(['rmi', '-f', this.image]));
    }
    await attempt('stop dockerd', () => this.stopDaemon());
    // Anything still in our cgroup parent is ours (a container dockerd could not remove).
    await attempt('kill leftovers', async () => {
      for (const pid of cgroupTreePids(this.cgroup.unified)) process.kill(pid, 'SIGKILL');
      await sleep(200);
    });
    await attempt('remove cgroups', () => this.cgroup.destroy());
    await attempt('unmount', async () => {
      const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
      const ours = mounts.filter((m) => m.startsWith(this.dataRoot) || m.startsWith(this.runDir)).sort((a, b) => b.length - a.length);
      for (const mount of ours) await run('umount', ['-l', mount]);
    });
    await attempt('remove directories', async () => {
      rmSync(this.dataRoot, { recursive: true, force: true });
      rmSync(this.runDir, { recursive: true, force: true });
    });
    if (failures.length > 0) {
      throw new Error(`cleanup of test dockerd ${this.tag} was incomplete; remove by hand:\n  ${failures.join('\n  ')}`);
    }
  }
}

function readOptionalFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every pid in a cgroup v2 directory and below. */
function cgroupTreePids(dir: string): number[] {
  const pids = readOptionalFile(`${dir}/cgroup.procs`).split('\n').filter(Boolean).map(Number);
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return pids;
  }
  for (const child of children) pids.push(...cgroupTreePids(`${dir}/${child}`));
  return pids;
}
