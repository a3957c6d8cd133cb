import { type Page } from '@playwright/test';
import { test, expect, expectAccessible } from './fixtures';
import { Headway } from './headway';

// Twelve tabs of one browser on one plain-HTTP server (HTTP/1.1: six connections per host at
// most). They share one stream: one tab holds it and hands its events to the others. The test
// runs a server of its own so that its `/metrics` counts only these tabs' streams.

const TABS = 12;

// A trace records every tab's page at each step: with twelve live pages that is most of the
// machine's time, and the takeover it is meant to time takes several times as long.
test.use({ trace: 'off' });

/** The server's count of open SSE streams, from its metrics. */
async function streamsOpen(server: Headway): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = text.match(/^headway_streams_open\{transport="sse"\} (\d+)/m);
  return m ? Number(m[1]) : 0;
}

/** The value of job `id`'s progress bar on a dashboard or on its own page. */
function bar(page: Page, id: string) {
  return page.url().endsWith(`/jobs/${id}`)
    ? page.locator('main').getByRole('progressbar').first()
    : page.locator(`article.job[data-job-id="${id}"]`).getByRole('progressbar');
}

async function barValue(page: Page, id: string): Promise<number> {
  return Number(await bar(page, id).getAttribute('aria-valuenow'));
}

async function logSeqs(page: Page): Promise<number[]> {
  return page.locator('.log .log-line').evaluateAll((lines) => lines.map((l) => Number(l.getAttribute('data-seq'))));
}

