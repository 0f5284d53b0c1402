import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { START_FLAGS } from '../../agent/v8-settings.js';

const DAEMONSET = fileURLToPath(new URL('../../deploy/kubernetes/vigil-daemonset.yaml', import.meta.url));
const UNIT = fileURLToPath(new URL('../../deploy/systemd/vigil.service', import.meta.url));
const root = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

/** The manifest parsed by PyYAML (no kubectl here), as JSON. */
function manifests(): Array<Record<string, any>> {
  const json = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', DAEMONSET], { encoding: 'utf8' });
  return JSON.parse(json) as Array<Record<string, any>>;
}

test('the DaemonSet manifest parses and runs the agent the way its flags and probes expect', () => {
  const docs = manifests();
  const daemonSet = docs.find((d) => d.kind === 'DaemonSet')!;
  const service = docs.find((d) => d.kind === 'Service')!;
  assert.ok(daemonSet && service, `kinds: ${docs.map((d) => d.kind)}`);
  const pod = daemonSet.spec.template.spec;
  assert.equal(pod.hostPID, true);
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  const [container] = pod.containers;
  for (const probe of [container.livenessProbe, container.readinessProbe]) assert.equal(probe.httpGet.path, '/health');
  assert.ok(container.resources.requests.memory && container.resources.limits.memory);
  const mounts = new Map(container.volumeMounts.map((m: any) => [m.mountPath, m]));
  for (const path of ['/host/proc', '/host/sys', '/host/run']) assert.equal((mounts.get(path) as any)?.readOnly, true, `${path} is mounted read-only`);
  assert.ok(container.args.includes('--procfs=/host/proc') && container.args.includes('--sysfs=/host/sys'));
  // Every $(VAR) in args is defined by the ConfigMap the container reads.
  const config = docs.find((d) => d.kind === 'ConfigMap')!.data as Record<string, string>;
  for (const m of container.args.join(' ').matchAll(/\$\((\w+)\)/g)) assert.ok(m[1]! in config, `${m[1]} is not in the ConfigMap`);
  assert.equal(service.spec.type, 'ClusterIP');
  assert.equal(service.spec.ports[0].port, 44322);
  assert.deepEqual(service.spec.selector, daemonSet.spec.selector.matchLabels);
});

test('the systemd unit starts the built agent and keeps /proc and cgroups readable', () => {
  const unit = readFileSync(UNIT, 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/node (--\S+ )*\/opt\/vigil\/dist\/agent\/cli\.js /m);
  assert.match(unit, /^ProtectSystem=strict$/m);
  // These would hide other processes or the cgroup tree from the agent.
  assert.doesNotMatch(unit, /^(ProtectProc=invisible|ProcSubset=pid|InaccessiblePaths=.*\/(proc|sys))/m);
});

test('every start path runs node with the start flags (a young generation of 8 MiB, not 2 or 32)', () => {
  assert.ok(START_FLAGS.length > 0);
  // The node arguments before the CLI, for each way the agent is started.
  const paths: Record<string, string | undefined> = {
    'npm start (package.json)': /\bnode ((?:--\S+ )*)dist\/agent\/cli\.js/.exec((JSON.parse(root('package.json')) as { scripts: Record<string, string> }).scripts.start!)?.[1],
    'the vigil command (agent/cli.ts shebang)': /^#!\/usr\/bin\/env -S node ((?:--\S+ ?)*)\n/.exec(root('agent/cli.ts'))?.[1],
    'the Dockerfile (ENTRYPOINT)': /^ENTRYPOINT \["node", ((?:"--[^"]+", )*)"\/opt\/vigil\/dist\/agent\/cli\.js"\]/m.exec(root('Dockerfile'))?.[1]?.replace(/[",]/g, ''),
    'the systemd unit (ExecStart)': /^ExecStart=\/usr\/bin\/node ((?:--\S+ )*)\/opt\/vigil\/dist\/agent\/cli\.js/m.exec(readFileSync(UNIT, 'utf8'))?.[1],
  };
  for (const [path, flags] of Object.entries(paths)) {
    assert.notEqual(flags, undefined, `${path}: no node command line found`);
    assert.deepEqual(flags!.trim().split(/\s+/).filter(Boolean), [...START_FLAGS], `${path} starts node with ${flags}`);
  }
});
