import { test, expect, openDashboard, startJob } from './fixtures';

// Browser notifications for jobs that finish while the tab is hidden. Headless Chromium shows
// every tab as visible and displays no notification, so the page is given two seams before it
// loads: `document.hidden` follows a flag the test sets, and each Notification the page makes
// (a real one) is also recorded.

test('notifications are asked for after a click, tell of jobs that finish while hidden, group, open the job, and turn off', async ({
  page,
  context,
  baseURL,
}) => {
  await context.grantPermissions(['notifications'], { origin: baseURL });
  await page.addInitScript(() => {
    const w = window as any;
    w.__hidden = false;
    w.__notes = [];
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => w.__hidden });
    const Real = w.Notification;
    w.Notification = class extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        w.__notes.push({ title, body: options?.body ?? '', note: this });
      }
    };
  });
  const notes = () => page.evaluate(() => (window as any).__notes.map((n: any) => ({ title: n.title, body: n.body })));
  const hide = (hidden: boolean) => page.evaluate((h) => ((window as any).__hidden = h), hidden);

  await openDashboard(page);
  await page.getByRole('button', { name: 'Notify me when jobs finish' }).click();
  const on = page.getByRole('button', { name: 'Notifying when jobs finish' });
  await expect(on).toHaveAttribute('aria-pressed', 'true');

  // While the tab is in view, a finished job is a toast only.
  const seen = await startJob(page, 'demo', { steps: 1, interval_ms: 1 });
  await expect(page.locator(`.toast a[href="/jobs/${seen}"]`)).toBeVisible();

  await hide(true);
  await startJob(page, 'demo', { steps: 3, interval_ms: 5 });
  await expect.poll(notes).toEqual([{ title: 'Demo job succeeded', body: 'Open the job' }]);

  // Two finishing together: one notification for both.
  await Promise.all([
    startJob(page, 'demo', { steps: 5, interval_ms: 20 }),
    startJob(page, 'demo', { steps: 5, interval_ms: 20 }),
  ]);
  await expect.poll(async () => (await notes()).length).toBe(2);
  expect((await notes())[1]).toEqual({ title: '2 jobs succeeded', body: 'Demo job succeeded\nDemo job succeeded' });

  // Turned off (the choice survives a reload), a finished job notifies no one: the next
  // notification, once turned on again, is the next job's alone.
  await hide(false);
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('button', { name: 'Notifying when jobs finish' }).click();
  await expect(page.getByRole('button', { name: 'Notify me when jobs finish' })).toHaveAttribute('aria-pressed', 'false');
  await hide(true);
  const quiet = await startJob(page, 'demo', { steps: 1, interval_ms: 1 });
  await expect(page.locator(`.toast a[href="/jobs/${quiet}"]`)).toBeAttached();
  await page.getByRole('button', { name: 'Notify me when jobs finish' }).click();
  await expect(on).toBeVisible();
  const last = await startJob(page, 'demo', { steps: 1, interval_ms: 1 });
  await expect.poll(notes).toEqual([{ title: 'Demo job succeeded', body: 'Open the job' }]);

  // Clicking a notification opens its job.
  await hide(false);
  await page.evaluate(() => (window as any).__notes[0].note.onclick());
  await expect(page).toHaveURL(`/jobs/${last}`);
});
