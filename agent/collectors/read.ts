import { closeSync, openSync, readSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { CollectContext } from './types.js';

/**
 * Kernel pseudo-files are small and read many times a second; a synchronous read into one
 * reused buffer costs a fraction of fs.promises.readFile, which matters at 1000 cgroups.
 */
let buffer = Buffer.allocUnsafe(64 * 1024);

/**
 * @param seqFile the file is a kernel seq_file, as every cgroup interface file is: a read that
 *   returns less than asked for has reached the end, so the read that would return 0 is skipped.
 *   That read is not free: for memory.stat the kernel computes the whole file again.
 */
export function readText(path: string, seqFile = false): string {
  const fd = openSync(path, 'r');
  try {
    return readFd(fd, seqFile);
  } finally {
    closeSync(fd);
  }
}

/**
 * The whole file from offset 0, whatever the descriptor read before: on a seq_file a read at
 * offset 0 makes the kernel build the text afresh, which is what lets KeptFiles reuse descriptors.
 */
export function readFd(fd: number, seqFile = false): string {
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    const wanted = buffer.length - length;
    const n = readSync(fd, buffer, length, wanted, length);
    length += n;
    if (n === 0 || (seqFile && n < wanted)) break;
  }
  return buffer.toString('utf8', 0, length);
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
export function readOptional(path: string, ctx?: CollectContext, seqFile = false): string | undefined {
  return tolerant(path, ctx, seqFile ? readSeqFile : readText);
}

const readSeqFile = (path: string): string => readText(path, true);

/**
 * readOptional off the main thread (libuv's thread pool reads the file), for the rare file whose
 * read costs the kernel milliseconds (/proc/net/tcp): the event loop serves requests meanwhile.
 */
export async function readOptionalAsync(path: string, ctx?: CollectContext): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    return tolerant(path, ctx, () => {
      throw error;
    });
  }
}

/** Directory entries, or [] when the directory vanished. */
export function listDir(path: string, ctx?: CollectContext): string[] {
  return tolerant(path, ctx, (p) => readdirSync(p)) ?? [];
}

/**
 * Directory entries with their types (cgroup walks tell child cgroups from interface files
 * without a stat per entry), or [] when the directory vanished.
 */
export function listDirEntries(path: string, ctx?: CollectContext): Dirent[] {
  return tolerant(path, ctx, (p) => readdirSync(p, { withFileTypes: true })) ?? [];
}

/** A symlink's target (`/proc/<pid>/ns/net` → `net:[4026531840]`), with readOptional's error policy. */
export function readLinkOptional(path: string, ctx?: CollectContext): string | undefined {
  return tolerant(path, ctx, (p) => readlinkSync(p));
}

/** The shared error policy: gone → undefined, EACCES/EPERM → reported and undefined, else throw. */
export function tolerant<T>(path: string, ctx: CollectContext | undefined, read: (path: string) => T): T | undefined {
  try {
    return read(path);
  } catch (error) {
    return tolerated(path, ctx, error);
  }
}

/** The policy for an error `path` met: undefined when it is tolerated, else throws it again. */
export function tolerated(path: string, ctx: CollectContext | undefined, error: unknown): undefined {
  const code = errorCode(error);
  if (code !== undefined && GONE.has(code)) return undefined;
  if ((code === 'EACCES' || code === 'EPERM') && ctx) {
    ctx.unreadable(path, error);
    return undefined;
  }
  throw error;
}
