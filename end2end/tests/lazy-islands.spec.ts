import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { test, expect, expectAccessible, openDashboard, startJob, waitForStatus } from './fixtures';
import { Headway } from './headway';

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

  // The start form's parts are the New job page's own.
  loaded.length = 0;
  await page.goto('/new/import_csv');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  expect(loaded.some((f) => f.startsWith('split_start_form_island'))).toBe(true);
  expect(loaded.some((f) => f.startsWith('split_upload_field'))).toBe(true);
});

// The splitter puts the read-only data of every island in the main module when it cannot lay
// out each module's own (see `frontend/src/lib.rs`): what only lazy islands show must be in
// their parts, never in the dashboard's. (Their words come with the page, in its language: the
// markers are markup and text of their own code.)
test("the dashboard's wasm holds none of the lazy islands' texts", async ({ request }) => {
  const get = async (file: string) => {
    const res = await request.get(`/pkg/${file}`);
    expect(res.status(), file).toBe(200);
    return Buffer.from(await res.body());
  };
  const manifest: Record<string, string[]> = JSON.parse((await get('__wasm_split_manifest.json')).toString());
  const part = (island: string) => {
    const files = Object.entries(manifest).find(([name]) => name.startsWith(island))?.[1] ?? [];
    return files.map((f) => `${f}.wasm`);
  };
  const main = await get('headway.wasm');
  for (const [island, text] of [
    ['job_log', 'log-download'],
    ['token_manager', 'export HEADWAY_TOKEN='],
    ['start_form_island', '.upload[data-state=sending]'],
    // Its words are the catalog's, sent with the page; its address is its own.
    ['upload_field', '/api/v1/uploads'],
    // Not `/new/`: the dashboard's own `/new` (the `n` key) may be followed by any byte.
    ['kind_picker', 'kind-description'],
  ]) {
    expect(main.includes(text), `"${text}" in headway.wasm`).toBe(false);
    const parts = await Promise.all(part(island).map(get));
    expect(parts.some((p) => p.includes(text)), `"${text}" in the ${island} island's wasm`).toBe(true);
  }
});

// A release site (`make site`) has a brotli copy of each file (quality 11), which the server sends
// as it is to a browser that accepts it (Chromium does, over plain HTTP too); a debug site's files
// are compressed on the way out (quality 4). Either way the page hydrates from what it received. The browser keeps
// the files and asks again at every use: on the job page, the dashboard's stylesheet and script
// are answered `304 Not Modified`. (The wasm is revalidated too, but read through `fetch`, whose
// answer after a 304 is the kept copy's 200.)
test('every part of the wasm and its scripts reaches the browser compressed; the next page revalidates them', async ({ page }) => {
  const site = resolve(__dirname, '../../target/site/pkg');
  const received: { file: string; status: number; encoding: string | undefined; page: string }[] = [];
  let on = 'dashboard';
  page.on('response', (res) => {
    const path = new URL(res.url()).pathname;
    if (path.startsWith('/pkg/') && /\.(wasm|js|css)$/.test(path)) {
      received.push({
        file: path.slice('/pkg/'.length),
        status: res.status(),
        encoding: res.headers()['content-encoding'],
        page: on,
      });
    }
  });
  await openDashboard(page);
  const id = await startJob(page, 'demo', { steps: 5, interval_ms: 1 });
  await waitForStatus(page, id, 'succeeded');
  on = 'job';
  await page.goto(`/jobs/${id}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.log .log-space')).toHaveCount(1);

  const sent = received.filter((r) => r.status === 200);
  const files = sent.map((r) => r.file);
  expect(files).toEqual(expect.arrayContaining(['headway.wasm', 'headway.js', 'headway.css']));
  expect(files.some((f) => f.startsWith('split_job_log'))).toBe(true);
  const copies = sent.filter((r) => existsSync(`${site}/${r.file}.br`)).length;
  // Every file or none: a release site or a debug one.
  expect([0, sent.length]).toContain(copies);
  for (const { file, encoding } of sent) expect(encoding, file).toBe('br');
  // The stylesheet and script came whole once, then as `304 Not Modified`.
  for (const file of ['headway.js', 'headway.css']) {
    expect(received.filter((r) => r.file === file).map((r) => [r.page, r.status]), file).toEqual([
      ['dashboard', 200],
      ['job', 304],
    ]);
  }
});

// `make site` renames the JavaScript functions the wasm imports, without wasm-bindgen's random
// digits (`scripts/import-names.mjs`). Here on a copy of the site under test (the debug one in
// CI): the renamed pair still hydrates the dashboard, which starts a job and follows it live.
test("the wasm's imports renamed as `make site` does: the dashboard hydrates and follows a job", async ({ page }) => {
  const repo = resolve(__dirname, '../..');
  const importNames = (pkg: string) => readFileSync(`${pkg}/headway.js`, 'utf8').match(/__wbg_\w*?_[0-9a-f]{16}(?!\w)/g) ?? [];
  // A counter padded with zeros, where wasm-bindgen writes 16 random digits.
  const counted = (name: string) => /_0{8}[0-9a-f]{8}$/.test(name);
  if (existsSync(`${repo}/target/site/pkg/headway.wasm.br`)) {
    // A release site: `make site` has renamed them already.
    expect(importNames(`${repo}/target/site/pkg`).filter((n) => !counted(n))).toEqual([]);
  }

  const site = mkdtempSync(join(tmpdir(), 'headway-site-'));
  const server = new Headway(11, `target/e2e/import-names-${Date.now()}.db`, {}, ['--site-root', site]);
  try {
    cpSync(`${repo}/target/site`, site, { recursive: true });
    const size = statSync(`${site}/pkg/headway.wasm`).size;
    execFileSync('node', ['scripts/import-names.mjs', `${site}/pkg/headway.wasm`, `${site}/pkg/headway.js`], { cwd: repo });
    const names = importNames(`${site}/pkg`);
    expect(names.length).toBeGreaterThan(100);
    expect(names.filter((n) => !counted(n))).toEqual([]);
    expect(statSync(`${site}/pkg/headway.wasm`).size).toBe(size);
    // A debug site's copies are none; a release site's brotli copy is the renamed file.
    for (const file of ['headway.wasm', 'headway.js']) {
      const br = `${site}/pkg/${file}.br`;
      if (existsSync(br)) expect(brotliDecompressSync(readFileSync(br)).equals(readFileSync(`${site}/pkg/${file}`)), br).toBe(true);
    }

    await server.start();
    await page.goto(server.url);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
    await page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'demo', params: { steps: 5, interval_ms: 100 } } });
    const row = page.locator('.job-list article.job').first();
    await expect(row.locator('.status-word')).toHaveText('succeeded', { timeout: 20_000 });
    await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '5');
    await expectAccessible(page);
  } finally {
    // Away from the page first, so that it does not try to reconnect to the stopped server.
    await page.goto('about:blank');
    await server.stop();
    rmSync(site, { recursive: true, force: true });
  }
});
