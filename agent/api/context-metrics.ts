import type { ContainerRef } from '../containers/scope.js';
import type { Value } from '../metrics/types.js';

/** What a context metric may know about the client context it answers. */
export interface ContextView {
  readonly id: number;
  /** The container the context is scoped to, if any. */
  readonly container?: ContainerRef;
}

/**
 * A metric answered per client context instead of from the sample, and/or one clients may
 * store into (pmStore through `/pmapi/store` and `/pmapi/N/_store`): Vector's flame-graph
 * trigger `vector.task.cpuflamegraph`, for instance. Its descriptor must also be declared in
 * the metric table by the family that owns it. A singular metric reports `read()` as its
 * value; a metric with an indom reports it as the one instance numbered (and named) by the
 * context id, as pmcd reports per-client metrics.
 */
export interface ContextMetric {
  readonly name: string;
  /** The value this context sees; undefined for none. */
  read?(context: ContextView): Value | undefined;
  /**
   * Stores a value (the request's text, unparsed). To refuse, throw PmapiError (agent/api/errors.ts)
   * with the message the client should see.
   */
  store?(value: string, context: ContextView): void | Promise<void>;
}
