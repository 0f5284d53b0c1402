/**
 * Scenario 5 — the console in headless Chromium with 20 hosts × 50 containers (20 real agents
 * on this machine, each seeing the same 50 bench cgroups with a process in each, as
 * test/e2e/console-scale.test.ts does), and the gzipped size of the built bundle.
 * Per-frame update time: every requestAnimationFrame callback is timed in the page (the console
 * redraws charts and tables only from rAF), summed per frame.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startAgentProcess, type AgentProcess } from './agent.js';
import { BenchCgroups, quantile, round, sleep, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';

const HOSTS = 20;
const CGROUPS = 50;
const WEB = fileURLToPath(new URL('../dist/web/', import.meta.url));
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// As in the e2e scale test: per-process collectors are left out so 20 agents on 2 CPUs leave room for the browser.
const COLLECTORS = 'loadavg,stat,kernel,pmcd,pressure,meminfo,vmstat,disk,network,containers,cgroup';

/** Installed before the console's scripts: times every rAF callback, summed per frame. */
const FRAME_TIMER = `(() => {
  const raf = window.requestAnimationFrame.bind(window);
  const frames = new Map();
  window.__frames = frames;
  window.requestAnimationFrame = (cb) => raf((ts) => {
    const t0 = performance.now();
    try { cb(ts); } finally { frames.set(ts, (frames.get(ts) || 0) + performance.now() - t0); }
  });
})();`;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(`${dir}/${name}`).isDirectory() ? files(`${dir}/${name}`) : [`${dir}/${name}`]));
}

async function frameTimes(page: Page, seconds: number): Promise<number[]> {
  await page.evaluate(() => (window as unknown as { __frames: Map<number, number> }).__frames.clear());
  await sleep(seconds * 1000);
  return page.evaluate(() => [...(window as unknown as { __frames: Map<number, number> }).__frames.values()]);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

export async function consoleBench(options: BenchOptions): Promise<ScenarioResult> {
  const seconds = options.quick ? 10 : 20;
  const all = files(WEB);
  const gz = (pick: (f: string) => boolean): number => all.filter(pick).reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const bundle = { jsGzipBytes: gz((f) => f.endsWith('.js')), cssGzipBytes: gz((f) => f.endsWith('.css')), totalGzipBytes: gz(() => true) };
  const verdicts: Verdict[] = [verdict('console bundle (dist/web, every file) gzipped', bundle.totalGzipBytes / 1024, 150, 'KiB')];
  const cgroups = await BenchCgroups.create(CGROUPS, 1);
  const agents: AgentProcess[] = [];
  let browser: Browser | undefined;
  const views: Array<Record<string, string | number>> = [];
  try {
    for (let i = 0; i < HOSTS; i += 4) {
      agents.push(...(await Promise.all(Array.from({ length: 4 }, () => startAgentProcess(['--interval', '1s', '--collectors', COLLECTORS])))));
    }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.addInitScript(FRAME_TIMER);
    const query = agents.map((a) => `host=${encodeURIComponent(a.url)}`).join('&');
    for (const [view, suffix, ready] of [
      ['overview, 20 hosts side by side', '', async () => (await page.locator('host-list .chip[data-state="live"]').count()) === HOSTS],
      ['containers view, 1000 rows', '&view=containers&cgroups=1', async () => {
        const m = /(\d+) of (\d+)/.exec(await page.locator('containers-view .count').innerText());
        return !!m && Number(m[2]) >= HOSTS * CGROUPS;
      }],
    ] as const) {
      await page.goto(`${agents[0]!.url}/?${query}${suffix}`);
      await until(view, ready);
      await sleep(3000);
      const frames = (await frameTimes(page, seconds)).filter((ms) => ms > 0);
      const row = { view, frames: frames.length, p50Ms: round(quantile(frames, 0.5), 2), p95Ms: round(quantile(frames, 0.95), 2), maxMs: round(Math.max(...frames), 2) };
      views.push(row);
      console.log(`  console ${JSON.stringify(row)}`);
      verdicts.push(verdict(`console frame p95, ${view}`, row.p95Ms, 8, 'ms'));
    }
  } finally {
    await browser?.close();
    await Promise.all(agents.map((a) => a.stop()));
    await cgroups.destroy();
  }
  const markdown = [
    `Headless Chromium (/usr/bin/chromium, 1600×1000, --disable-gpu) on the console of 20 real agents (\`--interval 1s\`, without per-process collectors, as in test/e2e/console-scale.test.ts), each seeing the same 50 bench cgroups with a sleeping process in each. Every requestAnimationFrame callback is timed in the page, summed per frame, over ${seconds} s.`,
    '',
    '| view | frames | p50 ms | p95 ms | max ms |',
    '|---|---|---|---|---|',
    ...views.map((v) => `| ${v.view} | ${v.frames} | ${v.p50Ms} | ${v.p95Ms} | ${v.maxMs} |`),
    '',
    `Bundle (dist/web, gzip -9): JS ${(bundle.jsGzipBytes / 1024).toFixed(1)} KiB, CSS ${(bundle.cssGzipBytes / 1024).toFixed(1)} KiB, every file ${(bundle.totalGzipBytes / 1024).toFixed(1)} KiB.`,
  ].join('\n');
  return { figures: { bundle, views, seconds }, markdown, verdicts };
}
