import fs from 'node:fs';
import path from 'node:path';
import { test, expect, expectAccessible } from './fixtures';
import { Headway, Postgres } from './headway';

// Several processes on one PostgreSQL database: a page served by one process follows, live, a
// job that another process runs, and keeps following when that process dies and a third one
// takes the job over.

const root = path.resolve(__dirname, '..', '..');

test('a page on one process follows a job run by another, through that process being killed', async ({ page }) => {
  test.setTimeout(180_000);
  const pg = await Postgres.start();
  const files = path.join(root, `target/e2e/cluster-${Date.now()}`);
  // 120 files of 512 KiB for a checksum job: long enough to be killed halfway on the debug build,
  // and resumable. The release build hashes them in a blink, so it gets one more, hashed last: a
  // sparse file of 1 GiB (seconds of hashing).
  for (let i = 0; i < 120; i++) {
    const dir = path.join(files, 'tree', `d${i % 4}`);
    fs.mkdirSync(dir, { recursive: true });
    const bytes = Buffer.alloc(512 * 1024, i);
    fs.writeFileSync(path.join(dir, `f${String(i).padStart(3, '0')}.bin`), bytes);
  }
  const release = (process.env.HEADWAY_BIN ?? '').includes('release');
  if (release) {
    const large = path.join(files, 'tree', 'd9-large.bin');
    fs.writeFileSync(large, '');
    fs.truncateSync(large, 1 << 30);
  }
  const total = release ? 121 : 120;
  const env = { HEADWAY_ADMIN_TOKEN: 'e2e-operator', HEADWAY_LEASE_SECS: '2', HEADWAY_DATA_ROOT: files };
  // The page's process serves and runs nothing; the job is started through the API of another.
  const web = new Headway(4, pg.url, env, ['--role', 'web']);
  const runner = new Headway(5, pg.url, env);
  const heir = new Headway(6, pg.url, env, ['--role', 'worker']);
  try {
    await web.start();
    await runner.start();
    await page.goto(web.url);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

    // Cookies are per host, not per port: the API call carries the page's session.
    const res = await page.request.post(`${runner.url}/api/v1/jobs`, { data: { kind: 'checksum', params: { dir: 'tree' } } });
    expect(res.status()).toBe(201);
    const id = (await res.json()).id as string;
    const row = page.locator(`article.job[data-job-id="${id}"]`);
    const bar = row.getByRole('progressbar');
    await expect(row.locator('.status-word')).toHaveText('running');
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
    // The runner has committed a file's line and its checkpoint past it.
    const manifestLines = async () => {
      const log = await (await page.request.get(`${web.url}/api/v1/jobs/${id}/log?limit=10000`)).json();
      return log.lines.filter((l: { line: string }) => l.line.includes('  d'));
    };
    await expect.poll(async () => (await manifestLines()).length, { timeout: 30_000 }).toBeGreaterThan(0);
    const before = Number(await bar.getAttribute('aria-valuenow'));

    // The runner dies mid-job; the worker starts only then, so that the job was the runner's.
    await runner.kill();
    await heir.start();

    // Taken over after the lease (2 s here), queued again from its checkpoint, claimed by the
    // worker: the page, which never reloaded, sees it through to the end.
    await expect(row.locator('.status-word')).toHaveText('succeeded', { timeout: 60_000 });
    await expect(bar).toHaveAttribute('aria-valuenow', await bar.getAttribute('aria-valuemax') ?? '100');
    expect(before).toBeLessThan(Number(await bar.getAttribute('aria-valuemax')));
    const job = await (await page.request.get(`${web.url}/api/v1/jobs/${id}`)).json();
    expect(job.status).toBe('succeeded');
    expect(await manifestLines()).toHaveLength(total);
    // Taken over halfway: the worker went on after the runner's last checkpoint.
    const log = await (await page.request.get(`${web.url}/api/v1/jobs/${id}/log?limit=10000`)).json();
    const resumed = new RegExp(`^resuming after [1-9]\\d* of ${total} files$`);
    expect(log.lines.filter((l: { line: string }) => resumed.test(l.line))).toHaveLength(1);
    await expectAccessible(page);
  } finally {
    // Away from the page first, so that it does not try to reconnect to stopped processes.
    await page.goto('about:blank');
    await runner.kill();
    await heir.stop();
    await web.stop();
    await pg.stop();
    fs.rmSync(files, { recursive: true, force: true });
  }
});
