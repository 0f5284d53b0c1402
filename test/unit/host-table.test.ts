import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { collectorFactories, createCollectors } from '../../agent/collectors/index.js';
import { MetricTable } from '../../agent/metrics/table.js';
import { selfFamily } from '../../agent/sampler.js';

const PCP = new URL('../fixtures/pcp/', import.meta.url);

/** The host collectors this file vouches for (help texts); the descriptor check covers every collector. */
const HOST = ['stat', 'kernel', 'pmcd', 'pressure', 'meminfo', 'vmstat', 'disk', 'network'];

interface PcpDesc {
  pmid: string;
  indom: string | null;
  type: string;
  sem: string;
  units: string;
  oneline: string;
}

/** all-metrics-desc.tsv: PCP 6.0.3's descriptors on this host, as /pmapi/metric served them. */
function pcpDescriptors(): Map<string, PcpDesc> {
  const rows = readFileSync(new URL('all-metrics-desc.tsv', PCP), 'utf8').trim().split('\n').slice(1);
  return new Map(rows.map((row) => {
    const [name, pmid, indom, type, sem, units, , oneline] = row.split('\t') as string[];
    return [name!, { pmid: pmid!, indom: indom === 'PM_INDOM_NULL' ? null : indom!, type: type!, sem: sem!, units: units!, oneline: oneline! }];
  }));
}

/** `pminfo -dT` output: metric → its Help: text. */
function pcpHelp(): Map<string, string> {
  const text = readFileSync(new URL('host-metrics-pminfo-dT.txt', PCP), 'utf8');
  const help = new Map<string, string>();
  for (const block of text.split(/\n(?=\n\S)/)) {
    const lines = block.trim().split('\n');
    const at = lines.indexOf('Help:');
    if (at > 0) help.set(lines[0]!.trim(), lines.slice(at + 1).join('\n').trimEnd());
  }
  return help;
}

/** The agent's whole namespace, as agent.ts builds it; constructing it also proves no two families clash. */
function agentTable(): MetricTable {
  return new MetricTable([selfFamily, ...createCollectors({ procfs: '/proc', sysfs: '/sys' }).map((c) => c.family)]);
}

test('every metric PCP also has carries PCP\'s pmid, indom, type, semantics and units (all collectors)', () => {
  const pcp = pcpDescriptors();
  const table = agentTable();
  let compared = 0;
  for (const metric of table.all()) {
    const theirs = pcp.get(metric.name);
    if (!theirs) continue;
    compared++;
    assert.deepEqual(
      { pmid: metric.pmid, indom: metric.indom, type: metric.type, sem: metric.sem, units: metric.units },
      { pmid: theirs.pmid, indom: theirs.indom, type: theirs.type, sem: theirs.sem, units: theirs.units },
      metric.name,
    );
  }
  assert.ok(compared >= 690, `compared ${compared} metrics`);
});

test('host metrics have PCP\'s one-line help, its long help where pminfo -dT shows one, and PCP\'s indom texts', () => {
  const pcp = pcpDescriptors();
  const help = pcpHelp();
  const host = createCollectors({ procfs: '/proc', sysfs: '/sys' }, HOST);
  let longHelps = 0;
  for (const metric of host.flatMap((c) => c.family.metrics)) {
    assert.ok(pcp.has(metric.name), `${metric.name} is a PCP metric`);
    assert.equal(metric.oneline, pcp.get(metric.name)!.oneline, metric.name);
    const theirs = help.get(metric.name);
    if (theirs === undefined) continue;
    longHelps++;
    assert.equal(metric.help ?? metric.oneline, theirs, metric.name);
  }
  assert.ok(longHelps >= 60, `checked ${longHelps} long help texts`);
  const indoms = new Map(host.flatMap((c) => c.family.indoms ?? []).map((i) => [i.indom, i.oneline]));
  assert.deepEqual(Object.fromEntries(indoms), {
    '60.0': 'set of all processors',
    '60.1': 'set of all disks',
    '60.3': 'set of network interfaces',
    '60.37': 'pressure time averages for 10 seconds, 1 minute and 5 minutes',
  });
});

test('the host metrics of Vector\'s widgets and grafana-pcp\'s host dashboards are all served', () => {
  // CLIENTS.md §1.7 (Vector 1.x), §1.8 (Vector 2.x), §2.8 (grafana-pcp Host Overview and checklists);
  // kernel.cpu.util.* and disk.dev.util there are PCP derived metrics (domain 511), not agent metrics.
  const required = [
    'kernel.all.cpu.user', 'kernel.all.cpu.sys', 'kernel.all.cpu.nice', 'kernel.all.cpu.idle', 'kernel.all.cpu.intr',
    'kernel.all.cpu.wait.total', 'kernel.all.cpu.steal', 'kernel.percpu.cpu.user', 'kernel.percpu.cpu.sys',
    'kernel.percpu.cpu.idle', 'hinv.ncpu', 'kernel.all.load', 'kernel.all.runnable', 'kernel.all.pswitch',
    'mem.physmem', 'mem.util.used', 'mem.util.free', 'mem.util.cached', 'mem.util.bufmem', 'mem.util.available',
    'mem.vmstat.pgfault', 'mem.vmstat.pgmajfault', 'mem.vmstat.pgsteal_direct', 'mem.vmstat.pgsteal_kswapd',
    'mem.vmstat.pgscan_direct', 'mem.vmstat.pgscan_kswapd', 'mem.vmstat.thp_fault_alloc', 'swap.pagesout',
    'network.interface.in.bytes', 'network.interface.out.bytes', 'network.interface.in.packets',
    'network.interface.out.packets', 'network.interface.in.drops', 'network.interface.out.drops',
    'network.interface.in.errors', 'network.interface.out.errors', 'network.interface.baudrate',
    'network.tcpconn.established', 'network.tcpconn.time_wait', 'network.tcpconn.close_wait',
    'network.tcp.retranssegs', 'network.tcp.timeouts', 'network.tcp.listendrops', 'network.tcp.listenoverflows',
    'network.tcp.fastretrans', 'network.tcp.slowstartretrans', 'network.tcp.synretrans',
    'disk.dev.read', 'disk.dev.write', 'disk.dev.total', 'disk.dev.read_bytes', 'disk.dev.write_bytes',
    'disk.dev.total_bytes', 'disk.dev.avactive', 'disk.dev.read_rawactive', 'disk.dev.write_rawactive',
    'pmcd.hostname', 'pmcd.version',
  ];
  const table = agentTable();
  assert.deepEqual(required.filter((name) => !table.metric(name)), []);
  for (const name of HOST) assert.ok(collectorFactories[name], `collector ${name} is registered`);
});
