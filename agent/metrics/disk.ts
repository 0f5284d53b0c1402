import type { MetricFamily } from './table.js';

/** From /proc/diskstats, /proc/partitions and /sys/block; as PCP's linux PMDA has them. */
export const diskFamily: MetricFamily = {
  indoms: [
    { indom: '60.1', oneline: 'set of all disks' },
  ],
  metrics: [
    { name: 'hinv.ndisk', pmid: '60.0.33', type: 'u32', sem: 'discrete', units: 'none', indom: null,
      oneline: 'number of disks in the system' },
    { name: 'disk.dev.read', pmid: '60.0.4', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk read operations',
      help: `Cumulative number of disk read operations since system boot time (subject
to counter wrap).` },
    { name: 'disk.dev.write', pmid: '60.0.5', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk write operations',
      help: `Cumulative number of disk write operations since system boot time (subject
to counter wrap).` },
    { name: 'disk.dev.total', pmid: '60.0.28', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk total (read+write) operations',
      help: `Cumulative number of disk read and write operations since system boot
time (subject to counter wrap).` },
    { name: 'disk.dev.blkread', pmid: '60.0.6', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk block read operations',
      help: `Cumulative number of disk block read operations since system boot time
(subject to counter wrap).` },
    { name: 'disk.dev.blkwrite', pmid: '60.0.7', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk block write operations',
      help: `Cumulative number of disk block write operations since system boot time
(subject to counter wrap).` },
    { name: 'disk.dev.blktotal', pmid: '60.0.36', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk total (read+write) block operations',
      help: `Cumulative number of disk block read and write operations since system
boot time (subject to counter wrap).` },
    { name: 'disk.dev.read_bytes', pmid: '60.0.38', type: 'u64', sem: 'counter', units: 'Kbyte', indom: '60.1',
      oneline: 'per-disk count of bytes read' },
    { name: 'disk.dev.write_bytes', pmid: '60.0.39', type: 'u64', sem: 'counter', units: 'Kbyte', indom: '60.1',
      oneline: 'per-disk count of bytes written' },
    { name: 'disk.dev.total_bytes', pmid: '60.0.40', type: 'u64', sem: 'counter', units: 'Kbyte', indom: '60.1',
      oneline: 'per-disk count of total bytes read and written' },
    { name: 'disk.dev.read_merge', pmid: '60.0.49', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk count of merged read requests',
      help: 'Count of read requests that were merged with an already queued read request.' },
    { name: 'disk.dev.write_merge', pmid: '60.0.50', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk count of merged write requests',
      help: 'Count of write requests that were merged with an already queued write request.' },
    { name: 'disk.dev.avactive', pmid: '60.0.46', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk count of active time',
      help: `Counts the number of milliseconds for which at least one I/O is in
progress for each device.` },
    { name: 'disk.dev.read_rawactive', pmid: '60.0.72', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk raw count of read response time',
      help: `For each completed read on each disk the response time (queue time plus
service time) in milliseconds is added to the associated instance of
this metric.` },
    { name: 'disk.dev.write_rawactive', pmid: '60.0.73', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk raw count of write response time',
      help: `For each completed write on each disk the response time (queue time plus
service time) in milliseconds is added to the associated instance of
this metric.` },
    { name: 'disk.dev.total_rawactive', pmid: '60.0.79', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk raw count of I/O response time',
      help: `For each completed I/O on each disk the response time (queue time plus
service time) in milliseconds is added to the associated instance of
this metric.` },
    { name: 'disk.dev.aveq', pmid: '60.0.47', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk time averaged count of request queue length',
      help: `When converted to a rate, this metric represents the time averaged disk
request queue length during the sampling interval.  A value of 2.5 (or 250%)
represents a time averaged queue length of 2.5 requests during the sampling
interval.` },
    { name: 'disk.dev.scheduler', pmid: '60.0.59', type: 'string', sem: 'discrete', units: 'none', indom: '60.1',
      oneline: 'per-disk I/O scheduler',
      help: `The name of the I/O scheduler in use for each device.  The scheduler
is part of the block layer in the kernel, and attempts to optimise the
I/O submission patterns using various techniques (typically, sorting
and merging adjacent requests into larger ones to reduce seek activity,
but certainly not limited to that).` },
    { name: 'disk.dev.capacity', pmid: '60.0.87', type: 'u64', sem: 'discrete', units: 'Kbyte', indom: '60.1',
      oneline: 'per-disk physical device capacity',
      help: 'Total space presented by each block device, from /proc/partitions.' },
    { name: 'disk.dev.discard', pmid: '60.0.88', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk discard operations',
      help: 'Cumulative number of disk discard operations since system boot time.' },
    { name: 'disk.dev.blkdiscard', pmid: '60.0.89', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk block discard operations',
      help: 'Cumulative number of disk block discard operations since system boot time.' },
    { name: 'disk.dev.discard_bytes', pmid: '60.0.90', type: 'u64', sem: 'counter', units: 'Kbyte', indom: '60.1',
      oneline: 'per-disk count of bytes discard\'ed' },
    { name: 'disk.dev.discard_merge', pmid: '60.0.91', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk count of merged discard requests',
      help: `Count of discard requests that were merged with an already queued discard
request.` },
    { name: 'disk.dev.discard_rawactive', pmid: '60.0.92', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk raw count of discard response time',
      help: `For each completed discard on each disk the response time (queue time plus
service time) in milliseconds is added to the associated instance of
this metric.
It is suitable mainly for use in calculations with other metrics,
e.g. mirroring the results from existing performance tools:

 iostat.dev.d_await = delta(disk.dev.discard_rawactive) / delta(disk.dev.discard)` },
    { name: 'disk.dev.flush', pmid: '60.0.93', type: 'u64', sem: 'counter', units: 'count', indom: '60.1',
      oneline: 'per-disk flush operations' },
    { name: 'disk.dev.flush_rawactive', pmid: '60.0.94', type: 'u32', sem: 'counter', units: 'millisec', indom: '60.1',
      oneline: 'per-disk raw count of flush response time',
      help: `For each completed flush on each disk the response time (queue time plus
service time) in milliseconds is added to the associated instance of
this metric.
It is suitable mainly for use in calculations with other metrics,
e.g. mirroring the results from existing performance tools:

 iostat.dev.f_await = delta(disk.dev.flush_rawactive) / delta(disk.dev.flush)` },
    { name: 'disk.dev.inflight', pmid: '60.0.95', type: 'u32', sem: 'instant', units: 'none', indom: '60.1',
      oneline: 'number of I/Os currently in flight',
      help: `This value counts the number of I/O requests that have been issued to
the device driver but have not yet completed.  It does not include I/O
requests that are in the queue but not yet issued to the device driver.` },
    { name: 'disk.all.read', pmid: '60.0.24', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total read operations, summed for all disks',
      help: `Cumulative number of disk read operations since system boot time
(subject to counter wrap), summed over all disk devices.` },
    { name: 'disk.all.write', pmid: '60.0.25', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total write operations, summed for all disks',
      help: `Cumulative number of disk read operations since system boot time
(subject to counter wrap), summed over all disk devices.` },
    { name: 'disk.all.total', pmid: '60.0.29', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total (read+write) operations, summed for all disks',
      help: `Cumulative number of disk read and write operations since system boot
time (subject to counter wrap), summed over all disk devices.` },
    { name: 'disk.all.blkread', pmid: '60.0.26', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'block read operations, summed for all disks',
      help: `Cumulative number of disk block read operations since system boot time
(subject to counter wrap), summed over all disk devices.` },
    { name: 'disk.all.blkwrite', pmid: '60.0.27', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'block write operations, summed for all disks',
      help: `Cumulative number of disk block write operations since system boot time
(subject to counter wrap), summed over all disk devices.` },
    { name: 'disk.all.blktotal', pmid: '60.0.37', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total (read+write) block operations, summed for all disks',
      help: `Cumulative number of disk block read and write operations since system
boot time (subject to counter wrap), summed over all disk devices.` },
    { name: 'disk.all.read_bytes', pmid: '60.0.41', type: 'u64', sem: 'counter', units: 'Kbyte', indom: null,
      oneline: 'count of bytes read for all disk devices' },
    { name: 'disk.all.write_bytes', pmid: '60.0.42', type: 'u64', sem: 'counter', units: 'Kbyte', indom: null,
      oneline: 'count of bytes written for all disk devices' },
    { name: 'disk.all.total_bytes', pmid: '60.0.43', type: 'u64', sem: 'counter', units: 'Kbyte', indom: null,
      oneline: 'total count of bytes read and written for all disk devices' },
    { name: 'disk.all.read_merge', pmid: '60.0.51', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total count of merged read requests, summed for all disks',
      help: 'Total count of read requests that were merged with an already queued read request.' },
    { name: 'disk.all.write_merge', pmid: '60.0.52', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total count of merged write requests, summed for all disks',
      help: 'Total count of write requests that were merged with an already queued write request.' },
    { name: 'disk.all.avactive', pmid: '60.0.44', type: 'u64', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'total count of active time, summed for all disks',
      help: `Counts the number of milliseconds for which at least one I/O is in
progress on each disk, summed across all disks.` },
    { name: 'disk.all.read_rawactive', pmid: '60.0.74', type: 'u64', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'raw count of read response time, summed for all disks',
      help: `For each completed read on every disk the response time (queue time plus
service time) in milliseconds is added to this metric.` },
    { name: 'disk.all.write_rawactive', pmid: '60.0.75', type: 'u64', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'raw count of write response time, summed for all disks',
      help: `For each completed write on every disk the response time (queue time
plus service time) in milliseconds is added to this metric.` },
    { name: 'disk.all.total_rawactive', pmid: '60.0.80', type: 'u64', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'raw count of I/O response time, summed for all disks',
      help: `For each completed I/O on every disk the response time (queue time
plus service time) in milliseconds is added to this metric.` },
    { name: 'disk.all.aveq', pmid: '60.0.45', type: 'u64', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'total time averaged count of request queue length, summed for all disks',
      help: `When converted to a rate, this metric represents the average across all disks
of the time averaged request queue length during the sampling interval.
A value of 1.5 (or 150%) suggests that (on average) over all disks there was
a time averaged queue length of 1.5 requests during the sampling interval.` },
    { name: 'disk.all.discard', pmid: '60.0.96', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total discard operations, summed for all disks' },
    { name: 'disk.all.blkdiscard', pmid: '60.0.97', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'block discard operations, summed for all disks' },
    { name: 'disk.all.discard_bytes', pmid: '60.0.98', type: 'u64', sem: 'counter', units: 'Kbyte', indom: null,
      oneline: 'count of discard bytes for all disk devices' },
    { name: 'disk.all.discard_merge', pmid: '60.0.99', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total count of merged discard requests, summed for all disks',
      help: `Total count of discard requests that were merged with an already queued
discard request.` },
    { name: 'disk.all.discard_rawactive', pmid: '60.0.100', type: 'u32', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'raw count of discard response time, summed for all disks',
      help: `For each discard on every disk the response time (queue time plus
service time) in milliseconds is added to this metric.` },
    { name: 'disk.all.flush', pmid: '60.0.101', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'total flush operations, summed for all disks' },
    { name: 'disk.all.flush_rawactive', pmid: '60.0.102', type: 'u32', sem: 'counter', units: 'millisec', indom: null,
      oneline: 'raw count of flush response time, summed for all disks',
      help: `For each flush on every disk the response time (queue time plus
service time) in milliseconds is added to this metric.` },
    { name: 'disk.all.inflight', pmid: '60.0.104', type: 'u64', sem: 'instant', units: 'none', indom: null,
      oneline: 'aggregate number of I/Os currently in flight',
      help: `This value counts the number of I/O requests that have been issued to
all device drivers but have not yet completed.  It does not include I/O
requests that are in the queue but not yet issued to device drivers.` },
  ],
};
