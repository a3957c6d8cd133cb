import { test, expect, startJob, waitForStatus } from './fixtures';

// The first screen, New job and Run again with changes from the server alone.

test('the first screen without JavaScript: counts, running and next, failures and their jobs', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 900 });
  const done = await startJob(page, 'demo', { steps: 1, interval_ms: 0 });
  const failed = await startJob(page, 'demo', { steps: 2, interval_ms: 1, fail_attempts: 1 }, { max_attempts: 1 });
  const running = await startJob(page, 'demo', { steps: 100_000, interval_ms: 100 });
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const waiting = await startJob(page, 'demo', { steps: 1, interval_ms: 1 }, { run_after: later });
  await waitForStatus(page, done, 'succeeded');
  await waitForStatus(page, failed, 'failed');
  await waitForStatus(page, running, 'running');

  await page.goto('/');
  const counts = page.getByRole('navigation', { name: 'Jobs per status' });
  await expect(counts.locator('[data-status="all"] strong')).toHaveText('4');
  await expect(page.locator(`.now-running .active-job[data-job-id="${running}"]`).getByRole('progressbar')).toBeInViewport();
  await expect(page.locator(`.now-next .active-job[data-job-id="${waiting}"]`)).toBeInViewport();
  const group = page.locator('.failures-list li');
  await expect(group).toHaveCount(1);
  await expect(group).toContainText('1 × Demo · demo_failure');
  await group.getByRole('link').click();
  await expect(page).toHaveURL(/status=failed&kind=demo&error=demo_failure/);
  await expect(page.locator('.job-table article.job')).toHaveCount(1);
  await expect(page.locator('.job-table article.job')).toHaveAttribute('data-job-id', failed);
  await expect(page.locator('.filter-note')).toContainText('demo_failure');
  await page.request.post(`/api/v1/jobs/${running}/cancel`);
  await page.request.post(`/api/v1/jobs/${waiting}/cancel`);
});

test('the kinds are searched with a plain form; run again with changes from a job page', async ({ page }) => {
  await page.goto('/new');
  await page.getByLabel('Find a kind').fill('export');
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page).toHaveURL(/\/new\?q=export$/);
  await expect(page.locator('.kinds li')).toHaveCount(1);
  await page.getByRole('link', { name: /^Export jobs/ }).click();
  // Export's format is a choice and its statuses a set: a select and checkboxes.
  const form = page.locator('form#start-export_jobs');
  await expect(form.getByLabel('Format')).toHaveJSProperty('tagName', 'SELECT');
  await expect(form.getByRole('group', { name: 'Statuses' }).getByRole('checkbox')).toHaveCount(7);
  await form.getByLabel('Format').selectOption('jsonl');
  await form.getByRole('checkbox', { name: 'failed' }).check();
  await form.getByRole('checkbox', { name: 'cancelled' }).check();
  // A bad time is refused next to its field, the choices kept.
  await form.getByLabel('From').fill('soon');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page.locator('#start-export_jobs-from-error')).toContainText('"soon" is not a time');
  await form.getByLabel('From').fill('');
  await form.getByRole('checkbox', { name: 'failed' }).check();
  await form.getByRole('checkbox', { name: 'cancelled' }).check();
  await form.getByLabel('Format').selectOption('jsonl');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  const job = await (await page.request.get(`/api/v1/jobs/${id}`)).json();
  expect(job.params.format).toBe('jsonl');
  expect(job.params.status).toEqual(['failed', 'cancelled']);
  await expect(page.locator('.params [data-param="status"]')).toHaveText('failed, cancelled');
  await waitForStatus(page, id, 'succeeded');

  await page.goto(`/jobs/${id}`);
  await page.getByRole('link', { name: 'Run again with changes…' }).click();
  await expect(page).toHaveURL(new RegExp(`/new/export_jobs\\?from=${id}$`));
  await expect(form.getByLabel('Format')).toHaveValue('jsonl');
  await expect(form.getByRole('checkbox', { name: 'failed' })).toBeChecked();
  await expect(form.getByRole('checkbox', { name: 'succeeded' })).not.toBeChecked();
  await form.getByLabel('Format').selectOption('csv');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const again = await (await page.request.get(`/api/v1/jobs/${page.url().split('/').pop()}`)).json();
  expect(again.params.format).toBe('csv');
  expect(again.params.status).toEqual(['failed', 'cancelled']);
});
