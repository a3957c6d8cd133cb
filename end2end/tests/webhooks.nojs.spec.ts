import { test, expect } from './fixtures';
import { receiver } from './receiver';

// Webhooks without JavaScript: the form's refusals shown next to their fields, then add, send
// a test, disable, enable and delete, each a plain form post.

test('add, test, disable, enable and delete a webhook with plain form posts', async ({ page }) => {
  const hook = await receiver(200);
  try {
    await page.goto('/webhooks');
    await page.getByLabel('URL to POST to').fill('ftp://example.com/hook');
    await page.getByLabel('Secret (copy it now: it is not shown again)').fill('short');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page.locator('#webhook-url-error')).toContainText('http://');
    await expect(page.locator('#webhook-secret-error')).toContainText('16 to 200');
    await expect(page.locator('.empty')).toHaveText('No webhooks yet.');

    await page.getByLabel('URL to POST to').fill(hook.url);
    await page.getByLabel('failed').check();
    await page.getByLabel('Body').selectOption('slack');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page).toHaveURL(/\/webhooks\/[0-9a-f-]+$/);
    await expect(page.locator('.webhook-hears')).toHaveText('Hears of failed of every kind, of its owner\'s jobs; sends slack bodies.');
    await page.getByRole('button', { name: 'Send a test' }).click();
    await expect.poll(() => hook.got.length).toBe(1);
    expect(JSON.parse(hook.got[0].body).text).toContain('test delivery');
    await page.getByRole('link', { name: 'Refresh' }).click();
    await expect(page.locator('table.deliveries tbody tr')).toHaveCount(1);

    await page.getByRole('button', { name: 'Disable' }).click();
    await expect(page.locator('.webhook-state')).toHaveText('Disabled.');
    await page.getByRole('button', { name: 'Send a test' }).click();
    await expect(page.getByRole('alert')).toContainText('disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect(page.locator('.webhook-state')).toHaveText('Enabled.');
    await page.getByRole('button', { name: 'Delete' }).click();
    await expect(page).toHaveURL(/\/webhooks$/);
    await expect(page.locator('.empty')).toHaveText('No webhooks yet.');
  } finally {
    await hook.close();
  }
});
