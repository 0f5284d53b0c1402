import WebSocket from 'ws';

/** A stream message as the agent sends it (docs/STREAM.md). */
export type StreamMessage = { v: number; type: string; id?: string; [key: string]: unknown };

/**
 * A /stream client for tests: keeps every message in arrival order, with its arrival time,
 * and waits for the next one that matches.
 */
export class StreamClient {
  /** Every message, with when it arrived (performance.now()) and its size on the wire. */
  readonly messages: Array<StreamMessage & { receivedAt: number; bytes: number }> = [];
  closed: { code: number; reason: string } | undefined;
  private read = 0;
  private wake: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.messages.push({ ...(JSON.parse(data.toString('utf8')) as StreamMessage), receivedAt: performance.now(), bytes: data.length });
      this.wake?.();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.wake?.();
    });
  }

  static async connect(baseUrl: string): Promise<StreamClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/stream`);
    const client = new StreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next unread message that matches; earlier non-matching ones are skipped. */
  async next(match: (m: StreamMessage) => boolean, timeoutMs = 5000, what = 'a matching message'): Promise<StreamMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.read < this.messages.length) {
        const m = this.messages[this.read++]!;
        if (match(m)) return m;
      }
      if (this.closed) throw new Error(`stream closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; last messages: ${JSON.stringify(this.messages.slice(-3)).slice(0, 1500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Waits for the connection to close; resolves to its code and reason. */
  async whenClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = performance.now() + timeoutMs;
    while (!this.closed) {
      if (performance.now() > deadline) throw new Error(`stream still open after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closed;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

export const isType = (type: string, id?: string) => (m: StreamMessage): boolean => m.type === type && (id === undefined || m.id === id);
