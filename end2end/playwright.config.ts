import { defineConfig } from '@playwright/test';

// Runs against the build named by HEADWAY_BIN (relative to the repository root; the debug build
// by default, see the Makefile), started fresh on its own SQLite file, in Debian's Chromium.
const bin = process.env.HEADWAY_BIN ?? 'target/debug/headway';
const port = Number(process.env.HEADWAY_E2E_PORT ?? 3900);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  // Every page is tested twice over: with JavaScript (live updates), and without it (plain
  // server-rendered pages and form posts); `*.nojs.spec.ts` are the tests of the second kind.
  projects: [
    { name: 'js', testIgnore: /\.nojs\.spec\.ts$/ },
    { name: 'nojs', testMatch: /\.nojs\.spec\.ts$/, use: { javaScriptEnabled: false } },
  ],
  webServer: {
    cwd: '..',
    command:
      `rm -rf target/e2e && mkdir -p target/e2e && ` +
      `./${bin} --addr 127.0.0.1:${port} --database-url sqlite://target/e2e/headway.db ` +
      `--stall-secs 3 --build-id e2e`,
    url: `${baseURL}/api/v1/kinds`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
