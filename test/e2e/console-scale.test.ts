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
    t.diagnostic(`containers view, ${total} rows (200 rendered) and the top-N chart: ${cost.text}`);
  });
});
