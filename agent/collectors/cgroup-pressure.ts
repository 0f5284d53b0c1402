import { parsePressureField, type Pressure, type Pressures } from '../parsers/cgroup-formats.js';
import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';

/** `[file, line, base name]` for every PSI line that has metrics. */
const PRESSURE: ReadonlyArray<readonly [string, keyof Pressures, string]> = [
  ['cpu.pressure', 'some', 'cgroup.pressure.cpu.some'],
  ['cpu.pressure', 'full', 'cgroup.pressure.cpu.full'],
  ['memory.pressure', 'some', 'cgroup.pressure.memory.some'],
  ['memory.pressure', 'full', 'cgroup.pressure.memory.full'],
  ['io.pressure', 'some', 'cgroup.pressure.io.some'],
  ['io.pressure', 'full', 'cgroup.pressure.io.full'],
  ['irq.pressure', 'full', 'cgroup.pressure.irq.full'],
];

/** A line's fields and the suffix of the metric each one feeds. */
const FIELDS: ReadonlyArray<readonly [keyof Pressure, string]> = [
  ['avg10', 'avg10sec'], ['avg60', 'avg1min'], ['avg300', 'avg5min'], ['total', 'total'],
];

/** One PSI line a pass wants, with the metrics wanted of it. */
export interface PressureRow {
  file: string;
  line: keyof Pressures;
  puts: ReadonlyArray<readonly [keyof Pressure, string]>;
}

/**
 * The PSI lines and fields this pass wants: the console wants avg10 of three `some` lines of
 * the 28 values, so the others are neither parsed nor put.
 */
export function pressurePlan(wants: (metric: string) => boolean): readonly PressureRow[] {
  const rows: PressureRow[] = [];
  for (const [file, line, base] of PRESSURE) {
    const puts = FIELDS.map(([field, suffix]) => [field, `${base}.${suffix}`] as const).filter(([, metric]) => wants(metric));
    if (puts.length > 0) rows.push({ file, line, puts });
  }
  return rows;
}

/** Pressure stall information, which only cgroup2 has (also the `unified` tree of hybrid hosts). */
export function pressureFromV2(dir: CgroupDir, sink: CgroupSink): void {
  let file = '';
  let text: string | undefined;
  for (const { file: name, line, puts } of sink.pressure) {
    if (name !== file) {
      file = name;
      text = dir.read(name);
    }
    if (text === undefined) continue;
    for (const [field, metric] of puts) {
      let value: number | bigint | undefined;
      try {
        value = parsePressureField(text, line, field);
      } catch (error) {
        throw dir.malformed(name, error);
      }
      if (value === undefined) break;
      sink.out.put(metric, value, dir.name);
    }
  }
}
