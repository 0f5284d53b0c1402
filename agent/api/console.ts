import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ConsoleOptions {
  /** The built console (vite's output); found next to the agent's own build by default. */
  webRoot?: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Worth gzipping: text. Images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.map', '.svg', '.txt']);

/**
 * The console talks to other agents (their WebSocket and REST), so connections may go anywhere;
 * everything it runs comes from this agent.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self' http: https: ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  /** Vite puts content hashes in the names under assets/: those never change, cache them for good. */
  immutable: boolean;
}

/**
 * Where the console was built to. Compiled, this file is dist/agent/api/console.js and the
 * console dist/web; run from source (tsx, tests) it is agent/api/console.ts and the console
 * still dist/web. The first candidate that holds a built index.html wins.
 */
function defaultWebRoot(): string | undefined {
  const candidates = ['../../dist/web/', '../../web/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  // The source tree's web/index.html is vite's input, not a build: a build has an assets/ folder.
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets')));
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Every file of the build, read once: the console is small and never changes while the agent runs. */
function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const path of walk(root)) {
    const ext = extname(path);
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(path);
    const url = '/' + relative(root, path).split(sep).join('/');
    const gzip = COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
    assets.set(url, {
      body,
      gzip: gzip && gzip.length < body.length ? gzip : undefined,
      type,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`,
      immutable: url.startsWith('/assets/'),
    });
  }
  return assets;
}

function send(asset: Asset, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply
    .header('content-type', asset.type)
    .header('etag', asset.etag)
    .header('x-content-type-options', 'nosniff')
    .header('vary', 'accept-encoding')
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (asset.type.startsWith('text/html')) reply.header('content-security-policy', CSP);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (asset.gzip && acceptsGzip) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.body);
}

/**
 * The web console, served from the agent so that opening `http://host:44322/` shows this
 * host live. One route per built file (no wildcard: other paths keep the pmapi dialect's
 * answers), `index.html` at `/`.
 */
export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const root = options.webRoot ?? defaultWebRoot();
  if (!root || !statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    app.get('/', async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The Vigil console is not built, so there is nothing to show here.\nRun `npm run build` (it writes dist/web) and restart the agent.\nThe API works without it: /pmapi/fetch?names=kernel.all.load\n'),
    );
    return;
  }
  const assets = loadAssets(root);
  const index = assets.get('/index.html');
  if (!index) throw new Error(`${root} holds no index.html; rebuild the console with \`npm run build\``);
  app.get('/', async (request, reply) => send(index, request, reply));
  for (const [url, asset] of assets) app.get(url, async (request, reply) => send(asset, request, reply));
}
