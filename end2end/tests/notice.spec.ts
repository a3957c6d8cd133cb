import { test, expect, openDashboard } from './fixtures';
import { notice } from './headway';

// A notice is shown to every open page of the server: this file runs alone (see `alone` in
// playwright.config.ts), so that no other test sees the banner.

test('an operator notice reaches open pages at once and stays dismissed', async ({ page }) => {
  await openDashboard(page);
  const text = `Maintenance at 18:00 (${Date.now()})`;
  expect(notice([text])).toMatch(/shown to every user/);
  const banner = page.locator('.notice', { hasText: text });
  await expect(banner).toBeVisible();
  await banner.getByRole('button', { name: 'Dismiss' }).click();
  await expect(banner).toHaveCount(0);
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.notice', { hasText: text })).toHaveCount(0);
  expect(notice(['--clear'])).toMatch(/withdrew/);
});
