import { discoveryFor, type Container } from '../containers/discovery.js';
import { containerNetworkFamily } from '../metrics/containers.js';
import type { Value } from '../metrics/types.js';
import { collectNetwork } from './network.js';
import { readLinkOptional } from './read.js';
import type { Collector, Roots } from './types.js';

const PREFIX = 'containers.';

/**
 * `containers.network.*`: each running container's network namespace, read by the same code
 * as the host's (`collectNetwork`) through `/proc/<member pid>/net`, and kept per container:
 * an interface as `<container-id>::<interface>`, a namespace-wide value under the container id.
 * Containers sharing a namespace (a pod's) are read once.
 */
export function containerNetworkCollector(roots: Roots): Collector {
  const discovery = discoveryFor(roots);
  const mirrored = new Set(containerNetworkFamily.metrics.map((m) => m.name.slice(PREFIX.length)));
  return {
    name: 'container-network',
    family: containerNetworkFamily,
    async collect(out, ctx) {
      const byNamespace = new Map<string, Container[]>();
      for (const c of await discovery.refresh(ctx)) {
        if (c.pid === undefined) continue;
        const ns = readLinkOptional(`${roots.procfs}/${c.pid}/ns/net`, ctx);
        if (ns === undefined) continue;
        const members = byNamespace.get(ns);
        if (members) members.push(c);
        else byNamespace.set(ns, [c]);
      }
      for (const members of byNamespace.values()) {
        const rows: Array<[string, Value, string | undefined]> = [];
        collectNetwork(`${roots.procfs}/${members[0]!.pid}/net`, {
          put: (metric, value, instance) => {
            if (mirrored.has(metric)) rows.push([metric, value, instance]);
          },
        }, ctx, { prefix: PREFIX });
        for (const c of members) {
          for (const [metric, value, instance] of rows) {
            out.put(`${PREFIX}${metric}`, value, instance === undefined ? c.id : `${c.id}::${instance}`);
          }
        }
      }
    },
  };
}
