import { test, expect } from './fixtures';

// Files in and out without JavaScript: the import's start form is a plain multipart form that
// uploads the file and starts the job in one post (a refusal comes back at its field); the
// job's page lists its outputs as plain links that download; the history's "Export" posts a
// plain form and lands on the export's page.

const PEOPLE = 'name,age\nAda,36\nBob\nGrace,45\n';

async function download(page: import('@playwright/test').Page, name: string): Promise<string> {
  const link = page.locator('ul.outputs a', { hasText: name });
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(file.suggestedFilename()).toBe(name);
  const chunks: Buffer[] = [];
  for await (const chunk of await file.createReadStream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reloads `url` until its first `.status-word` says `status`. */
async function reloadUntil(page: import('@playwright/test').Page, url: string, status: string) {
  await expect
    .poll(async () => {
      await page.goto(url);
      return page.locator('.status-word').first().textContent();
    }, { timeout: 30_000 })
    .toBe(status);
}

test('the import form uploads its file and starts the job in one post; outputs download', async ({ page }) => {
  await page.goto('/new/import_csv');
  const form = page.locator('form#start-import_csv');
  await expect(form).toHaveAttribute('enctype', 'multipart/form-data');

  // No table: refused, and the message is at its field.
  await form.getByLabel('CSV upload', { exact: true }).setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(PEOPLE) });
  await form.getByRole('button', { name: 'Start Import CSV' }).click();
  await expect(page).toHaveURL(/__err=/);
  const again = page.locator('form#start-import_csv');
  await expect(again.locator('#start-import_csv-table-error')).toContainText('is required');
  expect(await (await page.request.get('/api/v1/uploads')).json(), 'a refused start keeps no file').toEqual([]);

  await again.getByLabel('CSV upload', { exact: true }).setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(PEOPLE) });
  const table = `people_nojs_${Date.now()}`;
  await again.getByLabel('Table').fill(table);
  await again.getByRole('button', { name: 'Start Import CSV' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  // Bob's row has no age: skipped with a warning.
  await reloadUntil(page, `/jobs/${id}`, 'succeeded with warnings');
  await expect(page.locator('.params [data-param="upload"]')).toHaveText('people.csv');
  await expect(page.locator('dl.result')).toContainText(table);
  const rejected = await download(page, 'rejected.csv');
  expect(rejected).toContain('Bob');

  // "Export" posts a plain form and lands on the export's page.
  await page.goto('/?kind=import_csv');
  await page.locator('form.export-form').getByRole('button', { name: 'Export' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await reloadUntil(page, page.url(), 'succeeded');
  const csv = await download(page, 'jobs.csv');
  const lines = csv.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(id);
});
