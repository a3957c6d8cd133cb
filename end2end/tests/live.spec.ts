import { test, expect, openDashboard, startJob, serverGone } from './fixtures';
import { Headway } from './headway';

test('running bars show elapsed time, rate and ETA; a silent job is flagged as stalled', async ({ page }) => {
  await openDashboard(page);
  const firstId = await startJob(page, 'demo', { steps: 200, interval_ms: 100 });
  const row = page.locator(`article.job[data-job-id="${firstId}"]`);
  await expect(row.locator('.job-pace')).toContainText(/elapsed \d+s · [\d.]+ steps\/s · about .+ left/, { timeout: 20_000 });

  // The e2e server calls a job stalled after 3 s without progress (--stall-secs 3).
  const slowId = await startJob(page, 'demo', { steps: 3, interval_ms: 20_000 });
  await expect(page.locator('.job-list article.job')).toHaveCount(2);
  const slow = page.locator(`article.job[data-job-id="${slowId}"]`);
  // Not stalled yet: the notice is there for screen readers to announce, hidden.
  await expect(row.locator('.job-stall')).toBeHidden();
  await expect(slow.locator('.job-stall')).toBeVisible({ timeout: 20_000 });
  await expect(slow.locator('.job-stall')).toContainText(/Stalled: no progress for \d+s/);
  await expect(slow).toHaveAttribute('data-stalled', 'true');
  // Screen readers hear of the stall once: the count goes on, what the row's live regions say does not.
  const regions = slow.locator('[role="status"], [role="alert"], [aria-live]');
  const said = await regions.allTextContents();
  expect(said.map((t) => t.trim())).toContain('Demo job stalled');
  const count = await slow.locator('.job-stall').textContent();
  await expect(slow.locator('.job-stall')).not.toHaveText(count ?? '');
  expect(await regions.allTextContents()).toEqual(said);
  await page.request.post(`/api/v1/jobs/${slowId}/cancel`);
  await page.request.post(`/api/v1/jobs/${firstId}/cancel`);
});

test('a page whose code arrives after a job stalled hydrates what the server rendered, then shows the stall', async ({ page }) => {
  // One sample at the start, then silence: stalled 3 s later (--stall-secs 3).
  const id = await startJob(page, 'demo', { steps: 3, interval_ms: 20_000 });
  // The page's code is held back until the job has stalled.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/pkg\/headway[^/]*\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  const row = page.locator(`article.job[data-job-id="${id}"]`);
  // Rendered before the stall.
  await expect(row.locator('.job-stall')).toBeHidden();
  const other = await page.context().newPage();
  await other.goto('/');
  await expect(other.locator(`article.job[data-job-id="${id}"] .job-stall`)).toBeVisible({ timeout: 20_000 });
  await other.close();
  release();
  // Hydrated without a mismatch (the fixture fails the test on a hydration error), then live.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(row.locator('.job-stall')).toBeVisible();
  await expect(row).toHaveAttribute('data-stalled', 'true');
  await page.request.post(`/api/v1/jobs/${id}/cancel`);
});

test('a finished job gets a toast and one announcement; the tab title shows overall progress', async ({ page }) => {
  await openDashboard(page);
  await startJob(page, 'demo', { steps: 30, interval_ms: 100 });
  await expect(page).toHaveTitle(/^\(\d+%\) 1 running · Headway$/, { timeout: 10_000 });
  const toast = page.locator('.toast');
  await expect(toast).toContainText('Demo job succeeded', { timeout: 20_000 });
  await expect(toast).toHaveClass(/toast-ok/);
  await expect(page.locator('[role="status"][aria-live="polite"].visually-hidden')).toHaveText('Demo job succeeded');
  await expect(page).toHaveTitle('Headway');
  await toast.getByRole('button', { name: 'Close' }).click();
  await expect(toast).toHaveCount(0);
});

