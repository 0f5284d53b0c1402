/**
 * PCP's pmUnits: a dimension (power) and a scale for each of space, time and count, and the
 * unit strings pmUnitsStr(3) prints for them (`Kbyte`, `millisec / count`, `byte / sec^2`).
 * The metric table stores units as those strings; derived metrics need the structure back
 * to check dimensions, convert scales and compute the units of their results.
 */
export interface Units {
  dimSpace: number;
  dimTime: number;
  dimCount: number;
  /** 0 byte, 1 Kbyte, 2 Mbyte, … 6 Ebyte. */
  scaleSpace: number;
  /** 0 nanosec, 1 microsec, 2 millisec, 3 sec, 4 min, 5 hour. */
  scaleTime: number;
  /** Power of ten. */
  scaleCount: number;
}

export const NO_UNITS: Units = Object.freeze({ dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0 });

const SPACE = ['byte', 'Kbyte', 'Mbyte', 'Gbyte', 'Tbyte', 'Pbyte', 'Ebyte'];
const TIME = ['nanosec', 'microsec', 'millisec', 'sec', 'min', 'hour'];
export const TIME_SEC = 3;
/** Factor from one time scale to the next larger one. */
const TIME_STEP = [1000, 1000, 1000, 60, 60];

export function isDimensionless(u: Units): boolean {
  return u.dimSpace === 0 && u.dimTime === 0 && u.dimCount === 0;
}

export function sameDimensions(a: Units, b: Units): boolean {
  return a.dimSpace === b.dimSpace && a.dimTime === b.dimTime && a.dimCount === b.dimCount;
}

/** Parses what pmUnitsStr prints (and what the metric table holds); throws on anything else. */
export function parseUnits(text: string): Units {
  const units = { ...NO_UNITS };
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return units;
  const [numerator = '', denominator, extra] = trimmed.split('/');
  if (extra !== undefined) throw new Error(`unit string "${text}" has more than one "/"`);
  parseSide(numerator, 1, units, text);
  if (denominator !== undefined) parseSide(denominator, -1, units, text);
  return units;
}

function parseSide(side: string, sign: number, units: Units, text: string): void {
  const words = side.trim().split(/\s+/).filter(Boolean);
  const countScale = (word: string | undefined): number => {
    const m = /^10(?:\^(-?\d+))?$/.exec(word ?? '');
    if (!m) throw new Error(`unit string "${text}": bad count scale "${word ?? ''}"`);
    return m[1] === undefined ? 1 : Number(m[1]);
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    // pmUnitsStr writes a scaled count as `count x 10^3`, or `x 10^3` when dimensionless
    if (word === 'x') {
      units.scaleCount = countScale(words[++i]);
      continue;
    }
    const [base = '', power] = word.split('^');
    const dim = sign * (power === undefined ? 1 : Number(power));
    if (!Number.isInteger(dim) || dim === 0) throw new Error(`unit string "${text}": bad power in "${word}"`);
    const space = SPACE.indexOf(base);
    const time = TIME.indexOf(base);
    if (space >= 0) {
      units.dimSpace = dim;
      units.scaleSpace = space;
    } else if (time >= 0) {
      units.dimTime = dim;
      units.scaleTime = time;
    } else if (base === 'count') {
      units.dimCount = dim;
    } else {
      throw new Error(`unit string "${text}": unknown unit "${word}"`);
    }
  }
}

/** pmUnitsStr(3), with pmproxy's `none` for a dimensionless quantity. */
export function formatUnits(u: Units): string {
  const countName = u.scaleCount === 0 ? 'count' : u.scaleCount === 1 ? 'count x 10' : `count x 10^${u.scaleCount}`;
  const parts: Array<[number, string]> = [
    [u.dimSpace, SPACE[u.scaleSpace] ?? `space-${u.scaleSpace}`],
    [u.dimTime, TIME[u.scaleTime] ?? `time-${u.scaleTime}`],
    [u.dimCount, countName],
  ];
  const term = ([dim, name]: [number, string]): string => (Math.abs(dim) === 1 ? name : `${name}^${Math.abs(dim)}`);
  const up = parts.filter(([dim]) => dim > 0).map(term);
  const down = parts.filter(([dim]) => dim < 0).map(term);
  const text = [...up, ...(down.length ? ['/', ...down] : [])].join(' ');
  if (text) return text;
  if (u.scaleCount === 1) return 'x 10';
  if (u.scaleCount !== 0) return `x 10^${u.scaleCount}`;
  return 'none';
}

/**
 * Multiplier that converts a value in `from` units to `to` units of the same dimensions
 * (Kbyte → byte is 1024, millisec → sec is 1/1000).
 */
export function scaleFactor(from: Units, to: Units): number {
  let factor = 1;
  factor *= Math.pow(Math.pow(1024, from.scaleSpace - to.scaleSpace), from.dimSpace);
  factor *= Math.pow(timeRatio(from.scaleTime, to.scaleTime), from.dimTime);
  factor *= Math.pow(Math.pow(10, from.scaleCount - to.scaleCount), from.dimCount);
  return factor;
}

/** How many `to` time units one `from` time unit is. */
function timeRatio(from: number, to: number): number {
  let ratio = 1;
  for (let s = Math.min(from, to); s < Math.max(from, to); s++) ratio *= TIME_STEP[s] ?? 1;
  return from >= to ? ratio : 1 / ratio;
}
