import { statfsSync } from 'node:fs';
import { KeptFiles, type FdBudget } from './kept-files.js';
import { readOptional } from './read.js';
import type { CollectContext } from './types.js';

/**
 * Reads and parses a kernel file that may be absent (no /proc/pressure before Linux 4.20,
 * no irq pressure before 6.1, a network namespace whose last process exited): undefined
 * then, so its metrics are simply missing. A file that is there but not understood throws
 * an error naming it, which costs the collector this sample and says where to look.
 */
export function readParsed<T>(
  path: string,
  parse: (text: string) => T,
  ctx?: CollectContext,
  read: (path: string, ctx?: CollectContext) => string | undefined = readOptional,
): T | undefined {
  const text = read(path, ctx);
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}; is this a Linux procfs/sysfs (check --procfs and --sysfs)?`, {
      cause: error,
    });
  }
}

/** statfs magic of procfs. */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** statfs magic of sysfs. */
const SYSFS_MAGIC = 0x62656572;

/**
 * A collector's host files under procfs (or sysfs), read every pass through descriptors kept
 * open between passes (kept-files.ts) when the tree is the kernel's: its files are seq_files,
 * sysctls and sysfs attributes, which a read at offset 0 prints afresh, and for a small one
 * the open and close cost as much as the read (the 13 files of the console's host metrics:
 * 230 µs a pass opened each time, 110 µs kept). A fixture tree's files are regular files, which a test may replace,
 * so there every read opens the file, as before.
 */
export class ProcFiles {
  private readonly kept: KeptFiles | undefined;

  /**
   * @param root the procfs or sysfs the files are under.
   * @param budget the descriptors these files may keep (default: the process's whole budget).
   */
  constructor(root: string, budget?: FdBudget) {
    this.kept = isKernelTree(root) ? new KeptFiles(budget) : undefined;
  }

  /** Whether reads go through kept descriptors: the tree is the kernel's procfs or sysfs. */
  get kernel(): boolean {
    return this.kept !== undefined;
  }

  /** Like readOptional (read.ts). */
  read(path: string, ctx?: CollectContext): string | undefined {
    return this.kept ? this.kept.readOptional(path, ctx, true) : readOptional(path, ctx);
  }

  /** Like readParsed. */
  parsed<T>(path: string, parse: (text: string) => T, ctx?: CollectContext): T | undefined {
    return readParsed(path, parse, ctx, (p, c) => this.read(p, c));
  }

  /**
   * Call at the start of each pass: closes the files the previous pass did not read (their
   * metrics are no longer wanted). A collector that stops running keeps its few descriptors,
   * one per file it read, until it runs again.
   */
  sweep(): void {
    this.kept?.sweep();
  }
}

function isKernelTree(path: string): boolean {
  try {
    const type = statfsSync(path).type;
    return type === PROC_SUPER_MAGIC || type === SYSFS_MAGIC;
  } catch {
    return false;
  }
}

/** A u32 metric fed from a wider kernel counter wraps as PCP's 32-bit copy of it does. */
export function u32(value: bigint): number {
  return Number(BigInt.asUintN(32, value));
}
