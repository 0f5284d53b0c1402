import type { MetricDesc, MetricType, Semantics, Value } from '../metrics/types.js';
import { SINGULAR, type InstanceValues } from '../store/sample.js';
import type { FunctionName } from './lexer.js';
import type { ArithmeticOp, BinaryOp, Expr } from './parser.js';
import { formatUnits, isDimensionless, NO_UNITS, parseUnits, sameDimensions, scaleFactor, TIME_SEC, type Units } from './units.js';

/** What a derived-metric node produces, as PCP's pmDesc would describe it. */
interface Meta {
  type: MetricType;
  sem: Semantics;
  units: Units;
  indom: string | null;
}

/** Instance id → value; a singular node uses SINGULAR as its only key. */
type Values = Map<number, Value>;

/** Where a derived metric reads the values of its operands at one sample. */
export interface OperandValues {
  /** Wall-clock milliseconds of the sample. */
  readonly time: number;
  get(metric: string): InstanceValues | undefined;
}

type Node =
  | { kind: 'constant'; meta: Meta; value: number; text: string }
  | { kind: 'metric'; meta: Meta; name: string }
  | { kind: 'negate' | 'not'; meta: Meta; operand: Node }
  | { kind: 'binary'; meta: Meta; op: BinaryOp; left: Node; right: Node; leftScale: number; rightScale: number }
  | { kind: 'ternary'; meta: Meta; test: Node; then: Node; otherwise: Node }
  | { kind: 'call'; meta: Meta; fn: FunctionName; arg: Node; rateScale: number; history?: History };

/** rate() and delta() remember the previous sample of their operand, per context. */
interface History {
  time: number;
  operand: Values;
  result: Values;
}

/** A semantic error, worded as PCP words them (`<operand> <op> <operand>: <reason>`). */
export class DeriveSemanticError extends Error {}

/** The operand names the expression uses (in order), so that unknown ones can be reported. */
export function operandNames(expr: Expr): string[] {
  switch (expr.kind) {
    case 'name':
      return [expr.name];
    case 'negate':
    case 'not':
      return operandNames(expr.operand);
    case 'binary':
      return [...operandNames(expr.left), ...operandNames(expr.right)];
    case 'ternary':
      return [...operandNames(expr.test), ...operandNames(expr.then), ...operandNames(expr.otherwise)];
    case 'call':
      return expr.fn === 'defined' ? [] : operandNames(expr.arg);
    default:
      return [];
  }
}

/**
 * A derived metric bound to the metrics it reads: checked, typed and ready to evaluate.
 * One instance per context, because rate() and delta() keep per-context history.
 */
export class DerivedMetric {
  readonly desc: MetricDesc;
  /** The metrics it reads. */
  readonly operands: readonly string[];
  private readonly root: Node;

  /**
   * @param lookup the descriptor of an operand metric, or undefined when the agent has none
   *   (callers check operandNames first: PCP accepts such a metric but never reports values).
   * @throws DeriveSemanticError
   */
  constructor(name: string, pmid: string, expr: Expr, lookup: (name: string) => MetricDesc | undefined) {
    this.root = bind(expr, lookup);
    this.operands = [...new Set(operandNames(expr))];
    const { type, sem, units, indom } = this.root.meta;
    this.desc = { name, pmid, type, sem, units: formatUnits(units), indom, oneline: '', help: '' };
  }

  /** Values at this sample, in the derived metric's type; empty when it has none yet. */
  evaluate(source: OperandValues): InstanceValues {
    return evaluate(this.root, source);
  }
}

// ---------------------------------------------------------------------------------------
// Binding: PCP's semantic rules (pmRegisterDerived(3), "SEMANTIC CHECKS AND RULES").

const ARITHMETIC_TYPES: readonly MetricType[] = ['32', 'u32', '64', 'u64', 'float', 'double'];
/** C-like promotion: the later in this list wins. */
const PROMOTION: readonly MetricType[] = ['32', 'u32', '64', 'u64', 'float', 'double'];
const COUNT_UNITS: Units = { ...NO_UNITS, dimCount: 1 };

