import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import type { CollectContext } from './types.js';

/**
 * Kernel pseudo-files are small and read many times a second; a synchronous read into one
 * reused buffer costs a fraction of fs.promises.readFile, which matters at 1000 cgroups.
 */
let buffer = Buffer.allocUnsafe(64 * 1024);

export function readText(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** Errors that mean "this object went away or never had this file": not worth a word. */
const GONE = new Set(['ENOENT', 'ESRCH', 'ENODEV', 'ENOTDIR', 'EINVAL', 'ENXIO']);

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * Reads a file that may legitimately be missing (a cgroup or pid that vanished mid-read,
 * a controller file absent on this kernel): undefined then. Permission errors are reported
 * to the context (counted, logged once) and also give undefined; anything else throws.
 */
export function readOptional(path: string, ctx?: CollectContext): string | undefined {
  try {
    return readText(path);
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && GONE.has(code)) return undefined;
    if ((code === 'EACCES' || code === 'EPERM') && ctx) {
      ctx.unreadable(path, error);
      return undefined;
    }
    throw error;
  }
}

/** Directory entries, or [] when the directory vanished. */
export function listDir(path: string, ctx?: CollectContext): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && GONE.has(code)) return [];
    if ((code === 'EACCES' || code === 'EPERM') && ctx) {
      ctx.unreadable(path, error);
      return [];
    }
    throw error;
  }
}
