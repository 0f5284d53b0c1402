/**
 * The instance name of the cgroup at `relative` below its hierarchy's mount point (`''` for the
 * mount point itself), as pmdaproc forms it: `/`, `/demo`, `/docker/<id>`. systemd's `\xNN`
 * escapes in unit names (`system-getty\x2dx.slice`) are decoded, as pmdaproc does, because PCP
 * clients choke on backslashes in instance names.
 */
export function cgroupInstanceName(relative: string): string {
  if (relative === '') return '/';
  const name = relative.startsWith('/') ? relative : `/${relative}`;
  if (!name.includes('\\x')) return name;
  return name.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
