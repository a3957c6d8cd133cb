import { test, expect, openDashboard, startJob, waitForStatus } from './fixtures';

// The job page's log keeps up with a fast program, keeps its columns still, offers the whole log
// as a file, and shows the colours a program writes without anything else of its escape
// sequences.

test('following a log written at 1,000 lines a second keeps the newest line in view', async ({ page }) => {
  test.setTimeout(240_000);
  await openDashboard(page);
  // A line every step, a step every millisecond: 1,000 lines a second for 20 s. It waits for a
  // job put off an hour (which holds no slot) until the page follows its log, however long a
  // busy machine takes to open it: then that job is cancelled, and this one starts.
  const gate = await startJob(page, 'demo', { steps: 1, interval_ms: 1 }, { run_after: Date.now() + 3_600_000 });
  const id = await startJob(page, 'demo', { steps: 20_000, interval_ms: 1, log_every: 1 }, { after: [gate], when: 'ended' });
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const pane = page.getByRole('log', { name: 'Job log' });
  await pane.scrollIntoViewIfNeeded();
  const follow = page.locator('.log-follow');
  await expect(follow).toHaveAttribute('data-following', 'true');
  // The whole log, scrollable (the page's script is live).
  await expect(pane.locator('.log-space')).toBeAttached();
  // From now on, in the page: every switch of follow mode to off, and after each frame's layout
  // (a ResizeObserver on the growing log runs after the frame's scrolls), how many lines the
  // view is behind the newest one.
  await pane.evaluate((el) => {
    const w = window as any;
    w.__paused = 0;
    w.__behind = 0;
    w.__frames = 0;
    const label = document.querySelector('.log-follow')!;
    new MutationObserver(() => {
      if (label.getAttribute('data-following') === 'false') w.__paused += 1;
    }).observe(label, { attributes: true, attributeFilter: ['data-following'] });
    new ResizeObserver(() => {
      w.__frames += 1;
      w.__behind = Math.max(w.__behind, (el.scrollHeight - el.scrollTop - el.clientHeight) / 20);
    }).observe(el.querySelector('.log-space')!);
  });
  const count = async () => Number((await page.locator('#log-title').textContent())?.replace(/\D/g, ''));
  expect((await page.request.post(`/api/v1/jobs/${gate}/cancel`)).status()).toBe(200);
  // The job may wait its turn behind the jobs of tests running beside this one: the log is
  // watched from its first lines. Then it moves on for several seconds, and the view with it.
  await expect.poll(count, { timeout: 90_000 }).toBeGreaterThan(0);
  const start = await count();
  expect(start, 'the log was still being written when it was followed').toBeLessThan(15_000);
  await expect.poll(count, { timeout: 60_000 }).toBeGreaterThan(start + 5_000);
  await waitForStatus(page, id, 'succeeded', 60_000);
  await expect(page.locator('#log-title')).toHaveText('Log (20,000 lines)');
  await expect(pane.locator('.log-line[data-seq="20000"]')).toBeInViewport();
  const seen = await page.evaluate(() => {
    const w = window as any;
    return { paused: w.__paused, behind: w.__behind, frames: w.__frames };
  });
  console.log(`fast log: ${seen.frames} frames, at most ${seen.behind.toFixed(1)} lines behind`);
  expect(seen.paused, 'follow mode never switched itself off').toBe(0);
  await expect(follow).toHaveAttribute('data-following', 'true');
  expect(seen.frames).toBeGreaterThan(10);
  // The pane shows about 19 lines: the newest was always among them.
  expect(seen.behind).toBeLessThan(19);

  // The line numbers sit in a column that does not move: every row's text starts at the same
  // place, from line 1 to line 20,000.
  const textLeft = () => pane.locator('.log-line').evaluateAll((rows) => [
    ...new Set(rows.map((r) => Math.round(r.querySelector('.log-text')!.getBoundingClientRect().left))),
  ]);
  const bottomLefts = await textLeft();
  expect(bottomLefts).toHaveLength(1);
  await pane.evaluate((el) => el.scrollTo(0, 0));
  await expect(pane.locator('.log-line[data-seq="1"] .log-text')).toHaveText('reached step 1 of 20000');
  expect(await textLeft()).toEqual(bottomLefts);
  await expect(follow).toHaveAttribute('data-following', 'false');

  // The whole log is a download away.
  const link = page.getByRole('link', { name: 'Download the log' });
  await expect(link).toHaveAttribute('href', `/api/v1/jobs/${id}/log.txt`);
  const file = await page.request.get(`/api/v1/jobs/${id}/log.txt`);
  expect(file.status()).toBe(200);
  expect((await file.text()).trimEnd().split('\n')).toHaveLength(20_000);
});

test('the colours a program writes are shown, and nothing else of its escape sequences', async ({ page }) => {
  await openDashboard(page);
  const res = await page.request.post('/api/v1/jobs', { data: { kind: 'external', params: { title: 'colours' } } });
  expect(res.status()).toBe(201);
  const { id, report_token: token } = await res.json();
  const esc = '\x1b';
  const lines = [
    `${esc}[31mred${esc}[0m and ${esc}[1;92mbold bright green${esc}[m plain`,
    // Not SGR: a title (OSC), a hyperlink, the screen cleared, the cursor moved, a DCS, a lone ESC.
    `a${esc}]0;stolen title\x07b${esc}]8;;https://example.com/${esc}\\c${esc}[2J${esc}[10;20Hd${esc}P1$r${esc}\\e${esc}`,
    `${esc}[44;97mon blue${esc}[49;39m ${esc}[4munderlined${esc}[24m`,
  ];
  const sent = await page.request.post(`/api/v1/jobs/${id}/report`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { log: lines.map((line, i) => ({ seq: i + 1, line })) },
  });
  expect(sent.status(), await sent.text()).toBe(200);

  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const line = (seq: number) => page.locator(`.log .log-line[data-seq="${seq}"] .log-text`);
  await expect(line(1)).toHaveText('red and bold bright green plain');
  await expect(line(1).locator('.ansi-fg-1')).toHaveText('red');
  const green = line(1).locator('.ansi-fg-10.ansi-bold');
  await expect(green).toHaveText('bold bright green');
  expect(await green.evaluate((e) => getComputedStyle(e).fontWeight)).toBe('700');
  const red = await line(1).locator('.ansi-fg-1').evaluate((e) => getComputedStyle(e).color);
  const plain = await line(1).evaluate((e) => getComputedStyle(e).color);
  expect(red).not.toBe(plain);
  await expect(line(2)).toHaveText('abcde');
  await expect(line(2).locator('span')).toHaveCount(0);
  await expect(line(3).locator('.ansi-bg-4.ansi-fg-15')).toHaveText('on blue');
  await expect(line(3).locator('.ansi-underline')).toHaveText('underlined');
  // Nothing of a sequence anywhere in the page's text, and the page keeps its own title.
  const text = await page.locator('.log').evaluate((e) => e.textContent ?? '');
  expect(text).not.toMatch(/\x1b|\[\d|\]0;|stolen|example\.com/);
  await expect(page).not.toHaveTitle(/stolen/);

  // Searching the log finds words across colours, marked in their colour.
  await page.getByLabel('Search the log').fill('green');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('.log mark')).toHaveText('green');
  await expect(page.locator('.log .ansi-fg-10 mark')).toHaveText('green');
});