function bind(expr: Expr, lookup: (name: string) => MetricDesc | undefined): Node {
  switch (expr.kind) {
    case 'number':
      return {
        kind: 'constant', text: expr.text, value: Number(expr.text),
        meta: { type: expr.integer ? 'u32' : 'double', sem: 'discrete', units: NO_UNITS, indom: null },
      };
    case 'name': {
      const desc = lookup(expr.name);
      if (!desc) throw new Error(`operand ${expr.name} is not a metric (callers check operandNames first)`);
      return { kind: 'metric', name: expr.name, meta: { type: desc.type, sem: desc.sem, units: parseUnits(desc.units), indom: desc.indom } };
    }
    case 'negate': {
      const operand = bind(expr.operand, lookup);
      requireArithmetic(operand, `-${describe(operand)}`, 'Non-arithmetic operand for unary minus');
      // a negated unsigned value needs a signed type to exist
      const type = operand.meta.type === 'u32' ? '32' : operand.meta.type === 'u64' ? '64' : operand.meta.type;
      return { kind: 'negate', operand, meta: { ...operand.meta, type } };
    }
    case 'not': {
      const operand = bind(expr.operand, lookup);
      requireArithmetic(operand, `!${describe(operand)}`, 'Non-arithmetic operand for boolean negation');
      return { kind: 'not', operand, meta: { type: 'u32', sem: nonCounterSem(operand.meta, operand.meta), units: NO_UNITS, indom: operand.meta.indom } };
    }
    case 'binary':
      return bindBinary(expr.op, bind(expr.left, lookup), bind(expr.right, lookup));
    case 'ternary':
      return bindTernary(bind(expr.test, lookup), bind(expr.then, lookup), bind(expr.otherwise, lookup));
    case 'call':
      return bindCall(expr.fn, expr.arg, lookup);
  }
}

/** `name`, a constant's text, or `<expr>`: how PCP shows an operand in a semantic error. */
function describe(node: Node): string {
  return node.kind === 'metric' ? node.name : node.kind === 'constant' ? node.text : '<expr>';
}

function requireArithmetic(node: Node, where: string, reason: string): void {
  if (!ARITHMETIC_TYPES.includes(node.meta.type)) throw new DeriveSemanticError(`${where}: ${reason}`);
}

function promote(a: MetricType, b: MetricType): MetricType {
  return PROMOTION[Math.max(PROMOTION.indexOf(a), PROMOTION.indexOf(b))]!;
}

/** Non-counter results are instant unless every operand is discrete. */
function nonCounterSem(a: Meta, b: Meta): Semantics {
  return a.sem === 'discrete' && b.sem === 'discrete' ? 'discrete' : 'instant';
}

/** Operands with instance domains must share one; the result has it (or is singular). */
function commonIndom(metas: Meta[], where: string): string | null {
  const indoms = new Set(metas.map((m) => m.indom).filter((i) => i !== null));
  if (indoms.size > 1) throw new DeriveSemanticError(`${where}: Operands should have the same instance domain`);
  return [...indoms][0] ?? null;
}

function bindBinary(op: BinaryOp, left: Node, right: Node): Node {
  const where = `${describe(left)} ${op} ${describe(right)}`;
  const fail = (reason: string): never => {
    throw new DeriveSemanticError(`${where}: ${reason}`);
  };
  const l = left.meta;
  const r = right.meta;
  requireArithmetic(left, where, 'Non-arithmetic type for left operand');
  requireArithmetic(right, where, 'Non-arithmetic type for right operand');
  const isConstant = (n: Node): boolean => n.kind === 'constant';

  if (op === '&&' || op === '||') {
    if (!isDimensionless(l.units) || !isDimensionless(r.units)) fail('Dimensions are not the same');
    const indom = commonIndom([l, r], where);
    return { kind: 'binary', op, left, right, leftScale: 1, rightScale: 1, meta: { type: 'u32', sem: nonCounterSem(l, r), units: NO_UNITS, indom } };
  }

  const relational = op !== '+' && op !== '-' && op !== '*' && op !== '/';
  if (!relational) {
    // counters combine only where the result is still a meaningful counter
    if (l.sem === 'counter' && r.sem === 'counter' && op !== '+' && op !== '-') fail('Illegal operator for counters');
    if (l.sem === 'counter' && r.sem !== 'counter' && op !== '*' && op !== '/') fail('Illegal operator for counter and non-counter');
    if (l.sem !== 'counter' && r.sem === 'counter' && op !== '*') fail('Illegal operator for non-counter and counter');
  }
  if ((op === '+' || op === '-' || (relational && !isConstant(left) && !isConstant(right))) && !sameDimensions(l.units, r.units)) {
    fail('Dimensions are not the same');
  }
  if (op === '*' || op === '/' || relational) {
    if (l.sem === 'counter' && r.sem !== 'counter' && !isDimensionless(r.units)) fail('Non-counter and not dimensionless for right operand');
    if (l.sem !== 'counter' && r.sem === 'counter' && !isDimensionless(l.units)) fail('Non-counter and not dimensionless for left operand');
  }

  const indom = commonIndom([l, r], where);
  const { units, leftScale, rightScale } = combineUnits(op, l.units, r.units);
  const scaled = leftScale !== 1 || rightScale !== 1;
  if (relational) {
    return { kind: 'binary', op, left, right, leftScale, rightScale, meta: { type: 'u32', sem: nonCounterSem(l, r), units: NO_UNITS, indom } };
  }
  // the result describes the metric operand rather than a constant (PCP's "candidate" descriptor)
  const base = isConstant(left) ? r : l;
  const sem = l.sem !== 'counter' && r.sem !== 'counter' ? nonCounterSem(l, r) : base.sem;
  const type = op === '/' || scaled ? 'double' : promote(l.type, r.type);
  return { kind: 'binary', op, left, right, leftScale, rightScale, meta: { type, sem, units, indom } };
}

