import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from './fixtures';
import { Headway } from './headway';

// The example command kinds without JavaScript: the start form is a plain post, the job runs,
// its page shows the result and the output's link, and a refused value comes back at its field.

const db = `target/e2e/commands-nojs-${Date.now()}.db`;
// A data folder of its own, which the archive example is told (`--data-root`).
const dataRoot = `target/e2e/commands-nojs-files-${Date.now()}`;
const server = new Headway(12, db, {}, ['--commands', 'examples/commands/commands.toml', '--data-root', dataRoot]);
const folder = `e2e-archive-nojs-${Date.now()}`;
const folderPath = path.resolve(__dirname, '..', '..', dataRoot, folder);

test.beforeAll(async () => {
  fs.mkdirSync(folderPath, { recursive: true });
  fs.writeFileSync(path.join(folderPath, 'a.txt'), 'a\n');
  await server.start();
});
test.afterAll(async () => {
  await server.stop();
  fs.rmSync(path.resolve(__dirname, '..', '..', dataRoot), { recursive: true, force: true });
});

test('a command starts from its plain form and its output is listed on its page', async ({ page }) => {
  await page.goto(`${server.url}/new`);
  await page.getByRole('link', { name: /^Archive a folder/ }).click();
  await expect(page).toHaveURL(`${server.url}/new/archive`);
  const form = page.locator('form#start-archive');
  await form.getByLabel('Folder').fill(folder);
  await form.getByLabel('Compression level').fill('12');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/new\/archive\?.*__err=/);
  await expect(page.locator('form#start-archive .field-error').filter({ hasText: 'must be from 1 to 9' })).toBeVisible();

  // The form comes back with the refused value at its field.
  await page.locator('form#start-archive').getByLabel('Compression level').fill('9');
  await page.locator('form#start-archive').getByLabel('Folder').fill(folder);
  await page.locator('form#start-archive').getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  await expect
    .poll(async () => (await (await page.request.get(`${server.url}/api/v1/jobs/${id}`)).json()).status, { timeout: 30_000 })
    .toBe('succeeded');
  await page.goto(`${server.url}/jobs/${id}`);
  await expect(page.locator('dl.result')).toContainText('files');
  const link = page.locator('ul.outputs a', { hasText: `${folder}.tar.gz` });
  await expect(link).toHaveAttribute('href', `/api/v1/jobs/${id}/outputs/${folder}.tar.gz`);
  const res = await page.request.get(`${server.url}/api/v1/jobs/${id}/outputs/${folder}.tar.gz`);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-disposition']).toContain('attachment');
});
