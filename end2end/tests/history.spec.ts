import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';

test('history: counts per status, filters in the URL, pages both ways, search by id and message', async ({ page }) => {
  await openDashboard(page);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await startJob(page, 'demo', { steps: 1, interval_ms: 0 }));
  const slow = await startJob(page, 'demo', { steps: 1000, interval_ms: 1000 });
  expect((await page.request.post(`/api/v1/jobs/${slow}/cancel`)).status()).toBe(200);
  const late = await startJob(page, 'demo', { steps: 1000, interval_ms: 100, timeout_ms: 300 }, { max_attempts: 1 });
  await waitForStatus(page, late, 'failed');
  for (const id of ids) await waitForStatus(page, id, 'succeeded');
  await waitForStatus(page, slow, 'cancelled');

  await page.goto('/');
  const counts = page.getByRole('navigation', { name: 'Jobs per status' });
  await expect(counts.locator('[data-status="succeeded"] strong')).toHaveText(/^[5-9]|\d\d/);
  await expect(counts.locator('[data-status="cancelled"] strong')).not.toHaveText('0');

  // A status filter from the form lands in the URL, and the list follows it.
  await page.getByLabel('Status', { exact: true }).selectOption('cancelled');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=cancelled/);
  const rows = page.locator('.job-list article.job');
  await expect(rows.first()).toHaveAttribute('data-job-id', slow);
  for (const s of await rows.locator('.status-word').allTextContents()) expect(s).toBe('cancelled');

  // Pages of two, older then newer again, with the filter kept.
  await page.goto('/?status=succeeded&limit=2');
  await expect(rows).toHaveCount(2);
  const rowIds = () => rows.evaluateAll((r) => r.map((e) => e.getAttribute('data-job-id')));
  const first = await rowIds();
  await page.getByRole('link', { name: 'Older →' }).click();
  // The next page's rows are read once it has loaded, not while it is still arriving.
  await page.waitForURL(/before=/);
  await expect(page).toHaveURL(/status=succeeded/);
  const second = await rowIds();
  expect(second).toHaveLength(2);
  expect(second.filter((id) => first.includes(id))).toEqual([]);
  await page.getByRole('link', { name: '← Newer' }).click();
  await expect.poll(rowIds).toEqual(first);

  // Search: the start of an id finds that job; words of a message find the job that said them.
  await page.goto(`/?q=${ids[2].slice(0, 13)}`);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-job-id', ids[2]);
  await page.goto('/?q=longer%20than%20its%20300');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-job-id', late);
});

test.describe('a bad filter', () => {
  // Chromium logs the page's own 400 status as a failed resource: expected here.
  test.use({ allowConsole: /status of 400 \(Bad Request\) \(http:\/\/127\.0\.0\.1:\d+\/\?status=nope\)/ });

  test('is explained on the page, not a crash', async ({ page }) => {
    const bad = await page.goto('/?status=nope');
    expect(bad?.status()).toBe(400);
    await expect(page.getByRole('alert')).toContainText('unknown status');
  });
});
