/**
 * PCP's host-wide derived metrics that dashboards expect to exist on every host (pmcd loads
 * them from /etc/pcp/derived/*.conf; grafana-pcp's "PCP Vector: Host Overview" charts
 * `kernel.cpu.util.*` and `disk.dev.util`). Data only: name, PCP's pmid for it (domain 511,
 * as PCP numbers its global derived metrics), the expression in PCP's derived-metric language,
 * and help. The sampler evaluates them between consecutive samples.
 */
export interface DerivedDefinition {
  name: string;
  pmid: string;
  expr: string;
  oneline: string;
  help?: string;
}

const cpuUtil = (item: number, what: string, source: string, oneline: string): DerivedDefinition => ({
  name: `kernel.cpu.util.${what}`,
  pmid: `511.0.${item}`,
  expr: `(100 * rate(kernel.all.cpu.${source})) / hinv.ncpu`,
  oneline,
});

export const hostDerivedDefinitions: readonly DerivedDefinition[] = [
  cpuUtil(3, 'user', 'user', 'percentage of user time across all CPUs, including guest CPU time'),
  cpuUtil(4, 'nice', 'nice', 'percentage of nice user time across all CPUs, including guest nice CPU time'),
  cpuUtil(5, 'sys', 'sys', 'percentage of sys time across all CPUs'),
  cpuUtil(6, 'idle', 'idle', 'percentage of idle time across all CPUs'),
  cpuUtil(7, 'intr', 'intr', 'percentage of interrupt time across all CPUs'),
  cpuUtil(8, 'wait', 'wait.total', 'percentage of wait time across all CPUs'),
  cpuUtil(9, 'steal', 'steal', 'percentage of virtualization CPU steal time across all CPUs'),
  {
    name: 'disk.dev.avg_qlen', pmid: '511.0.21',
    expr: 'rate(disk.dev.read_rawactive) + rate(disk.dev.write_rawactive)',
    oneline: 'average read and write queue length',
  },
  {
    name: 'disk.dev.util', pmid: '511.0.26', expr: '100 * rate(disk.dev.avactive)',
    oneline: 'percentage of time device was busy processing requests',
  },
];
