import { lines, malformed } from './fields.js';

/** TCP states as numbered in the kernel's include/net/tcp_states.h (1…11), by PCP's names. */
export const TCP_STATES = [
  'established', 'syn_sent', 'syn_recv', 'fin_wait1', 'fin_wait2', 'time_wait',
  'close', 'close_wait', 'last_ack', 'listen', 'closing',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

/**
 * /proc/net/tcp or tcp6 → number of sockets in each state. The 4th column (`st`) is the
 * state in hex; states past `closing` (the kernel's NEW_SYN_RECV) are not counted, as PCP
 * does not count them.
 */
export function parseTcpStates(text: string): Record<TcpState, number> {
  const counts = Object.fromEntries(TCP_STATES.map((state) => [state, 0])) as Record<TcpState, number>;
  for (const line of lines(text).slice(1)) {
    const st = line.trim().split(/\s+/)[3];
    if (st === undefined || !/^[0-9A-Fa-f]+$/.test(st)) throw malformed(line, 'a socket line with a hex state in the 4th column');
    const state = TCP_STATES[parseInt(st, 16) - 1];
    if (state) counts[state]++;
  }
  return counts;
}
