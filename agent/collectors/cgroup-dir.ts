import { parseFlatKeyed, parseSingle, type Limit } from '../parsers/cgroup-formats.js';
import { cgroupInstanceName } from '../parsers/cgroup-path.js';
import { listDirEntries, readOptional } from './read.js';
import { Slices } from '../slices.js';
import { WRITTEN_ONLY, type CgroupWatch } from './cgroup-watch.js';
import type { CollectContext } from './types.js';

/** How a cgroup's interface file is read, with readOptional's error policy; see CgroupTree for a cheaper one. */
export type CgroupFileReader = (path: string, ctx: CollectContext) => string | undefined;

const always = (): boolean => true;

const readEachTime: CgroupFileReader = (path, ctx) => readOptional(path, ctx, true);

/**
 * One cgroup directory met in a walk. It knows which interface files it has (from the
 * directory listing the walk made anyway), so readers open only files that exist: what a
 * controller offers differs between v1 and v2, kernel versions, the root and other cgroups.
 */
export class CgroupDir {
  /** Whether a file is worth reading in this pass (collection on demand); files it refuses read as absent. */
  need: (file: string) => boolean = always;

  /**
   * The inotify watch on the directory, set by a cached tree: while it is live, a WRITTEN_ONLY
   * file it has seen no write to reads as the text read before.
   */
  watch: CgroupWatch | undefined;

  constructor(
    /** Instance name: `/`, `/docker/<id>`. */
    readonly name: string,
    readonly path: string,
    readonly files: ReadonlySet<string>,
    private readonly ctx: CollectContext,
    private readonly reader: CgroupFileReader = readEachTime,
    /**
     * Paths of the files read so far, by file name; a cached tree hands them to the next pass's
     * CgroupDir, so a read neither builds the path string again nor hashes a new string to find
     * its kept descriptor.
     */
    readonly paths = new Map<string, string>(),
  ) {}

  /** Whether this object reads for `ctx` through `reader`, so another pass may use it again. */
  serves(ctx: CollectContext, reader: CgroupFileReader): boolean {
    return this.ctx === ctx && this.reader === reader;
  }

  /** Whether the cgroup has this file and this pass wants it read. */
  offers(file: string): boolean {
    return this.files.has(file) && this.need(file);
  }

  /** The file's text; undefined when the cgroup has no such file or vanished since the walk listed it. */
  read(file: string): string | undefined {
    if (!this.offers(file)) return undefined;
    let path = this.paths.get(file);
    if (path === undefined) this.paths.set(file, (path = `${this.path}/${file}`));
    const watch = this.watch;
    if (watch === undefined || !WRITTEN_ONLY.has(file)) return this.reader(path, this.ctx);
    let text = watch.texts.get(file);
    if (text === undefined) {
      text = this.reader(path, this.ctx);
      if (text !== undefined && watch.live) watch.texts.set(file, text);
    }
    return text;
  }

  /** The file parsed; a file the parser cannot make sense of throws, naming the file. */
  parse<T>(file: string, parser: (text: string) => T): T | undefined {
    const text = this.read(file);
    if (text === undefined) return undefined;
    try {
      return parser(text);
    } catch (error) {
      throw this.malformed(file, error);
    }
  }

  /** A parser's error about one of this cgroup's files, naming the file. */
  malformed(file: string, error: unknown): Error {
    return new Error(`${this.path}/${file}: ${(error as Error).message}`);
  }

  /** A one-value file (`memory.max`, `cpu.shares`); `max` where there is no limit. */
  single(file: string): Limit | undefined {
    return this.parse(file, parseSingle);
  }

  /** A one-value file that never says `max` (usage and counters). */
  integer(file: string): bigint | undefined {
    const value = this.single(file);
    if (value === 'max') throw new Error(`${this.path}/${file} says "max" where a number belongs`);
    return value;
  }

  /** A `key value` per line file (`memory.stat`, `cpu.stat`); with `only`, just those keys. */
  keyed(file: string, only?: ReadonlySet<string>): Map<string, bigint> | undefined {
    return this.parse(file, (text) => parseFlatKeyed(text, only));
  }
}

/**
 * Visits the cgroup at `mountPath` and every cgroup below it, parents before children, as
 * pmdaproc does. A cgroup that vanishes during the walk is skipped silently: a directory that
 * lists as empty is gone (a live cgroup directory always holds interface files). Thousands of
 * cgroups take a good part of a second of file reads, so the walk gives the event loop a turn
 * every few milliseconds.
 */
export async function walkCgroups(
  mountPath: string,
  ctx: CollectContext,
  visit: (dir: CgroupDir) => void,
  reader: CgroupFileReader = readEachTime,
): Promise<void> {
  const pending: Array<readonly [relative: string, path: string]> = [['', mountPath]];
  const slices = new Slices();
  // Most cgroups of a hierarchy have the same files: one Set for each distinct list keeps a
  // cached walk of thousands of cgroups small.
  const fileSets = new Map<string, ReadonlySet<string>>();
  while (pending.length > 0) {
    const [relative, path] = pending.pop()!;
    const entries = listDirEntries(path, ctx);
    if (entries.length === 0) continue;
    const files: string[] = [];
    const children: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) children.push(entry.name);
      else files.push(entry.name);
    }
    const key = files.join('/');
    let fileSet = fileSets.get(key);
    if (fileSet === undefined) fileSets.set(key, (fileSet = new Set(files)));
    visit(new CgroupDir(cgroupInstanceName(relative), path, fileSet, ctx, reader));
    for (let i = children.length - 1; i >= 0; i--) pending.push([`${relative}/${children[i]}`, `${path}/${children[i]}`]);
    if (slices.due) await slices.next();
  }
}
