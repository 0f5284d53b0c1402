import { EventEmitter } from 'node:events';
import { log } from '../log.js';
import { Slices } from '../slices.js';
import type { MetricTable } from '../metrics/table.js';
import { is64, type MetricDesc, type Value } from '../metrics/types.js';
import { codecFor, createEncoder, decodeRun, type Codec, type ValueEncoder } from './encoding.js';
import type { Sample } from './sample.js';

export interface HistoryOptions {
  /** How far back reads reach, in milliseconds. */
  retentionMs: number;
  /** Memory budget in bytes, counting encoded data plus estimated per-object overhead. */
  maxBytes: number;
  /** Samples per chunk, 1…255; the granularity of expiry. */
  chunkSamples?: number;
}

export interface HistoryQuery {
  metrics: readonly MetricDesc[];
  /** Window in epoch milliseconds, inclusive; clipped to the retention. */
  start: number;
  end: number;
  /** Which instances of a metric to include (instance is SINGULAR for a singular metric). */
  accept?: (desc: MetricDesc, instance: number, name: string | undefined) => boolean;
  /** Keep only samples whose sequence number is a multiple of this (a stream's `every`). */
  every?: number;
  /** At most this many values (series × times): the oldest times are dropped to fit. */
  maxValues?: number;
}

export interface HistorySeries {
  desc: MetricDesc;
  instance: number;
  /** The instance name; undefined for a singular metric. */
  name: string | undefined;
  /** One per window time; null where the series has no value. */
  values: Array<Value | null>;
}

export interface HistoryWindow {
  /** Sample times, epoch milliseconds with microsecond resolution, ascending. */
  times: number[];
  /** Sequence number of each time (the sampler's pass count since the history started). */
  seqs: number[];
  /** Series with at least one value in the window, in query metric order, then first-seen order. */
  series: HistorySeries[];
  /** True when maxValues cut off the oldest part of the window. */
  truncated: boolean;
}

export interface HistoryStats {
  series: number;
  chunks: number;
  /** Values stored (one per series per sample). */
  values: number;
  /** Encoded bytes: value bit streams and time columns. */
  encodedBytes: number;
  /** What the budget counts: encodedBytes plus estimated object overhead. */
  bytes: number;
  oldest: number | undefined;
  newest: number | undefined;
  /** Chunks dropped to stay within maxBytes (not counting expiry by age). */
  evicted: number;
}

/**
 * Estimated heap cost of the objects around the encoded bytes, measured with
 * process.memoryUsage on Node 20 (20 000 series: about 600 bytes each while a run is open):
 * a series with its map entries, an open run with its encoder and buffer, a sealed chunk's arrays.
 */
const SERIES_OVERHEAD = 250;
const RUN_OVERHEAD = 320;
const CHUNK_OVERHEAD = 1200;
/** Per run in a sealed chunk: series id, start, count, codec, offset. */
const SEALED_RUN_BYTES = 11;

export const DEFAULT_HISTORY_MS = 15 * 60_000;
export const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;

const CODECS: readonly Codec[] = ['int', 'float', 'text'];
/** Values or series handled between two steps of a sliced record or seal (tens of microseconds). */
const STEP = 256;

/** Whole bytes that `bits` bits take. */
const bytesOf = (bits: number): number => (bits + 7) >>> 3;

/** A sample's time as history keeps it: epoch milliseconds rounded to the microsecond. */
export const historyTime = (ms: number): number => Math.round(ms * 1000) / 1000;

interface Series {
  readonly id: number;
  readonly desc: MetricDesc;
  readonly instance: number;
  readonly name: string | undefined;
  /** Runs of this series in sealed chunks: when it drops to 0 with no open data, the series is forgotten. */
  sealedRuns: number;
  /**
   * The run being written in the open chunk, from `start`. Sealing a chunk empties the run
   * (count 0) for the next chunk rather than dropping it, so that a series reuses one encoder
   * and buffer for its whole life instead of garbage per chunk.
   */
  open: { start: number; encoder: ValueEncoder } | undefined;
  /** The sample of the series' latest value. */
  lastSeq: number;
}