test.describe('after an upgrade', () => {
  test.use({ allowConsole: serverGone });

  test('an open page offers to reload', async ({ page }) => {
    const db = `target/e2e/upgrade-${Date.now()}.db`;
    const old = new Headway(2, db, { HEADWAY_BUILD_ID: 'build-1' });
    await old.start();
    try {
      await page.goto(old.url);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
      await expect(page.getByText('A new version of Headway is available.')).toBeHidden();
    } finally {
      await old.stop();
    }
    const upgraded = new Headway(2, db, { HEADWAY_BUILD_ID: 'build-2' });
    await upgraded.start();
    try {
      await expect(page.getByText('A new version of Headway is available.')).toBeVisible({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Reload' }).click();
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(page.getByText('A new version of Headway is available.')).toBeHidden();
    } finally {
      await upgraded.stop();
    }
  });

  test('a tab that catches up over the long poll offers to reload too', async ({ context, page }) => {
    const db = `target/e2e/upgrade-poll-${Date.now()}.db`;
    const old = new Headway(12, db, { HEADWAY_BUILD_ID: 'build-1' });
    await old.start();
    const follower = await context.newPage();
    // The second tab's scripts wait until this test lets them load.
    let letLoad!: () => void;
    const mayLoad = new Promise<void>((resolve) => (letLoad = resolve));
    let scriptsAsked!: () => void;
    const asked = new Promise<void>((resolve) => (scriptsAsked = resolve));
    await follower.route(/\/pkg\/.*\.(js|wasm)(\?.*)?$/, async (route) => {
      scriptsAsked();
      await mayLoad;
      await route.continue();
    });
    try {
      // The first tab holds the stream.
      await page.goto(old.url);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(page.locator('html')).toHaveAttribute('data-stream', 'holder');
      await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
      // The second is rendered by the old build, whole, but not live yet.
      await follower.goto(old.url, { waitUntil: 'commit' });
      await asked;
      await follower.waitForFunction(() => document.readyState !== 'loading');
    } finally {
      await old.stop();
    }
    const upgraded = new Headway(12, db, { HEADWAY_BUILD_ID: 'build-2' });
    await upgraded.start();
    try {
      // The holding tab learns of the new build on its stream, before the second tab listens.
      await expect(page.getByText('A new version of Headway is available.')).toBeVisible({ timeout: 30_000 });
      // The second tab comes alive on the new build: it follows the holder's stream, and first
      // catches up on what it missed since its page was rendered over the long poll, which alone
      // can tell it of the new build.
      letLoad();
      await expect(follower.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(follower.locator('html')).toHaveAttribute('data-stream', 'follower');
      await expect(follower.getByText('A new version of Headway is available.')).toBeVisible();
      await follower.getByRole('button', { name: 'Reload' }).click();
      await expect(follower.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(follower.getByText('A new version of Headway is available.')).toBeHidden();
    } finally {
      await upgraded.stop();
    }
  });
});

test('keyboard only: skip link, visible focus, start a job, switch the theme', async ({ page }) => {
  await openDashboard(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');

  // `n` for a new job, a kind, its form, Enter to start: the new job's page.
  await page.keyboard.press('n');
  await expect(page).toHaveURL(/\/new$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: /^Demo/ }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/new\/demo$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const steps = page.locator('form#start-demo').getByLabel('Steps');
  await steps.focus();
  await steps.fill('5');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('.job-list article.job').first().locator('.status-word')).toHaveText('succeeded', {
    timeout: 20_000,
  });

  const html = page.locator('html');
  const toggle = page.getByRole('button', { name: /^Theme:/ });
  await expect(html).toHaveAttribute('data-theme', 'system');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.keyboard.press('Enter');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  const bg = await page.locator('body').evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg).toBe('rgb(17, 19, 24)');
  await page.getByRole('button', { name: /^Theme:/ }).click();
  await expect(html).toHaveAttribute('data-theme', 'system');
});

test('readable on a phone: nothing wider than the screen', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await openDashboard(page);
  await startJob(page, 'demo', { steps: 3, interval_ms: 10 });
  await page.reload();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test.describe('a full queue', () => {
  const server = new Headway(7, `target/e2e/queue-${Date.now()}.db`, { HEADWAY_MAX_RUNNING: '1' });
  test.beforeAll(async () => server.start());
  test.afterAll(async () => server.stop());

  test('a queued job shows its place in line and when it should start, and moves up', async ({ page }) => {
    await page.goto(server.url);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const start = (steps: number, interval_ms: number) =>
      page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'demo', params: { steps, interval_ms } } });
    // A quick job first, so that the kind has a typical run time.
    await start(2, 50);
    const rows = page.locator('.job-list article.job');
    await expect(rows.first().locator('.status-word')).toHaveText('succeeded');
    await start(100000, 100);
    await start(2, 50);
    await start(2, 50);
    await expect(rows).toHaveCount(4);
    // Newest first: the last one started is 2nd in line, the one before it next.
    await expect(rows.nth(0).locator('.job-queue')).toHaveText(/^2nd in line · starts in about \d/);
    await expect(rows.nth(1).locator('.job-queue')).toHaveText(/^next in line · starts in about \d/);
    await expect(rows.nth(0).locator('.job-queue')).toBeVisible();
    await expect(rows.nth(2).locator('.job-queue')).toBeHidden();
    // The running job is cancelled: the line moves up without a reload.
    await rows.nth(2).getByRole('button', { name: 'Cancel' }).click();
    await expect(rows.nth(0).locator('.status-word')).toHaveText('succeeded', { timeout: 20_000 });
    await expect(rows.locator('.job-queue:visible')).toHaveCount(0);
  });

  test("a job page whose timeline loads while the job moves on shows every step, at the job's times", async ({ page }) => {
    await page.goto(server.url);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const start = (steps: number, interval_ms: number) =>
      page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'demo', params: { steps, interval_ms } } });
    await start(100000, 100);
    await start(2, 50);
    const rows = page.locator('.job-list article.job');
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0).locator('.status-word')).toHaveText('queued');
    const waiting = await rows.nth(0).getAttribute('data-job-id');
    const blocker = await rows.nth(1).getAttribute('data-job-id');
    // The timeline's own code (a lazy island) is held back until the job has run and ended.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/split_timeline_loader[^/]*\.wasm$/, async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${server.url}/jobs/${waiting}`);
    await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
    await expect(page.locator('.timeline li')).toHaveText([/queued/]);
    await page.request.post(`${server.url}/api/v1/jobs/${blocker}/cancel`);
    await expect(page.locator('article.job .status-word')).toHaveText('succeeded', { timeout: 20_000 });
    release();
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('.timeline li')).toHaveText([/queued/, /running/, /succeeded/]);
    const job = await (await page.request.get(`${server.url}/api/v1/jobs/${waiting}`)).json();
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
    await expect(page.locator('.timeline li[data-status="running"] time')).toHaveAttribute('datetime', iso(job.started_at));
    await expect(page.locator('.timeline li[data-status="succeeded"] time')).toHaveAttribute('datetime', iso(job.finished_at));
  });
});
