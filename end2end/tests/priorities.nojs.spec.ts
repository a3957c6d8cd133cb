import { test, expect } from './fixtures';
import { Headway, addUser } from './headway';

// Priorities without JavaScript, in the dark theme: the start form's priority and the job
// page's change are plain form posts; the job's row and page show its priority as the server
// renders them.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/priorities-nojs-${Date.now()}.db`;
const server = new Headway(16, db, {}, ['--auth', 'accounts']);

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());
test.use({ colorScheme: 'dark' });

test('an operator starts an urgent job and changes its priority with plain form posts', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.account-who strong')).toHaveText('otto');

  await page.goto(`${server.url}/new/demo`);
  const form = page.locator('form#start-demo');
  await expect(form.getByLabel('Priority')).toHaveValue('normal');
  await form.getByLabel('Steps').fill('2');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByLabel('Priority').selectOption('urgent');
  await form.getByText('Start at…').click();
  const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 2 * 3_600_000);
  await form.getByLabel(/^Start at/).fill(at.toISOString().slice(0, 16));
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const row = page.locator('.job-list article.job').first();
  await expect(row.locator('.job-priority')).toHaveText(/urgent$/);
  await expect(page.locator('dd.job-priority [data-priority]')).toHaveText('urgent');

  await page.locator('#job-priority').selectOption('high');
  await page.getByRole('button', { name: 'Change priority' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('dd.job-priority [data-priority]')).toHaveText('high');
  await expect(row.locator('.job-priority')).toHaveText(/high$/);
  // The list shows it too.
  await page.goto(`${server.url}/`);
  await expect(page.locator('.job-table article.job').first().locator('.job-priority')).toHaveText(/high$/);
});

test('the dashboard’s selection sets the priority of every queued job of a view with plain posts', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const later = Date.now() + 3_600_000;
  for (let i = 0; i < 2; i++) {
    const r = await page.request.post(`${server.url}/api/v1/jobs`, {
      data: { kind: 'demo', params: { steps: 1, interval_ms: 1 }, run_after: later },
    });
    expect(r.status()).toBe(201);
  }
  await page.goto(`${server.url}/?status=queued`);
  await page.getByLabel(/every job matching this view/).check();
  await page.getByRole('button', { name: 'Set priority…' }).click();
  const queued = await page.getByRole('heading', { name: /^Change the priority of \d+ jobs\?$/ }).textContent();
  const n = Number(queued?.match(/\d+/)?.[0]);
  expect(n).toBeGreaterThanOrEqual(2);
  await page.locator('#bulk-priority').selectOption('lowest');
  await page.getByRole('button', { name: `Set the priority of ${n} jobs` }).click();
  await expect(page.locator('.bulk-done')).toHaveText(`${n} jobs' priority changed.`);
  const rows = page.locator('.job-table article.job');
  await expect(rows.locator('.job-priority')).toHaveText(Array(n).fill(/lowest$/));
});