interface FinishedRun {
  start: number;
  /** Samples spanned, gaps included. */
  count: number;
  /** Values, gaps excluded. */
  values: number;
  codec: Codec;
  bytes: Uint8Array;
}

/** The chunk being written. */
class OpenChunk {
  readonly times = createEncoder('int');
  firstTime = NaN;
  lastTime = NaN;
  /** Runs that ended inside this chunk (the series went missing), by series id. */
  readonly finished = new Map<number, FinishedRun[]>();
  finishedBytes = 0;

  constructor(readonly firstSeq: number) {}

  get count(): number {
    return this.times.count;
  }
}

/** A full chunk, immutable: runs sorted by series id, packed into `data`. */
class SealedChunk {
  readonly bytes: number;
  readonly encodedBytes: number;

  constructor(
    readonly firstSeq: number,
    readonly count: number,
    readonly firstTime: number,
    readonly lastTime: number,
    readonly times: Uint8Array,
    readonly series: Uint32Array,
    readonly starts: Uint8Array,
    readonly counts: Uint8Array,
    readonly codecs: Uint8Array,
    /** Byte offset of each run in `data`, plus the end. */
    readonly offsets: Uint32Array,
    readonly data: Uint8Array,
    /** Values held, gaps excluded. */
    readonly values: number,
  ) {
    this.encodedBytes = data.length + times.length;
    this.bytes = this.encodedBytes + series.length * SEALED_RUN_BYTES + CHUNK_OVERHEAD;
  }

  /** Index of the first run of a series, or -1. */
  firstRun(seriesId: number): number {
    let lo = 0;
    let hi = this.series.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.series[mid]! < seriesId) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.series.length && this.series[lo] === seriesId ? lo : -1;
  }
}

type Chunk = OpenChunk | SealedChunk;

/**
 * Recent history of every sampled metric+instance, compressed in memory (see encoding.ts).
 *
 * Time is cut into chunks of up to `chunkSamples` consecutive samples. A chunk holds the sample
 * times once (delta-of-delta, microseconds) and, per series, the runs of values it had in
 * those samples, so a series never repeats the time column. A chunk is sealed when full: its
 * runs are packed into one byte array with small typed-array indexes, which costs a few bytes
 * per series per chunk instead of an object each. History expires a whole sealed chunk at a
 * time, by age (`retentionMs`) and then by memory (`maxBytes`, oldest first). A series whose
 * last run expired (its instance vanished long enough ago) is forgotten entirely.
 */
export class History extends EventEmitter<{ record: [Sample, number] }> {
  readonly retentionMs: number;
  readonly maxBytes: number;
  private readonly chunkSamples: number;
  private readonly byMetric = new Map<string, Map<number, Series>>();
  private readonly byId = new Map<number, Series>();
  private readonly openSeries = new Set<Series>();
  private readonly sealed: SealedChunk[] = [];
  private chunk: OpenChunk;
  private nextSeq = 0;
  private nextSeriesId = 0;
  private sealedBytes = 0;
  private sealedEncodedBytes = 0;
  private sealedValues = 0;
  /** Of the open runs: buffer bytes plus overhead (what the budget counts), values, and bytes written. */
  private openBytes = 0;
  private openValues = 0;
  private openEncodedBytes = 0;
  private evicted = 0;
  private warnedBudget = false;
  private latestTime: number | undefined;
  /** The latest recordSliced, which the next one waits for. */
  private recordedSliced: Promise<unknown> = Promise.resolve();
  /** recordSliced calls not yet finished. */
  private slicedRecords = 0;

  constructor(
    private readonly table: MetricTable,
    options: HistoryOptions,
  ) {
    super();
    this.retentionMs = options.retentionMs;
    this.maxBytes = options.maxBytes;
    this.chunkSamples = options.chunkSamples ?? 120;
    if (!(this.chunkSamples >= 1 && this.chunkSamples <= 255)) throw new Error(`chunkSamples ${this.chunkSamples} is not in 1…255`);
    this.chunk = new OpenChunk(0);
  }

