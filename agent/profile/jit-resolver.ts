import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readOptional } from '../collectors/read.js';
import { parseProcStatus } from '../parsers/proc-pid.js';
import { JitMap, isAnonymousCode } from './jit-map.js';
import type { JitResolver } from './folded.js';
import type { PerfFrame } from './perf-script.js';

/** A JIT map larger than this is read from its end: new code is appended, so the tail is what is running now. */
const MAX_MAP_BYTES = 32 * 1024 * 1024;
/** A map is re-read for an address it lacks at most this often (the JIT keeps appending to it). */
const RELOAD_MS = 2000;

/** Processes whose maps are kept; past this (a long live profile of a forking service) all are dropped and reloaded as needed. */
const MAX_PROCESSES = 256;

interface Loaded {
  map?: JitMap;
  loadedAt: number;
}

/**
 * Names JIT frames perf left `[unknown]`, from the process's own `perf-<pid>.map`.
 *
 * perf looks for `/tmp/perf-<pid>.map` with the pid it sees (the host's). A process in a
 * container writes `/tmp/perf-<nspid>.map` inside its own mount namespace, with its pid there.
 * perf 4.14+ enters the namespace itself while the process lives, but not once it has exited, not
 * from inside a container without CAP_SYS_ADMIN, and it reads a map only once, so code compiled
 * after that stays unknown in a long live profile. We read `/proc/<pid>/root/tmp/perf-<nspid>.map`
 * (the same file seen through the host) instead of linking or copying files into the host's
 * /tmp, which could clobber a real map of a host process and would outlive a crash.
 */
export class JitMaps {
  private readonly loaded = new Map<number, Loaded>();

  constructor(
    private readonly procfs: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  readonly resolve: JitResolver = (pid: number, frame: PerfFrame): string | undefined => {
    if (!isAnonymousCode(frame.dso)) return undefined;
    let entry = this.loaded.get(pid);
    if (!entry) {
      if (this.loaded.size >= MAX_PROCESSES) this.loaded.clear();
      this.loaded.set(pid, (entry = this.load(pid, frame)));
    }
    const name = entry.map?.lookup(frame.address);
    if (name !== undefined || this.now() - entry.loadedAt < RELOAD_MS) return name;
    const again = this.load(pid, frame);
    this.loaded.set(pid, again);
    return again.map?.lookup(frame.address);
  };

  /** Where the process's map is, seen from here; undefined when the process is gone and left none on the host. */
  mapPath(pid: number, frame: PerfFrame): string | undefined {
    const status = readOptional(`${this.procfs}/${pid}/status`);
    const nspid = status === undefined ? undefined : parseProcStatus(status).nspid.at(-1);
    if (nspid !== undefined) return `${this.procfs}/${pid}/root/tmp/perf-${nspid}.map`;
    // Gone: a host process's map outlives it in the host's /tmp, where perf itself looked.
    return /^\/tmp\/perf-\d+\.map$/.test(frame.dso) ? frame.dso : undefined;
  }

  private load(pid: number, frame: PerfFrame): Loaded {
    const loadedAt = this.now();
    let text: string | undefined;
    try {
      const path = this.mapPath(pid, frame);
      text = path === undefined ? undefined : readTail(path, MAX_MAP_BYTES);
    } catch {
      // No map (the process was not started with --perf-basic-prof), or not ours to read: its JIT frames stay unknown.
    }
    return { map: text === undefined ? undefined : JitMap.parse(text), loadedAt };
  }
}

/** The last `limit` bytes of a file, from the first whole line on. */
function readTail(path: string, limit: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, limit);
    const buffer = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, size - length + read);
      if (n === 0) break;
      read += n;
    }
    const text = buffer.toString('utf8', 0, read);
    return size > limit ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    closeSync(fd);
  }
}
