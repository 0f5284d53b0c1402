import type { MetricType, Value } from '../metrics/types.js';

/**
 * JSON text for metric values, written by hand because JSON.stringify cannot print a bigint
 * and would round u64 counters past 2^53. Floats are printed the way pmproxy prints them
 * (`%.8g` for float, `%.16g` for double), so values compare equal digit for digit.
 */
export function valueJson(type: MetricType, value: Value): string {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'string':
      return JSON.stringify(value);
    default:
      if (!Number.isFinite(value)) return 'null';
      if (type === 'float') return formatG(Math.fround(value), 8);
      if (type === 'double') return formatG(value, 16);
      return String(value);
  }
}

/** C's `%.{precision}g`: shortest of fixed or exponent form, trailing zeros removed. */
export function formatG(x: number, precision: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  let text = x.toPrecision(precision);
  // toPrecision may round up into the next decade (9.99999999 → "10.000000"); C decides on the rounded value.
  const rounded = Number(text);
  const e = rounded === 0 ? exp : Math.floor(Math.log10(Math.abs(rounded)));
  if (e < -4 || e >= precision) {
    text = x.toExponential(precision - 1);
    let [mant, ex] = text.split('e') as [string, string];
    if (mant.includes('.')) mant = mant.replace(/\.?0+$/, '');
    const sign = ex.startsWith('-') ? '-' : '+';
    const digits = ex.replace(/^[+-]/, '').padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  if (text.includes('e')) text = rounded.toFixed(Math.max(0, precision - 1 - e));
  if (text.includes('.')) text = text.replace(/\.?0+$/, '');
  return text;
}

/**
 * pmproxy's fetch timestamp, `<seconds>.<nanoseconds>`. We zero-pad the nanoseconds (pmproxy
 * 6.0.3 forgets to, which makes `.029…` read as `.29…`). A float millisecond clock is exact to
 * about a microsecond at today's epoch, so the last three digits are honest zeros.
 */
export function timestampJson(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const usec = Math.round((ms - sec * 1000) * 1000);
  return usec >= 1e6 ? `${sec + 1}.000000000` : `${sec}.${String(usec).padStart(6, '0')}000`;
}

/**
 * The `instances` array of one metric in a fetch reply. A singular metric without a value is
 * reported as value 0, as pmproxy does and clients expect (grafana-pcp and Vector draw it; a
 * missing instance would drop the series), printed as `{"instance":<singular>,"value":0}`.
 */
export function instancesJson(type: MetricType, singular: boolean, values: ReadonlyMap<number, Value> | undefined, singularId: string): string {
  if (singular) {
    const value = values?.values().next().value;
    return `[{"instance":${singularId},"value":${value === undefined ? (type === 'string' ? '""' : '0') : valueJson(type, value)}}]`;
  }
  let out = '[';
  for (const [id, value] of values ?? []) {
    if (out.length > 1) out += ',';
    out += `{"instance":${id},"value":${valueJson(type, value)}}`;
  }
  return out + ']';
}
