import type { Kind } from './units.js';

/**
 * The host overview: Vector's default widget set (CPU, load, memory, paging, network, TCP,
 * disk) plus pressure, as data. A widget draws series of metrics; `series` entries expand to
 * one line per instance unless `instance` picks one. Values are converted to the widget's
 * `kind` from each metric's own units (counters are rated first).
 */
export type WidgetSeries =
  /** A metric as is (every instance, or one). */
  | { metric: string; label?: string; instance?: string }
  /** Per instance, the sum of several metrics (per-CPU busy = user + sys). */
  | { sum: readonly string[]; label?: string }
  /** Per instance, one rate divided by another (disk latency = active time ÷ operations). */
  | { ratio: readonly [string, string]; label?: string };

export interface Widget {
  id: string;
  group: 'CPU' | 'Memory' | 'Network' | 'Disk' | 'Pressure';
  title: string;
  kind: Kind;
  series: readonly WidgetSeries[];
  /** Divide by hinv.ncpu: host-wide CPU time counters as a fraction of the whole host. */
  perCpu?: boolean;
  /** Multiply after unit conversion (PSI's percent figures → fractions). */
  factor?: number;
  /** Fill under the lines, stacked. */
  stacked?: boolean;
  /**
   * Overlaid hosts: one line per host summing the instances (interfaces, disks), not one per
   * instance per host — twenty hosts' interfaces are unreadable, and the sum is what compares.
   */
  overlaySum?: boolean;
  /** Fixed upper bound of the y axis (utilization: 1 = 100 %). */
  max?: number;
  help: string;
}

