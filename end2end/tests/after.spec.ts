import { test, expect, expectAccessible, startJob, waitForStatus } from './fixtures';

// A job to run after another, as a person starts it: "Then run…" on a job's page opens the
// kind picker, then the chosen kind's form, which says which job it runs after and offers the
// condition; the new job's page and row say what it waits for, and when the first is cancelled
// it ends cancelled too, live, saying why. In English and in Chinese.

test('Then run… starts a job that waits for this one, saying so, and is cancelled with it', async ({ page }) => {
  await page.goto('/');
  // Put off for an hour: it waits, holding no slot the other tests' jobs need, and ends when
  // it is cancelled.
  const first = await startJob(page, 'demo', { steps: 1, interval_ms: 1 }, { run_after: Date.now() + 3_600_000 });
  await page.goto(`/jobs/${first}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: 'Then run…' }).click();
  await expect(page).toHaveURL(new RegExp(`/new\\?after=${first}$`));
  await page.getByRole('link', { name: /^Demo/ }).click();
  await expect(page).toHaveURL(new RegExp(`/new/demo\\?after=${first}$`));
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-demo');
  await expect(form.locator('.after-job')).toHaveText(`Runs after job ${first.slice(0, 8)}`);
  await expect(form.getByLabel('Starts')).toHaveValue('succeeded');
  await expectAccessible(page);
  await form.getByLabel('Steps').fill('1');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const then = page.url().split('/').pop()!;
  expect(then).not.toBe(first);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const row = page.locator(`article.job[data-job-id="${then}"]`);
  await expect(row.locator('.job-queue')).toHaveText(/^Waiting for 1 job: 1 (queued|running)$/);
  await expect(page.locator('dd.job-after a')).toHaveText(first.slice(0, 8));
  await expect(page.locator('dd.job-after')).toContainText('once they all succeed');
  await expectAccessible(page);
  // The first is cancelled: this one, which was to run after its success, ends cancelled
  // too, and its page follows it live.
  expect((await page.request.post(`/api/v1/jobs/${first}/cancel`)).status()).toBe(200);
  await expect(row).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  await waitForStatus(page, then, 'cancelled');
});

test.describe('in Chinese', () => {
  test.use({ locale: 'zh-CN' });

  test('the form and the wait are said in the page’s language', async ({ page }) => {
    await page.goto('/');
    const first = await startJob(page, 'demo', { steps: 1, interval_ms: 1 }, { run_after: Date.now() + 3_600_000 });
    await page.goto(`/new/demo?after=${first}`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const form = page.locator('form#start-demo');
    await expect(form.locator('.after-job')).toContainText('在此任务之后运行');
    await form.getByLabel('开始条件').selectOption('ended');
    await expectAccessible(page);
    const res = await page.request.post('/api/v1/jobs', {
      data: { kind: 'demo', params: { steps: 1, interval_ms: 1 }, after: [first], when: 'ended' },
    });
    expect(res.status()).toBe(201);
    const then = (await res.json()).id;
    await page.goto(`/jobs/${then}`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator(`article.job[data-job-id="${then}"] .job-queue`)).toHaveText('等待 1 个任务：1 个排队中');
    await expect(page.locator('dd.job-after')).toContainText('全部结束后');
    await page.request.post(`/api/v1/jobs/${first}/cancel`);
    await waitForStatus(page, then, 'succeeded');
  });
});
