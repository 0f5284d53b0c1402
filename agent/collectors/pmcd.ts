import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pmcdFamily } from '../metrics/pmcd.js';
import { ProcFiles } from './procfs.js';
import { readOptional } from './read.js';
import type { Collector, Roots } from './types.js';

/**
 * pmcd.hostname and pmcd.version, which Vector and grafana-pcp show to name the host and the
 * server. The version is Vigil's own, not a PCP release number: clients only display it, and
 * claiming to be PCP 6.0.3 would mislead whoever reads it.
 */
export function pmcdCollector(roots: Roots): Collector {
  const version = vigilVersion();
  const files = new ProcFiles(roots.procfs);
  return {
    name: 'pmcd',
    family: pmcdFamily,
    collect(out, ctx) {
      files.sweep();
      // sethostname(2) changes it at any time: read every pass.
      const hostname = ctx.wants('pmcd.hostname') ? files.read(`${roots.procfs}/sys/kernel/hostname`, ctx) : undefined;
      if (hostname !== undefined) out.put('pmcd.hostname', hostname.trim());
      out.put('pmcd.version', version);
    },
  };
}

/** The version in Vigil's package.json, the nearest one above this module (agent/… or dist/agent/…). */
function vigilVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const text = readOptional(join(dir, 'package.json'));
    if (text !== undefined) return (JSON.parse(text) as { version: string }).version;
    if (dirname(dir) === dir) {
      throw new Error('cannot find Vigil\'s package.json above agent/collectors; is the install complete?');
    }
  }
}
