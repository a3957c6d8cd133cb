import { test, expect, expectAccessible } from './fixtures';
import { workflowServer } from './workflow-server';

// A workflow's run as a person starts and follows it, with JavaScript: its form is on the New
// job page beside the kinds'; the run's page shows its bar and each step's own, live, as the
// steps start once the step they need succeeded; the dashboard lists the run as one row. In
// English and in Chinese.

const server = workflowServer(19, 'js');
test.beforeAll(async () => server.start());
test.afterAll(async () => server.stop());

test('a workflow starts from its form and its page follows every step live', async ({ page }) => {
  await page.goto(`${server.url}/new`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: /^Check, then report/ }).click();
  await expect(page).toHaveURL(`${server.url}/new/check_then_report`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-check_then_report');
  await expect(form.getByLabel('Steps')).toHaveValue('20');
  // What does not apply to a run is not offered.
  await expect(form.getByText('Start at')).toHaveCount(0);
  await expectAccessible(page);
  // Long enough to be seen running: it is cancelled below.
  await form.getByLabel('Steps').fill('1000');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const run = page.url().split('/').pop()!;
  const runRow = page.locator(`article.job[data-job-id="${run}"]`);
  await expect(runRow).toHaveAttribute('data-status', 'running');
  const steps = page.locator('section.job-steps article.job');
  await expect(steps).toHaveCount(3);
  const check = page.locator('section.job-steps article.job', { hasText: 'check' });
  // The first step's bar moves on this page while the others wait for it.
  await expect(check).toHaveAttribute('data-status', 'running');
  await expect(check.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9][0-9]*$/);
  await expect(page.locator('section.job-steps article.job', { hasText: 'report' })).toHaveAttribute('data-status', 'queued');
  // The run's bar moves with its first step's.
  await expect(runRow.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9][0-9]*$/);
  // Its graph: check in the first column, report and tidy side by side in the second, a line
  // from check to each; its boxes move with the stream as the rows do.
  const graph = page.getByRole('figure', { name: 'How the steps depend on each other' });
  await expect(graph.locator('a.run-node')).toHaveCount(3);
  await expect(graph.locator('.run-graph-lines path')).toHaveCount(2);
  const checkBox = graph.locator('a.run-node[data-step="check"]');
  await expect(checkBox).toHaveAttribute('style', /grid-column: 1; grid-row: 1;/);
  await expect(graph.locator('a.run-node[data-step="tidy"]')).toHaveAttribute('style', /grid-column: 2; grid-row: 2;/);
  await expect(checkBox).toHaveAttribute('data-status', 'running');
  const before = Number(await checkBox.getByRole('progressbar').getAttribute('aria-valuenow'));
  await expect(async () => {
    expect(Number(await checkBox.getByRole('progressbar').getAttribute('aria-valuenow'))).toBeGreaterThan(before);
  }).toPass({ timeout: 15_000 });
  await expect(graph.locator('a.run-node[data-step="report"]')).toHaveAttribute('data-status', 'queued');
  await expectAccessible(page);
  // Cancelling the run cancels every step: the running one stops, the waiting ones never start.
  await runRow.getByRole('button', { name: 'Cancel' }).click();
  await expect(runRow).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  for (const row of await steps.all()) await expect(row).toHaveAttribute('data-status', 'cancelled');
  for (const box of await graph.locator('a.run-node').all()) await expect(box).toHaveAttribute('data-status', 'cancelled');
  // A step's page names its run.
  await check.getByRole('link').first().click();
  await expect(page.locator('dd.job-step-of a')).toHaveText(run.slice(0, 8));

  // The dashboard lists the run, not its steps.
  await page.goto(`${server.url}/`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator(`article.job[data-job-id="${run}"]`)).toHaveCount(1);
  await expect(page.locator('.job-list article.job')).toHaveCount(1);
});


