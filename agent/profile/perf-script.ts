/**
 * `perf script -F comm,pid,tid,time,ip,sym,dso` output: one sample per block, a header line
 * then its call chain leaf first, one frame per tab-indented line, blocks separated by a blank
 * line:
 *
 * ```
 * hot burner 22404/22404  1364.652492:
 * 	            115a burn_hot_function (/tmp/vigil-h/hot burner)
 * 	ffffffff821ef666 do_syscall_64 ([kernel.kallsyms])
 * 	    7fa017746c9f JS:*hotJsFunction /tmp/hot.js:1:23 (/tmp/perf-22406.map)
 * 	    7f5e80006c9f [unknown] (/tmp/perf-22408.map)
 * ```
 *
 * Comm names may contain spaces, symbols spaces and parentheses (`(anonymous namespace)`), and
 * dso names parentheses (`/memfd:x (deleted)`), so fields are found from the ends of the line.
 */

export interface PerfFrame {
  /** Instruction address; bigint because kernel addresses pass 2^53. */
  address: bigint;
  /** `[unknown]` when perf could not name it. */
  symbol: string;
  /** Mapped file (`/usr/bin/node`), `[kernel.kallsyms]`, `/tmp/perf-<pid>.map` for anonymous executable memory, or `[unknown]`. */
  dso: string;
}

export interface PerfSample {
  comm: string;
  /** Process (tgid) and thread id in the pid namespace perf ran in. */
  pid: number;
  tid: number;
  /** Sample time in seconds on the clock given to `perf record -k` (CLOCK_MONOTONIC for the agent). */
  time: number;
  /** Leaf first, as perf prints them. */
  frames: PerfFrame[];
}

export const UNKNOWN_SYMBOL = '[unknown]';

const HEADER = /^(.*?)\s+(\d+)\/(\d+)\s+(\d+\.\d+):\s*$/;
const FRAME_ADDRESS = /^\s*([0-9a-f]+) /;

export function parseSampleHeader(line: string): Omit<PerfSample, 'frames'> | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  return { comm: m[1]!, pid: Number(m[2]), tid: Number(m[3]), time: Number(m[4]) };
}

export function parseFrame(line: string): PerfFrame | undefined {
  const m = FRAME_ADDRESS.exec(line);
  if (!m) return undefined;
  const rest = line.slice(m[0].length).trimEnd();
  // The dso is the balanced parenthesised group that ends the line.
  let depth = 0;
  let open = -1;
  if (rest.endsWith(')')) {
    for (let i = rest.length - 1; i >= 0; i--) {
      if (rest[i] === ')') depth++;
      else if (rest[i] === '(' && --depth === 0) {
        open = i;
        break;
      }
    }
  }
  const symbol = (open < 0 ? rest : rest.slice(0, open)).trim();
  return {
    address: BigInt(`0x${m[1]}`),
    symbol: symbol === '' ? UNKNOWN_SYMBOL : symbol,
    dso: open < 0 ? UNKNOWN_SYMBOL : rest.slice(open + 1, -1),
  };
}

/**
 * Cuts a stream of `perf script` text into samples. Text may arrive in chunks that split lines
 * anywhere; a sample is emitted once the blank line after it (or the end) is seen.
 */
export class PerfScriptParser {
  private partial = '';
  private current?: PerfSample;
  /** Lines that were neither a header nor a frame (perf warnings on stdout): counted, not fatal. */
  unparsed = 0;

  constructor(private readonly emit: (sample: PerfSample) => void) {}

  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    this.flush();
  }

  private line(line: string): void {
    if (line.trim() === '') return this.flush();
    if (line.startsWith('\t') || line.startsWith(' ')) {
      const frame = parseFrame(line);
      if (frame && this.current) this.current.frames.push(frame);
      else this.unparsed++;
      return;
    }
    this.flush();
    const header = parseSampleHeader(line);
    if (header) this.current = { ...header, frames: [] };
    else this.unparsed++;
  }

  private flush(): void {
    if (this.current) this.emit(this.current);
    this.current = undefined;
  }
}

export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  const parser = new PerfScriptParser((s) => samples.push(s));
  parser.feed(text);
  parser.end();
  return samples;
}
