/**
 * Number parsing shared by the procfs parsers. Kernel counters are printed as unsigned
 * decimals that may pass 2^53, so they become bigint. A token that is not a number means
 * the file is not what the parser expects: the error shows the line and what was expected
 * (the collector that read the file adds its path).
 */

const UNSIGNED = /^\d+$/;
const SIGNED = /^-?\d+$/;

export function malformed(line: string, expected: string): Error {
  const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
  return new Error(`cannot parse ${JSON.stringify(shown)}: expected ${expected}`);
}

/** An unsigned decimal counter (`%llu`), exactly. */
export function counter(token: string | undefined, line: string): bigint {
  if (token === undefined || !UNSIGNED.test(token)) {
    throw malformed(line, `an unsigned number, not ${JSON.stringify(token ?? '')}`);
  }
  return BigInt(token);
}

/** A signed decimal (/proc/net/snmp prints `MaxConn -1`). */
export function signed(token: string | undefined, line: string): bigint {
  if (token === undefined || !SIGNED.test(token)) throw malformed(line, `a number, not ${JSON.stringify(token ?? '')}`);
  return BigInt(token);
}

/** A decimal with an optional fraction (`5119.87`). */
export function decimal(token: string | undefined, line: string): number {
  const value = token === undefined || token === '' ? NaN : Number(token);
  if (!Number.isFinite(value)) throw malformed(line, `a decimal number, not ${JSON.stringify(token ?? '')}`);
  return value;
}

/** Non-empty lines of a kernel text file. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}
