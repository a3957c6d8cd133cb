import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';

// The job page's log: search and a level filter (a GET form: the page narrows the log on the
// server), matches marked, and new lines that pass the filter arriving live.

test('a log is searched and filtered by level, with the matches marked', async ({ page }) => {
  await openDashboard(page);
  const id = await startJob(page, 'batch', { items: 300, item_kib: 1, concurrency: 4, failure_rate: 0.3, seed: 7 });
  await waitForStatus(page, id, 'succeeded');
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // "Log (N lines)"; the pane renders only the lines near its view.
  const all = Number((await page.locator('#log-title').textContent())!.match(/\(([\d,]+) lines?\)/)![1].replace(/,/g, ''));
  expect(all).toBeGreaterThan(0);

  await page.getByLabel('Search the log').fill('FAILED');
  await page.getByLabel('Level').selectOption('warn');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/log_q=FAILED&log_level=warn/);
  const lines = page.locator('.log .log-line');
  const n = Number((await page.getByRole('status').filter({ hasText: /lines? match/ }).textContent())!.match(/[\d,]+/)![0].replace(/,/g, ''));
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThan(all);
  await expect(lines).toHaveCount(n);
  for (const line of await lines.all()) {
    await expect(line).toHaveClass(/log-(warn|error)/);
    await expect(line.locator('mark')).toHaveText(/^failed$/i);
  }
  await expect(page.getByLabel('Search the log')).toHaveValue('FAILED');

  await page.getByLabel('Search the log').fill('no such words');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('No line matches.').first()).toBeVisible();
  await page.getByRole('link', { name: 'Show every line' }).click();
  await expect(page.locator(`.log .log-line[data-seq="${all}"]`)).toBeVisible();
  await expect(page.getByText('No line matches.')).toHaveCount(0);
});

test('while a job runs, only new lines that pass the filter appear', async ({ page }) => {
  await openDashboard(page);
  const id = await startJob(page, 'demo', { steps: 60, interval_ms: 100 });
  await page.goto(`/jobs/${id}?log_q=${encodeURIComponent('step 50')}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const lines = page.locator('.log .log-line');
  await expect(lines).toHaveText([/reached step 50 of 60/], { timeout: 30_000 });
  await expect(lines.locator('mark')).toHaveText('step 50');
  await waitForStatus(page, id, 'succeeded');
  // The job's other lines arrived too, before and after: none was shown.
  await expect(lines).toHaveCount(1);
});
