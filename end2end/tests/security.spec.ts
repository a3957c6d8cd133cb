import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, openDashboard, startJob } from './fixtures';

// The policy every page runs under: scripts from the site itself and the page's one loader with
// its nonce, nothing inline besides; no other site may frame a page.

test('the dashboard hydrates and runs under its Content-Security-Policy', async ({ page }) => {
  const response = await page.goto('/');
  const policy = response!.headers()['content-security-policy'];
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(response!.headers()['x-frame-options']).toBe('DENY');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // Live updates arrive through the stream the policy allows; a refusal would fail the test.
  const id = await startJob(page, 'demo', { steps: 3, interval_ms: 50 });
  await expect(page.locator(`article.job[data-job-id="${id}"] .status-word`)).toHaveText('succeeded');
});

test.describe('refusals', () => {
  // The browser reports each refusal on the console, as it should: these tests cause them.
  test.use({ allowConsole: /Content Security Policy|CSP violation|frame-ancestors|Refused to (frame|display)/ });

  test('script slipped into a page does not run', async ({ page }) => {
    await openDashboard(page);
    const refused = page.waitForEvent('console', (m) => m.text().startsWith('CSP violation: script-src'));
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = true;';
      document.body.appendChild(s);
      return (window as unknown as { __inline?: boolean }).__inline === true;
    });
    await refused;
    expect(ran).toBe(false);
  });

  test('another site cannot frame a page, so no click is made through it', async ({ page, baseURL }) => {
    await openDashboard(page);
    // A page of another site (another host and port on this machine), framing the bulk
    // confirmation.
    const framer = createServer((req, res) => {
      if (req.url !== '/') return void res.writeHead(204).end();
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!DOCTYPE html><html lang="en"><title>Another site</title>` +
          `<iframe title="framed" src="${baseURL}/bulk?all=true"></iframe></html>`,
      );
    });
    await new Promise<void>((done) => framer.listen(0, '127.0.0.1', done));
    const { port } = framer.address() as AddressInfo;
    try {
      const refused = page.waitForEvent('console', (m) => /frame-ancestors/.test(m.text()));
      await page.goto(`http://localhost:${port}/`);
      await refused;
      // The frame shows the browser's refusal, not the page: it has nothing to click.
      await expect(page.frameLocator('iframe').getByRole('button')).toHaveCount(0);
      await page.goto('about:blank');
    } finally {
      framer.close();
    }
  });
});
