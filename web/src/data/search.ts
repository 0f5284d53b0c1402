import type { MetricMeta } from './host-data.js';

/** Metrics whose name, one-line or long help contains every word of the query; names first. */
export function searchMetrics(metas: Iterable<MetricMeta>, query: string, limit = 50): MetricMeta[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const scored: Array<[number, MetricMeta]> = [];
  for (const m of metas) {
    const name = m.name.toLowerCase();
    const text = `${name} ${m.oneline.toLowerCase()} ${m.help.toLowerCase()}`;
    if (!words.every((w) => text.includes(w))) continue;
    const inName = words.filter((w) => name.includes(w)).length;
    scored.push([inName * 1000 - name.length, m]);
  }
  return scored.sort((a, b) => b[0] - a[0]).slice(0, limit).map(([, m]) => m);
}
