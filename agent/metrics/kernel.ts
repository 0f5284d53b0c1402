import type { MetricFamily } from './table.js';

/** From /proc/uptime, /proc/sys/kernel and the distribution's release file; as PCP's linux PMDA has them. */
export const kernelFamily: MetricFamily = {
  metrics: [
    { name: 'kernel.all.uptime', pmid: '60.26.0', type: 'double', sem: 'instant', units: 'sec', indom: null,
      oneline: 'time the current kernel has been running' },
    { name: 'kernel.all.idletime', pmid: '60.26.1', type: 'double', sem: 'instant', units: 'sec', indom: null,
      oneline: 'time the current kernel has been idle since boot' },
    { name: 'kernel.uname.release', pmid: '60.12.0', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'release level of the running kernel',
      help: `Release level of the running kernel as reported via the release[]
value returned from uname(2) or uname -r.` },
    { name: 'kernel.uname.version', pmid: '60.12.1', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'version level (build number) and build date of the running kernel',
      help: `Version level of the running kernel as reported by the version[]
value returned from uname(2) or uname -v.  Usually a build number
followed by a build date.` },
    { name: 'kernel.uname.sysname', pmid: '60.12.2', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'name of the implementation of the operating system',
      help: `Name of the implementation of the running operating system as reported
by the sysname[] value returned from uname(2) or uname -s.  Usually
"Linux".` },
    { name: 'kernel.uname.machine', pmid: '60.12.3', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'name of the hardware type the system is running on',
      help: `Name of the hardware type the system is running on as reported by the machine[]
value returned from uname(2) or uname -m, e.g. "i686".` },
    { name: 'kernel.uname.nodename', pmid: '60.12.4', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'host name of this node on the network',
      help: `Name of this node on the network as reported by the nodename[]
value returned from uname(2) or uname -n.  Usually a synonym for
the host name.` },
    { name: 'kernel.uname.distro', pmid: '60.12.7', type: 'string', sem: 'discrete', units: 'none', indom: null,
      oneline: 'Linux distribution name',
      help: `The Linux distribution name, as determined by a number of heuristics.
For example:
+ on Fedora, the contents of /etc/fedora-release
+ on RedHat, the contents of /etc/redhat-release` },
  ],
};
