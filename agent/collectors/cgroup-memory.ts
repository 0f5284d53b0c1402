import { MAX, type Limit } from '../parsers/cgroup-formats.js';
import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';

/**
 * What v1 `memory.limit_in_bytes` shows for "no limit" (PAGE_COUNTER_MAX pages of 4 KiB).
 * cgroup2's `max` is served as this same number, so a limit means the same on every host.
 */
const UNLIMITED_BYTES = 9223372036854771712n;

const bytesOf = (limit: Limit): bigint => (limit === MAX ? UNLIMITED_BYTES : limit);

/**
 * cgroup.memory.stat.* from memory.stat lines: candidates in order, the first the file has wins.
 * The metric's own key comes first (what pmdaproc reads), then the other cgroup version's
 * equivalent, so v1 names work on v2 hosts and the reverse. v2's memory.stat is hierarchical,
 * so v2 names fall back to v1's `total_*` lines and v1 `total.*` names to the v2 lines.
 * `a+b` sums two lines (newer kernels split workingset counters into anon and file).
 */
const MEMORY_STAT: ReadonlyArray<readonly [metric: string, ...candidates: string[]]> = [
  ['cgroup.memory.stat.cache', 'cache', 'file'],
  ['cgroup.memory.stat.rss', 'rss', 'anon'],
  ['cgroup.memory.stat.rss_huge', 'rss_huge', 'anon_thp'],
  ['cgroup.memory.stat.mapped_file', 'mapped_file', 'file_mapped'],
  ['cgroup.memory.stat.writeback', 'writeback', 'file_writeback'],
  ['cgroup.memory.stat.swap', 'swap'],
  ['cgroup.memory.stat.pgpgin', 'pgpgin'],
  ['cgroup.memory.stat.pgpgout', 'pgpgout'],
  ['cgroup.memory.stat.pgfault', 'pgfault'],
  ['cgroup.memory.stat.pgmajfault', 'pgmajfault'],
  ['cgroup.memory.stat.inactive_anon', 'inactive_anon'],
  ['cgroup.memory.stat.active_anon', 'active_anon'],
  ['cgroup.memory.stat.inactive_file', 'inactive_file'],
  ['cgroup.memory.stat.active_file', 'active_file'],
  ['cgroup.memory.stat.unevictable', 'unevictable'],
  ['cgroup.memory.stat.anon', 'anon', 'total_rss'],
  ['cgroup.memory.stat.anon_thp', 'anon_thp', 'total_rss_huge'],
  ['cgroup.memory.stat.file', 'file', 'total_cache'],
  ['cgroup.memory.stat.file_dirty', 'file_dirty', 'total_dirty'],
  ['cgroup.memory.stat.file_mapped', 'file_mapped', 'total_mapped_file'],
  ['cgroup.memory.stat.file_writeback', 'file_writeback', 'total_writeback'],
  ['cgroup.memory.stat.kernel_stack', 'kernel_stack'],
  ['cgroup.memory.stat.pgactivate', 'pgactivate'],
  ['cgroup.memory.stat.pgdeactivate', 'pgdeactivate'],
  ['cgroup.memory.stat.pglazyfree', 'pglazyfree'],
  ['cgroup.memory.stat.pglazyfreed', 'pglazyfreed'],
  ['cgroup.memory.stat.pgrefill', 'pgrefill'],
  ['cgroup.memory.stat.pgscan', 'pgscan'],
  ['cgroup.memory.stat.pgsteal', 'pgsteal'],
  ['cgroup.memory.stat.shmem', 'shmem'],
  ['cgroup.memory.stat.slab', 'slab'],
  ['cgroup.memory.stat.slab_reclaimable', 'slab_reclaimable'],
  ['cgroup.memory.stat.slab_unreclaimable', 'slab_unreclaimable'],
  ['cgroup.memory.stat.sock', 'sock'],
  ['cgroup.memory.stat.thp_collapse_alloc', 'thp_collapse_alloc'],
  ['cgroup.memory.stat.thp_fault_alloc', 'thp_fault_alloc'],
  ['cgroup.memory.stat.total.cache', 'total_cache', 'file'],
  ['cgroup.memory.stat.total.rss', 'total_rss', 'anon'],
  ['cgroup.memory.stat.total.rss_huge', 'total_rss_huge', 'anon_thp'],
  ['cgroup.memory.stat.total.mapped_file', 'total_mapped_file', 'file_mapped'],
  ['cgroup.memory.stat.total.writeback', 'total_writeback', 'file_writeback'],
  ['cgroup.memory.stat.total.swap', 'total_swap', 'swap'],
  ['cgroup.memory.stat.total.pgpgin', 'total_pgpgin'],
  ['cgroup.memory.stat.total.pgpgout', 'total_pgpgout'],
  ['cgroup.memory.stat.total.pgfault', 'total_pgfault', 'pgfault'],
  ['cgroup.memory.stat.total.pgmajfault', 'total_pgmajfault', 'pgmajfault'],
  ['cgroup.memory.stat.total.inactive_anon', 'total_inactive_anon', 'inactive_anon'],
  ['cgroup.memory.stat.total.active_anon', 'total_active_anon', 'active_anon'],
  ['cgroup.memory.stat.total.inactive_file', 'total_inactive_file', 'inactive_file'],
  ['cgroup.memory.stat.total.active_file', 'total_active_file', 'active_file'],
  ['cgroup.memory.stat.total.unevictable', 'total_unevictable', 'unevictable'],
  ['cgroup.memory.stat.recent.rotated_anon', 'recent_rotated_anon'],
  ['cgroup.memory.stat.recent.rotated_file', 'recent_rotated_file'],
  ['cgroup.memory.stat.recent.scanned_anon', 'recent_scanned_anon'],
  ['cgroup.memory.stat.recent.scanned_file', 'recent_scanned_file'],
  ['cgroup.memory.stat.workingset.activate', 'workingset_activate', 'workingset_activate_anon+workingset_activate_file'],
  ['cgroup.memory.stat.workingset.nodereclaim', 'workingset_nodereclaim'],
  ['cgroup.memory.stat.workingset.refault', 'workingset_refault', 'workingset_refault_anon+workingset_refault_file'],
];

