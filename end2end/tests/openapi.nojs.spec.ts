import { test, expect } from './fixtures';

// Without JavaScript, the API reference is the same plain page.
test('the API reference reads without JavaScript', async ({ page }) => {
  // A long page: axe-core takes its time over it.
  test.slow();
  await page.goto('/settings');
  await page.getByRole('link', { name: 'API reference' }).click();
  await expect(page).toHaveURL(/\/settings\/api$/);
  await expect(page.getByRole('article', { name: /POST\s+\/api\/v1\/jobs\s+Start a job/ })).toBeVisible();
  await expect(page.getByRole('article', { name: /GET\s+\/api\/v1\/kinds\s+List kinds/ })).toBeVisible();
});
