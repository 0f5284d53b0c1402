import { statSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { log } from '../log.js';
import { parseDockerEvent, parseDockerInspect, parseDockerList, type DockerContainer } from '../parsers/docker.js';

const REQUEST_TIMEOUT_MS = 3000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5000;
/** `filters={"type":["container"]}`: only container events, not image or network churn. */
const EVENTS_PATH = `/events?filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`;

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    path: string,
    body: string,
  ) {
    super(`GET ${path} answered HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

/**
 * A live copy of what one Docker Engine API (dockerd, or podman's docker-compatible service)
 * knows about its containers. It lists them once on connect, then follows the `/events`
 * stream and re-inspects a container whenever it changes, so a new or removed container is
 * known within milliseconds rather than at the next poll. When the socket goes away the
 * copy is dropped (containers fall back to their cgroup ids) and the client reconnects with
 * backoff; everything comes back when the daemon does.
 */
export class EngineApi {
  /** id → container, while connected; empty otherwise. */
  readonly containers = new Map<string, DockerContainer>();
  private readonly http = new Agent({ keepAlive: true, maxSockets: 4 });
  /** Updates are applied one at a time, in event order, so a late inspect cannot undo a destroy. */
  private queue: Promise<void> = Promise.resolve();
  /** Ids this engine said it does not know (404), so a cgroup of another engine is not asked about every sample. */
  private readonly unknown = new Set<string>();
  private events?: IncomingMessage;
  private retry?: NodeJS.Timeout;
  private backoffMs = BACKOFF_FIRST_MS;
  private everConnected = false;
  private started = false;
  private closed = false;
  private connectedNow = false;
  private settle!: () => void;
  /** Resolves once the first connection attempt is over: listed everything, or found no daemon. */
  readonly firstAttempt = new Promise<void>((resolve) => (this.settle = resolve)).then(() => {
    this.attempted = true;
  });
  /** Whether firstAttempt has resolved. */
  attempted = false;
  /** Connections tried so far (none while the socket file is missing). */
  attempts = 0;
  /** The first failure to find the engine has been logged (at debug level; it is the common case). */
  private toldMissing = false;

  constructor(
    /** `docker` or `podman`: what `containers.engine` says of its containers. */
    readonly engine: string,
    readonly socketPath: string,
  ) {}

  get connected(): boolean {
    return this.connectedNow;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.settle();
    clearTimeout(this.retry);
    this.events?.destroy();
    this.http.destroy();
    this.containers.clear();
  }

  /**
   * Asks the engine about an id seen in a cgroup but not (yet) in the copy: the container may
   * have started a moment before its event arrived. Resolves once the answer is applied.
   */
  lookup(id: string): Promise<void> {
    if (!this.connectedNow || this.unknown.has(id) || this.containers.has(id)) return Promise.resolve();
    return this.enqueue(() => this.inspect(id));
  }

  private connect(): void {
    this.retry = undefined;
    if (!this.socketExists()) {
      this.lost(undefined);
      return;
    }
    this.attempts++;
    const req = request({ socketPath: this.socketPath, path: EVENTS_PATH, agent: false, headers: { host: this.engine } });
    req.on('socket', (socket) => socket.unref());
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.lost(new Error(`GET /events answered HTTP ${res.statusCode}`));
        return;
      }
      this.events = res;
      this.connectedNow = true;
      this.backoffMs = BACKOFF_FIRST_MS;
      if (this.everConnected) log.info('container engine API is back; containers have their names again', { engine: this.engine, socket: this.socketPath });
      this.everConnected = true;
      this.unknown.clear();
      // Subscribed first, listed second: nothing that happens in between is missed.
      void this.enqueue(() => this.listAll()).finally(() => this.settle());
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) this.onEvent(line);
        }
      });
      res.on('close', () => this.lost(new Error('the events stream closed')));
      res.on('error', (error) => this.lost(error));
    });
    req.on('error', (error) => this.lost(error));
    req.end();
  }

  /**
   * Whether the socket file is there. Most hosts lack one engine or both (a containerd node
   * has neither): while the file is missing, each retry is one stat instead of an HTTP
   * request that fails, which cost about 0.4 ms of CPU every 5 s per engine, for ever.
   * Anything but a plain "no such file" (a permission problem, say) lets the request try and
   * report it.
   */
  private socketExists(): boolean {
    try {
      return statSync(this.socketPath, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return true;
    }
  }

  /** After a lost connection, a failed attempt, or (`error` undefined) no socket file: retries with backoff. */
  private lost(error: Error | undefined): void {
    this.settle();
    if (this.closed || this.retry) return;
    this.events?.destroy();
    this.events = undefined;
    if (this.connectedNow) {
      log.warn('lost the container engine API; its containers are named by id until it returns (retrying)', {
        engine: this.engine, socket: this.socketPath, error,
      });
    } else if (!this.everConnected && !this.toldMissing) {
      this.toldMissing = true;
      log.debug('no container engine API here (yet); looking again every few seconds', {
        engine: this.engine, socket: this.socketPath, error: error ?? 'no socket file',
      });
    }
    this.connectedNow = false;
    this.containers.clear();
    this.retry = setTimeout(() => this.connect(), this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }

  private onEvent(line: string): void {
    let event;
    try {
      event = parseDockerEvent(line);
    } catch (error) {
      log.warn('ignoring an unparsable container engine event', { engine: this.engine, error, line: line.slice(0, 200) });
      return;
    }
    if (!event) return;
    const { id, action } = event;
    this.unknown.delete(id);
    if (action === 'destroy') this.enqueue(async () => void this.containers.delete(id));
    // exec_*, attach, top… do not change what we show; everything else may (create, start, die, rename, pause…).
    else if (!/^(exec_|attach|top|resize|commit|copy|archive|export)/.test(action)) this.enqueue(() => this.inspect(id));
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work).catch((error: Error) => {
      if (this.connectedNow) log.warn('container engine API request failed', { engine: this.engine, error });
    });
    this.queue = next;
    return next;
  }

  private async listAll(): Promise<void> {
    const listed = parseDockerList(await this.get('/containers/json?all=1'));
    if (!this.connectedNow) return; // lost meanwhile: the copy stays empty
    const ids = new Set(listed.map((c) => c.id));
    for (const id of this.containers.keys()) if (!ids.has(id)) this.containers.delete(id);
    // The list lacks the init pid and hostname; inspect fills them in.
    for (const container of listed) {
      this.containers.set(container.id, container);
      await this.inspect(container.id);
    }
  }

  private async inspect(id: string): Promise<void> {
    try {
      const container = parseDockerInspect(await this.get(`/containers/${encodeURIComponent(id)}/json`));
      if (!this.connectedNow) return;
      this.containers.set(container.id, container);
    } catch (error) {
      if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
      this.containers.delete(id);
      this.unknown.add(id);
    }
  }

  private get(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, agent: this.http, timeout: REQUEST_TIMEOUT_MS, headers: { host: this.engine } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new HttpStatusError(res.statusCode ?? 0, path, body))));
        res.on('error', reject);
      });
      req.on('socket', (socket) => socket.unref());
      req.on('timeout', () => req.destroy(new Error(`GET ${path} got no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
