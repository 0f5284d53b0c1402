/**
 * PCP identifiers: pmID = domain<<22 | cluster<<10 | item, InDom = domain<<22 | serial.
 * The native dialect prints them dotted, the compat (pmwebd) dialect as numbers.
 */

export function pmidToNumber(pmid: string): number {
  const [d, c, i] = pmid.split('.').map(Number) as [number, number, number];
  return ((d << 22) | (c << 10) | i) >>> 0;
}

export function pmidFromNumber(n: number): string {
  return `${(n >>> 22) & 0x1ff}.${(n >>> 10) & 0xfff}.${n & 0x3ff}`;
}

export function indomToNumber(indom: string): number {
  const [d, s] = indom.split('.').map(Number) as [number, number];
  return ((d << 22) | s) >>> 0;
}

export function indomFromNumber(n: number): string {
  return `${(n >>> 22) & 0x1ff}.${n & 0x3fffff}`;
}

const DOTTED_PMID = /^(\d{1,3})\.(\d{1,4})\.(\d{1,4})$/;
const DOTTED_INDOM = /^(\d{1,3})\.(\d{1,7})$/;

/** Accepts `60.2.0`, `251660288` or `0xF000020`; undefined when it is none of them. */
export function parsePmid(text: string): string | undefined {
  const m = DOTTED_PMID.exec(text);
  if (m) {
    const [d, c, i] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return d < 512 && c < 4096 && i < 1024 ? `${d}.${c}.${i}` : undefined;
  }
  const n = parseIntStrict(text);
  return n === undefined ? undefined : pmidFromNumber(n);
}

/** Accepts `60.2`, `251658242` or hex; undefined when it is none of them. */
export function parseIndom(text: string): string | undefined {
  const m = DOTTED_INDOM.exec(text);
  if (m) {
    const [d, s] = [Number(m[1]), Number(m[2])];
    return d < 512 && s < 1 << 22 ? `${d}.${s}` : undefined;
  }
  const n = parseIntStrict(text);
  return n === undefined ? undefined : indomFromNumber(n);
}

function parseIntStrict(text: string): number | undefined {
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}