export const WIDGETS: readonly Widget[] = [
  {
    id: 'cpu', group: 'CPU', title: 'CPU utilization', kind: 'percent', perCpu: true, stacked: true, max: 1,
    series: [
      { metric: 'kernel.all.cpu.user', label: 'user' },
      { metric: 'kernel.all.cpu.sys', label: 'sys' },
      { metric: 'kernel.all.cpu.wait.total', label: 'iowait' },
      { metric: 'kernel.all.cpu.steal', label: 'steal' },
    ],
    help: 'Share of all CPUs spent in user code, the kernel, waiting for I/O and stolen by the hypervisor (rate of kernel.all.cpu.* ÷ hinv.ncpu).',
  },
  {
    id: 'percpu', group: 'CPU', title: 'Per-CPU busy', kind: 'percent', max: 1,
    series: [{ sum: ['kernel.percpu.cpu.user', 'kernel.percpu.cpu.sys'] }],
    help: 'User + sys time of each CPU (kernel.percpu.cpu.user + .sys): one hot CPU hides in the total.',
  },
  {
    id: 'load', group: 'CPU', title: 'Load average', kind: 'number',
    series: [{ metric: 'kernel.all.load' }],
    help: '1, 5 and 15 minute load averages (kernel.all.load): runnable plus uninterruptible tasks.',
  },
  {
    id: 'runnable', group: 'CPU', title: 'Runnable and blocked', kind: 'number',
    series: [
      { metric: 'kernel.all.runnable', label: 'runnable' },
      { metric: 'kernel.all.blocked', label: 'blocked' },
    ],
    help: 'Tasks in the run queues now (kernel.all.runnable) and blocked on I/O (kernel.all.blocked).',
  },
  {
    id: 'pswitch', group: 'CPU', title: 'Context switches', kind: 'count/s',
    series: [
      { metric: 'kernel.all.pswitch', label: 'context switches' },
      { metric: 'kernel.all.intr', label: 'interrupts' },
    ],
    help: 'Context switches and interrupts per second (kernel.all.pswitch, kernel.all.intr).',
  },
  {
    id: 'memory', group: 'Memory', title: 'Memory', kind: 'bytes',
    series: [
      { metric: 'mem.util.used', label: 'used' },
      { metric: 'mem.util.cached', label: 'cached' },
      { metric: 'mem.util.free', label: 'free' },
      { metric: 'mem.util.available', label: 'available' },
    ],
    help: 'Used (includes cache), page cache, free and available memory from /proc/meminfo (mem.util.*).',
  },
  {
    id: 'paging', group: 'Memory', title: 'Page faults and swapping', kind: 'count/s',
    series: [
      { metric: 'mem.vmstat.pgfault', label: 'faults' },
      { metric: 'mem.vmstat.pgmajfault', label: 'major faults' },
      { metric: 'swap.pagesin', label: 'swap in' },
      { metric: 'swap.pagesout', label: 'swap out' },
    ],
    help: 'Page faults (major ones read from disk) and pages swapped per second (mem.vmstat.pg*fault, swap.pages*).',
  },
  {
    id: 'net-bytes', overlaySum: true, group: 'Network', title: 'Network throughput', kind: 'bytes/s',
    series: [
      { metric: 'network.interface.in.bytes', label: 'in' },
      { metric: 'network.interface.out.bytes', label: 'out' },
    ],
    help: 'Bytes received and sent per interface (network.interface.{in,out}.bytes).',
  },
  {
    id: 'net-packets', overlaySum: true, group: 'Network', title: 'Network packets', kind: 'count/s',
    series: [
      { metric: 'network.interface.in.packets', label: 'in' },
      { metric: 'network.interface.out.packets', label: 'out' },
    ],
    help: 'Packets received and sent per interface (network.interface.{in,out}.packets).',
  },
  {
    id: 'net-drops', overlaySum: true, group: 'Network', title: 'Drops and errors', kind: 'count/s',
    series: [
      { metric: 'network.interface.in.drops', label: 'in drops' },
      { metric: 'network.interface.out.drops', label: 'out drops' },
      { metric: 'network.interface.in.errors', label: 'in errors' },
      { metric: 'network.interface.out.errors', label: 'out errors' },
    ],
    help: 'Packets dropped and errors per interface and second.',
  },
  {
    id: 'retrans', group: 'Network', title: 'TCP retransmits and timeouts', kind: 'count/s',
    series: [
      { metric: 'network.tcp.retranssegs', label: 'retransmitted' },
      { metric: 'network.tcp.timeouts', label: 'timeouts' },
      { metric: 'network.tcp.listendrops', label: 'listen drops' },
      { metric: 'network.tcp.fastretrans', label: 'fast retrans' },
      { metric: 'network.tcp.slowstartretrans', label: 'slow start retrans' },
      { metric: 'network.tcp.synretrans', label: 'SYN retrans' },
    ],
    help: 'TCP segments retransmitted, timeouts and listen queue drops per second (network.tcp.*).',
  },
  {
    id: 'tcpconn', group: 'Network', title: 'TCP connections', kind: 'number',
    series: [
      { metric: 'network.tcpconn.established', label: 'established' },
      { metric: 'network.tcpconn.time_wait', label: 'time wait' },
      { metric: 'network.tcpconn.close_wait', label: 'close wait' },
    ],
    help: 'IPv4 TCP connections by state (network.tcpconn.*).',
  },
  {
    id: 'disk-iops', overlaySum: true, group: 'Disk', title: 'Disk IOPS', kind: 'count/s',
    series: [
      { metric: 'disk.dev.read', label: 'read' },
      { metric: 'disk.dev.write', label: 'write' },
    ],
    help: 'Read and write operations per device and second (disk.dev.read, disk.dev.write).',
  },
  {
    id: 'disk-bytes', overlaySum: true, group: 'Disk', title: 'Disk throughput', kind: 'bytes/s',
    series: [
      { metric: 'disk.dev.read_bytes', label: 'read' },
      { metric: 'disk.dev.write_bytes', label: 'write' },
    ],
    help: 'Bytes read and written per device and second (disk.dev.{read,write}_bytes).',
  },
  {
    id: 'disk-util', group: 'Disk', title: 'Disk utilization', kind: 'percent', max: 1,
    series: [{ metric: 'disk.dev.avactive' }],
    help: 'Share of time each device had I/O in flight (disk.dev.avactive).',
  },
  {
    id: 'disk-latency', overlaySum: true, group: 'Disk', title: 'Disk latency', kind: 'seconds',
    series: [
      { ratio: ['disk.dev.read_rawactive', 'disk.dev.read'], label: 'read' },
      { ratio: ['disk.dev.write_rawactive', 'disk.dev.write'], label: 'write' },
    ],
    help: 'Average time per read and per write (disk.dev.{read,write}_rawactive ÷ operations).',
  },
  {
    id: 'psi', group: 'Pressure', title: 'Pressure (10 s)', kind: 'percent', factor: 0.01, max: 1,
    series: [
      { metric: 'kernel.all.pressure.cpu.some.avg', label: 'cpu some', instance: '10 second' },
      { metric: 'kernel.all.pressure.memory.some.avg', label: 'memory some', instance: '10 second' },
      { metric: 'kernel.all.pressure.memory.full.avg', label: 'memory full', instance: '10 second' },
      { metric: 'kernel.all.pressure.io.some.avg', label: 'io some', instance: '10 second' },
      { metric: 'kernel.all.pressure.io.full.avg', label: 'io full', instance: '10 second' },
    ],
    help: 'Share of the last 10 s in which some (or all) tasks stalled waiting for CPU, memory or I/O (PSI, kernel.all.pressure.*).',
  },
];

/** Every metric a widget reads. */
export function widgetMetrics(widget: Widget): string[] {
  return widget.series.flatMap((s) => ('metric' in s ? [s.metric] : 'sum' in s ? [...s.sum] : [...s.ratio]));
}
