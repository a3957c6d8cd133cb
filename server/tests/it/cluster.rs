//! Several `headway` processes sharing one PostgreSQL database (a throwaway cluster these tests
//! start): any process serves any user's stream with every event of their jobs, exactly once and
//! in id order, whichever process ran the job or wrote the event; a process that dies or stops
//! has its jobs taken over; limits, cancels, notices and roles hold across processes.
//!
//! Each test runs its processes alone (one test at a time), so that their timings do not depend
//! on how many other tests' processes share the machine.

use crate::client::*;
use crate::support::{headway, one_line_failure, postgres_database, Headway, ADMIN_TOKEN};
use eventsource_stream::Event;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Processes on one fresh database, and the lock that keeps other tests' processes away.
struct Cluster {
    _alone: MutexGuard<'static, ()>,
    /// One browser (one cookie jar, so one user) for all the processes.
    browser: Session,
    dir: tempfile::TempDir,
    db: String,
    processes: Vec<Headway>,
}

impl Cluster {
    async fn start(n: usize, args: &[&str], env: &[(&str, &str)]) -> Cluster {
        Cluster::start_with(n, args, env, |_| Vec::new()).await
    }

    /// [`Cluster::start`], with `prepare` given the cluster's folder first: it writes there the
    /// files the processes read, and returns the arguments that name them (added to `args`).
    async fn start_with(
        n: usize,
        args: &[&str],
        env: &[(&str, &str)],
        prepare: impl FnOnce(&Path) -> Vec<String>,
    ) -> Cluster {
        let alone = ONE_AT_A_TIME.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let db = postgres_database().await;
        let more = prepare(dir.path());
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(more.iter().map(String::as_str))
            .collect();
        let processes: Vec<Headway> = (0..n)
            .map(|_| Headway::start(&db, dir.path(), &args, env))
            .collect();
        let browser = processes[0].session();
        Cluster {
            _alone: alone,
            browser,
            dir,
            db,
            processes,
        }
    }

    fn add(&mut self, args: &[&str], env: &[(&str, &str)]) -> &Headway {
        self.processes
            .push(Headway::start(&self.db, self.dir.path(), args, env));
        self.processes.last().unwrap()
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The browser talking to each process, in the order they were started.
    fn sessions(&self) -> Vec<Session> {
        self.processes
            .iter()
            .map(|p| self.browser.rebase(&p.base))
            .collect()
    }
}

/// Reads `events` until `n` jobs have sent `done`; returns everything read.
async fn until_done(events: &mut Events, n: usize) -> Vec<Event> {
    read_until_n(events, n, |e| e.event == "done").await
}

/// The ids of the events that belong to jobs, `progress` left out with `progress: false` (a
/// replay sends only the newest progress of a job between two other events).
fn job_event_ids(events: &[Event], progress: bool) -> Vec<i64> {
    events
        .iter()
        .filter(|e| {
            matches!(e.event.as_str(), "job" | "log" | "done") || progress && e.event == "progress"
        })
        .map(id)
        .collect()
}

/// Two lists of event ids are equal; if not, says how they differ (without printing them).
fn assert_same_ids(got: &[i64], want: &[i64], what: &str) {
    if got != want {
        let (g, w): (BTreeSet<i64>, BTreeSet<i64>) = (
            got.iter().copied().collect(),
            want.iter().copied().collect(),
        );
        let missing: Vec<&i64> = w.difference(&g).take(10).collect();
        let extra: Vec<&i64> = g.difference(&w).take(10).collect();
        panic!(
            "{what}: {} ids against {} wanted; missing {missing:?}…, unexpected {extra:?}…, {} repeated",
            got.len(),
            want.len(),
            got.len() - g.len()
        );
    }
}

/// Every event of the user's jobs, as the store has them: a replay from the start.
async fn replay_all(s: &Session, jobs: usize) -> Vec<Event> {
    let mut events = s.events("/api/v1/events", Some(0)).await;
    until_done(&mut events, jobs).await
}

/// A small deterministic generator, so that a failing run can be repeated from its seed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn three_processes_stream_every_event_of_300_jobs_once_in_id_order() {
    let cluster = Cluster::start(3, &[], &[]).await;
    let sessions = cluster.sessions();
    let mut streams = Vec::new();
    for s in &sessions {
        streams.push(s.events("/api/v1/events", None).await);
    }
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut events| tokio::spawn(async move { until_done(&mut events, 300).await }))
        .collect();
    let mut ids = Vec::new();
    for i in 0..300 {
        ids.push(sessions[i % 3].demo(3, 5).await);
    }
    let mut seen = Vec::new();
    for r in readers {
        seen.push(r.await.unwrap());
    }

    let stored = job_event_ids(&replay_all(&sessions[1], 300).await, false);
    assert!(stored.len() >= 300 * 4, "{} events stored", stored.len());
    let mut samples = Vec::new();
    for (p, events) in seen.iter().enumerate() {
        // In arrival order, ids only go up: nothing arrives twice, and nothing below an id
        // already seen arrives later (no gap that is later filled).
        assert_strictly_increasing(events);
        // And nothing is missing: every status change, log line and end the store holds for
        // this user's jobs. A stream that fell behind may have left out progress samples that
        // a later one of the same job superseded, never a job's last.
        assert_same_ids(
            &job_event_ids(events, false),
            &stored,
            &format!("process {p} against the store"),
        );
        for id in &ids {
            assert_eq!(
                statuses_of(events, id),
                ["queued", "running", "succeeded"],
                "process {p}, job {id}"
            );
            let last = events
                .iter()
                .rfind(|e| e.event == "progress" && data(e)["job_id"] == id.as_str());
            assert_eq!(
                last.map(|e| data(e)["current"].as_u64()),
                Some(Some(3)),
                "process {p}, job {id}"
            );
        }
        samples.push(events.iter().filter(|e| e.event == "progress").count());
    }
    eprintln!(
        "3 processes, 300 jobs round-robin: each stream got every one of the {} status changes, log lines and ends once, in id order, and each job's last progress; progress samples per stream: {samples:?}",
        stored.len()
    );
}

