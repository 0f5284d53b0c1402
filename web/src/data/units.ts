/**
 * PCP unit strings (as pmUnitsStr prints them: `Kbyte`, `millisec`, `count / sec`,
 * `millisec / count`, `byte / sec^2`, `count x 10^3`) turned into what a person reads:
 * bytes, bytes per second, utilization, durations, counts and rates.
 */

export interface Dimensions {
  space: number;
  time: number;
  count: number;
  /** Multiply a value by this to express it in bytes, seconds and counts. */
  scale: number;
}

const SPACE: Record<string, number> = {
  byte: 1, Kbyte: 2 ** 10, Mbyte: 2 ** 20, Gbyte: 2 ** 30, Tbyte: 2 ** 40, Pbyte: 2 ** 50, Ebyte: 2 ** 60,
};
const TIME: Record<string, number> = { nanosec: 1e-9, microsec: 1e-6, millisec: 1e-3, sec: 1, min: 60, hour: 3600 };

function parseSide(text: string, sign: 1 | -1, dims: Dimensions): void {
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === 'x' && /^10\^-?\d+$/.test(words[i + 1] ?? '')) {
      // `count x 10^3`: a power-of-ten scale on the count dimension.
      dims.scale *= 10 ** (sign * Number(words[++i]!.slice(3)));
      continue;
    }
    const [unit = '', power = '1'] = word.split('^');
    const exp = sign * Number(power);
    if (!Number.isFinite(exp)) throw new Error(`unit "${word}" has a bad exponent`);
    if (unit in SPACE) {
      dims.space += exp;
      dims.scale *= SPACE[unit]! ** exp;
    } else if (unit in TIME) {
      dims.time += exp;
      dims.scale *= TIME[unit]! ** exp;
    } else if (unit === 'count') {
      dims.count += exp;
    } else if (unit !== 'none' && unit !== '') {
      throw new Error(`unknown PCP unit "${unit}"`);
    }
  }
}

/** Parses a PCP unit string; unknown words throw (the caller shows the raw string instead). */
export function parseUnits(text: string): Dimensions {
  const dims: Dimensions = { space: 0, time: 0, count: 0, scale: 1 };
  const slash = text.indexOf('/');
  parseSide(slash < 0 ? text : text.slice(0, slash), 1, dims);
  if (slash >= 0) parseSide(text.slice(slash + 1), -1, dims);
  return dims;
}

/**
 * What a number means on screen. `percent` is a fraction (0.25 → 25 %), `cores` CPU-seconds per
 * second, `seconds` a duration, `number` a dimensionless value shown as is.
 */
export type Kind = 'bytes' | 'bytes/s' | 'percent' | 'cores' | 'seconds' | 'count' | 'count/s' | 'number';

export interface Display {
  kind: Kind;
  /** Multiply the (rated) value by this to get the kind's base unit. */
  scale: number;
}

/**
 * How to show a metric with these units, as a raw value or rated per second. A rated time
 * counter is utilization (seconds per second), which grafana-pcp and Vector show as percent.
 */
export function displayOf(units: string, rated: boolean): Display {
  let dims: Dimensions;
  try {
    dims = parseUnits(units);
  } catch {
    return { kind: rated ? 'count/s' : 'number', scale: 1 };
  }
  const time = dims.time - (rated ? 1 : 0);
  const { space, count, scale } = dims;
  if (space === 1 && count === 0 && time === 0) return { kind: 'bytes', scale };
  if (space === 1 && count === 0 && time === -1) return { kind: 'bytes/s', scale };
  if (space === 0 && time === 0 && count === 0) return { kind: rated && dims.time === 1 ? 'percent' : 'number', scale };
  if (space === 0 && time === 1) return { kind: 'seconds', scale }; // duration, or duration per operation
  if (space === 0 && time === 0 && count === 1) return { kind: 'count', scale };
  if (space === 0 && time === -1 && count <= 1) return { kind: 'count/s', scale };
  return { kind: 'number', scale };
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** Three significant digits, no exponent, no trailing zeros after the point. */
function digits3(x: number): string {
  const a = Math.abs(x);
  const text = a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

function scaled(x: number, base: number, prefixes: readonly string[]): [string, string] {
  let i = 0;
  let v = x;
  while (Math.abs(v) >= base * 0.9995 && i < prefixes.length - 1) {
    v /= base;
    i++;
  }
  return [digits3(v), prefixes[i]!];
}

function duration(seconds: number): string {
  const a = Math.abs(seconds);
  if (a === 0) return '0 s';
  if (a < 1e-6) return `${digits3(seconds * 1e9)} ns`;
  if (a < 1e-3) return `${digits3(seconds * 1e6)} µs`;
  if (a < 1) return `${digits3(seconds * 1e3)} ms`;
  if (a < 120) return `${digits3(seconds)} s`;
  if (a < 7200) return `${digits3(seconds / 60)} min`;
  if (a < 172800) return `${digits3(seconds / 3600)} h`;
  return `${digits3(seconds / 86400)} d`;
}

/** A value in its kind's base unit, as a person reads it: `1.5 GiB`, `12 MiB/s`, `45 %`, `350 µs`. */
export function formatValue(value: number, kind: Kind): string {
  if (!Number.isFinite(value)) return '—';
  switch (kind) {
    case 'bytes': {
      const [n, p] = scaled(value, 1024, IEC);
      return `${n} ${p}`;
    }
    case 'bytes/s': {
      const [n, p] = scaled(value, 1024, IEC);
      return `${n} ${p}/s`;
    }
    case 'percent':
      return `${digits3(value * 100)} %`;
    case 'cores':
      return `${digits3(value)} ${Math.abs(value) === 1 ? 'core' : 'cores'}`;
    case 'seconds':
      return duration(value);
    case 'count': {
      const [n, p] = scaled(value, 1000, SI);
      return `${n}${p}`;
    }
    case 'count/s': {
      const [n, p] = scaled(value, 1000, SI);
      return `${n}${p}/s`;
    }
    case 'number': {
      if (Math.abs(value) < 1000) return digits3(value);
      const [n, p] = scaled(value, 1000, SI);
      return `${n}${p}`;
    }
  }
}

/** A lag, short: `12 ms`, `999 ms`, then seconds, `1.2 s`, `180.0 s`. */
export function lagText(ms: number): string {
  const lag = Math.max(0, Math.round(ms));
  return lag < 1000 ? `${lag} ms` : `${(lag / 1000).toFixed(1)} s`;
}
