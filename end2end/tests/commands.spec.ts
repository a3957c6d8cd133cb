import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { Headway } from './headway';

// The example command kinds (examples/commands, as `make run` loads them), with JavaScript:
// each has its form; the archive's bar follows what the script reports on fd 3 and its
// archive downloads from the job's page; the Python script's tqdm bar is the job's bar, and
// Cancel stops it.

const db = `target/e2e/commands-${Date.now()}.db`;
// A data folder of its own: the archive example packs a folder of the server's data folder
// (`--data-root`), which the server tells it, not the repository's.
const dataRoot = `target/e2e/commands-files-${Date.now()}`;
const server = new Headway(11, db, {}, ['--commands', 'examples/commands/commands.toml', '--data-root', dataRoot]);
const folder = `e2e-archive-${Date.now()}`;
const folderPath = path.resolve(__dirname, '..', '..', dataRoot, folder);

test.beforeAll(async () => {
  fs.mkdirSync(folderPath, { recursive: true });
  for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(folderPath, `photo-${i}.txt`), `photo ${i}\n`);
  await server.start();
});
test.afterAll(async () => {
  await server.stop();
  fs.rmSync(path.resolve(__dirname, '..', '..', dataRoot), { recursive: true, force: true });
});

async function openKind(page: Page, title: string, kind: string) {
  await page.goto(`${server.url}/new`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: new RegExp(`^${title.replace(/[()]/g, '\\$&')}`) }).click();
  await expect(page).toHaveURL(`${server.url}/new/${kind}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  return page.locator(`form#start-${kind}`);
}

/**
 * Clicks the form's Start and waits until the page it goes to, the new job's, is live: a
 * button clicked before then is a plain form post, and its page load could come after what
 * the test waits for.
 */
async function start(page: Page, form: Locator) {
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('a command starts from its form, reports on fd 3 and its output downloads', async ({ page }) => {
  const form = await openKind(page, 'Archive a folder', 'archive');
  await form.getByLabel('Folder').fill(folder);
  await expect(form.getByLabel('Compression level')).toHaveValue('6');
  await start(page, form);
  const row = page.locator('.job-list article.job', { hasText: 'archive' }).first();
  await expect(row.locator('.status-word')).toHaveText('succeeded', { timeout: 30_000 });
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '5');
  const id = (await row.getAttribute('data-job-id'))!;

  await page.goto(`${server.url}/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('dl.result')).toContainText('files');
  const link = page.locator('ul.outputs a', { hasText: `${folder}.tar.gz` });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toBe(`${folder}.tar.gz`);
  await expect(page.locator('.log')).toContainText(`added ${folder}/photo-0.txt`);
});

test('a tqdm bar moves the job bar live, and Cancel stops the program', async ({ page }) => {
  const form = await openKind(page, 'Resize photos', 'resize_photos');
  await form.getByLabel('Photos').fill('2000');
  await form.getByLabel('Size').selectOption('large');
  await start(page, form);
  const row = page.locator('.job-list article.job', { hasText: 'Resize photos' }).first();
  const bar = row.getByRole('progressbar');
  await expect(bar).toHaveAttribute('aria-valuemax', '2000', { timeout: 30_000 });
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.locator('.status-word')).toHaveText('cancelled', { timeout: 30_000 });
});

test.describe('a refused start', () => {
  test.use({ allowConsole: /status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/api\/start_job\)/ });

  test('a bad value is refused at its field', async ({ page }) => {
  const form = await openKind(page, 'Archive a folder', 'archive');
  await form.getByLabel('Folder').fill(folder);
  await form.getByLabel('Compression level').fill('12');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(form.locator('.field-error').filter({ hasText: 'must be from 1 to 9' })).toBeVisible();
});
});
