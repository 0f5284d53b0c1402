import { UNKNOWN_SYMBOL, type PerfFrame, type PerfSample } from './perf-script.js';

/**
 * Folded stacks, the flame graph's input format: `comm;root;…;leaf count` per line.
 * Frame names carry the suffixes FlameGraph's stackcollapse-perf uses for its palettes:
 * `_[k]` kernel, `_[j]` JIT-compiled; unresolved frames are `[dso]` or `[unknown]`.
 */
export type FrameKind = 'process' | 'kernel' | 'jit' | 'native' | 'unknown';

/** Names the JIT map gives to addresses perf left `[unknown]`: (pid, frame) → name or undefined. */
export type JitResolver = (pid: number, frame: PerfFrame) => string | undefined;

const KERNEL_HALF = 1n << 63n;

/** A folded-stack frame name for one perf frame. */
export function frameName(frame: PerfFrame, jitName?: string): string {
  if (jitName !== undefined) return `${clean(jitName)}_[j]`;
  if (frame.symbol === UNKNOWN_SYMBOL) {
    // Unnamed code in a real file still says which file: `[libc.so.6]`.
    const file = frame.dso.startsWith('/') && !/^\/tmp\/perf-\d+\.map$/.test(frame.dso) ? frame.dso.slice(frame.dso.lastIndexOf('/') + 1) : '';
    return file ? `[${clean(file)}]` : UNKNOWN_SYMBOL;
  }
  if (frame.dso.startsWith('[kernel.') || frame.dso === '[guest.kernel.kallsyms]' || frame.address >= KERNEL_HALF) {
    return `${clean(frame.symbol)}_[k]`;
  }
  if (/^\/tmp\/perf-\d+\.map$/.test(frame.dso) || /\/jitted-\d+-\d+\.so$/.test(frame.dso)) return `${clean(frame.symbol)}_[j]`;
  return clean(frame.symbol);
}

/** `;` separates frames and a line ends the stack: neither may appear inside a name. */
function clean(name: string): string {
  return name.replace(/[;\r\n]/g, ':');
}

/** A sample as one folded stack, process name first, leaf last. */
export function foldSample(sample: PerfSample, resolveJit: JitResolver): string {
  const names = [clean(sample.comm)];
  for (let i = sample.frames.length - 1; i >= 0; i--) {
    const frame = sample.frames[i]!;
    names.push(frameName(frame, frame.symbol === UNKNOWN_SYMBOL ? resolveJit(sample.pid, frame) : undefined));
  }
  return names.join(';');
}

/** The kind of a folded frame name at `depth` (1 = the process name) and its name without suffix. */
export function splitFrameName(name: string, depth: number): { name: string; kind: FrameKind } {
  if (depth === 1) return { name, kind: 'process' };
  if (name.endsWith('_[k]')) return { name: name.slice(0, -4), kind: 'kernel' };
  if (name.endsWith('_[j]')) return { name: name.slice(0, -4), kind: 'jit' };
  if (name.startsWith('[') && name.endsWith(']')) return { name, kind: 'unknown' };
  return { name, kind: 'native' };
}

/** Stack → sample count, with a bound on distinct stacks so that a pathological profile cannot eat the agent's memory. */
export class FoldedStacks {
  readonly counts = new Map<string, number>();
  total = 0;
  /** Samples of stacks beyond the bound, kept as `<comm>;[other stacks]`. */
  overflowed = 0;

  constructor(private readonly maxStacks = 50_000) {}

  add(stack: string, count = 1): void {
    this.total += count;
    const seen = this.counts.get(stack);
    if (seen !== undefined) {
      this.counts.set(stack, seen + count);
      return;
    }
    if (this.counts.size < this.maxStacks) {
      this.counts.set(stack, count);
      return;
    }
    this.overflowed += count;
    const semi = stack.indexOf(';');
    const other = `${semi < 0 ? stack : stack.slice(0, semi)};[other stacks]`;
    this.counts.set(other, (this.counts.get(other) ?? 0) + count);
  }

  addAll(other: FoldedStacks): void {
    for (const [stack, count] of other.counts) this.add(stack, count);
  }

  /** FlameGraph's text format, lines sorted so that equal profiles give equal text. */
  toText(): string {
    return [...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([stack, count]) => `${stack} ${count}\n`).join('');
  }
}