function statValue(stat: ReadonlyMap<string, bigint>, candidate: string): bigint | undefined {
  const plus = candidate.indexOf('+');
  if (plus < 0) return stat.get(candidate);
  const a = stat.get(candidate.slice(0, plus));
  const b = stat.get(candidate.slice(plus + 1));
  return a === undefined || b === undefined ? undefined : a + b;
}

/**
 * What a pass needs from memory.stat: the MEMORY_STAT rows of wanted metrics, and the lines they
 * and the working set read. memory.stat has 40 to 70 lines and the console wants one of them
 * (the working set's inactive file cache), so the others are not parsed.
 */
export interface MemoryStatPlan {
  rows: typeof MEMORY_STAT;
  lines: ReadonlySet<string>;
}

export function memoryStatPlan(wants: (metric: string) => boolean): MemoryStatPlan {
  const rows = MEMORY_STAT.filter(([metric]) => wants(metric));
  const lines = new Set(rows.flatMap(([, ...candidates]) => candidates.flatMap((c) => c.split('+'))));
  if (wants('cgroup.memory.working_set')) lines.add('total_inactive_file').add('inactive_file');
  return { rows, lines };
}

function putMemoryStat(dir: CgroupDir, sink: CgroupSink, stat: ReadonlyMap<string, bigint>): void {
  // Indexes rather than `[metric, ...candidates]`: that is an array per row, per cgroup, per pass.
  for (const row of sink.memoryStat.rows) {
    for (let i = 1; i < row.length; i++) {
      const value = statValue(stat, row[i]!);
      if (value === undefined) continue;
      sink.out.put(row[0], value, dir.name);
      break;
    }
  }
}

/** Usage minus inactive file cache, floored at 0: cAdvisor's and the kubelet's working set. */
function workingSet(usage: bigint | undefined, inactiveFile: bigint | undefined): bigint | undefined {
  if (usage === undefined || inactiveFile === undefined) return undefined;
  return usage > inactiveFile ? usage - inactiveFile : 0n;
}

/**
 * The lines of memory.stat this pass needs; undefined when the cgroup has no such file. When no
 * line is needed the file is not read, yet an empty map still says the controller is there (the
 * cgroup2 root has no other memory file, and its id.container is served all the same).
 */
function memoryStatOf(dir: CgroupDir, sink: CgroupSink): Map<string, bigint> | undefined {
  const { lines } = sink.memoryStat;
  if (lines.size > 0) return dir.keyed('memory.stat', lines);
  return dir.offers('memory.stat') ? new Map() : undefined;
}

/** v1 memory controller. */
export function memoryFromV1(dir: CgroupDir, sink: CgroupSink): void {
  const { out } = sink;
  const name = dir.name;
  const stat = memoryStatOf(dir, sink);
  const usage = dir.integer('memory.usage_in_bytes');
  const limit = dir.integer('memory.limit_in_bytes');
  const failcnt = dir.integer('memory.failcnt');
  const maxUsage = dir.integer('memory.max_usage_in_bytes');
  // memsw exists only with swap accounting; it counts memory plus swap.
  const memswUsage = dir.integer('memory.memsw.usage_in_bytes');
  const oom = dir.keyed('memory.oom_control');
  // Nothing read: no memory controller here, the cgroup went, or nobody wants these files.
  if ([stat, usage, limit, failcnt, maxUsage, memswUsage, oom].every((v) => v === undefined)) return;

  if (usage !== undefined) {
    out.put('cgroup.memory.usage', usage, name);
    out.put('cgroup.memory.current', usage, name);
  }
  if (limit !== undefined) {
    out.put('cgroup.memory.limit', limit, name);
    out.put('cgroup.memory.max', limit, name);
  }
  if (failcnt !== undefined) {
    out.put('cgroup.memory.failcnt', failcnt, name);
    out.put('cgroup.memory.events.max', failcnt, name);
  }
  if (maxUsage !== undefined) out.put('cgroup.memory.max_usage', maxUsage, name);
  if (stat) putMemoryStat(dir, sink, stat);
  const ws = workingSet(usage, stat?.get('total_inactive_file'));
  if (ws !== undefined) out.put('cgroup.memory.working_set', ws, name);
  if (memswUsage !== undefined && usage !== undefined) {
    out.put('cgroup.memory.swap.current', memswUsage > usage ? memswUsage - usage : 0n, name);
  }
  const underOom = oom?.get('under_oom');
  const oomKill = oom?.get('oom_kill');
  if (underOom !== undefined) out.put('cgroup.memory.under_oom', underOom, name);
  if (oomKill !== undefined) out.put('cgroup.memory.events.oom_kill', oomKill, name);
  sink.putContainer('cgroup.memory.id.container', name);
}