#[tokio::test]
async fn two_hundred_reconnects_across_processes_lose_no_status_or_log_line() {
    let cluster = Cluster::start(3, &[], &[]).await;
    let sessions = cluster.sessions();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut rng = Lcg(seed);
    let jobs = 60;
    // The first stream starts before any job, so that every later one resumes from an id.
    let mut events = sessions[0].events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    for i in 0..jobs {
        // 40 steps 20 ms apart: a job and 4 log lines, over about a second.
        ids.push(sessions[i % 3].demo(40, 20).await);
    }
    let mut got: Vec<Event> = Vec::new();
    let mut last: Option<i64> = None;
    let mut done = 0;
    let (mut reconnects, mut while_running) = (0, 0);
    while done < jobs {
        // A random number of events, then a reconnect to a random process from the last id.
        let take = 1 + rng.below(8) as usize;
        let (mut read, mut ended) = (0, done);
        let batch = read_until(&mut events, |e| {
            read += 1;
            ended += (e.event == "done") as usize;
            ended == jobs || read == take
        })
        .await;
        for e in batch {
            last = Some(id(&e));
            // A snapshot restates where the stream starts (its id is that cursor, to resume
            // from); it is not an event of its own.
            if e.event == "snapshot" {
                continue;
            }
            done += (e.event == "done") as usize;
            got.push(e);
        }
        if done < jobs && reconnects < 200 {
            reconnects += 1;
            while_running += 1;
            let s = &sessions[rng.below(3) as usize];
            events = s.events("/api/v1/events", last).await;
        }
    }
    // The remaining reconnects, after the jobs ended: each resumes with nothing missing.
    while reconnects < 200 {
        reconnects += 1;
        let s = &sessions[rng.below(3) as usize];
        let _ = s.events("/api/v1/events", last).await;
    }

    assert_strictly_increasing(&got);
    let stored = replay_all(&sessions[2], jobs).await;
    assert_same_ids(
        &job_event_ids(&got, false),
        &job_event_ids(&stored, false),
        &format!("status changes and log lines across {reconnects} reconnects"),
    );
    let lines = |events: &[Event]| events.iter().filter(|e| e.event == "log").count();
    assert_eq!(lines(&got), jobs * 4);
    for id in &ids {
        assert_eq!(
            statuses_of(&got, id),
            ["queued", "running", "succeeded"],
            "job {id}"
        );
    }
    eprintln!(
        "{reconnects} reconnects over 3 processes ({while_running} while jobs ran): {} events, {} log lines, 0 lost, 0 twice",
        got.len(),
        lines(&got)
    );
}

#[tokio::test]
async fn a_killed_process_has_its_20_running_jobs_taken_over_and_seen_everywhere() {
    // The lease is 2 s in these tests.
    let mut cluster = Cluster::start(
        1,
        &[],
        &[
            ("HEADWAY_MAX_RUNNING", "20"),
            ("HEADWAY_MAX_RUNNING_PER_USER", "20"),
        ],
    )
    .await;
    let victim = cluster.sessions().remove(0);
    let mut own = victim.events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    // One attempt each: a takeover ends them `interrupted` (retries are in `retries.rs`).
    for _ in 0..20 {
        ids.push(victim.demo_once(100_000, 50).await);
    }
    read_until_n(&mut own, 20, |e| {
        e.event == "job" && data(e)["status"] == "running"
    })
    .await;
    drop(own);
    cluster.add(&[], &[]);
    cluster.add(&[], &[]);
    let sessions = cluster.sessions();
    let mut watching = Vec::new();
    for s in &sessions[1..] {
        watching.push(s.events("/api/v1/events", None).await);
    }

    let killed = Instant::now();
    cluster.processes.remove(0).kill9();
    let mut taken_over = Duration::ZERO;
    let mut seen = Vec::new();
    for events in &mut watching {
        let got = until_done(events, 20).await;
        taken_over = taken_over.max(killed.elapsed());
        seen.push(got);
    }
    for (p, events) in seen.iter().enumerate() {
        for id in &ids {
            let done: Vec<Value> = events
                .iter()
                .filter(|e| is_done_of(id)(e))
                .map(data)
                .collect();
            assert_eq!(done.len(), 1, "process {}: one `done` for {id}", p + 1);
            assert_eq!(done[0]["status"], "interrupted");
        }
    }
    // None runs again: after one more job has gone through the survivors from start to end,
    // no event of the 20 arrived after their `done`.
    let marker = sessions[1].demo(2, 5).await;
    for (p, events) in watching.iter_mut().enumerate() {
        let after = read_until(events, is_done_of(&marker)).await;
        let late: Vec<&Event> = after
            .iter()
            .filter(|e| ids.iter().any(|id| e.data.contains(id.as_str())))
            .collect();
        assert!(
            late.is_empty(),
            "process {}: events after the takeover: {late:?}",
            p + 1
        );
    }
    for id in &ids {
        assert_eq!(sessions[2].job(id).await["status"], "interrupted");
    }
    assert!(
        taken_over < Duration::from_secs(2 + 15),
        "took {taken_over:?}"
    );
    eprintln!("kill -9 with 20 running: all 20 interrupted on both other processes' streams {taken_over:?} after the kill (lease 2 s); 0 lost, 0 run twice");
}

