import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WIDGETS } from '../../web/src/data/widgets.js';
import { startAgentProcess, type AgentProcess } from '../support/agent.js';
import { TestCgroup } from '../support/cgroup.js';

/**
 * The console at the scale it is built for: 20 real agents, each seeing 50 real cgroups with a
 * process in each (all on this machine, so every agent reports the same cgroups: 1000 rows).
 * Asserts that everything arrives and shows; reports how long the console's refresh of all
 * visible charts and tables takes per update (timing goals are for `npm run bench`, so the
 * numbers are printed, not asserted).
 */

const HOSTS = 20;
const CGROUPS = 50;
const CHROMIUM = '/usr/bin/chromium';
const WEB = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Per-process collectors are left out: 20 agents on 2 CPUs must leave room for the browser.
const COLLECTORS = 'loadavg,stat,kernel,pmcd,pressure,meminfo,vmstat,disk,network,containers,cgroup';

async function until<T>(what: string, check: () => Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last saw: ${JSON.stringify(last)}`);
    await sleep(500);
  }
}

/** The console's own measurement: average and worst refresh over the last few seconds. */
async function refreshCost(page: Page): Promise<{ average: number; worst: number; text: string }> {
  // The readout covers the previous 5 s: wait for a fresh one.
  const before = await page.locator('footer #perf').innerText();
  const text = await until('a new refresh readout', async () => {
    const now = await page.locator('footer #perf').innerText();
    return now && now !== before ? now : '';
  }, 15_000);
  const m = /refresh ([\d.]+) ms per update on average, ([\d.]+) ms at worst/.exec(text);
  assert.ok(m, text);
  return { average: Number(m[1]), worst: Number(m[2]), text };
}

describe(`the console with ${HOSTS} hosts × ${CGROUPS} cgroups`, { timeout: 600_000 }, () => {
  const agents: AgentProcess[] = [];
  const cgroups: TestCgroup[] = [];
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    if (!existsSync(WEB)) throw new Error(`${WEB} is missing: run \`npm run build\` first (npm test does)`);
    for (let i = 0; i < CGROUPS; i++) {
      const cgroup = new TestCgroup();
      cgroups.push(cgroup);
      await cgroup.spawn('/bin/sleep', ['3600']);
    }
    // A few at a time: twenty node processes starting at once on two CPUs take longer than the start timeout.
    for (let i = 0; i < HOSTS; i += 4) {
      agents.push(...(await Promise.all(Array.from({ length: 4 }, () => startAgentProcess(['--interval', '1s', '--collectors', COLLECTORS])))));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await Promise.all(agents.map((a) => a.stop()));
    for (const cgroup of cgroups) await cgroup.destroy();
  });

  test('all hosts connect and the overview refreshes them', async (t) => {
    const query = agents.map((a) => `host=${encodeURIComponent(a.url)}`).join('&');
    await page.goto(`${agents[0]!.url}/?${query}&layout=overlay`);
    await until(`${HOSTS} live agents`, async () => (await page.locator('host-list .chip[data-state="live"]').count()) === HOSTS);
    await until('overlaid charts with every host', async () =>
      (await page.locator('metric-chart[data-widget="load"]').evaluate((c) => (c as unknown as { lineCount: number }).lineCount)) === HOSTS * 3);
    const overlay = await refreshCost(page);
    t.diagnostic(`overview, ${HOSTS} hosts overlaid: ${overlay.text}`);
    await page.goto(`${agents[0]!.url}/?${query}`);
    await until('side-by-side columns', async () => (await page.locator('metric-chart[data-widget="cpu"]').count()) === HOSTS);
    const side = await refreshCost(page);
    t.diagnostic(`overview, ${HOSTS} hosts side by side (${HOSTS * WIDGETS.length} charts, the visible ones refreshed): ${side.text}`);
  });

  test('side by side, a chart off screen is not drawn until it is scrolled into view', async () => {
    // Continues on the side-by-side page of the previous test. The last host's column is far to
    // the right of a 1600 px window, and the pressure rows are far below it.
    const lines = (selector: string): Promise<number> =>
      page.locator(selector).evaluate((c) => (c as unknown as { lineCount: number }).lineCount);
    const farRight = `metric-chart[data-widget="cpu"] >> nth=${HOSTS - 1}`;
    await until('the first host\'s CPU chart drawn', async () => (await lines('metric-chart[data-widget="cpu"] >> nth=0')) > 0);
    await sleep(2000);
    assert.equal(await lines(farRight), 0, 'the last column is off screen: not drawn');
    const below = page.locator('metric-chart').last();
    assert.equal(await below.evaluate((c) => (c as unknown as { lineCount: number }).lineCount), 0, 'the last row is off screen: not drawn');
    await page.locator(farRight).evaluate((c) => c.closest('.rows')!.scrollTo({ left: 1e6 }));
    await until('the last column drawn once scrolled into view', async () => (await lines(farRight)) > 0, 5_000);
    await below.scrollIntoViewIfNeeded();
    await until('the last row drawn once scrolled into view', async () => (await below.evaluate((c) => (c as unknown as { lineCount: number }).lineCount)) > 0, 5_000);
  });

  test('the containers view lists every cgroup of every host', async (t) => {
    const query = agents.map((a) => `host=${encodeURIComponent(a.url)}`).join('&');
    await page.goto(`${agents[0]!.url}/?${query}&view=containers&cgroups=1`);
    const total = await until(`${HOSTS * CGROUPS} rows`, async () => {
      const m = /(\d+) of (\d+)/.exec(await page.locator('containers-view .count').innerText());
      return m && Number(m[2]) >= HOSTS * CGROUPS ? Number(m[2]) : 0;
    });
    assert.ok(total >= HOSTS * CGROUPS, `rows: ${total}`);
    // Every test cgroup from every agent.
    await until(`all ${HOSTS * CGROUPS} test cgroups`, () =>
      page.locator('containers-view').evaluate((view, { prefix, want }) => {
        const rows = (view as unknown as { rows: Array<{ cgroup: string }> }).rows;
        return rows.filter((r) => r.cgroup.startsWith(prefix)).length === want;
      }, { prefix: `/vigil-test-${process.pid}-`, want: HOSTS * CGROUPS }),
    );
    const cost = await refreshCost(page);
    const rendered = await page.locator('container-table [role="row"][data-key]').count();
    t.diagnostic(`containers view, ${total} rows (${rendered} rendered) and the top-N chart: ${cost.text}`);
  });

  test('the table renders only the rows in view; scrolling and the keyboard reach the others', async () => {
    const table = page.locator('container-table');
    const rows = table.locator('[role="row"][data-key]');
    // In the rows' order (aria-rowindex): a row keeps its element as rows are re-sorted or scrolled, so the elements are not in that order.
    const keys = async (): Promise<string[]> =>
      rows.evaluateAll((trs) =>
        trs.sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex'))).map((tr) => tr.getAttribute('data-key')!),
      );
    const rendered = (await keys()).length;
    assert.ok(rendered > 10 && rendered < 100, `rows in the DOM: ${rendered}, of ${HOSTS * CGROUPS} or more`);
    assert.match(await page.locator('containers-view .count').innerText(), new RegExp(`^\\d+ of (\\d{4,})`));
    // Sorted by name, the order holds still while samples arrive.
    await page.locator('container-table [role="columnheader"] button', { hasText: 'Name' }).click();
    await until('sorted by name', async () => new URL(page.url()).searchParams.get('sort') === 'name');
    const top = await keys();
    // A row keeps its element as the table scrolls: a scroll rewrites only the elements of the rows that left.
    const scroller = table.locator('.scroller');
    const rowHeight = await rows.first().evaluate((tr) => tr.getBoundingClientRect().height);
    await table.evaluate((el) => {
      for (const tr of el.shadowRoot!.querySelectorAll('[role="row"][data-key]')) (tr as HTMLElement & { was?: string }).was = tr.getAttribute('data-key')!;
    });
    await scroller.evaluate((s, by) => s.scrollBy(0, by), 12 * rowHeight);
    const scrolled = await until('the rows twelve further down', async () => {
      const now = await keys();
      return now[0] !== top[0] ? now : undefined;
    });
    const left = top.filter((k) => !scrolled.includes(k)).length;
    const { kept, rewritten } = await table.evaluate((el) => {
      const trs = [...el.shadowRoot!.querySelectorAll<HTMLElement & { was?: string }>('[role="row"][data-key]')].filter((tr) => tr.was !== undefined);
      return { kept: trs.filter((tr) => tr.was === tr.getAttribute('data-key')).length, rewritten: trs.filter((tr) => tr.was !== tr.getAttribute('data-key')).length };
    });
    assert.ok(left > 0 && rewritten === left && kept === top.length - left, `after a scroll ${left} rows left the view: ${rewritten} elements rewritten, ${kept} kept their row`);
    // The elements are in slot order: aria-owns gives the rows' order, the one aria-rowindex gives.
    const order = await table.evaluate((el) => {
      const root = el.shadowRoot!;
      const byIndex = [...root.querySelectorAll('[role="row"][data-key]')].sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')));
      const owned = root.querySelector('.tbody')!.getAttribute('aria-owns')!.split(' ').map((id) => root.getElementById(id)?.getAttribute('data-key'));
      return { owned, byIndex: byIndex.map((tr) => tr.getAttribute('data-key')) };
    });
    assert.deepEqual(order.owned, order.byIndex, 'aria-owns lists the rows in their order');
    // A render skips the rows whose values were not read again (their version is unchanged): a
    // value changed behind the table's back shows only once the row's version moves. Done in one
    // task, so no pass of the live data runs in between; rows made again in idle time may have
    // moved versions the table has not rendered yet, so it renders those first.
    const shown = await table.evaluate(async (el) => {
      const t = el as unknown as HTMLElement & { rows: Array<{ key: string; cpu: number; version: number }>; requestUpdate(): void; updateComplete: Promise<unknown> };
      t.requestUpdate();
      await t.updateComplete;
      const tr = t.shadowRoot!.querySelector('[role="row"][data-key]')!;
      const row = t.rows.find((r) => r.key === tr.getAttribute('data-key'))!;
      // Lit keeps the cell's element and changes its text.
      const cell = tr.querySelectorAll('[role="cell"]')[2]!;
      const before = cell.textContent!.trim();
      const cpu = row.cpu;
      row.cpu = 4321;
      t.requestUpdate();
      await t.updateComplete;
      const unchangedVersion = cell.textContent!.trim();
      row.version++;
      t.requestUpdate();
      await t.updateComplete;
      const newVersion = cell.textContent!.trim();
      row.cpu = cpu;
      row.version++;
      t.requestUpdate();
      return { before, unchangedVersion, newVersion };
    });
    assert.equal(shown.unchangedVersion, shown.before, 'a row whose version did not move is not rendered again');
    assert.match(shown.newVersion, /^4\.?3/, `the row rendered again once its version moved: ${JSON.stringify(shown)}`);
    await table.locator('.scroller').evaluate((s) => s.scrollTo(0, s.scrollHeight));
    const bottom = await until('the last rows after scrolling to the end', async () => {
      const now = await keys();
      return now.some((k) => top.includes(k)) ? undefined : now;
    });
    assert.ok(bottom.length > 10 && bottom.length < 100, `rows in the DOM at the end: ${bottom.length}`);
    const last = await table.evaluate((el) => (el as unknown as { rows: Array<{ key: string }> }).rows.at(-1)!.key);
    assert.ok(bottom.includes(last), `the last row (${last}) is rendered at the end`);
    // Keyboard: Home selects the first row and scrolls back to it; Down selects the next; Enter opens it.
    await table.locator('.scroller').evaluate((s) => s.scrollTo(0, 0));
    await until('the first rows again', async () => (await keys()).includes(top[0]!));
    await rows.first().focus();
    await page.keyboard.press('End');
    await until('the last row selected, in view and focused', async () =>
      table.evaluate((el, key) => {
        const active = el.shadowRoot!.activeElement;
        return active?.getAttribute('data-key') === key && active.getAttribute('aria-selected') === 'true';
      }, last));
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await until('the second row selected', async () =>
      table.evaluate((el, key) => el.shadowRoot!.activeElement?.getAttribute('data-key') === key, top[1]));
    await page.keyboard.press('Enter');
    await until('the second row\'s page', async () => new URL(page.url()).searchParams.get('view') === 'container');
  });
});