/**
 * Units of a binary result. Where both operands have a dimension the larger scale wins and
 * the other operand's values are converted to it (PCP's map_units); * and / add or subtract
 * the dimensions. Returns the multipliers for the operand values.
 */
function combineUnits(op: BinaryOp, l: Units, r: Units): { units: Units; leftScale: number; rightScale: number } {
  const pick = (ld: number, ls: number, rd: number, rs: number): number => (ld !== 0 && rd !== 0 ? Math.max(ls, rs) : ld !== 0 ? ls : rs);
  const scales = {
    scaleSpace: pick(l.dimSpace, l.scaleSpace, r.dimSpace, r.scaleSpace),
    scaleTime: pick(l.dimTime, l.scaleTime, r.dimTime, r.scaleTime),
    scaleCount: pick(l.dimCount, l.scaleCount, r.dimCount, r.scaleCount),
  };
  const sign = op === '*' ? 1 : op === '/' ? -1 : 0;
  const units: Units = {
    ...scales,
    dimSpace: l.dimSpace + sign * r.dimSpace,
    dimTime: l.dimTime + sign * r.dimTime,
    dimCount: l.dimCount + sign * r.dimCount,
  };
  return { units: normalize(units), leftScale: scaleFactor(l, { ...l, ...scales }), rightScale: scaleFactor(r, { ...r, ...scales }) };
}

/** A dimension that cancelled out carries no scale. */
function normalize(u: Units): Units {
  return {
    ...u,
    scaleSpace: u.dimSpace === 0 ? 0 : u.scaleSpace,
    scaleTime: u.dimTime === 0 ? 0 : u.scaleTime,
    scaleCount: u.dimCount === 0 ? 0 : u.scaleCount,
  };
}

function bindTernary(test: Node, then: Node, otherwise: Node): Node {
  const where = `${describe(test)} ? ${describe(then)} : ${describe(otherwise)}`;
  requireArithmetic(test, where, 'Non-arithmetic type for guard');
  if (!sameDimensions(then.meta.units, otherwise.meta.units)) throw new DeriveSemanticError(`${where}: Dimensions are not the same`);
  const indom = commonIndom([test.meta, then.meta, otherwise.meta], where);
  const type = ARITHMETIC_TYPES.includes(then.meta.type) && ARITHMETIC_TYPES.includes(otherwise.meta.type)
    ? promote(then.meta.type, otherwise.meta.type)
    : then.meta.type === otherwise.meta.type ? then.meta.type : undefined;
  if (type === undefined) throw new DeriveSemanticError(`${where}: Operands have different types`);
  const sem = then.meta.sem === otherwise.meta.sem ? then.meta.sem : 'instant';
  return { kind: 'ternary', test, then, otherwise, meta: { type, sem, units: then.meta.units, indom } };
}

