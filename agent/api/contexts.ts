import { randomInt } from 'node:crypto';
import type { ContainerRef } from '../containers/scope.js';
import type { DerivedMetric } from '../derive/derived.js';
import { ContextError, PmapiError } from './errors.js';
import { InstanceProfile } from './profile.js';

/** Bounds on what clients can make the agent hold; each refusal says which and why. */
export interface PmapiLimits {
  /** Contexts alive at once (explicit and implicit). */
  contexts: number;
  /** Derived metrics registered in one context. */
  derivedPerContext: number;
  /** Metric names (or pmids) in one request. */
  namesPerRequest: number;
  /** Bytes of a POST body (derive configurations, store values). */
  bodyBytes: number;
}

export const DEFAULT_LIMITS: PmapiLimits = { contexts: 1000, derivedPerContext: 100, namesPerRequest: 1000, bodyBytes: 1 << 20 };

/** pmproxy's default context lifetime without requests, and its garbage-collection period. */
export const DEFAULT_POLLTIMEOUT_MS = 5000;
export const GC_INTERVAL_MS = 2000;

/** pmcd's port: a hostspec may name it; this agent answers for the pmcd of its host. */
const PMCD_PORT = '44321';

/** A hostspec (`localhost`, `local:`, `pcp://127.0.0.1:44321?container=web`) as far as we use it. */
export interface Hostspec {
  /** `local:`/`unix:`: pmcd's unix socket, whose contexts carry the client's uid/gid labels. */
  local: boolean;
  /** The `container=` attribute, undefined when there is none. */
  container?: string;
}

/**
 * Parses a PCP hostspec. Vigil serves only the host it runs on, so any host part must name
 * this host; a port (pmcd's 44321) and attributes other than `container` are accepted and
 * ignored, as they describe how pmproxy would reach pmcd.
 */
export function parseHostspec(text: string, hostname: string): Hostspec {
  let rest = text.trim();
  let local = false;
  const scheme = /^(pcps?:\/\/|local:(\/\/)?|unix:(\/\/)?)/.exec(rest);
  if (scheme) {
    local = scheme[0].startsWith('local') || scheme[0].startsWith('unix');
    rest = rest.slice(scheme[0].length);
  }
  const q = rest.indexOf('?');
  const attributes = q < 0 ? '' : rest.slice(q + 1);
  const address = q < 0 ? rest : rest.slice(0, q);
  const port = /:(\d+)$/.exec(address)?.[1];
  const host = address.slice(0, port === undefined ? undefined : -(port.length + 1)).replace(/^\[(.*)\]$/, '$1');
  const spec: Hostspec = { local };
  if (!local && !['', 'localhost', '127.0.0.1', '::1', 'localhost.localdomain', hostname].includes(host)) {
    throw new PmapiError(
      `cannot connect to PMCD: this agent serves only its own host (${hostname}), not "${host}"; ` +
        `send requests for ${host} to the vigil agent running there`,
    );
  }
  if (port !== undefined && port !== PMCD_PORT) {
    // nothing of ours listens there: pmproxy's words, which clients know
    throw new PmapiError('cannot connect to PMCD: Connection refused');
  }
  for (const pair of attributes.split('&')) {
    const eq = pair.indexOf('=');
    if (eq >= 0 && pair.slice(0, eq) === 'container') spec.container = decodeURIComponent(pair.slice(eq + 1));
  }
  return spec;
}

/** `polltimeout` in seconds (a float, as pmproxy's strtod reads it). */
export function parsePolltimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_POLLTIMEOUT_MS;
  const seconds = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new PmapiError('invalid timeout requested in polltime');
  return seconds * 1000;
}

/** The container a context is scoped to, by the name the client used and the container it found. */
export interface SelectedContainer {
  name: string;
  ref: ContainerRef;
}

/**
 * One client context: its lifetime, container selection, instance profile and derived metrics.
 * Times are the monotonic clock (performance.now()), so a wall-clock step does not expire contexts.
 */
export class PmapiContext {
  readonly profile = new InstanceProfile();
  /** Derived metrics by name; null for one whose operands this agent lacks (accepted but never reported, as PCP). */
  readonly derived = new Map<string, DerivedMetric | null>();
  container?: SelectedContainer;
  deadline: number;
  private derivedAllocated = 0;

  constructor(
    readonly id: number,
    readonly polltimeoutMs: number,
    readonly hostspec: Hostspec,
    now: number,
  ) {
    this.deadline = now + polltimeoutMs;
  }

  /** Every request naming the context renews its lease. */
  touch(now: number): void {
    this.deadline = now + this.polltimeoutMs;
  }

  /** PCP allocates derived pmids downwards from 511.2047.1023, per context. */
  nextDerivedPmid(): string {
    const n = this.derivedAllocated++;
    return `511.${2047 - Math.floor(n / 1024)}.${1023 - (n % 1024)}`;
  }

  derivedByPmid(pmid: string): DerivedMetric | undefined {
    for (const metric of this.derived.values()) if (metric?.desc.pmid === pmid) return metric;
    return undefined;
  }
}

/**
 * All live contexts. Ids are random 31-bit numbers, as pmproxy's. A context unused for its
 * polltimeout is expired (requests get "expired context identifier") and is forgotten
 * ("unknown context identifier") by the first collection (every 2 s, as pmproxy's) after it
 * has been expired for a whole period, so a client always gets to see why its context went.
 */
export class ContextTable {
  private readonly byId = new Map<number, PmapiContext>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly limit: number) {
    this.timer = setInterval(() => this.collect(performance.now()), GC_INTERVAL_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.byId.size;
  }

  create(polltimeoutMs: number, hostspec: Hostspec, now: number): PmapiContext {
    if (this.byId.size >= this.limit) {
      // expired contexts are dead already: make room before refusing
      for (const [id, context] of this.byId) if (now > context.deadline) this.byId.delete(id);
    }
    if (this.byId.size >= this.limit) {
      throw new PmapiError(
        `too many contexts: this agent keeps at most ${this.limit} at once; idle contexts expire after their ` +
          `polltimeout (default ${DEFAULT_POLLTIMEOUT_MS / 1000} s), so create one context and reuse it with ?context=N ` +
          `rather than one per request`,
      );
    }
    let id: number;
    do id = randomInt(1, 2 ** 31);
    while (this.byId.has(id));
    const context = new PmapiContext(id, polltimeoutMs, hostspec, now);
    this.byId.set(id, context);
    return context;
  }

  /** The live context a request names, renewed; throws ContextError otherwise. */
  get(idText: string, now: number): PmapiContext {
    if (!/^\d+$/.test(idText)) throw new ContextError(`invalid context identifier: ${idText}`);
    const id = Number(idText);
    const context = this.byId.get(id);
    if (!context) throw new ContextError(`unknown context identifier: ${id}`, 400, id);
    if (now > context.deadline) throw new ContextError(`expired context identifier: ${id}`, 400, id);
    context.touch(now);
    return context;
  }

  /** Forgets contexts whose lease ran out at least a collection period ago. */
  collect(now: number): void {
    for (const [id, context] of this.byId) if (now > context.deadline + GC_INTERVAL_MS) this.byId.delete(id);
  }

  close(): void {
    clearInterval(this.timer);
    this.byId.clear();
  }
}
