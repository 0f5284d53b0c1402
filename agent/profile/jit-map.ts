/**
 * A JIT's symbol map, `/tmp/perf-<pid>.map` (perf's jit-interface.txt): one code region per
 * line, `START SIZE name`, hex without 0x, appended as code is compiled
 * (`7f0d5b745ec0 220 JS:*hotJsFunction /tmp/app/hot.js:1:23` from node --perf-basic-prof).
 */
export interface JitSymbol {
  start: bigint;
  end: bigint;
  name: string;
}

/** Regions sorted by start; where code was moved or recompiled at the same start, the later line wins. */
export class JitMap {
  private constructor(private readonly symbols: readonly JitSymbol[]) {}

  static parse(text: string): JitMap {
    const byStart = new Map<bigint, JitSymbol>();
    for (const line of text.split('\n')) {
      const m = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.+)$/.exec(line);
      if (!m) continue;
      const start = BigInt(`0x${m[1]}`);
      byStart.set(start, { start, end: start + BigInt(`0x${m[2]}`), name: m[3]! });
    }
    return new JitMap([...byStart.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)));
  }

  get size(): number {
    return this.symbols.length;
  }

  /** The name of the region holding `address`, or undefined. */
  lookup(address: bigint): string | undefined {
    let lo = 0;
    let hi = this.symbols.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.symbols[mid]!.start <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Regions rarely overlap; look back a few in case a long older one still covers the address.
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const s = this.symbols[i]!;
      if (address < s.end) return s.name;
    }
    return undefined;
  }
}

/** Where perf names anonymous executable memory (a JIT's code) when it has no symbol for it. */
export function isAnonymousCode(dso: string): boolean {
  return /^\/tmp\/perf-\d+\.map$/.test(dso) || dso === '[unknown]' || dso.startsWith('//anon') || dso.startsWith('[anon');
}
