import { test, expect, expectAccessible, startJob, waitForStatus } from './fixtures';

// Every page passes axe-core's checks in both themes, reached both ways: by the system's
// preference with no theme picked, and by the theme switch against the system's preference.
// (The fixture checks every other test's pages in the light theme the system gives.)

const themes = [
  { name: 'dark, by the system', system: 'dark', pick: null },
  { name: 'dark, by the switch', system: 'light', pick: 'dark' },
  { name: 'light, by the switch on a dark system', system: 'dark', pick: 'light' },
] as const;

/** The page's background, as the theme paints it. */
const DARK_BG = 'rgb(17, 19, 24)';

for (const theme of themes) {
  test(`every page passes the accessibility checks in the ${theme.name} theme`, async ({ page }) => {
    // Eleven pages, each hydrated and checked by axe, beside another worker on two cores: more
    // than the default minute, which a busy machine's run went past.
    test.setTimeout(180_000);
    await page.emulateMedia({ colorScheme: theme.system });
    // Jobs in every state a page shows: finished, running (with its bar and buttons).
    const done = await startJob(page, 'demo', { steps: 2, interval_ms: 1 });
    await waitForStatus(page, done, 'succeeded');
    const running = await startJob(page, 'demo', { steps: 100_000, interval_ms: 100 });
    // A failure, for the first screen's failures of the last day.
    const failed = await startJob(page, 'demo', { steps: 2, interval_ms: 1, fail_attempts: 1 }, { max_attempts: 1 });
    await waitForStatus(page, failed, 'failed');
    // A schedule, paused after its first job, to show on /schedules and its edit page.
    const made = await page.request.post('/api/v1/schedules', {
      data: { kind: 'demo', params: { steps: 1, interval_ms: 1 }, cron: '@daily', timezone: 'Europe/Paris' },
    });
    expect(made.status()).toBe(201);
    const schedule = (await made.json()).id;
    expect((await page.request.post(`/api/v1/schedules/${schedule}/run`)).status()).toBe(201);
    expect((await page.request.patch(`/api/v1/schedules/${schedule}`, { data: { enabled: false } })).status()).toBe(200);
    await page.goto('/');
    const html = page.locator('html');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    if (theme.pick) {
      const toggle = page.getByRole('button', { name: /^Theme:/ });
      while ((await html.getAttribute('data-theme')) !== theme.pick) await toggle.click();
    }
    const dark = (theme.pick ?? theme.system) === 'dark';
    const paths = [
      '/',
      `/jobs/${running}`,
      `/jobs/${done}`,
      '/system',
      `/bulk?action=cancel&ids=${running}`,
      '/schedules',
      `/schedules/${schedule}`,
      '/new',
      '/new/demo',
      '/new/export_jobs',
      `/new/demo?from=${done}`,
    ];
    for (const path of paths) {
      await page.goto(path);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await expect(html).toHaveAttribute('data-theme', theme.pick ?? 'system');
      const bg = await page.locator('body').evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(bg === DARK_BG, `${path} is painted ${dark ? 'dark' : 'light'}`).toBe(dark);
      await expectAccessible(page);
    }
    await page.request.post(`/api/v1/jobs/${running}/cancel`);
    await page.request.delete(`/api/v1/schedules/${schedule}`);
  });
}
