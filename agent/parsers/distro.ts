/**
 * The release files PCP looks for under /etc, in its order; the first that exists names the
 * distribution (`kernel.uname.distro`).
 */
export const DISTRO_FILES = [
  'debian_version', 'oracle-release', 'fedora-release', 'redhat-release', 'slackware-version', 'SuSE-release',
  'lsb-release',
] as const;

/**
 * The distribution name from the first line of its release file, as PCP derives it:
 * debian_version holds only a number (`12.11` → `Debian 12.11`), lsb-release starts
 * `DISTRIB_ID=Ubuntu`.
 */
export function parseDistro(file: (typeof DISTRO_FILES)[number], text: string): string {
  let first = text.split('\n')[0] ?? '';
  if (file === 'debian_version') first = `Debian ${first}`;
  if (file === 'lsb-release') first = first.replace(/^DISTRIB_ID ?= ?/, '');
  return first;
}
