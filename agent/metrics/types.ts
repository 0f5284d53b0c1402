/**
 * The vocabulary of PCP metric metadata, as pmproxy prints it.
 * Types and semantics are the lower-case strings pmproxy emits (not the man page's upper case).
 */

export type MetricType = '32' | 'u32' | '64' | 'u64' | 'float' | 'double' | 'string';
export type Semantics = 'counter' | 'instant' | 'discrete';

/**
 * A metric value. 64-bit integer types are always bigint so that counters past 2^53
 * (nanosecond CPU time) stay exact from the kernel file to the JSON on the wire.
 */
export type Value = number | bigint | string;

export interface MetricDesc {
  /** Full PMNS name, e.g. `kernel.all.cpu.user`. */
  name: string;
  /** `domain.cluster.item`. PCP's own pmid wherever PCP has the metric. */
  pmid: string;
  type: MetricType;
  sem: Semantics;
  /** PCP unit string as pmUnitsStr prints it: `millisec`, `Kbyte`, `count / sec`, `none`. */
  units: string;
  /** `domain.serial` of the instance domain, or null for a singular metric. */
  indom: string | null;
  oneline: string;
  /** Long help; defaults to the one-line text, as pmproxy does when there is none. */
  help?: string;
}

export interface IndomDesc {
  /** `domain.serial`. */
  indom: string;
  oneline: string;
  help?: string;
  /**
   * Instances whose ids PCP fixes (load average 1/5/15, PSI 10/60/300): name → id.
   * Other names get ids from the domain's allocator.
   */
  fixed?: ReadonlyArray<readonly [number, string]>;
  /** Derive the id from the name (percpu `cpu3` → 3), as the PMDA does. */
  idFromName?: (name: string) => number | undefined;
  /**
   * Indoms that name the same objects share one allocator so that an object keeps one id
   * everywhere (every cgroup family's indom gives `/docker/abc` the same id, as pmdaproc does).
   */
  allocator?: string;
}

export const is64 = (t: MetricType): boolean => t === 'u64' || t === '64';
export const isInteger = (t: MetricType): boolean => t !== 'float' && t !== 'double' && t !== 'string';
