import type { MetricFamily } from '../metrics/table.js';
import type { SampleWriter } from '../store/sample.js';

/** Where the collectors find the kernel: the host's, or a fixture tree's, or the host's mounted into a container. */
export interface Roots {
  /** Mount point of procfs (`--procfs`). */
  procfs: string;
  /** Mount point of sysfs (`--sysfs`). */
  sysfs: string;
  /**
   * The host's filesystem root, under which container engines keep their state
   * (`/run/runc`, `/var/lib/containers`, `/var/run/docker.sock`); '/' by default.
   */
  root?: string;
}

/** Things a collector may report about its own health besides throwing. */
export interface CollectContext {
  /**
   * Whether anyone wants this metric in this pass (the agent collects on demand): a collector
   * skips files whose metrics nobody wants. Writing an unwanted metric is harmless.
   */
  wants(metric: string): boolean;
  /**
   * A file could not be read for a reason that will not go away by itself (EACCES on
   * /proc/1/ns is normal here). Counted every time, logged once per key.
   */
  unreadable(key: string, error: unknown): void;
}

/**
 * One source of metrics (node_exporter's collector idea): declares its metric family as
 * data and fills a sample on demand. Collectors own their I/O; parsing is in `parsers/`.
 */
export interface Collector {
  readonly name: string;
  readonly family: MetricFamily;
  /** Runs every pass even when none of its metrics is wanted (others depend on what it learns). */
  readonly always?: boolean;
  collect(out: SampleWriter, ctx: CollectContext): void | Promise<void>;
}
