import { test, expect } from './fixtures';
import { Headway, addUser } from './headway';
import { cleanUp, holdKey7, passKey7, statusOf } from './limited';

// Limits without JavaScript, in the dark theme: the form of /system and its Remove buttons
// are plain form posts; a refused form comes back with its message and what was typed; a job
// held back by a limit says why in the pages the server renders. On a server of its own, with
// log_every values (7, 13) no other test uses.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/limits-nojs-${Date.now()}.db`;
const server = new Headway(18, db, {}, ['--auth', 'accounts']);

test.use({ javaScriptEnabled: false, colorScheme: 'dark' });

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

test('set, see and remove a limit with plain form posts; a held job says why', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.locator('#username').fill('otto');
  await page.locator('#password').fill(PASSWORD);
  await page.locator('section.sign-in button[type="submit"]').click();
  await expect(page.locator('.account-who strong')).toHaveText('otto');
  const ids: string[] = [];
  try {
    await page.goto(`${server.url}/system`);
    const form = page.locator('form#limit-form');
    await form.getByLabel('Kind', { exact: true }).selectOption('demo');
    await form.getByLabel('Counted', { exact: true }).selectOption('param');
    await form.getByLabel(/^Parameter/).fill('log_every');
    await form.getByLabel('At most', { exact: true }).fill('0');
    await form.getByRole('button', { name: 'Set limit' }).click();
    // Back on /system with the message next to its field, and what was typed.
    await expect(page).toHaveURL(/\/system\?/);
    await expect(form.locator('#limit-max-error')).toHaveText('a limit allows from 1 to 1000000 jobs, not 0');
    await expect(form.getByLabel('At most', { exact: true })).toHaveValue('0');
    await expect(form.getByLabel(/^Parameter/)).toHaveValue('log_every');
    await expect(form.getByLabel('Counted', { exact: true })).toHaveValue('param');
    await expect(form.getByLabel('Kind', { exact: true })).toHaveValue('demo');

    await form.getByLabel('At most', { exact: true }).fill('1');
    await form.getByRole('button', { name: 'Set limit' }).click();
    await expect(page).toHaveURL(new RegExp(`^${server.url}/system$`));
    const limit = page.locator('li.limit[data-limit="demo/param:log_every/running"]');
    await expect(limit.locator('.limit-words')).toHaveText('at most 1 at once per log_every');
    await expect(limit.locator('.limit-source')).toContainText('set by otto');
    await expect(form.locator('#limit-max-error')).toBeEmpty();

    const held = await holdKey7(server, page, ids);
    await passKey7(server, page, ids, held);

    const waiting = 'Waiting: at most 1 at once per log_every 7';
    await page.goto(`${server.url}/jobs/${ids[1]}`);
    await expect(page.locator(`article.job[data-job-id="${ids[1]}"] .job-queue`)).toHaveText(waiting);
    await page.goto(`${server.url}/`);
    await expect(page.locator(`.job-table article.job[data-job-id="${ids[1]}"] .job-queue`)).toHaveText(waiting);

    await page.goto(`${server.url}/system`);
    await expect(limit.locator('.limit-keys li[data-key="7"]')).toHaveText('7: 1 running');
    await page.getByRole('button', { name: 'Remove the limit at most 1 at once per log_every on Demo' }).click();
    await expect(page).toHaveURL(new RegExp(`^${server.url}/system`));
    await expect(limit).toHaveCount(0);
    await expect.poll(() => statusOf(server, page, ids[1]), { timeout: 30_000 }).toBe('succeeded');
  } finally {
    await cleanUp(server, page, ids);
  }
});
