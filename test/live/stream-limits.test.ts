import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../../agent/agent.js';
import { StreamClient, isType } from './stream-client.js';

/** The stream's limits, lowered so that a test reaches them: connections, subscriptions, liveness. */
let agent: Agent;
let url: string;
const clients: StreamClient[] = [];

before(async () => {
  agent = await createAgent({
    procfs: '/proc', sysfs: '/sys', intervalMs: 200, collectors: ['loadavg'],
    streamLimits: { connections: 3, subscriptions: 2, pingMs: 300 },
  });
  agent.sampler.start();
  url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  for (const client of clients) client.close();
  await agent?.close();
});

async function connect(): Promise<StreamClient> {
  const client = await StreamClient.connect(url);
  clients.push(client);
  return client;
}

const singular = (metric: string): bigint | number | undefined => agent.sampler.latest?.get(metric)?.get(-1) as bigint | number | undefined;

test('subscriptions per connection: one more is refused with a reason, replacing one is not', async () => {
  const client = await connect();
  await client.next(isType('hello'));
  client.send({ v: 1, type: 'subscribe', id: 'a', metrics: ['kernel.all.load'] });
  client.send({ v: 1, type: 'subscribe', id: 'b', metrics: ['kernel.all.nprocs'] });
  await client.next(isType('subscribed', 'b'));
  client.send({ v: 1, type: 'subscribe', id: 'c', metrics: ['kernel.all.runnable'] });
  const refused = await client.next(isType('error'));
  assert.equal(refused.code, 'too-many-subscriptions');
  assert.equal(refused.id, 'c');
  assert.match(refused.message as string, /already has 2 subscriptions/);
  client.send({ v: 1, type: 'subscribe', id: 'a', metrics: ['kernel.all.runnable'] });
  await client.next(isType('subscribed', 'a'));
});

test('connections: one more than the limit is closed with 1013 and a reason', async () => {
  while (clients.filter((c) => !c.closed).length < 3) await connect();
  const extra = await connect();
  const closed = await extra.whenClosed();
  assert.equal(closed.code, 1013);
  assert.match(closed.reason, /too many stream clients \(3\)/);
});

test('a client that stops answering pings is disconnected', async () => {
  for (const client of clients.splice(0)) client.close();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const dead = await connect();
  await dead.next(isType('hello'));
  const closedBefore = singular('vigil.stream.closed') as bigint;
  // A paused socket reads no pings, so it answers none: to the agent it is a dead peer.
  (dead.ws as unknown as { _socket: Socket })._socket.pause();
  const deadline = performance.now() + 5000;
  while ((singular('vigil.stream.closed') as bigint) <= closedBefore || singular('vigil.stream.clients') !== 0) {
    assert.ok(performance.now() < deadline, `still connected after 5 s: closed=${singular('vigil.stream.closed')} clients=${singular('vigil.stream.clients')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  (dead.ws as unknown as { _socket: Socket })._socket.resume();
  const closed = await dead.whenClosed();
  assert.equal(closed.code, 1006, 'terminated without a closing handshake');
});
