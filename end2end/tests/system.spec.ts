import path from 'node:path';
import { test, expect, startJob, waitForStatus } from './fixtures';

// /system, the operator's view: server-rendered figures that follow the deployment by a light
// poll, without a reload. The e2e server listens on loopback, so the page is open to everyone.

test('the system page shows load by kind and follows it live', async ({ page }, info) => {
  await page.goto('/');
  const quick = await startJob(page, 'demo', { steps: 3, interval_ms: 5 });
  await waitForStatus(page, quick, 'succeeded');
  const running = await startJob(page, 'demo', { steps: 100000, interval_ms: 100 });
  await waitForStatus(page, running, 'running');

  await page.goto('/system');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByRole('heading', { level: 1, name: 'System' })).toBeVisible();
  const demo = page.locator('tr[data-kind="demo"]');
  await expect(demo.locator('[data-col="running"]')).toHaveText('1');
  const finished = Number(await demo.locator('[data-col="finished"]').textContent());
  expect(finished).toBeGreaterThanOrEqual(1);
  await expect(page.getByRole('heading', { name: /Processes alive: 1/ })).toBeVisible();
  await expect(page.locator('[data-fact="store"]')).toContainText(/\d+(\.\d)? (B|KiB|MiB)/);
  if (process.env.HEADWAY_SCREENSHOTS) {
    const out = path.resolve(__dirname, '..', '..', process.env.HEADWAY_SCREENSHOTS);
    await page.screenshot({ path: path.join(out, 'system.png'), fullPage: true });
  } else {
    await page.screenshot({ path: info.outputPath('system.png'), fullPage: true });
  }

  // Cancelled elsewhere: the open page shows it within its next refresh, without a reload. A
  // cancel was asked for: it is counted as a cancel, not as a failure, and the failure rate
  // leaves it aside.
  const number = async (cell: string) => Number(await demo.locator(`[data-col="${cell}"]`).textContent());
  const [cancelled, failed] = [await number('cancelled'), await number('failed')];
  await page.request.post(`/api/v1/jobs/${running}/cancel`);
  await expect(demo.locator('[data-col="running"]')).toHaveText('0', { timeout: 15_000 });
  await expect(demo.locator('[data-col="finished"]')).toHaveText(String(finished + 1));
  await expect(demo.locator('[data-col="cancelled"]')).toHaveText(String(cancelled + 1));
  expect(await number('failed')).toBe(failed);
  const fact = async (name: string) => (await page.locator(`[data-fact="${name}"]`).textContent()) ?? '';
  const [all, allFailed, allCancelled] = [Number(await fact('finished')), Number(await fact('failed')), Number(await fact('cancelled'))];
  expect(await fact('failure-rate')).toBe(`${((allFailed * 100) / (all - allCancelled)).toFixed(1)}%`);
});
