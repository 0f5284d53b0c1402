import type { MetricFamily } from './table.js';

/** The agent's own identity under pmcd's names (domain 2), which clients read to label a host. */
export const pmcdFamily: MetricFamily = {
  metrics: [
    { name: 'pmcd.hostname', pmid: '2.0.21', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'local hostname',
      help: `A reasonably unique identifier of the PMCD installation, for use
by pmlogger or other tools to identify the source principal of
the data (as distinct from identifying the connection/protocol
used to reach it).` },
    { name: 'pmcd.version', pmid: '2.0.7', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'PMCD version' },
  ],
};
