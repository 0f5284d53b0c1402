import { readOptional } from './read.js';
import type { CollectContext } from './types.js';

/**
 * Reads and parses a kernel file that may be absent (no /proc/pressure before Linux 4.20,
 * no irq pressure before 6.1, a network namespace whose last process exited): undefined
 * then, so its metrics are simply missing. A file that is there but not understood throws
 * an error naming it, which costs the collector this sample and says where to look.
 */
export function readParsed<T>(path: string, parse: (text: string) => T, ctx?: CollectContext): T | undefined {
  const text = readOptional(path, ctx);
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}; is this a Linux procfs/sysfs (check --procfs and --sysfs)?`, {
      cause: error,
    });
  }
}

/** A u32 metric fed from a wider kernel counter wraps as PCP's 32-bit copy of it does. */
export function u32(value: bigint): number {
  return Number(BigInt.asUintN(32, value));
}
