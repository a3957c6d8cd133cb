import { test, expect, openForm } from './fixtures';

// Schedules as a person makes and follows them: "Repeat…" in a kind's form says the expression
// in words with its next times as it is typed, and makes the schedule; /schedules shows it
// firing live, and pauses, runs, edits and deletes it.

test('a schedule made with Repeat… shows its words as typed, fires live on /schedules, and is paused, run, edited and deleted', async ({
  page,
}) => {
  await openForm(page, 'demo');
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('1');
  await form.getByLabel('Interval (ms)').fill('1');
  // "Create schedule" is there while "Repeat…" is open.
  const create = form.getByRole('button', { name: 'Create schedule' });
  await expect(create).toBeHidden();
  await form.getByText('Repeat…').click();
  await expect(create).toBeVisible();
  // A name tells it from other schedules of its kind.
  await form.getByLabel('Name (optional)').fill('every second demo');
  const cron = form.getByLabel('Repeat on (cron)');
  await cron.fill('61 * * * *');
  await expect(form.locator('.cron-refused')).toHaveText('minute: 61 is out of range (0 to 59)');
  await cron.fill('0 2 * * 1-5');
  await form.getByLabel('Time zone').fill('Europe/Paris');
  await expect(form.locator('.cron-words')).toHaveText('every weekday at 02:00, Europe/Paris');
  await expect(form.locator('.cron-next li')).toHaveCount(3);
  await expect(form.locator('.cron-next li').first()).toContainText(/ 02:00 \(\+0[12]:00\)$/);
  await cron.fill('* * * * * *');
  await expect(form.locator('.cron-words')).toHaveText('every second, Europe/Paris');
  // Enter in the expression creates the schedule (in a parameter, it starts a job).
  await cron.press('Enter');
  await expect(form.locator('.form-note')).toContainText('Schedule created: every second, Europe/Paris, next at ');

  await page.getByRole('link', { name: 'See the schedules' }).click();
  await expect(page).toHaveURL(/\/schedules$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const card = page.locator('article.schedule');
  await expect(card).toHaveCount(1);
  await expect(card.locator('.schedule-when')).toHaveText('every second, Europe/Paris');
  await expect(card.locator('.schedule-kind')).toHaveText('every second demo');
  await expect(card.locator('.schedule-what')).toHaveText('Demo');
  await expect(card.locator('.schedule-params [data-param="steps"]')).toHaveText('Steps 1');
  await expect(card).toHaveAttribute('data-state', 'enabled');
  await expect(card.locator('.schedule-next li')).toHaveCount(3);
  // Its jobs arrive live: the last job changes without a reload.
  const last = card.locator('.schedule-last-job code');
  await expect(last).toHaveText(/^[0-9a-f]{8}$/);
  const first = await last.textContent();
  await expect(last).not.toHaveText(first!);

  await card.getByRole('button', { name: 'Pause the every second demo schedule' }).click();
  await expect(card).toHaveAttribute('data-state', 'paused');
  await expect(card.locator('.schedule-next li')).toHaveCount(0);
  const paused = await last.textContent();
  await card.getByRole('button', { name: 'Run the every second demo schedule now' }).click();
  await expect(last).not.toHaveText(paused!);
  await expect(card.locator('.schedule-last-job .status-word')).toHaveText('succeeded');

  await card.getByRole('link', { name: 'Edit the every second demo schedule' }).click();
  await expect(page).toHaveURL(/\/schedules\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByLabel('Name (optional)')).toHaveValue('every second demo');
  await page.getByLabel('Name (optional)').fill('nightly demo');
  await page.getByLabel('Repeat on (cron)').fill('@daily');
  await expect(page.locator('.cron-words')).toHaveText('every day at 00:00, Europe/Paris');
  await page.getByLabel('Enabled (fires at its times)').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/schedules$/);
  await expect(card.locator('.schedule-when')).toHaveText('every day at 00:00, Europe/Paris');
  await expect(card.locator('.schedule-kind')).toHaveText('nightly demo');
  await expect(card).toHaveAttribute('data-state', 'enabled');

  // Its jobs in the history, and a job links back to it.
  await card.getByRole('link', { name: 'all its jobs' }).click();
  await expect(page).toHaveURL(/\/\?schedule=/);
  await expect(page.locator('.filter-note')).toContainText('The jobs of one schedule');
  const job = page.locator('.job-list article.job').first();
  await job.locator('a.job-kind').click();
  await expect(page.locator('.facts')).toContainText('Started by');

  await page.goto('/schedules');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  page.once('dialog', (d) => d.accept());
  await card.getByRole('button', { name: 'Delete the nightly demo schedule' }).click();
  await expect(page.getByText('No schedules yet.')).toBeVisible();
});