  /** Time of the latest recorded sample (epoch ms), undefined before the first. */
  get newest(): number | undefined {
    return this.latestTime;
  }

  /** Appends one sample at once; emits 'record' with it and its sequence number. */
  record(sample: Sample): number {
    if (this.slicedRecords > 0) throw new Error('History.record called while a sliced record is under way; await recordSliced instead');
    const steps = this.recordSteps(sample);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * record(), giving the event loop a turn whenever `slices` says so: a pass records tens of
   * thousands of values (and packs a whole chunk every `chunkSamples` passes), which is too
   * long for a request to wait. Samples are recorded in the order of the calls. A read during
   * the record sees the history as it was before the sample, never part of it: the sample's
   * time is appended last, and reads clip open runs to the times recorded.
   */
  recordSliced(sample: Sample, slices: { next(): Promise<void> } = new Slices()): Promise<number> {
    this.slicedRecords++;
    const recorded = this.recordedSliced.then(async () => {
      try {
        const steps = this.recordSteps(sample);
        for (let step = steps.next(); ; step = steps.next()) {
          if (step.done) return step.value;
          await slices.next();
        }
      } finally {
        this.slicedRecords--;
      }
    });
    this.recordedSliced = recorded.catch(() => undefined);
    return recorded;
  }

  /** Records a sample, yielding where a sliced record may give the event loop a turn. */
  private *recordSteps(sample: Sample): Generator<void, number> {
    if (this.chunk.count === this.chunkSamples) yield* this.seal();
    const seq = this.nextSeq++;
    const time = historyTime(sample.time);
    // Series new in this sample join the history when it is recorded, so no read sees them before.
    const born: Series[] = [];
    let appended = 0;

    for (const [metric, values] of sample.values) {
      const desc = this.table.metric(metric);
      if (!desc) continue;
      let instances = this.byMetric.get(metric);
      if (!instances) this.byMetric.set(metric, (instances = new Map()));
      // forEach rather than for…of: no [key, value] array per value, tens of thousands per pass.
      values.forEach((value, instance) => {
        let series = instances.get(instance);
        if (!series) {
          const name = desc.indom === null ? undefined : sample.instanceName(desc.indom, instance);
          series = { id: this.nextSeriesId++, desc, instance, name, sealedRuns: 0, open: undefined, lastSeq: -1 };
          born.push(series);
        }
        this.append(series, seq, value);
      });
      // A step per STEP values rather than per metric: most metrics have a handful of values.
      const before = appended;
      appended += values.size;
      if (Math.floor(appended / STEP) !== Math.floor(before / STEP)) yield;
    }

    // The sample's time and new series go in last: until then reads do not see the sample.
    for (const series of born) {
      this.byMetric.get(series.desc.name)!.set(series.instance, series);
      this.byId.set(series.id, series);
    }
    const chunk = this.chunk;
    if (chunk.count === 0) chunk.firstTime = time;
    chunk.lastTime = time;
    chunk.times.append(BigInt(Math.round(sample.time * 1000)));
    this.latestTime = time;

    this.expire(time);
    this.emit('record', sample, seq);
    return seq;
  }

