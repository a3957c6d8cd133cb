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
  // Inline script is refused: the policy holds in the browser, not only in the header.
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = true;';
    document.body.appendChild(s);
    return (window as unknown as { __inline?: boolean }).__inline === true;
  });
  expect(ran).toBe(false);
});

test.describe('framing', () => {
  // The browser reports the refused frame on the console, as it should.
  test.use({ allowConsole: /frame-ancestors|Refused to (frame|display)|inline code/ });

  test('another site cannot frame a page, so no click is made through it', async ({ page, baseURL }) => {
    await openDashboard(page);
    const framed: string[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${baseURL}/bulk`)) framed.push(r.headers()['content-security-policy'] ?? '');
    });
    await page.goto('about:blank');
    await page.setContent(`<iframe title="framed" src="${baseURL}/bulk?all=true"></iframe>`);
    await expect.poll(() => framed.length).toBeGreaterThan(0);
    expect(framed[0]).toContain("frame-ancestors 'none'");
    // The frame shows the browser's refusal, not the page: it has no buttons to click.
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    await expect.poll(() => frame.url()).not.toContain('/bulk');
    await expect(page.frameLocator('iframe').getByRole('button')).toHaveCount(0);
  });
});
