import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Ports of a worker's own servers: `slot` 1 to 19 of the worker's range. */
function portOf(slot: number): number {
  if (!Number.isInteger(slot) || slot < 1 || slot > 19) throw new Error(`no server slot ${slot}`);
  // Past the main server's port (HEADWAY_E2E_PORT), 20 per worker: two workers, or two repeats of
  // one test side by side, never share a port.
  const base = Number(process.env.HEADWAY_E2E_PORT ?? 3900);
  const worker = Number(process.env.TEST_PARALLEL_INDEX ?? 0);
  return base + 20 * (worker + 1) + slot;
}

/**
 * A Headway process of a test's own (the build in HEADWAY_BIN), for tests that stop and restart
 * it: on port `slot` of the worker's range (the same port at every start, so that an open page
 * reconnects to it); `db` is a SQLite file (relative to the repository) or a PostgreSQL URL;
 * `args` are added.
 */
export class Headway {
  private child?: ChildProcess;
  readonly port: number;
  constructor(
    slot: number,
    readonly db: string,
    readonly env: Record<string, string> = {},
    readonly args: string[] = [],
  ) {
    this.port = portOf(slot);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The file store of the database: next to a SQLite file; one per PostgreSQL database, which
   * every process on it shares. */
  get fileStore() {
    if (!this.db.startsWith('postgres')) return `${this.db}.store`;
    return `target/e2e/store-${this.db.replace(/[^A-Za-z0-9]+/g, '-')}`;
  }

  async start() {
    this.child = spawn(
      `./${process.env.HEADWAY_BIN ?? 'target/debug/headway'}`,
      [
        '--addr',
        `127.0.0.1:${this.port}`,
        '--database-url',
        this.db.startsWith('postgres') ? this.db : `sqlite://${this.db}`,
        ...(this.args.includes('--file-store') ? [] : ['--file-store', this.fileStore]),
        ...this.args,
      ],
      { cwd: root, stdio: 'ignore', env: { ...process.env, ...this.env } },
    );
    const child = this.child;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      // A process that could not start (its port taken, say) must not pass for one that did.
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`headway on port ${this.port} exited (${child.exitCode ?? child.signalCode}) before it answered`);
      }
      try {
        if ((await fetch(`${this.url}/healthz`)).ok && child.exitCode === null) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`headway on port ${this.port} did not start`);
  }

  /** SIGKILL: the process gets no chance to hand anything over. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, and wait for the process to exit. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
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

/**
 * A throwaway PostgreSQL cluster (Debian's `pg_virtualenv`, in a temporary directory on a free
 * port), removed when `stop` closes the pipe its command waits on.
 */
export class Postgres {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<Postgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'headway-e2e-pg-'));
    const file = path.join(dir, 'connection');
    const child = spawn(
      'pg_virtualenv',
      [
        '-t',
        'sh',
        '-c',
        'printf "%s\\n%s\\n%s\\n%s\\n" "$PGHOST" "$PGPORT" "$PGUSER" "$PGPASSWORD" > "$1.tmp" && mv "$1.tmp" "$1"; exec cat > /dev/null',
        'sh',
        file,
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(file)) {
      if (child.exitCode !== null) throw new Error(`pg_virtualenv stopped (${child.exitCode})`);
      if (Date.now() > deadline) throw new Error('PostgreSQL did not start within 120 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [host, port, user, password] = fs.readFileSync(file, 'utf8').split('\n');
    fs.rmSync(dir, { recursive: true, force: true });
    const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/postgres`;
    return new Postgres(url, child);
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin?.end();
    await exited;
  }
}

/** Adds an account with `headway users add` on the database `db` (a SQLite file). */
export function addUser(db: string, name: string, role: string, password: string) {
  const bin = process.env.HEADWAY_BIN ?? 'target/debug/headway';
  execFileSync(
    `./${bin}`,
    ['users', 'add', name, '--role', role, '--password-stdin', '--database-url', `sqlite://${db}`],
    { cwd: root, encoding: 'utf8', input: `${password}\n` },
  );
}

/**
 * `headway worker` against `server` (a test's own Headway), with a worker token the operator
 * makes for it, running the commands file `commands` and offering `tags`; stopped with
 * `stop()`.
 */
export class Worker {
  private child?: ChildProcess;
  constructor(
    readonly server: Headway,
    readonly name: string,
    readonly commands: string,
    readonly tags: string[] = [],
  ) {}

  start() {
    const bin = process.env.HEADWAY_BIN ?? 'target/debug/headway';
    // The operator token is read next to the server's database by the command line.
    const made = execFileSync(
      `./${bin}`,
      ['--addr', `127.0.0.1:${this.server.port}`, '--database-url', `sqlite://${this.server.db}`, 'workers', 'token', this.name],
      { cwd: root, encoding: 'utf8' },
    );
    const token = made.match(/HEADWAY_WORKER_TOKEN=(hwk_\S+)/)?.[1];
    if (!token) throw new Error(`no worker token was made: ${made}`);
    this.child = spawn(
      `./${bin}`,
      [
        '--server', this.server.url, 'worker', '--name', this.name, '--commands', this.commands,
        '--max-running', '2', '--grace-secs', '1',
        ...(this.tags.length ? ['--tags', this.tags.join(',')] : []),
      ],
      { cwd: root, stdio: 'ignore', env: { ...process.env, HEADWAY_WORKER_TOKEN: token } },
    );
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/** A commands file in a new temporary folder, with each script of `scripts` beside it (its
 * `SCRIPTS` stands for that folder); its path. */
export function commandsFile(toml: string, scripts: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'headway-worker-'));
  for (const [name, body] of Object.entries(scripts)) {
    fs.writeFileSync(path.join(dir, name), body, { mode: 0o755 });
  }
  const file = path.join(dir, 'commands.toml');
  fs.writeFileSync(file, toml.replaceAll('SCRIPTS', dir));
  return file;
}
