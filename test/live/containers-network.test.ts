import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAgent, type Agent } from '../../agent/agent.js';
import { discoveryFor, type DiscoveryOptions } from '../../agent/containers/discovery.js';
import { containerScope } from '../../agent/containers/view.js';
import type { Sample } from '../../agent/store/sample.js';
import { TestDocker, run } from '../support/docker.js';

const SENT = 2 << 20;

function valueOf(sample: Sample, agent: Agent, metric: string, instance: string | null): unknown {
  const indom = agent.table.metric(metric)?.indom;
  assert.ok(indom !== undefined, `${metric} is not in the table`);
  for (const [id, value] of sample.get(metric) ?? []) {
    if (indom === null ? instance === null : sample.instanceName(indom, id) === instance) return value;
  }
  return undefined;
}

function instanceNames(sample: Sample, agent: Agent, metric: string): string[] {
  const indom = agent.table.metric(metric)!.indom!;
  return [...(sample.get(metric)?.keys() ?? [])].map((id) => sample.instanceName(indom, id)!).sort();
}

/** Writes `bytes` to host:port over TCP and waits until the peer has it all. */
function send(host: string, port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.end(Buffer.alloc(bytes, 'x')));
    socket.on('close', (hadError) => (hadError ? reject(new Error('connection failed')) : resolve()));
    socket.on('error', reject);
  });
}

describe('a container network namespace with a veth carrying real traffic', { timeout: 120_000 }, () => {
  let docker: TestDocker;
  let agent: Agent;
  // The test reads the agent's samples directly, so it collects everything (not on demand).
  let options: DiscoveryOptions & { intervalMs: number; collectors: string[]; collect?: 'all' };
  let id: string;
  const suffix = randomBytes(4).toString('hex');
  const hostSide = `vt${suffix}h`;
  const inside = `vt${suffix}c`;
  const net = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.${randomInt(0, 64) * 4}`.split('.').map(Number);
  const hostIp = `${net[0]}.${net[1]}.${net[2]}.${net[3]! + 1}`;
  const containerIp = `${net[0]}.${net[1]}.${net[2]}.${net[3]! + 2}`;

  before(async () => {
    docker = await TestDocker.start();
    options = {
      procfs: '/proc', sysfs: '/sys', intervalMs: 1000, dockerSocket: docker.socket,
      collectors: ['containers', 'container-network', 'network'], collect: 'all',
    };
    agent = await createAgent(options);
    id = await docker.runContainer(['--name', `${docker.tag}-net`], ['sh', '-c', 'while :; do nc -l -p 5000 >/dev/null; done']);
    const pid = await docker.containerPid(id);
    await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', inside, 'netns', String(pid)]);
    await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostSide]);
    await run('ip', ['link', 'set', hostSide, 'up']);
    await run('nsenter', ['-t', String(pid), '-n', 'ip', 'addr', 'add', `${containerIp}/30`, 'dev', inside]);
    await run('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', inside, 'up']);
    await run('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', 'lo', 'up']);
  });

  after(async () => {
    await agent?.close();
    await run('ip', ['link', 'del', hostSide]).catch(() => undefined); // gone with the container's netns already, usually
    await docker?.stop();
  });

  it('counts the bytes the container received, apart from the host, mirrored by the host-side veth', async () => {
    const before = await agent.sampler.sampleNow();
    assert.deepEqual(
      instanceNames(before, agent, 'containers.network.interface.in.bytes').filter((n) => n.startsWith(`${id}::`)),
      [`${id}::lo`, `${id}::${inside}`],
      'the container sees its own interfaces only',
    );
    // busybox nc listens on :: (tcp6), which PCP's network.tcpconn (IPv4) does not count.
    assert.equal(valueOf(before, agent, 'containers.network.tcpconn.listen', id), 0);

    await send(containerIp, 5000, SENT);
    await sleep(100);
    const later = await agent.sampler.sampleNow();

    const delta = (sample: Sample, metric: string, instance: string): bigint =>
      (valueOf(sample, agent, metric, instance) as bigint) - (valueOf(before, agent, metric, instance) as bigint);
    const received = delta(later, 'containers.network.interface.in.bytes', `${id}::${inside}`);
    const mirrored = delta(later, 'network.interface.out.bytes', hostSide);
    assert.ok(received >= BigInt(SENT), `container received ${received} bytes, sent ${SENT}`);
    assert.ok(mirrored >= BigInt(SENT), `host-side veth sent ${mirrored} bytes`);
    // Both ends count the same frames, give or take a neighbour-discovery packet in flight.
    const gap = received > mirrored ? received - mirrored : mirrored - received;
    assert.ok(gap < BigInt(SENT) / 100n, `container in ${received} vs host-side out ${mirrored}`);
    assert.ok(delta(later, 'containers.network.interface.out.packets', `${id}::${inside}`) > 0n, 'acks went back');
    assert.ok(!instanceNames(later, agent, 'network.interface.in.bytes').includes(inside), 'the host does not see the inner end');
    assert.notEqual(
      valueOf(later, agent, 'containers.network.interface.in.bytes', `${id}::lo`),
      valueOf(later, agent, 'network.interface.in.bytes', 'lo'),
      'its loopback is not the host loopback',
    );
    assert.ok((valueOf(later, agent, 'containers.network.tcp.passiveopens', id) as bigint) >= 1n);
  });

  it('serves the container namespace under the host names in a context scoped to it', async () => {
    const sample = await agent.sampler.sampleNow();
    const scope = containerScope(discoveryFor(options), agent.table);
    const view = scope.view(sample, scope.find(`${docker.tag}-net`)!);
    assert.deepEqual(instanceNames(view, agent, 'network.interface.in.bytes'), ['lo', inside]);
    assert.equal(
      valueOf(view, agent, 'network.interface.in.bytes', inside),
      valueOf(sample, agent, 'containers.network.interface.in.bytes', `${id}::${inside}`),
    );
    assert.equal(valueOf(view, agent, 'network.tcp.passiveopens', null), valueOf(sample, agent, 'containers.network.tcp.passiveopens', id));
    assert.equal(view.get('network.tcp.rtoalgorithm'), undefined, 'host values the container namespace did not give never leak in');
  });
});
