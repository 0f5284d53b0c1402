import type { MetricDesc, Value } from '../metrics/types.js';
import type { HistoryWindow } from '../store/history.js';
import { deliveryOf, rateColumn, type Delivery } from '../store/rate.js';

/**
 * JSON text of the stream dialect (docs/STREAM.md), written by hand: JSON.stringify cannot print
 * a bigint, and the columnar messages are built from arrays without per-point objects.
 */

export const PROTOCOL_VERSION = 1;

/**
 * A value exactly: 64-bit integers as decimal strings (always, whatever their size, so a client
 * never guesses), other numbers in JavaScript's shortest round-trip form, NaN/±Infinity and
 * missing values as null. Unlike the pmapi dialect, floats are not reprinted as `%.8g`.
 */
export function wireValue(value: Value | null | undefined): string {
  switch (typeof value) {
    case 'bigint':
      return `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
      return JSON.stringify(value);
    default:
      return 'null';
  }
}

/** A column (or one sample's row) of values. */
function wireValues(values: ReadonlyArray<Value | null | undefined>): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i ? ',' : '') + wireValue(values[i]);
  return out + ']';
}

/** Times in epoch milliseconds; fractional digits carry the microseconds. */
function wireTimes(times: readonly number[]): string {
  return `[${times.join(',')}]`;
}

/**
 * A metric's metadata with the fields and order pmapi's /pmapi/metric serves (no `indom` for a
 * singular metric; `text-help` repeats the one-line text when there is no long help), plus what
 * the stream delivers for it.
 */
function metricJson(desc: MetricDesc, delivery: Delivery): string {
  const indom = desc.indom === null ? '' : `"indom":"${desc.indom}",`;
  return (
    `{"name":${JSON.stringify(desc.name)},"pmid":"${desc.pmid}",${indom}"type":"${desc.type}","sem":"${desc.sem}",` +
    `"units":${JSON.stringify(desc.units)},"text-oneline":${JSON.stringify(desc.oneline)},` +
    `"text-help":${JSON.stringify(desc.help ?? desc.oneline)},"delivered":"${delivery}"}`
  );
}

/** `{"<indom>":{"<id>":"<name>",…},…}` */
export function instancesJson(byIndom: ReadonlyMap<string, ReadonlyMap<number, string>>): string {
  const parts: string[] = [];
  for (const [indom, names] of byIndom) {
    const entries: string[] = [];
    for (const [id, name] of names) entries.push(`"${id}":${JSON.stringify(name)}`);
    parts.push(`"${indom}":{${entries.join(',')}}`);
  }
  return `{${parts.join(',')}}`;
}

/** A series reference: `[metric index, instance id]`, the id null for a singular metric. */
export function seriesRefJson(metric: number, instance: number): string {
  return `[${metric},${instance < 0 ? 'null' : instance}]`;
}

export function errorJson(code: string, message: string, id?: string): string {
  const sub = id === undefined ? '' : `,"id":${JSON.stringify(id)}`;
  return `{"v":${PROTOCOL_VERSION},"type":"error","code":"${code}","message":${JSON.stringify(message)}${sub}}`;
}

/**
 * The columnar body shared by the stream's back-fill and GET /history, without braces:
 * `"metrics":[…],"instances":{…},"series":[[m,i]…],"t":[…],"values":[[…]…]`. With `rate`,
 * counters are rated between consecutive window times expected `stepMs` apart.
 */
export function windowJson(metrics: readonly MetricDesc[], rate: boolean, window: HistoryWindow, stepMs: number): string {
  const index = new Map(metrics.map((desc, i) => [desc.name, i]));
  const instances = new Map<string, Map<number, string>>();
  const refs: string[] = [];
  const columns: string[] = [];
  for (const series of window.series) {
    const { desc } = series;
    refs.push(seriesRefJson(index.get(desc.name)!, series.instance));
    if (desc.indom !== null && series.name !== undefined) {
      let names = instances.get(desc.indom);
      if (!names) instances.set(desc.indom, (names = new Map()));
      names.set(series.instance, series.name);
    }
    const delivery = deliveryOf(desc, rate);
    columns.push(wireValues(delivery === 'raw' ? series.values : rateColumn(desc, series.values, window.times, stepMs)));
  }
  return (
    `"metrics":[${metrics.map((desc) => metricJson(desc, deliveryOf(desc, rate))).join(',')}],` +
    `"instances":${instancesJson(instances)},"series":[${refs.join(',')}],` +
    `"t":${wireTimes(window.times)},"values":[${columns.join(',')}]`
  );
}