test('twelve tabs share one stream, and another tab takes it over when its holder closes', async ({ context }) => {
  test.setTimeout(180_000);
  const server = new Headway(10, `target/e2e/tabs-${Date.now()}.db`);
  await server.start();
  // The most streams the server had open at once, sampled until the end of the test.
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, await streamsOpen(server));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let streamRequests = 0;
  context.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/v1/events') streamRequests += 1;
  });
  try {
    // A job that runs for a while and logs a line every 10 steps (twice a second).
    const res = await context.request.post(`${server.url}/api/v1/jobs`, {
      data: { kind: 'demo', params: { steps: 4000, interval_ms: 50 } },
    });
    expect(res.status()).toBe(201);
    const job: string = (await res.json()).id;

    // The first tab (a job page) finds the stream free and holds it; every later one follows.
    const tabs: Page[] = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      await page.goto(i % 2 === 0 ? `${server.url}/jobs/${job}` : server.url);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(page.locator('html')).toHaveAttribute('data-stream', i === 0 ? 'holder' : 'follower');
      tabs.push(page);
    }
    const dashboards = tabs.filter((_, i) => i % 2 === 1);
    const jobPages = tabs.filter((_, i) => i % 2 === 0);

    // Every tab shows the job's bar moving, and is live.
    for (const page of tabs) {
      const before = await barValue(page, job);
      await expect.poll(() => barValue(page, job)).toBeGreaterThan(before);
      await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
    }

    // A job is started; every dashboard shows it; a follower cancels it.
    const starter = dashboards[2];
    const made = await starter.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'demo', params: { steps: 1000, interval_ms: 50 } } });
    const other = (await made.json()).id as string;
    await expect(starter.locator('.job-list article.job').first()).toHaveAttribute('data-job-id', other);
    for (const page of dashboards) {
      await expect(bar(page, other)).not.toHaveAttribute('aria-valuenow', '0');
    }
    await dashboards[4].locator(`article.job[data-job-id="${other}"]`).getByRole('button', { name: 'Cancel' }).click();
    for (const page of dashboards) {
      await expect(page.locator(`article.job[data-job-id="${other}"] .status-word`)).toHaveText('cancelled');
    }
    expect(streamRequests, 'stream requests from twelve tabs').toBe(1);

    // The holder closes: another tab takes the stream over and every tab is live again.
    const holder = tabs[0];
    const rest = tabs.slice(1);
    const seqsBefore = await logSeqs(jobPages[1]);
    const closed = Date.now();
    // As a person closing the tab: the page's unload handlers run.
    await holder.close({ runBeforeUnload: true });
    const valuesAtClose = await Promise.all(rest.map((p) => barValue(p, job)));
    // Each tab waits, in the page itself, for the bar to move past where it was.
    const moved = rest.map((p, i) =>
      p.waitForFunction(
        ([onJobPage, id, before]) => {
          const el = onJobPage
            ? document.querySelector('main [role="progressbar"]')
            : document.querySelector(`article.job[data-job-id="${id}"] [role="progressbar"]`);
          return Number(el?.getAttribute('aria-valuenow')) > before;
        },
        [p.url().endsWith(`/jobs/${job}`), job, valuesAtClose[i]] as const,
        { timeout: 10_000, polling: 20 },
      ),
    );
    await Promise.all(moved);
    const takeoverMs = Date.now() - closed;
    // About 1 s on a quiet machine: the lock passes as the holder unloads, with no timer between.
    // The bound leaves room for a busy one (eleven live tabs of a debug build on two cores).
    expect(takeoverMs, 'time for the other tabs to take the stream over').toBeLessThan(5_000);
    const holders = await Promise.all(rest.map((p) => p.locator('html').getAttribute('data-stream')));
    expect(holders.filter((h) => h === 'holder')).toHaveLength(1);
    for (const page of rest) {
      await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
    }
    test.info().annotations.push({ type: 'takeover', description: `all ${rest.length} tabs moving again ${takeoverMs} ms after the holder closed` });
    console.log(`tabs: all ${rest.length} tabs moving again ${takeoverMs} ms after the holder closed`);

    // Some more lines, then the job is cancelled: every job page has every line, once, in order.
    const lastBefore = seqsBefore[seqsBefore.length - 1] ?? 0;
    await expect.poll(async () => Math.max(0, ...(await logSeqs(jobPages[1])))).toBeGreaterThan(lastBefore + 3);
    const cancel = await context.request.post(`${server.url}/api/v1/jobs/${job}/cancel`);
    expect(cancel.ok()).toBe(true);
    await expect
      .poll(async () => (await (await context.request.get(`${server.url}/api/v1/jobs/${job}`)).json()).status)
      .toBe('cancelled');
    const stored = (await (await context.request.get(`${server.url}/api/v1/jobs/${job}/log`)).json()).lines.length;
    // The pane renders the lines in view and a few around them (a busy machine's slower run
    // writes more of them than fit): the newest, once each and in order, and scrolled to the
    // top, the first ones.
    const contiguous = (s: number[]) => s.length > 0 && s.every((v, i) => i === 0 || v === s[i - 1] + 1);
    for (const page of jobPages.slice(1)) {
      await expect.poll(async () => { const s = await logSeqs(page); return contiguous(s) ? s[s.length - 1] : -1; }).toBe(stored);
      await page.getByRole('log', { name: 'Job log' }).evaluate((el) => el.scrollTo(0, 0));
      await expect.poll(async () => { const s = await logSeqs(page); return contiguous(s) ? s[0] : -1; }).toBe(1);
    }
    expect(streamRequests, 'stream requests, with the one of the tab that took over').toBe(2);
    expect(most, 'most streams open at once on the server').toBeLessThanOrEqual(2);
    console.log(`tabs: ${streamRequests} stream requests from ${TABS} tabs (one of them by the tab that took over); at most ${most} streams open on the server`);

    // One page of each kind is checked for accessibility, while the server still answers.
    await expectAccessible(rest[0]);
    await expectAccessible(rest[1]);
    for (const page of rest) await page.close();
  } finally {
    sampling = false;
    await sampler;
    // The tabs go before their server: a tab left open by a failed step would report the
    // stopped server's refused connections and hide that step's own error.
    for (const page of context.pages()) await page.close();
    await server.stop();
  }
});

test('without Web Locks every tab opens a stream of its own', async ({ context }) => {
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'locks', { configurable: true, get: () => undefined });
  });
  let streamRequests = 0;
  context.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/v1/events') streamRequests += 1;
  });
  const pages = [await context.newPage(), await context.newPage()];
  for (const page of pages) {
    await page.goto('/');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('html')).toHaveAttribute('data-stream', 'own');
    await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
  }
  const res = await context.request.post('/api/v1/jobs', { data: { kind: 'demo', params: { steps: 5, interval_ms: 20 } } });
  const id = (await res.json()).id;
  for (const page of pages) {
    await expect(page.locator(`article.job[data-job-id="${id}"] .status-word`)).toHaveText('succeeded');
  }
  expect(streamRequests).toBe(2);
});
