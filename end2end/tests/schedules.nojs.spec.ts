import { test, expect } from './fixtures';

// Schedules without JavaScript: "Repeat…" posts the start form's fields to make a schedule, and
// /schedules' pause, resume, run now, edit and delete are plain form posts.

test('make, pause, resume, run, edit and delete a schedule with plain form posts', async ({ page }) => {
  await page.goto('/new/demo');
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('1');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByText('Repeat…').click();
  await form.getByLabel('Repeat on (cron)').fill('99 * * * *');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await expect(page.locator('#start-demo-cron-error')).toHaveText('minute: 99 is out of range (0 to 59)');
  await form.getByLabel('Steps').fill('1');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByLabel('Repeat on (cron)').fill('@hourly');
  await form.getByRole('button', { name: 'Create schedule' }).click();

  await expect(page).toHaveURL(/\/schedules$/);
  const card = page.locator('article.schedule');
  await expect(card.locator('.schedule-when')).toHaveText('every hour at :00, UTC');
  await expect(card.locator('.schedule-next li')).toHaveCount(3);
  await expect(card.locator('.schedule-last')).toContainText('none yet');
  // Unnamed, it is called by its kind's title, and shows its jobs' parameters.
  await expect(card.locator('.schedule-kind')).toHaveText('Demo');
  await expect(card.locator('.schedule-params [data-param="steps"]')).toHaveText('Steps 1');
  await card.getByRole('button', { name: 'Pause the Demo schedule' }).click();
  await expect(card).toHaveAttribute('data-state', 'paused');
  await card.getByRole('button', { name: 'Resume the Demo schedule' }).click();
  await expect(card).toHaveAttribute('data-state', 'enabled');
  await card.getByRole('button', { name: 'Run the Demo schedule now' }).click();
  await expect(card.locator('.schedule-last-job')).toBeVisible();

  await card.getByRole('link', { name: 'Edit the Demo schedule' }).click();
  await page.getByLabel('Repeat on (cron)').fill('0 3 * * *');
  await page.getByLabel('Time zone').fill('Europe/Paris');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/schedules$/);
  await expect(card.locator('.schedule-when')).toHaveText('every day at 03:00, Europe/Paris');
  // Without JavaScript, times are in UTC and say so: 03:00 in Paris is 02:00 or 01:00 UTC.
  await expect(card.locator('.schedule-next li time').first()).toContainText(/ 0[12]:00 UTC$/);

  await card.getByRole('button', { name: 'Delete the Demo schedule' }).click();
  await expect(page.getByText('No schedules yet.')).toBeVisible();
});
