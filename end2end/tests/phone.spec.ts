import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible } from './fixtures';
import { Headway } from './headway';

// On a phone (390 px wide) no page scrolls sideways and every row's text wraps inside its card:
// the dashboard with a failed job whose error is one long word and a workflow run, the job pages,
// /system and /schedules, in both themes and both languages. On a server of its own, with a
// command that fails saying so at length.

const dir = path.resolve(__dirname, '..', '..', 'target', 'e2e', `phone-${Date.now()}`);
fs.mkdirSync(dir, { recursive: true });
const fails = path.join(dir, 'fails.sh');
const LONG = `could-not-reach-${'the-far-away-storage-bucket-'.repeat(8)}end`;
fs.writeFileSync(fails, `#!/bin/sh\necho '${LONG}' >&2\nexit 3\n`, { mode: 0o755 });
const commands = path.join(dir, 'commands.toml');
fs.writeFileSync(commands, `[[command]]\nname = "fails"\ntitle = "Fails at length"\nprogram = "${fails}"\n`);
const server = new Headway(18, `${dir}/headway.db`, {}, ['--commands', commands]);

test.beforeAll(async () => server.start());
test.afterAll(async () => server.stop());

/** A workflow of two demo steps, posted with the run. */
const WORKFLOW = {
  name: 'count_then_tidy',
  title: 'Count every item twice over, then tidy up what is left behind',
  steps: [
    { name: 'count_every_item', kind: 'demo', params: { steps: 100000, interval_ms: 100 } },
    { name: 'tidy_up_afterwards', kind: 'demo', needs: ['count_every_item'], params: { steps: 2, interval_ms: 1 } },
  ],
};

/** Nothing on the page lies beyond the viewport's width, and every row's parts lie inside it. */
async function fitsThePhone(page: Page, where: string) {
  const wide = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  expect(wide.scroll, `${where} scrolls sideways`).toBeLessThanOrEqual(wide.inner);
  const outside = await page.evaluate(() => {
    const rows = document.querySelectorAll('article.job, li.active-job, .failures-list li, article.schedule, li.limit');
    const out: string[] = [];
    for (const row of rows) {
      const box = row.getBoundingClientRect();
      if (box.width === 0) continue;
      for (const child of row.querySelectorAll('*')) {
        const b = child.getBoundingClientRect();
        if (b.width === 0 || b.height === 0) continue;
        // Inside the row's box, a pixel of rounding aside: wrapped, not cut off by an ellipsis.
        if (b.left < box.left - 1 || b.right > box.right + 1) {
          out.push(`${row.className} > ${child.tagName.toLowerCase()}.${child.className}: ${Math.round(b.left)}–${Math.round(b.right)} outside ${Math.round(box.left)}–${Math.round(box.right)}`);
        }
      }
    }
    return out;
  });
  expect(outside, `${where}: parts of rows outside their row`).toEqual([]);
}

test('no page scrolls sideways on a phone, and every row wraps inside its card', async ({ page }) => {
  // Five pages, in two themes and two languages, each hydrated and checked by axe.
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url);
  const made = await page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'fails', params: {} } });
  expect(made.status()).toBe(201);
  const failed = (await made.json()).id;
  const run = await page.request.post(`${server.url}/api/v1/jobs`, {
    data: { kind: 'workflow', params: { workflow: WORKFLOW, params: {} } },
  });
  expect(run.status(), await run.text()).toBe(201);
  const runId = (await run.json()).id;
  const schedule = await page.request.post(`${server.url}/api/v1/schedules`, {
    data: { kind: 'demo', params: { steps: 1, interval_ms: 1 }, cron: '@daily', timezone: 'America/Argentina/Buenos_Aires' },
  });
  expect(schedule.status()).toBe(201);

  for (const lang of ['en', 'zh-CN']) {
    await page.context().addCookies([{ name: 'headway_lang', value: lang, url: server.url }]);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const where of ['/', `/jobs/${failed}`, `/jobs/${runId}`, '/system', '/schedules']) {
        await page.goto(`${server.url}${where}`);
        await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
        await expect(page.locator('html')).toHaveAttribute('lang', lang);
        if (where === '/') {
          await expect(page.locator(`article.job[data-job-id="${failed}"]`)).toHaveAttribute('data-status', 'failed');
          await expect(page.locator(`article.job[data-job-id="${runId}"]`).first()).toBeVisible();
          // The last hour's chart and its numbers, opened: its time labels lie within the
          // drawing's width, whole.
          await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
          const fit = await page.evaluate(() => {
            // At once: the figure is replaced as the minutes go by.
            const drawing = document.querySelector('figure.chart svg')!.getBoundingClientRect();
            return [...document.querySelectorAll('figure.chart .chart-ends span')].map((end) => {
              const b = end.getBoundingClientRect();
              return b.width > 0 && b.left >= drawing.left - 1 && b.right <= drawing.right + 1;
            });
          });
          expect(fit, 'the chart\'s time labels lie within its width').toEqual([true, true]);
        }
        await fitsThePhone(page, `${where} (${lang}, ${scheme})`);
        await expectAccessible(page);
      }
    }
  }
  expect((await page.request.post(`${server.url}/api/v1/jobs/${runId}/cancel`)).status()).toBe(200);
});
