import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FoldedStacks, foldSample } from '../../agent/profile/folded.js';
import { parsePerfScript } from '../../agent/profile/perf-script.js';
import { label, renderFlameGraph } from '../../agent/profile/svg.js';
import { callTree, type CallTree } from '../../agent/profile/tree.js';

interface Element {
  name: string;
  attributes: Record<string, string>;
  children: Element[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, where: string): string {
  return text.replace(/&(#\d+|#x[0-9a-fA-F]+|\w+);|&/g, (all, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare & in ${where}`);
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)));
    if (!(ref in ENTITIES)) throw new Error(`unknown entity ${all} in ${where}`);
    return ENTITIES[ref]!;
  });
}

/**
 * A strict parser for the XML subset an SVG file uses (declaration, elements, attributes,
 * character data, CDATA): throws on anything not well-formed, so the test fails where a
 * browser would show a parse error instead of the graph.
 */
function parseXml(text: string): Element {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${at}: ${JSON.stringify(text.slice(at, at + 60))}`);
  };
  if (text.startsWith('<?xml')) at = text.indexOf('?>') + 2;
  const root: Element = { name: '#document', attributes: {}, children: [], text: '' };
  const stack = [root];
  while (at < text.length) {
    const top = stack.at(-1)!;
    if (text.startsWith('<![CDATA[', at)) {
      const end = text.indexOf(']]>', at);
      if (end < 0) fail('unterminated CDATA');
      top.text += text.slice(at + 9, end);
      at = end + 3;
    } else if (text.startsWith('</', at)) {
      const m = /^<\/([A-Za-z][\w:.-]*)\s*>/.exec(text.slice(at));
      if (!m) fail('bad end tag');
      if (m![1] !== top.name) fail(`</${m![1]}> closes <${top.name}>`);
      stack.pop();
      at += m![0].length;
    } else if (text[at] === '<') {
      const m = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(text.slice(at));
      if (!m) fail('bad start tag');
      const element: Element = { name: m![1]!, attributes: {}, children: [], text: '' };
      for (const a of m![2]!.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        if (a[1]! in element.attributes) fail(`duplicate attribute ${a[1]}`);
        element.attributes[a[1]!] = decode(a[2] ?? a[3]!, `attribute ${a[1]}`);
      }
      top.children.push(element);
      if (m![3] !== '/') stack.push(element);
      at += m![0].length;
    } else {
      const end = text.indexOf('<', at);
      const chunk = text.slice(at, end < 0 ? text.length : end);
      if (chunk.includes('>') && chunk.includes(']]>')) fail(']]> in character data');
      top.text += decode(chunk, 'text');
      at = end < 0 ? text.length : end;
    }
  }
  if (stack.length !== 1) fail(`unclosed <${stack.at(-1)!.name}>`);
  if (root.children.length !== 1) fail('not exactly one root element');
  return root.children[0]!;
}

function all(element: Element, name: string): Element[] {
  return [...(element.name === name ? [element] : []), ...element.children.flatMap((c) => all(c, name))];
}

const samples = parsePerfScript(readFileSync(new URL('../fixtures/perf-host/script.txt', import.meta.url), 'utf8'));
const folded = new FoldedStacks();
for (const s of samples) folded.add(foldSample(s, () => undefined));
const tree = callTree(folded.counts);

test('the flame graph of a real profile is well-formed SVG with a frame per visible call tree node', () => {
  const svg = parseXml(renderFlameGraph(tree, { title: 'CPU flame graph: host', subtitle: 'test' }));
  assert.equal(svg.name, 'svg');
  assert.equal(svg.attributes.xmlns, 'http://www.w3.org/2000/svg');
  const width = Number(svg.attributes.width);
  const scale = (width - 20) / tree.value;
  let visible = 0;
  const count = (n: CallTree): void => {
    if (n.value * scale < 0.1) return;
    visible++;
    n.children.forEach(count);
  };
  count(tree);
  const frames = all(svg, 'g').filter((g) => g.attributes.class === 'f');
  assert.equal(frames.length, visible);
  assert.equal(all(svg, 'script').length, 1, 'one inline script for zoom and search');
  assert.match(all(svg, 'script')[0]!.text, /function zoom\(/);
});

test('a frame carries its samples for zoom, a tooltip with count and percent, a rect as wide as its share', () => {
  const svg = parseXml(renderFlameGraph(tree, { title: 't' }));
  const scale = (Number(svg.attributes.width) - 20) / tree.value;
  const burner = tree.children.find((c) => c.name === 'hot burner')!;
  const hot = burner.children.find((c) => c.name === '__libc_start_call_main')!.children.find((c) => c.name === 'burn_hot_function')!;
  const frame = all(svg, 'g').find((g) => g.attributes['data-name'] === 'burn_hot_function')!;
  assert.ok(frame, 'a frame for burn_hot_function');
  assert.equal(Number(frame.attributes['data-w']), hot.value);
  const rect = frame.children.find((c) => c.name === 'rect')!;
  assert.ok(Math.abs(Number(rect.attributes.width) - hot.value * scale) < 0.01);
  const title = frame.children.find((c) => c.name === 'title')!.text;
  assert.equal(title, `burn_hot_function (${hot.value} samples, ${((100 * hot.value) / tree.value).toFixed(2)}%)`);
  assert.equal(frame.children.find((c) => c.name === 'text')!.text, label('burn_hot_function', Number(rect.attributes.width)));
  // Its caller's frame sits one row lower and spans it (burn_cold_function comes first, by name).
  const x = Number(frame.attributes['data-x']);
  const parent = all(svg, 'g').find((g) => g.attributes['data-name'] === '__libc_start_call_main' &&
    Number(g.attributes['data-x']) <= x && Number(g.attributes['data-x']) + Number(g.attributes['data-w']) >= x + hot.value)!;
  const parentRect = parent.children.find((c) => c.name === 'rect')!;
  assert.equal(Number(parentRect.attributes.y) - Number(rect.attributes.y), 16);
});

test('names with XML metacharacters are escaped and come back intact', () => {
  const names = ['std::vector<int>::operator[]', 'a&b "quoted" \'single\'', ']]> not CDATA', 'ctl\u0001char'];
  const weird = callTree(names.map((n) => [`proc;${n}`, 1] as const));
  const svg = parseXml(renderFlameGraph(weird, { title: '<title & "quotes">' }));
  const got = all(svg, 'g').map((g) => g.attributes['data-name']);
  for (const n of names.slice(0, 3)) assert.ok(got.includes(n), n);
  assert.ok(got.includes('ctlchar'), 'characters XML cannot carry are dropped');
  assert.ok(all(svg, 'text').some((t) => t.text === '<title & "quotes">'));
});

test('labels are truncated to fit their frame; an empty profile says so instead of drawing nothing', () => {
  assert.equal(label('burn_hot_function', 1000), 'burn_hot_function');
  assert.equal(label('burn_hot_function', 77), 'burn_hot..');
  assert.equal(label('burn_hot_function', 10), '');
  const svg = parseXml(renderFlameGraph(callTree([]), { title: 'nothing' }));
  assert.equal(all(svg, 'g').filter((g) => g.attributes.class === 'f').length, 0);
  assert.ok(all(svg, 'text').some((t) => t.text.startsWith('No samples')));
});
