import type { Page } from '@playwright/test';
import { test, expect, openDashboard, openForm, waitForStatus } from './fixtures';

// Files in and out with JavaScript: a file uploads as soon as it is picked, with its own live
// bar (sent of total, rate, time left) and a cancel button; the import it feeds runs live and
// its outputs download from the job's page; the history's "Export" starts an export and goes
// to its page, where the file appears to download.

const PEOPLE = 'name,age\nAda,36\nBob\nGrace,45\n';

/** A CSV of about `mib` MiB. */
function bigCsv(mib: number): Buffer {
  const row = 'Someone with a long name,42\n';
  return Buffer.from('name,age\n' + row.repeat(Math.ceil((mib << 20) / row.length)));
}

/** Slows the page's uploads to `bytesPerSecond` (the bar then has time to be seen moving). */
async function slowUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return async () => {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  };
}

async function openImport(page: Page) {
  await openForm(page, 'import_csv');
  return page.locator('form#start-import_csv');
}

/** The uploads of the page's session. */
async function uploads(page: Page): Promise<{ id: string; name: string }[]> {
  return (await page.request.get('/api/v1/uploads')).json();
}

test('a picked file uploads with a live bar, feeds an import, and its outputs download', async ({ page }) => {
  const form = await openImport(page);
  const field = form.getByLabel('CSV upload', { exact: true });
  const bar = form.getByRole('progressbar', { name: /^Upload of the csv upload file$/i });

  // A 4 MiB file at 1 MiB/s: the bar moves, with its numbers.
  const fast = await slowUploads(page, 1 << 20);
  await field.setInputFiles({ name: 'people-big.csv', mimeType: 'text/csv', buffer: bigCsv(4) });
  const text = form.locator('.upload-text');
  await expect(text).toContainText(/Uploading people-big\.csv: [\d.]+ (KiB|MiB) of 4\.0 MiB \(\d+%\) · [\d.]+ (KiB|MiB)\/s · .+ left/);
  const total = Number(await bar.getAttribute('aria-valuemax'));
  expect(total).toBeGreaterThan(4 << 20);
  await expect
    .poll(async () => Number(await bar.getAttribute('aria-valuenow')))
    .toBeGreaterThan(0);
  await expect(text).toHaveText(/Uploaded people-big\.csv \(4\.0 MiB\) ✓/, { timeout: 30_000 });
  await expect(bar).toHaveAttribute('aria-valuenow', String(total));
  await fast();

  // Another file takes its place: the first, used by no job, is deleted.
  await field.setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(PEOPLE) });
  await expect(text).toHaveText('Uploaded people.csv (29 B) ✓');
  await expect.poll(async () => (await uploads(page)).map((u) => u.name)).toEqual(['people.csv']);
  const [upload] = await uploads(page);
  await expect(form.locator('input.upload-id')).toHaveValue(upload.id);

  // A table of its own: the data folder outlives the test server.
  await form.getByLabel('Table').fill(`people_${Date.now()}`);
  await form.getByRole('button', { name: 'Start Import CSV' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  const row = page.locator(`.job-list article.job[data-job-id="${id}"]`);
  await expect(row.locator('.job-kind')).toHaveText('Import CSV');
  await waitForStatus(page, id, 'succeeded');
  // Bob's row has no age: skipped with a warning.
  await expect(row.locator('.status-word')).toHaveText('succeeded with warnings');

  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // The parameters name the upload by its file, not by its id.
  await expect(page.locator('.params [data-param="upload"]')).toHaveText('people.csv');
  const result = page.locator('dl.result');
  await expect(result).toContainText('imported');
  await expect(result).toContainText('2');
  const link = page.locator('ul.outputs a', { hasText: 'rejected.csv' });
  await expect(link).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toBe('rejected.csv');
  const rejected = await readDownload(download);
  expect(rejected).toContain('Bob');
  expect(rejected.split('\n')[0]).toBe('line,reason,name,age');
});

test('an upload under way is cancelled with its button and nothing is kept', async ({ page }) => {
  const form = await openImport(page);
  await slowUploads(page, 256 << 10);
  await form.getByLabel('CSV upload', { exact: true }).setInputFiles({ name: 'slow.csv', mimeType: 'text/csv', buffer: bigCsv(8) });
  const upload = form.locator('.upload');
  await expect(upload).toHaveAttribute('data-state', 'sending');
  await expect
    .poll(async () => Number(await form.getByRole('progressbar').getAttribute('aria-valuenow')))
    .toBeGreaterThan(0);
  // Starting now is refused: the file is not there yet.
  await form.getByLabel('Table').fill('slow');
  await form.getByRole('button', { name: 'Start Import CSV' }).click();
  await expect(form.locator('.form-error')).toContainText('still uploading');

  await form.getByRole('button', { name: 'Cancel upload' }).click();
  await expect(upload).toHaveAttribute('data-state', 'cancelled');
  await expect(form.locator('.upload-text')).toHaveText('Upload of slow.csv cancelled');
  await expect(form.getByRole('button', { name: 'Cancel upload' })).toBeHidden();
  await expect(form.getByLabel('CSV upload', { exact: true })).toHaveValue('');
  await expect(form.locator('input.upload-id')).toHaveValue('');
  expect(await uploads(page)).toEqual([]);
});

test('"Export" starts an export of the view and its file downloads from the job page', async ({ page }) => {
  await openDashboard(page);
  const started = await page.request.post('/api/v1/jobs', { data: { kind: 'demo', params: { steps: 1, interval_ms: 1 } } });
  const demo = (await started.json()).id;
  await waitForStatus(page, demo, 'succeeded');
  await page.goto('/?kind=demo');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form.export-form');
  await form.getByLabel('Export as').selectOption('jsonl');
  await form.getByRole('button', { name: 'Export' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const link = page.locator('ul.outputs a', { hasText: 'jobs.jsonl' });
  await expect(link).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('.status-word').first()).toHaveText('succeeded');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const jobs = (await readDownload(download)).trim().split('\n').map((l) => JSON.parse(l));
  expect(jobs.map((j: { id: string }) => j.id)).toContain(demo);
  expect(jobs.every((j: { kind: string }) => j.kind === 'demo')).toBe(true);
});

async function readDownload(download: import('@playwright/test').Download): Promise<string> {
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
