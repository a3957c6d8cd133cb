import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';
import path from 'node:path';

// The screenshots in docs/ come from this test: `make screenshots` sets HEADWAY_SCREENSHOTS to
// docs/screenshots; otherwise they go to the test output only.

for (const theme of ['light', 'dark'] as const) {
  test(`dashboard and job page, ${theme}`, async ({ page, context }, info) => {
    const out = process.env.HEADWAY_SCREENSHOTS
      ? path.resolve(__dirname, '..', '..', process.env.HEADWAY_SCREENSHOTS)
      : info.outputDir;
    await context.addCookies([{ name: 'headway_theme', value: theme, url: info.project.use.baseURL! }]);
    await page.setViewportSize({ width: 1100, height: 900 });
    await openDashboard(page);
    const done = await startJob(page, 'demo', { steps: 40, interval_ms: 5 });
    await startJob(page, 'demo', { steps: 1000, interval_ms: 50, timeout_ms: 400 }, { max_attempts: 1 });
    await waitForStatus(page, done, 'succeeded');
    const running = await startJob(page, 'demo', { steps: 600, interval_ms: 100 });
    await page.reload();
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator(`article.job[data-job-id="${running}"] .job-pace`)).toContainText('left', { timeout: 20_000 });
    await page.screenshot({ path: path.join(out, `dashboard-${theme}.png`), fullPage: true });

    await page.goto(`/jobs/${running}`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('.log .log-line').nth(2)).toBeVisible({ timeout: 20_000 });
    await page.screenshot({ path: path.join(out, `job-${theme}.png`), fullPage: true });
    // Every field wears the theme: the log's level menu looks like the search box next to it.
    const look = (selector: string) =>
      page.locator(selector).evaluate((el) => {
        const s = getComputedStyle(el);
        return [s.backgroundColor, s.color, s.borderTopColor, s.borderTopLeftRadius];
      });
    expect(await look('#log-level')).toEqual(await look('#log-q'));
    await page.request.post(`/api/v1/jobs/${running}/cancel`);
  });
}