  /** Appends a value to a series' open run, keeping the open runs' totals up to date. */
  private append(series: Series, seq: number, value: Value): void {
    const lastSeq = series.lastSeq;
    series.lastSeq = seq;
    const run = series.open;
    if (run && run.encoder.count === 0) {
      // Emptied when the previous chunk was sealed: a run starts here, in the codec this value wants.
      const codec = codecFor(value);
      const capacity = run.encoder.writer.capacity;
      if (run.encoder.codec !== codec) run.encoder = createEncoder(codec);
      run.start = seq;
      run.encoder.append(value);
      this.openBytes += run.encoder.writer.capacity - capacity;
      this.openEncodedBytes += bytesOf(run.encoder.writer.length);
      this.openValues++;
      return;
    }
    if (run && run.encoder.accepts(value)) {
      const writer = run.encoder.writer;
      const capacity = writer.capacity;
      const length = writer.length;
      // A series missing from some samples kept its run open: back in the same chunk (a
      // collector late for a pass), the gap costs a few bits instead of a fresh run.
      if (seq - lastSeq > 1) run.encoder.skip(seq - lastSeq - 1);
      run.encoder.append(value);
      this.openBytes += writer.capacity - capacity;
      this.openEncodedBytes += bytesOf(writer.length) - bytesOf(length);
      this.openValues++;
      return;
    }
    if (run) this.finishRun(series);
    const encoder = createEncoder(codecFor(value));
    encoder.append(value);
    series.open = { start: seq, encoder };
    this.openSeries.add(series);
    this.openBytes += encoder.writer.capacity + RUN_OVERHEAD;
    this.openEncodedBytes += bytesOf(encoder.writer.length);
    this.openValues++;
  }

  /** Takes an open run out of the open runs' totals, before it is finished or emptied. */
  private uncount(run: NonNullable<Series['open']>): void {
    this.openValues -= run.encoder.count - run.encoder.skipped;
    this.openEncodedBytes -= bytesOf(run.encoder.writer.length);
  }

  private finishRun(series: Series): void {
    const run = series.open!;
    const finished: FinishedRun = {
      start: run.start,
      count: run.encoder.count,
      values: run.encoder.count - run.encoder.skipped,
      codec: run.encoder.codec,
      bytes: run.encoder.writer.view().slice(),
    };
    let runs = this.chunk.finished.get(series.id);
    if (!runs) this.chunk.finished.set(series.id, (runs = []));
    runs.push(finished);
    this.chunk.finishedBytes += finished.bytes.length + RUN_OVERHEAD;
    this.openBytes -= run.encoder.writer.capacity + RUN_OVERHEAD;
    this.uncount(run);
    series.open = undefined;
    this.openSeries.delete(series);
  }

  /**
   * Packs the open chunk into a sealed one and starts the next. Open runs are copied straight
   * from their encoders; the chunk stays as it was until the sealed one replaces it, so a read
   * between two steps sees it whole. Then the encoders are emptied for the next chunk (reads
   * skip the new chunk until it has a sample), and a series that had no value in this whole
   * chunk lets its encoder go.
   */
  private *seal(): Generator<void, void> {
    const chunk = this.chunk;
    // Runs are packed in series id order, which is byId's: ids only grow and a series joins
    // byId when it is born.
    const owners: Series[] = [];
    let runCount = 0;
    let dataLength = 0;
    let values = 0;
    let step = 0;
    for (const series of this.byId.values()) {
      const finished = chunk.finished.get(series.id);
      const open = series.open !== undefined && series.open.encoder.count > 0 ? series.open : undefined;
      if (finished === undefined && open === undefined) continue;
      owners.push(series);
      for (const run of finished ?? []) {
        runCount++;
        dataLength += run.bytes.length;
        values += run.values;
      }
      if (open) {
        runCount++;
        dataLength += open.encoder.writer.view().length;
        values += open.encoder.count - open.encoder.skipped;
      }
      if (++step % STEP === 0) yield;
    }
    const series = new Uint32Array(runCount);
    const starts = new Uint8Array(runCount);
    const counts = new Uint8Array(runCount);
    const codecs = new Uint8Array(runCount);
    const offsets = new Uint32Array(runCount + 1);
    const data = new Uint8Array(dataLength);
    let r = 0;
    let offset = 0;
    const pack = (id: number, run: Omit<FinishedRun, 'values'>): void => {
      series[r] = id;
      starts[r] = run.start - chunk.firstSeq;
      counts[r] = run.count;
      codecs[r] = CODECS.indexOf(run.codec);
      offsets[r] = offset;
      data.set(run.bytes, offset);
      offset += run.bytes.length;
      r++;
    };
    for (const owner of owners) {
      const first = r;
      for (const run of chunk.finished.get(owner.id) ?? []) pack(owner.id, run);
      const open = owner.open;
      if (open && open.encoder.count > 0) {
        pack(owner.id, { start: open.start, count: open.encoder.count, codec: open.encoder.codec, bytes: open.encoder.writer.view() });
      }
      owner.sealedRuns += r - first;
      if (++step % STEP === 0) yield;
    }
    offsets[runCount] = offset;
    const sealed = new SealedChunk(
      chunk.firstSeq, chunk.count, chunk.firstTime, chunk.lastTime,
      chunk.times.writer.view().slice(), series, starts, counts, codecs, offsets, data, values,
    );
    this.sealed.push(sealed);
    this.sealedBytes += sealed.bytes;
    this.sealedEncodedBytes += sealed.encodedBytes;
    this.sealedValues += sealed.values;
    this.chunk = new OpenChunk(chunk.firstSeq + chunk.count);
    for (const owner of this.openSeries) {
      const open = owner.open!;
      if (open.encoder.count > 0) {
        this.uncount(open);
        open.encoder.reset();
      } else {
        this.openBytes -= open.encoder.writer.capacity + RUN_OVERHEAD;
        owner.open = undefined;
        this.openSeries.delete(owner);
        // Its sealed chunks may all have expired while the emptied run still held it.
        if (owner.sealedRuns === 0) this.forget(owner);
      }
      if (++step % STEP === 0) yield;
    }
  }

