import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** A Headway process of a test's own (the build in HEADWAY_BIN), for tests that stop and restart it. */
export class Headway {
  private child?: ChildProcess;
  constructor(
    readonly port: number,
    readonly db: string,
    readonly env: Record<string, string> = {},
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.child = spawn(
      `./${process.env.HEADWAY_BIN ?? 'target/debug/headway'}`,
      ['--addr', `127.0.0.1:${this.port}`, '--database-url', `sqlite://${this.db}`],
      { cwd: root, stdio: 'ignore', env: { ...process.env, ...this.env } },
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/api/v1/kinds`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`headway on port ${this.port} did not start`);
  }

  /** SIGTERM, and wait for the process to exit. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** Runs `headway notice ...` against the server the Playwright config starts. */
export function notice(args: string[]): string {
  const port = process.env.HEADWAY_E2E_PORT ?? '3900';
  const bin = process.env.HEADWAY_BIN ?? 'target/debug/headway';
  return execFileSync(
    `./${bin}`,
    ['--addr', `127.0.0.1:${port}`, '--database-url', 'sqlite://target/e2e/headway.db', 'notice', ...args],
    { cwd: root, encoding: 'utf8' },
  );
}
