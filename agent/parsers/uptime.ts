import { decimal, malformed } from './fields.js';

/** /proc/uptime: `5119.87 9958.42`. */
export interface Uptime {
  /** Seconds since boot. */
  uptime: number;
  /** Seconds all CPUs together spent idle since boot. */
  idle: number;
}

export function parseUptime(text: string): Uptime {
  const line = text.trim();
  const fields = line.split(/\s+/);
  if (fields.length !== 2) throw malformed(line, 'two numbers, uptime and idle seconds');
  return { uptime: decimal(fields[0], line), idle: decimal(fields[1], line) };
}
