import { counter, decimal, malformed, signed } from './fields.js';

/**
 * The few shapes cgroup interface files come in (the kernel's cgroup-v2.rst "Interface Files",
 * which v1 files follow too). Integers are bigint: byte and nanosecond counters pass 2^53.
 */

/** What a limit file says when there is no limit (`memory.max`, `pids.max`, `cpu.max`). */
export const MAX = 'max';
export type Limit = bigint | typeof MAX;

/** A file holding one integer or `max`: `memory.max`, `cpu.weight`, `cpu.cfs_quota_us` (`-1`). */
export function parseSingle(text: string): Limit {
  const value = text.trim();
  return value === MAX ? MAX : signed(value, text);
}

/** Space separated integers on one line: `cpuacct.usage_percpu` (`12 34 `). */
export function parseSpaceSeparated(text: string): bigint[] {
  const values: bigint[] = [];
  for (const field of text.split(/\s+/)) if (field !== '') values.push(counter(field, text));
  return values;
}

/** `cpu.max`: `$MAX $PERIOD`, e.g. `50000 100000` or `max 100000`. */
export interface CpuMax {
  quota: Limit;
  period: bigint;
}

export function parseCpuMax(text: string): CpuMax {
  const [quota, period] = text.trim().split(' ');
  if (quota === undefined || period === undefined) throw malformed(text, '"$MAX $PERIOD"');
  return { quota: parseSingle(quota), period: counter(period, text) };
}

const INTEGER = /^-?\d+$/;

/**
 * Flat keyed, `key value` per line: `cpu.stat`, `memory.stat`, `memory.events`, v1
 * `cpuacct.stat` and `memory.oom_control`. Lines whose value is not an integer are skipped:
 * they are not counters.
 */
export function parseFlatKeyed(text: string, only?: ReadonlySet<string>): Map<string, bigint> {
  if (only !== undefined && only.size <= FEW_KEYS) return pickFlatKeyed(text, only);
  const values = new Map<string, bigint>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (space > start && space < end) {
      const key = text.slice(start, space);
      if (only === undefined || only.has(key)) {
        const value = text.slice(space + 1, end);
        if (INTEGER.test(value)) values.set(key, BigInt(value));
      }
    }
    start = end + 1;
  }
  return values;
}

/**
 * Up to this many wanted keys are looked for one by one. memory.stat has 40 to 70 lines and a
 * pass usually wants two of them: a search per key cuts no string for the lines nobody wants.
 */
const FEW_KEYS = 8;

/** parseFlatKeyed for a few keys; a key the kernel printed twice (it does not) would give its first value. */
function pickFlatKeyed(text: string, keys: ReadonlySet<string>): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const key of keys) {
    const start = lineStarting(text, `${key} `);
    if (start < 0) continue;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const value = text.slice(start + key.length + 1, end);
    if (INTEGER.test(value)) values.set(key, BigInt(value));
  }
  return values;
}

/** Where the line that begins with `head` begins; -1 when there is none. */
function lineStarting(text: string, head: string): number {
  if (text.startsWith(head)) return 0;
  const at = text.indexOf(`\n${head}`);
  return at < 0 ? -1 : at + 1;
}

/**
 * Nested keyed, `name key=value key=value` per line, integer values only: v2 `io.stat`
 * (`254:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`). Non-integer values are skipped.
 */
export function parseNestedKeyed(text: string): Map<string, Map<string, bigint>> {
  const lines = new Map<string, Map<string, bigint>>();
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (!fields[0]) continue;
    const values = new Map<string, bigint>();
    for (let i = 1; i < fields.length; i++) {
      const field = fields[i]!;
      const eq = field.indexOf('=');
      if (eq <= 0) continue;
      const value = field.slice(eq + 1);
      if (INTEGER.test(value)) values.set(field.slice(0, eq), BigInt(value));
    }
    lines.set(fields[0], values);
  }
  return lines;
}

/** One line of a pressure stall information file. */
export interface Pressure {
  /** Share of wall time stalled, in percent, averaged over 10 s, 60 s and 300 s. */
  avg10: number;
  avg60: number;
  avg300: number;
  /** Total stall time, microseconds. */
  total: bigint;
}

export interface Pressures {
  some?: Pressure;
  full?: Pressure;
}

/**
 * `cpu.pressure`, `memory.pressure`, `io.pressure`, `irq.pressure` (and /proc/pressure/*):
 * `some avg10=0.00 avg60=0.00 avg300=0.00 total=0`, then the same for `full`. irq has only
 * `full`; cpu's `full` line appeared in Linux 5.13.
 */
export function parsePressure(text: string): Pressures {
  const result: Pressures = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [kind, pressure] = pressureOf(line);
    result[kind] = pressure;
  }
  return result;
}

/** What begins each field of a PSI line, after the space before it. */
const PRESSURE_FIELD: Readonly<Record<keyof Pressure, string>> = { avg10: ' avg10=', avg60: ' avg60=', avg300: ' avg300=', total: ' total=' };

/**
 * One value of a PSI file: `field` of the `some` or `full` line; undefined when the file has no
 * such line. Only that value is parsed (and checked): the cgroup collector wants one value of
 * the eight in a cgroup's file, and making the whole line into strings and an object was the
 * costliest parse of a pass.
 */
export function parsePressureField(text: string, line: keyof Pressures, field: keyof Pressure): number | bigint | undefined {
  const start = lineStarting(text, line === 'some' ? 'some ' : 'full ');
  if (start < 0) return undefined;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  const key = PRESSURE_FIELD[field];
  const at = text.indexOf(key, start);
  if (at < 0 || at >= end) throw malformed(text.slice(start, end), `"${line} …${key}<value>…"`);
  let stop = text.indexOf(' ', at + key.length);
  if (stop < 0 || stop > end) stop = end;
  const token = text.slice(at + key.length, stop);
  return field === 'total' ? counter(token, text.slice(start, end)) : decimal(token, text.slice(start, end));
}

function pressureOf(line: string): [keyof Pressures, Pressure] {
  const [kind, avg10, avg60, avg300, total] = line.split(' ');
  if ((kind !== 'some' && kind !== 'full') || !avg10?.startsWith('avg10=') || !avg60?.startsWith('avg60=') ||
      !avg300?.startsWith('avg300=') || !total?.startsWith('total=')) {
    throw malformed(line, '"some|full avg10=… avg60=… avg300=… total=…"');
  }
  return [kind, {
    avg10: decimal(avg10.slice(6), line),
    avg60: decimal(avg60.slice(6), line),
    avg300: decimal(avg300.slice(7), line),
    total: counter(total.slice(6), line),
  }];
}
