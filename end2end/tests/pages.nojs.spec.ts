import { test, expect, startJob, waitForStatus } from './fixtures';

// JavaScript is off in this project: every page is complete from the server, and starting,
// cancelling, filtering, dismissing and switching themes are plain form posts and links.

test('start and cancel with plain form posts; the page says how to see progress', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('noscript, .hint').first()).toBeAttached();
  // New job, a kind, its form: Start goes to the new job's page.
  await page.locator('header.top').getByRole('link', { name: 'New job' }).click();
  await expect(page).toHaveURL(/\/new$/);
  await page.getByRole('link', { name: /^Demo/ }).click();
  await expect(page).toHaveURL(/\/new\/demo$/);
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('100000');
  await form.getByLabel('Interval (ms)').fill('100');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  await expect(page.getByRole('link', { name: 'refresh the page' })).toBeVisible();
  await page.goto('/');
  const row = page.locator('.job-table article.job').first();
  await expect(row).toHaveAttribute('data-job-id', id);
  await expect(row.locator('.status-word')).toHaveText(/queued|running/);
  // Notifications need JavaScript: their toggle is not offered.
  await expect(page.getByRole('button', { name: /notif/i })).toHaveCount(0);

  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(page).toHaveURL(/\/\??$/);
  await expect(page.locator('.job-table article.job').first().locator('.status-word')).toHaveText(/cancell(ing|ed)/);
});

test('a bad value posted without JavaScript comes back next to its field', async ({ page }) => {
  await page.goto('/new/demo');
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('0');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/new\/demo\?/);
  await expect(page.locator('#start-demo-steps-error')).toContainText(/from 1 to/);
  await expect(form.getByLabel('Steps')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#start-demo-steps-hint')).toHaveText('How many steps to take.');
  expect((await (await page.request.get('/api/v1/jobs')).json()).jobs).toHaveLength(0);
});

test('history filters and the job page work from the server alone', async ({ page }) => {
  const id = await startJob(page, 'demo', { steps: 25, interval_ms: 5 });
  await waitForStatus(page, id, 'succeeded');
  await page.goto('/');
  await page.getByLabel('Status', { exact: true }).selectOption('succeeded');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=succeeded/);
  await expect(page.locator('.job-list article.job').first()).toHaveAttribute('data-job-id', id);

  await page.locator(`article.job[data-job-id="${id}"] a.job-kind`).click();
  await expect(page).toHaveURL(`/jobs/${id}`);
  await expect(page.locator('.params [data-param="steps"]')).toHaveText('25');
  await expect(page.locator('.timeline li')).toHaveText([/queued/, /running/, /succeeded/]);
  await expect(page.locator('.log .log-line')).toHaveCount(2);
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '25');
  // Re-run goes to the new job's page.
  await page.getByRole('button', { name: 'Re-run' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page).not.toHaveURL(new RegExp(id));
  await expect(page.locator('.job-detail')).toContainText('Re-run of');
});

test('the theme switch is a form post too', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: /^Theme:/ }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});

test('the system page reads without JavaScript', async ({ page }) => {
  const res = await page.goto('/system');
  expect(res?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1, name: 'System' })).toBeVisible();
  await expect(page.getByRole('table').first()).toContainText('Demo');
  await expect(page.getByRole('link', { name: 'refresh' })).toBeVisible();
});

test('bulk cancel works from the server alone: tick, confirm, done', async ({ page }) => {
  await page.goto('/');
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await page.request.post('/api/v1/jobs', { data: { kind: 'demo', params: { steps: 100000, interval_ms: 100 } } });
    ids.push((await res.json()).id);
  }
  await page.goto('/');
  for (const id of ids) await page.locator(`article.job[data-job-id="${id}"]`).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Cancel selected…' }).click();
  await expect(page.getByRole('heading', { name: 'Cancel 2 jobs?' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel 2 jobs' }).click();
  await expect(page.locator('.bulk-done')).toHaveText('2 jobs cancelled.');
  for (const id of ids) {
    await expect
      .poll(async () => (await (await page.request.get(`/api/v1/jobs/${id}`)).json()).status)
      .toBe('cancelled');
  }
});

test('the log is searched and filtered without JavaScript', async ({ page }) => {
  const id = await startJob(page, 'demo', { steps: 30, interval_ms: 1 });
  await waitForStatus(page, id, 'succeeded');
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('.log .log-line')).toHaveCount(3);
  await page.getByLabel('Search the log').fill('step 20');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('.log .log-line')).toHaveText([/reached step 20 of 30/]);
  await expect(page.locator('.log mark')).toHaveText('step 20');
  await expect(page.getByText('1 line matches.')).toBeVisible();
});

test('"Start at…" without JavaScript is read in UTC; the job says when it starts and is cancelled unstarted', async ({ page }) => {
  await page.goto('/new/demo');
  const form = page.locator('form#start-demo');
  await form.getByText('Start at…').click();
  await expect(form.locator('.start-zone')).toHaveText('(UTC)');
  const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 2 * 3_600_000);
  await form.getByLabel(/^Start at/).fill(at.toISOString().slice(0, 16));
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const row = page.locator('.job-list article.job').first();
  await expect(row.locator('.status-word')).toHaveText('queued');
  // Without JavaScript and no zone chosen, the time is in UTC and says so.
  const month = at.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const hhmm = at.toISOString().slice(11, 19);
  const utc = `${month} ${at.getUTCDate()}, ${at.getUTCFullYear()}, ${hhmm} UTC`;
  await expect(row.locator('.job-starts')).toContainText(`starts at ${utc} · in `);
  await expect(row.locator('.job-starts')).toContainText(/in (1h 59m|2h 00m)$/);
  await row.getByRole('button', { name: 'Cancel' }).click();
  const cancelled = page.locator('.job-list article.job').first();
  await expect(cancelled.locator('.status-word')).toHaveText('cancelled');
  await expect(cancelled.locator('.job-starts')).toBeHidden();
});

test('a double click on Start without JavaScript starts one job', async ({ page }) => {
  await page.goto('/new/demo');
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('2');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByRole('button', { name: /start/i }).dblclick();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const list = await (await page.request.get('/api/v1/jobs')).json();
  expect(list.jobs).toHaveLength(1);
});

test('a retried job without JavaScript: the page says when it is tried again, then lists its attempts', async ({
  page,
}) => {
  await page.goto('/new/demo');
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('10');
  await form.getByLabel('Interval (ms)').fill('10');
  await form.getByLabel('Failing attempts').fill('1');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  const row = page.locator('.job-list article.job').first();
  await expect
    .poll(async () => {
      await page.goto('/');
      return row.locator('.job-starts').textContent();
    }, { timeout: 15_000 })
    .toMatch(/^attempt 2 of 3 (in \d+s|any moment)$/);
  await expect(row.locator('.job-error')).toContainText('attempt 1 failed: demo_failure');
  await waitForStatus(page, id!, 'succeeded');
  await page.goto(`/jobs/${id}`);
  const attempts = page.locator('.attempts li');
  await expect(attempts).toHaveCount(2);
  await expect(attempts.nth(0).locator('.attempt-error')).toContainText('demo_failure');
  await expect(page.locator('.log-line[data-attempt="2"] .log-attempt').first()).toHaveText('attempt 2');
});
