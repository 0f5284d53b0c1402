import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startAgentProcess, type AgentProcess } from '../support/agent.js';
import { TestCgroup, type CgroupProcess } from '../support/cgroup.js';

/**
 * The console in real headless Chromium against two real agents on this machine: open it from
 * the first, add the second, see real data drawn, find a real cgroup with a CPU burner in the
 * containers and icicle views, pause and resume, open its page, reload. Screenshots of the
 * main views go to docs/screenshots/.
 */

const CHROMIUM = '/usr/bin/chromium';
const WEB = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
// Flags from /work/shared/machine/recipes/chromium.sh that make Chromium run headless as root.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Polls `check` until it returns a truthy value; fails with what it last saw. */
async function until<T>(what: string, check: () => Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last saw: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(250);
  }
}

/** A hash of what a chart's canvas shows now: changes when anything is drawn differently. */
async function canvasHash(page: Page, selector: string): Promise<string> {
  const data = await page.locator(selector).first().evaluate((chart) => chart.shadowRoot!.querySelector('canvas')!.toDataURL());
  return createHash('sha1').update(data).digest('hex');
}

async function legend(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).first().evaluate((chart) => (chart as unknown as { legendValues: string[] }).legendValues);
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the web console in Chromium', { timeout: 300_000 }, () => {
  let a: AgentProcess | undefined;
  let b: AgentProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let cgroup: TestCgroup | undefined;
  let burner: CgroupProcess;
  const errors: string[] = [];

  before(async () => {
    if (!existsSync(WEB)) throw new Error(`${WEB} is missing: run \`npm run build\` first (npm test does)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
    mkdirSync(SHOTS, { recursive: true });
    cgroup = new TestCgroup();
    // Half a core of quota and a memory limit, so the limits show on the container's page.
    cgroup.set('cpu', 'cpu.cfs_period_us', 100_000);
    cgroup.set('cpu', 'cpu.cfs_quota_us', 50_000);
    cgroup.set('memory', 'memory.limit_in_bytes', 256 * 2 ** 20);
    burner = await cgroup.spawn('/bin/sh', ['-c', 'while :; do :; done']);
    [a, b] = await Promise.all([startAgentProcess(['--interval', '1s']), startAgentProcess(['--interval', '1s'])]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => errors.push(`${error.message} ${error.stack ?? ''}`.slice(0, 3000)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
  });

  after(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await cgroup?.destroy();
  });

  test('opens connected to the agent that served it, showing its live data', async () => {
    await page.goto(`${a!.url}/`);
    await until('the first agent to be live', () => page.locator(`host-list .chip[data-url="${a!.url}"][data-state="live"]`).count());
    assert.equal(await page.locator('host-list .chip').count(), 1);
    assert.equal(new URL(page.url()).search, '', 'the default view needs no query');
    await until('the CPU chart to draw', () => page.locator('metric-chart[data-widget="cpu"] canvas').count());
    // A live host's chip holds still while samples arrive (its lag is in the tooltip, and on the
    // chip only when a second or more late): no header re-layout every sample.
    const chip = page.locator(`host-list .chip[data-url="${a!.url}"]`);
    const seen = { texts: new Set<string>(), titles: new Set<string>() };
    for (let i = 0; i < 8; i++) {
      seen.texts.add(await chip.innerText());
      seen.titles.add((await chip.getAttribute('title'))!);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    assert.equal(seen.texts.size, 1, `the chip's text over 4.8 s: ${[...seen.texts].join(' | ')}`);
    assert.ok([...seen.titles].every((t) => /, lag \d+ ms \(includes clock skew\)$/.test(t)), [...seen.titles].join(' | '));
  });

  test('adds the second agent; both draw real, moving data side by side', async () => {
    await page.locator('host-list input').fill(b!.url.replace('http://', ''));
    await page.locator('host-list input').press('Enter');
    await until('both agents live', async () => (await page.locator('host-list .chip[data-state="live"]').count()) === 2);
    assert.deepEqual(new URL(page.url()).searchParams.getAll('host'), [a!.url, b!.url]);
    // Both agents run on this host: their one hostname is told apart by each one's address.
    for (const agent of [a!, b!]) {
      const address = new URL(agent.url).host;
      await until(`the chip of ${address} to name it`, async () => (await page.locator(`host-list .chip[data-url="${agent.url}"]`).innerText()).includes(`(${address})`));
    }
    // Side by side: each widget once per host.
    await until('a context-switch chart per host', async () => (await page.locator('metric-chart[data-widget="pswitch"] canvas').count()) === 2);
    const charts = 'metric-chart[data-widget="pswitch"]';
    const before = [await canvasHash(page, `${charts} >> nth=0`), await canvasHash(page, `${charts} >> nth=1`)];
    const legendBefore = await legend(page, charts);
    await sleep(2500);
    const later = [await canvasHash(page, `${charts} >> nth=0`), await canvasHash(page, `${charts} >> nth=1`)];
    const legendLater = await legend(page, charts);
    assert.notEqual(later[0], before[0], 'the first host\'s chart was redrawn with new samples');
    assert.notEqual(later[1], before[1], 'the second host\'s chart was redrawn with new samples');
    assert.notDeepEqual(legendLater, legendBefore, `legend values move: ${legendBefore} → ${legendLater}`);
    assert.match(legendLater.join(' '), /context switches=\d/);
    await page.screenshot({ path: `${SHOTS}hosts-side-by-side.png` });
    await page.locator('header button', { hasText: 'overlay hosts' }).click();
    await until('overlaid charts', async () => (await page.locator('metric-chart[data-widget="pswitch"]').count()) === 1);
    await until('both hosts in one legend', async () => (await legend(page, charts)).length === 4);
    await page.screenshot({ path: `${SHOTS}hosts-overlaid.png` });
  });

  test('the burning cgroup shows up in the containers view with its CPU', async () => {
    await page.locator('header nav button', { hasText: 'Containers' }).click();
    const row = `container-table [role="row"][data-key="${a!.url}|${cgroup!.path}"]`;
    await until(`a row for ${cgroup!.path}`, () => page.locator(row).count());
    // The burner spins under a quota of half a core.
    const cores = await until('its CPU to show about half a core', async () => {
      const text = await page.locator(`${row} [role="cell"]`).nth(2).innerText();
      const value = parseFloat(text);
      return value > 0.3 && value < 0.75 ? value : 0;
    });
    assert.ok(cores > 0.3, `CPU column: ${cores}`);
    // Both agents see this host's cgroups: the row is there for the second host too.
    await until('the row from the second agent', () => page.locator(`container-table [role="row"][data-key="${b!.url}|${cgroup!.path}"]`).count());
    await page.locator('containers-view input[type="search"]').fill(cgroup!.name);
    await until('the filter to leave only that cgroup', async () => (await page.locator('container-table [role="row"][data-key]').count()) === 2);
    assert.match(new URL(page.url()).searchParams.get('filter') ?? '', new RegExp(cgroup!.name));
    await until('the top chart to draw it', async () => (await legend(page, 'containers-view metric-chart')).some((l) => l.includes(cgroup!.name)));
    await page.screenshot({ path: `${SHOTS}containers.png` });
  });

  test('a cgroup made while the table is open gets its rows, and loses them when it goes', async () => {
    // Its name extends the filter's, so the filtered table lists it beside the burner's.
    const late = new TestCgroup(`${cgroup!.name}-late`);
    const rows = (): Promise<number> => page.locator('container-table [role="row"][data-key]').count();
    try {
      await until('the new cgroup\'s rows from both agents', async () => (await rows()) === 4);
      for (const agent of [a!, b!]) assert.equal(await page.locator(`container-table [role="row"][data-key="${agent.url}|${late.path}"]`).count(), 1);
    } finally {
      await late.destroy();
    }
    await until('the removed cgroup\'s rows to go', async () => (await rows()) === 2);
  });

  test('the icicle view sizes the cgroup by its CPU', async () => {
    await page.locator('header nav button', { hasText: 'Icicle' }).click();
    const share = await until('the cgroup in the icicle', () =>
      page.locator('icicle-chart#cgroups').evaluate((el, name) => {
        // Iterative on purpose: the test runner's transpiler wraps named functions in a helper the page lacks.
        type Node = { name: string; value: number; children: Node[] };
        const stack = [(el as unknown as { root?: Node }).root].filter((n): n is Node => n !== undefined);
        let value = 0;
        while (stack.length) {
          const n = stack.pop()!;
          if (n.name === name) value = Math.max(value, n.value);
          stack.push(...n.children);
        }
        return value;
      }, cgroup!.name),
    );
    assert.ok(share > 0.3, `icicle value of ${cgroup!.name}: ${share} cores`);
    const drawn = await page.locator('icicle-chart#cgroups canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) painted++;
      return painted;
    });
    assert.ok(drawn > 1000, `icicle pixels painted: ${drawn}`);
    // Zoom into the cgroup (as a click on its box does), then a real click on the top box zooms out.
    const path = await page.locator('icicle-chart#cgroups').evaluate((el, name) => {
      type Node = { name: string; children: Node[] };
      const stack: Array<[Node, string[]]> = [[(el as unknown as { root: Node }).root, []]];
      while (stack.length) {
        const [n, trail] = stack.pop()!;
        if (n.name === name) return trail.concat(name);
        for (const c of n.children) stack.push([c, n === (el as unknown as { root: Node }).root ? [] : trail.concat(n.name)]);
      }
      return [];
    }, cgroup!.name);
    assert.ok(path.length >= 2, `path to the cgroup: ${path}`);
    await page.locator('icicle-chart#cgroups').evaluate((el, detail) =>
      el.dispatchEvent(new CustomEvent('zoom-change', { detail: { path: detail }, bubbles: true, composed: true })), path);
    const zoom = (): string[] => (new URL(page.url()).searchParams.get('zoom') ?? '').split('/').filter(Boolean).map(decodeURIComponent);
    assert.deepEqual(zoom(), path);
    await until('the zoomed trail', async () => (await page.locator('icicle-chart#cgroups nav').innerText()).includes(cgroup!.name));
    await page.screenshot({ path: `${SHOTS}icicle.png` });
    // The profiler records that cgroup alone: its busy shell loop fills the flame graph.
    await page.locator('flame-view button', { hasText: 'Record 10 s' }).click();
    const shell = await until('a CPU flame graph of the cgroup', () =>
      page.locator('icicle-chart#profile').evaluate((el) => {
        const root = (el as unknown as { root?: { value: number; children: Array<{ name: string; value: number }> } }).root;
        const sh = root?.children.find((c) => c.name === 'sh');
        return root && sh && root.value > 20 ? sh.value / root.value : 0;
      }), 40_000);
    assert.ok(shell > 0.9, `share of samples in the cgroup's shell: ${shell}`);
    await page.screenshot({ path: `${SHOTS}flame-graph.png`, fullPage: true });
    await page.locator('icicle-chart#cgroups canvas').click({ position: { x: 20, y: 8 } });
    assert.deepEqual(zoom(), path.slice(0, -1), 'a click on the top box zooms out one level');
  });

  test('pause freezes the charts, resume goes live again', async () => {
    await page.locator('header nav button', { hasText: 'Hosts' }).click();
    const chart = 'metric-chart[data-widget="pswitch"]';
    await until('the chart', () => page.locator(`${chart} canvas`).count());
    await page.locator('time-bar #pause').click();
    assert.match(new URL(page.url()).searchParams.get('range') ?? '', /^\d+-\d+$/);
    await sleep(300);
    const frozen = await canvasHash(page, chart);
    await sleep(2500);
    assert.equal(await canvasHash(page, chart), frozen, 'a paused chart does not move');
    await page.locator('time-bar #pause').click();
    assert.equal(new URL(page.url()).searchParams.get('range'), null);
    await until('the chart to move again', async () => (await canvasHash(page, chart)) !== frozen);
  });

  test('the cgroup\'s own page: limits drawn, its process listed', async () => {
    await page.locator('header nav button', { hasText: 'Containers' }).click();
    await page.locator(`container-table [role="row"][data-key="${a!.url}|${cgroup!.path}"]`).click();
    assert.equal(new URL(page.url()).searchParams.get('view'), 'container');
    await until('the CPU chart with its limit', async () => (await legend(page, 'container-detail metric-chart[data-chart="cpu"]')).includes('limit=0.5 cores'));
    await until('the memory limit', async () => (await legend(page, 'container-detail metric-chart[data-chart="memory"]')).includes('limit=256 MiB'));
    // The burner wants a whole core and gets half: the quota throttles it in most periods.
    const throttled = await until('its throttling', async () => {
      const m = /periods throttled=([\d.]+) %/.exec((await legend(page, 'container-detail metric-chart[data-chart="throttle"]')).join(' '));
      return m && Number(m[1]) > 20 ? Number(m[1]) : 0;
    });
    assert.ok(throttled > 20, `periods throttled: ${throttled} %`);
    await until('user and system time from the container\'s own subscription', async () =>
      (await legend(page, 'container-detail metric-chart[data-chart="cpu"]')).some((l) => l.startsWith('user=')));
    await until(`the burner (pid ${burner.pid}) in the process table`, () =>
      page.locator('container-detail table tbody tr td:first-child', { hasText: new RegExp(`^${burner.pid}$`) }).count(),
    );
    await page.screenshot({ path: `${SHOTS}container-detail.png`, fullPage: true });
  });

  test('a reload keeps the view, the hosts and the container from the URL', async () => {
    const before = page.url();
    await page.reload();
    assert.equal(page.url(), before);
    await until('both agents live again', async () => (await page.locator('host-list .chip[data-state="live"]').count()) === 2);
    await until('the same container page', async () => (await legend(page, 'container-detail metric-chart[data-chart="cpu"]')).includes('limit=0.5 cores'));
    assert.match(await page.locator('container-detail h2').innerText(), new RegExp(cgroup!.name));
  });

  test('a custom chart of any metric, found by its help text', async () => {
    await page.locator('header nav button', { hasText: 'Custom' }).click();
    await page.locator('metric-picker input').fill('run queues');
    await until('the search to offer kernel.all.runnable', () => page.locator('metric-picker li', { hasText: 'kernel.all.runnable' }).count());
    await page.locator('metric-picker li', { hasText: 'kernel.all.runnable' }).first().click();
    assert.equal(new URL(page.url()).searchParams.get('charts'), 'kernel.all.runnable');
    await until('the chart to draw both hosts', async () => (await legend(page, 'metric-chart[data-metric="kernel.all.runnable"]')).length === 2);
  });

  test('an agent that is not there is shown as unreachable, and the dark theme', async (t) => {
    const port = await closedPort();
    await page.locator('header nav button', { hasText: 'Hosts' }).click();
    await page.locator('host-list input').fill(`127.0.0.1:${port}`);
    await page.locator('host-list input').press('Enter');
    await until('the unreachable state', () => page.locator(`host-list .chip[data-state="unreachable"]`).count());
    await until('a banner saying so', () => page.locator('host-state .banner[data-state="unreachable"]').count());
    await page.locator(`host-list .chip[data-state="unreachable"] button`).click();
    await until('the dead host removed', async () => (await page.locator('host-list .chip').count()) === 2);
    await page.keyboard.press('t');
    await page.keyboard.press('t');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await sleep(1500);
    await page.screenshot({ path: `${SHOTS}hosts-dark.png` });
    const perf = await until('the refresh cost readout', () => page.locator('footer #perf').innerText());
    t.diagnostic(`console ${perf}`);
    // The browser logs the refused connections to the dead agent; nothing else may fail.
    assert.deepEqual(errors.filter((e) => !e.includes(`:${port}`) && !e.includes('ERR_CONNECTION_REFUSED')), [], 'no errors in the page');
  });
});
