import { test as base, expect, type Page } from '@playwright/test';

// Every test fails on any browser console error or uncaught page error (hydration panics show
// up there). A test that provokes an expected network error lists it in `allowConsole`.
type Fixtures = { consoleErrors: string[]; allowConsole: RegExp[] };

export const test = base.extend<Fixtures>({
  allowConsole: [[], { option: true }],
  consoleErrors: async ({ context, allowConsole }, use) => {
    const errors: string[] = [];
    const watch = (page: Page) => {
      page.on('console', (msg) => {
        const text = `${msg.text()} (${msg.location().url})`;
        if (msg.type() === 'error' && !allowConsole.some((re) => re.test(text))) {
          errors.push(`console: ${text}`);
        }
      });
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    };
    context.pages().forEach(watch);
    context.on('page', watch);
    await use(errors);
    expect(errors, 'browser console errors').toEqual([]);
  },
});

export { expect };

/** Opens the dashboard and waits until its islands are interactive. */
export async function openDashboard(page: Page) {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Counts requests for the event stream made by a page. */
export function countStreams(page: Page): () => number {
  let n = 0;
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/v1/events') n += 1;
  });
  return () => n;
}

/** Starts a demo job from the dashboard's form. */
export async function startDemo(page: Page, steps: number, intervalMs: number) {
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill(String(steps));
  await form.getByLabel('Interval (ms)').fill(String(intervalMs));
  await form.getByRole('button', { name: /start/i }).click();
}

/** Starts a job through the API with the page's session; returns its id. */
export async function startJob(page: Page, kind: string, params: Record<string, unknown>): Promise<string> {
  const res = await page.request.post('/api/v1/jobs', { data: { kind, params } });
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

/** Waits until a job of the page's session has the given status (through the API). */
export async function waitForStatus(page: Page, id: string, status: string) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${id}`)).json()).status, { timeout: 30_000 })
    .toBe(status);
}