function bindCall(fn: FunctionName, argExpr: Expr, lookup: (name: string) => MetricDesc | undefined): Node {
  if (fn === 'defined') {
    const name = argExpr.kind === 'name' ? argExpr.name : '';
    const value = lookup(name) ? 1 : 0;
    return { kind: 'constant', text: String(value), value, meta: { type: 'u32', sem: 'discrete', units: NO_UNITS, indom: null } };
  }
  const arg = bind(argExpr, lookup);
  const a = arg.meta;
  const where = `${fn}(${describe(arg)})`;
  const node = (meta: Meta, rateScale = 1): Node => ({ kind: 'call', fn, arg, meta, rateScale });
  switch (fn) {
    case 'count':
      return node({ type: 'u32', sem: 'instant', units: COUNT_UNITS, indom: null });
    case 'instant':
      return node({ ...a, sem: a.sem === 'counter' ? 'instant' : a.sem });
    default:
      break;
  }
  requireArithmetic(arg, where, 'Non-arithmetic operand for function');
  switch (fn) {
    case 'delta':
      return node({ ...a, sem: 'instant' });
    case 'rate': {
      if (a.units.dimTime !== 0 && a.units.dimTime !== 1) throw new DeriveSemanticError(`${where}: Incorrect time dimension for operand`);
      // per second; a time counter becomes a utilization (time per time, no units)
      const units = normalize({ ...a.units, dimTime: a.units.dimTime - 1, scaleTime: TIME_SEC });
      const toSeconds = a.units.dimTime === 1 ? scaleFactor(a.units, { ...a.units, scaleTime: TIME_SEC }) : 1;
      return node({ type: 'double', sem: 'instant', units, indom: a.indom }, toSeconds);
    }
    case 'avg':
      return node({ type: 'float', sem: 'instant', units: a.units, indom: null });
    default: // sum, min, max
      return node({ ...a, sem: 'instant', indom: null });
  }
}

// ---------------------------------------------------------------------------------------
// Evaluation.

function evaluate(node: Node, source: OperandValues): Values {
  switch (node.kind) {
    case 'constant':
      return new Map([[SINGULAR, node.value]]);
    case 'metric':
      return source.get(node.name) ?? new Map();
    case 'negate':
      return mapValues(evaluate(node.operand, source), (v) => inType(node.meta.type, typeof v === 'bigint' ? -v : -Number(v)));
    case 'not':
      return mapValues(evaluate(node.operand, source), (v) => (truthy(v) ? 0 : 1));
    case 'binary': {
      const left = evaluate(node.left, source);
      const right = evaluate(node.right, source);
      return join([node.left, node.right], [left, right], ([a, b]) => binary(node, a!, b!));
    }
    case 'ternary': {
      const parts = [node.test, node.then, node.otherwise];
      const values = parts.map((p) => evaluate(p, source));
      return join(parts, values, ([test, then, otherwise]) => inType(node.meta.type, truthy(test!) ? then! : otherwise!));
    }
    case 'call':
      return call(node, source);
  }
}

function mapValues(values: Values, f: (v: Value) => Value | undefined): Values {
  const out: Values = new Map();
  for (const [id, v] of values) {
    const result = f(v);
    if (result !== undefined) out.set(id, result);
  }
  return out;
}

/**
 * Pairs up operand values by instance: singular operands apply to every instance, indom
 * operands contribute only instances they all have (PCP's instance matching).
 */
function join(nodes: Node[], values: Values[], f: (args: Value[]) => Value | undefined): Values {
  const out: Values = new Map();
  const driver = nodes.findIndex((n) => n.meta.indom !== null);
  const ids = driver < 0 ? [SINGULAR] : values[driver]!.keys();
  for (const id of ids) {
    const args: Value[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const v = values[i]!.get(nodes[i]!.meta.indom === null ? SINGULAR : id);
      if (v === undefined) break;
      args.push(v);
    }
    if (args.length !== nodes.length) continue;
    const result = f(args);
    if (result !== undefined) out.set(id, result);
  }
  return out;
}

const truthy = (v: Value): boolean => (typeof v === 'bigint' ? v !== 0n : Number(v) !== 0);

