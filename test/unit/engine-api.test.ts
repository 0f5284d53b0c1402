import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { after, test } from 'node:test';
import { EngineApi } from '../../agent/containers/engine-api.js';

const dir = mkdtempSync(`${tmpdir()}/vigil-test-engine-`);
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The least of the Docker Engine API the client needs, on a real UNIX socket: an events stream
 * held open and an empty container list. The client against dockerd itself is tested in
 * test/live/containers-docker*.test.ts; this is about what it does while there is no socket.
 */
function engine(path: string): Promise<{ server: Server; close(): Promise<void> }> {
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/events')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      streams.add(res);
    } else if (req.url?.startsWith('/containers/json')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    } else res.writeHead(404).end('{}');
  });
  return new Promise((resolve) => server.listen(path, () => resolve({
    server,
    close: () => {
      for (const res of streams) res.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  })));
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('no socket file: the client waits for one without trying to connect, and connects once it is there', async () => {
  const path = `${dir}/docker.sock`;
  const api = new EngineApi('docker', path);
  api.start();
  await api.firstAttempt;
  // Several retries' worth of backoff (250, 500, 1000 ms…) with no daemon.
  await new Promise((resolve) => setTimeout(resolve, 1800));
  assert.equal(api.attempts, 0, 'a retry while the socket file is missing is a stat, not a request');
  assert.equal(api.connected, false);

  const daemon = await engine(path);
  try {
    await until('connected to the engine that appeared', () => api.connected, 8000);
    assert.equal(api.attempts, 1);

    // The daemon goes away with its socket file: the client drops its copy and waits again.
    await daemon.close();
    await until('the loss noticed', () => !api.connected, 3000);
    const before = api.attempts;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(api.attempts, before, 'no requests to a socket file that is gone');
  } finally {
    api.close();
    await daemon.close().catch(() => undefined);
  }
});
