import { test, expect, expectAccessible, openDashboard, waitForStatus } from './fixtures';
import type { APIRequestContext } from '@playwright/test';

/** Starts an external job as the page's user; its id and the token its program reports with. */
async function openExternal(request: APIRequestContext, title: string) {
  const res = await request.post('/api/v1/jobs', { data: { kind: 'external', params: { title, command: 'backup.sh --full' } } });
  expect(res.status()).toBe(201);
  const job = await res.json();
  return { id: job.id as string, token: job.report_token as string };
}

test('an external job shows its title, and its bar and log move as its program reports', async ({ page }) => {
  await openDashboard(page);
  const { id, token } = await openExternal(page.request, 'nightly backup');
  const report = async (body: object) => {
    const res = await page.request.post(`/api/v1/jobs/${id}/report`, {
      headers: { Authorization: `Bearer ${token}` },
      data: body,
    });
    expect(res.status(), await res.text()).toBe(200);
  };
  const row = page.locator(`article.job[data-job-id="${id}"]`);
  await expect(row.locator('.job-kind')).toHaveText('nightly backup');
  await expect(row.locator('.status-word')).toHaveText('running');
  await report({ progress: 3, total: 10, unit: 'tables', message: 'copying orders', log: [{ seq: 1, line: 'copied users' }] });
  await expect(row.getByRole('progressbar', { name: 'nightly backup job progress' })).toHaveAttribute('aria-valuetext', '3 of 10 tables (30%)');
  await expect(row.locator('.job-message')).toHaveText('copying orders');

  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('nightly backup job');
  await expect(page.locator('.params')).toContainText('backup.sh --full');
  const lines = page.getByRole('log', { name: 'Job log' }).locator('.log-line');
  await expect(lines).toHaveCount(1);
  // A line sent again changes nothing; the next one appears live.
  await report({ log: [{ seq: 1, line: 'copied users' }, { seq: 2, line: 'copied orders', level: 'warn' }] });
  await expect(lines).toHaveCount(2);
  await expect(lines.nth(1)).toContainText('copied orders');
  await report({ progress: 10, end: { status: 'succeeded' }, result: { tables: 10 } });
  await waitForStatus(page, id, 'succeeded');
  await expect(page.locator('.status-word').first()).toHaveText('succeeded');
});

test('an external job that started children lists them on its page and ends after them, live', async ({ page }) => {
  const { id, token } = await openExternal(page.request, 'fan out');
  const child = (name: string) => ({ name, kind: 'demo', params: { steps: 20, interval_ms: 50 } });
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // Its program asks for two children and ends its own work: the job waits for them.
  const res = await page.request.post(`/api/v1/jobs/${id}/report`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { children: [child('first half'), child('second half')], end: { status: 'succeeded' } },
  });
  expect(res.status(), await res.text()).toBe(200);
  expect((await res.json()).children).toHaveLength(2);
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const children = page.locator('section.job-steps article.job');
  await expect(children).toHaveCount(2);
  await expect(children.first()).toContainText('first half');
  const parent = page.locator(`article.job[data-job-id="${id}"]`);
  await expect(parent).toHaveAttribute('data-status', /running|succeeded/);
  await expectAccessible(page);
  // Each child's row moves to its end on this page, and the parent ends with the last.
  await expect(children.nth(0)).toHaveAttribute('data-status', 'succeeded');
  await expect(children.nth(1)).toHaveAttribute('data-status', 'succeeded');
  await waitForStatus(page, id, 'succeeded');
  await expect(parent).toHaveAttribute('data-status', 'succeeded');
});

test('an open server gives its browser a token to copy for headway run', async ({ page }) => {
  await openDashboard(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Name').fill('laptop');
  await page.getByLabel('Scope').selectOption('write');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.locator('.token-value').textContent())?.trim() ?? '';
  expect(token).toMatch(/^hw_/);
  await expect(page.locator('.token-export')).toHaveText(`export HEADWAY_TOKEN=${token}`);
  // What a program starts with it is this browser's.
  const res = await page.request.post('/api/v1/jobs', {
    headers: { Authorization: `Bearer ${token}` },
    data: { kind: 'external', params: { title: 'from the terminal' } },
  });
  expect(res.status()).toBe(201);
  await page.goto('/');
  await expect(page.locator('.job-list article.job .job-kind').first()).toHaveText('from the terminal');
  // The history's kind filter finds external jobs.
  await page.request.post('/api/v1/jobs', { data: { kind: 'demo', params: { steps: 1, interval_ms: 1 } } });
  await page.locator('#filter-kind').selectOption('external');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/kind=external/);
  await expect(page.locator('.job-list article.job .job-kind')).toHaveText(['from the terminal']);
});
