import type { SampleWriter } from '../store/sample.js';
import type { MemoryStatPlan } from './cgroup-memory.js';
import type { PressureRow } from './cgroup-pressure.js';

/** Where the cgroup readers put values, with the lookups they share within one pass. */
export interface CgroupSink {
  out: SampleWriter;
  /**
   * Puts a cgroup's container id (`''` when it is not a container) as `metric`, one of the
   * `*.id.container` metrics, if this pass wants it: the console wants none of the six, and
   * each cgroup would otherwise look its id up for every controller.
   */
  putContainer(metric: string, cgroup: string): void;
  /** The block device name (`vda`) for `major:minor`, as per-device instance names use it. */
  deviceName(majorMinor: string): string;
  /** The memory.stat lines this pass needs. */
  memoryStat: MemoryStatPlan;
  /** The PSI lines and values this pass needs. */
  pressure: readonly PressureRow[];
}
