import { parsePressure, type Pressures } from '../parsers/cgroup-formats.js';
import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';

/** `[file, line, names of avg10, avg60, avg300, total]` for every PSI line that has a metric. */
const PRESSURE: ReadonlyArray<readonly [string, keyof Pressures, readonly [string, string, string, string]]> = [
  ['cpu.pressure', 'some', names('cpu.some')],
  ['cpu.pressure', 'full', names('cpu.full')],
  ['memory.pressure', 'some', names('memory.some')],
  ['memory.pressure', 'full', names('memory.full')],
  ['io.pressure', 'some', names('io.some')],
  ['io.pressure', 'full', names('io.full')],
  ['irq.pressure', 'full', names('irq.full')],
];

function names(line: string): readonly [string, string, string, string] {
  const base = `cgroup.pressure.${line}`;
  return [`${base}.avg10sec`, `${base}.avg1min`, `${base}.avg5min`, `${base}.total`];
}

/** Pressure stall information, which only cgroup2 has (also the `unified` tree of hybrid hosts). */
export function pressureFromV2(dir: CgroupDir, sink: CgroupSink): void {
  let file = '';
  let parsed: Pressures = {};
  for (const [name, line, [avg10, avg60, avg300, total]] of PRESSURE) {
    if (name !== file) {
      file = name;
      parsed = dir.parse(name, parsePressure) ?? {};
    }
    const p = parsed[line];
    if (!p) continue;
    sink.out.put(avg10, p.avg10, dir.name);
    sink.out.put(avg60, p.avg60, dir.name);
    sink.out.put(avg300, p.avg300, dir.name);
    sink.out.put(total, p.total, dir.name);
  }
}
