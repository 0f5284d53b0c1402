import { log } from '../log.js';
import type { DerivedDefinition } from '../metrics/derived.js';
import type { MetricFamily, MetricTable } from '../metrics/table.js';
import type { Sample } from '../store/sample.js';
import { DerivedMetric, operandNames } from './derived.js';
import { parseExpression } from './parser.js';

/**
 * Host-wide derived metrics, evaluated once per sample against the previous one, so that
 * rate() is over exactly one sampling interval whoever asks. A definition whose operands this
 * host lacks is left out (as pmcd does), not served empty.
 */
export class HostDerived {
  private readonly metrics: DerivedMetric[] = [];

  constructor(table: MetricTable, definitions: readonly DerivedDefinition[]) {
    for (const def of definitions) {
      const expr = parseExpression(def.expr);
      const missing = operandNames(expr).filter((name) => !table.metric(name));
      if (missing.length > 0) {
        log.debug('derived metric left out: this host lacks its operands', { metric: def.name, missing: missing.join(',') });
        continue;
      }
      const metric = new DerivedMetric(def.name, def.pmid, expr, (name) => table.metric(name));
      Object.assign(metric.desc, { oneline: def.oneline, help: def.help ?? def.oneline });
      this.metrics.push(metric);
    }
  }

  /** Each derived metric's operands: wanting one means collecting these. */
  get operands(): Map<string, readonly string[]> {
    return new Map(this.metrics.map((m) => [m.desc.name, m.operands]));
  }

  get family(): MetricFamily {
    return { metrics: this.metrics.map((m) => m.desc) };
  }

  /** Adds the derived values to a sample before it is published. */
  apply(sample: Sample): void {
    for (const metric of this.metrics) {
      const values = metric.evaluate(sample);
      if (values.size === 0) continue;
      sample.values.set(metric.desc.name, values);
    }
  }
}
