#!/usr/bin/env python3
"""Replays the probes of docs/SECURITY.md against a `headway` binary and prints what got through.

    scripts/probes.py target/debug/headway

Each probe starts the binary on a loopback port of its own, in a temporary folder, does what the
probe did from outside (Python's standard library only, no credentials unless the probe had
them), prints one line with its figure, and stops the server. It measures any build, old or
new, the same way: `server/tests/it/probes.rs` holds the same probes as tests that must pass.
"""

import http.client
import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/headway")
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A headway process on its own port and folder."""

    def __init__(self, *args, users=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="probe-")
        self.port = free_port()
        self.db = os.path.join(self.dir, "data", "headway.db")
        database = ["--database-url", f"sqlite://{self.db}"]
        for name, role in users:
            subprocess.run([BIN, "users", "add", name, "--role", role, "--password-stdin", *database],
                           input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        self.proc = subprocess.Popen([BIN, "--addr", f"127.0.0.1:{self.port}", *database,
                                      "--data-root", os.path.join(self.dir, "files"),
                                      "--file-store", os.path.join(self.dir, "store"), *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, **(env or {})})
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def request(self, method, path, body=None, headers=None, cookie=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if cookie:
            h["Cookie"] = cookie
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def session(self):
        """A fresh browser's cookie."""
        _, h, _ = self.request("GET", "/api/v1/kinds")
        return h["set-cookie"].split(";")[0]

    def sign_in(self, name):
        _, h, _ = self.request("POST", "/api/v1/session", {"username": name, "password": PASSWORD})
        return h["set-cookie"].split(";")[0]

    def admin_token(self):
        return open(os.path.join(self.dir, "data", "admin.token")).read().strip()

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def demo(s, cookie, steps, interval=20):
    return s.request("POST", "/api/v1/jobs", {"kind": "demo", "params": {"steps": steps, "interval_ms": interval}},
                     cookie=cookie)


def job(s, cookie, id):
    return json.loads(s.request("GET", f"/api/v1/jobs/{id}", cookie=cookie)[2])


def report(name, figure):
    print(f"{name}: {figure}", flush=True)


def probe_sign_in_memory():
    s = Server("--auth", "accounts", "--trusted-proxy", "127.0.0.1")
    s.request("POST", "/api/v1/session", {"username": "nobody", "password": "x"})
    before = s.rss_kib()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], s.rss_kib())
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()

    def attempt(i):
        return s.request("POST", "/api/v1/session", {"username": f"nobody{i}", "password": "wrong"},
                         headers={"X-Forwarded-For": f"10.1.{i // 250}.{i % 250 + 1}"}, timeout=300)[0]

    with ThreadPoolExecutor(200) as pool:
        statuses = list(pool.map(attempt, range(200)))
    done.set()
    t.join()
    s.stop()
    report("200 sign-ins at once", f"RSS +{(peak[0] - before) // 1024} MiB at most "
           f"(from {before // 1024} MiB); answers {sorted(set(statuses))}")


def probe_sign_in_race():
    s = Server("--auth", "accounts", users=[("ada", "member")])

    def attempt(i):
        return s.request("POST", "/api/v1/session", {"username": "ada", "password": PASSWORD if i == 59 else "wrong"})[0]

    with ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(attempt, range(60)))
    s.stop()
    report("60 sign-ins at once for one name",
           f"{sum(1 for x in statuses if x != 429)} passwords checked, right one {'signed in' if 200 in statuses else 'refused'}")


def probe_rebinding():
    s = Server()
    evil = f"rebind.evil.example:{s.port}"
    status = s.request("POST", "/api/v1/jobs", {"kind": "demo", "params": {"steps": 1, "interval_ms": 1}},
                       headers={"Host": evil, "Origin": f"http://{evil}"})[0]
    s.stop()
    report("POST /api/v1/jobs with Host and Origin rebind.evil.example", status)


