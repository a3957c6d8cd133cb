import { test, expect } from './fixtures';

// The settings page with JavaScript: the API token shown once has a button that copies it and
// says so, in English and in Chinese; the time zone picker offers the browser's zone and UTC
// first, then every zone under its region.

test.use({ timezoneId: 'Asia/Shanghai' });

for (const [lang, words] of [
  ['en', { create: 'Create token', copy: 'Copy', copied: 'Copied ✓', name: 'Name' }],
  ['zh-CN', { create: '创建令牌', copy: '复制', copied: '已复制 ✓', name: '名称' }],
] as const) {
  test(`the token shown once is copied with its button, which says so (${lang})`, async ({ page, context, baseURL }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await context.addCookies([{ name: 'headway_lang', value: lang, url: baseURL! }]);
    await page.goto('/settings');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel(words.name, { exact: true }).fill(`copied ${lang}`);
    await page.getByRole('button', { name: words.create }).click();
    const value = page.locator('.token-secret .token-value');
    const token = (await value.textContent())!.trim();
    expect(token).toMatch(/^hw/);
    // Selectable as text, whatever the button does.
    await expect(value).toHaveCSS('user-select', 'all');
    const copy = page.locator('.token-secret').getByRole('button', { name: words.copy, exact: true });
    await copy.click();
    const copied = page.locator('.token-secret button.token-copy');
    await expect(copied).toHaveText(words.copied);
    await expect(copied).toHaveAttribute('data-copied', 'true');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  });
}

test('the time zone picker offers the browser’s zone and UTC first, then each zone under its region', async ({ page }) => {
  // A first page tells the server the browser's zone.
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.goto('/settings');
  const picker = page.getByLabel('Time zone', { exact: true });
  const first = await picker.locator(':scope > option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(first).toEqual(['', 'Asia/Shanghai', 'UTC']);
  await expect(picker.locator(':scope > option').nth(1)).toHaveText("Asia/Shanghai (this browser's)");
  const regions = await picker.locator('optgroup').evaluateAll((gs) => gs.map((g) => g.getAttribute('label')));
  for (const region of ['Africa', 'America', 'Asia', 'Europe', 'Pacific']) expect(regions).toContain(region);
  await expect(picker.locator('optgroup[label="Europe"] option[value="Europe/Paris"]')).toHaveText('Paris');
  expect(await picker.locator('option').count()).toBeGreaterThan(300);
});
