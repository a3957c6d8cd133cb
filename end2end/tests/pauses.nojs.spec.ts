import { test, expect } from './fixtures';
import { Headway, addUser } from './headway';

// Paused kinds without JavaScript: the pause and resume buttons of /system are plain form
// posts, and a member's queued job of a paused kind says so in the page the server renders.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/pauses-nojs-${Date.now()}.db`;
const server = new Headway(14, db, {}, ['--auth', 'accounts']);

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

test('pause and resume with plain form posts; a queued job of the paused kind says so', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.account-who strong')).toHaveText('otto');

  await page.goto(`${server.url}/system`);
  const demo = page.locator('tr[data-kind="demo"]');
  await demo.getByRole('button', { name: 'Pause Demo' }).click();
  await expect(page).toHaveURL(new RegExp(`^${server.url}/system\\??$`));
  await expect(demo.locator('.pause-state')).toContainText('paused by otto since');

  await page.goto(`${server.url}/new/demo`);
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('2');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  // The list says why it waits.
  await page.goto(`${server.url}/`);
  const row = page.locator('.job-table article.job').first();
  await expect(row.locator('.status-word')).toHaveText('queued');
  await expect(row.locator('.job-queue')).toContainText(/⏸ Demo is paused \(by otto since .+\)/);

  await page.goto(`${server.url}/system`);
  await demo.getByRole('button', { name: 'Resume Demo' }).click();
  await expect(demo.locator('.pause-state')).toHaveText('starts jobs');
  await expect
    .poll(async () => {
      await page.goto(`${server.url}/`);
      return page.locator('.job-list article.job').first().locator('.status-word').textContent();
    }, { timeout: 30_000 })
    .toBe('succeeded');
});
