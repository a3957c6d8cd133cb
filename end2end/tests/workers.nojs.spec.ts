import { test, expect } from './fixtures';
import { Headway, Worker, addUser, commandsFile } from './headway';

// A worker on another machine without JavaScript: /system lists it as the server renders it,
// and the drain, disable and enable buttons are plain form posts that come back to the page
// (axe checks the page the test ends on, as every test's does).

const PASSWORD = 'correct horse battery';
const db = `target/e2e/workers-nojs-${Date.now()}.db`;
const server = new Headway(19, db, {}, ['--auth', 'accounts']);
const commands = commandsFile(
  `[[command]]
name = "scan"
title = "Nightly scan"
program = "SCRIPTS/scan.sh"

[[command]]
name = "train"
title = "Train a model"
program = "SCRIPTS/scan.sh"
requires = ["tpu"]
`,
  { 'scan.sh': '#!/bin/sh\necho scanned\n' },
);
const worker = new Worker(server, 'laptop', commands);

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  await server.start();
  worker.start();
});
test.afterAll(async () => {
  await worker.stop();
  await server.stop();
});

test('/system lists a worker and steers it with plain form posts', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.account-who strong')).toHaveText('otto');

  const row = page.locator('tr[data-worker="laptop"]');
  await expect
    .poll(async () => {
      await page.goto(`${server.url}/system`);
      return row.count();
    }, { timeout: 30_000 })
    .toBe(1);
  await expect(row).toContainText('scan');
  await expect(row).toHaveAttribute('data-state', 'active');

  // Started from its form without JavaScript, the job runs on the worker.
  await page.goto(`${server.url}/new/scan`);
  await page.locator('form#start-scan').getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect
    .poll(async () => {
      await page.reload();
      return page.locator('.status-word').first().textContent();
    }, { timeout: 30_000 })
    .toBe('succeeded');

  await page.goto(`${server.url}/system`);
  await row.getByRole('button', { name: /^Disable laptop/ }).click();
  await expect(page).toHaveURL(new RegExp(`^${server.url}/system\\??$`));
  await expect(row).toHaveAttribute('data-state', 'disabled');
  await row.getByRole('button', { name: /^Enable laptop/ }).click();
  await expect(row).toHaveAttribute('data-state', 'active');
});

test('a job whose tags no connected worker offers says so on its page', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect
    .poll(async () => (await page.request.get(`${server.url}/api/v1/kinds`)).text(), { timeout: 30_000 })
    .toContain('"train"');
  const started = await page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'train', params: {} } });
  expect(started.status()).toBe(201);
  const id = (await started.json()).id;
  await page.goto(`${server.url}/jobs/${id}`);
  const row = page.locator(`article.job[data-job-id="${id}"]`);
  await expect(row.locator('.job-queue')).toHaveText('waiting for a worker with tpu; none connected');
  expect((await page.request.post(`${server.url}/api/v1/jobs/${id}/cancel`)).status()).toBe(200);
});
