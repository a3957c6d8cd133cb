import { test, expect, openDashboard, startJob, waitForStatus, serverGone } from './fixtures';

import { Headway } from './headway';

test('the job page shows kind, params, timeline and a live log that follows and pauses', async ({ page }) => {
  await openDashboard(page);
  // A log line every 10 steps: 40 lines over about 16 s, still coming after the pane is scrolled.
  const id = await startJob(page, 'demo', { steps: 400, interval_ms: 40 });
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Demo job');
  await expect(page.locator('.params [data-param="steps"]')).toHaveText('400');
  await expect(page.locator('.params dt').first()).toHaveText('Steps');
  await expect(page.locator('.timeline li').first()).toContainText('queued');

  const log = page.getByRole('log', { name: 'Job log' });
  const lines = log.locator('.log-line');
  await expect(lines.nth(3)).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('.log-follow')).toHaveAttribute('data-following', 'true');

  // A smaller pane still shows the newest line: it is scrolled down.
  await log.evaluate((el) => (el.style.height = '4rem'));
  await expect(lines.nth(9)).toBeAttached({ timeout: 20_000 });
  await expect.poll(() => log.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  // Scrolling up pauses following, however fast lines come; the button resumes it.
  await log.evaluate((el) => el.scrollTo(0, 0));
  await expect(page.locator('.log-follow')).toHaveAttribute('data-following', 'false');
  const lineCount = async () => Number((await page.locator('#log-title').textContent())?.match(/\d+/)?.[0]);
  const seen = await lineCount();
  await expect.poll(lineCount).toBeGreaterThan(seen + 2);
  expect(await log.evaluate((el) => el.scrollTop), 'still where the person left it').toBe(0);
  await expect(page.locator('.log-follow')).toHaveAttribute('data-following', 'false');
  await page.getByRole('button', { name: 'Follow' }).click();
  await expect(page.locator('.log-follow')).toHaveAttribute('data-following', 'true');

  await waitForStatus(page, id, 'succeeded');
  // The pane at its own height again holds every line (only lines near the view are rendered).
  await log.evaluate((el) => (el.style.height = ''));
  await expect(lines).toHaveCount(40, { timeout: 20_000 });
  const seqs = await lines.evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-seq'))));
  expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  // The heading counts the lines as they come, not those there were when the page was rendered.
  await expect(page.locator('#log-title')).toHaveText('Log (40 lines)');
  await expect(page.locator('.timeline li')).toHaveText([/queued/, /running/, /succeeded/]);
  await expect(page.locator('.job-pace')).toContainText('ran ');
  // With no line coming any more, a pane made smaller still keeps the newest line in view.
  const belowView = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await log.evaluate((el) => (el.style.height = '4rem'));
  await expect.poll(belowView).toBeLessThanOrEqual(1);
});

test('lines written while the log is still loading are all shown, in order', async ({ page }) => {
  await openDashboard(page);
  // A log line every 10 steps of 40 ms: one every 0.4 s, 30 in all.
  const id = await startJob(page, 'demo', { steps: 300, interval_ms: 40 });
  // The page is rendered with a few lines already written. A row that shows no step yet (the
  // job still queued on a busy machine) counts as step 0.
  const step = async (row: string) => {
    const shown = (await page.locator(`${row} .job-progress`).textContent()) ?? '';
    return Number(shown.match(/^(\d+)/)?.[1] ?? 0);
  };
  await expect.poll(() => step(`article.job[data-job-id="${id}"]`), { timeout: 20_000 }).toBeGreaterThan(25);
  // The log's own code (a lazy island) is held back until the page's stream has brought newer
  // lines than the server rendered.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/split_job_log_loader[^/]*\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`/jobs/${id}`);
  // The islands before the log are live; the log and those after it wait for its code.
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
  const rendered = await page.locator('.log .log-line').count();
  expect(rendered).toBeGreaterThan(1);
  // The job's row is live before the log: it shows a step two lines past the last rendered one.
  await expect.poll(() => step('article.job'), { timeout: 20_000 }).toBeGreaterThan((rendered + 2) * 10);
  release();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await waitForStatus(page, id, 'succeeded');
  const lines = page.locator('.log .log-line');
  await expect(lines).toHaveCount(30, { timeout: 20_000 });
  const seqs = await lines.evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-seq'))));
  expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  await expect(page.locator('.log .log-pending')).toHaveCount(0);
  await expect(lines.last()).toContainText('reached step 300 of 300');
});

test.describe('a job that does not exist', () => {
  // Chromium logs the page's own 404 status as a failed resource: expected here.
  test.use({ allowConsole: /status of 404 \(Not Found\) \(http:\/\/127\.0\.0\.1:\d+\/jobs\// });

  test('an unknown job is a 404 page', async ({ page }) => {
    const res = await page.goto('/jobs/00000000-0000-4000-8000-000000000000');
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'No such job' })).toBeVisible();
  });
});

test.describe('when the server restarts', () => {
  // Chromium logs the refused stream requests while the server is down: expected here.
  test.use({ allowConsole: serverGone });

  test('the job page reconnects and its log resumes where it left off', async ({ page }) => {
    const server = new Headway(3, `target/e2e/log-restart-${Date.now()}.db`);
    await server.start();
    try {
      await page.goto(server.url);
      const res = await page.request.post(`${server.url}/api/v1/jobs`, {
        data: { kind: 'demo', params: { steps: 100000, interval_ms: 10 }, max_attempts: 1 },
      });
      const id = (await res.json()).id;
      await page.goto(`${server.url}/jobs/${id}`);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      const lines = page.locator('.log .log-line');
      await expect(lines.nth(4)).toBeAttached({ timeout: 20_000 });

      // Lines written between the page's last event and the shutdown arrive after the restart.
      await server.stop();
      await expect(page.locator('.connection')).toHaveAttribute('data-state', 'reconnecting');
      await server.start();
      await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live', { timeout: 30_000 });
      await expect(page.locator('.timeline li').last()).toContainText('interrupted');
      const stored = (await (await page.request.get(`${server.url}/api/v1/jobs/${id}/log`)).json()).lines.length;
      // Every stored line is in the log, the newest in view (only the lines near the view are
      // rendered, in order, none missing).
      await expect(page.locator('#log-title')).toHaveText(`Log (${stored.toLocaleString('en-US')} lines)`);
      await page.locator('.log').scrollIntoViewIfNeeded();
      await expect(page.locator(`.log .log-line[data-seq="${stored}"]`)).toBeInViewport();
      const seqs = await lines.evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-seq'))));
      const from = seqs[0];
      expect(seqs).toEqual(Array.from({ length: stored - from + 1 }, (_, i) => from + i));
      await expect(page.locator('.log .log-pending')).toHaveCount(0);
    } finally {
      await server.stop();
    }
  });
});
