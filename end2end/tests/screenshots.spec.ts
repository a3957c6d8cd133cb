import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';
import path from 'node:path';

// The screenshots in docs/ come from this test: `make screenshots` sets HEADWAY_SCREENSHOTS to
// docs/screenshots; otherwise they go to the test output only.

// English in both themes (`dashboard-light.png`, the README's), Simplified Chinese in both
// (`dashboard-zh-CN-light.png`), and the dashboard on a phone.
const shots = [
  { theme: 'light', lang: 'en' },
  { theme: 'dark', lang: 'en' },
  { theme: 'light', lang: 'zh-CN' },
  { theme: 'dark', lang: 'zh-CN' },
] as const;

for (const { theme, lang } of shots) {
  test(`dashboard and job page, ${theme}, ${lang}`, async ({ page, context }, info) => {
    const out = process.env.HEADWAY_SCREENSHOTS
      ? path.resolve(__dirname, '..', '..', process.env.HEADWAY_SCREENSHOTS)
      : info.outputDir;
    const name = (what: string) => (lang === 'en' ? `${what}-${theme}.png` : `${what}-${lang}-${theme}.png`);
    await context.addCookies([
      { name: 'headway_theme', value: theme, url: info.project.use.baseURL! },
      { name: 'headway_lang', value: lang, url: info.project.use.baseURL! },
    ]);
    await page.setViewportSize({ width: 1366, height: 900 });
    await openDashboard(page);
    const done = await startJob(page, 'demo', { steps: 40, interval_ms: 5 });
    await startJob(page, 'demo', { steps: 1000, interval_ms: 50, timeout_ms: 400 }, { max_attempts: 1 });
    await waitForStatus(page, done, 'succeeded');
    const running = await startJob(page, 'demo', { steps: 600, interval_ms: 100 });
    await page.reload();
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    // Its estimate of what is left, in the page's language.
    const left = lang === 'en' ? 'left' : '约剩';
    await expect(page.locator(`article.job[data-job-id="${running}"] .job-pace`)).toContainText(left, { timeout: 20_000 });
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await page.screenshot({ path: path.join(out, name('dashboard')) });
    if (theme === 'light' && lang === 'en') {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(out, 'dashboard-phone.png'), fullPage: true });
      await page.setViewportSize({ width: 1366, height: 900 });
    }

    await page.goto(`/jobs/${running}`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('.log .log-line').nth(2)).toBeVisible({ timeout: 20_000 });
    await page.screenshot({ path: path.join(out, name('job')), fullPage: true });
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
