import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';

// A log of 100,000 lines: the job page renders only the lines in view, and any part of the log
// can be scrolled to.

test('a 100,000-line log scrolls from end to end with only the lines in view in the page', async ({ page }) => {
  test.setTimeout(180_000);
  await openDashboard(page);
  const id = await startJob(page, 'demo', { steps: 100_000, interval_ms: 0, log_every: 1 });
  await waitForStatus(page, id, 'succeeded');

  const longTasks: number[] = [];
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.evaluate(() => {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) ((window as any).__long ??= []).push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const pane = page.getByRole('log', { name: 'Job log' });
  const line = (seq: number) => pane.locator(`.log-line[data-seq="${seq}"]`);
  const rendered = () => pane.locator('.log-line').count();
  await pane.scrollIntoViewIfNeeded();

  // Following: the newest line is in view, and only a screenful (with a margin) is rendered.
  await expect(line(100_000)).toBeInViewport();
  await expect(line(100_000).locator('.log-text')).toHaveText('reached step 100000 of 100000');
  expect(await rendered()).toBeLessThan(200);

  // The very first line, then the middle: fetched as they come into view.
  await pane.evaluate((el) => el.scrollTo(0, 0));
  await expect(page.locator('.log-follow')).toHaveAttribute('data-following', 'false');
  await expect(line(1).locator('.log-text')).toHaveText('reached step 1 of 100000');
  await expect(line(1)).toBeInViewport();
  await pane.evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
  const middleRow = async () => Number(await pane.locator('.log-line').nth(40).getAttribute('data-seq'));
  await expect.poll(middleRow).toBeGreaterThan(49_000);
  const middle = await middleRow();
  expect(middle).toBeLessThan(51_000);
  await expect(line(middle).locator('.log-text')).toHaveText(`reached step ${middle} of 100000`);
  expect(await rendered()).toBeLessThan(200);

  // Back to the end with the Follow button.
  await page.getByRole('button', { name: 'Follow' }).click();
  await expect(line(100_000)).toBeInViewport();
  expect(await rendered()).toBeLessThan(200);

  longTasks.push(...(await page.evaluate(() => (window as any).__long ?? [])));
  console.log(`big log: longest main-thread task ${Math.round(Math.max(0, ...longTasks))} ms over ${longTasks.length} long tasks`);
});
