import { test, expect } from './fixtures';

// The API's reference page: reached from the settings page, it lists every operation of the
// OpenAPI document the server serves, grouped by resource (and is checked by axe-core, as every
// page the tests leave open).
test('the settings page leads to the API reference, which lists the API', async ({ page, request }) => {
  // A long page: axe-core takes its time over it.
  test.slow();
  await page.goto('/settings');
  await page.getByRole('link', { name: 'API reference' }).click();
  await expect(page).toHaveURL(/\/settings\/api$/);
  await expect(page.getByRole('heading', { level: 1, name: 'API reference' })).toBeVisible();
  const jobs = page.getByRole('region', { name: 'Jobs' });
  const start = jobs.getByRole('article', { name: /POST\s+\/api\/v1\/jobs\s+Start a job/ });
  await expect(start).toBeVisible();
  await expect(start.getByRole('table', { name: 'Answers' })).toContainText('201');
  await expect(page.getByRole('heading', { name: 'Schemas' })).toBeVisible();

  // Every operation of the document is on the page.
  const doc = await (await request.get('/api/v1/openapi.json')).json();
  const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item as object));
  await expect(page.locator('article.api-op')).toHaveCount(operations.length);
  await page.getByRole('link', { name: '/api/v1/openapi.json' }).first().click();
  await expect(page).toHaveURL(/\/api\/v1\/openapi\.json$/);
  await page.goBack();
});
