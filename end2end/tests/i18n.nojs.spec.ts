import { test, expect, startJob, waitForStatus } from './fixtures';

// Without JavaScript the page cannot ask the browser its time zone: times are in UTC and say
// so, until the reader chooses a zone in the settings; the language switch is a plain form.

test.use({ timezoneId: 'Asia/Shanghai' });

test('times are in UTC, said as such, until a zone is chosen in the settings', async ({ page }) => {
  const id = await startJob(page, 'demo', { steps: 1, interval_ms: 1 });
  await waitForStatus(page, id, 'succeeded');
  const created = new Date((await (await page.request.get(`/api/v1/jobs/${id}`)).json()).created_at);
  const written = (zone: string) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', month: 'short', day: 'numeric', year: 'numeric',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(created);
    const part = (t: string) => parts.find((p) => p.type === t)!.value;
    return `${part('month')} ${part('day')}, ${part('year')}, ${part('hour')}:${part('minute')}:${part('second')}`;
  };

  await page.goto(`/jobs/${id}`);
  const createdAt = page.locator('.job-detail dd time').first();
  await expect(createdAt).toHaveText(`${written('UTC')} UTC`);
  await expect(page.locator('.zone-note').first()).toContainText('Times in UTC.');

  // The settings' zone, a plain form.
  await page.locator('.zone-note a').first().click();
  await expect(page).toHaveURL(/\/settings#time-zone$/);
  await page.getByLabel('Time zone', { exact: true }).selectOption('America/New_York');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await page.goto(`/jobs/${id}`);
  await expect(createdAt).toHaveText(written('America/New_York'));
  await expect(page.locator('.zone-note').first()).toContainText('America/New_York');

  // Back to automatic: UTC again without JavaScript.
  await page.goto('/settings');
  await page.getByLabel('Time zone', { exact: true }).selectOption('');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await page.goto(`/jobs/${id}`);
  await expect(createdAt).toHaveText(`${written('UTC')} UTC`);
});

test('the language switch works without JavaScript and sets <html lang>', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.locator('form.lang-switch').getByRole('button', { name: '中文' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('你的任务');
  await page.goto('/system');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('系统');
  await page.goto('/settings');
  await page.getByLabel('语言', { exact: true }).selectOption('en');
  await page.getByRole('button', { name: '保存语言' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});
