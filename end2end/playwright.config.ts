import { defineConfig } from '@playwright/test';

// Runs against the build named by HEADWAY_BIN (relative to the repository root; the debug build
// by default, see the Makefile), started fresh on its own SQLite file, in Debian's Chromium.
const bin = process.env.HEADWAY_BIN ?? 'target/debug/headway';
const port = Number(process.env.HEADWAY_E2E_PORT ?? 3900);
const baseURL = `http://127.0.0.1:${port}`;
// `limits` holds demo jobs back and keeps long ones running: it runs after the others.
const alone = /\/(tabs|big-log|system|notice|limits(\.nojs)?)\.spec\.ts$/;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // Two workers run the spec files side by side; the tests in `alone` then run one at a time.
  fullyParallel: false,
  workers: 2,
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
  // `alone` holds the tests that must not share the machine or the server with another test:
  // those that time the page (tab takeover, the big log's longest task), count what every user
  // sees (the system page), or show a notice to every page. They run after the others, one at a
  // time; a failure among the others skips them (`npx playwright test --project alone --no-deps`
  // runs them on their own).
  projects: [
    { name: 'js', testIgnore: [/\.nojs\.spec\.ts$/, alone] },
    { name: 'nojs', testMatch: /\.nojs\.spec\.ts$/, testIgnore: alone, use: { javaScriptEnabled: false } },
    { name: 'alone', testMatch: alone, workers: 1, dependencies: ['js', 'nojs'] },
  ],
  webServer: {
    cwd: '..',
    command:
      `rm -rf target/e2e && mkdir -p target/e2e && ` +
      `./${bin} --addr 127.0.0.1:${port} --database-url sqlite://target/e2e/headway.db ` +
      `--file-store target/e2e/store --data-root target/e2e/files --stall-secs 3 --build-id e2e ` +
      // The webhooks' tests receive deliveries on loopback; the schedules' fire every second.
      `--webhook-allow-private --min-schedule-interval-secs 1`,
    url: `${baseURL}/api/v1/kinds`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
