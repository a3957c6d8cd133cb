import { test, expect } from './fixtures';
import { workflowServer } from './workflow-server';

// A workflow's run without JavaScript: its form is a plain post that goes to the run's page,
// which lists the steps with their bars as they stand at each load; a refused value comes back
// at its field.

const server = workflowServer(19, 'nojs');
test.beforeAll(async () => server.start());
test.afterAll(async () => server.stop());

test('a workflow starts from its plain form and its page lists its steps', async ({ page }) => {
  await page.goto(`${server.url}/new`);
  await page.getByRole('link', { name: /^Check, then report/ }).click();
  const form = page.locator('form#start-check_then_report');
  await form.getByLabel('Steps').fill('5000');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/new\/check_then_report\?.*__err=/);
  await expect(page.locator('form#start-check_then_report .field-error').filter({ hasText: '1000' })).toBeVisible();

  await page.locator('form#start-check_then_report').getByLabel('Steps').fill('3');
  await page.locator('form#start-check_then_report').getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const run = page.url().split('/').pop()!;
  await expect(page.locator('section.job-steps article.job')).toHaveCount(3);
  // Each load shows where the run stands; it ends once its last step did.
  await expect(async () => {
    await page.reload();
    await expect(page.locator(`article.job[data-job-id="${run}"]`)).toHaveAttribute('data-status', 'succeeded', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  for (const row of await page.locator('section.job-steps article.job').all()) {
    await expect(row).toHaveAttribute('data-status', 'succeeded');
  }
  // The graph is drawn by the server: a box per step, each linking to its step's page.
  const boxes = page.getByRole('figure', { name: 'How the steps depend on each other' }).locator('a.run-node');
  await expect(boxes).toHaveCount(3);
  for (const box of await boxes.all()) await expect(box).toHaveAttribute('data-status', 'succeeded');
  await boxes.filter({ hasText: 'report' }).click();
  await expect(page.locator('dd.job-step-of a')).toHaveText(run.slice(0, 8));
});

test('a workflow\'s plain form uploads its file, and the next step reads the file the first wrote', async ({ page }) => {
  await page.goto(`${server.url}/new/shout_then_measure`);
  const form = page.locator('form#start-shout_then_measure');
  await expect(form).toHaveAttribute('enctype', 'multipart/form-data');
  await form.getByLabel('Text', { exact: true }).setInputFiles({ name: 'hi.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const run = page.url().split('/').pop()!;
  await expect(async () => {
    await page.reload();
    await expect(page.locator(`article.job[data-job-id="${run}"]`)).toHaveAttribute('data-status', 'succeeded', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await page.getByRole('figure', { name: 'How the steps depend on each other' }).locator('a.run-node[data-step="measure"]').click();
  await expect(page.locator('.params [data-param="text"]')).toContainText('loud.txt');
  await expect(page.locator('dl.result')).toContainText('HELLO');
});
