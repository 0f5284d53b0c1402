import type { Collector } from '../collectors/types.js';
import type { MetricFamily } from '../metrics/table.js';
import type { History } from '../store/history.js';

/** The stream's and the history's own health, in Vigil's domain (500), clusters 60 and 61. */
export const streamFamily: MetricFamily = {
  indoms: [{ indom: '500.60', oneline: 'stream clients',
    help: 'One instance per connected /stream WebSocket client, named "#<serial> <address>:<port>"; it vanishes when the client disconnects.' }],
  metrics: [
    { name: 'vigil.stream.clients', pmid: '500.60.0', type: 'u32', sem: 'instant', units: 'count', indom: null,
      oneline: 'connected stream clients', help: 'WebSocket clients connected to /stream now.' },
    { name: 'vigil.stream.subscriptions', pmid: '500.60.1', type: 'u32', sem: 'instant', units: 'count', indom: null,
      oneline: 'stream subscriptions', help: 'Subscriptions of all connected stream clients.' },
    { name: 'vigil.stream.buffered', pmid: '500.60.2', type: 'u64', sem: 'instant', units: 'byte', indom: null,
      oneline: 'bytes queued for stream clients',
      help: 'Bytes the agent holds for all stream clients that their connections have not taken yet (WebSocket bufferedAmount). Bounded per client: a client behind by more than the limit is closed.' },
    { name: 'vigil.stream.dropped', pmid: '500.60.3', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'samples skipped for slow stream clients',
      help: 'Samples not sent to a client because it had not taken the previous ones; the client was sent a gap message instead.' },
    { name: 'vigil.stream.closed', pmid: '500.60.4', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'stream clients closed for being too slow or dead',
      help: 'Stream clients the agent disconnected: too far behind (close code 1008 or 1013) or not answering pings.' },
    { name: 'vigil.stream.sent', pmid: '500.60.5', type: 'u64', sem: 'counter', units: 'byte', indom: null,
      oneline: 'bytes sent to stream clients', help: 'Bytes of JSON messages handed to stream client connections.' },
    { name: 'vigil.stream.time', pmid: '500.60.6', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'time the agent spent serving stream clients',
      help: 'CPU time the agent spent on stream clients: turning samples into messages for them, back-fills and their requests. As a rate, the fraction of a CPU the stream costs.' },
    { name: 'vigil.stream.client.buffered', pmid: '500.60.10', type: 'u64', sem: 'instant', units: 'byte', indom: '500.60',
      oneline: 'bytes queued for this stream client', help: 'WebSocket bufferedAmount of this client: sent by the agent, not yet taken by the connection.' },
    { name: 'vigil.stream.client.dropped', pmid: '500.60.11', type: 'u64', sem: 'counter', units: 'count', indom: '500.60',
      oneline: 'samples skipped for this stream client', help: 'Samples not sent to this client because it was behind.' },
    { name: 'vigil.stream.client.subscriptions', pmid: '500.60.12', type: 'u32', sem: 'instant', units: 'count', indom: '500.60',
      oneline: 'subscriptions of this stream client', help: 'Subscriptions this client holds.' },
    { name: 'vigil.history.bytes', pmid: '500.61.0', type: 'u64', sem: 'instant', units: 'byte', indom: null,
      oneline: 'memory used by the sample history',
      help: 'Bytes the in-memory history takes: compressed values and times plus estimated object overhead. Capped by --history-memory.' },
    { name: 'vigil.history.series', pmid: '500.61.1', type: 'u32', sem: 'instant', units: 'count', indom: null,
      oneline: 'metric+instance series in the history', help: 'Series with values in the history, including vanished instances not yet expired.' },
    { name: 'vigil.history.values', pmid: '500.61.2', type: 'u64', sem: 'instant', units: 'count', indom: null,
      oneline: 'values held in the history', help: 'Values held in the history: one per series per sample.' },
    { name: 'vigil.history.evicted', pmid: '500.61.3', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'history chunks dropped for memory',
      help: 'Chunks of history dropped before --history elapsed because the history reached --history-memory.' },
  ],
};

/** What the stats collector reads from one connected client. */
export interface ClientGauge {
  readonly name: string;
  readonly buffered: number;
  readonly dropped: bigint;
  readonly subscriptions: number;
}

/** Counters of the stream, shared by its plugin (which counts) and its collector (which reports). */
export class StreamStats {
  readonly clients = new Set<ClientGauge>();
  dropped = 0n;
  closed = 0n;
  sent = 0n;
  /** CPU microseconds spent in `timed` work. */
  time = 0n;

  /**
   * Runs synchronous stream work and adds the CPU time it took to `time`. CPU time, not wall
   * time: on a loaded host the main thread is preempted, and that is not the stream's cost.
   */
  timed<T>(work: () => T): T {
    const started = process.cpuUsage();
    try {
      return work();
    } finally {
      const used = process.cpuUsage(started);
      this.time += BigInt(used.user + used.system);
    }
  }
}

export function streamCollector(stats: StreamStats, history: History): Collector {
  return {
    name: 'stream',
    family: streamFamily,
    collect(out) {
      let buffered = 0;
      let subscriptions = 0;
      for (const client of stats.clients) {
        buffered += client.buffered;
        subscriptions += client.subscriptions;
        out.put('vigil.stream.client.buffered', BigInt(client.buffered), client.name);
        out.put('vigil.stream.client.dropped', client.dropped, client.name);
        out.put('vigil.stream.client.subscriptions', client.subscriptions, client.name);
      }
      out.put('vigil.stream.clients', stats.clients.size);
      out.put('vigil.stream.subscriptions', subscriptions);
      out.put('vigil.stream.buffered', BigInt(buffered));
      out.put('vigil.stream.dropped', stats.dropped);
      out.put('vigil.stream.closed', stats.closed);
      out.put('vigil.stream.sent', stats.sent);
      out.put('vigil.stream.time', stats.time);
      const h = history.stats();
      out.put('vigil.history.bytes', BigInt(h.bytes));
      out.put('vigil.history.series', h.series);
      out.put('vigil.history.values', BigInt(h.values));
      out.put('vigil.history.evicted', BigInt(h.evicted));
    },
  };
}
