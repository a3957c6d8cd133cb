import type { Browser, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { Headway } from './headway';

// The person at the machine of an open server on loopback (what `make run` starts) is its
// operator: /system offers them the pause buttons and the limit form without the operator token,
// in English and in Chinese. On a server of its own: a pause holds every user's jobs back.

const server = new Headway(17, `target/e2e/local-operator-${Date.now()}.db`);

test.beforeAll(async () => server.start());
test.afterAll(async () => server.stop());

async function systemPage(browser: Browser, locale: string): Promise<Page> {
  const page = await (await browser.newContext({ locale })).newPage();
  await page.goto(`${server.url}/system`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  return page;
}

for (const [locale, words] of [
  ['en', { pause: 'Pause Demo', resume: 'Resume Demo', runs: 'starts jobs', pausedBy: 'paused by operator since' }],
  ['zh-CN', { pause: '暂停 演示', resume: '恢复 演示', runs: '正常启动任务', pausedBy: '由 operator 暂停于' }],
] as const) {
  test(`at the machine, /system offers pausing and limits, and pausing works (${locale})`, async ({ browser }) => {
    const page = await systemPage(browser, locale);
    await expect(page.locator('html')).toHaveAttribute('lang', locale);
    await expect(page.locator('form#limit-form')).toBeVisible();
    const demo = page.locator('tr[data-kind="demo"]');
    await expect(demo.locator('.pause-state')).toContainText(words.runs);
    await demo.getByRole('button', { name: words.pause }).click();
    await expect(demo).toHaveAttribute('data-paused', 'true');
    await expect(demo.locator('.pause-state')).toContainText(words.pausedBy);
    const kinds = await (await page.request.get(`${server.url}/api/v1/kinds`)).json();
    expect(kinds.find((k: { name: string }) => k.name === 'demo').paused?.kind).toBe('demo');
    await demo.getByRole('button', { name: words.resume }).click();
    await expect(demo.locator('.pause-state')).toHaveText(words.runs);
    await expect(demo).not.toHaveAttribute('data-paused', 'true');
  });
}
