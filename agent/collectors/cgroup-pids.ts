import { MAX } from '../parsers/cgroup-formats.js';
import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';

/** The pids controller, whose files are the same on v1 and v2: tasks now and their limit (-1: none). */
export function pidsFrom(dir: CgroupDir, sink: CgroupSink): void {
  const current = dir.integer('pids.current');
  const max = dir.single('pids.max');
  if (current !== undefined) sink.out.put('cgroup.pids.current', current, dir.name);
  if (max !== undefined) sink.out.put('cgroup.pids.max', max === MAX ? -1n : max, dir.name);
}
