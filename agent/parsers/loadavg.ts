/** /proc/loadavg: `0.15 0.13 0.06 1/79 3368`. */
export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  /** Runnable (running or queued) scheduling entities. */
  runnable: number;
  /** All scheduling entities (threads included). */
  entities: number;
  lastPid: number;
}

export function parseLoadAvg(text: string): LoadAvg {
  const fields = text.trim().split(/\s+/);
  const [runnable, entities] = (fields[3] ?? '').split('/').map(Number);
  const record: LoadAvg = {
    load1: Number(fields[0]),
    load5: Number(fields[1]),
    load15: Number(fields[2]),
    runnable: runnable ?? NaN,
    entities: entities ?? NaN,
    lastPid: Number(fields[4]),
  };
  if (Object.values(record).some(Number.isNaN)) throw new Error(`unparsable /proc/loadavg: ${JSON.stringify(text)}`);
  return record;
}
