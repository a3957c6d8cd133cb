import { test, expect, expectAccessible, openDashboard, openForm, countStreams, fillAndStartDemo, startDemo, startJob, waitForStatus, serverGone } from './fixtures';
import { Headway } from './headway';

test('three jobs started elsewhere fill live, on one stream, without a reload', async ({ page, consoleErrors }) => {
  const streams = countStreams(page);
  await openDashboard(page);
  // Survives only if the page is never reloaded.
  await page.evaluate(() => ((window as any).__sameDocument = true));

  const rows = page.locator('.job-list article.job');
  await expect(rows).toHaveCount(0);
  for (let i = 1; i <= 3; i++) {
    await startJob(page, 'demo', { steps: 20, interval_ms: 60 });
    await expect(rows).toHaveCount(i);
  }

  // Each bar moves, then reaches its maximum, driven by the stream.
  const bars = rows.getByRole('progressbar');
  await expect(bars).toHaveCount(3);
  for (const bar of await bars.all()) {
    await expect(bar).toHaveAttribute('aria-valuemax', '20');
    await expect(bar).toHaveAttribute('aria-valuenow', '20', { timeout: 30_000 });
  }
  await expect(rows.locator('.status-word')).toHaveText(['succeeded', 'succeeded', 'succeeded']);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  expect(streams()).toBe(1);
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');

  // History after a reload comes from SQLite, rendered by the server.
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(rows).toHaveCount(3);
  await expect(rows.locator('.status-word')).toHaveText(['succeeded', 'succeeded', 'succeeded']);
  for (const bar of await rows.getByRole('progressbar').all()) {
    await expect(bar).toHaveAttribute('aria-valuenow', '20');
  }
  expect(consoleErrors).toEqual([]);
});

