import type { SampleWriter } from '../store/sample.js';
import type { MemoryStatPlan } from './cgroup-memory.js';
import type { PressureRow } from './cgroup-pressure.js';

/** Where the cgroup readers put values, with the lookups they share within one pass. */
export interface CgroupSink {
  out: SampleWriter;
  /** The container id for a cgroup's `*.id.container` metrics; `''` when it is not a container. */
  containerOf(cgroup: string): string;
  /** The block device name (`vda`) for `major:minor`, as per-device instance names use it. */
  deviceName(majorMinor: string): string;
  /** The memory.stat lines this pass needs. */
  memoryStat: MemoryStatPlan;
  /** The PSI lines and values this pass needs. */
  pressure: readonly PressureRow[];
}
