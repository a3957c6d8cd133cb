import { test, expect } from './fixtures';

// Without JavaScript the time zone picker is the same list, grouped by region, and a plain form.

test('a zone is picked under its region and saved with a plain form post', async ({ page }) => {
  await page.goto('/settings');
  const picker = page.getByLabel('Time zone', { exact: true });
  // The browser's zone is not known without its script: automatic, then UTC, then the regions.
  const first = await picker.locator(':scope > option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(first).toEqual(['', 'UTC']);
  await expect(picker.locator('optgroup[label="America"] option[value="America/Argentina/Buenos_Aires"]')).toHaveText(
    'Argentina/Buenos_Aires',
  );
  await picker.selectOption('Europe/Paris');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await page.goto('/settings');
  await expect(picker).toHaveValue('Europe/Paris');
  await expect(picker.locator('optgroup[label="Europe"] option[value="Europe/Paris"]')).toHaveJSProperty('selected', true);
  await picker.selectOption('');
  await page.getByRole('button', { name: 'Save time zone' }).click();
});
