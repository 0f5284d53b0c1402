import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAgent, type Agent } from '../../agent/agent.js';
import { DeriveSemanticError, DerivedMetric, operandNames } from '../../agent/derive/derived.js';
import { DeriveSyntaxError } from '../../agent/derive/lexer.js';
import { parseExpression, syntaxErrorMessage, type Expr } from '../../agent/derive/parser.js';
import { formatUnits, parseUnits, scaleFactor } from '../../agent/derive/units.js';
import type { MetricDesc, MetricType, Semantics } from '../../agent/metrics/types.js';
import { SINGULAR, Sample } from '../../agent/store/sample.js';
import { CHECKLIST } from './support.js';

/** PCP 6.0.3's descriptors of every metric on this host (test/fixtures/pcp/all-metrics-desc.tsv). */
const PCP = new Map<string, MetricDesc>(
  readFileSync(new URL('../fixtures/pcp/all-metrics-desc.tsv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [name = '', pmid = '', indom = '', type, sem, units = '', , oneline = ''] = line.split('\t');
      return [name, { name, pmid, indom: indom === 'PM_INDOM_NULL' ? null : indom, type: type as MetricType, sem: sem as Semantics, units, oneline }];
    }),
);

function bindPcp(expr: string, name = 'derived.x'): DerivedMetric {
  return new DerivedMetric(name, '511.2047.1023', parseExpression(expr), (n) => PCP.get(n));
}

function syntaxError(expr: string): string {
  try {
    parseExpression(expr);
  } catch (error) {
    if (error instanceof DeriveSyntaxError) return syntaxErrorMessage('derived.bad', expr, error);
    throw error;
  }
  assert.fail(`"${expr}" parsed`);
}

