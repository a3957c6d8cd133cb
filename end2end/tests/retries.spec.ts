import { test, expect, openForm } from './fixtures';

// Automatic retries as a person sees them: a demo job whose first attempt fails says, live, when
// its next attempt starts and why the last one failed, then runs again and succeeds; its page
// lists both attempts and marks the second attempt's log lines.

test('a failed attempt waits, saying when it is tried again, then succeeds; its page lists the attempts', async ({
  page,
}) => {
  await openForm(page, 'demo');
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('10');
  await form.getByLabel('Interval (ms)').fill('50');
  await form.getByLabel('Failing attempts').fill('1');
  await expect(form.getByLabel('Attempts', { exact: true })).toHaveValue('3');
  await form.getByRole('button', { name: 'Start Demo' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const row = page.locator('.job-list article.job').first();
  await expect(row.locator('.job-starts')).toContainText(/^attempt 2 of 3 (in \d+s|any moment)$/);
  await expect(row.locator('.job-error')).toContainText('attempt 1 failed: demo_failure: attempt 1 failed on purpose');
  await expect(row).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(row.locator('.job-attempt')).toHaveText('attempt 2 of 3');
  await expect(row.locator('.job-error')).toBeHidden();

  const id = await row.getAttribute('data-job-id');
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const attempts = page.locator('.attempts li');
  await expect(attempts).toHaveCount(2);
  await expect(attempts.nth(0)).toContainText('Attempt 1 ·');
  await expect(attempts.nth(0).locator('.attempt-error')).toContainText('demo_failure: attempt 1 failed on purpose');
  await expect(attempts.nth(1)).toContainText('Attempt 2 ·');
  await expect(attempts.nth(1).locator('.attempt-error')).toHaveCount(0);
  await expect(page.locator('.log-line[data-attempt="1"]')).toHaveCount(1);
  await expect(page.locator('.log-line[data-attempt="1"] .log-attempt')).toHaveCount(0);
  await expect(page.locator('.log-line[data-attempt="2"] .log-attempt')).toHaveText('attempt 2');
});

test.describe('asking for attempts', () => {
  // The refused start is a 422, which Chromium logs: expected here.
  test.use({ allowConsole: /status of 422 \(Unprocessable Entity\)/ });

  test('a start may ask for fewer attempts, and more than the kind allows is refused in place', async ({ page }) => {
    await openForm(page, 'demo');
    const form = page.locator('form#start-demo');
    await form.getByLabel('Steps').fill('4');
    await form.getByLabel('Interval (ms)').fill('10');
    await form.getByLabel('Failing attempts').fill('1');
    await form.getByLabel('Attempts', { exact: true }).fill('4');
    await form.getByRole('button', { name: 'Start Demo' }).click();
    await expect(form.locator('#start-demo-max_attempts-error')).toHaveText('must be from 1 to 3: demo allows at most 3 attempts');
    await expect(form.getByLabel('Attempts', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await form.getByLabel('Attempts', { exact: true }).fill('1');
    await form.getByRole('button', { name: 'Start Demo' }).click();
    await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
    const row = page.locator('.job-list article.job').first();
    await expect(row).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
    await expect(row.locator('.job-error')).toHaveText(/^demo_failure: attempt 1 failed on purpose/);
  });
});
