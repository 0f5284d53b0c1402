import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callTree, cgroupTree, findPath, hitTest, icicleLayout } from '../../web/src/data/hierarchy.js';

test('the cgroup hierarchy from cgroup paths: inclusive values, processes as leaves', () => {
  const root = cgroupTree(
    [
      { path: '/', value: 2.0 },
      { path: '/system.slice', value: 0.5 },
      { path: '/system.slice/docker-abc.scope', value: 0.4, kind: 'container', detail: 'web' },
      { path: '/kubepods/burstable/pod1/ctr', value: 1.2, kind: 'container' },
      { path: '/idle', value: 0 },
    ],
    [{ cgroup: '/system.slice/docker-abc.scope', name: 'nginx', value: 0.3 }],
  );
  assert.equal(root.value, 2.0);
  assert.deepEqual(root.children.map((c) => c.name), ['kubepods', 'system.slice'], 'biggest first; empty cgroups left out');
  // Unmeasured interior nodes (kubepods, burstable, pod1) take the sum of what is below them.
  const { node: pod, trail } = findPath(root, ['kubepods', 'burstable', 'pod1']);
  assert.equal(pod.value, 1.2);
  assert.equal(trail.length, 4);
  const { node: scope } = findPath(root, ['system.slice', 'docker-abc.scope']);
  assert.equal(scope.kind, 'container');
  assert.equal(scope.children[0]!.name, 'nginx');
  assert.equal(scope.children[0]!.kind, 'process');
});

test('children measured a little above their parent (sampling skew) never overflow it', () => {
  const root = cgroupTree([
    { path: '/a', value: 1.0 },
    { path: '/a/b', value: 0.7 },
    { path: '/a/c', value: 0.5 },
  ]);
  const a = root.children[0]!;
  assert.equal(a.value, 1.2);
  assert.ok(a.children.reduce((s, c) => s + c.value, 0) <= a.value);
});

test('a profiler call tree, with self counts, becomes an inclusive tree', () => {
  const tree = callTree({
    name: 'all',
    value: 10,
    children: [
      { name: 'main', self: 1, children: [{ name: 'burn_hot_function', value: 7 }] },
      { name: 'idle', value: 2 },
      'junk',
    ],
  });
  assert.equal(tree.value, 10);
  assert.deepEqual(tree.children.map((c) => [c.name, c.value]), [['main', 8], ['idle', 2]]);
  assert.equal(callTree({ name: 'all', value: 1, children: [{ name: 'sh', kind: 'process', value: 1 }] }).children[0]!.kind, 'process');
});

test('icicle layout: widths are shares of the focus, rows are depths, hits find the rectangle', () => {
  const root = cgroupTree([{ path: '/a', value: 3 }, { path: '/b', value: 1 }, { path: '/a/x', value: 1.5 }]);
  const layout = icicleLayout(root);
  assert.equal(layout.count, 4);
  assert.equal(layout.rows, 3);
  const byName = new Map(layout.nodes.map((n, i) => [n.name, i]));
  assert.equal(layout.width[byName.get('a')!], 0.75);
  assert.equal(layout.x[byName.get('b')!], 0.75);
  assert.equal(layout.width[byName.get('x')!], 0.375);
  assert.equal(layout.nodes[hitTest(layout, 0.8, 1)]!.name, 'b');
  assert.equal(layout.nodes[hitTest(layout, 0.1, 2)]!.name, 'x');
  assert.equal(hitTest(layout, 0.5, 2), -1);
  // Zoomed into /a: it fills the width.
  const zoomed = icicleLayout(findPath(root, ['a']).node);
  assert.equal(zoomed.width[0], 1);
  assert.equal(zoomed.width[1], 0.5);
  // Slivers too narrow to draw are not laid out.
  const tiny = cgroupTree([{ path: '/big', value: 1e6 }, { path: '/tiny', value: 1 }]);
  assert.deepEqual(icicleLayout(tiny).nodes.map((n) => n.name), ['/', 'big']);
});
