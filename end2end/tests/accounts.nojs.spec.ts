import { test, expect } from './fixtures';
import { Headway, addUser } from './headway';

// Without JavaScript, on a server with --auth accounts: signing in, starting a job and signing
// out are plain form posts.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/accounts-nojs-${Date.now()}.db`;
const server = new Headway(9, db, {}, ['--auth', 'accounts']);

test.beforeAll(async () => {
  addUser(db, 'mia', 'member', PASSWORD);
  addUser(db, 'ada', 'admin', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

test('sign in, start a job and sign out with plain form posts', async ({ page }) => {
  await page.goto(`${server.url}/jobs/none`);
  await expect(page).toHaveURL(/\/signin\?next=%2Fjobs%2Fnone$/);
  await page.goto(`${server.url}/`);
  await page.getByLabel('User name').fill('mia');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.locator('.account-who strong')).toHaveText('mia');

  await page.locator('header.top').getByRole('link', { name: 'New job' }).click();
  await page.getByRole('link', { name: /^Demo/ }).click();
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('100000');
  await form.getByLabel('Interval (ms)').fill('100');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(new RegExp(`^${server.url}/jobs/[0-9a-f-]{36}$`));
  const row = page.locator('.job-list article.job').first();
  await expect(row.locator('.status-word')).toHaveText(/queued|running/);
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.job-list article.job').first().locator('.status-word')).toHaveText(/cancell(ing|ed)/);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(`${server.url}/signin`);
});

test('an admin adds an account with a plain form post', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('ada');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${server.url}/users`);
  await page.getByLabel('User name').fill('kim');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page).toHaveURL(new RegExp(`^${server.url}/users\\??$`));
  await expect(page.locator('tr[data-user="kim"]').getByLabel('Role of kim')).toHaveValue('member');
});

