import fs from 'node:fs';
import path from 'node:path';
import { test, expect, expectAccessible } from './fixtures';
import { Headway, Worker, addUser, commandsFile } from './headway';

// A worker on another machine (here, this one), with JavaScript: its command is a kind of the
// server, started from its form, its bar live from the worker's reports; the worker is listed
// on /system, and an operator drains it there.

const PASSWORD = 'correct horse battery';
const db = `target/e2e/workers-${Date.now()}.db`;
const server = new Headway(19, db, {}, ['--auth', 'accounts']);
const commands = commandsFile(
  `[[command]]
name = "render"
title = "Render frames"
program = "SCRIPTS/render.sh"
args = ["{frames}"]
requires = ["gpu"]

[command.params.frames]
type = "integer"
title = "Frames"
min = 1
max = 1000
default = 40

[[command]]
name = "train"
title = "Train a model"
program = "SCRIPTS/render.sh"
args = ["1"]
requires = ["tpu"]
`,
  {
    // Past frame 30 it waits for the test to have seen its bar move (a file `go` beside it),
    // so that a busy machine cannot finish the job before its page shows it running.
    'render.sh':
      '#!/bin/sh\necho "total $1 frames" >&3\ni=1\nwhile [ $i -le $1 ]; do\n' +
      '  [ $i -eq 31 ] && while [ ! -e "$(dirname "$0")/go" ]; do sleep 0.05; done\n' +
      '  echo "frame $i"; echo "progress $i" >&3; sleep 0.05; i=$((i+1))\ndone\n',
  },
);
const worker = new Worker(server, 'gpu-box', commands, ['gpu']);

test.beforeAll(async () => {
  addUser(db, 'otto', 'operator', PASSWORD);
  await server.start();
  worker.start();
});
test.afterAll(async () => {
  await worker.stop();
  await server.stop();
});

test("a worker's kind starts from its form, its bar moves live, and /system lists and drains it", async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.account-who strong')).toHaveText('otto');

  // Its kind is the server's once it registered.
  await expect
    .poll(async () => (await page.request.get(`${server.url}/api/v1/kinds`)).text(), { timeout: 30_000 })
    .toContain('"render"');
  await page.goto(`${server.url}/new/render`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.kind-where')).toHaveText(
    'Runs on a worker on another machine that offers gpu (headway worker); it waits while none is connected.',
  );
  const form = page.locator('form#start-render');
  await form.getByLabel('Frames').fill('60');
  await form.getByRole('button', { name: /start/i }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const bar = page.locator('article.job').first().getByRole('progressbar');
  // Moves while it runs on the worker, without a reload, then ends.
  await expect(bar).toHaveAttribute('aria-valuetext', /^[1-5]?\d of 60 frames/);
  fs.writeFileSync(path.join(path.dirname(commands), 'go'), '');
  await expect(page.locator('.status-word').first()).toHaveText('succeeded', { timeout: 30_000 });
  await expect(bar).toHaveAttribute('aria-valuenow', '60');
  // Where it ran: the worker, by its name. Who started it: otto.
  await page.reload();
  await expect(page.locator('dd.job-ran-on')).toHaveText(/^worker gpu-box on /);
  await expect(page.locator('dd.job-started-by')).toHaveText('otto');

  await page.goto(`${server.url}/system`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByRole('heading', { name: 'Workers on other machines: 1' })).toBeVisible();
  // An operator sees the worker once, in the workers' table, not again among the processes.
  await expect(page.getByRole('heading', { name: 'Processes alive: 1' })).toBeVisible();
  await expect(page.locator('tr[data-process]')).toHaveCount(1);
  await expect(page.locator('tr[data-process]')).toContainText('web and jobs');
  const row = page.locator('tr[data-worker="gpu-box"]');
  await expect(row).toContainText('gpu');
  await expect(row).toContainText('render');
  await expect(row).toHaveAttribute('data-state', 'active');
  await expectAccessible(page);
  await row.getByRole('button', { name: /^Drain gpu-box/ }).click();
  await expect(row).toHaveAttribute('data-state', 'draining');
  await expect(row).toContainText('draining: takes no more');
  await row.getByRole('button', { name: /^Enable gpu-box/ }).click();
  await expect(row).toHaveAttribute('data-state', 'active');
});

test('a job whose tags no connected worker offers says so in its row, live', async ({ page }) => {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('User name').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect
    .poll(async () => (await page.request.get(`${server.url}/api/v1/kinds`)).text(), { timeout: 30_000 })
    .toContain('"train"');
  // Started while the page is open: its row comes in over the stream, saying what it waits for.
  const started = await page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'train', params: {} } });
  expect(started.status()).toBe(201);
  const id = (await started.json()).id;
  const row = page.locator(`.job-list article.job[data-job-id="${id}"]`);
  await expect(row.locator('.status-word')).toHaveText('queued');
  await expect(row.locator('.job-queue')).toHaveText('waiting for a worker with tpu; none connected');
  await expectAccessible(page);
  expect((await page.request.post(`${server.url}/api/v1/jobs/${id}/cancel`)).status()).toBe(200);
});
