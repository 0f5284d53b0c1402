import type { MetricFamily } from './table.js';

/**
 * Per-client metrics of pmcd (domain 2) that the API answers from the client's own context
 * rather than from the sample: storing `pmcd.client.container` is how Vector scopes a context
 * to one container. Pmids, indom, type, sem and units as PCP 6.0.3 has them.
 */
export const pmcdClientFamily: MetricFamily = {
  indoms: [
    { indom: '2.6', oneline: 'client Instance Domain',
      help: 'One instance per PMAPI context of a client; the instance id and name are the context number.' },
  ],
  metrics: [
    { name: 'pmcd.client.container', pmid: '2.6.2', type: 'string', sem: 'instant', units: 'none', indom: '2.6',
      oneline: 'name of container (if any) being analysed',
      help: 'The name of the container (if any) associated with this context at the time of the fetch request. '
        + 'The container is chosen when the context is created (hostspec attribute container=NAME) or by storing '
        + 'a container name or id into this metric; storing an empty string selects the whole host again.' },
  ],
};
