import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';

// Access control, TLS and logs of the built agent (dist/agent/cli.js), over real HTTP and WebSockets.

const CLI = fileURLToPath(new URL('../../dist/agent/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), `vigil-test-${process.pid}-${randomBytes(4).toString('hex')}-`));
const TOKEN = randomBytes(24).toString('hex');
const TOKEN_FILE = join(dir, 'token');
const BASIC_FILE = join(dir, 'users');
const ORIGIN = 'http://grafana.vigil-test.example';
const running: ChildProcess[] = [];

interface Started {
  /** A URL on 127.0.0.1 that reaches the agent, whatever address it listens on. */
  url: string;
  child: ChildProcess;
  log: () => string;
}

/** Starts the agent; resolves once it logs "vigil listening" (text or JSON) with its address. */
async function start(args: string[]): Promise<Started> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [CLI, '--port', '0', '--interval', '200ms', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.push(child);
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not log "vigil listening" within 15 s; its log:\n${log}`)), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before listening; its log:\n${log}`));
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      const m = /vigil listening"?.*?(https?):\/\/[^\s"]*?:(\d+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]}://127.0.0.1:${m[2]}`);
      }
    });
  });
  return { url, child, log: () => log };
}

/** Waits (up to 5 s) until the agent's log matches. */
async function logged(agent: Started, pattern: RegExp): Promise<void> {
  for (let waited = 0; !pattern.test(agent.log()); waited += 50) {
    if (waited > 5000) assert.match(agent.log(), pattern);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** Opens a WebSocket; resolves to 'open' or to the HTTP status that refused the upgrade. */
function upgrade(url: string, options: { headers?: Record<string, string>; protocols?: string[]; ca?: Buffer } = {}): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers, ca: options.ca });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

before(() => {
  writeFileSync(TOKEN_FILE, `${TOKEN}\n`, { mode: 0o600 });
  const hashed = createHash('sha256').update('grafana-secret').digest('hex');
  writeFileSync(BASIC_FILE, `# users of the test\ngrafana:$sha256$${hashed}\nplain:plain-secret\n`, { mode: 0o600 });
});