def series(s):
    text = s.request("GET", "/metrics")[2].decode()
    return {l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")}


def probe_metric_labels():
    s = Server()
    # The series one made-up method adds are there once it has been seen, with a scrape's own.
    for path in ["/api/v1/jobs", "/nowhere", "/metrics"]:
        s.request("WARMUP", path)
    series(s)
    before = series(s)
    for i in range(300):
        s.request(f"PROBE{i}", ["/api/v1/jobs", "/nowhere", "/metrics"][i % 3])
    after = series(s)
    size = len(s.request("GET", "/metrics")[2])
    s.stop()
    report("300 requests with made-up methods", f"{len(before)} series before, {len(after)} after ({size} bytes)")


def probe_metrics_behind_proxy():
    s = Server("--trusted-proxy", "127.0.0.1")
    status = s.request("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})[0]
    s.stop()
    report("/metrics for a remote client relayed by a trusted proxy", status)


def probe_redirect():
    s = Server("--auth", "accounts", users=[("ada", "member")])
    out = []
    for nxt in ["/%09/evil.example", "/%0A/x"]:
        body = f"username=ada&password={urllib.parse.quote_plus(PASSWORD)}&next={nxt}"
        st, h, _ = s.request("POST", "/signin", body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        out.append(f"next={nxt}: {st} {h.get('location', '')!r}")
    s.stop()
    report("sign-in redirects", "; ".join(out))


def probe_slow_bodies():
    s = Server("--max-connections", "200")
    slow = []
    for _ in range(200):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(f"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: 1000\r\n\r\n{{".encode())
        slow.append(c)
    for _ in range(4):
        for c in slow:
            try:
                c.sendall(b" ")
            except OSError:
                pass
        time.sleep(0.5)
    answered = 0
    for _ in range(20):
        try:
            answered += s.request("GET", "/api/v1/kinds", timeout=10)[0] == 200
        except OSError:
            pass
    for c in slow:
        c.close()
    s.stop()
    report("200 slow bodies on --max-connections 200", f"{answered} of 20 ordinary requests answered")


def probe_demotion():
    s = Server("--auth", "accounts", users=[("otto", "operator"), ("mia", "member")])
    otto, mia = s.sign_in("otto"), s.sign_in("mia")
    demo(s, mia, 100000, 50)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    c.request("GET", "/api/v1/events", headers={"Host": f"127.0.0.1:{s.port}", "Cookie": otto})
    stream = c.getresponse()
    st = s.request("PATCH", "/api/v1/users/otto", {"role": "member"},
                   headers={"Authorization": f"Bearer {s.admin_token()}"})[0]
    events = [0]
    ended = threading.Event()

    def read():
        try:
            while True:
                line = stream.fp.readline()
                # The connection stays open after a response: a stream ends with its last chunk.
                if not line or line == b"0\r\n":
                    break
                if line.startswith(b"event: progress"):
                    events[0] += 1
        except OSError:
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    closed = ended.wait(12)
    carried = events[0]
    s.stop()
    report("an operator's stream after demotion to member (PATCH " + str(st) + ")",
           f"{'ended' if closed else 'still open after 12 s'}; carried {carried} of mia's progress events")


def probe_queue_flood():
    s = Server()
    cookie = s.session()
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: demo(s, cookie, 100000)[0], range(3000)))
    s.stop()
    report("3,000 jobs started by one session", f"{statuses.count(201)} stored, {statuses.count(429)} refused (429)")


def probe_streams():
    s = Server()
    cookie = s.session()
    held, ok = [], 0
    for _ in range(2000):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.request("GET", "/api/v1/events", headers={"Host": f"127.0.0.1:{s.port}", "Cookie": cookie})
        r = c.getresponse()
        ok += r.status == 200
        held.append(c)
    other = s.request("GET", "/api/v1/kinds")[0]
    for c in held:
        c.close()
    s.stop()
    report("2,000 streams by one session", f"{ok} opened; another client's request: {other}")


def probe_fairness():
    s = Server("--max-running", "2")
    ann, bob = s.session(), s.session()
    long = [json.loads(demo(s, ann, 100000)[2])["id"] for _ in range(2)]
    short = [json.loads(demo(s, ann, 1, 1)[2])["id"] for _ in range(30)]
    bobs = json.loads(demo(s, bob, 1, 1)[2])["id"]
    position = job(s, bob, bobs).get("queue_position")
    s.request("POST", f"/api/v1/jobs/{long[0]}/cancel", cookie=ann)
    deadline = time.time() + 120
    while job(s, bob, bobs)["status"] != "succeeded" and time.time() < deadline:
        time.sleep(0.05)
    started = job(s, bob, bobs)["started_at"]
    first = sum(1 for i in short if (job(s, ann, i).get("started_at") or 1 << 62) < started)
    s.stop()
    report("another user's job behind 30 queued of one user (2 slots)",
           f"shown {position}th in line; {first} of the 30 started before it")


def probe_long_jobs():
    s = Server()
    ann, bob = s.session(), s.session()
    for _ in range(16):
        demo(s, ann, 100000, 1000)
    bobs = json.loads(demo(s, bob, 1, 1)[2])["id"]
    deadline = time.time() + 10
    while job(s, bob, bobs)["status"] == "queued" and time.time() < deadline:
        time.sleep(0.05)
    st = job(s, bob, bobs)
    s.stop()
    report("another user's job after 16 long jobs of one user (16 slots)",
           f"{st['status']} after up to 10 s (place in line: {st.get('queue_position', '-')})")


def probe_sessions():
    s = Server()
    for _ in range(2000):
        s.request("GET", "/api/v1/kinds")
    s.stop()
    db = sqlite3.connect(s.db)
    n = db.execute("SELECT COUNT(*) FROM tower_sessions").fetchone()[0]
    report("2,000 requests without a cookie on an open server", f"{n} sessions stored")


def probe_files_at_rest():
    s = Server()
    s.request("GET", "/api/v1/kinds")
    s.stop()
    folder = os.path.dirname(s.db)
    modes = {f: oct(stat.S_IMODE(os.stat(os.path.join(folder, f)).st_mode))
             for f in sorted(os.listdir(folder))}
    modes["data/"] = oct(stat.S_IMODE(os.stat(folder).st_mode))
    report("files created next to the database", modes)


def probe_member_files():
    s = Server("--auth", "accounts", users=[("ada", "member"), ("bob", "member")])
    root = os.path.join(s.dir, "files")
    os.makedirs(os.path.join(root, "users", "ada"), exist_ok=True)
    open(os.path.join(root, "users", "ada", "orders.csv"), "w").write("id,name\n1,a\n")
    open(os.path.join(root, "top-secret.txt"), "w").write("secret")
    bob = s.sign_in("bob")
    st, _, body = s.request("POST", "/api/v1/jobs", {"kind": "checksum", "params": {"dir": "."}}, cookie=bob)
    id = json.loads(body)["id"]
    deadline = time.time() + 60
    while job(s, bob, id)["status"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.05)
    lines = json.loads(s.request("GET", f"/api/v1/jobs/{id}/log", cookie=bob)[2])["lines"]
    seen = [l["line"].split("  ", 1)[1] for l in lines if "  " in l["line"] and len(l["line"]) > 66]
    s.stop()
    report("a member's checksum of the data folder", f"hashed {seen}")


def probe_headers():
    s = Server()
    _, h, _ = s.request("GET", "/")
    s.stop()
    report("headers of a page", {k: h.get(k, "-")[:60] for k in
                                 ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"]})


def external_job(s, cookie):
    """An external job of the session's user, and its report token."""
    _, _, body = s.request("POST", "/api/v1/jobs", {"kind": "external", "params": {"title": "probe", "lease_secs": 600}},
                           cookie=cookie)
    j = json.loads(body)
    return j["id"], j["report_token"]


def data_mib(s):
    total = 0
    for root, _, files in os.walk(s.dir):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total / 2**20


def probe_report_flood():
    """One member's report token sends reports of 32 lines of 65,000 bytes for 10 s."""
    s = Server()
    cookie = s.session()
    id, token = external_job(s, cookie)
    before = data_mib(s)
    line = "x" * 65000
    seq, answers = 1, {}
    deadline = time.time() + 10
    while time.time() < deadline:
        log = [{"seq": seq + i, "line": line} for i in range(32)]
        status, _, _ = s.request("POST", f"/api/v1/jobs/{id}/report", {"log": log},
                                 headers={"Authorization": f"Bearer {token}"})
        answers[status] = answers.get(status, 0) + 1
        if status == 200:
            seq += 32
    grown = data_mib(s) - before
    s.stop()
    report("reports of 32 lines x 65,000 bytes for 10 s", f"answers {answers}, data folder +{grown:.0f} MiB")


def probe_log_memory():
    """A job's log of 2,000 lines of 64 KiB (the write bounds raised, where a build has them),
    then three log.txt downloads and ten job pages at once: the server's peak RSS."""
    s = Server(env={"HEADWAY_MAX_LOG_LINE_BYTES": str(1 << 20), "HEADWAY_MAX_JOB_LOG_BYTES": str(1 << 40),
                    "HEADWAY_REPORT_BYTES_PER_SEC": str(1 << 40)})
    cookie = s.session()
    id, token = external_job(s, cookie)
    line = "y" * 65536
    for seq in range(1, 2001, 25):
        log = [{"seq": seq + i, "line": line} for i in range(25)]
        s.request("POST", f"/api/v1/jobs/{id}/report", {"log": log}, headers={"Authorization": f"Bearer {token}"})
    rest = s.rss_kib()
    peak, done = [rest], threading.Event()

    def sample():
        while not done.is_set():
            peak.append(s.rss_kib())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    sizes = {}
    with ThreadPoolExecutor(13) as pool:
        txt = [pool.submit(s.request, "GET", f"/api/v1/jobs/{id}/log.txt", cookie=cookie, timeout=300) for _ in range(3)]
        pages = [pool.submit(s.request, "GET", f"/jobs/{id}", cookie=cookie, timeout=300) for _ in range(10)]
        sizes["log.txt"] = max(len(f.result()[2]) for f in txt)
        sizes["page"] = max(len(f.result()[2]) for f in pages)
    _, _, api = s.request("GET", f"/api/v1/jobs/{id}/log?after=0&limit=10000", cookie=cookie)
    done.set()
    sampler.join()
    s.stop()
    report("3 log.txt downloads and 10 job pages of 2,000 lines of 64 KiB",
           f"RSS {rest // 1024} -> peak {max(peak) // 1024} MiB; a page {sizes['page'] / 1e6:.1f} MB, "
           f"GET .../log {len(api) / 1e6:.1f} MB, log.txt {sizes['log.txt'] / 1e6:.1f} MB")


def probe_upload_count():
    """3,000 one-byte uploads by one session: the time of an upload at the start and at the end,
    and the listing's size."""
    s = Server()
    cookie = s.session()
    times, refused = [], 0
    for i in range(3000):
        t = time.time()
        status, _, _ = s.request("POST", "/api/v1/uploads", b"x",
                                 headers={"X-File-Name": f"f{i}.txt", "Content-Type": "text/plain"}, cookie=cookie)
        times.append(time.time() - t)
        refused += status != 201
    _, _, listing = s.request("GET", "/api/v1/uploads", cookie=cookie)
    s.stop()
    first, thousandth, last = (sorted(times[:100])[50], sorted(times[900:1000])[50],
                               sorted(times[-100:])[50])
    report("3,000 one-byte uploads by one session",
           f"{3000 - refused} stored, {refused} refused; median upload {first * 1000:.1f} ms of the first 100, "
           f"{thousandth * 1000:.1f} ms of the 10th hundred, {last * 1000:.1f} ms of the last 100; "
           f"the listing {len(listing) / 1e3:.0f} KB")


class Watch:
    """Another member's page loads, `n` at once in rounds, while a flood runs: the slowest load."""

    def __init__(self, s, cookie, path="/", n=10):
        self.s, self.cookie, self.path, self.n = s, cookie, path, n
        self.slowest, self.loads = 0.0, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def load(self, _):
        t = time.time()
        status = self.s.request("GET", self.path, cookie=self.cookie, headers={"Accept": "text/html"})[0]
        return time.time() - t, status

    def run(self):
        with ThreadPoolExecutor(self.n) as pool:
            while not self.stopping.is_set():
                for took, _ in pool.map(self.load, range(self.n)):
                    self.slowest = max(self.slowest, took)
                    self.loads += 1

    def stop(self):
        self.stopping.set()
        self.thread.join()
        return f"another member's slowest of {self.loads} loads of {self.path} ({self.n} at once) {self.slowest:.2f} s"


def count_jobs(s):
    with sqlite3.connect(f"file:{s.db}?mode=ro", uri=True) as db:
        return db.execute("select count(*) from jobs").fetchone()[0]


def probe_posted_runs():
    """30 posted runs by one member, each fanning a `demo` step out to 10,000 items, for 60 s at
    most, while another member loads the dashboard."""
    s = Server()
    ann, bob = s.session(), s.session()
    watch = Watch(s, bob)
    run = {"kind": "workflow", "params": {"workflow": {
        "name": "fan", "params": {"n": {"type": "integer", "max": 10000}},
        "steps": [{"name": "items", "kind": "demo", "each": "{n}",
                   "params": {"steps": 1000, "interval_ms": 1000}}]}, "params": {"n": 10000}}}
    statuses = []
    deadline = time.time() + 60
    for _ in range(30):
        if time.time() > deadline:
            break
        statuses.append(s.request("POST", "/api/v1/jobs", run, cookie=ann)[0])
    time.sleep(5)  # the expansions made after the starts' answers
    waited = watch.stop()
    jobs = count_jobs(s)
    s.stop()
    report("30 posted runs fanning out to 10,000 items each",
           f"{statuses.count(201)} started, {len(statuses) - statuses.count(201)} refused; {jobs:,} jobs stored; {waited}")


def probe_worker_registrations():
    """One worker token registers 78 workers of 700 commands each, then 78 of 100; another
    member meanwhile loads the start page, then lists the kinds."""
    s = Server()
    admin = {"Authorization": f"Bearer {s.admin_token()}"}
    _, _, body = s.request("POST", "/api/v1/worker-tokens", {"name": "flood"}, headers=admin)
    token = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    bob = s.session()

    def commands(n):
        return "".join(f'[[command]]\nname = "k{i}"\nprogram = "/bin/true"\n'
                       f'[command.params.text]\ntype = "string"\ndescription = "{"d" * 200}"\n\n'
                       for i in range(n))

    before = s.rss_kib()
    watch = Watch(s, bob, "/new")
    answers = []
    for n in (700, 100):
        listed = commands(n)
        statuses = [s.request("POST", "/api/v1/workers", {
            "name": f"w{i}", "host": "box.lan", "version": "probe", "pid": i,
            "max_running": 1, "commands": listed}, headers=token)[0] for i in range(78)]
        answers.append(f"{n} commands: " + ", ".join(f"{statuses.count(st)} × {st}" for st in sorted(set(statuses))))
    waited = watch.stop()
    rss = s.rss_kib()
    kinds = s.request("GET", "/api/v1/kinds", cookie=bob)[2]
    new = s.request("GET", "/new", cookie=bob, headers={"Accept": "text/html"})[2]
    s.stop()
    report("78 registrations by one worker token, of 700 commands, then of 100",
           f"{'; '.join(answers)}; RSS {before // 1024} -> {rss // 1024} MiB; another member's "
           f"/api/v1/kinds {len(kinds) / 1e6:.2f} MB, /new {len(new) / 1e6:.2f} MB; {waited}")


def probe_token_flood():
    """One session makes tokens for 20 s and loads its settings 40 at once, while another
    member loads the dashboard."""
    s = Server()
    ann, bob = s.session(), s.session()
    watch = Watch(s, bob)
    statuses = []
    deadline = time.time() + 20

    def make(_):
        out = []
        while time.time() < deadline:
            out.append(s.request("POST", "/api/v1/tokens", {"name": "t", "scope": "read"}, cookie=ann)[0])
        return out

    with ThreadPoolExecutor(8) as pool:
        for out in pool.map(make, range(8)):
            statuses += out
    with ThreadPoolExecutor(40) as pool:
        sizes = list(pool.map(lambda _: len(s.request("GET", "/settings", cookie=ann,
                                                      headers={"Accept": "text/html"})[2]), range(40)))
    waited = watch.stop()
    listing = s.request("GET", "/api/v1/tokens", cookie=ann)[2]
    s.stop()
    report("tokens made by one session for 20 s, then 40 loads of its settings",
           f"{statuses.count(201):,} made, {statuses.count(429):,} refused; /settings {max(sizes) / 1e6:.2f} MB, "
           f"GET /api/v1/tokens {len(listing) / 1e6:.2f} MB; {waited}")


PROBES = [probe_sign_in_memory, probe_sign_in_race, probe_rebinding, probe_metric_labels,
          probe_metrics_behind_proxy, probe_redirect, probe_slow_bodies, probe_demotion, probe_queue_flood,
          probe_streams, probe_fairness, probe_long_jobs, probe_sessions, probe_files_at_rest,
          probe_member_files, probe_headers, probe_report_flood, probe_log_memory, probe_upload_count,
          probe_posted_runs, probe_worker_registrations, probe_token_flood]

if __name__ == "__main__":
    wanted = sys.argv[2:]
    for p in PROBES:
        if wanted and p.__name__.removeprefix("probe_") not in wanted:
            continue
        try:
            p()
        except Exception as e:  # a probe that cannot run says so and the others go on
            report(p.__name__.removeprefix("probe_"), f"could not run: {e!r}")