#[tokio::test]
async fn a_clean_shutdown_hands_a_resumable_job_to_another_process_at_once() {
    // A long lease: a handover that waited for it would fail the timing below.
    let long_lease = [("HEADWAY_LEASE_SECS", "60")];
    let mut cluster = Cluster::start(1, &[], &long_lease).await;
    let tree = cluster.dir().join("files/tree");
    for i in 0..120u32 {
        let sub = tree.join(format!("d{}", i % 4));
        std::fs::create_dir_all(&sub).unwrap();
        let bytes: Vec<u8> = (0..512 * 1024u32)
            .map(|b| (b.wrapping_mul(31) ^ i) as u8)
            .collect();
        std::fs::write(sub.join(format!("f{i:03}.bin")), bytes).unwrap();
    }
    let first = cluster.sessions().remove(0);
    let mut own = first.events("/api/v1/events", None).await;
    let (status, job) = first.create("checksum", json!({"dir": "tree"})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    read_until_n(&mut own, 3, |e| e.event == "log").await;
    drop(own);
    cluster.add(&[], &long_lease);
    let second = cluster.sessions().remove(1);
    let mut events = second
        .events(&format!("/api/v1/jobs/{id}/events"), None)
        .await;

    let stopped = Instant::now();
    let (_, exit) = cluster.processes.remove(0).terminate();
    assert!(exit.success());
    // The per-job stream replays the job from its start: its first run, the interruption at
    // shutdown, then the run on the other process.
    let mut interrupted = false;
    read_until(&mut events, |e| {
        interrupted |= e.event == "done" && data(e)["status"] == "interrupted";
        interrupted && e.event == "job" && data(e)["status"] == "running"
    })
    .await;
    let handed_over = stopped.elapsed();
    read_until(&mut events, is_done_of(&id)).await;
    let done = second.job(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let manifest: Vec<Value> = second
        .log(&id)
        .await
        .into_iter()
        .filter(|l| l["line"].as_str().unwrap().contains("  d"))
        .collect();
    assert_eq!(
        manifest.len(),
        120,
        "each file hashed once into the manifest"
    );
    assert!(
        handed_over < Duration::from_secs(20),
        "took {handed_over:?} with a 60 s lease"
    );
    eprintln!("SIGTERM: the checksum job ran again on the other process {handed_over:?} later (lease 60 s)");
}

#[tokio::test]
async fn kind_limits_hold_across_processes_and_any_process_cancels() {
    let limit = [("HEADWAY_KIND_LIMITS", "demo=3")];
    let cluster = Cluster::start(3, &[], &limit).await;
    let sessions = cluster.sessions();
    let mut events = sessions[0].events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    for i in 0..15 {
        ids.push(sessions[i % 3].demo(8, 30).await);
    }
    let seen = until_done(&mut events, 15).await;
    // Running at once, event by event: never more than 3 across the three processes.
    let (mut running, mut most) = (BTreeSet::new(), 0);
    for e in &seen {
        match e.event.as_str() {
            "job" if data(e)["status"] == "running" => {
                running.insert(data(e)["id"].as_str().unwrap().to_string());
            }
            "done" => {
                running.remove(data(e)["job_id"].as_str().unwrap());
            }
            _ => {}
        }
        most = most.max(running.len());
    }
    assert_eq!(
        most, 3,
        "at most 3 demo jobs at once, and the limit was reached"
    );

    // Cancels, each sent to another process than the one the job was started on.
    let long: Vec<String> =
        futures::future::join_all((0..3).map(|i| sessions[i].demo(100_000, 50))).await;
    read_until_n(&mut events, 3, |e| {
        e.event == "job" && data(e)["status"] == "running"
    })
    .await;
    for (i, id) in long.iter().enumerate() {
        let (status, body) = sessions[(i + 1) % 3].cancel(id).await;
        assert!(status == 200 || status == 202, "{status} {body}");
    }
    let ends = read_until_n(&mut events, 3, |e| e.event == "done").await;
    let ended: HashMap<String, String> = ends
        .iter()
        .filter(|e| e.event == "done")
        .map(|e| {
            (
                data(e)["job_id"].as_str().unwrap().to_string(),
                data(e)["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for id in &long {
        assert_eq!(
            ended.get(id).map(String::as_str),
            Some("cancelled"),
            "{ended:?}"
        );
    }
}

#[tokio::test]
async fn web_and_worker_processes_behave_like_one_and_notices_reach_every_process() {
    let mut cluster = Cluster::start(1, &["--role", "web"], &[]).await;
    let worker = cluster.add(&["--role", "worker"], &[]).base.clone();
    let web = cluster.sessions().remove(0);
    let http = crate::client::http();

    // The worker serves its health and nothing else.
    let health: Value = http
        .get(format!("{worker}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    for path in ["/", "/api/v1/jobs", "/api/v1/events"] {
        assert_eq!(
            http.get(format!("{worker}{path}"))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{path}"
        );
    }

    // The web process runs nothing itself; the worker runs what it queues.
    let mut events = web.events("/api/v1/events", None).await;
    let id = web.demo(5, 10).await;
    read_until(&mut events, is_done_of(&id)).await;
    let job = web.job(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"]["current"], 5);

    // A notice posted to one process reaches streams on the others; a process that starts
    // announces its build to every open stream.
    let mut cluster_events = Vec::new();
    let third = cluster.add(&[], &[]).base.clone();
    let on_third = web.rebase(&third);
    cluster_events.push(on_third.events("/api/v1/events", None).await);
    let r = http
        .post(format!("{third}/api/v1/admin/notices"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .json(&json!({"text": "Maintenance at 18:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let got = read_until(&mut events, |e| e.event == "notice").await;
    assert!(got.last().unwrap().data.contains("Maintenance at 18:00"));
    cluster.add(&[], &[]);
    let announced = read_until(&mut cluster_events[0], |e| e.event == "version").await;
    assert!(!data(announced.last().unwrap())["build"]
        .as_str()
        .unwrap()
        .is_empty());
}

/// Accounts across processes: a session signed in on one process is valid on the others; a
/// viewer's stream on one process carries a member's job run anywhere; disabling the member on
/// one process ends their stream on another.
#[tokio::test]
async fn accounts_and_roles_hold_across_processes() {
    let cluster = Cluster::start(2, &["--auth", "accounts", "--keep-alive-secs", "1"], &[]).await;
    let bases: Vec<String> = cluster.processes.iter().map(|p| p.base.clone()).collect();
    let http = crate::client::http();
    for (name, role) in [("mia", "member"), ("vera", "viewer")] {
        let r = http
            .post(format!("{}/api/v1/users", bases[0]))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"username": name, "password": "correct horse", "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let sign_in = |name: &'static str, base: &str| {
        let s = Session::new(base);
        async move {
            let r = s
                .http
                .post(s.url("/api/v1/session"))
                .json(&json!({"username": name, "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            s
        }
    };
    // Signed in on the first process, used on the second.
    let mia = sign_in("mia", &bases[0]).await;
    let mia_b = mia.rebase(&bases[1]);
    assert_eq!(mia_b.get("/api/v1/me").await.1["username"], "mia");
    // Signed out on one process, the session is gone on the other too (no process keeps it).
    // (The cookie is sent by hand: a browser would drop it on sign-out.)
    let r = http
        .post(format!("{}/api/v1/session", bases[1]))
        .json(&json!({"username": "mia", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me_on = |base: &str| {
        http.get(format!("{base}/api/v1/me"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(me_on(&bases[0]).await.unwrap().status(), 200);
    let r = http
        .delete(format!("{}/api/v1/session", bases[1]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        me_on(&bases[0]).await.unwrap().status(),
        401,
        "signed out everywhere"
    );
    let vera_b = sign_in("vera", &bases[1]).await;
    let mut seen_by_vera = vera_b.events("/api/v1/events", None).await;
    let mut mias_stream = mia_b.stream("/api/v1/events", None).await;
    assert_eq!(mias_stream.status(), 200);
    let job = mia.demo(3, 10).await;
    read_until(&mut seen_by_vera, is_done_of(&job)).await;
    assert_eq!(
        vera_b.cancel(&job).await.0,
        403,
        "a viewer changes nothing, on any process"
    );
    let r = http
        .patch(format!("{}/api/v1/users/mia", bases[0]))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ended = tokio::time::timeout(WAIT, async {
        while mias_stream.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "mia's stream on the other process ended");
    assert_eq!(mia_b.get("/api/v1/me").await.0, 401);
    assert_eq!(mia.get("/api/v1/me").await.0, 401);
}

/// Runs one query with psql against `db` and returns what it printed (unaligned, no headers).
async fn psql(db: &str, sql: &str) -> String {
    let out = tokio::process::Command::new("psql")
        .args(["-qAt", "-v", "ON_ERROR_STOP=1", db, "-c", sql])
        .output()
        .await
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn each_fire_time_starts_one_job_across_processes_and_goes_on_when_the_firing_one_is_killed()
{
    let mut cluster = Cluster::start(3, &[], &[]).await;
    let sessions = cluster.sessions();
    // Twenty schedules every second, created through all three processes; none waits for its
    // previous job (overlap "start"), so every fire time starts one.
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = sessions[i % 3]
            .http
            .post(sessions[i % 3].url("/api/v1/schedules"))
            .json(
                &json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1},
                          "cron": "* * * * * *", "overlap": "start"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let fired = |events: &[Event]| {
        events
            .iter()
            .filter(|e| e.event == "job" && data(e)["status"] == "queued")
            .filter(|e| data(e)["scheduled_for"].is_i64())
            .count()
    };
    let mut watch = sessions[2].events("/api/v1/events", None).await;
    let mut seen = Vec::new();
    while fired(&seen) < 60 {
        seen.extend(read_until(&mut watch, |e| e.event == "job").await);
    }
    // The process that fires (it holds the lease) is killed mid-stream.
    let holder: u32 = psql(
        &cluster.db,
        "SELECT p.pid FROM leases l JOIN processes p ON p.id = l.holder WHERE l.name = 'schedules'",
    )
    .await
    .parse()
    .expect("a process holds the schedules' lease");
    let at = cluster
        .processes
        .iter()
        .position(|p| p.pid() == holder)
        .expect("one of the cluster's processes");
    let killed = engine::now_ms();
    cluster.processes.remove(at).kill9();
    // Another goes on firing: every schedule fires again, at least three times after the kill.
    let survivor = cluster.sessions().remove(0);
    let mut after = survivor.events("/api/v1/events", None).await;
    let mut later = Vec::new();
    let counted = |events: &[Event]| {
        let mut n: HashMap<String, usize> = HashMap::new();
        for e in events.iter().filter(|e| e.event == "job") {
            let j = data(e);
            if j["status"] == "queued" && j["scheduled_for"].as_i64().is_some_and(|t| t > killed) {
                *n.entry(j["schedule_id"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        n
    };
    while !(counted(&later).len() == ids.len() && counted(&later).values().all(|n| *n >= 3)) {
        later.extend(read_until(&mut after, |e| e.event == "job").await);
    }
    for id in &ids {
        let r = survivor
            .http
            .patch(survivor.url(&format!("/api/v1/schedules/{id}")))
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // In the store: for each schedule, one job per second from its first fire time to its last,
    // none twice and none missed, across the kill.
    for id in &ids {
        let times = psql(
            &cluster.db,
            &format!(
                "SELECT scheduled_for FROM jobs WHERE schedule_id = '{id}' ORDER BY scheduled_for"
            ),
        )
        .await;
        let times: Vec<i64> = times.lines().map(|t| t.parse().unwrap()).collect();
        assert!(times.len() >= 6, "{id}: {times:?}");
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|g| *g == 1_000),
            "{id}: a time twice or missed: {times:?}"
        );
        assert!(
            times.last().unwrap() > &killed,
            "{id}: fired after the kill"
        );
    }
    let late = psql(
        &cluster.db,
        &format!("SELECT COALESCE(MAX(created_at - scheduled_for), 0) FROM jobs WHERE scheduled_for > {killed}"),
    )
    .await;
    eprintln!("20 schedules every second on 3 processes, the firing one killed: each time once, none missed; latest fire after the kill {late} ms late");
}

#[tokio::test]
async fn a_kind_paused_on_one_process_starts_nowhere_until_resumed_on_another() {
    let mut cluster = Cluster::start(1, &["--role", "web"], &[]).await;
    cluster.add(&["--role", "worker"], &[]);
    cluster.add(&[], &[]);
    let sessions = cluster.sessions();
    let (web, all) = (&sessions[0], &sessions[2]);
    let operator = |base: &str, kind: &str, action: &str| {
        crate::client::http()
            .post(format!("{base}/api/v1/kinds/{kind}/{action}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
    };
    let r = operator(&web.base, "demo", "pause").await.unwrap();
    assert_eq!(r.status(), 200);
    // Started on the last process, where the worker and it could both run it.
    let id = all.demo(2, 1).await;
    let marker = all
        .create("batch", json!({"items": 2, "item_kib": 1}))
        .await
        .1;
    let marker = marker["id"].as_str().unwrap().to_string();
    // Another kind goes through; by then every process has passed the paused job over.
    assert_eq!(all.wait_finished(&marker).await["status"], "succeeded");
    let job = web.job(&id).await;
    assert_eq!(
        (job["status"].as_str(), job["waiting_for"].as_str()),
        (Some("queued"), Some("paused")),
        "{job}"
    );
    let r = operator(&all.base, "demo", "resume").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(web.wait_finished(&id).await["status"], "succeeded");
}

/// Files across processes: a file uploaded to a web process is imported by a worker, and its
/// outputs download from a third process; a process whose file store is not the one the
/// database's files are in refuses to start, saying so.
#[tokio::test]
async fn a_file_uploaded_to_one_process_is_run_by_another_and_downloads_from_a_third() {
    let mut cluster = Cluster::start(1, &["--role", "web"], &[]).await;
    cluster.add(&["--role", "worker"], &[]);
    let third = cluster.add(&[], &[]).base.clone();
    let web = cluster.sessions().remove(0);
    let csv = "name,age\nAda,36\nBob\n";
    let r = web
        .http
        .post(web.url("/api/v1/uploads"))
        .header("x-file-name", "people.csv")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let up: Value = r.json().await.unwrap();
    let (status, job) = web
        .create("import_csv", json!({"upload": up["id"], "table": "people"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    let done = web.wait_finished(id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["imported"], 1, "{done}");
    let on_third = web.rebase(&third);
    let r = on_third
        .http
        .get(on_third.url(&format!("/api/v1/jobs/{id}/outputs/rejected.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "line,reason,name,age\n3,1 fields instead of 2,Bob\n"
    );

    // A process given a folder of its own, empty, would not find these files: it refuses.
    let elsewhere = cluster.dir().join("elsewhere");
    let db = cluster.db.clone();
    let refused = tokio::task::spawn_blocking(move || {
        headway(&[
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            &db,
            "--admin-token",
            ADMIN_TOKEN,
            "--file-store",
            elsewhere.to_str().unwrap(),
        ])
    })
    .await
    .unwrap();
    one_line_failure(
        refused,
        "is not the one this database's other processes use",
    );
}

#[tokio::test]
async fn one_process_delivers_each_job_end_once_whichever_process_ended_it() {
    use crate::webhooks::{register, webhook_when, Answer, Receiver};
    let cluster = Cluster::start(3, &["--webhook-allow-private"], &[]).await;
    let sessions = cluster.sessions();
    let receiver = Receiver::start(|_| Answer::Status(200)).await;
    let hook = register(&sessions[0], json!({"url": receiver.url})).await;
    // Thirty jobs started through the three processes, run by whichever claims them.
    let mut jobs = BTreeSet::new();
    for i in 0..30 {
        jobs.insert(sessions[i % 3].demo(1, 1).await);
    }
    for id in &jobs {
        sessions[0].wait_finished(id).await;
    }
    receiver.until(30).await;
    webhook_when(&sessions[1], &hook, |d| {
        d["deliveries"].as_array().unwrap().len() == 30
            && d["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["state"] == "delivered")
    })
    .await;
    // Every delivery was sent once: no two processes sent the same one.
    let got = receiver.got();
    let ids: BTreeSet<String> = got.iter().map(|g| g.header("headway-delivery")).collect();
    let told: BTreeSet<String> = got
        .iter()
        .map(|g| g.json()["job"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(told, jobs, "each job's end was told");
    assert_eq!((got.len(), ids.len()), (30, 30), "each delivery once");
}

/// Sets a limit through process `s` as the holder of the operator token.
async fn set_limit(s: &Session, limit: Value) {
    let r = http()
        .post(s.url("/api/v1/limits"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&limit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
}

/// Starts `n` demo jobs keyed by `log_every` (1 to `keys`, in turn), spread over the processes
/// of `sessions`, 50 at a time; their ids.
async fn start_keyed(
    sessions: &[Session],
    n: usize,
    keys: usize,
    steps: u64,
    interval_ms: u64,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let started = futures::future::join_all(chunk.iter().map(|&i| {
            let s = &sessions[i % sessions.len()];
            let params =
                json!({"steps": steps, "interval_ms": interval_ms, "log_every": 1 + i % keys});
            async move {
                // One attempt: an interruption is its end.
                let body = json!({"kind": "demo", "params": params, "max_attempts": 1});
                let (status, job) = s.create_raw(&body).await;
                assert_eq!(status, 201, "{job}");
                job["id"].as_str().unwrap().to_string()
            }
        }))
        .await;
        ids.extend(started);
    }
    ids
}

#[tokio::test]
async fn limits_hold_across_processes_and_a_kill() {
    // 3 processes of 10 slots each; at most 2 running at once per `log_every`, 10 keys.
    let slots = [
        ("HEADWAY_MAX_RUNNING", "10"),
        ("HEADWAY_MAX_RUNNING_PER_USER", "30"),
    ];
    let mut cluster = Cluster::start(3, &[], &slots).await;
    let sessions = cluster.sessions();
    set_limit(
        &sessions[1],
        json!({"kind": "demo", "per": "param", "param": "log_every", "max": 2}),
    )
    .await;
    let mut events = sessions[2].events("/api/v1/events", None).await;
    let ids = start_keyed(&sessions, 500, 10, 8, 40).await;
    let key_of: HashMap<String, String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), (1 + i % 10).to_string()))
        .collect();
    // Meanwhile, the running jobs per key as the database has them, sampled until the end.
    let db = cluster.db.clone();
    let sampling = tokio::spawn(async move {
        let mut most = 0usize;
        let mut samples = 0usize;
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            let counts = psql(
                &db,
                "SELECT COALESCE(MAX(n), 0) || ' ' || COALESCE(SUM(n), 0) || ' ' || \
                 (SELECT COUNT(*) FROM jobs WHERE status NOT IN ('queued', 'running', 'cancelling')) \
                 FROM (SELECT COUNT(*) AS n FROM jobs WHERE status IN ('running', 'cancelling') \
                       GROUP BY CAST(params AS JSONB) ->> 'log_every') k",
            )
            .await;
            let figures: Vec<usize> = counts.split(' ').map(|n| n.parse().unwrap()).collect();
            most = most.max(figures[0]);
            samples += 1;
            if figures[2] >= 500 {
                break;
            }
        }
        (most, samples)
    });
    // A third of the way through, one process is killed with its jobs running: once the
    // database says it runs some (on a busy machine, its claims may lag behind the others').
    let before = until_done(&mut events, 170).await;
    let victim = cluster.processes[0].pid();
    let deadline = Instant::now() + Duration::from_secs(30);
    let holds = format!(
        "SELECT COUNT(*) FROM jobs j JOIN processes p ON p.id = j.claimed_by \
         WHERE j.status = 'running' AND p.pid = {victim}"
    );
    while psql(&cluster.db, &holds).await.trim() == "0" {
        assert!(
            Instant::now() < deadline,
            "the first process ran no job in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cluster.processes.remove(0).kill9();
    let after = until_done(&mut events, 330).await;
    let (sampled_most, samples) = sampling.await.unwrap();
    // Event by event (the order of commits): never more than 2 of a key running at once.
    let mut running: HashMap<String, BTreeSet<String>> = HashMap::new();
    let (mut most, mut most_after_kill, mut interrupted) = (0, 0, 0);
    for (n, e) in before.iter().chain(&after).enumerate() {
        match e.event.as_str() {
            "job" if data(e)["status"] == "running" => {
                let id = data(e)["id"].as_str().unwrap().to_string();
                if let Some(key) = key_of.get(&id) {
                    running.entry(key.clone()).or_default().insert(id);
                }
            }
            "done" => {
                let id = data(e)["job_id"].as_str().unwrap().to_string();
                if data(e)["status"] == "interrupted" {
                    interrupted += 1;
                }
                if let Some(key) = key_of.get(&id) {
                    running.entry(key.clone()).or_default().remove(&id);
                }
            }
            _ => {}
        }
        let now = running.values().map(BTreeSet::len).max().unwrap_or(0);
        most = most.max(now);
        if n >= before.len() {
            most_after_kill = most_after_kill.max(now);
        }
    }
    assert_eq!(most, 2, "at most 2 per key, and the limit was reached");
    assert_eq!(
        most_after_kill, 2,
        "after the takeover the slots of the killed process's jobs were freed, once"
    );
    assert!(
        sampled_most <= 2,
        "a sample saw {sampled_most} of one key running"
    );
    assert!(interrupted > 0, "the killed process had jobs running");
    eprintln!(
        "500 jobs, 10 keys, 2 at once per key, 3 processes (one killed with {interrupted} running): \
         at most {most} per key by the events, {sampled_most} in {samples} samples of the database"
    );

    // A rate: at most 10 starts a second per key, 3 keys, 150 jobs; never 11 starts in any
    // one-second window, whichever process claimed them.
    let sessions = cluster.sessions();
    set_limit(
        &sessions[0],
        json!({"kind": "demo", "per": "param", "param": "log_every", "max": 30}),
    )
    .await;
    set_limit(
        &sessions[0],
        json!({"kind": "demo", "per": "param", "param": "log_every", "max": 10, "window_ms": 1000}),
    )
    .await;
    let ids = start_keyed(&sessions, 150, 3, 1, 1).await;
    until_done(&mut events, 150).await;
    let mut starts: HashMap<String, Vec<i64>> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let job = sessions[i % 2].job(id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        starts
            .entry((1 + i % 3).to_string())
            .or_default()
            .push(job["started_at"].as_i64().unwrap());
    }
    for (key, mut at) in starts {
        at.sort();
        for w in at.windows(11) {
            assert!(
                w[10] - w[0] > 1000,
                "key {key}: 11 starts within {} ms",
                w[10] - w[0]
            );
        }
        // And the limit was used: ten in some second.
        assert!(
            at.windows(10).any(|w| w[9] - w[0] <= 1000),
            "key {key}: never ten in a second: {at:?}"
        );
    }
}

/// Four steps side by side, then `join`, which needs them all.
const FAN_IN: &str = r#"
[[workflow]]
name = "fan_in"

[[workflow.step]]
name = "a"
kind = "demo"
params = { steps = 40, interval_ms = 50 }

[[workflow.step]]
name = "b"
kind = "demo"
params = { steps = 40, interval_ms = 50 }

[[workflow.step]]
name = "c"
kind = "demo"
params = { steps = 40, interval_ms = 50 }

[[workflow.step]]
name = "d"
kind = "demo"
params = { steps = 40, interval_ms = 50 }

[[workflow.step]]
name = "join"
kind = "demo"
needs = ["a", "b", "c", "d"]
params = { steps = 1, interval_ms = 1 }
"#;

/// The steps `join` needs in [`FAN_IN`].
const NEEDS: [&str; 4] = ["a", "b", "c", "d"];

#[tokio::test]
async fn a_step_starts_once_its_needs_ended_whichever_process_ended_them_across_a_kill() {
    // 8 slots a process: the 20 steps that may start at once are spread over the three.
    let slots = [("HEADWAY_MAX_RUNNING", "8")];
    let mut cluster = Cluster::start_with(3, &[], &slots, |dir| {
        let file = dir.join("workflows.toml");
        std::fs::write(&file, FAN_IN).unwrap();
        vec!["--workflows".into(), file.to_str().unwrap().into()]
    })
    .await;
    let sessions = cluster.sessions();
    let mut watch = sessions[2].events("/api/v1/events", None).await;
    let mut runs = Vec::new();
    for i in 0..5 {
        let body = json!({"kind": "workflow", "params": {"workflow": "fan_in", "params": {}}});
        let (status, run) = sessions[i % 3].create_raw(&body).await;
        assert_eq!(status, 201, "{run}");
        runs.push(run["id"].as_str().unwrap().to_string());
    }
    // Once every process runs steps, the first is killed with its own running: they are taken
    // over and tried again on the others, ending after the rest (the last needs of their runs).
    let pids: Vec<u32> = cluster.processes.iter().map(Headway::pid).collect();
    let deadline = Instant::now() + WAIT;
    let held = loop {
        let rows = psql(
            &cluster.db,
            "SELECT j.id || ' ' || p.pid FROM jobs j JOIN processes p ON p.id = j.claimed_by \
             WHERE j.status = 'running' AND j.parent_id IS NOT NULL",
        )
        .await;
        let held: Vec<(String, u32)> = rows
            .lines()
            .map(|l| {
                let (id, pid) = l.split_once(' ').unwrap();
                (id.to_string(), pid.parse().unwrap())
            })
            .collect();
        if pids.iter().all(|p| held.iter().any(|(_, q)| q == p)) {
            break held;
        }
        assert!(
            Instant::now() < deadline,
            "steps never ran on every process: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let victims: BTreeSet<String> = held
        .iter()
        .filter(|(_, pid)| *pid == pids[0])
        .map(|(id, _)| id.clone())
        .collect();
    cluster.processes.remove(0).kill9();
    let killed = Instant::now();
    let mut ended = BTreeSet::new();
    read_until(&mut watch, |e| {
        if e.event == "done" {
            let id = data(e)["job_id"].as_str().unwrap().to_string();
            if runs.contains(&id) {
                ended.insert(id);
            }
        }
        ended.len() == runs.len()
    })
    .await;
    let took = killed.elapsed();
    let (one, two) = (&sessions[1], &sessions[2]);

    // Every event the store holds, up to a job started after the runs ended.
    let marker = one.demo(1, 1).await;
    let mut replay = one.events("/api/v1/events", Some(0)).await;
    let all = read_until(&mut replay, is_done_of(&marker)).await;
    let dones = |id: &str| all.iter().filter(|e| is_done_of(id)(e)).count();
    let (mut taken_over, mut last_need_taken_over) = (0, 0);
    for run_id in &runs {
        let run = one.job(run_id).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(dones(run_id), 1, "run {run_id} ended once");
        assert_eq!(run["progress"]["current"], 5000, "{run}");
        assert_eq!(run["progress"]["total"], 5000, "{run}");
        assert_eq!(run["progress"]["message"], "5 of 5 steps ended", "{run}");
        let (status, page) = two.list(&format!("parent={run_id}&limit=100")).await;
        assert_eq!(status, 200, "{page}");
        let steps = page["jobs"].as_array().unwrap();
        let mut names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
        names.sort();
        assert_eq!(
            names,
            ["a", "b", "c", "d", "join"],
            "run {run_id}: each step made once"
        );
        let step = |name: &str| steps.iter().find(|s| s["step"] == name).unwrap();
        for s in steps {
            let id = s["id"].as_str().unwrap();
            assert_eq!(s["status"], "succeeded", "{s}");
            assert_eq!(dones(id), 1, "step {id} ended once");
            let attempts = s["attempts"].as_array().unwrap();
            assert_eq!(s["attempt"], attempts.len(), "{s}");
            // Tried again only when taken over from the killed process.
            if attempts.len() > 1 {
                assert_eq!(attempts.len(), 2, "{s}");
                assert_eq!(attempts[0]["error"]["code"], "interrupted", "{s}");
                taken_over += 1;
            }
        }
        // `join` started once, on a survivor, once its last need had ended.
        let join = step("join");
        let join_id = join["id"].as_str().unwrap();
        assert_eq!(join["attempt"], 1, "{join}");
        assert_eq!(join["attempts"].as_array().unwrap().len(), 1, "{join}");
        let starts = statuses_of(&all, join_id)
            .into_iter()
            .filter(|s| s == "running")
            .count();
        assert_eq!(starts, 1, "join of {run_id} started once");
        let started = join["started_at"].as_i64().unwrap();
        let last = NEEDS
            .iter()
            .map(|n| step(n))
            .max_by_key(|s| s["finished_at"].as_i64().unwrap())
            .unwrap();
        assert!(
            started >= last["finished_at"].as_i64().unwrap(),
            "join of {run_id} started before its need ended: {join} {last}"
        );
        if last["attempt"] == 2 {
            last_need_taken_over += 1;
        }
        assert!(
            run["finished_at"].as_i64().unwrap() >= join["finished_at"].as_i64().unwrap(),
            "run {run_id} ended with its last step: {run} {join}"
        );
    }
    assert!(
        taken_over > 0,
        "the killed process had steps running: {victims:?}"
    );
    assert!(
        last_need_taken_over > 0,
        "some run's last need was taken over from the killed process"
    );
    eprintln!(
        "5 runs of 4 steps then a join on 3 processes, one killed with {} steps running: \
         {taken_over} taken over and tried again, {last_need_taken_over} of them a join's last need; \
         every join started once, every run ended once, {took:?} after the kill",
        victims.len()
    );
}

/// A step that writes a file, and one that imports it.
const HANDS_ON: &str = r#"
[[workflow]]
name = "hands_on"

[workflow.params.table]
type = "string"
pattern = "t[0-9]"

[[workflow.step]]
name = "export"
kind = "export_jobs"

[[workflow.step]]
name = "import"
kind = "import_csv"
needs = ["export"]
params = { upload = "{steps.export.outputs.jobs.csv}", table = "{table}" }
"#;

/// Sends `POST /api/v1/kinds/{kind}/{action}` to `base` as the operator.
async fn operate(base: &str, kind: &str, action: &str) {
    let r = http()
        .post(format!("{base}/api/v1/kinds/{kind}/{action}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{action} {kind}");
}

#[tokio::test]
async fn a_steps_output_is_read_by_the_step_that_needs_it_on_another_process() {
    let mut cluster = Cluster::start_with(1, &[], &[], |dir| {
        let file = dir.join("workflows.toml");
        std::fs::write(&file, HANDS_ON).unwrap();
        vec!["--workflows".into(), file.to_str().unwrap().into()]
    })
    .await;
    let args: Vec<String> = vec![
        "--workflows".into(),
        cluster
            .dir()
            .join("workflows.toml")
            .to_str()
            .unwrap()
            .into(),
    ];
    // The imports wait, paused, while the first process writes every export.
    let first = cluster.sessions().remove(0);
    operate(&cluster.processes[0].base, "import_csv", "pause").await;
    let mut runs = Vec::new();
    for i in 0..3 {
        let body = json!({"kind": "hands_on", "params": {"table": format!("t{i}")}});
        let (status, run) = first.create_raw(&body).await;
        assert_eq!(status, 201, "{run}");
        runs.push(run["id"].as_str().unwrap().to_string());
    }
    let mut exports = Vec::new();
    for run in &runs {
        let (status, page) = first.list(&format!("parent={run}&limit=10")).await;
        assert_eq!(status, 200, "{page}");
        let export = page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["step"] == "export")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        first.wait_status(&export, "succeeded").await;
        exports.push(export);
    }
    // Then that process is gone, and another, started after it, runs the imports.
    let (_, status) = cluster.processes.remove(0).terminate();
    assert!(status.success(), "{status}");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let base = cluster.add(&args, &[]).base.clone();
    let second = cluster.sessions().remove(0);
    operate(&base, "import_csv", "resume").await;
    for (i, run) in runs.iter().enumerate() {
        let done = second.wait_finished(run).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        let (_, page) = second.list(&format!("parent={run}&limit=10")).await;
        let import = page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["step"] == "import")
            .unwrap()
            .clone();
        assert_eq!(
            import["params"]["upload"],
            format!("/api/v1/jobs/{}/outputs/jobs.csv", exports[i]),
            "{import}"
        );
        assert_eq!(import["result"]["table"], format!("t{i}"), "{import}");
        let ran_on = psql(
            &cluster.db,
            &format!(
                "SELECT p.pid FROM jobs j JOIN processes p ON p.id = j.claimed_by \
                 WHERE j.id = '{}'",
                import["id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(
            ran_on.trim(),
            cluster.processes[0].pid().to_string(),
            "{import}"
        );
    }
}

/// Routing by tags across processes: the jobs of a kind that requires `gpu`, started on a
/// process that does not offer it, wait saying so while no process does; once one that offers
/// it is alive, they all run there (each says where it ran), while the first process runs the
/// other kinds' jobs.
#[tokio::test]
async fn a_job_runs_only_on_the_process_that_offers_its_kinds_tags() {
    use crate::tags::{RENDER, RENDER_SH};
    let mut cluster = Cluster::start_with(1, &[], &[("WHERE", "plain")], |dir| {
        crate::commands::script(dir, "render.sh", RENDER_SH);
        let file = crate::commands::commands_file(dir, RENDER);
        vec!["--commands".into(), file.to_str().unwrap().into()]
    })
    .await;
    let plain = cluster.sessions().remove(0);
    let mut renders = Vec::new();
    for _ in 0..6 {
        let (status, job) = plain.create("render", json!({})).await;
        assert_eq!(status, 201, "{job}");
        renders.push(job["id"].as_str().unwrap().to_string());
    }
    let demo = plain.demo(1, 0).await;
    assert_eq!(plain.wait_finished(&demo).await["status"], "succeeded");
    for id in &renders {
        let job = plain.job(id).await;
        assert_eq!(
            (job["status"].as_str(), job["waiting_for"].as_str()),
            (Some("queued"), Some("tags")),
            "{job}"
        );
    }
    let file = cluster.dir().join("commands.toml");
    let file = file.to_str().unwrap().to_string();
    cluster.add(
        &["--commands", &file, "--tags", "gpu,eu"],
        &[("WHERE", "gpu")],
    );
    for id in &renders {
        let job = plain.wait_finished(id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["result"], json!({"where": "gpu"}), "{job}");
    }
}
