import { discoveryFor } from '../containers/discovery.js';
import { containersFamily } from '../metrics/containers.js';
import { readLinkOptional, readOptional } from './read.js';
import type { Collector, Roots } from './types.js';

const NAMESPACES = ['net', 'pid', 'uts', 'mnt', 'ipc', 'cgroup'] as const;

/** `containers.*`: every container discovery finds, its state, cgroup, hostname and namespaces. */
export function containersCollector(roots: Roots): Collector {
  const discovery = discoveryFor(roots);
  return {
    name: 'containers',
    // Container names and cgroups are what every container selector resolves against.
    always: true,
    family: containersFamily,
    async collect(out, ctx) {
      for (const c of await discovery.refresh(ctx)) {
        out.put('containers.engine', c.engine, c.id);
        out.put('containers.name', c.name, c.id);
        out.put('containers.state.running', c.running ? 1 : 0, c.id);
        out.put('containers.state.paused', c.paused ? 1 : 0, c.id);
        out.put('containers.state.restarting', c.restarting ? 1 : 0, c.id);
        out.labels?.('1.0', c.id, c.labels);
        // As pmdaroot: a container that is not running has no pid and no cgroup.
        if (c.cgroup) out.put('containers.cgroup', c.cgroup, c.id);
        if (c.pid === undefined) continue;
        out.put('containers.pid', c.pid, c.id);
        for (const kind of NAMESPACES) {
          const inode = /\[(\d+)\]/.exec(readLinkOptional(`${roots.procfs}/${c.pid}/ns/${kind}`, ctx) ?? '')?.[1];
          if (inode) out.put(`containers.ns.${kind}`, Number(inode), c.id);
        }
        // Without entering its UTS namespace, the engine's record or the container's own /etc/hostname tells.
        const hostname = c.hostname ?? readOptional(`${roots.procfs}/${c.pid}/root/etc/hostname`, ctx)?.trim();
        if (hostname) out.put('containers.hostname', hostname, c.id);
      }
    },
  };
}
