import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Browser, type Page } from '@playwright/test';

// Every test fails on any browser console error or uncaught page error (hydration panics show
// up there), on anything the pages' Content-Security-Policy refused (each refusal is reported as
// a console error too, with what it blocked), and on any serious or critical finding of
// axe-core's accessibility rules on the pages it leaves open. A test that provokes an expected network error describes it with
// `allowConsole` (one pattern; alternatives with `|`).
type Fixtures = { consoleErrors: string[]; allowConsole: RegExp | null };

export const test = base.extend<Fixtures>({
  allowConsole: [null, { option: true }],
  consoleErrors: [
    async ({ context, allowConsole, browser, javaScriptEnabled }, use) => {
      const errors: string[] = [];
      const watch = (page: Page) => {
        page.on('console', (msg) => {
          const text = `${msg.text()} (${msg.location().url})`;
          if (msg.type() === 'error' && !allowConsole?.test(text)) {
            errors.push(`console: ${text}`);
          }
        });
        page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      };
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`);
        });
      });
      context.pages().forEach(watch);
      context.on('page', watch);
      await use(errors);
      for (const page of context.pages()) {
        if (page.isClosed() || !page.url().startsWith('http')) continue;
        if (javaScriptEnabled) await expectAccessible(page);
        else await expectAccessibleWithoutScripts(browser, page);
      }
      expect(errors, 'browser console errors').toEqual([]);
    },
    { auto: true },
  ],
});

/** No serious or critical finding of axe-core's WCAG rules on the page as it is now. */
export async function expectAccessible(page: Page) {
  await page.waitForLoadState();
  const results = await new AxeBuilder({ page }).analyze();
  const findings = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(findings, `accessibility findings on ${page.url()}`).toEqual([]);
}

/**
 * The same check for a page seen without JavaScript (axe-core runs as a script): the same URL,
 * with the same cookies, in a context that runs axe but loads none of the page's own scripts.
 */
async function expectAccessibleWithoutScripts(browser: Browser, seen: Page) {
  const context = await browser.newContext({
    javaScriptEnabled: true,
    storageState: await seen.context().storageState(),
  });
  try {
    await context.route(/\.(js|wasm)(\?.*)?$/, (route) => route.abort());
    const page = await context.newPage();
    await page.goto(seen.url());
    await expectAccessible(page);
  } finally {
    await context.close();
  }
}

export { expect };

/**
 * What Chromium reports for requests in flight, or sent, while a test stops or restarts a
 * server on purpose: refused, reset, or cut before or during the answer.
 */
export const serverGone = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING/;

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

/**
 * Fills the demo's start form on the New job page (with `attempts`, that many at most) and
 * clicks Start; returns once the click is sent (the page then goes to the new job's page, or
 * shows why not).
 */
export async function fillAndStartDemo(page: Page, steps: number, intervalMs: number, attempts?: number) {
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill(String(steps));
  await form.getByLabel('Interval (ms)').fill(String(intervalMs));
  if (attempts !== undefined) await form.getByLabel('Attempts', { exact: true }).fill(String(attempts));
  await form.getByRole('button', { name: /start/i }).click();
}

/**
 * Starts a demo job from the New job page's form, as a person does; the page ends on the new
 * job's page. Returns the job's id.
 */
export async function startDemo(page: Page, steps: number, intervalMs: number, attempts?: number): Promise<string> {
  await openForm(page, 'demo');
  await fillAndStartDemo(page, steps, intervalMs, attempts);
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  return page.url().split('/').pop()!;
}

/** Opens the start form of `kind` (`/new/{kind}`) and waits until its islands are live. */
export async function openForm(page: Page, kind: string, base = '') {
  await page.goto(`${base}/new/${kind}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/**
 * Starts a job through the API with the page's session; returns its id. `start` adds to the
 * request (`max_attempts`, `run_after`).
 */
export async function startJob(
  page: Page,
  kind: string,
  params: Record<string, unknown>,
  start: Record<string, unknown> = {},
): Promise<string> {
  const res = await page.request.post('/api/v1/jobs', { data: { kind, params, ...start } });
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

/** Waits until a job of the page's session has the given status (through the API). */
export async function waitForStatus(page: Page, id: string, status: string, timeout = 30_000) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${id}`)).json()).status, { timeout })
    .toBe(status);
}