  private expire(now: number): void {
    const cutoff = now - this.retentionMs;
    while (this.sealed.length > 0 && this.sealed[0]!.lastTime < cutoff) this.dropOldest();
    while (this.bytes > this.maxBytes && this.sealed.length > 0) {
      this.dropOldest();
      this.evicted++;
    }
    if (this.bytes > this.maxBytes && !this.warnedBudget) {
      this.warnedBudget = true;
      log.warn('the history memory budget is smaller than the latest samples of every series; history keeps only those', {
        budget: this.maxBytes, needed: this.bytes, hint: 'raise --history-memory',
      });
    }
  }

  private dropOldest(): void {
    const chunk = this.sealed.shift()!;
    this.sealedBytes -= chunk.bytes;
    this.sealedEncodedBytes -= chunk.encodedBytes;
    this.sealedValues -= chunk.values;
    for (const id of chunk.series) {
      const series = this.byId.get(id)!;
      if (--series.sealedRuns > 0 || series.open || this.chunk.finished.has(id)) continue;
      this.forget(series);
    }
  }

  /** Drops a series that has no value left in the history. */
  private forget(series: Series): void {
    this.byId.delete(series.id);
    const instances = this.byMetric.get(series.desc.name)!;
    instances.delete(series.instance);
    if (instances.size === 0) this.byMetric.delete(series.desc.name);
  }

  get bytes(): number {
    return (
      this.sealedBytes + this.openBytes + this.chunk.finishedBytes + this.chunk.times.writer.capacity +
      this.byId.size * SERIES_OVERHEAD
    );
  }

  stats(): HistoryStats {
    let values = this.sealedValues;
    let encodedBytes = this.sealedEncodedBytes + Math.ceil(this.chunk.times.writer.length / 8);
    for (const runs of this.chunk.finished.values()) {
      for (const run of runs) {
        values += run.values;
        encodedBytes += run.bytes.length;
      }
    }
    // Until the open chunk has a sample, its runs hold only what a seal under way has packed already.
    if (this.chunk.count > 0) {
      values += this.openValues;
      encodedBytes += this.openEncodedBytes;
    }
    return {
      series: this.byId.size,
      chunks: this.sealed.length + 1,
      values,
      encodedBytes,
      bytes: this.bytes,
      oldest: this.sealed[0]?.firstTime ?? (this.chunk.count > 0 ? this.chunk.firstTime : undefined),
      newest: this.latestTime,
      evicted: this.evicted,
    };
  }

