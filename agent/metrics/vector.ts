import type { MetricFamily } from './table.js';

/**
 * Netflix Vector's flame-graph trigger, as its PMDA declared it (domain 146, VECTOR in PCP's
 * stdpmid; string, singular, discrete). Answered per client context by the profiler
 * (agent/api/profiling.ts), never from the sample.
 */
export const vectorTaskFamily: MetricFamily = {
  metrics: [
    { name: 'vector.task.cpuflamegraph', pmid: '146.0.0', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'CPU flame graph of the host or of the context\'s container: store seconds to start, fetch for status',
      help: 'Storing a number of seconds (digits only; empty means 60, more than 60 is capped) starts a perf CPU '
        + 'profile of the whole host, or of the container selected for this context (pmcd.client.container), at 49 Hz. '
        + 'Fetching reports IDLE, REQUESTED (waiting for a free profiling slot), the progress, "ERROR <reason>", or '
        + '"DONE flamegraphs/cpuflamegraph.<id>.svg": the flame graph is then served at that path of this agent. '
        + 'One profile per context at a time; a second store while one runs fails with "Try again".' },
  ],
};
