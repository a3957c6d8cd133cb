import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';

// The site is built with `--split`: the islands of the job, settings and users pages are in wasm
// files of their own, which the dashboard never loads.

test('the dashboard loads no lazy part of the wasm; the job page loads its log and timeline', async ({ page }) => {
  const loaded: string[] = [];
  page.on('request', (req) => {
    const path = new URL(req.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm')) loaded.push(path.slice('/pkg/'.length));
  });
  await openDashboard(page);
  const id = await startJob(page, 'demo', { steps: 20, interval_ms: 1 });
  await expect(page.locator(`article.job[data-job-id="${id}"] .status-word`)).toHaveText('succeeded');
  expect(loaded).toEqual(['headway.wasm']);

  loaded.length = 0;
  await waitForStatus(page, id, 'succeeded');
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // Hydrated lazily, and before the page says it is interactive: the log is already the
  // scroller over the whole log.
  expect(await page.locator('.log .log-space').count()).toBe(1);
  expect(loaded).toContain('headway.wasm');
  expect(loaded.some((f) => f.startsWith('split_job_log'))).toBe(true);
  expect(loaded.some((f) => f.startsWith('split_timeline'))).toBe(true);
  expect(loaded.some((f) => f.startsWith('split_token_manager') || f.startsWith('split_user_manager'))).toBe(false);
});
