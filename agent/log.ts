/**
 * Log lines, one each to stderr: for people `time level message key=value…` (text), for log
 * collectors one JSON object `{"time","level","msg",…fields}` (json, `--log-format json`).
 * Messages say what happened and what to do about it.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = ORDER.info;
let format: LogFormat = 'text';
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: Level): void {
  threshold = ORDER[level];
}

export function setLogFormat(next: LogFormat): void {
  format = next;
}

/** Tests capture log lines through this. */
export function setLogSink(next: (line: string) => void): void {
  sink = next;
}

function emit(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const time = new Date().toISOString();
  if (format === 'json') {
    // Errors by their message, bigints (u64 counters) as exact decimal strings.
    const field = (_key: string, value: unknown): unknown => (value instanceof Error ? value.message : typeof value === 'bigint' ? String(value) : value);
    sink(JSON.stringify({ time, level, msg: message, ...fields }, field));
    return;
  }
  let line = `${time} ${level.padEnd(5)} ${message}`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    const text = value instanceof Error ? value.message : String(value);
    line += ` ${key}=${/[\s"]/.test(text) ? JSON.stringify(text) : text}`;
  }
  sink(line);
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => emit('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => emit('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => emit('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => emit('error', message, fields),
};
