import { setFlagsFromString } from 'node:v8';
import { log } from './log.js';

/**
 * How every start path runs node for the agent (`npm start`, the `vigil` command's shebang, the
 * Dockerfile, the systemd unit, the tests' and the bench's agents; test/unit/deploy.test.ts checks
 * that they agree). V8 fixes the young generation's largest size when it starts, so only a
 * start flag can set it:
 *
 * - `--max-semi-space-size=4`: the young generation grows to 8 MiB (two semi-spaces of 4 MiB)
 *   instead of 32. Every pass allocates 1–2 MB at 10 cgroups and tens of MB at 1000; with
 *   room for about a pass, most of it dies young instead of being copied by scavenge after
 *   scavenge and promoted. Side by side at 10 cgroups with `--collect all`, from 3 minutes
 *   on: 28.3 → 20.6 ms/s, RSS +4 MiB (docs/DEVELOPING.md, "Memory").
 *
 * Started without it, the CLI keeps the young generation at its initial 2 MiB instead (GC_FLAGS),
 * so that it does not grow to 32 MiB, and says so.
 */
export const START_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * V8 sizes its heap for a browser tab; an agent should stay close to its live heap. Every pass
 * builds a sample of tens of thousands of values that lives one interval, long enough to be
 * promoted to the old generation, and with V8's own settings that garbage piled up to two or
 * three times the live heap, beside a young generation grown to 32 MiB:
 *
 * - `--heap-growing-percent`: the old generation may grow this far past what the last full
 *   collection kept before the next one (V8's own factor goes up to 4×).
 * - `--semi-space-growth-factor=1`, only when node was started without START_FLAGS: the young
 *   generation stays at its initial 2 MiB. That costs CPU (a scavenge every third of a MB).
 *
 * Neither is a limit: the heap still grows as far as a big host's history needs, so the agent
 * cannot run out of memory sooner than with the defaults; collections just come sooner
 * (docs/DEVELOPING.md, "Memory", has the figures). Both are read by V8 at every collection,
 * so setting them at run time works; heap sizes fixed at start (`--max-old-space-size`, the
 * young generation's largest size) would not.
 */
const GC_FLAGS: ReadonlyArray<[name: string, value: number]> = [
  ['heap-growing-percent', 20],
  ['semi-space-growth-factor', 1],
];

/**
 * V8 optimises a function once it has run about 67 KB of bytecode (`--interrupt-budget`) a few
 * times over: thresholds made for a page whose hot code runs thousands of times a second. The
 * agent's code runs once a pass, so at one pass a second V8 was still compiling it with
 * TurboFan five minutes after start (parseStat, parseDiskstats, the cgroup collector: 20–30 ms
 * of compiler-thread CPU each, 1–3 ms/s on average from 2 to 5 minutes), and ran it
 * unoptimised until then. An eighth of the budget gets the same compiles done in the first two
 * minutes; they are not more numerous. docs/DEVELOPING.md ("V8 warms up") has the figures.
 * Also read at run time, so setting it here works.
 */
const JIT_FLAGS: ReadonlyArray<[name: string, value: number]> = [
  ['interrupt-budget', 8448],
];

/**
 * Applies GC_FLAGS and JIT_FLAGS, except where `node` was started with its own setting of the
 * same thing: `node --heap-growing-percent=0 --max-semi-space-size=16 --interrupt-budget=67584
 * dist/agent/cli.js` restores V8's behaviour. Call it before the agent's modules load: loading
 * them allocates enough to grow the young generation.
 */
export function tuneV8(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((flag) => flag.replace(/_/g, '-'));
  const chosen = (prefix: string): boolean => given.some((flag) => flag.startsWith(prefix));
  const youngGenerationSized = chosen('--max-semi-space-size');
  for (const [name, value] of [...GC_FLAGS, ...JIT_FLAGS]) {
    if (chosen(`--${name}`) || (name.startsWith('semi-space') && youngGenerationSized)) continue;
    setFlagsFromString(`--${name}=${value}`);
  }
  if (!youngGenerationSized) {
    log.info(`node was started without ${START_FLAGS.join(' ')}: the young generation stays at 2 MiB, which costs more CPU per pass; ` +
      `start the agent with \`node ${START_FLAGS.join(' ')} dist/agent/cli.js\` (as npm start and the Dockerfile do)`);
  }
}
