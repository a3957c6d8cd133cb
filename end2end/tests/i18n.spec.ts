import { test, expect, expectAccessible, startJob, waitForStatus } from './fixtures';

// The pages in the reader's language and time zone: a browser that asks for Simplified Chinese
// gets it everywhere (and can switch, and the choice is remembered); a browser in another time
// zone reads every time in its zone, from the server's first rendering on.

test.describe('in Simplified Chinese', () => {
  test.use({
    locale: 'zh-CN',
    allowConsole: /status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/api\/start_job\)/,
  });

  test('the main flow: start a demo job, watch it finish, open its page, cancel another', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByRole('navigation', { name: '页面' }).getByRole('link', { name: '任务' })).toBeVisible();
    await expect(page.locator('.connection')).toHaveText('实时');
    await expect(page).toHaveTitle('Headway');

    // Started from the New job page's form, whose fields speak Chinese too; the page goes to
    // the new job.
    await page.locator('header.top').getByRole('link', { name: '新建任务' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('新建任务');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByRole('link', { name: /^演示/ }).click();
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const form = page.locator('form#start-demo');
    await form.getByLabel('步数').fill('5');
    await form.getByLabel('间隔（毫秒）').fill('50');
    await form.getByRole('button', { name: '启动演示' }).click();
    await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
    const row = page.locator('.job-list article.job').first();
    await expect(row.locator('.job-kind')).toHaveText('演示');
    await expect(row.locator('.status-word')).toHaveText('成功', { timeout: 30_000 });
    await expect(row.locator('.job-pace')).toContainText('运行了');
    await expect(row.locator('.job-times')).toContainText('创建于');

    // Its page.
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('h1')).toContainText('任务');
    await expect(page.locator('.timeline li[data-status="succeeded"]')).toContainText('成功');
    await expect(page.locator('#log-title')).toContainText('日志');
    await expectAccessible(page);

    // Another, cancelled from its row.
    const long = await startJob(page, 'demo', { steps: 100_000, interval_ms: 100 });
    await page.goto('/');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const running = page.locator(`article.job[data-job-id="${long}"]`);
    // Its bar and rate in Chinese units: 步, 步/秒.
    await expect(running.locator('.job-progress')).toContainText(/\d+ \/ 100,000 步（\d+%）/);
    await expect(running.locator('.job-pace')).toContainText(/步\/(秒|分钟)/);
    // Its message, Headway's words the stream brings as an id and values, said in Chinese by
    // the page's script as it moves on.
    const message = running.locator('.job-message');
    await expect(message).toHaveText(/^第 [\d,]+ 步，共 100,000 步$/);
    const before = (await message.textContent()) ?? '';
    await expect(message).not.toHaveText(before);
    await expect(message).toHaveText(/^第 [\d,]+ 步，共 100,000 步$/);
    await running.getByRole('button', { name: '取消' }).click();
    await expect(running.locator('.status-word')).toHaveText('已取消');
    // This page saw it end, so it says so in a toast (the first job may have ended before its
    // page was drawn, which shows no toast).
    await expect(page.locator('.toast').filter({ hasText: '演示 任务已取消' })).toBeVisible();
    await waitForStatus(page, long, 'cancelled');
    // The first screen in Chinese: what runs, what comes next, the failures, the history.
    await expect(page.locator('#running-title')).toContainText('正在运行');
    await expect(page.locator('#next-title')).toContainText('即将开始');
    await expect(page.locator('#failures-title')).toHaveText('最近 24 小时的失败');
    await expect(page.locator('.job-table-head')).toContainText('发起者');

    // Both themes pass the accessibility checks in Chinese.
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectAccessible(page);
  });

  test('a refused value is told in Chinese next to its field', async ({ page }) => {
    await page.goto('/new/demo');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const form = page.locator('form#start-demo');
    await form.getByLabel('步数').fill('0');
    await form.getByRole('button', { name: '启动演示' }).click();
    await expect(page.locator('#start-demo-steps-error')).toHaveText('必须在 1 到 100000 之间');
  });
});

test.describe('in Simplified Chinese, an outcome', () => {
  test.use({ locale: 'zh-CN' });

  test('a batch with failed items says it succeeded with warnings, live and once rendered', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await startJob(page, 'batch', { items: 30, item_kib: 1, concurrency: 2, failure_rate: 0.5, seed: 3 });
    const row = page.locator('.job-list article.job').first();
    await expect(row.locator('.status-word')).toHaveText('成功，有警告', { timeout: 30_000 });
    await expect(row.locator('.status-icon')).toHaveText('⚠');
    await page.reload();
    await expect(row.locator('.status-word')).toHaveText('成功，有警告');
    await expectAccessible(page);
  });
});

test('the language switch is remembered across pages and visits, and English stays the default', async ({ page, context }) => {
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('form.lang-switch').getByRole('button', { name: '中文' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('你的任务');
  // Another page, then a new tab of the same browser.
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('设置');
  const again = await context.newPage();
  await again.goto('/schedules');
  await expect(again.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(again.getByRole('heading', { level: 1 })).toHaveText('定时计划');
  await again.close();
  // And back.
  await page.locator('form.lang-switch').getByRole('button', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
});

for (const zone of [
  { id: 'Asia/Shanghai', offset: '+08:00' },
  { id: 'America/New_York', offset: '-05:00' },
]) {
  test.describe(`in ${zone.id}`, () => {
    test.use({ timezoneId: zone.id });

    test('every time is in the browser zone, server-rendered and after hydration', async ({ page }) => {
      const id = await startJob(page, 'demo', { steps: 1, interval_ms: 1 });
      await waitForStatus(page, id, 'succeeded');
      const created = new Date((await (await page.request.get(`/api/v1/jobs/${id}`)).json()).created_at);
      // How the browser writes that instant in its zone, to the second.
      const expected = new Intl.DateTimeFormat('en-US', {
        timeZone: zone.id, hourCycle: 'h23', month: 'short', day: 'numeric', year: 'numeric',
        hour: '2-digit', minute: '2-digit', second: '2-digit',
      }).formatToParts(created);
      const part = (t: string) => expected.find((p) => p.type === t)!.value;
      const text = `${part('month')} ${part('day')}, ${part('year')}, ${part('hour')}:${part('minute')}:${part('second')}`;

      // A first visit: the server did not know the zone, so the page moves to it once live,
      // and remembers it.
      await page.goto(`/jobs/${id}`);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      const createdAt = page.locator('.job-detail dd time').first();
      await expect(createdAt).toHaveText(text);
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'headway_tz')?.value).toBe(encodeURIComponent(zone.id).replace('%2F', '/'));

      // From then on the server renders in it: the same text before any script runs.
      const html = await (await page.request.get(`/jobs/${id}`)).text();
      expect(html).toContain(`data-tz="${zone.id}"`);
      expect(html).toContain(`>${text}</time>`);
      await page.reload();
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(createdAt).toHaveText(text);
      await expect(page.locator('.zone-note').first()).toContainText(zone.id);
      // The timeline (an island) agrees.
      await expect(page.locator('.timeline li[data-status="succeeded"] time')).toHaveAttribute('data-at', /\d+/);
      const finishedTitle = await page.locator('.job-times time').first().getAttribute('title');
      expect(finishedTitle).not.toContain('UTC');
    });
  });
}
