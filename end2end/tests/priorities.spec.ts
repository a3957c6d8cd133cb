import type { Browser, Page } from '@playwright/test';
import { test, expect, expectAccessible } from './fixtures';
import { Headway, addUser } from './headway';

// Priorities as people meet them, on a server of their own with accounts: a member's start
// form offers their kind's priority and below, an operator's every level; a queued job shows
// its priority in its row and on its page, where its owner lowers it and an operator raises it,
// and an open page of the owner's follows the change live. The levels are words of the page's
// language.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/priorities-${Date.now()}.db`;
const server = new Headway(15, db, {}, ['--auth', 'accounts']);

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  addUser(db, 'mia', 'member', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

async function signedIn(browser: Browser, name: string, locale = 'en-US'): Promise<Page> {
  const page = await (await browser.newContext({ locale })).newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel(locale.startsWith('zh') ? '用户名' : 'User name').fill(name);
  await page.getByLabel(locale.startsWith('zh') ? '密码' : 'Password').fill(PASSWORD);
  await page.locator('form[action="/signin"] button[type="submit"]').click();
  await expect(page.locator('.account-who strong')).toHaveText(name);
  return page;
}

/** The texts of a select's options, in order. */
async function options(page: Page, select: string): Promise<string[]> {
  return page.locator(`${select} option`).allTextContents();
}

test('a member starts at the kind’s priority or below, lowers it while queued; an operator raises it, live', async ({
  browser,
}) => {
  const mia = await signedIn(browser, 'mia');
  await mia.goto(`${server.url}/new/demo`);
  await expect(mia.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = mia.locator('form#start-demo');
  const priority = form.getByLabel('Priority');
  await expect(priority).toHaveValue('normal');
  expect(await options(mia, '#start-demo-priority')).toEqual(['normal', 'low', 'lowest']);
  await expectAccessible(mia);
  await form.getByLabel('Steps').fill('2');
  await form.getByLabel('Interval (ms)').fill('10');
  await priority.selectOption('low');
  // An hour from now: it waits, queued, while its priority changes.
  await form.getByText('Start at…').click();
  const at = new Date(Date.now() + 3_600_000);
  const local = at.toLocaleString('sv-SE').replace(' ', 'T').slice(0, 16);
  await form.getByLabel(/^Start at/).fill(local);
  await form.getByRole('button', { name: /start/i }).click();
  await expect(mia).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const url = mia.url();
  await expect(mia.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const row = mia.locator('.job-list article.job').first();
  await expect(row.locator('.job-priority')).toHaveText(/low$/);
  const fact = mia.locator('dd.job-priority');
  await expect(fact.locator('[data-priority]')).toHaveText('low');
  expect(await options(mia, '#job-priority')).toEqual(['normal', 'low', 'lowest']);
  await expectAccessible(mia);

  // The owner lowers it: the page comes back with the new priority.
  await mia.locator('#job-priority').selectOption('lowest');
  await mia.getByRole('button', { name: 'Change priority' }).click();
  await expect(fact.locator('[data-priority]')).toHaveText('lowest');
  await expect(mia.locator('body')).toHaveAttribute('data-hydrated', 'true');

  // An operator may give it any level; the owner's open page follows at once.
  const otto = await signedIn(browser, 'otto');
  await otto.goto(url);
  await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
  expect(await options(otto, '#job-priority')).toEqual(['urgent', 'high', 'normal', 'low', 'lowest']);
  await otto.locator('#job-priority').selectOption('urgent');
  await otto.getByRole('button', { name: 'Change priority' }).click();
  await expect(otto.locator('dd.job-priority [data-priority]')).toHaveText('urgent');
  await expect(row.locator('.job-priority')).toHaveText(/urgent$/);
  // Its new priority is the owner's to lower, not to raise further.
  await mia.reload();
  expect(await options(mia, '#job-priority')).toEqual(['urgent', 'high', 'normal', 'low', 'lowest']);

  // An operator's form offers every level.
  await otto.goto(`${server.url}/new/demo`);
  expect(await options(otto, '#start-demo-priority')).toEqual(['urgent', 'high', 'normal', 'low', 'lowest']);
  await mia.request.post(`${server.url}/api/v1/jobs/cancel`, { data: { filter: { status: 'queued' } } });
});

test('the levels are said in the page’s language', async ({ browser }) => {
  const otto = await signedIn(browser, 'otto', 'zh-CN');
  await otto.goto(`${server.url}/new/demo`);
  await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(otto.locator('label[for="start-demo-priority"]')).toHaveText('优先级');
  expect(await options(otto, '#start-demo-priority')).toEqual(['紧急', '高', '普通', '低', '最低']);
  await expectAccessible(otto);
});

test('the dashboard’s selection changes the priority of many queued jobs at once', async ({ browser }) => {
  const mia = await signedIn(browser, 'mia');
  const later = Date.now() + 3_600_000;
  for (let i = 0; i < 2; i++) {
    const r = await mia.request.post(`${server.url}/api/v1/jobs`, {
      data: { kind: 'demo', params: { steps: 1, interval_ms: 1 }, run_after: later },
    });
    expect(r.status()).toBe(201);
  }
  await mia.goto(`${server.url}/?status=queued`);
  await expect(mia.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const rows = mia.locator('.job-list article.job');
  await expect(rows).toHaveCount(2);
  await expect(rows.locator('.job-priority').first()).toBeHidden();
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  await mia.getByRole('button', { name: 'Set priority…' }).click();
  await expect(mia.getByRole('heading', { name: 'Change the priority of 2 jobs?' })).toBeVisible();
  await expectAccessible(mia);
  await mia.locator('#bulk-priority').selectOption('low');
  await mia.getByRole('button', { name: 'Set the priority of 2 jobs' }).click();
  await expect(mia.locator('.bulk-done')).toHaveText("2 jobs' priority changed.");
  await mia.goto(`${server.url}/?status=queued`);
  await expect(rows.locator('.job-priority')).toHaveText([/low$/, /low$/]);
  // Above the kind's priority, a member's jobs keep theirs, and the page says so.
  await mia.getByLabel(/every job matching this view/).check();
  await mia.getByRole('button', { name: 'Set priority…' }).click();
  await mia.locator('#bulk-priority').selectOption('urgent');
  await mia.getByRole('button', { name: 'Set the priority of 2 jobs' }).click();
  await expect(mia.locator('.bulk-done')).toHaveText(/^0 jobs' priority changed\. 2 jobs kept their priority/);
  await mia.request.post(`${server.url}/api/v1/jobs/cancel`, { data: { filter: { status: 'queued' } } });
});
