import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser } from 'playwright-core';
import { TestAgent } from '../support/agent.js';
import { TestCgroup, untilOutput } from '../support/cgroup.js';
import { BURNER_C, json, Programs, request } from './profile-support.js';

const METRIC = 'vector.task.cpuflamegraph';

/**
 * Netflix Vector's flame graph widget, replayed over HTTP against the agent: store the seconds
 * into the metric, poll it until DONE, open the SVG it names, and use the graph in Chromium.
 */
describe('Vector\'s flame graph protocol', { timeout: 180_000 }, () => {
  const programs = new Programs();
  const cgroup = new TestCgroup();
  let agent: TestAgent;
  let browser: Browser | undefined;

  before(async () => {
    await untilOutput(await cgroup.spawn(programs.compile('vigil-burn', BURNER_C)), 'ready');
    agent = await TestAgent.start({ collectors: [] });
  });

  after(async () => {
    await browser?.close();
    await agent?.close();
    await cgroup.destroy();
    programs.remove();
  });

  const status = async (context: number): Promise<string> => {
    const reply = await json('GET', `${agent.url}/pmapi/${context}/_fetch?names=${METRIC}`);
    const values = reply.values as Array<{ name: string; instances: Array<{ instance: number; value: string }> }>;
    assert.equal(values[0]?.name, METRIC);
    assert.equal(values[0]!.instances[0]!.instance, -1);
    return values[0]!.instances[0]!.value;
  };
  const store = (context: number, value: string) => request('GET', `${agent.url}/pmapi/${context}/_store?name=${METRIC}&value=${value}`);

  it('store seconds, poll the status until DONE <path>.svg, then GET the graph at that path', async () => {
    const context = Number((await json('GET', `${agent.url}/pmapi/context?hostspec=localhost&polltimeout=120&exclusive=1`)).context);
    const other = Number((await json('GET', `${agent.url}/pmapi/context?hostspec=localhost&polltimeout=120`)).context);
    const listed = await json('GET', `${agent.url}/pmapi/${context}/_metric`);
    assert.ok((listed.metrics as Array<{ name: string }>).some((m) => m.name === METRIC), 'Vector greys the widget out unless _metric lists it');
    assert.equal(await status(context), 'IDLE');

    const bad = await store(context, 'abc');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Bad input to pmstore/);

    const stored = await store(context, '3');
    assert.equal(stored.status, 200, stored.text);
    assert.equal(JSON.parse(stored.text).success, true);
    const busy = await store(context, '3');
    assert.equal(busy.status, 400);
    assert.match(busy.text, /Try again/);
    assert.equal(await status(other), 'IDLE', 'each context has its own task');

    const seen: string[] = [];
    const started = Date.now();
    for (;;) {
      const s = await status(context);
      if (seen.at(-1) !== s) seen.push(s);
      if (s.startsWith('DONE') || s.startsWith('ERROR')) break;
      assert.ok(Date.now() - started < 60_000, `no DONE within 60 s; statuses: ${seen.join(' | ')}`);
      await sleep(500);
    }
    assert.match(seen[0]!, /^Profiling host for 3 seconds \([0-3]\/3\)$/);
    const done = /^DONE (flamegraphs\/cpuflamegraph\.[0-9a-f]{12}\.svg)$/.exec(seen.at(-1)!);
    assert.ok(done, `statuses: ${seen.join(' | ')}`);
    for (const s of seen.slice(0, -1)) assert.match(s, /^(Profiling host for 3 seconds \(\d\/3\)|Processing profile)$/);

    const svg = await request('GET', `${agent.url}/${done[1]}`);
    assert.equal(svg.status, 200);
    assert.match(svg.type, /^image\/svg\+xml/);
    assert.match(svg.text, /data-name="burn_hot_function"/);
    // A new request may start once it is DONE.
    assert.equal((await store(context, '1')).status, 200);
    assert.equal((await request('GET', `${agent.url}/flamegraphs/..%2F..%2Fetc%2Fpasswd`)).status, 404);
    assert.equal((await request('GET', `${agent.url}/flamegraphs/cpuflamegraph.000000000000.svg`)).status, 404);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${agent.url}/${done[1]}`);
    const hot = 'g.f[data-name="burn_hot_function"]';
    const parsed = await page.evaluate((selector) => ({
      root: document.documentElement.localName,
      parseErrors: document.getElementsByTagName('parsererror').length,
      frames: document.querySelectorAll('g.f').length,
      title: document.querySelector(`${selector} title`)?.textContent ?? '',
      width: Number(document.querySelector(`${selector} rect`)?.getAttribute('width')),
      label: document.querySelector(`${selector} text`)?.textContent ?? '',
    }), hot);
    assert.equal(parsed.root, 'svg');
    assert.equal(parsed.parseErrors, 0, 'the browser parsed the SVG as XML');
    assert.ok(parsed.frames > 3);
    // the self count is shown when the frame has callees (a timer interrupt's kernel stack can land on top of it)
    assert.match(parsed.title, /^burn_hot_function \(\d+ samples?, \d+\.\d\d%(, \d+ in itself)?\)$/);

    // Click to zoom: the frame fills the width, its siblings from other processes are hidden.
    await page.click(`${hot} rect`);
    const zoomed = await page.evaluate((selector) => {
      const svg = document.documentElement;
      const frame = document.querySelector(selector)!;
      const hidden = [...document.querySelectorAll('g.f')].filter((g) => g.classList.contains('hidden')).length;
      return {
        width: Number(frame.querySelector('rect')!.getAttribute('width')),
        full: Number(svg.getAttribute('width')) - 2 * Number(svg.getAttribute('data-pad')),
        label: frame.querySelector('text')!.textContent,
        unzoomVisible: !document.getElementById('unzoom')!.classList.contains('hidden'),
        hidden,
      };
    }, hot);
    assert.ok(Math.abs(zoomed.width - zoomed.full) < 0.01, `zoomed width ${zoomed.width} of ${zoomed.full}`);
    assert.equal(zoomed.label, 'burn_hot_function');
    assert.ok(zoomed.unzoomVisible);
    assert.ok(zoomed.hidden > 0, 'frames outside the zoomed one are hidden');

    // Search highlights matches and reports their share; Escape resets the zoom.
    const searched = await page.evaluate((selector) => {
      (document.documentElement as unknown as { flamegraph: { search(p: string): void } }).flamegraph.search('^burn_hot');
      return { matched: document.getElementById('matched')!.textContent, fill: document.querySelector(`${selector} rect`)!.getAttribute('fill') };
    }, hot);
    assert.match(searched.matched ?? '', /^Matched: \d+\.\d\d% \(\d+ frames?\)$/);
    assert.equal(searched.fill, 'rgb(230,0,230)');
    await page.keyboard.press('Escape');
    const reset = await page.evaluate((selector) => Number(document.querySelector(`${selector} rect`)!.getAttribute('width')), hot);
    assert.ok(Math.abs(reset - parsed.width) < 0.01, 'Escape restores the unzoomed graph');
    // Hovering shows the frame's details at the bottom.
    await page.hover(`${hot} rect`);
    assert.equal(await page.textContent('#details'), parsed.title);
    assert.deepEqual(errors, []);
  });

  it('a store while every profiling slot is taken waits as REQUESTED and starts when one frees', async () => {
    const running = async (): Promise<number> =>
      ((await json('GET', `${agent.url}/profile`)).profiles as Array<{ state: string }>).filter((p) => p.state === 'running' || p.state === 'processing').length;
    for (let i = 0; i < 240 && (await running()) > 0; i++) await sleep(250);
    const contexts: number[] = [];
    for (let i = 0; i < 3; i++) contexts.push(Number((await json('GET', `${agent.url}/pmapi/context?hostspec=localhost&polltimeout=120`)).context));
    const [a, b, c] = contexts as [number, number, number];
    assert.equal((await store(a, '2')).status, 200);
    assert.equal((await store(b, '2')).status, 200);
    assert.equal((await store(c, '1')).status, 200, 'the third request is accepted, not refused');
    assert.match(await status(c), /^REQUESTED \(waiting for a free profiling slot: at most 2 profiles run at once\)$/);
    assert.match((await store(c, '1')).text, /Try again/, 'a waiting request is unfinished too');
    const seen: string[] = [];
    for (let i = 0; i < 240; i++) {
      const s = await status(c);
      if (seen.at(-1) !== s) seen.push(s);
      if (/^(DONE|ERROR)/.test(s)) break;
      await sleep(250);
    }
    assert.match(seen.at(-1)!, /^DONE flamegraphs\/cpuflamegraph\.[0-9a-f]{12}\.svg$/, seen.join(' | '));
    assert.ok(seen.some((s) => s.startsWith('Profiling host for 1 seconds')), seen.join(' | '));
  });
});
