import type { Page } from '@playwright/test';
import { test, expect, expectAccessible } from './fixtures';
import { Headway, addUser } from './headway';

// A server of its own with --auth accounts: signing in, each member seeing only their own jobs,
// a viewer seeing everything without a button to press, and personal API tokens.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/accounts-${Date.now()}.db`;
// Streams check their session at every keep-alive: once a second here.
const server = new Headway(8, db, {}, ['--auth', 'accounts', '--keep-alive-secs', '1']);

test.beforeAll(async () => {
  addUser(db, 'mia', 'member', PASSWORD);
  addUser(db, 'max', 'member', PASSWORD);
  addUser(db, 'vera', 'viewer', PASSWORD);
  addUser(db, 'ada', 'admin', PASSWORD);
  await server.start();
});
test.afterAll(async () => server.stop());

async function signIn(page: Page, name: string) {
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(/\/signin\?next=%2F$/);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.account-who strong')).toHaveText(name);
}

test('a wrong password says so without saying which part was wrong', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('mia');
  await page.getByLabel('Password').fill('not it');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  await expect(page).toHaveURL(/failed=1/);
});

test('a member sees their job live; another member sees nothing of it; a viewer sees it without buttons', async ({
  page,
  browser,
}) => {
  // Three people's sign-ins, a job's whole run and three accessibility scans: more than a minute
  // on a busy 2-core machine.
  test.slow();
  await signIn(page, 'mia');
  await expect(page.locator('.role-badge')).toHaveText('member');
  await page.locator('header.top').getByRole('link', { name: 'New job' }).click();
  await page.getByRole('link', { name: /^Demo/ }).click();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const form = page.locator('form#start-demo');
  // Long enough (20 s) that it is still running when a busy machine has drawn the page; it ends
  // by its owner's Cancel, seen on the same page without a reload.
  await form.getByLabel('Steps').fill('400');
  await form.getByLabel('Interval (ms)').fill('50');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  const row = page.locator(`.job-list article.job[data-job-id="${id}"]`);
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9]/);
  await expect(row).toHaveAttribute('data-status', 'running');
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  // Started by its account, which the page names.
  await expect(row.locator('.job-who')).toHaveText('mia');

  const other = await browser.newContext();
  try {
    const max = await other.newPage();
    await signIn(max, 'max');
    await expect(max.getByRole('heading', { name: 'Your jobs' })).toBeVisible();
    await expect(max.locator(`article.job[data-job-id="${id}"]`)).toHaveCount(0);
    await expectAccessible(max);
    const res = await max.goto(`${server.url}/jobs/${id}`);
    expect(res?.status()).toBe(404);
    await expect(max.getByRole('heading', { name: 'No such job' })).toBeVisible();
  } finally {
    await other.close();
  }

  const viewing = await browser.newContext();
  try {
    const vera = await viewing.newPage();
    await signIn(vera, 'vera');
    await expect(vera.locator('.role-badge')).toHaveText('viewer');
    await expect(vera.getByRole('heading', { name: 'All jobs' })).toBeVisible();
    await expect(vera.getByRole('heading', { name: 'Start a job' })).toHaveCount(0);
    const seen = vera.locator(`article.job[data-job-id="${id}"]`);
    await expect(seen).toHaveAttribute('data-status', 'cancelled');
    await expect(seen.getByRole('button')).toHaveCount(0);
    await expect(vera.locator('input.job-select')).toHaveCount(0);
    await expectAccessible(vera);
    await vera.goto(`${server.url}/jobs/${id}`);
    await expect(vera.getByRole('button', { name: 'Re-run' })).toHaveCount(0);
    // Who started it, who cancelled it and where it ran.
    await expect(vera.locator('dd.job-started-by')).toHaveText('mia');
    await expect(vera.locator('dd.job-cancelled-by')).toHaveText('mia');
    await expect(vera.locator('dd.job-ran-on')).toContainText(/process \d+/);
    await expect(vera.locator('.log .log-line').first()).toBeVisible();
    await expectAccessible(vera);
  } finally {
    await viewing.close();
  }

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(`${server.url}/signin`);
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(/\/signin/);
});