function binary(node: Extract<Node, { kind: 'binary' }>, a: Value, b: Value): Value | undefined {
  const { op, leftScale, rightScale } = node;
  switch (op) {
    case '&&':
      return truthy(a) && truthy(b) ? 1 : 0;
    case '||':
      return truthy(a) || truthy(b) ? 1 : 0;
    default:
      break;
  }
  const x = leftScale === 1 ? a : Number(a) * leftScale;
  const y = rightScale === 1 ? b : Number(b) * rightScale;
  if (op === '+' || op === '-' || op === '*' || op === '/') return arithmetic(node.meta.type, op, x, y);
  // relational: JavaScript compares bigint with number exactly
  const [p, q] = [x as number | bigint, y as number | bigint];
  const holds = op === '<' ? p < q : op === '<=' ? p <= q : op === '>' ? p > q : op === '>=' ? p >= q : op === '==' ? p == q : p != q; // eslint-disable-line eqeqeq
  return holds ? 1 : 0;
}

function arithmetic(type: MetricType, op: ArithmeticOp, a: Value, b: Value): Value | undefined {
  if (type === 'u64' || type === '64') {
    // exact 64-bit integer arithmetic, wrapping as C does
    const [x, y] = [BigInt(a), BigInt(b)];
    const r = op === '+' ? x + y : op === '-' ? x - y : x * y;
    return type === 'u64' ? BigInt.asUintN(64, r) : BigInt.asIntN(64, r);
  }
  const [x, y] = [Number(a), Number(b)];
  // 32-bit products can pass 2^53: multiply as the C integers they are
  const r = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? (type === 'u32' || type === '32' ? Math.imul(x, y) : x * y) : x / y;
  return Number.isFinite(r) ? inType(type, r) : undefined;
}

/** A number as a value of the given type (C's wrap for 32-bit integers, float precision). */
function inType(type: MetricType, v: Value): Value {
  switch (type) {
    case 'u64':
    case '64':
      return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    case 'u32':
      return Number(v) >>> 0;
    case '32':
      return Number(v) | 0;
    case 'float':
      return Math.fround(Number(v));
    case 'double':
      return Number(v);
    default:
      return v;
  }
}

function call(node: Extract<Node, { kind: 'call' }>, source: OperandValues): Values {
  const values = evaluate(node.arg, source);
  switch (node.fn) {
    case 'instant':
      return values;
    case 'count':
      return new Map([[SINGULAR, values.size]]);
    case 'rate':
    case 'delta':
      return difference(node, values, source.time);
    default:
      return aggregate(node, values);
  }
}

/**
 * rate() and delta() against the previous sample this context fetched. The first fetch has
 * no previous sample and so no values; a second fetch of the same sample repeats the last
 * answer; a counter that went backwards (reset or wrap) gives no value for that instance
 * rather than a huge spike.
 */
function difference(node: Extract<Node, { kind: 'call' }>, values: Values, time: number): Values {
  const last = node.history;
  if (last && last.time === time) return last.result;
  const result: Values = new Map();
  if (last) {
    const seconds = (time - last.time) / 1000;
    const unsigned = node.arg.meta.type === 'u32' || node.arg.meta.type === 'u64';
    for (const [id, now] of values) {
      const before = last.operand.get(id);
      if (before === undefined) continue;
      const delta = typeof now === 'bigint' || typeof before === 'bigint' ? BigInt(now) - BigInt(before) : Number(now) - Number(before);
      if (delta < 0 && (unsigned || node.arg.meta.sem === 'counter')) continue;
      if (node.fn === 'delta') result.set(id, inType(node.meta.type, delta));
      else result.set(id, (Number(delta) / seconds) * node.rateScale);
    }
  }
  node.history = { time, operand: values, result };
  return result;
}

function aggregate(node: Extract<Node, { kind: 'call' }>, values: Values): Values {
  if (values.size === 0) return new Map();
  const all = [...values.values()];
  const bigint = all.some((v) => typeof v === 'bigint');
  let result: Value;
  switch (node.fn) {
    case 'sum':
      result = bigint ? all.reduce<bigint>((s, v) => s + BigInt(v), 0n) : all.reduce<number>((s, v) => s + Number(v), 0);
      break;
    case 'avg':
      result = all.reduce<number>((s, v) => s + Number(v), 0) / all.length;
      break;
    default: {
      const numbers = all as Array<number | bigint>;
      result = numbers.reduce((a, b) => ((node.fn === 'min' ? b < a : b > a) ? b : a));
    }
  }
  return new Map([[SINGULAR, inType(node.meta.type, result)]]);
}
