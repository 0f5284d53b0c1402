import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same cases, so a failure
 * printed with its seed can be replayed with `VIGIL_FUZZ_SEED=<seed>`.
 */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** The seed from VIGIL_FUZZ_SEED, or a fresh one; the caller prints it. */
export function fuzzSeed(): number {
  const text = process.env.VIGIL_FUZZ_SEED;
  if (text === undefined || text === '') return (Date.now() ^ (process.pid << 16)) >>> 0;
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`VIGIL_FUZZ_SEED="${text}" is not a non-negative integer`);
  return seed >>> 0;
}

/** Lengths that sit on the boundaries parsers and limits get wrong. */
const LENGTHS = [0, 1, 2, 63, 64, 65, 255, 256, 1023, 1024, 1025, 4096, 65_536, 1_048_577];

/** Pieces that mean something to the agent's parsers, mixed into random text. */
const TOKENS = [
  'kernel.all.load', 'kernel', 'cgroup', 'cgroup.cpuacct.usage', 'containers.name', 'vigil.', '', '.', '..', '*', ',', ',,',
  '=', '&', '%', '%00', '%zz', '%ff%fe', '%2e%2e%2f', '/', '//', '\\', '"', "'", '{', '}', '[', ']', ':', ';', '-1', '0',
  '4294967295', '18446744073709551616', '-9007199254740993', '1e308', 'NaN', 'Infinity', 'null', 'true', 'undefined',
  '__proto__', 'constructor', 'toString', '\u0000', '\u202e', '\ud800', '😀', 'é', '\t', ' ', '+', '15m', '-1h', 'now',
  'rate(kernel.all.load)', 'kernel.all.load[1]', 'a'.repeat(300), '0x10', '1.5', '500.0.0', '60.0.20', 'PM_INDOM_NULL',
];

/** Random text: tokens, printable and control characters, sometimes of a boundary length. */
export function randomText(rng: Prng, maxParts = 8): string {
  if (rng.chance(0.05)) return rng.pick(['a', 'x', '%41', '.']).repeat(rng.pick(LENGTHS));
  let out = '';
  for (let i = rng.int(maxParts) + 1; i > 0; i--) {
    const kind = rng.int(4);
    if (kind === 0) out += rng.pick(TOKENS);
    else if (kind === 1) out += String.fromCharCode(0x20 + rng.int(0x5f));
    else if (kind === 2) out += String.fromCharCode(rng.int(0x20));
    else out += String.fromCodePoint(rng.pick([0x80 + rng.int(0x780), 0x4e00 + rng.int(0x100), 0x1f600 + rng.int(0x40)]));
  }
  return out;
}

/** A random JSON-ish value: right and wrong types, deep nesting, big numbers. */
export function randomJson(rng: Prng, depth = 0): unknown {
  const kind = depth > 6 ? rng.int(5) : rng.int(8);
  switch (kind) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, 3600, 3601, 65, 1_000_000]);
    case 3: return randomText(rng);
    case 4: return rng.pick(TOKENS);
    case 5: return Array.from({ length: rng.int(6) }, () => randomJson(rng, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(6); i > 0; i--) object[rng.chance(0.6) ? rng.pick(FIELDS) : randomText(rng, 2)] = randomJson(rng, depth + 1);
      return object;
    }
  }
}

/** Field names the agent's JSON readers look for (stream messages, /profile bodies). */
const FIELDS = ['v', 'type', 'id', 'metrics', 'instances', 'containers', 'every', 'rate', 'history', 'target', 'seconds', 'frequency', 'live', 'names', 'pid', 'container', 'cgroup'];

/** A JSON text, or text that is almost JSON. */
export function randomBody(rng: Prng): string {
  const json = JSON.stringify(randomJson(rng)) ?? 'null';
  switch (rng.int(6)) {
    case 0: return json.slice(0, rng.int(json.length + 1)); // truncated
    case 1: return randomText(rng);
    case 2: return '['.repeat(rng.pick([100, 10_000, 100_000])); // nesting bomb
    case 3: return `{"v":1,"type":"subscribe","id":"x","metrics":${json}}`;
    default: return json;
  }
}

/** What the raw client got back: the status (undefined when the server closed without one) and body size. */
export interface RawReply {
  status: number | undefined;
  bytes: number;
  head: string;
}

/**
 * One HTTP/1.1 request written byte for byte over a socket, so that requests no well-behaved
 * client would send (bad methods, unescaped bytes in the path, lying Content-Length) reach the
 * server as written. `Connection: close` ends the reply with the socket.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete reply within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 300))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may close before reading a huge body: that is an answer, not a failure.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const reply = Buffer.concat(chunks);
      const head = reply.subarray(0, Math.min(reply.length, 200)).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : undefined, bytes: reply.length, head });
    });
    socket.end(request);
  });
}

/** Runs `work` over `items` with at most `width` in flight. */
export async function inParallel<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

/** Resident set size of a process, bytes (VmRSS in /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line: has the process exited?`);
  return Number(m[1]) * 1024;
}