after(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('listening beyond loopback', () => {
  it('refuses 0.0.0.0 without credentials or --insecure, and names the flags to add', () => {
    const run = spawnSync(process.execPath, [CLI, '--port', '0', '--host', '0.0.0.0'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /refusing to listen on 0\.0\.0\.0 without access control/);
    assert.match(run.stderr, /--token-file FILE/);
    assert.match(run.stderr, /--insecure/);
  });

  it('refuses --cors-origin * with credentials beyond loopback', () => {
    const run = spawnSync(process.execPath, [CLI, '--port', '0', '--host', '0.0.0.0', '--token-file', TOKEN_FILE, '--cors-origin', '*'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--cors-origin \* cannot be combined with credentials/);
  });

  it('starts with --insecure and warns that nothing protects it', async () => {
    const agent = await start(['--host', '0.0.0.0', '--insecure', '--no-profiling']);
    await logged(agent, /serving without credentials beyond loopback/);
    const response = await fetch(`${agent.url}/pmapi/fetch?names=kernel.all.load`);
    assert.equal(response.status, 200);
    agent.child.kill('SIGTERM');
  });
});

describe('a token and Basic users on 0.0.0.0', () => {
  let agent: Started;
  before(async () => {
    agent = await start(['--host', '0.0.0.0', '--token-file', TOKEN_FILE, '--basic-auth-file', BASIC_FILE, '--cors-origin', ORIGIN]);
  });
  after(() => agent?.child.kill('SIGTERM'));

  it('logs what is exposed and how it is protected', async () => {
    await logged(agent, /access reach="the network \(0\.0\.0\.0\)" credentials="bearer token \+ basic \(2 users\)" tls=off cors=http:\/\/grafana\.vigil-test\.example/);
  });

  const paths = ['/pmapi/fetch?names=kernel.all.load', '/pmapi/_fetch?names=kernel.all.load', '/pmapi/context', '/metrics', '/history?names=kernel.all.load', '/profile', '/'];
  for (const path of paths) {
    it(`GET ${path}: 401 with a Basic challenge without credentials, 200 with the token`, async () => {
      const refused = await fetch(`${agent.url}${path}`);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="pmapi"');
      assert.match(await refused.text(), /"success":false/);
      const wrong = await fetch(`${agent.url}${path}`, { headers: { authorization: `Bearer ${TOKEN.slice(1)}x` } });
      assert.equal(wrong.status, 401);
      const allowed = await fetch(`${agent.url}${path}`, { headers: bearer });
      assert.equal(allowed.status, 200, `${path} with the token: ${(await allowed.text()).slice(0, 300)}`);
    });
  }

  it('takes the token as ?access_token= too', async () => {
    assert.equal((await fetch(`${agent.url}/pmapi/fetch?names=kernel.all.load&access_token=${TOKEN}`)).status, 200);
  });

  it('takes Basic users as grafana-pcp sends them, hashed or plain, and the token as a Basic password', async () => {
    const grafana = { ...basic('grafana', 'grafana-secret'), 'x-grafana-org-id': '1', accept: 'application/json, text/plain, */*' };
    const fetched = await fetch(`${agent.url}/pmapi/fetch?names=kernel.all.load`, { headers: grafana });
    assert.equal(fetched.status, 200);
    assert.equal(((await fetched.json()) as { values: Array<{ name: string }> }).values[0]!.name, 'kernel.all.load');
    assert.equal((await fetch(`${agent.url}/metrics`, { headers: basic('plain', 'plain-secret') })).status, 200);
    assert.equal((await fetch(`${agent.url}/metrics`, { headers: basic('anyone', TOKEN) })).status, 200);
    assert.equal((await fetch(`${agent.url}/metrics`, { headers: basic('grafana', 'plain-secret') })).status, 401);
    assert.equal((await fetch(`${agent.url}/metrics`, { headers: basic('plain', `$sha256$${createHash('sha256').update('plain-secret').digest('hex')}`) })).status, 401);
  });

  it('guards the /stream upgrade: refused without, open with the header, the subprotocol or access_token', async () => {
    const ws = agent.url.replace(/^http/, 'ws');
    assert.equal(await upgrade(`${ws}/stream`), 401);
    assert.equal(await upgrade(`${ws}/stream`, { protocols: ['vigil', `bearer.${TOKEN.slice(2)}`] }), 401);
    assert.equal(await upgrade(`${ws}/stream`, { headers: bearer }), 'open');
    assert.equal(await upgrade(`${ws}/stream`, { protocols: ['vigil', `bearer.${TOKEN}`] }), 'open');
    assert.equal(await upgrade(`${ws}/stream?access_token=${TOKEN}`), 'open');
  });

  it('answers a CORS preflight without credentials, for allowed origins only', async () => {
    const ask = (origin: string) =>
      fetch(`${agent.url}/pmapi/fetch?names=kernel.all.load`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,x-grafana-org-id' },
      });
    const allowed = await ask(ORIGIN);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    const other = await ask('http://elsewhere.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    // and the answer itself carries the origin, never `*`
    const answer = await fetch(`${agent.url}/metrics`, { headers: { ...bearer, origin: ORIGIN } });
    assert.equal(answer.headers.get('access-control-allow-origin'), ORIGIN);
  });

  it('leaves /health open for probes', async () => {
    const health = await fetch(`${agent.url}/health`);
    assert.notEqual(health.status, 401);
  });
});

describe('defaults on loopback', () => {
  it('asks for nothing and answers CORS with *, as pmproxy', async () => {
    const agent = await start(['--host', '127.0.0.1']);
    const response = await fetch(`${agent.url}/pmapi/fetch?names=kernel.all.load`, { headers: { origin: ORIGIN } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    await logged(agent, /access reach="this host only \(loopback\)" credentials=none tls=off cors=\* profiling=on/);
    assert.equal((await fetch(`${agent.url}/profile`)).status, 200);
    agent.child.kill('SIGTERM');
  });
});

describe('--no-profiling', () => {
  it('answers the profiling routes with 403 and says why', async () => {
    const agent = await start(['--no-profiling']);
    for (const [method, path] of [['GET', '/profile'], ['POST', '/profile'], ['GET', '/flamegraphs/cpuflamegraph.000000000000.svg']] as const) {
      const response = await fetch(`${agent.url}${path}`, { method, ...(method === 'POST' && { body: '{"target":"host","seconds":1}', headers: { 'content-type': 'application/json' } }) });
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.match(await response.text(), /profiling is disabled on this agent \(it was started with --no-profiling\)/);
    }
    await logged(agent, /profiling=off/);
    agent.child.kill('SIGTERM');
  });
});

describe('--max-contexts', () => {
  it('bounds the pmapi contexts alive at once', async () => {
    const agent = await start(['--max-contexts', '2']);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${agent.url}/pmapi/context?polltimeout=60`)).status);
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.notEqual(statuses[2], 200);
    agent.child.kill('SIGTERM');
  });
});

describe('TLS', () => {
  let cert: Buffer;
  before(() => {
    const run = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    cert = readFileSync(join(dir, 'cert.pem'));
  });

  it('serves HTTPS and WSS with --tls-cert and --tls-key', async () => {
    const agent = await start(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--token-file', TOKEN_FILE]);
    assert.match(agent.url, /^https:/);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${agent.url}/pmapi/fetch?names=kernel.all.load`, { ca: cert, headers: bearer }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject).end();
    });
    assert.equal(status, 200, body);
    assert.match(body, /"name":"kernel\.all\.load"/);
    assert.equal(await upgrade(`${agent.url.replace(/^https/, 'wss')}/stream`, { headers: bearer, ca: cert }), 'open');
    // plain HTTP to the same port is not served
    await assert.rejects(fetch(agent.url.replace(/^https/, 'http') + '/pmapi/fetch?names=kernel.all.load'));
    agent.child.kill('SIGTERM');
  });

  it('refuses --tls-cert without --tls-key', () => {
    const run = spawnSync(process.execPath, [CLI, '--port', '0', '--tls-cert', join(dir, 'cert.pem')], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--tls-cert and --tls-key go together/);
  });
});

describe('--log-format json', () => {
  it('writes one JSON object per line with time, level, msg and fields', async () => {
    const agent = await start(['--log-format', 'json']);
    const exited = new Promise<number | null>((resolve) => agent.child.once('exit', resolve));
    agent.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = agent.log().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) {
      assert.ok(!Number.isNaN(Date.parse(line.time as string)), JSON.stringify(line));
      assert.ok(['debug', 'info', 'warn', 'error'].includes(line.level as string), JSON.stringify(line));
      assert.equal(typeof line.msg, 'string');
    }
    const listening = lines.find((l) => l.msg === 'vigil listening');
    assert.match(String(listening?.address), /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(typeof listening?.metrics, 'number');
    assert.deepEqual(lines.find((l) => l.msg === 'shutting down')?.signal, 'SIGTERM');
  });
});
