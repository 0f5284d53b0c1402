import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readOptional } from '../collectors/read.js';
import type { Roots } from '../collectors/types.js';

/** Where the host's identity is read: its procfs, and its root filesystem for /etc/machine-id. */
export type IdentityRoots = Pick<Roots, 'procfs'> & { root?: string };

/** The labels pmcd puts on every context of a host (PCP's context labels). */
export interface HostIdentity {
  hostname: string;
  domainname: string;
  machineid: string;
}

/**
 * Reads the identity as pmcd does: UTS host and domain name (a domain name of "(none)" is
 * pmcd's "localdomain") and the systemd machine id.
 */
export function readHostIdentity(roots: IdentityRoots): HostIdentity {
  const hostname = readOptional(`${roots.procfs}/sys/kernel/hostname`)?.trim() || 'localhost';
  const domain = readOptional(`${roots.procfs}/sys/kernel/domainname`)?.trim();
  const machineid = readOptional(join(roots.root ?? '/', 'etc/machine-id'))?.trim() ?? '';
  return { hostname, domainname: !domain || domain === '(none)' ? 'localdomain' : domain, machineid };
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

/**
 * PCP's `source`: a 40-hex id of where metrics come from. Stable for a host (and for one
 * container on it), so that clients keying series by source see the same series again.
 */
export function sourceId(identity: HostIdentity, container?: string): string {
  return sha1(`${identity.machineid}\n${identity.hostname}${container === undefined ? '' : `\ncontainer=${container}`}`);
}

const seriesCache = new Map<string, string>();

/** PCP's `series`: a 40-hex id of one metric from one source. */
export function seriesId(source: string, metric: string): string {
  const key = `${source}\n${metric}`;
  let series = seriesCache.get(key);
  if (series === undefined) {
    series = sha1(key);
    if (seriesCache.size > 100_000) seriesCache.clear();
    seriesCache.set(key, series);
  }
  return series;
}
