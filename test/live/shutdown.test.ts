import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { startAgentProcess, type AgentProcess } from '../support/agent.js';
import { isType, StreamClient } from './stream-client.js';

// Graceful shutdown of the built agent: what a stream client sees, and how fast it exits.

/** A WebSocket client that completes the handshake and then never answers, not even a close frame. */
async function deafWebSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `GET /stream HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.once('data', (chunk: Buffer) => {
    assert.match(chunk.toString('latin1'), /^HTTP\/1\.1 101 /);
    resolve();
  }));
  socket.pause();
  return socket;
}

describe('graceful shutdown', () => {
  const started: AgentProcess[] = [];
  const sockets: Socket[] = [];
  after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const agent of started) if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  });

  it('SIGTERM closes stream clients with 1001 and a reason and exits 0', async () => {
    const agent = await startAgentProcess(['--interval', '200ms']);
    started.push(agent);
    const client = await StreamClient.connect(agent.url);
    await client.next(isType('hello'), 5000, 'hello');
    const began = performance.now();
    const exited = agent.stop();
    const closed = await client.whenClosed(5000);
    assert.deepEqual(closed, { code: 1001, reason: 'agent shutting down' });
    assert.equal(await exited, 0, agent.log());
    assert.ok(performance.now() - began < 4000, `took ${Math.round(performance.now() - began)} ms to exit`);
    assert.match(agent.log(), /shutting down signal=SIGTERM/);
  });

  it('a client that never answers the close handshake cannot hold the agent beyond its deadline', async () => {
    const agent = await startAgentProcess();
    started.push(agent);
    sockets.push(await deafWebSocket(agent.url));
    const began = performance.now();
    assert.equal(await agent.stop(), 0, agent.log());
    const took = performance.now() - began;
    assert.ok(took < 8000, `took ${Math.round(took)} ms to exit`);
  });

  it('a second SIGTERM exits at once', async () => {
    const agent = await startAgentProcess();
    started.push(agent);
    sockets.push(await deafWebSocket(agent.url));
    const exited = new Promise<number | null>((resolve) => agent.child.once('exit', resolve));
    agent.child.kill('SIGTERM');
    // the first is being handled (the deaf client holds the shutdown) when the second arrives
    for (let waited = 0; !/shutting down/.test(agent.log()); waited += 20) {
      assert.ok(waited < 5000, agent.log());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const began = performance.now();
    agent.child.kill('SIGTERM');
    assert.equal(await exited, 1);
    assert.ok(performance.now() - began < 1000, `took ${Math.round(performance.now() - began)} ms after the second SIGTERM`);
    assert.match(agent.log(), /second signal: exiting now/);
  });
});
