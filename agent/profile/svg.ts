import type { FrameKind } from './folded.js';
import { treeDepth, type CallTree } from './tree.js';

/**
 * A self-contained interactive flame graph, our own take on the picture Brendan Gregg's
 * flamegraph.pl draws: the root at the bottom, callees stacked above their callers, widths
 * proportional to samples. An inline script gives it zoom-on-click, search and details on
 * hover when opened on its own (a browser tab, `<object>`, `<iframe>`); the `<title>` of every
 * frame is its tooltip even where scripts do not run.
 */
export interface FlameGraphOptions {
  title: string;
  subtitle?: string;
  /** Pixels; 1200 by default. */
  width?: number;
}

const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
/** Average glyph width of the font at FONT_SIZE, to truncate labels without measuring text. */
const CHAR_WIDTH = FONT_SIZE * 0.59;
const PAD_X = 10;
const PAD_TOP = FRAME_HEIGHT * 3;
const PAD_BOTTOM = FRAME_HEIGHT * 2 + 4;
/** Frames narrower than this (pixels, unzoomed) are left out: they cannot be seen and would only bloat the file. */
const MIN_WIDTH = 0.1;

export function renderFlameGraph(tree: CallTree, options: FlameGraphOptions): string {
  const width = options.width ?? 1200;
  const depth = treeDepth(tree);
  const height = PAD_TOP + (depth + 1) * FRAME_HEIGHT + PAD_BOTTOM;
  const scale = tree.value > 0 ? (width - 2 * PAD_X) / tree.value : 0;
  const frames: string[] = [];

  const draw = (node: CallTree, start: number, level: number): void => {
    const w = node.value * scale;
    if (w < MIN_WIDTH) return;
    const x = PAD_X + start * scale;
    const y = height - PAD_BOTTOM - (level + 1) * FRAME_HEIGHT;
    const percent = tree.value > 0 ? (100 * node.value) / tree.value : 0;
    const tip = `${node.name} (${node.value} sample${node.value === 1 ? '' : 's'}, ${percent.toFixed(2)}%` +
      (node.children.length > 0 ? `, ${node.self} in itself)` : ')');
    frames.push(
      `<g class="f" data-x="${start}" data-w="${node.value}" data-name="${xml(node.name)}"><title>${xml(tip)}</title>` +
        `<rect x="${fixed(x)}" y="${y}" width="${fixed(w)}" height="${FRAME_HEIGHT - 1}" rx="2" ry="2" fill="${color(node.kind, node.name)}"/>` +
        `<text x="${fixed(x + 3)}" y="${y + FRAME_HEIGHT - 4.5}">${xml(label(node.name, w))}</text></g>`,
    );
    let offset = start;
    for (const child of node.children) {
      draw(child, offset, level + 1);
      offset += child.value;
    }
  };
  if (tree.value > 0) draw(tree, 0, 0);

  const empty = tree.value === 0
    ? `<text x="${width / 2}" y="${PAD_TOP + FRAME_HEIGHT}" text-anchor="middle">No samples: the target did not run on a CPU while it was profiled.</text>`
    : '';
  return (
    `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `data-pad="${PAD_X}" data-total="${tree.value}" font-family="Verdana, sans-serif" font-size="${FONT_SIZE}">\n` +
    `<style>text { fill: #000; } g.f { cursor: pointer; } g.f text { pointer-events: none; } ` +
    `g.f:hover rect { stroke: #000; stroke-width: 0.5; } g.parent rect { opacity: 0.5; } .button { cursor: pointer; fill: #1a5fb4; } ` +
    `.hidden { display: none; }</style>\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f2"/>\n` +
    `<text x="${width / 2}" y="${FRAME_HEIGHT + 2}" text-anchor="middle" font-size="${FONT_SIZE + 5}">${xml(options.title)}</text>\n` +
    (options.subtitle ? `<text x="${width / 2}" y="${2 * FRAME_HEIGHT + 4}" text-anchor="middle" fill="#555">${xml(options.subtitle)}</text>\n` : '') +
    `<text id="unzoom" class="button hidden" x="${PAD_X}" y="${FRAME_HEIGHT + 2}">Reset zoom</text>\n` +
    `<text id="search" class="button" x="${width - PAD_X}" y="${FRAME_HEIGHT + 2}" text-anchor="end">Search</text>\n` +
    `<text id="details" x="${PAD_X}" y="${height - FRAME_HEIGHT + 2}"> </text>\n` +
    `<text id="matched" x="${width - PAD_X}" y="${height - FRAME_HEIGHT + 2}" text-anchor="end"> </text>\n` +
    empty +
    `<g id="frames">\n${frames.join('\n')}\n</g>\n` +
    `<script type="text/ecmascript"><![CDATA[\n${SCRIPT}\n]]></script>\n` +
    `</svg>\n`
  );
}

/** The label that fits `width` pixels: the name, truncated with `..`, or nothing. */
export function label(name: string, width: number): string {
  const fits = Math.floor((width - 6) / CHAR_WIDTH);
  if (fits < 3) return '';
  return name.length <= fits ? name : `${name.slice(0, fits - 2)}..`;
}

function fixed(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Escapes text for XML character data and attribute values; drops characters XML 1.0 cannot carry. */
export function xml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A stable colour per name within its kind's palette, so one function looks the same in every graph. */
function color(kind: FrameKind | 'root', name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  const v1 = ((h >>> 0) % 1000) / 1000;
  const v2 = ((h >>> 10) % 1000) / 1000;
  const rgb = (r: number, g: number, b: number): string => `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;
  switch (kind) {
    case 'root': return 'rgb(210,210,210)';
    case 'process': return rgb(120 + 40 * v1, 170 + 40 * v2, 220);
    // The usual perf flame graph code: red native, orange kernel, green JIT.
    case 'kernel': return rgb(230 + 25 * v1, 145 + 45 * v2, 30 + 30 * v1);
    case 'jit': return rgb(60 + 50 * v1, 180 + 50 * v2, 70 + 40 * v1);
    case 'unknown': return rgb(160 + 30 * v1, 160 + 30 * v1, 160 + 30 * v1);
    case 'native': return rgb(200 + 55 * v1, 50 + 80 * v2, 40 + 30 * v1);
  }
}

/**
 * Runs in the browser. Frames carry their first sample and width in samples (`data-x`,
 * `data-w`), so zooming recomputes positions exactly instead of scaling pixels.
 */
const SCRIPT = `
(function () {
  var svg = document.documentElement.tagName.toLowerCase() === 'svg' ? document.documentElement : document.querySelector('svg');
  var width = +svg.getAttribute('width'), pad = +svg.getAttribute('data-pad'), total = +svg.getAttribute('data-total');
  var charWidth = ${CHAR_WIDTH}, minWidth = ${MIN_WIDTH};
  var frames = Array.prototype.slice.call(svg.querySelectorAll('g.f'));
  var details = svg.querySelector('#details'), matched = svg.querySelector('#matched');
  var unzoomButton = svg.querySelector('#unzoom'), searchButton = svg.querySelector('#search');
  var searching = null;

  function fit(name, w) {
    var n = Math.floor((w - 6) / charWidth);
    if (n < 3) return '';
    return name.length <= n ? name : name.slice(0, n - 2) + '..';
  }
  function place(f, x, w) {
    var rect = f.querySelector('rect'), text = f.querySelector('text');
    rect.setAttribute('x', x.toFixed(2));
    rect.setAttribute('width', w.toFixed(2));
    text.setAttribute('x', (x + 3).toFixed(2));
    text.textContent = fit(f.getAttribute('data-name'), w);
  }
  function zoom(x0, w0) {
    var scale = (width - 2 * pad) / w0;
    frames.forEach(function (f) {
      var x = +f.getAttribute('data-x'), w = +f.getAttribute('data-w');
      var contains = x <= x0 && x + w >= x0 + w0, inside = x >= x0 && x + w <= x0 + w0;
      f.classList.toggle('parent', contains && w > w0);
      if (contains) { place(f, pad, width - 2 * pad); f.classList.remove('hidden'); }
      else if (inside && w * scale >= minWidth) { place(f, pad + (x - x0) * scale, w * scale); f.classList.remove('hidden'); }
      else f.classList.add('hidden');
    });
    unzoomButton.classList.toggle('hidden', w0 >= total);
  }
  function search(pattern) {
    var re;
    try { re = new RegExp(pattern); } catch (e) { matched.textContent = 'Bad expression: ' + e.message; return; }
    var spans = [];
    frames.forEach(function (f) {
      var rect = f.querySelector('rect');
      if (!rect.hasAttribute('data-fill')) rect.setAttribute('data-fill', rect.getAttribute('fill'));
      var hit = re.test(f.getAttribute('data-name'));
      rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : rect.getAttribute('data-fill'));
      if (hit) spans.push([+f.getAttribute('data-x'), +f.getAttribute('data-w')]);
    });
    // Matches nest (a recursive function, a caller and its callee): count each sample once.
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var sum = 0, end = -1;
    spans.forEach(function (s) {
      var a = Math.max(s[0], end), b = s[0] + s[1];
      if (b > a) { sum += b - a; end = b; }
    });
    searching = pattern;
    searchButton.textContent = 'Reset search';
    matched.textContent = 'Matched: ' + (total > 0 ? (100 * sum / total).toFixed(2) : '0') + '% (' + spans.length + ' frames)';
  }
  function resetSearch() {
    frames.forEach(function (f) {
      var rect = f.querySelector('rect');
      if (rect.hasAttribute('data-fill')) rect.setAttribute('fill', rect.getAttribute('data-fill'));
    });
    searching = null;
    searchButton.textContent = 'Search';
    matched.textContent = ' ';
  }

  frames.forEach(function (f) {
    f.addEventListener('click', function () { zoom(+f.getAttribute('data-x'), +f.getAttribute('data-w')); });
    f.addEventListener('mouseover', function () { details.textContent = f.querySelector('title').textContent; });
    f.addEventListener('mouseout', function () { details.textContent = ' '; });
  });
  unzoomButton.addEventListener('click', function () { zoom(0, total); });
  searchButton.addEventListener('click', function () {
    if (searching !== null) return resetSearch();
    var pattern = window.prompt('Search frames (regular expression):', '');
    if (pattern) search(pattern);
  });
  window.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') zoom(0, total);
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') {
      e.preventDefault();
      var pattern = window.prompt('Search frames (regular expression):', searching || '');
      if (pattern) search(pattern);
    }
  });
  // For tests and for pages that embed the graph: the same actions without clicks.
  svg.flamegraph = { zoom: zoom, search: search, resetSearch: resetSearch };
})();`;
