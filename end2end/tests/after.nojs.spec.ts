import { test, expect } from './fixtures';

// "Then run…" without JavaScript, in the dark theme: links and a plain form post; the new
// job's page, rendered on the server, says what it waits for, and a reload shows it done once
// the first job has ended (cancelled: it was to run after any end); a failed need cancels the
// job waiting for its success, naming that job.

test.use({ colorScheme: 'dark' });

test('Then run… with plain links and a form post; a failed need cancels the job after it', async ({ page }) => {
  await page.goto('/');
  const start = async (data: Record<string, unknown>) => {
    const res = await page.request.post('/api/v1/jobs', { data });
    expect(res.status()).toBe(201);
    return (await res.json()).id as string;
  };
  // Put off for an hour: it waits, holding no slot the other tests' jobs need, and ends when
  // it is cancelled.
  const first = await start({ kind: 'demo', params: { steps: 1, interval_ms: 1 }, run_after: Date.now() + 3_600_000 });
  await page.goto(`/jobs/${first}`);
  await page.getByRole('link', { name: 'Then run…' }).click();
  await page.getByRole('link', { name: /^Demo/ }).click();
  await expect(page).toHaveURL(new RegExp(`/new/demo\\?after=${first}$`));
  const form = page.locator('form#start-demo');
  await expect(form.locator('.after-job')).toHaveText(`Runs after job ${first.slice(0, 8)}`);
  await form.getByLabel('Steps').fill('1');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByLabel('Starts').selectOption('ended');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const then = page.url().split('/').pop()!;
  expect(then).not.toBe(first);
  await expect(page.locator(`article.job[data-job-id="${then}"] .job-queue`)).toHaveText(
    /^Waiting for 1 job: 1 (queued|running)$/,
  );
  await expect(page.locator('dd.job-after')).toContainText('once they all end');
  expect((await page.request.post(`/api/v1/jobs/${first}/cancel`)).status()).toBe(200);
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${then}`)).json()).status, { timeout: 30_000 })
    .toBe('succeeded');
  await page.reload();
  await expect(page.locator(`article.job[data-job-id="${then}"]`)).toHaveAttribute('data-status', 'succeeded');

  // A need that fails: the job waiting for its success ends cancelled, saying which. The
  // failing job itself waits for a job put off an hour until the job after it is started (a
  // start after a job that already failed is refused), then that one is cancelled.
  const gate = await start({ kind: 'demo', params: { steps: 1, interval_ms: 1 }, run_after: Date.now() + 3_600_000 });
  const failing = await start({
    kind: 'demo',
    params: { steps: 4, interval_ms: 20, fail_attempts: 1 },
    max_attempts: 1,
    after: [gate],
    when: 'ended',
  });
  const cancelled = await start({ kind: 'demo', params: { steps: 1, interval_ms: 1 }, after: [failing] });
  expect((await page.request.post(`/api/v1/jobs/${gate}/cancel`)).status()).toBe(200);
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${cancelled}`)).json()).status, { timeout: 30_000 })
    .toBe('cancelled');
  await page.goto(`/jobs/${cancelled}`);
  await expect(page.locator('.job-failure')).toContainText('need_failed');
  await expect(page.locator('.job-failure')).toContainText(failing);
});