test('a personal API token is shown once, works as its owner, and stops working when revoked', async ({
  page,
  request,
}) => {
  await signIn(page, 'max');
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Name').fill('deploy script');
  await page.getByLabel('Scope').selectOption('read');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.locator('.token-value').textContent())!.trim();
  expect(secret).toMatch(/^hw_[0-9a-f]{64}$/);
  const row = page.locator('table.tokens tbody tr').first();
  await expect(row).toContainText('deploy script');
  await expect(row).toContainText('never used');

  const me = () => request.get(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  const answer = await me();
  expect(answer.status()).toBe(200);
  expect(await answer.json()).toEqual({ username: 'max', role: 'member', accounts: true });

  await page.reload();
  await expect(page.locator('.token-value')).toHaveCount(0);
  await expect(page.locator('table.tokens tbody tr').first()).toContainText('last used');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('button', { name: 'Revoke deploy script' }).click();
  await expect(page.locator('table.tokens tbody tr').first()).toContainText('revoked');
  expect((await me()).status()).toBe(401);
});

test('an admin adds an account, changes its role and disables it; others may not', async ({ page, browser }) => {
  await signIn(page, 'ada');
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('User name').fill('nia');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator('tr[data-user="nia"]');
  await expect(row.getByLabel('Role of nia')).toHaveValue('viewer');
  await row.getByLabel('Role of nia').selectOption('operator');
  await row.getByRole('button', { name: 'Save the role of nia' }).click();
  await row.getByRole('button', { name: 'Disable nia' }).click();
  await expect(row).toHaveAttribute('data-state', 'disabled');
  await page.reload();
  await expect(page.locator('tr[data-user="nia"]')).toHaveAttribute('data-state', 'disabled');
  await expect(page.locator('tr[data-user="nia"]').getByLabel('Role of nia')).toHaveValue('operator');
  // An admin cannot lock themselves out from here.
  await expect(page.locator('tr[data-user="ada"]').getByRole('button', { name: /Disable/ })).toHaveCount(0);

  const member = await browser.newContext();
  try {
    const max = await member.newPage();
    await signIn(max, 'max');
    await expect(max.getByRole('link', { name: 'Users' })).toHaveCount(0);
    const res = await max.goto(`${server.url}/users`);
    expect(res?.status()).toBe(403);
    await expect(max.getByRole('alert')).toContainText('only an admin');
    await expectAccessible(max);
  } finally {
    await member.close();
  }
});

test('signing out lands on the sign-in page, though the stream it ends closes first', async ({ page }) => {
  // Locators wait for a navigation under way, so the page tells the test itself when its stream
  // has ended (`<html data-stream>` set to `signing-out`).
  let streamEnded!: () => void;
  const ended = new Promise<void>((resolve) => (streamEnded = resolve));
  await page.exposeBinding('streamMarked', (_source, mark: string) => {
    if (mark === 'signing-out') streamEnded();
  });
  await page.addInitScript(() => {
    const report = () =>
      (window as unknown as { streamMarked(m?: string): void }).streamMarked(document.documentElement.dataset.stream);
    // Before the document has its root: watch the whole document.
    new MutationObserver(report).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-stream'] });
  });
  await signIn(page, 'max');
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
  // The answer to Sign out waits until the page has seen its stream end: a page that took that
  // for a session ended elsewhere would go to sign in with a way back to `/`, and the browser
  // would report the refused `/api/v1/me`.
  await page.route('**/signout', async (route) => {
    const answer = await route.fetch({ maxRedirects: 0 });
    await ended;
    await route.fulfill({ response: answer });
  });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(`${server.url}/signin`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test.describe('a session that ends', () => {
  // The open page's stream is refused once signed out (the browser reports the 401).
  test.use({ allowConsole: /status of 401/ });

  test('signed out in another tab, an open page goes to sign in and comes back after', async ({ page, context }) => {
    await signIn(page, 'max');
    await page.goto(`${server.url}/?status=succeeded`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
    const other = await context.newPage();
    await other.goto(`${server.url}/settings`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await expect(other).toHaveURL(`${server.url}/signin`);
    await expect(page).toHaveURL(`${server.url}/signin?next=%2F%3Fstatus%3Dsucceeded`, { timeout: 20_000 });
    await page.getByLabel('User name').fill('max');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(`${server.url}/?status=succeeded`);
  });
});