test('another browser sees none of my jobs', async ({ page, browser }) => {
  const id = await startDemo(page, 5, 10);
  await openDashboard(page);
  await expect(page.locator('.job-list article.job')).toHaveCount(1);

  const other = await browser.newContext();
  const theirs = await other.newPage();
  const errors: string[] = [];
  theirs.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await theirs.goto('/');
  await expect(theirs.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(theirs.locator('.job-list article.job')).toHaveCount(0);
  await expect(theirs.getByText('No jobs yet')).toBeVisible();
  const res = await theirs.request.get(`/api/v1/jobs/${id}`);
  expect(res.status()).toBe(404);
  // My next job does not show up live in their tab either.
  await startJob(page, 'demo', { steps: 5, interval_ms: 10 });
  await expect(page.locator('.job-list article.job')).toHaveCount(2);
  await theirs.waitForTimeout(500);
  await expect(theirs.locator('.job-list article.job')).toHaveCount(0);
  expect(errors).toEqual([]);
  await other.close();
});

test.describe('refused input', () => {
  // Chromium logs the 422 answer to the form's call as a failed resource: expected here.
  test.use({ allowConsole: /status of 422 \(Unprocessable Entity\) \(http:\/\/127\.0\.0\.1:\d+\/api\/start_job\)/ });

  test('a start time the server cannot read comes back under its field', async ({ page }) => {
    await openForm(page, 'demo');
    const form = page.locator('form#start-demo');
    await form.getByText('Start at…').click();
    const next = new Date(Date.now() + 2 * 366 * 86_400_000).toISOString().slice(0, 16);
    await form.getByLabel(/^Start at/).fill(next);
    await form.getByRole('button', { name: /start/i }).click();
    await expect(page.locator('#start-demo-run_after-error')).toContainText('more than a year and a day ahead');
    await expect(form.getByLabel(/^Start at/)).toHaveAttribute('aria-invalid', 'true');
    await expect(page).toHaveURL(/\/new\/demo$/);
    expect((await (await page.request.get('/api/v1/jobs')).json()).jobs).toHaveLength(0);
  });

  test('the server explains bad values next to the field', async ({ page }) => {
    await openForm(page, 'demo');
    // Refused input is a 4xx, as from the JSON API, never a server error.
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/start_job');
    await fillAndStartDemo(page, 0, 70000);
    expect((await answer).status()).toBe(422);
    const form = page.locator('form#start-demo');
    await expect(form.locator('#start-demo-steps-error')).toHaveText('must be from 1 to 100000');
    await expect(form.locator('#start-demo-interval_ms-error')).toHaveText('must be from 0 to 60000');
    await expect(form.getByLabel('Steps')).toHaveAttribute('aria-invalid', 'true');
    // The field says what it is for, and then what is wrong, to a screen reader too.
    await expect(form.getByLabel('Steps')).toHaveAttribute('aria-describedby', 'start-demo-steps-hint start-demo-steps-error');
    expect((await (await page.request.get('/api/v1/jobs')).json()).jobs).toHaveLength(0);

    // Good values: the job starts, and the page goes to it.
    await fillAndStartDemo(page, 2, 10);
    await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
    expect((await (await page.request.get('/api/v1/jobs')).json()).jobs).toHaveLength(1);
  });
});

test('cancel stops a running job', async ({ page }) => {
  await startJob(page, 'demo', { steps: 1000, interval_ms: 50 });
  await openDashboard(page);
  const row = page.locator('.job-list article.job').first();
  await expect(row.getByRole('progressbar')).not.toHaveAttribute('aria-valuenow', '0');
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.locator('.status-word')).toHaveText('cancelled');
  await expect(row.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
});

test.describe('when the server goes away', () => {
  // Chromium logs the refused stream requests while the server is down: expected here.
  test.use({ allowConsole: serverGone });

  test('the page shows it, reconnects by itself and catches up', async ({ page }) => {
    const server = new Headway(1, `target/e2e/restart-${Date.now()}.db`);
    await server.start();
    try {
      const streams = countStreams(page);
      await page.goto(server.url);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
      // The start form in a tab of its own, to send while the server is away.
      const formPage = await page.context().newPage();
      await openForm(formPage, 'demo', server.url);
      // One attempt: the shutdown ends it.
      await page.request.post(`${server.url}/api/v1/jobs`, {
        data: { kind: 'demo', params: { steps: 100000, interval_ms: 100 }, max_attempts: 1 },
      });
      const row = page.locator('.job-list article.job').first();
      await expect(row.getByRole('progressbar')).not.toHaveAttribute('aria-valuenow', '0');
      const status = page.locator('.connection');
      await expect(status).toHaveAttribute('data-state', 'live');

      await server.stop();
      await expect(status).toHaveAttribute('data-state', 'reconnecting');
      // What is asked of the server meanwhile is refused with a message, in place.
      const unreachable = 'the server could not be reached; check the connection and try again';
      await row.getByRole('button', { name: 'Cancel' }).click();
      await expect(row.getByRole('alert')).toHaveText(unreachable);
      const form = formPage.locator('form#start-demo');
      await form.getByRole('button', { name: /start/i }).click();
      await expect(form.locator('.form-error')).toHaveText(unreachable);
      await expect(form.getByRole('button', { name: /start/i })).toBeEnabled();
      await server.start();

      await expect(status).toHaveAttribute('data-state', 'live', { timeout: 30_000 });
      // What happened while the page was away (the shutdown interrupted the job) arrives.
      await expect(row.locator('.status-word')).toHaveText('interrupted');
      // The refused Cancel's message concerned the running job: it goes with that status.
      await expect(row.getByRole('alert')).toHaveCount(0);
      // And the new stream carries new work live; the form starts again, and goes to its job.
      await form.getByLabel('Steps').fill('10');
      await form.getByLabel('Interval (ms)').fill('20');
      await form.getByRole('button', { name: /start/i }).click();
      await expect(formPage).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
      const fresh = page.locator('.job-list article.job').first();
      await expect(fresh).toHaveAttribute('data-job-id', formPage.url().split('/').pop()!);
      await expect(fresh.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '10');
      await expect(formPage.locator('body')).toHaveAttribute('data-hydrated', 'true');
      await formPage.close();
      expect(streams()).toBeGreaterThanOrEqual(2);
    } finally {
      await server.stop();
    }
  });
});

test('a finished job can be re-run from its row', async ({ page }) => {
  await startJob(page, 'demo', { steps: 5, interval_ms: 10 });
  await openDashboard(page);
  const rows = page.locator('.job-list article.job');
  await expect(rows.first().locator('.status-word')).toHaveText('succeeded');
  await rows.first().getByRole('button', { name: 'Re-run' }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.first().locator('.status-word')).toHaveText('succeeded');
  await expect(rows.first().getByRole('progressbar')).toHaveAttribute('aria-valuenow', '5');
  const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-job-id')));
  expect(new Set(ids).size).toBe(2);
});

test('every kind has a start form built from its parameters', async ({ page }) => {
  const kinds = await (await page.request.get('/api/v1/kinds')).json();
  for (const kind of kinds) {
    await openForm(page, kind.name);
    const form = page.locator(`form#start-${kind.name}`);
    await expect(form).toHaveCount(1);
    for (const param of kind.params) {
      // A set is a checkbox per choice; every other parameter is one field.
      const fields = param.type === 'set'
        ? form.locator(`[name^="params[${param.name}/"]`)
        : form.locator(`[name="params[${param.name}]"]`);
      await expect(fields).toHaveCount(param.type === 'set' ? param.choices.length : 1);
      if (param.description) await expect(form.locator(`#start-${kind.name}-${param.name}-hint`)).toHaveText(param.description);
    }
  }
  // A batch job from its own form: 40 items, some failing, ends succeeded with warnings: a word,
  // a shape and a colour of its own, live as it ends and as the server renders it.
  await openForm(page, 'batch');
  const batch = page.locator('form#start-batch');
  await batch.locator('[name="params[items]"]').fill('40');
  await batch.locator('[name="params[item_kib]"]').fill('4');
  await batch.locator('[name="params[failure_rate]"]').fill('0.3');
  await batch.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const row = page.locator('.job-list article.job').first();
  await expect(row.locator('.job-kind')).toHaveText('Batch');
  await expect(row.locator('.status-word')).toHaveText('succeeded with warnings', { timeout: 30_000 });
  await expect(row.locator('.status-icon')).toHaveText('⚠');
  await expect(row.locator('.status')).toHaveClass(/status-warned/);
  await expect(row.getByRole('progressbar')).toHaveAttribute('data-level', 'warning');
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
  await page.reload();
  await expect(row.locator('.status-word')).toHaveText('succeeded with warnings');
  await expect(row.locator('.status-icon')).toHaveText('⚠');
});

test('the counts per status and the last-hour chart follow the stream without a reload', async ({ page }) => {
  // A fresh user: a browser context of its own, with no jobs yet.
  await openDashboard(page);
  const counts = page.getByRole('navigation', { name: 'Jobs per status' });
  const all = counts.locator('[data-status="all"] strong');
  const succeeded = counts.locator('[data-status="succeeded"] strong');
  await expect(all).toHaveText('0');
  await startJob(page, 'demo', { steps: 3, interval_ms: 10 });
  await startJob(page, 'demo', { steps: 3, interval_ms: 10 });
  const rows = page.locator('.job-list article.job');
  await expect(rows).toHaveCount(2);
  await expect(rows.locator('.status-word')).toHaveText(['succeeded', 'succeeded'], { timeout: 20_000 });
  await expect(all).toHaveText('2');
  await expect(succeeded).toHaveText('2');
  await expect(counts.locator('[data-status="running"] strong')).toHaveText('0');
  await expect(page.locator('.chart svg')).toHaveAttribute('aria-label', /^2 jobs finished in the last hour/);

  // Rendered again, the counts keep the focus where it was, and the chart's numbers stay open.
  await page.locator('.chart-box > summary').click();
  const numbers = page.locator('figure.chart details');
  await numbers.locator('summary').click();
  await expect(numbers).toHaveAttribute('open', '');
  await counts.locator('[data-status="succeeded"]').focus();
  await startJob(page, 'demo', { steps: 1, interval_ms: 0 });
  await expect(succeeded).toHaveText('3');
  await expect(page.locator('.chart svg')).toHaveAttribute('aria-label', /^3 jobs finished in the last hour/);
  await expect(counts.locator('[data-status="succeeded"]')).toBeFocused();
  await expect(numbers).toHaveAttribute('open', '');
});

test('a filtered view shows the jobs that come into it live, and keeps them', async ({ page }) => {
  await openDashboard(page);
  await page.goto('/?kind=demo&status=succeeded');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
  const rows = page.locator('.job-list article.job');
  await expect(rows).toHaveCount(0);
  // Neither of the view's kind and status, nor of its kind, nor of its status: none of these.
  const long = await startJob(page, 'demo', { steps: 100000, interval_ms: 100 });
  const batch = await startJob(page, 'batch', { items: 5, item_kib: 1 });
  await waitForStatus(page, batch, 'succeeded');
  await waitForStatus(page, long, 'running');
  // Of both: shown once it succeeds. The stream is in order, so the others have come by then.
  const quick = await startJob(page, 'demo', { steps: 2, interval_ms: 10 });
  await expect(page.locator(`.job-list article.job[data-job-id="${quick}"] .status-word`)).toHaveText('succeeded');
  await expect(rows).toHaveCount(1);
  await expect(page.locator('.job-list > .empty')).toBeHidden();
  await expectAccessible(page);

  // A running job in the view of running jobs stays there, as succeeded, when it ends.
  await page.goto('/?status=running');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(rows).toHaveCount(1); // the long one, rendered
  const short = await startJob(page, 'demo', { steps: 20, interval_ms: 100 });
  const shown = page.locator(`.job-list article.job[data-job-id="${short}"]`);
  await expect(shown.locator('.status-word')).toHaveText('running');
  await expect(rows.first()).toHaveAttribute('data-job-id', short);
  await expect(shown.locator('.status-word')).toHaveText('succeeded', { timeout: 20_000 });
  await expect(rows).toHaveCount(2);
  await page.request.post(`/api/v1/jobs/${long}/cancel`);
});

test('bulk: tick jobs, confirm the count, cancel them; then re-run every job matching a view', async ({ page }) => {
  for (let i = 0; i < 3; i++) await startJob(page, 'demo', { steps: 100000, interval_ms: 100 });
  await openDashboard(page);
  const rows = page.locator('.job-list article.job');
  await expect(rows).toHaveCount(3);
  await expect(rows.locator('.status-word')).toHaveText(['running', 'running', 'running'], { timeout: 20_000 });
  const keep = await rows.nth(2).getAttribute('data-job-id');
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Cancel selected…' }).click();
  await expect(page.getByRole('heading', { name: 'Cancel 2 jobs?' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel 2 jobs' }).click();
  await expect(page.locator('.bulk-done')).toHaveText('2 jobs cancelled.');
  await expect(page.locator(`article.job[data-job-id="${keep}"] .status-word`)).toHaveText('running');
  await expect
    .poll(async () => (await rows.locator('.status-word').allTextContents()).filter((w) => w === 'cancelled').length, { timeout: 20_000 })
    .toBe(2);

  // Every job of a view: the cancelled ones, re-run in one go.
  await page.goto('/?status=cancelled');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel(/every job matching this view/).check();
  await page.getByRole('button', { name: 'Re-run selected…' }).click();
  await expect(page.getByRole('heading', { name: 'Re-run 2 jobs?' })).toBeVisible();
  await page.getByRole('button', { name: 'Re-run 2 jobs' }).click();
  await expect(page.locator('.bulk-done')).toHaveText('2 jobs started again.');
  await page.request.post('/api/v1/jobs/cancel', { data: { filter: { status: 'queued,running' } } });
});

test.describe('in New York', () => {
  test.use({ timezoneId: 'America/New_York' });

  test('"Start at…" puts a job off in the browser’s time zone; it waits, says when, then runs', async ({ page }) => {
    await openForm(page, 'demo');
    const form = page.locator('form#start-demo');
    await form.getByText('Start at…').click();
    await expect(form.locator('.start-zone')).toHaveText('(America/New_York)');
    // Eight seconds from now, as a New York wall clock shows it.
    const at = Math.floor((Date.now() + 8_000) / 1000) * 1000;
    // A time on the minute is written without its seconds, as the field itself writes it.
    const local = new Date(at)
      .toLocaleString('sv-SE', { timeZone: 'America/New_York' })
      .replace(' ', 'T')
      .replace(/:00$/, '');
    await form.getByLabel('Steps').fill('2');
    await form.getByLabel('Interval (ms)').fill('10');
    await form.getByLabel(/^Start at/).fill(local);
    await form.getByRole('button', { name: /start/i }).click();
    await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
    const row = page.locator('.job-list article.job').first();
    await expect(row.locator('.status-word')).toHaveText('queued');
    await expect(row.locator('.job-starts')).toContainText(/starts at .* · in \d+s/);
    const id = await row.getAttribute('data-job-id');
    const job = await (await page.request.get(`/api/v1/jobs/${id}`)).json();
    expect(job.run_after).toBe(at);
    // At its time it runs, live, and the line about waiting goes.
    await expect(row.locator('.status-word')).toHaveText('succeeded', { timeout: 30_000 });
    await expect(row.locator('.job-starts')).toBeHidden();
    const done = await (await page.request.get(`/api/v1/jobs/${id}`)).json();
    expect(done.started_at).toBeGreaterThanOrEqual(at);
  });
});

test('a double click on Start starts one job; a later click starts another', async ({ page }) => {
  await openForm(page, 'demo');
  let posts = 0;
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/start_job') posts += 1;
  });
  const form = page.locator('form#start-demo');
  await form.getByLabel('Steps').fill('2');
  await form.getByLabel('Interval (ms)').fill('1');
  await form.getByRole('button', { name: 'Start Demo' }).dblclick();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const count = async () => (await (await page.request.get('/api/v1/jobs')).json()).jobs.length;
  expect(await count()).toBe(1);
  expect(posts).toBe(1);
  // The form again, later: another job.
  await openForm(page, 'demo');
  await form.getByRole('button', { name: 'Start Demo' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect.poll(count).toBe(2);
  expect(posts).toBe(2);
});
