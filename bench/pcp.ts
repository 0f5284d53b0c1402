/**
 * The real PCP stack (pmcd + its PMDAs + pmproxy) on loopback, through test/support/pcp.sh: it
 * starts only what is not already running, and `stop()` stops only what it started.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childrenOf, undoOnInterrupt } from './lib.js';

const PCP_SH = fileURLToPath(new URL('../test/support/pcp.sh', import.meta.url));
export const PMPROXY = 'http://127.0.0.1:44322';

export interface Pcp {
  /** pmcd, every PMDA it runs, and pmproxy: the processes whose CPU is the PCP stack's. */
  pids(): number[];
  stop(): void;
}

const pidOf = (name: string): number => Number(readFileSync(`/run/pcp/${name}.pid`, 'utf8').trim());

export function startPcp(): Pcp {
  // Daemons it finds running belong to someone else (another bench, a test): they are never stopped.
  const started = execFileSync(PCP_SH, ['start'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  let forget = (): void => undefined;
  const stop = (): void => {
    forget();
    // Once only: a second stop could hit daemons someone else started after ours were gone.
    const ours = started.splice(0);
    if (ours.length) execFileSync(PCP_SH, ['stop', ...ours], { stdio: 'inherit' });
  };
  try {
    forget = undoOnInterrupt(`PCP daemons the bench started (${started.join(', ') || 'none'})`, stop);
  } catch (error) {
    stop(); // interrupted while pcp.sh was starting them
    throw error;
  }
  return {
    pids: () => {
      const pmcd = pidOf('pmcd');
      return [pmcd, ...childrenOf(pmcd), pidOf('pmproxy')];
    },
    stop,
  };
}

/** Every metric name pmcd knows (its live PMNS). */
export function pcpNames(): Set<string> {
  return new Set(execFileSync('pminfo', ['-h', 'local:'], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean));
}

/** A new pmproxy context (one PMAPI context = one pmcd connection, reused by every fetch). */
export async function pmapiContext(url: string): Promise<number> {
  // Vector asks for 600 s too; the default 5 s lets a context expire while the other server is measured.
  const reply = (await (await fetch(`${url}/pmapi/context?polltimeout=600`)).json()) as { context: number };
  return reply.context;
}
