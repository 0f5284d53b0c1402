import { networkFamily } from './network.js';
import type { MetricFamily } from './table.js';
import type { IndomDesc, MetricDesc } from './types.js';

/**
 * Containers (Vigil's discovery), with their names and states under PCP's pmdaroot names
 * (domain 1, indom 1.0, instance name = the engine's container id), plus what PCP only shows
 * inside a container context: UTS hostname and namespace ids (domain 500, cluster 40).
 */
export const containersIndom: IndomDesc = {
  indom: '1.0', oneline: 'containers', allocator: 'containers',
  help: 'Containers found on this host by any engine (Docker, podman, containerd, CRI-O, runc, crun, LXC, systemd) or by the cgroup naming conventions alone; instance names are container ids.',
};

const ns = (kind: string, item: number, what: string): MetricDesc => ({
  name: `containers.ns.${kind}`, pmid: `500.40.${item}`, type: 'u32', sem: 'discrete', units: 'none', indom: '1.0',
  oneline: `${what} namespace id of each running container`,
  help: `Inode number of the container's ${what} namespace (/proc/<pid>/ns/${kind} of a member process). Containers sharing a namespace (the containers of a Kubernetes pod share net, ipc and uts) show the same number; a container showing the host's number shares the host's.`,
});

export const containersFamily: MetricFamily = {
  indoms: [containersIndom],
  metrics: [
    { name: 'containers.engine', pmid: '1.0.0', type: 'string', sem: 'discrete', units: 'none', indom: '1.0',
      oneline: 'technology backing each container (e.g. docker)' },
    { name: 'containers.name', pmid: '1.0.1', type: 'string', sem: 'instant', units: 'none', indom: '1.0',
      oneline: 'mapping of unique container IDs to human-readable names' },
    { name: 'containers.pid', pmid: '1.0.2', type: 'u32', sem: 'instant', units: 'none', indom: '1.0',
      oneline: 'process identifier for each containers initial process' },
    { name: 'containers.state.running', pmid: '1.0.3', type: 'u32', sem: 'instant', units: 'none', indom: '1.0',
      oneline: 'this container is currently running (one/zero)' },
    { name: 'containers.state.paused', pmid: '1.0.4', type: 'u32', sem: 'instant', units: 'none', indom: '1.0',
      oneline: 'this container is currently paused (one/zero)' },
    { name: 'containers.state.restarting', pmid: '1.0.5', type: 'u32', sem: 'instant', units: 'none', indom: '1.0',
      oneline: 'this container is restarting (one/zero)' },
    { name: 'containers.cgroup', pmid: '1.0.6', type: 'string', sem: 'discrete', units: 'none', indom: '1.0',
      oneline: 'path mapping container names to their cgroups' },
    { name: 'containers.hostname', pmid: '500.40.0', type: 'string', sem: 'discrete', units: 'none', indom: '1.0',
      oneline: 'UTS hostname of each running container',
      help: 'The hostname inside the container: what its engine configured (docker Config.Hostname, the OCI bundle or runc state), else its /etc/hostname. pmcd.hostname in a context scoped to the container answers with this.' },
    ns('net', 1, 'network'),
    ns('pid', 2, 'pid'),
    ns('uts', 3, 'UTS'),
    ns('mnt', 4, 'mount'),
    ns('ipc', 5, 'IPC'),
    ns('cgroup', 6, 'cgroup'),
  ],
};

/**
 * Each container's own network namespace, under the host metric's name prefixed with
 * `containers.` (so a context scoped to a container serves them back under the host names):
 * interfaces in cluster 41 (instances `<container-id>::<interface>`), TCP in clusters 42 and
 * 43 (instances = container ids, ids shared with indom 1.0).
 */
export const containerInterfaceIndom: IndomDesc = {
  indom: '500.41', oneline: 'network interfaces of containers',
  help: 'One instance per interface inside each running container network namespace, named `<container-id>::<interface>` (the interface name as the container sees it, e.g. eth0).',
};
export const containerNetnsIndom: IndomDesc = {
  indom: '500.42', oneline: 'containers with a network namespace', allocator: 'containers',
  help: 'Running containers, named by container id like indom 1.0 and with the same instance ids, for metrics read from the container network namespace.',
};

const INTERFACE = ['in.bytes', 'in.packets', 'in.errors', 'in.drops', 'out.bytes', 'out.packets', 'out.errors', 'out.drops'];
const TCP = [
  'retranssegs', 'fastretrans', 'slowstartretrans', 'synretrans', 'lostretransmit', 'timeouts',
  'activeopens', 'passiveopens', 'attemptfails', 'estabresets', 'currestab', 'insegs', 'outsegs', 'inerrs', 'outrsts',
  'listenoverflows', 'listendrops',
];
const TCPCONN = ['established', 'syn_sent', 'syn_recv', 'fin_wait1', 'fin_wait2', 'time_wait', 'close', 'close_wait', 'last_ack', 'listen', 'closing'];

function mirror(host: string, cluster: number, item: number, indom: string): MetricDesc {
  const desc = networkFamily.metrics.find((m) => m.name === host);
  if (!desc) throw new Error(`containers mirror ${host}, which the network family does not declare`);
  return {
    ...desc,
    name: `containers.${host}`,
    pmid: `500.${cluster}.${item}`,
    indom,
    oneline: `${desc.oneline} (per container)`,
    help: `${desc.help ?? desc.oneline}\n\nRead inside each container's network namespace (through /proc/<pid>/net of a member process).`,
  };
}

export const containerNetworkFamily: MetricFamily = {
  indoms: [containerInterfaceIndom, containerNetnsIndom],
  metrics: [
    ...INTERFACE.map((m, i) => mirror(`network.interface.${m}`, 41, i, '500.41')),
    ...TCP.map((m, i) => mirror(`network.tcp.${m}`, 42, i, '500.42')),
    ...TCPCONN.map((m, i) => mirror(`network.tcpconn.${m}`, 43, i, '500.42')),
  ],
};
