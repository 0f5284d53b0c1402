import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { busyboxRootfs, run, TestDocker } from '../support/docker.js';

/**
 * Builds the Dockerfile with a private dockerd and runs the image the way the Dockerfile's header
 * says (host /proc and /sys read-only, --pid=host, --network=host, the docker socket), then asks it
 * about a container that dockerd runs. No registry is reachable here, so the Node 20 base image is
 * made from this machine's own node, npm and the libraries node links (ldd), plus the npm cache so
 * that `npm ci` in the build needs no network for packages already cached.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let docker: TestDocker;
let rootfs: string | undefined;

before(async () => {
  docker = await TestDocker.start();
});

after(async () => {
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
  // Removes every container and image of the private dockerd with its data root.
  await docker?.stop();
});

/** A rootfs with node, npm, /bin/sh and node's shared libraries, from this machine's files. */
function nodeRootfs(): string {
  const dir = busyboxRootfs();
  const node = realpathSync(process.execPath);
  const copy = (path: string): void => {
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    copyFileSync(path, join(dir, path));
  };
  copy(node);
  if (node !== '/usr/bin/node') symlinkSync(node, join(dir, 'usr/bin/node'));
  // ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
  for (const m of execFileSync('ldd', [node], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)) copy(m[1]!);
  // vite's native bundler (rolldown) links librt as well, which node does not.
  for (const lib of ['/lib/x86_64-linux-gnu/librt.so.1']) if (existsSync(lib)) copy(lib);
  const npmCli = realpathSync('/usr/bin/npm');
  const npmRoot = npmCli.slice(0, npmCli.indexOf('/bin/npm-cli.js'));
  cpSync(npmRoot, join(dir, npmRoot), { recursive: true });
  symlinkSync(npmCli, join(dir, 'usr/bin/npm'));
  // npm's and the build tools' `#!/usr/bin/env node`
  symlinkSync('/bin/busybox', join(dir, 'usr/bin/env'));
  const cache = join(homedir(), '.npm/_cacache');
  if (existsSync(cache)) cpSync(cache, join(dir, 'root/.npm/_cacache'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { mode: 0o1777 });
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

test('the Docker image builds, runs with the documented flags and serves the host, its containers and the console', { timeout: 600_000 }, async () => {
  const started = performance.now();
  rootfs = nodeRootfs();
  const base = `${docker.tag}/node20:base`;
  const image = `${docker.tag}/vigil:test`;
  await run('tar', ['-C', rootfs, '-c', '-f', `${docker.runDir}/node-rootfs.tar`, '.']);
  await docker.cli(['import', `${docker.runDir}/node-rootfs.tar`, base]);
  rmSync(`${docker.runDir}/node-rootfs.tar`);
  // Classic builder (buildx is not installed); host network so npm can reach the registry for anything not cached.
  const build = spawnSync('docker', ['--host', `unix://${docker.socket}`, 'build', '--network', 'host', '--build-arg', `BASE=${base}`, '-t', image, REPO],
    { env: { ...process.env, DOCKER_BUILDKIT: '0' }, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 480_000 });
  assert.equal(build.status, 0, `docker build failed; its output ends:\n${(build.stdout ?? '').slice(-4000)}\n${(build.stderr ?? '').slice(-2000)}`);
  const built = performance.now();
  console.log(`base image and build took ${((built - started) / 1000).toFixed(1)} s`);

  const workload = await docker.runContainer(['--name', `${docker.tag}-workload`]);
  const port = await freePort();
  const agentId = await docker.cli(['run', '-d', '--name', `${docker.tag}-agent`, '--pid=host', '--network=host',
    '-v', '/proc:/host/proc:ro', '-v', '/sys:/host/sys:ro', '-v', `${docker.socket}:/var/run/docker.sock:ro`,
    image, '--procfs', '/host/proc', '--sysfs', '/host/sys', '--port', String(port), '--interval', '1s']);
  const url = `http://127.0.0.1:${port}`;
  const logs = (): Promise<string> => docker.cli(['logs', agentId]).catch((error: Error) => error.message);

  let health: { status?: string } = {};
  for (let i = 0; i < 100 && health.status !== 'ok'; i++) {
    await sleep(200);
    health = await fetch(`${url}/health`).then((r) => r.json() as Promise<{ status: string }>, () => ({}));
  }
  assert.equal(health.status, 'ok', `the agent in the image never answered /health ok; docker logs:\n${await logs()}`);

  // Container discovery goes through the mounted docker socket; give it a sample or two.
  let names = '';
  for (let i = 0; i < 30 && !names.includes(`${docker.tag}-workload`); i++) {
    await sleep(300);
    names = await (await fetch(`${url}/pmapi/fetch?names=containers.name`)).text();
  }
  assert.ok(names.includes(`${docker.tag}-workload`), `containers.name lacks the workload container: ${names.slice(0, 1000)}\nlogs:\n${await logs()}`);

  const cgroups = await (await fetch(`${url}/pmapi/indom?name=cgroup.memory.usage`)).text();
  assert.ok(cgroups.includes(`${docker.cgroup.path}/${workload}`), `cgroup.memory.usage has no instance for ${docker.cgroup.path}/${workload}: ${cgroups.slice(0, 1500)}`);

  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<!doctype html>/i);
  console.log(`run and checks took ${((performance.now() - built) / 1000).toFixed(1)} s`);
});
