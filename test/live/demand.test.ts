import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Demand, KEPT } from '../../agent/demand.js';
import { mainSubscription } from '../../web/src/data/needs.js';
import { TestAgent, fetchValues } from '../support/agent.js';
import { StreamClient, isType } from './stream-client.js';

// The agent collects what clients watch (agent/demand.ts): these tests watch the agent's own
// account of which collectors ran (vigil.collector.time is 0 for a collector that did not run
// in the latest pass) while REST fetches and stream subscriptions come and go.

let agent: TestAgent;
before(async () => {
  agent = await TestAgent.start();
});
after(async () => agent?.close());

/** Collector name → whether it ran in the latest pass. */
async function ran(): Promise<Map<string, boolean>> {
  const sample = await agent.agent.sampler.sampleNow();
  const indom = agent.table.metric('vigil.collector.time')!.indom!;
  return new Map([...sample.get('vigil.collector.time')!].map(([id, ms]) => [sample.instanceName(indom, id)!, (ms as number) > 0]));
}

describe('collection on demand', () => {
  it("keeps the console's main view, and nothing else, when nobody asks", async () => {
    const runs = await ran();
    assert.equal(runs.get('processes'), false, 'per-process collection runs only when proc.* is wanted');
    assert.equal(runs.get('cgroup'), true, 'the containers table is kept');
    const sample = agent.agent.sampler.latest!;
    assert.ok(sample.get('cgroup.cpuacct.usage') ?? sample.get('cgroup.cpu.stat.usage'), 'container CPU is kept');
    assert.equal(sample.get('cgroup.memory.stat.pgfault'), undefined, 'memory.stat details are not kept');
  });

  it('a REST fetch of a metric nobody watched gets values in its first reply, then keeps them collected', async () => {
    const reply = await fetchValues(agent.url, ['proc.nprocs', 'cgroup.memory.stat.pgfault']);
    const nprocs = reply.values.find((v) => v.name === 'proc.nprocs');
    assert.ok(nprocs && Number(nprocs.instances[0]!.value) > 1, `proc.nprocs in the first reply: ${JSON.stringify(nprocs)}`);
    assert.ok(reply.values.some((v) => v.name === 'cgroup.memory.stat.pgfault' && v.instances.length > 0), 'memory.stat read for the fetch');
    assert.equal((await ran()).get('processes'), true, 'still collected in the next pass');
  });

  it('a REST fetch of a derived metric collects its operands', async () => {
    const reply = await fetchValues(agent.url, ['kernel.cpu.util.user']);
    assert.equal(reply.values[0]?.name, 'kernel.cpu.util.user');
  });

  it('a stream subscription holds its metrics until it is dropped', async () => {
    const demand = agent.agent.demand;
    assert.equal(demand.wants('network.udp.indatagrams'), false);
    const client = await StreamClient.connect(agent.url);
    try {
      client.send({ v: 1, type: 'subscribe', id: 'udp', metrics: ['network.udp'], history: 0 });
      await client.next(isType('subscribed', 'udp'));
      assert.equal(demand.wants('network.udp.indatagrams'), true, 'held while subscribed');
      client.send({ v: 1, type: 'unsubscribe', id: 'udp' });
      await client.next(isType('unsubscribed', 'udp'));
      assert.equal(demand.wants('network.udp.indatagrams'), false, 'released by unsubscribe');
      client.send({ v: 1, type: 'subscribe', id: 'udp2', metrics: ['network.udp.indatagrams'], history: 0 });
      await client.next(isType('subscribed', 'udp2'));
      assert.equal(demand.wants('network.udp.indatagrams'), true);
    } finally {
      client.close();
    }
    for (let i = 0; i < 50 && demand.wants('network.udp.indatagrams'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(demand.wants('network.udp.indatagrams'), false, 'released when the connection closes');
  });
});

describe('Demand', () => {
  it("KEPT covers the console's main subscription (web/src/data/needs.ts)", () => {
    const kept = new Set(KEPT);
    const missing = mainSubscription().metrics.filter((m) => !kept.has(m));
    assert.deepEqual(missing, [], 'the console would back-fill these from an empty history');
  });

  it('forgets REST interest after its TTL, and --collect all wants everything', () => {
    const demand = new Demand(agent.table, { all: false, kept: [], ttlMs: 1000 });
    assert.equal(demand.ask(['kernel.all.load'], 0), true, 'new interest');
    assert.equal(demand.ask(['kernel.all.load'], 500), false, 'already collected');
    demand.expire(1400);
    assert.equal(demand.wants('kernel.all.load'), true, 'asked 900 ms ago');
    demand.expire(1600);
    assert.equal(demand.wants('kernel.all.load'), false, 'asked 1100 ms ago');
    assert.equal(new Demand(agent.table, { all: true, kept: [] }).wants('kernel.all.load'), true);
  });
});
