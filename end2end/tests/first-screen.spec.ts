import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';
import type { Page } from '@playwright/test';

// The first screen is the live state of the work: on a 1366×900 screen, without scrolling, the
// counts per status, the jobs running now with their bars, the next to start, the failures of
// the last day grouped by kind and error code, and a dense history. Starting a job is one click
// from every page, and after Start the new job's bar is in view.

/** Lists the page's session's jobs of a status, through the API. */
async function listed(page: Page, status: string): Promise<string[]> {
  const res = await page.request.get(`/api/v1/jobs?status=${status}&limit=500`);
  return (await res.json()).jobs.map((j: { id: string }) => j.id);
}

/** How many of the history's rows are wholly in the viewport. */
async function rowsInView(page: Page): Promise<number> {
  return page.locator('.job-table article.job').evaluateAll((rows) =>
    rows.filter((r) => {
      const b = r.getBoundingClientRect();
      return b.top >= 0 && b.bottom <= window.innerHeight && b.height > 0;
    }).length,
  );
}

test('the first screen at 1366×900 shows counts, running bars, the next job, failures and 12 rows of history', async ({ page }, info) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1366, height: 900 });
  await openDashboard(page);
  // 40 jobs: 30 that succeed, 4 that fail, 2 cancelled, 3 running, 1 waiting for its time.
  const quick = [];
  for (let i = 0; i < 30; i++) quick.push(await startJob(page, 'demo', { steps: 1, interval_ms: 0 }));
  for (let i = 0; i < 4; i++) {
    await startJob(page, 'demo', { steps: 2, interval_ms: 1, fail_attempts: 1 }, { max_attempts: 1 });
  }
  for (let i = 0; i < 2; i++) {
    const id = await startJob(page, 'demo', { steps: 100_000, interval_ms: 100 });
    await page.request.post(`/api/v1/jobs/${id}/cancel`);
  }
  const running = [];
  for (let i = 0; i < 3; i++) running.push(await startJob(page, 'demo', { steps: 100_000, interval_ms: 50 }));
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const waiting = await startJob(page, 'demo', { steps: 1, interval_ms: 1 }, { run_after: later });
  await expect.poll(() => listed(page, 'succeeded').then((l) => l.length), { timeout: 60_000 }).toBe(30);
  await expect.poll(() => listed(page, 'failed').then((l) => l.length), { timeout: 30_000 }).toBe(4);
  await expect.poll(() => listed(page, 'cancelled').then((l) => l.length), { timeout: 30_000 }).toBe(2);
  for (const id of running) await waitForStatus(page, id, 'running');

  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const counts = page.getByRole('navigation', { name: 'Jobs per status' });
  const count = (status: string) => counts.locator(`[data-status="${status}"] strong`);
  await expect(count('all')).toHaveText('40');
  await expect(count('succeeded')).toHaveText('30');
  await expect(count('failed')).toHaveText('4');
  await expect(count('cancelled')).toHaveText('2');
  await expect(count('running')).toHaveText('3');
  await expect(count('queued')).toHaveText('1');
  await expect(counts).toBeInViewport();

  // The jobs running now, each with its bar, moving; the next to start.
  const now = page.locator('.now-running .active-job');
  await expect(now).toHaveCount(3);
  for (const row of await now.all()) {
    await expect(row).toBeInViewport();
    await expect(row.getByRole('progressbar')).toBeInViewport();
    await expect(row.locator('.job-kind')).toHaveText('Demo');
  }
  const bar = now.first().getByRole('progressbar');
  const first = Number(await bar.getAttribute('aria-valuenow'));
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(first);
  const next = page.locator('.now-next .active-job');
  await expect(next).toHaveCount(1);
  await expect(next).toHaveAttribute('data-job-id', waiting);
  await expect(next).toBeInViewport();

  // Failures of the last day, grouped: the four failures, and no cancel among them.
  const groups = page.locator('.failures-list li');
  await expect(groups).toHaveCount(1);
  await expect(groups.first()).toContainText('4 × Demo · demo_failure');
  await expect(groups.first()).toContainText(', last ');
  await expect(groups.first()).toBeInViewport();

  // At least 12 rows of history, each with its status, name, short id, bar, times and who.
  await page.screenshot({ path: info.outputPath('first-screen.png') });
  const seen = await rowsInView(page);
  console.log(`first screen at 1366x900: ${seen} rows of history in view`);
  expect(seen).toBeGreaterThanOrEqual(12);
  const row = page.locator('.job-table article.job').first();
  for (const part of ['.status-word', '.job-kind', '.job-id', '.job-when', '.job-took', '.job-who']) {
    await expect(row.locator(part)).toBeVisible();
  }
  await expect(row.getByRole('progressbar')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1366);

  // The counts follow the stream: one more job, and its status is counted without a reload.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const more = await startJob(page, 'demo', { steps: 1, interval_ms: 0 });
  await expect(count('succeeded')).toHaveText('31');
  await expect(page.locator(`.job-table article.job[data-job-id="${more}"] .status-word`)).toHaveText('succeeded');
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // One click from the group to its jobs.
  await groups.first().getByRole('link').click();
  await expect(page).toHaveURL(/status=failed&kind=demo&error=demo_failure/);
  await expect(page.locator('.job-table article.job')).toHaveCount(4);
  await expect(page.locator('.job-table article.job .status-word')).toHaveText(Array(4).fill('failed'));
  for (const id of running) await page.request.post(`/api/v1/jobs/${id}/cancel`);
  await page.request.post(`/api/v1/jobs/${waiting}/cancel`);
});