function semanticError(expr: string): string {
  assert.throws(() => bindPcp(expr), DeriveSemanticError);
  try {
    bindPcp(expr);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

/** The tree as fully parenthesised text, to check precedence. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return e.text;
    case 'name':
      return e.name;
    case 'negate':
      return `(-${show(e.operand)})`;
    case 'not':
      return `(!${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)}${e.op}${show(e.right)})`;
    case 'ternary':
      return `(${show(e.test)}?${show(e.then)}:${show(e.otherwise)})`;
    case 'call':
      return `${e.fn}(${show(e.arg)})`;
  }
}

describe('units', () => {
  test('every unit string of PCP 6.0.3 on this host survives parse and print unchanged', () => {
    const seen = new Set([...PCP.values()].map((d) => d.units));
    assert.ok(seen.size >= 15, `only ${seen.size} distinct unit strings`);
    for (const units of seen) assert.equal(formatUnits(parseUnits(units)), units);
  });

  test('scale factors convert between scales of one dimension', () => {
    assert.equal(scaleFactor(parseUnits('Kbyte'), parseUnits('byte')), 1024);
    assert.equal(scaleFactor(parseUnits('millisec'), parseUnits('sec')), 1 / 1000);
    assert.equal(scaleFactor(parseUnits('count / millisec'), parseUnits('count / sec')), 1000);
    assert.equal(scaleFactor(parseUnits('Mbyte / sec'), parseUnits('Kbyte / sec')), 1024);
  });
});

describe('parser', () => {
  test('precedence and associativity as pmRegisterDerived(3) documents them', () => {
    const cases: Array<[string, string]> = [
      ['a+b*c', '(a+(b*c))'],
      ['a-b-c', '((a-b)-c)'],
      ['a-b>c+d', '((a-b)>(c+d))'],
      ['a>b!=c', '((a>b)!=c)'],
      ['a>b*c&&d<=e+f', '((a>(b*c))&&(d<=(e+f)))'],
      ['a>=b||b>c&&d!=e||f>g', '((((a>=b)||(b>c))&&(d!=e))||(f>g))'],
      ['!a>b||c<d', '(!((a>b)||(c<d)))'],
      ['!a<b+c', '(!(a<(b+c)))'],
      ['-3*some.metric', '((-3)*some.metric)'],
      ['a > 0 ? b : c ? d : e', '((a>0)?b:(c?d:e))'],
      ['(rate(x)+rate(y)) / 2.5e1', '((rate(x)+rate(y))/2.5e1)'],
      ['defined(no.such) ? 1 : 0', '(defined(no.such)?1:0)'],
    ];
    for (const [expr, tree] of cases) assert.equal(show(parseExpression(expr)), tree, expr);
  });

  test('syntax errors are worded as PCP words them, with a caret under the offending token', () => {
    // the exact text real pmproxy 6.0.3 answered (test/fixtures/golden/error-derive-syntax.txt)
    assert.equal(
      syntaxError('hinv.ncpu**'),
      'Syntax Error: pmAddDerivedMetric("derived.bad", ...)\nhinv.ncpu**\n          ^\nArithmetic expression expected to follow STAR\n',
    );
    assert.match(syntaxError('a + '), /\na \+ \n    \^\nArithmetic expression expected to follow PLUS\n$/);
    assert.match(syntaxError('a && )'), /\n     \^\nBoolean expression expected to follow AND\n$/);
    assert.match(syntaxError('a $ b'), /\n  \^\nIllegal character\n$/);
    assert.match(syntaxError('4294967296 * a'), /\n\^\nConstant value too large\n$/);
    assert.match(syntaxError('hinv.ncpu hinv.ncpu'), /\n {10}\^\nArithmetic or relational or boolean operator expected to follow NAME\n$/);
    assert.match(syntaxError('rate(x'), /Missing \) to match rate\(\n$/);
    assert.match(syntaxError('rate()'), /Arithmetic expression expected to follow rate\(\n$/);
    assert.match(syntaxError('* 2'), /Unexpected initial \*\n$/);
    assert.match(syntaxError('a ? b'), /Missing : in ternary/);
  });
});

describe('semantics', () => {
  test("every expression of grafana-pcp's checklist dashboards binds against PCP's descriptors", () => {
    for (const expr of CHECKLIST) {
      const operands = operandNames(parseExpression(expr));
      assert.ok(operands.length > 0, expr);
      for (const operand of operands) assert.ok(PCP.has(operand), `${expr}: ${operand} is not a PCP metric`);
      const { desc } = bindPcp(expr);
      assert.ok(['double', 'u64', 'u32'].includes(desc.type), `${expr}: type ${desc.type}`);
    }
  });

  test('types, semantics and units follow PCP: rate of a time counter is a utilization, of bytes a byte rate', () => {
    const describeOf = (expr: string): string => {
      const d = bindPcp(expr).desc;
      return `${d.type} ${d.sem} ${d.units} ${d.indom ?? 'singular'}`;
    };
    // golden metric-derived.txt: hinv.ncpu*2 is u32 discrete none
    assert.equal(describeOf('hinv.ncpu*2'), 'u32 discrete none singular');
    assert.equal(describeOf('mem.physmem / 1024'), 'double discrete Kbyte singular');
    assert.equal(describeOf('rate(kernel.all.cpu.user)'), 'double instant none singular');
    assert.equal(describeOf('1 - rate(kernel.percpu.cpu.idle)'), 'double instant none 60.0');
    assert.equal(describeOf('rate(network.interface.in.bytes)'), 'double instant byte / sec 60.3');
    assert.equal(describeOf('rate(disk.dev.read_bytes)'), 'double instant Kbyte / sec 60.1');
    assert.equal(describeOf('delta(disk.dev.total_bytes)/delta(disk.dev.total)'), 'double instant Kbyte / count 60.1');
    assert.equal(describeOf('rate(network.interface.in.bytes) / network.interface.baudrate'), 'double instant none 60.3');
    assert.equal(describeOf('disk.all.read + disk.all.write'), 'u64 counter count singular');
    assert.equal(describeOf('network.interface.in.drops > 0'), 'u32 instant none 60.3');
    assert.equal(describeOf('count(kernel.percpu.cpu.user)'), 'u32 instant count singular');
    assert.equal(describeOf('avg(kernel.all.load)'), 'float instant none singular');
    assert.equal(describeOf('sum(network.interface.in.bytes)'), 'u64 instant byte singular');
    assert.equal(describeOf('instant(kernel.all.cpu.user)'), 'u64 instant millisec singular');
    // scales: the larger wins and the result is a double (Mbyte + Kbyte → Mbyte)
    assert.equal(describeOf('hinv.physmem + mem.physmem'), 'double discrete Mbyte singular');
    assert.equal(describeOf('kernel.all.uptime - instant(kernel.all.cpu.idle) / 1000'), 'double instant sec singular');
  });

  test('semantic errors name the operands and the reason as PCP does', () => {
    assert.equal(semanticError('kernel.all.load + mem.util.free'), 'kernel.all.load + mem.util.free: Dimensions are not the same');
    assert.equal(semanticError('disk.all.read * disk.all.write'), 'disk.all.read * disk.all.write: Illegal operator for counters');
    assert.equal(semanticError('disk.all.read - 1'), 'disk.all.read - 1: Illegal operator for counter and non-counter');
    assert.equal(semanticError('kernel.uname.release + 1'), 'kernel.uname.release + 1: Non-arithmetic type for left operand');
    assert.equal(
      semanticError('kernel.all.load + kernel.all.pressure.cpu.some.avg'),
      'kernel.all.load + kernel.all.pressure.cpu.some.avg: Operands should have the same instance domain',
    );
    assert.equal(semanticError('rate(kernel.uname.release)'), 'rate(kernel.uname.release): Non-arithmetic operand for function');
    assert.equal(semanticError('rate(network.interface.baudrate / kernel.all.uptime)'), 'rate(<expr>): Incorrect time dimension for operand');
  });
});

describe('evaluation', () => {
  let agent: Agent;
  before(async () => {
    // These tests evaluate against the agent's samples directly, so it collects everything (not on demand).
    agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, collectors: ['stat', 'meminfo', 'network', 'loadavg'], collect: 'all' });
  });
  after(async () => agent.close());

  const bind = (expr: string): DerivedMetric =>
    new DerivedMetric('derived.x', '511.2047.1023', parseExpression(expr), (n) => agent.table.metric(n));

  test('rate() of a real time counter is its utilization, computed from the previous sample', async () => {
    const idle = bind('1 - rate(kernel.percpu.cpu.idle)');
    const first = await agent.sampler.sampleNow();
    assert.equal(idle.evaluate(first).size, 0, 'no previous sample: no values yet');
    await sleep(300);
    const second = await agent.sampler.sampleNow();
    const busy = idle.evaluate(second);
    const before_ = first.get('kernel.percpu.cpu.idle')!;
    const now = second.get('kernel.percpu.cpu.idle')!;
    assert.ok(busy.size >= 1 && busy.size === now.size, 'one value per CPU');
    for (const [cpu, value] of busy) {
      const expected = 1 - Number((now.get(cpu) as bigint) - (before_.get(cpu) as bigint)) / ((second.time - first.time) / 1000) / 1000;
      assert.ok(Math.abs((value as number) - expected) < 1e-9, `cpu ${cpu}: ${value} vs ${expected}`);
      assert.ok((value as number) > -0.5 && (value as number) <= 1.01, `cpu ${cpu} busy fraction ${value}`);
    }
    // the same sample again gives the same answer (no division by a zero interval)
    assert.deepEqual(idle.evaluate(second), busy);
  });

  test('u64 arithmetic stays exact past 2^53 and wraps as C does', async () => {
    const sample = await agent.sampler.sampleNow();
    const bytes = [...sample.get('network.interface.in.bytes')!];
    const product = bind('network.interface.in.bytes * 4294967295 * 4294967295').evaluate(sample);
    for (const [id, value] of bytes) {
      const expected = BigInt.asUintN(64, (value as bigint) * 4294967295n * 4294967295n);
      assert.equal(product.get(id), expected);
    }
    // two u32 constants multiply as u32: (2^32-1)^2 mod 2^32
    assert.equal(bind('4294967295 * 4294967295').evaluate(sample).get(SINGULAR), 1);
  });

  test('instances match between indom operands; singular operands apply to every instance', async () => {
    const sample = await agent.sampler.sampleNow();
    const packets = bind('instant(network.interface.in.bytes) * 2 / network.interface.mtu').evaluate(sample);
    const inBytes = sample.get('network.interface.in.bytes')!;
    const mtu = sample.get('network.interface.mtu')!;
    assert.ok(packets.size > 0 && packets.size === inBytes.size, 'one value per interface');
    for (const [id, value] of packets) assert.equal(value, Number((inBytes.get(id) as bigint) * 2n) / Number(mtu.get(id)));
    const memory = bind('hinv.physmem + mem.physmem').evaluate(sample).get(SINGULAR) as number;
    const expected = Number(sample.get('hinv.physmem')!.get(SINGULAR)) + Number(sample.get('mem.physmem')!.get(SINGULAR)) / 1024;
    assert.ok(Math.abs(memory - expected) < 1e-6, `${memory} Mbyte vs ${expected}`);
  });

  test('a counter that went backwards gives no rate for that instance instead of a spike', () => {
    const counter = agent.table.metric('network.interface.in.bytes')!;
    const rate = bind('rate(network.interface.in.bytes)');
    const at = (time: number, values: Array<[number, bigint]>): Sample => {
      const sample = new Sample(time);
      sample.values.set(counter.name, new Map(values));
      return sample;
    };
    rate.evaluate(at(1000, [[0, 5000n], [1, 100n]]));
    const result = rate.evaluate(at(3000, [[0, 1000n], [1, 300n]]));
    assert.deepEqual([...result], [[1, 100]], 'instance 0 reset: no value; instance 1: 200 bytes over 2 s');
  });

  test('ternary, relational, boolean, aggregates and defined()', async () => {
    const sample = await agent.sampler.sampleNow();
    const loads = [...sample.get('kernel.all.load')!.values()].map(Number);
    assert.equal(bind('count(kernel.all.load)').evaluate(sample).get(SINGULAR), loads.length);
    assert.equal(bind('max(kernel.all.load)').evaluate(sample).get(SINGULAR), Math.fround(Math.max(...loads)), 'float, as the operand');
    assert.equal(bind('defined(kernel.all.load) && !defined(no.such.metric)').evaluate(sample).get(SINGULAR), 1);
    const over = bind('kernel.all.load >= 0 ? 2 : 3').evaluate(sample);
    assert.deepEqual([...over.values()], loads.map(() => 2));
  });
});
