import type { Browser, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { Headway, addUser } from './headway';
import { LIMIT, cleanUp, holdKey7, passKey7, statusOf } from './limited';

// Limits on /system, on a server of their own (a limit holds every user's jobs back): an
// operator sets "at most 1 at once per log_every" on demo; a second job with the same
// log_every waits and says why on its page and in the dashboard's list, while a job with
// another log_every starts past it; /system shows the key in use; a bad number is refused next
// to its field with what was typed kept; removing the limit lets the waiting job start. The
// log_every values (7, 13) are used by no other test.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/limits-${Date.now()}.db`;
const server = new Headway(17, db, {}, ['--auth', 'accounts']);

test.use({ allowConsole: /status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/api\/set_limit\)/ });

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  addUser(db, 'mia', 'member', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

async function signedIn(browser: Browser, name: string, locale?: string): Promise<Page> {
  const page = await (await browser.newContext(locale ? { locale } : {})).newPage();
  await page.goto(`${server.url}/signin`);
  await page.locator('#username').fill(name);
  await page.locator('#password').fill(PASSWORD);
  await page.locator('section.sign-in button[type="submit"]').click();
  await expect(page.locator('.account-who strong')).toHaveText(name);
  return page;
}

test('an operator limits demo per log_every on /system; a job of a full key waits saying so, others start', async ({
  browser,
}) => {
  const otto = await signedIn(browser, 'otto');
  const ids: string[] = [];
  try {
    await otto.goto(`${server.url}/system`);
    await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const form = otto.locator('form#limit-form');
    await form.getByLabel('Kind', { exact: true }).selectOption('demo');
    await form.getByLabel('Counted', { exact: true }).selectOption('param');
    await form.getByLabel(/^Parameter/).fill('log_every');
    await form.getByLabel('Of', { exact: true }).selectOption('');

    // A bad number: refused next to its field, and nothing typed is lost.
    await form.getByLabel('At most', { exact: true }).fill('0');
    await form.getByRole('button', { name: 'Set limit' }).click();
    await expect(form.locator('#limit-max-error')).toHaveText('a limit allows from 1 to 1000000 jobs, not 0');
    await expect(form.getByLabel('At most', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByLabel('At most', { exact: true })).toHaveValue('0');
    await expect(form.getByLabel(/^Parameter/)).toHaveValue('log_every');
    await expect(form.getByLabel('Counted', { exact: true })).toHaveValue('param');

    await form.getByLabel('At most', { exact: true }).fill('1');
    await form.getByRole('button', { name: 'Set limit' }).click();
    const limit = otto.locator('li.limit[data-limit="demo/param:log_every/running"]');
    await expect(limit.locator('.limit-words')).toHaveText('at most 1 at once per log_every');
    await expect(limit.locator('.limit-kind')).toHaveText('Demo');
    await expect(limit.locator('.limit-source')).toContainText(/set by otto .+ · 0 keys in use/);
    await expect(form.locator('#limit-max-error')).toBeEmpty();

    // One job of log_every 7 runs; the second waits; one of log_every 13 starts past it.
    const held = await holdKey7(server, otto, ids);
    await passKey7(server, otto, ids, held);

    const waiting = 'Waiting: at most 1 at once per log_every 7';
    const page = await otto.context().newPage();
    await page.goto(`${server.url}/jobs/${ids[1]}`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator(`article.job[data-job-id="${ids[1]}"] .job-queue`)).toHaveText(waiting);
    await page.goto(`${server.url}/`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const row = page.locator(`.job-table article.job[data-job-id="${ids[1]}"]`);
    await expect(row.locator('.job-queue')).toHaveText(waiting);

    // /system shows the key in use, live.
    await expect(limit.locator('.limit-keys li[data-key="7"]')).toHaveText('7: 1 running', { timeout: 15_000 });
    await expect(limit.locator('.limit-keys-in-use')).toHaveText('1 key in use');

    // Removed: the waiting job starts (and, three steps long, ends).
    await otto.getByRole('button', { name: 'Remove the limit at most 1 at once per log_every on Demo' }).click();
    await expect(limit).toHaveCount(0);
    await expect.poll(() => statusOf(server, otto, ids[1]), { timeout: 30_000 }).toBe('succeeded');
    await expect(row).toHaveAttribute('data-status', 'succeeded');
    await expect(row.locator('.job-queue')).toBeHidden();
  } finally {
    await cleanUp(server, otto, ids);
  }
});

test('a member is shown no limits form; the API refuses them', async ({ browser }) => {
  const mia = await signedIn(browser, 'mia');
  await mia.goto(`${server.url}/system`);
  await expect(mia.locator('form#limit-form')).toHaveCount(0);
  await expect(mia.getByRole('button', { name: 'Set limit' })).toHaveCount(0);
  const refused = await mia.request.post(`${server.url}/api/v1/limits`, { data: LIMIT });
  expect(refused.status()).toBe(403);
  const viaForm = await mia.request.post(`${server.url}/api/set_limit`, {
    form: { kind: 'demo', max: '1', per: 'param', param: 'log_every', window: '' },
    headers: { accept: 'application/json' },
  });
  expect(viaForm.status()).toBe(403);
});

test('in Simplified Chinese: the limit, the wait and a refusal', async ({ browser }) => {
  const otto = await signedIn(browser, 'otto', 'zh-CN');
  const ids: string[] = [];
  try {
    const set = await otto.request.post(`${server.url}/api/v1/limits`, { data: LIMIT });
    expect(set.status()).toBe(200);
    await holdKey7(server, otto, ids);

    await otto.goto(`${server.url}/jobs/${ids[1]}`);
    await expect(otto.locator('html')).toHaveAttribute('lang', 'zh-CN');
    await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(otto.locator(`article.job[data-job-id="${ids[1]}"] .job-queue`)).toHaveText(
      '等待：每个 log_every 同时最多 1 个（7）',
    );

    await otto.goto(`${server.url}/system`);
    await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const limit = otto.locator('li.limit[data-limit="demo/param:log_every/running"]');
    await expect(limit.locator('.limit-words')).toHaveText('每个 log_every 同时最多 1 个');
    await expect(limit.locator('.limit-kind')).toHaveText('演示');
    await expect(limit.locator('.limit-keys li[data-key="7"]')).toHaveText('7：1 个运行中');
    const form = otto.locator('form#limit-form');
    await form.getByLabel('最多', { exact: true }).fill('2000000');
    await form.getByRole('button', { name: '设置限制' }).click();
    await expect(form.locator('#limit-max-error')).toHaveText('限制允许的任务数为 1 到 1000000，不能是 2000000');
    await expect(form.getByLabel('最多', { exact: true })).toHaveValue('2000000');
  } finally {
    await cleanUp(server, otto, ids);
  }
});