test('New job is one click from every page, and after Start the new bar is in view', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 900 });
  for (const path of ['/', '/schedules', '/system']) {
    await page.goto(path);
    await expect(page.locator('header.top').getByRole('link', { name: 'New job' })).toBeVisible();
  }
  await page.locator('header.top').getByRole('link', { name: 'New job' }).click();
  await expect(page).toHaveURL(/\/new$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // The search narrows the kinds as one types.
  const kinds = page.locator('.kinds li:not([hidden])');
  const all = await kinds.count();
  expect(all).toBeGreaterThanOrEqual(5);
  await page.getByLabel('Find a kind').fill('export');
  await expect(kinds).toHaveCount(1);
  await expect(kinds.first()).toContainText('Export jobs');
  await page.getByLabel('Find a kind').fill('');
  await expect(kinds).toHaveCount(all);
  await page.getByRole('link', { name: /^Demo/ }).click();
  await expect(page).toHaveURL(/\/new\/demo$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-demo');
  // Each field says what it is for, in text under it.
  await expect(form.locator('#start-demo-steps-hint')).toHaveText('How many steps to take.');
  await expect(form.getByLabel('Steps')).toHaveAttribute('aria-describedby', /start-demo-steps-hint/);
  await form.getByLabel('Steps').fill('300');
  await form.getByLabel('Interval (ms)').fill('50');
  await form.getByRole('button', { name: 'Start Demo' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  const row = page.locator(`article.job[data-job-id="${id}"]`);
  await expect(row.getByRole('progressbar')).toBeInViewport();
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuemax', '300');
  await page.request.post(`/api/v1/jobs/${id}/cancel`);
});

test('Re-run on a job page goes to the new job; Run again with changes fills the form', async ({ page }) => {
  const done = await startJob(page, 'demo', { steps: 3, interval_ms: 1, log_every: 2 });
  await waitForStatus(page, done, 'succeeded');
  await page.goto(`/jobs/${done}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('button', { name: 'Re-run' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page).not.toHaveURL(new RegExp(done));
  const rerun = page.url().split('/').pop()!;
  await expect(page.locator('.job-detail')).toContainText('Re-run of');
  await waitForStatus(page, rerun, 'succeeded');

  await page.goto(`/jobs/${done}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: 'Run again with changes…' }).click();
  await expect(page).toHaveURL(new RegExp(`/new/demo\\?from=${done}$`));
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-demo');
  await expect(form.getByLabel('Steps')).toHaveValue('3');
  await expect(form.getByLabel('Log interval')).toHaveValue('2');
  await form.getByLabel('Steps').fill('4');
  await form.getByRole('button', { name: 'Start Demo' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('.params [data-param="steps"]')).toHaveText('4');
  await expect(page.locator('.params [data-param="log_every"]')).toHaveText('2');
});

test('a job that ends while its page is open offers Re-run and Run again with changes without a reload', async ({ page }) => {
  const id = await startJob(page, 'demo', { steps: 100000, interval_ms: 100 });
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const row = page.locator(`article.job[data-job-id="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'running');
  const again = page.getByRole('link', { name: 'Run again with changes…' });
  await expect(again).toBeHidden();
  await expect(row.getByRole('button', { name: 'Re-run' })).toBeHidden();
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  await expect(row.getByRole('button', { name: 'Re-run' })).toBeVisible();
  await expect(row.getByRole('button', { name: 'Cancel' })).toBeHidden();
  await expect(again).toBeVisible();
  await again.click();
  await expect(page).toHaveURL(new RegExp(`/new/demo\\?from=${id}$`));
  await expect(page.locator('form#start-demo').getByLabel('Steps')).toHaveValue('100000');
});

test('an external job has no Re-run and is called by its title', async ({ page }) => {
  const res = await page.request.post('/api/v1/jobs', { data: { kind: 'external', params: { title: 'copy rows' } } });
  const { id, report_token: token } = await res.json();
  await page.request.post(`/api/v1/jobs/${id}/report`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { end: { status: 'succeeded' } },
  });
  await waitForStatus(page, id, 'succeeded');
  await openDashboard(page);
  const row = page.locator(`article.job[data-job-id="${id}"]`);
  await expect(row.locator('.job-kind')).toHaveText('copy rows');
  await expect(row.getByRole('button', { name: 'Re-run' })).toHaveCount(0);
  await page.goto(`/jobs/${id}`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('copy rows job');
  await expect(page.getByRole('button', { name: 'Re-run' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Run again with changes…' })).toHaveCount(0);
});

test('keys: n for a new job, / to search, ? for the list', async ({ page }) => {
  await openDashboard(page);
  await page.keyboard.press('/');
  await expect(page.locator('#filter-q')).toBeFocused();
  await page.keyboard.type('n');
  await expect(page).toHaveURL(/\/$/);
  await page.locator('#filter-q').blur();
  await page.keyboard.press('?');
  const keys = page.getByRole('dialog', { name: 'Keys' });
  await expect(keys).toBeVisible();
  await expect(keys).toContainText('New job');
  await page.keyboard.press('Escape');
  await expect(keys).toBeHidden();
  await page.keyboard.press('n');
  await expect(page).toHaveURL(/\/new$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.keyboard.press('/');
  await expect(page.locator('#kind-q')).toBeFocused();
});