  /** A window of history in columns: one time array, one value array per series. */
  read(query: HistoryQuery): HistoryWindow {
    const every = query.every ?? 1;
    const start = Math.max(query.start, (this.latestTime ?? 0) - this.retentionMs);
    const chunks: Chunk[] = [...this.sealed, this.chunk];
    const times: number[] = [];
    const seqs: number[] = [];
    /** Per chunk in range: sample index in the chunk → index in `times`, or -1. */
    const slots = new Map<Chunk, Int32Array>();
    for (const chunk of chunks) {
      if (chunk.count === 0 || chunk.lastTime < start || chunk.firstTime > query.end) continue;
      const slot = new Int32Array(chunk.count).fill(-1);
      const decoded = decodeRun('int', chunk instanceof SealedChunk ? chunk.times : chunk.times.writer.view(), chunk.count, true);
      for (let i = 0; i < chunk.count; i++) {
        const time = Number(decoded[i] as bigint) / 1000;
        const seq = chunk.firstSeq + i;
        if (time < start || time > query.end || seq % every !== 0) continue;
        slot[i] = times.length;
        times.push(time);
        seqs.push(seq);
      }
      slots.set(chunk, slot);
    }

    const candidates: Series[] = [];
    for (const desc of query.metrics) {
      for (const series of this.byMetric.get(desc.name)?.values() ?? []) {
        if (!query.accept || query.accept(desc, series.instance, series.name)) candidates.push(series);
      }
    }

    let truncated = false;
    if (query.maxValues !== undefined && candidates.length * times.length > query.maxValues) {
      const keep = Math.max(1, Math.floor(query.maxValues / Math.max(1, candidates.length)));
      const cut = times.length - keep;
      times.splice(0, cut);
      seqs.splice(0, cut);
      for (const slot of slots.values()) for (let i = 0; i < slot.length; i++) slot[i] = slot[i]! >= cut ? slot[i]! - cut : -1;
      truncated = true;
    }

    const series: HistorySeries[] = [];
    for (const candidate of candidates) {
      const values: Array<Value | null> = new Array(times.length).fill(null);
      let any = false;
      const wide = is64(candidate.desc.type);
      for (const [chunk, slot] of slots) {
        for (const run of this.runsOf(candidate, chunk)) {
          const decoded = decodeRun(run.codec, run.bytes, run.count, wide);
          const base = run.start - chunk.firstSeq;
          for (let i = 0; i < run.count; i++) {
            const at = slot[base + i]!;
            const value = decoded[i]!;
            if (at < 0 || value === null) continue;
            values[at] = value;
            any = true;
          }
        }
      }
      if (any) series.push({ desc: candidate.desc, instance: candidate.instance, name: candidate.name, values });
    }
    return { times, seqs, series, truncated };
  }

  private runsOf(series: Series, chunk: Chunk): Array<Omit<FinishedRun, 'values'>> {
    if (chunk instanceof SealedChunk) {
      const runs: Array<Omit<FinishedRun, 'values'>> = [];
      for (let r = chunk.firstRun(series.id); r >= 0 && r < chunk.series.length && chunk.series[r] === series.id; r++) {
        runs.push({
          start: chunk.firstSeq + chunk.starts[r]!,
          count: chunk.counts[r]!,
          codec: CODECS[chunk.codecs[r]!]!,
          bytes: chunk.data.subarray(chunk.offsets[r]!, chunk.offsets[r + 1]!),
        });
      }
      return runs;
    }
    const runs: Array<Omit<FinishedRun, 'values'>> = [...(chunk.finished.get(series.id) ?? [])];
    const open = series.open;
    // A sliced record appends values before their time: only the recorded samples count.
    const count = open ? Math.min(open.encoder.count, chunk.firstSeq + chunk.count - open.start) : 0;
    if (count > 0) runs.push({ start: open!.start, count, codec: open!.encoder.codec, bytes: open!.encoder.writer.view() });
    return runs;
  }
}
