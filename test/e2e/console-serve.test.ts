import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createAgent, type Agent } from '../../agent/agent.js';
import { consolePlugin } from '../../agent/api/console.js';

/** The agent serves the built console at `/`: content types, caching, compression. */

const WEB = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));

describe('the agent serves the console', () => {
  let agent: Agent | undefined;
  let url = '';

  before(async () => {
    if (!existsSync(WEB)) throw new Error(`${WEB} is missing: run \`npm run build\` first (npm test does)`);
    agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, collectors: ['loadavg'] });
    url = await agent.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await agent?.close();
  });

  test('index.html at /: HTML, revalidated, with a content security policy', async () => {
    const response = await fetch(`${url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.match(response.headers.get('content-security-policy') ?? '', /connect-src 'self' http: https: ws: wss:/);
    const html = await response.text();
    assert.match(html, /<vigil-app><\/vigil-app>/);
    const etag = response.headers.get('etag')!;
    assert.equal((await fetch(`${url}/`, { headers: { 'if-none-match': etag } })).status, 304);
  });

  test('hashed assets: the right type, cached for a year, gzipped when asked', async () => {
    const html = await (await fetch(`${url}/`)).text();
    const script = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html loads a hashed script');
    const plain = await fetch(`${url}${script}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const body = Buffer.from(await plain.arrayBuffer());
    // Node's fetch decompresses by itself; ask with a raw request to see the encoding.
    const gz = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      request(`${url}${script}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    assert.equal(gz.encoding, 'gzip');
    assert.ok(gz.body.length < body.length / 2, `gzip ${gz.body.length} B of ${body.length} B`);
    assert.deepEqual(gunzipSync(gz.body), body);
  });

  test('other paths stay the API\'s: the console adds no catch-all route', async () => {
    const response = await fetch(`${url}/no/such/page`);
    assert.notEqual(response.status, 200);
    const api = await fetch(`${url}/pmapi/fetch?names=kernel.all.load`);
    assert.equal(api.status, 200);
  });

  test('without a build, / says how to make one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'vigil-test-web-'));
    const app = Fastify();
    try {
      await app.register(consolePlugin, { webRoot: join(empty, 'missing') });
      const response = await app.inject({ url: '/' });
      assert.equal(response.statusCode, 503);
      assert.match(response.body, /npm run build/);
      // A build without index.html is refused at start, saying what to do.
      mkdirSync(join(empty, 'assets'));
      writeFileSync(join(empty, 'assets', 'x.js'), '1');
      await assert.rejects(Fastify().register(consolePlugin, { webRoot: empty }).ready(), /no index\.html.*npm run build/);
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
