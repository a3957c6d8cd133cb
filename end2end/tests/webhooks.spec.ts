import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';
import { receiver } from './receiver';

// Webhooks with JavaScript: added from the settings page's link, a test and a job's end
// delivered to a real receiver, a refused delivery shown with its answer and resent.

test('a webhook is added, tested, told of a job\'s end, and a refused delivery resent', async ({ page }) => {
  const hook = await receiver(200);
  try {
    await openDashboard(page);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'manage webhooks' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
    await expect(page.locator('.empty')).toHaveText('No webhooks yet.');
    // The dashboard's form layout: a URL field wide enough for a real URL, and each checkbox
    // on the line of its label, next to it. (Measured once the page's stylesheet applies: a
    // layout read before it arrives is the browser's unstyled one.)
    const urlField = page.getByLabel('URL to POST to');
    await expect.poll(async () => (await urlField.boundingBox())?.width ?? 0).toBeGreaterThan(400);
    for (const end of ['succeeded', 'failed', 'cancelled', 'interrupted']) {
      const box = (await page.getByRole('checkbox', { name: end }).boundingBox())!;
      const label = (await page.locator('.webhook-form label.check', { hasText: end }).boundingBox())!;
      expect(Math.abs(box.y + box.height / 2 - (label.y + label.height / 2))).toBeLessThan(6);
      expect(box.width, `the ${end} box is a box, next to its word`).toBeLessThan(30);
    }
    await page.getByLabel('URL to POST to').fill(hook.url);
    await page.getByLabel('Kinds, separated by commas (empty: every kind)').fill('demo');
    const secret = await page.getByLabel(/^Secret/).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Add webhook' }).click();

    await expect(page).toHaveURL(/\/webhooks\/[0-9a-f-]+$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(hook.url);
    await expect(page.locator('.webhook-hears')).toHaveText('Hears of every end of demo, of its owner\'s jobs; sends json bodies.');
    await page.getByRole('button', { name: 'Send a test' }).click();
    await expect.poll(() => hook.got.length).toBe(1);
    expect(JSON.parse(hook.got[0].body).event).toBe('test');
    expect(hook.got[0].headers['headway-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    // A job's end: a refused delivery shows its answer, and goes again on "Resend".
    hook.answer(500);
    const url = page.url();
    await openDashboard(page);
    const id = await startJob(page, 'demo', { steps: 1, interval_ms: 1 });
    await waitForStatus(page, id, 'succeeded');
    await expect.poll(() => hook.got.length).toBeGreaterThanOrEqual(2);
    await page.goto(url);
    const row = page.locator('table.deliveries tbody tr').first();
    await expect(row.getByRole('link', { name: /job\.ended/ })).toHaveAttribute('href', `/jobs/${id}`);
    await expect(row.locator('.delivery-answer')).toContainText('answered 500');
    hook.answer(204);
    const before = hook.got.length;
    await row.getByRole('button', { name: /^Resend/ }).click();
    await expect.poll(() => hook.got.length).toBeGreaterThan(before);
    const resent = hook.got[hook.got.length - 1];
    expect(resent.headers['headway-delivery']).toBe(JSON.parse(resent.body).id);
    await expect(async () => {
      await page.reload();
      await expect(page.locator('table.deliveries tbody tr').first().locator('.delivery-state')).toHaveText('delivered', { timeout: 1000 });
    }).toPass();
  } finally {
    await hook.close();
  }
});
