import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';

/** v1 net_cls: the class id the cgroup's packets are tagged with (no v2 equivalent). */
export function netclassFromV1(dir: CgroupDir, sink: CgroupSink): void {
  const classid = dir.integer('net_cls.classid');
  if (classid === undefined) return;
  sink.out.put('cgroup.netclass.classid', classid, dir.name);
  sink.putContainer('cgroup.netclass.id.container', dir.name);
}
