import type { Browser, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { Headway, addUser } from './headway';

// Paused kinds, on a server of their own (a pause holds every user's jobs back): an operator
// pauses demo on /system; a member's queued demo job says who paused it and when, live; the
// operator resumes it and the job runs.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/pauses-${Date.now()}.db`;
const server = new Headway(13, db, {}, ['--auth', 'accounts']);

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  addUser(db, 'mia', 'member', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

async function signedIn(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.account-who strong')).toHaveText(name);
  return page;
}

test('an operator pauses demo on /system; a member’s job waits saying so, then runs once resumed', async ({
  browser,
}) => {
  const otto = await signedIn(browser, 'otto');
  await otto.goto(`${server.url}/system`);
  await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const demo = otto.locator('tr[data-kind="demo"]');
  await expect(demo.locator('.pause-state')).toContainText('starts jobs');
  await demo.getByRole('button', { name: 'Pause Demo' }).click();
  await expect(demo).toHaveAttribute('data-paused', 'true');
  await expect(demo.locator('.pause-state')).toContainText('paused by otto since');

  const mia = await signedIn(browser, 'mia');
  await mia.goto(`${server.url}/new/demo`);
  await expect(mia.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = mia.locator('form#start-demo');
  await form.getByLabel('Steps').fill('3');
  await form.getByLabel('Interval (ms)').fill('10');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(mia).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const row = mia.locator('.job-list article.job').first();
  await expect(row).toHaveAttribute('data-status', 'queued');
  await expect(row.locator('.job-queue')).toContainText(/⏸ Demo is paused \(by otto since .+\): it starts once resumed/);
  // The first screen's "Next to start" says why it waits, too.
  const id = (await row.getAttribute('data-job-id'))!;
  const first = await mia.context().newPage();
  await first.goto(`${server.url}/`);
  await expect(first.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const next = first.locator(`.now-next .active-job[data-job-id="${id}"]`);
  await expect(next.locator('.active-text')).toContainText(/⏸ Demo is paused \(by otto since .+\)/);

  await demo.getByRole('button', { name: 'Resume Demo' }).click();
  await expect(demo.locator('.pause-state')).toHaveText(/starts jobs/);
  await expect(row).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(row.locator('.job-queue')).toBeHidden();
  await expect(next).toBeHidden();
  await expect(first.locator('.now-next .empty')).toBeVisible();
});

test('a member is not offered the pause buttons, and every kind can be paused at once', async ({ browser }) => {
  const otto = await signedIn(browser, 'otto');
  await otto.goto(`${server.url}/system`);
  await expect(otto.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await otto.getByRole('button', { name: 'Pause every kind' }).click();
  await expect(otto.locator('.pause-every')).toHaveAttribute('data-paused', 'true');
  await expect(otto.locator('.pause-every')).toContainText('Every kind is paused by otto since');
  const res = await otto.request.get(`${server.url}/api/v1/kinds`);
  for (const kind of await res.json()) expect(kind.paused?.kind).toBe('*');
  await otto.getByRole('button', { name: 'Resume every kind' }).click();
  await expect(otto.locator('.pause-every')).not.toHaveAttribute('data-paused', 'true');

  const mia = await signedIn(browser, 'mia');
  // A member does not see /system at all; the API refuses them.
  const refused = await mia.request.post(`${server.url}/api/v1/kinds/demo/pause`);
  expect(refused.status()).toBe(403);
});