const MEMORY_EVENTS: ReadonlyArray<readonly [key: string, metric: string]> = [
  ['low', 'cgroup.memory.events.low'],
  ['high', 'cgroup.memory.events.high'],
  ['max', 'cgroup.memory.events.max'],
  ['oom', 'cgroup.memory.events.oom'],
  ['oom_kill', 'cgroup.memory.events.oom_kill'],
  ['oom_group_kill', 'cgroup.memory.events.oom_group_kill'],
];

/** cgroup2 memory controller (the root cgroup has only memory.stat of these). */
export function memoryFromV2(dir: CgroupDir, sink: CgroupSink): void {
  const { out } = sink;
  const name = dir.name;
  const stat = memoryStatOf(dir, sink);
  const current = dir.integer('memory.current');
  const max = dir.single('memory.max');
  const high = dir.single('memory.high');
  const swapCurrent = dir.integer('memory.swap.current');
  const swapMax = dir.single('memory.swap.max');
  const peak = dir.integer('memory.peak');
  const events = dir.keyed('memory.events');
  if ([stat, current, max, high, swapCurrent, swapMax, peak, events].every((v) => v === undefined)) return;

  if (current !== undefined) {
    out.put('cgroup.memory.current', current, name);
    out.put('cgroup.memory.usage', current, name);
  }
  if (max !== undefined) {
    out.put('cgroup.memory.limit', bytesOf(max), name);
    out.put('cgroup.memory.max', bytesOf(max), name);
  }
  if (high !== undefined) out.put('cgroup.memory.high', bytesOf(high), name);
  if (swapCurrent !== undefined) out.put('cgroup.memory.swap.current', swapCurrent, name);
  if (swapMax !== undefined) out.put('cgroup.memory.swap.max', bytesOf(swapMax), name);
  if (peak !== undefined) out.put('cgroup.memory.max_usage', peak, name);
  if (events) {
    for (const [key, metric] of MEMORY_EVENTS) {
      const value = events.get(key);
      if (value !== undefined) out.put(metric, value, name);
    }
    // v2's "max" event is v1's failcnt: usage was about to pass the limit.
    const hitMax = events.get('max');
    if (hitMax !== undefined) out.put('cgroup.memory.failcnt', hitMax, name);
  }
  if (stat) {
    // v2 memory.stat has no swap line; memory.swap.current is the same quantity.
    if (swapCurrent !== undefined && !stat.has('swap')) stat.set('swap', swapCurrent);
    putMemoryStat(dir, sink, stat);
  }
  const ws = workingSet(current, stat?.get('inactive_file'));
  if (ws !== undefined) out.put('cgroup.memory.working_set', ws, name);
  sink.putContainer('cgroup.memory.id.container', name);
}

/** `hugetlb.2MB.usage_in_bytes` (v1), `hugetlb.2MB.current` (v2); not `.rsvd.` or limits. */
const HUGETLB_USAGE = /^hugetlb\.(\d+[KMG]B)\.(?:usage_in_bytes|current)$/;

/** hugetlb usage per page size, v1 or v2: instance `<cgroup>::<size>`. */
export function hugetlbFrom(dir: CgroupDir, sink: CgroupSink): void {
  for (const [file, size] of hugetlbFiles(dir.files)) {
    const usage = dir.integer(file);
    if (usage !== undefined) sink.out.put('cgroup.hugetlb.usage', usage, `${dir.name}::${size}`);
  }
}

/** hugetlb usage files and their page sizes, by file set: cgroups share their sets (walkCgroups). */
const hugetlbFilesOf = new WeakMap<ReadonlySet<string>, ReadonlyArray<readonly [file: string, size: string]>>();

/** Matched once per set, not every file name of every cgroup against HUGETLB_USAGE each pass. */
function hugetlbFiles(files: ReadonlySet<string>): ReadonlyArray<readonly [string, string]> {
  let found = hugetlbFilesOf.get(files);
  if (found === undefined) {
    found = [...files].flatMap((file) => {
      const size = HUGETLB_USAGE.exec(file)?.[1];
      return size === undefined ? [] : [[file, size] as const];
    });
    hugetlbFilesOf.set(files, found);
  }
  return found;
}
