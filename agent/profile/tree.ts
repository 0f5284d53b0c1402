import { splitFrameName, type FrameKind } from './folded.js';

/**
 * A call tree as d3-flame-graph and the console draw it: `value` is the samples in this frame
 * and everything it called (total), `self` those in the frame itself. Children are sorted by
 * name, the flame graph convention, so that the same profile always draws the same picture.
 */
export interface CallTree {
  name: string;
  kind: FrameKind | 'root';
  value: number;
  self: number;
  children: CallTree[];
}

interface Building {
  name: string;
  kind: FrameKind | 'root';
  value: number;
  self: number;
  kids: Map<string, Building>;
}

/** Builds the tree of folded stacks (stack → count), under a root named `rootName`. */
export function callTree(stacks: Iterable<readonly [string, number]>, rootName = 'all'): CallTree {
  const root: Building = { name: rootName, kind: 'root', value: 0, self: 0, kids: new Map() };
  for (const [stack, count] of stacks) {
    root.value += count;
    let node = root;
    let depth = 0;
    for (const frame of stack.split(';')) {
      depth++;
      let kid = node.kids.get(frame);
      if (!kid) {
        const { name, kind } = splitFrameName(frame, depth);
        node.kids.set(frame, (kid = { name, kind, value: 0, self: 0, kids: new Map() }));
      }
      kid.value += count;
      node = kid;
    }
    node.self += count;
  }
  return finish(root);
}

function finish(node: Building): CallTree {
  const children = [...node.kids.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(finish);
  return { name: node.name, kind: node.kind, value: node.value, self: node.self, children };
}

/** The deepest level below the root (the root is depth 0). */
export function treeDepth(tree: CallTree): number {
  let deepest = 0;
  for (const child of tree.children) deepest = Math.max(deepest, 1 + treeDepth(child));
  return deepest;
}
