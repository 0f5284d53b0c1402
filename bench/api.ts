/**
 * Scenario 2 — API under load, with wrk (closed loop, keep-alive): the Vector host dashboard
 * fetch (30 metrics) and the grafana-pcp container dashboard fetch, through both dialects, agent
 * vs pmproxy on the same names over ONE connection each (pmproxy 6.0.3 segfaults with two or
 * more concurrent connections), then the agent alone with 8 and 64 connections.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { servedNames, startAgentProcess, type AgentProcess } from './agent.js';
import { BenchCgroups, round, sleep, table, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';
import { PMPROXY, pcpNames, pmapiContext, startPcp } from './pcp.js';

const HOST_30 = readFileSync('/work/shared/pcp/tools/host-30-metrics.txt', 'utf8').split('\n').filter(Boolean);
const CONTAINER = [
  'cgroup.cpuacct.usage', 'cgroup.memory.usage',
  'cgroup.blkio.all.throttle.io_serviced.read', 'cgroup.blkio.all.throttle.io_serviced.write',
  'cgroup.blkio.all.throttle.io_service_bytes.read', 'cgroup.blkio.all.throttle.io_service_bytes.write',
];

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** `wrk --latency` on one URL; latencies in ms; errors = non-2xx responses + socket errors. */
function wrk(url: string, connections: number, seconds: number): WrkResult {
  const threads = Math.min(2, connections);
  const out = execFileSync('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const ms = (label: string): number => {
    const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    if (!m) throw new Error(`wrk printed no ${label}% latency:\n${out}`);
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  };
  const rps = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
  return { rps: round(rps, 0), p50: round(ms('50'), 3), p99: round(ms('99'), 3), errors };
}

export async function apiBench(options: BenchOptions): Promise<ScenarioResult> {
  const seconds = options.quick ? 4 : 8;
  const cgroups = await BenchCgroups.create(100);
  const pcp = startPcp();
  let agent: AgentProcess | undefined;
  const rows: Array<Record<string, string | number>> = [];
  const verdicts: Verdict[] = [];
  try {
    agent = await startAgentProcess(['--interval', '1s']);
    await sleep(2000);
    const known = pcpNames();
    const served = new Set(await servedNames(agent.url));
    const [agentCtx, pcpCtx] = [await pmapiContext(agent.url), await pmapiContext(PMPROXY)];
    for (const [workload, all] of [['Vector host dashboard', HOST_30], ['grafana-pcp containers', CONTAINER]] as const) {
      const names = all.filter((n) => known.has(n) && served.has(n)).join(',');
      const run = (server: string, dialect: string, url: string, connections: number): WrkResult => {
        const r = wrk(url, connections, seconds);
        rows.push({ workload, server, dialect, connections, metrics: names.split(',').length, ...r });
        console.log(`  ${workload}, ${server} ${dialect} ×${connections}: ${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.errors} errors`);
        return r;
      };
      const pm = run('pmproxy', 'native', `${PMPROXY}/pmapi/fetch?context=${pcpCtx}&names=${names}`, 1);
      const native = run('vigil', 'native', `${agent.url}/pmapi/fetch?context=${agentCtx}&names=${names}`, 1);
      const compat = run('vigil', 'pmwebd', `${agent.url}/pmapi/${agentCtx}/_fetch?names=${names}`, 1);
      for (const [dialect, r] of [['native', native], ['pmwebd', compat]] as const) {
        verdicts.push(verdict(`${workload} fetch, ${dialect}, 1 connection: req/s vs pmproxy`, r.rps / pm.rps, 2, '× pmproxy', false));
        verdicts.push(verdict(`${workload} fetch, ${dialect}, 1 connection: p99 vs pmproxy`, r.p99 / pm.p99, 1, '× pmproxy p99'));
      }
      for (const connections of [8, 64]) {
        const r = run('vigil', 'native', `${agent.url}/pmapi/fetch?context=${agentCtx}&names=${names}`, connections);
        verdicts.push(verdict(`${workload} fetch, ${connections} connections: req/s vs pmproxy on 1`, r.rps / pm.rps, 2, '× pmproxy', false));
        verdicts.push(verdict(`${workload} fetch, ${connections} connections: errors`, r.errors, 0, 'errors'));
      }
    }
  } finally {
    await agent?.stop();
    pcp.stop();
    await cgroups.destroy();
  }
  const markdown = [
    `wrk ${seconds} s per row, closed loop over keep-alive connections on 127.0.0.1 (client, agent and PCP share the 2 cores), with 100 bench cgroups present; the agent samples at 1 s. pmproxy is only ever driven with one connection (6.0.3 segfaults with two or more), and only speaks the native dialect; \`pmwebd\` is Vigil's \`/pmapi/N/_fetch\`. Names both servers know: the Vector host dashboard's 30 (/work/shared/pcp/tools/host-30-metrics.txt) and grafana-pcp's container dashboard (${CONTAINER.join(', ')}).`,
    '',
    table(['workload', 'server', 'dialect', 'connections', 'metrics', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
      rows.map((r) => [r.workload!, r.server!, r.dialect!, r.connections!, r.metrics!, r.rps!, r.p50!, r.p99!, r.errors!])),
  ].join('\n');
  return { figures: { seconds, rows }, markdown, verdicts };
}
