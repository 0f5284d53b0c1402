import type { MetricFamily } from './table.js';

/**
 * Processes, under PCP's pmdaproc names (domain 3, indom 3.9): instance names are
 * `<pid zero-padded to 6> <first word of psargs>` and the instance id is the pid itself.
 * `proc.id.container` ties each process to the container (instance of indom 1.0) it runs in.
 */
export const procFamily: MetricFamily = {
  indoms: [
    { indom: '3.9', oneline: 'all current processes',
      help: 'One instance per process, named like `015809 /bin/sh` (pid padded to six digits, then the first word of its command line); the instance id is the pid.',
      idFromName: (name) => {
        const pid = parseInt(name, 10);
        return Number.isSafeInteger(pid) ? pid : undefined;
      } },
  ],
  metrics: [
    { name: 'proc.nprocs', pmid: '3.8.99', type: 'u32', sem: 'instant', units: 'none', indom: null,
      oneline: 'instantaneous number of processes' },
    { name: 'proc.psinfo.pid', pmid: '3.8.0', type: 'u32', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'process identifier' },
    { name: 'proc.psinfo.cmd', pmid: '3.8.1', type: 'string', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'command name' },
    { name: 'proc.psinfo.psargs', pmid: '3.8.41', type: 'string', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'full command string' },
    { name: 'proc.psinfo.sname', pmid: '3.8.2', type: 'string', sem: 'instant', units: 'none', indom: '3.9',
      oneline: 'process state identifier (see ps(1)). See also proc.runq metrics.' },
    { name: 'proc.psinfo.ppid', pmid: '3.8.3', type: 'u32', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'parent process identifier' },
    { name: 'proc.psinfo.utime', pmid: '3.8.13', type: 'u64', sem: 'counter', units: 'millisec', indom: '3.9',
      oneline: 'time (in ms) spent executing user code since process started' },
    { name: 'proc.psinfo.stime', pmid: '3.8.14', type: 'u64', sem: 'counter', units: 'millisec', indom: '3.9',
      oneline: 'time (in ms) spent executing system code (calls) since process started' },
    { name: 'proc.psinfo.priority', pmid: '3.8.17', type: '32', sem: 'instant', units: 'none', indom: '3.9',
      oneline: 'scheduling priority value' },
    { name: 'proc.psinfo.nice', pmid: '3.8.18', type: '32', sem: 'instant', units: 'none', indom: '3.9',
      oneline: 'process nice value (negative nice values are lower priority)' },
    { name: 'proc.psinfo.start_time', pmid: '3.8.21', type: 'u64', sem: 'discrete', units: 'millisec', indom: '3.9',
      oneline: 'start time of the process relative to system boot time (in ms)' },
    { name: 'proc.psinfo.vsize', pmid: '3.8.22', type: 'u64', sem: 'instant', units: 'Kbyte', indom: '3.9',
      oneline: 'virtual size of the process in Kbytes' },
    { name: 'proc.psinfo.rss', pmid: '3.8.23', type: 'u64', sem: 'instant', units: 'Kbyte', indom: '3.9',
      oneline: 'resident set size (i.e. physical memory) of the process' },
    { name: 'proc.psinfo.processor', pmid: '3.8.38', type: 'u32', sem: 'instant', units: 'none', indom: '3.9',
      oneline: 'last CPU the process was running on' },
    { name: 'proc.psinfo.threads', pmid: '3.24.28', type: 'u32', sem: 'instant', units: 'none', indom: '3.9',
      oneline: 'number of threads (from /proc/<pid>/status)' },
    { name: 'proc.psinfo.cgroups', pmid: '3.11.0', type: 'string', sem: 'instant', units: 'none', indom: '3.9',
      oneline: 'list of processes cgroups (from /proc/<pid>/cgroup)' },
    { name: 'proc.id.container', pmid: '3.11.1', type: 'string', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'name of processes container (from /proc/<pid>/cgroup heuristics)',
      help: 'Id of the container the process runs in (an instance name of containers.name), or empty for a process of the host.' },
    { name: 'proc.id.uid', pmid: '3.24.0', type: 'u32', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'real user ID from /proc/<pid>/status' },
    { name: 'proc.memory.vmrss', pmid: '3.24.22', type: 'u32', sem: 'instant', units: 'Kbyte', indom: '3.9',
      oneline: 'resident virtual memory (from /proc/<pid>/status)' },
    { name: 'proc.memory.vmsize', pmid: '3.24.20', type: 'u32', sem: 'instant', units: 'Kbyte', indom: '3.9',
      oneline: 'total virtual memory (from /proc/<pid>/status)' },
    { name: 'proc.fd.count', pmid: '3.51.0', type: 'u32', sem: 'instant', units: 'count', indom: '3.9',
      oneline: 'open file descriptors' },
    { name: 'proc.namespaces.pid', pmid: '3.24.38', type: 'string', sem: 'discrete', units: 'none', indom: '3.9',
      oneline: 'descendant namespace process ID hierarchy (/proc/<pid>/status)',
      help: 'The process id in each nested pid namespace, from the host\'s down to its own, space separated (NSpid in /proc/<pid>/status): `4242 1` is pid 1 of a container.' },
  ],
};
