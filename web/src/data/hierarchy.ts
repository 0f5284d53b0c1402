/**
 * Trees for the icicle chart: the cgroup hierarchy sized by a resource (slices → pods →
 * containers → processes), or a CPU call tree from a profile. Both become `TreeNode`s whose
 * `value` is inclusive (a node covers its children), the shape flame graphs share.
 */

export interface TreeNode {
  name: string;
  /** Inclusive value: this node and everything below it. */
  value: number;
  children: TreeNode[];
  /** What the node is, for colour and tooltips: `cgroup`, `container`, `process`, `frame`. */
  kind?: string;
  /** Extra tooltip line (container name, command line, host). */
  detail?: string;
}

export interface CgroupValue {
  /** cgroup path as the agent names it: `/`, `/system.slice/docker-abc.scope`. */
  path: string;
  value: number;
  /** Shown instead of the path's last part (a container's name). */
  label?: string;
  kind?: string;
  detail?: string;
}

export interface ProcessValue {
  /** The cgroup path the process is in. */
  cgroup: string;
  name: string;
  value: number;
  detail?: string;
}

/**
 * The cgroup hierarchy from per-cgroup values. cgroup counters are hierarchical (a parent's
 * CPU time includes its children's), so a measured node keeps its own value and children are
 * laid inside it; the part not explained by children is its own (processes directly in it).
 * Sampling skew can make children add up to a little more than the parent: the parent then
 * takes the sum, so the picture never overflows. Unmeasured interior nodes take the sum.
 */
export function cgroupTree(values: readonly CgroupValue[], processes: readonly ProcessValue[] = [], rootName = '/'): TreeNode {
  const root: TreeNode = { name: rootName, value: NaN, children: [], kind: 'cgroup' };
  const byPath = new Map<string, TreeNode>([['/', root]]);
  const nodeFor = (path: string): TreeNode => {
    const normal = path === '' ? '/' : path;
    let node = byPath.get(normal);
    if (node) return node;
    const cut = normal.lastIndexOf('/');
    const parent = nodeFor(cut <= 0 ? '/' : normal.slice(0, cut));
    node = { name: normal.slice(cut + 1), value: NaN, children: [], kind: 'cgroup' };
    parent.children.push(node);
    byPath.set(normal, node);
    return node;
  };
  for (const v of values) {
    const node = nodeFor(v.path);
    node.value = v.value;
    if (v.label) node.name = v.label;
    if (v.kind) node.kind = v.kind;
    if (v.detail) node.detail = v.detail;
  }
  for (const p of processes) {
    if (!(p.value > 0)) continue;
    nodeFor(p.cgroup).children.push({ name: p.name, value: p.value, children: [], kind: 'process', detail: p.detail });
  }
  settle(root);
  return root;
}

/** Fills unmeasured values bottom-up, clamps parents to their children, sorts big first. */
function settle(node: TreeNode): number {
  let sum = 0;
  for (const child of node.children) sum += settle(child);
  node.value = Number.isFinite(node.value) && node.value >= 0 ? Math.max(node.value, sum) : sum;
  node.children = node.children.filter((c) => c.value > 0).sort((a, b) => b.value - a.value);
  return node.value;
}

/**
 * A call tree as a profiler returns it (`{name, value, children}`; `total`/`self` spelled out
 * are accepted too) made into a TreeNode: values inclusive, children sorted, bad nodes named.
 */
export function callTree(input: unknown): TreeNode {
  const visit = (raw: unknown, depth: number): TreeNode => {
    if (depth > 512) throw new Error('call tree deeper than 512 frames; is it cyclic?');
    const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const children = Array.isArray(o.children) ? o.children.map((c) => visit(c, depth + 1)) : [];
    const given = typeof o.total === 'number' ? o.total : typeof o.value === 'number' ? o.value : NaN;
    // The profiler marks processes and kernel frames; everything else is a user-space frame.
    const kind = o.kind === 'process' || o.kind === 'kernel' ? o.kind : 'frame';
    const node: TreeNode = { name: typeof o.name === 'string' ? o.name : '(unnamed)', value: given, children, kind };
    if (typeof o.self === 'number' && !Number.isFinite(given)) node.value = o.self + children.reduce((s, c) => s + c.value, 0);
    return node;
  };
  const root = visit(input, 0);
  settle(root);
  return root;
}

/** The node at `path` (names from the root's child down), or the deepest one that exists. */
export function findPath(root: TreeNode, path: readonly string[]): { node: TreeNode; trail: TreeNode[] } {
  const trail = [root];
  let node = root;
  for (const name of path) {
    const next = node.children.find((c) => c.name === name);
    if (!next) break;
    trail.push(next);
    node = next;
  }
  return { node, trail };
}

/**
 * Rectangles of an icicle chart of `focus`, as flat columns (one entry per drawn node):
 * x and width as fractions of the full width, depth as the row. Nodes narrower than
 * `minWidth` are not laid out (with their subtrees): a canvas cannot show them anyway.
 */
export interface IcicleLayout {
  x: Float64Array;
  width: Float64Array;
  depth: Int32Array;
  /** Index of each rectangle's parent rectangle (-1 for the focus). */
  parent: Int32Array;
  nodes: TreeNode[];
  /** Deepest row used + 1. */
  rows: number;
  count: number;
}

export function icicleLayout(focus: TreeNode, minWidth = 0.0005, maxNodes = 20_000): IcicleLayout {
  const x = new Float64Array(maxNodes);
  const width = new Float64Array(maxNodes);
  const depth = new Int32Array(maxNodes);
  const parent = new Int32Array(maxNodes);
  const nodes: TreeNode[] = [];
  let rows = 0;
  const total = focus.value;
  if (!(total > 0)) return { x, width, depth, parent, nodes, rows, count: 0 };
  // Breadth-first so that, when maxNodes cuts, it cuts the deepest (least visible) rows.
  const queue: Array<[TreeNode, number, number, number]> = [[focus, 0, 0, -1]];
  for (let head = 0; head < queue.length && nodes.length < maxNodes; head++) {
    const [node, x0, d, up] = queue[head]!;
    const i = nodes.length;
    x[i] = x0;
    width[i] = node.value / total;
    depth[i] = d;
    parent[i] = up;
    nodes.push(node);
    if (d + 1 > rows) rows = d + 1;
    let cx = x0;
    for (const child of node.children) {
      const cw = child.value / total;
      if (cw >= minWidth) queue.push([child, cx, d + 1, i]);
      cx += cw;
    }
  }
  return { x, width, depth, parent, nodes, rows, count: nodes.length };
}

/** Names from the focus's child down to rectangle `i` (the focus itself: []). */
export function pathTo(layout: IcicleLayout, i: number): string[] {
  const names: string[] = [];
  for (let k = i; k > 0 && layout.parent[k]! >= 0; k = layout.parent[k]!) names.unshift(layout.nodes[k]!.name);
  return names;
}

/** Index of the rectangle under (fx, row) in a layout, or -1. */
export function hitTest(layout: IcicleLayout, fx: number, row: number): number {
  for (let i = 0; i < layout.count; i++) {
    if (layout.depth[i] === row && fx >= layout.x[i]! && fx < layout.x[i]! + layout.width[i]!) return i;
  }
  return -1;
}
