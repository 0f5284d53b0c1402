/**
 * Log lines for people: one line each, `time level message key=value…`, to stderr.
 * Messages say what happened and what to do about it.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = ORDER.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: Level): void {
  threshold = ORDER[level];
}

/** Tests capture log lines through this. */
export function setLogSink(next: (line: string) => void): void {
  sink = next;
}

function emit(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  let line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}`;
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