test('a workflow takes an uploaded file, and its next step reads the file its first step wrote', async ({ page }) => {
  await page.goto(`${server.url}/new/shout_then_measure`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-shout_then_measure');
  await form.getByLabel('Text', { exact: true }).setInputFiles({ name: 'hi.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
  await expect(form.locator('.upload-text')).toHaveText('Uploaded hi.txt (6 B) ✓');
  await expectAccessible(page);
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const run = page.url().split('/').pop()!;
  await expect(page.locator(`article.job[data-job-id="${run}"]`)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  const graph = page.getByRole('figure', { name: 'How the steps depend on each other' });
  await expect(graph.locator('a.run-node[data-step="measure"]')).toHaveAttribute('data-status', 'succeeded');
  // The run's page, drawn once it ended, lists its steps' files, and its parameter by its name.
  await page.reload();
  await expect(page.locator('ul.outputs a', { hasText: 'loud.txt' })).toBeVisible();
  await expect(page.locator('.params [data-param="text"]')).toHaveText('hi.txt');
  await expect(page.locator('section.job-log')).toHaveCount(0);
  // The second step's file is the first step's output: its parameter links to it.
  await graph.locator('a.run-node[data-step="shout"]').click();
  await expect(page.locator('ul.outputs a', { hasText: 'loud.txt' })).toBeVisible();
  await page.goBack();
  await graph.locator('a.run-node[data-step="measure"]').click();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.params [data-param="text"]')).toContainText('loud.txt');
  const result = page.locator('dl.result');
  await expect(result).toContainText('HELLO');
  await expect(result).toContainText('6');
  await expectAccessible(page);
});

test('a failed run re-runs only what did not succeed', async ({ page }) => {
  const res = await page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'mends', params: {} } });
  expect(res.status()).toBe(201);
  const run = (await res.json()).id;
  await page.goto(`${server.url}/jobs/${run}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const runRow = page.locator(`article.job[data-job-id="${run}"]`);
  await expect(runRow).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
  const count = page.locator('section.job-steps article.job', { hasText: 'count' });
  const counted = await count.getAttribute('data-job-id');
  server.mend();
  // The page was open as the run failed: its button came to say what it does.
  await expect(runRow.getByRole('button', { name: 'Re-run failed steps' })).toBeVisible();
  // So does the page rendered once the run had failed.
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.job-failure')).toContainText('step "mend" failed');
  await runRow.getByRole('button', { name: 'Re-run failed steps' }).click();
  await expect(page).not.toHaveURL(new RegExp(run));
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const again = page.url().split('/').pop()!;
  await expect(page.locator(`article.job[data-job-id="${again}"]`)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  // The step that had succeeded is kept, re-run of the old one; the other ran again.
  const kept = page.locator('section.job-steps article.job', { hasText: 'count' });
  await expect(kept).toHaveAttribute('data-status', 'succeeded');
  expect(await kept.getAttribute('data-job-id')).not.toBe(counted);
  await kept.getByRole('link').first().click();
  await expect(page.locator('.facts')).toContainText(counted!.slice(0, 8));
});

test('a fan-out is one row of its run, saying how many items are done, and opens on its items', async ({ page }) => {
  await page.goto(`${server.url}/new/fan_words`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-fan_words');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const run = page.url().split('/').pop()!;
  await expect(page.locator(`article.job[data-job-id="${run}"]`)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(page.locator('section.job-steps article.job')).toHaveCount(2);
  const group = page.locator('section.job-steps article.job', { hasText: 'say' });
  await expect(group).toContainText('3 of 3 items (100%)');
  await expectAccessible(page);
  await group.getByRole('link').first().click();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const items = page.locator('section.job-steps article.job');
  await expect(items).toHaveCount(3);
  for (const row of await items.all()) await expect(row).toHaveAttribute('data-status', 'succeeded');
  await expect(page.locator('section.job-steps')).toContainText('say[2]');
  await expect(page.locator('dd.job-step-of a')).toHaveText(run.slice(0, 8));
  await expectAccessible(page);
});

test.describe('in Chinese', () => {
  test.use({ locale: 'zh-CN' });

  test('the form and the steps are said in the page’s language', async ({ page }) => {
    await page.goto(`${server.url}/new/check_then_report`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('h1')).toHaveText('检查，然后报告');
    const form = page.locator('form#start-check_then_report');
    await form.getByLabel('步数').fill('2');
    await form.getByRole('button').first().click();
    await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
    await expect(page.locator('#steps-title')).toHaveText('步骤');
    await expectAccessible(page);
    const run = page.url().split('/').pop()!;
    const runRow = page.locator(`article.job[data-job-id="${run}"]`);
    // It ends once its last step did, its bar full.
    await expect(runRow).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
    await expect(runRow.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '3000');
    for (const row of await page.locator('section.job-steps article.job').all()) {
      await expect(row).toHaveAttribute('data-status', 'succeeded');
    }
  });
});
