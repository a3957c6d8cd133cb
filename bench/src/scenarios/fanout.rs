//! Fan-out: V subscribers of one user (one cookie, many tabs) on `GET /api/v1/events` while J demo
//! jobs advance at r samples per second; the same number of clients on the baseline server, which
//! plays the same events at the same rate.

use super::{mib, ms, new_session, Totals};
use crate::http::Conn;
use crate::plan::{log, Plan};
use crate::procs::{
    cpu_secs, sqlite_url, ClientPlan, Clients, HeadwayOptions, ProcessRole, Server,
};
use crate::report::{num, ratio, Section, Table};
use crate::stats::median;
use crate::{unix_ms, Res};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Headway,
    Baseline,
    /// The baseline writing every frame waiting for a stream at once.
    Batched,
}

pub(crate) struct Outcome {
    pub totals: Totals,
    /// Every open connection saw all its `done` events before the deadline.
    pub complete: bool,
    pub window_s: f64,
    pub connect_s: f64,
    /// Of the server processes, all together.
    pub rss_connected: Option<u64>,
    pub rss_end: Option<u64>,
    pub server_cpu_s: Option<f64>,
    /// Write calls of the server processes during the jobs (about one per socket write).
    pub server_writes: Option<u64>,
    pub clients_cpu_s: f64,
}

impl Outcome {
    pub fn events_per_s(&self) -> f64 {
        self.totals.sum.events as f64 / self.window_s
    }

    /// Connection errors plus open connections that missed events (fewer `done` than jobs).
    pub fn errors(&self) -> u64 {
        self.totals.connection_errors()
            + self
                .totals
                .sum
                .opened
                .saturating_sub(self.totals.sum.complete)
    }
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Fan-out");
    let interval_ms = 1000 / plan.rate;
    let steps = (plan.rate * plan.fanout_secs).max(1);
    s.method = format!(
        "{v} subscribers on `GET /api/v1/events`, all with one session cookie (one user, {v} tabs), \
         opened at {rate}/s from {p} client processes (raw HTTP/1.1, one connection each). Then \
         {j} `demo` jobs with `steps={steps}, interval_ms={interval_ms}` ({r} progress samples/s \
         each, about {secs} s). Latency = time a client parsed a `progress` event minus its `at` \
         (when the job reported the sample), over every progress event at every subscriber. \
         Delivered events/s = events received by all subscribers (after the opening snapshot) / \
         time from the start of the jobs to the last event. A subscriber that did not receive \
         all {j} `done` events counts as an error.\n\n\
         Baseline: `headway-bench baseline-server`, a bare axum SSE server (same axum/hyper/tokio, \
         its own process) with one `tokio::sync::broadcast` channel of pre-rendered frames, \
         playing the same events (`job` queued and running, a `progress` per step with \
         `at` = send time, a `log` every 10 steps, `job` + `done` at the end) for the same \
         number of jobs, at the same rate, with payloads of the same shape and size. The last \
         column is the same baseline sending every frame already waiting for a stream in one \
         write (`baseline-server --batch`): what batching writes buys on this machine.",
        v = num(plan.subscribers as f64, 0),
        rate = num(plan.connect_rate as f64, 0),
        p = plan.client_procs(plan.subscribers),
        j = plan.fanout_jobs,
        r = plan.rate,
        secs = plan.fanout_secs,
    );

    let main = Binary {
        path: &plan.bin,
        tag: "main",
    };
    let base = measure(plan, Target::Baseline, &main, steps, interval_ms).await;
    let hw = measure(plan, Target::Headway, &main, steps, interval_ms).await;
    let batched = match measure(plan, Target::Batched, &main, steps, interval_ms).await {
        Ok(o) => Some(o),
        Err(e) => {
            s.fail(format!("batched baseline: {e}"));
            None
        }
    };
    let (base, hw) = match (base, hw) {
        (Ok(b), Ok(h)) => (b, h),
        (b, h) => {
            if let Err(e) = b {
                s.fail(format!("baseline: {e}"));
            }
            if let Err(e) = h {
                s.fail(format!("Headway: {e}"));
            }
            return s;
        }
    };

    let mut t = Table::new(&[
        "",
        "Headway",
        "baseline",
        "ratio",
        "baseline, batched writes",
    ]);
    let both = |f: &dyn Fn(&Outcome) -> String| vec![f(&hw), f(&base)];
    let extra = |f: &dyn Fn(&Outcome) -> String| batched.as_ref().map(f).unwrap_or("–".into());
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |name: &str, cells: Vec<String>, r: String| {
        let mut v = vec![name.to_string()];
        v.extend(cells);
        v.push(r);
        rows.push(v);
    };
    let (h, b) = (&hw.totals, &base.totals);
    row(
        "subscribers connected",
        both(&|o| {
            format!(
                "{} / {}",
                num(o.totals.sum.opened as f64, 0),
                num(o.totals.sum.conns as f64, 0)
            )
        }),
        String::new(),
    );
    row(
        "seconds to connect them",
        both(&|o| num(o.connect_s, 1)),
        ratio(hw.connect_s, base.connect_s),
    );
    row(
        "events delivered",
        both(&|o| num(o.totals.sum.events as f64, 0)),
        ratio(h.sum.events as f64, b.sum.events as f64),
    );
    row(
        "delivered events/s",
        both(&|o| num(o.events_per_s(), 0)),
        ratio(hw.events_per_s(), base.events_per_s()),
    );
    row(
        "window (s): jobs start → last event",
        both(&|o| num(o.window_s, 1)),
        ratio(hw.window_s, base.window_s),
    );
    row(
        "progress events per subscriber",
        both(&|o| {
            num(
                o.totals.sum.progress as f64 / o.totals.sum.opened.max(1) as f64,
                1,
            )
        }),
        String::new(),
    );
    for (name, p) in [("latency p50 (ms)", 50.0), ("latency p99 (ms)", 99.0)] {
        row(
            name,
            both(&|o| ms(o.totals.latency.percentile(p))),
            ratio(
                h.latency.percentile(p).unwrap_or(0) as f64,
                b.latency.percentile(p).unwrap_or(0) as f64,
            ),
        );
    }
    row(
        "latency max (ms)",
        both(&|o| ms((o.totals.latency.count() > 0).then(|| o.totals.latency.max()))),
        ratio(h.latency.max() as f64, b.latency.max() as f64),
    );
    row(
        "errors",
        both(&|o| num(o.errors() as f64, 0)),
        String::new(),
    );
    row(
        "server CPU (s) during the jobs",
        both(&|o| o.server_cpu_s.map(|c| num(c, 1)).unwrap_or("–".into())),
        ratio(
            hw.server_cpu_s.unwrap_or(f64::NAN),
            base.server_cpu_s.unwrap_or(f64::NAN),
        ),
    );
    row(
        "client processes' CPU (s), whole run",
        both(&|o| num(o.clients_cpu_s, 1)),
        String::new(),
    );
    row(
        "server RSS (MiB) with subscribers connected",
        both(&|o| mib(o.rss_connected)),
        ratio(
            hw.rss_connected.unwrap_or(0) as f64,
            base.rss_connected.unwrap_or(0) as f64,
        ),
    );
    row(
        "server RSS (MiB) at the end",
        both(&|o| mib(o.rss_end)),
        ratio(
            hw.rss_end.unwrap_or(0) as f64,
            base.rss_end.unwrap_or(0) as f64,
        ),
    );
    row(
        "server CPU per delivered event (µs)",
        both(&|o| {
            o.server_cpu_s
                .map(|c| num(c * 1e6 / o.totals.sum.events.max(1) as f64, 2))
                .unwrap_or("–".into())
        }),
        ratio(
            hw.server_cpu_s.unwrap_or(f64::NAN) / hw.totals.sum.events.max(1) as f64,
            base.server_cpu_s.unwrap_or(f64::NAN) / base.totals.sum.events.max(1) as f64,
        ),
    );
    row(
        "server write calls during the jobs",
        both(&|o| writes(o)),
        ratio(
            hw.server_writes.map_or(f64::NAN, |w| w as f64),
            base.server_writes.map_or(f64::NAN, |w| w as f64),
        ),
    );
    row(
        "delivered events per write call",
        both(&|o| events_per_write(o)),
        String::new(),
    );
    row(
        "server CPU per write call (µs)",
        both(&|o| cpu_per_write(o)),
        ratio(
            hw.server_cpu_s.unwrap_or(f64::NAN) / hw.server_writes.map_or(f64::NAN, |w| w as f64),
            base.server_cpu_s.unwrap_or(f64::NAN)
                / base.server_writes.map_or(f64::NAN, |w| w as f64),
        ),
    );
    // The batched baseline's column, in the same row order.
    let extras: Vec<String> = vec![
        extra(&|o| {
            format!(
                "{} / {}",
                num(o.totals.sum.opened as f64, 0),
                num(o.totals.sum.conns as f64, 0)
            )
        }),
        extra(&|o| num(o.connect_s, 1)),
        extra(&|o| num(o.totals.sum.events as f64, 0)),
        extra(&|o| num(o.events_per_s(), 0)),
        extra(&|o| num(o.window_s, 1)),
        extra(&|o| {
            num(
                o.totals.sum.progress as f64 / o.totals.sum.opened.max(1) as f64,
                1,
            )
        }),
        extra(&|o| ms(o.totals.latency.percentile(50.0))),
        extra(&|o| ms(o.totals.latency.percentile(99.0))),
        extra(&|o| ms((o.totals.latency.count() > 0).then(|| o.totals.latency.max()))),
        extra(&|o| num(o.errors() as f64, 0)),
        extra(&|o| o.server_cpu_s.map(|c| num(c, 1)).unwrap_or("–".into())),
        extra(&|o| num(o.clients_cpu_s, 1)),
        extra(&|o| mib(o.rss_connected)),
        extra(&|o| mib(o.rss_end)),
        extra(&|o| {
            o.server_cpu_s
                .map(|c| num(c * 1e6 / o.totals.sum.events.max(1) as f64, 2))
                .unwrap_or("–".into())
        }),
        extra(&writes),
        extra(&events_per_write),
        extra(&cpu_per_write),
    ];
    for (mut r, e) in rows.into_iter().zip(extras) {
        r.push(e);
        t.row(r);
    }
    s.tables.push(t);

    let mut all = vec![("Headway", &hw), ("baseline", &base)];
    if let Some(b) = &batched {
        all.push(("batched baseline", b));
    }
    for (name, o) in all {
        if o.errors() > 0 {
            s.fail(format!(
                "{name}: {} errors ({} connections failed or broke, {} subscribers missed `done` events){}",
                o.errors(),
                o.totals.connection_errors(),
                o.totals.sum.opened.saturating_sub(o.totals.sum.complete),
                o.totals.sum.first_error.as_ref().map(|e| format!("; first: {e}")).unwrap_or_default()
            ));
        }
        if !o.complete {
            s.notes.push(format!(
                "{name}: not every subscriber had all its `done` events when the deadline passed."
            ));
        }
    }
    if h.sum.progress_without_at > 0 {
        s.fail(format!(
            "Headway: {} of {} progress events carry no `at`, so their latency cannot be measured",
            num(h.sum.progress_without_at as f64, 0),
            num(h.sum.progress as f64, 0)
        ));
    }
    if h.sum.progress > 0 && h.latency.count() == 0 {
        s.fail("Headway: no latency samples");
    }

    let p99 = h
        .latency
        .percentile(99.0)
        .map(|us| us as f64 / 1000.0)
        .unwrap_or(f64::INFINITY);
    let target = format!(
        "Fan-out at {} subscribers: p99 latency < 50 ms",
        num(plan.subscribers as f64, 0)
    );
    s.verdict(
        &target,
        format!(
            "p99 {} ms (baseline {} ms)",
            num(p99, 1),
            ms(b.latency.percentile(99.0))
        ),
        p99 < 50.0,
    );
    let r = hw.events_per_s() / base.events_per_s();
    s.verdict(
        &format!(
            "Fan-out at {} subscribers: delivered events/s ≥ 0.8× baseline",
            num(plan.subscribers as f64, 0)
        ),
        format!(
            "{} vs {} events/s = {}",
            num(hw.events_per_s(), 0),
            num(base.events_per_s(), 0),
            ratio(hw.events_per_s(), base.events_per_s())
        ),
        r >= 0.8 && hw.errors() == 0,
    );
    if let Some(path) = &plan.compare_bin {
        let compared = Binary {
            path,
            tag: "compare",
        };
        compare(&mut s, plan, &compared, (base, hw), steps, interval_ms).await;
    }
    s
}

/// A Headway binary the fan-out runs: the one under test, or the one it is compared with.
struct Binary<'a> {
    path: &'a Path,
    /// Distinguishes its files in the work directory.
    tag: &'static str,
}

/// One round of the comparison: the baseline and both binaries, one after the other.
struct Round {
    base: Option<Outcome>,
    main: Option<Outcome>,
    compared: Option<Outcome>,
}

impl Round {
    /// Delivered events/s of `o` against this round's baseline.
    fn ratio(&self, o: &Option<Outcome>) -> f64 {
        match (o, &self.base) {
            (Some(o), Some(b)) => o.events_per_s() / b.events_per_s(),
            _ => f64::NAN,
        }
    }
}

/// Runs `plan.fanout_rounds` rounds of the baseline, Headway and `compared` (the first round
/// reuses the measurements above; which binary goes first alternates from round to round), and
/// adds a table of every round's ratios and their medians.
async fn compare(
    s: &mut Section,
    plan: &Plan,
    compared: &Binary<'_>,
    (base, hw): (Outcome, Outcome),
    steps: u64,
    interval_ms: u64,
) {
    let main = Binary {
        path: &plan.bin,
        tag: "main",
    };
    let label = &plan.compare_label;
    let kept = |s: &mut Section, what: &str, r: Res<Outcome>| match r {
        Ok(o) => Some(o),
        Err(e) => {
            s.fail(format!("round of the comparison, {what}: {e}"));
            None
        }
    };
    let first = measure(plan, Target::Headway, compared, steps, interval_ms).await;
    let mut rounds = vec![Round {
        base: Some(base),
        main: Some(hw),
        compared: kept(s, label, first),
    }];
    for i in 1..plan.fanout_rounds {
        log(format!(
            "fan-out comparison: round {} of {}",
            i + 1,
            plan.fanout_rounds
        ));
        let base = measure(plan, Target::Baseline, &main, steps, interval_ms).await;
        let base = kept(s, "baseline", base);
        let (m, c) = if i % 2 == 1 {
            let c = measure(plan, Target::Headway, compared, steps, interval_ms).await;
            let m = measure(plan, Target::Headway, &main, steps, interval_ms).await;
            (m, c)
        } else {
            let m = measure(plan, Target::Headway, &main, steps, interval_ms).await;
            let c = measure(plan, Target::Headway, compared, steps, interval_ms).await;
            (m, c)
        };
        rounds.push(Round {
            base,
            main: kept(s, "Headway", m),
            compared: kept(s, label, c),
        });
    }

    let mut t = Table::new(&[
        "round",
        "baseline events/s",
        "Headway events/s",
        "Headway / baseline",
        &format!("{label} events/s"),
        &format!("{label} / baseline"),
        &format!("Headway / {label}"),
        &format!("progress events per subscriber (Headway, {label})"),
        &format!("latency p99 ms (Headway, {label})"),
        &format!("server CPU per write call µs (Headway, {label})"),
    ]);
    let eps = |o: &Option<Outcome>| o.as_ref().map_or(f64::NAN, Outcome::events_per_s);
    let progress = |o: &Option<Outcome>| {
        o.as_ref().map_or(f64::NAN, |o| {
            o.totals.sum.progress as f64 / o.totals.sum.opened.max(1) as f64
        })
    };
    let p99 = |o: &Option<Outcome>| {
        o.as_ref()
            .and_then(|o| o.totals.latency.percentile(99.0))
            .map_or(f64::NAN, |us| us as f64 / 1000.0)
    };
    let per_write = |o: &Option<Outcome>| {
        o.as_ref()
            .and_then(|o| o.server_cpu_s.zip(o.server_writes.filter(|w| *w > 0)))
            .map_or(f64::NAN, |(c, w)| c * 1e6 / w as f64)
    };
    let pair = |f: &dyn Fn(&Option<Outcome>) -> f64, r: &Round, d: usize| {
        format!("{}, {}", num(f(&r.main), d), num(f(&r.compared), d))
    };
    for (i, r) in rounds.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            num(eps(&r.base), 0),
            num(eps(&r.main), 0),
            times(r.ratio(&r.main)),
            num(eps(&r.compared), 0),
            times(r.ratio(&r.compared)),
            times(eps(&r.main) / eps(&r.compared)),
            pair(&progress, r, 1),
            pair(&p99, r, 1),
            pair(&per_write, r, 2),
        ]);
    }
    let med = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let (m, c) = (med(&|r| r.ratio(&r.main)), med(&|r| r.ratio(&r.compared)));
    // Each round's two binaries side by side, free of how the baseline moved between rounds.
    let paired = med(&|r| eps(&r.main) / eps(&r.compared));
    t.row(vec![
        "median".into(),
        num(med(&|r| eps(&r.base)), 0),
        num(med(&|r| eps(&r.main)), 0),
        times(m),
        num(med(&|r| eps(&r.compared)), 0),
        times(c),
        times(paired),
        format!(
            "{}, {}",
            num(med(&|r| progress(&r.main)), 1),
            num(med(&|r| progress(&r.compared)), 1)
        ),
        format!(
            "{}, {}",
            num(med(&|r| p99(&r.main)), 1),
            num(med(&|r| p99(&r.compared)), 1)
        ),
        format!(
            "{}, {}",
            num(med(&|r| per_write(&r.main)), 2),
            num(med(&|r| per_write(&r.compared)), 2)
        ),
    ]);
    s.tables.push(t);
    s.notes.push(format!(
        "Compared with {label} (`{}`) over {} rounds, each a baseline run then both binaries \
         (the first round is the table above, {label} measured after it; then the binary that \
         goes first alternates): median delivered events/s against the round's baseline {} for \
         Headway, {} for {label}; Headway's delivered events/s over {label}'s in the same round, \
         median {}.",
        compared.path.display(),
        rounds.len(),
        times(m),
        times(c),
        times(paired),
    ));
}

/// A ratio as the report writes it.
fn times(r: f64) -> String {
    ratio(r, 1.0)
}

async fn measure(
    plan: &Plan,
    target: Target,
    bin: &Binary<'_>,
    steps: u64,
    interval_ms: u64,
) -> Res<Outcome> {
    let name = match target {
        Target::Headway => "headway",
        Target::Baseline => "baseline",
        Target::Batched => "batched baseline",
    };
    log(format!(
        "fan-out: {name}{}, {} subscribers",
        match target {
            Target::Headway => format!(" ({})", bin.path.display()),
            _ => String::new(),
        },
        plan.subscribers
    ));
    let server = match target {
        Target::Headway => {
            // A database of its own for each run: every round starts afresh.
            static RUNS: AtomicU64 = AtomicU64::new(0);
            let run = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
            let db = plan.path(&format!("fanout-{}-{run}.db", bin.tag));
            Server::headway(HeadwayOptions {
                bin: bin.path,
                database_url: &sqlite_url(&db),
                role: ProcessRole::All,
                site_root: &plan.site_root,
                data_root: &plan.path("files"),
                max_running: plan.fanout_jobs.max(16),
                log: plan.path(&format!("fanout-headway-{}-{run}.log", bin.tag)),
                commands: None,
                workflows: None,
            })
            .await?
        }
        Target::Baseline | Target::Batched => {
            let mut extra: Vec<String> = vec![
                "--jobs".into(),
                plan.fanout_jobs.to_string(),
                "--steps".into(),
                steps.to_string(),
                "--interval-ms".into(),
                interval_ms.to_string(),
            ];
            if target == Target::Batched {
                extra.push("--batch".into());
            }
            Server::baseline(
                &plan.exe,
                &extra,
                plan.path(&format!("fanout-{}.log", name.replace(' ', "-"))),
            )
            .await?
        }
    };
    let result = drive(plan, target, &Layout::single(&server), steps, interval_ms).await;
    let stopped = server.stop().await;
    let outcome = result?;
    stopped?;
    Ok(outcome)
}

/// The server processes of one measurement and what each is for.
pub(crate) struct Layout<'a> {
    /// Where the subscribers connect, split evenly between them.
    pub streams: Vec<&'a Server>,
    /// Where the jobs are posted (Headway) or started (the baseline).
    pub start: &'a Server,
    /// Every process whose CPU and memory count as the server's (added up).
    pub measured: Vec<&'a Server>,
}

impl<'a> Layout<'a> {
    /// One process doing everything.
    pub fn single(server: &'a Server) -> Layout<'a> {
        Layout {
            streams: vec![server],
            start: server,
            measured: vec![server],
        }
    }

    fn cpu_secs(&self) -> Option<f64> {
        self.measured.iter().map(|s| s.cpu_secs()).sum()
    }

    fn write_calls(&self) -> Option<u64> {
        self.measured.iter().map(|s| s.write_calls()).sum()
    }

    fn rss_kib(&self) -> Option<u64> {
        self.measured.iter().map(|s| s.rss_kib()).sum()
    }
}

/// Connects `plan.subscribers` subscribers (split evenly over `layout.streams`, with the client
/// processes of [`Plan::client_procs`] shared out between them), starts the jobs, waits for
/// every subscriber to see them done, and collects what the client processes measured.
pub(crate) async fn drive(
    plan: &Plan,
    target: Target,
    layout: &Layout<'_>,
    steps: u64,
    interval_ms: u64,
) -> Res<Outcome> {
    let cookie = match target {
        Target::Headway => Some(new_session(layout.start.addr).await?),
        Target::Baseline | Target::Batched => None,
    };
    let connect_started = unix_ms();
    let n = layout.streams.len().max(1) as u64;
    let procs = plan.client_procs(plan.subscribers);
    let mut clients: Option<Clients> = None;
    for (i, server) in layout.streams.iter().enumerate() {
        let i = i as u64;
        let spawned = Clients::spawn(&ClientPlan {
            exe: &plan.exe,
            addr: server.addr,
            cookie: cookie.as_deref(),
            conns: plan.subscribers / n + u64::from(i < plan.subscribers % n),
            procs: (procs / n + u64::from(i < procs % n)).max(1),
            rate: (plan.connect_rate / n).max(1),
            expect_done: u64::from(plan.fanout_jobs),
            max_secs: 120 + plan.subscribers / plan.connect_rate.max(1) + plan.fanout_secs * 4,
        })?;
        match &mut clients {
            Some(c) => c.extend(spawned),
            None => clients = Some(spawned),
        }
    }
    let mut clients = clients.ok_or("no server for the subscribers")?;
    let client_pids = clients.pids();
    let connect_limit = Duration::from_secs(60 + plan.subscribers / plan.connect_rate.max(1) * 2);
    let (opened, failed) = clients.wait_ready(connect_limit).await?;
    let connect_s = (unix_ms() - connect_started) / 1000.0;
    log(format!(
        "fan-out: {opened} subscribers connected ({failed} failed) in {connect_s:.1} s"
    ));
    // Let the connection burst settle before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = layout.rss_kib();
    let cpu_before = layout.cpu_secs();
    let writes_before = layout.write_calls();

    let t0 = unix_ms();
    let start = layout.start.addr;
    match target {
        Target::Baseline | Target::Batched => {
            let r = crate::http::fetch(start, "POST", "/start", &[], None)
                .await
                .map_err(|e| e.to_string())?;
            if r.head.status != 202 {
                return Err(format!("POST /start answered {}", r.head.status));
            }
        }
        Target::Headway => {
            let mut conn = Conn::connect(start).await.map_err(|e| e.to_string())?;
            let body = format!(
                r#"{{"kind":"demo","params":{{"steps":{steps},"interval_ms":{interval_ms}}}}}"#
            );
            let cookie = cookie.as_deref().unwrap_or_default();
            for _ in 0..plan.fanout_jobs {
                super::post_job(&mut conn, cookie, body.as_bytes()).await?;
            }
        }
    }
    let limit = Duration::from_secs(plan.fanout_secs * 3 + 60);
    let complete = clients.wait_complete(limit).await;
    let cpu_after = layout.cpu_secs();
    let writes_after = layout.write_calls();
    let rss_end = layout.rss_kib();
    let clients_cpu_s: f64 = client_pids.iter().filter_map(|p| cpu_secs(*p)).sum();
    let reports = clients.stop().await?;
    let totals = Totals::of(&reports);
    let last = totals.sum.last_event_ms.unwrap_or(t0);
    let window_s = ((last - t0) / 1000.0).max(0.001);
    log(format!(
        "fan-out: {} events in {window_s:.1} s, p99 {} ms",
        totals.sum.events,
        ms(totals.latency.percentile(99.0))
    ));
    Ok(Outcome {
        totals,
        complete,
        window_s,
        connect_s,
        rss_connected,
        rss_end,
        server_cpu_s: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        server_writes: writes_before
            .zip(writes_after)
            .map(|(a, b)| b.saturating_sub(a)),
        clients_cpu_s,
    })
}

/// The server's write calls during the jobs.
fn writes(o: &Outcome) -> String {
    o.server_writes
        .map(|w| num(w as f64, 0))
        .unwrap_or("–".into())
}

/// How many events one write call carried, on average.
fn events_per_write(o: &Outcome) -> String {
    o.server_writes
        .filter(|w| *w > 0)
        .map(|w| num(o.totals.sum.events as f64 / w as f64, 1))
        .unwrap_or("–".into())
}

/// The server's CPU time per write call: what going once around the subscribers costs, per
/// subscriber.
fn cpu_per_write(o: &Outcome) -> String {
    o.server_cpu_s
        .zip(o.server_writes.filter(|w| *w > 0))
        .map(|(c, w)| num(c * 1e6 / w as f64, 2))
        .unwrap_or("–".into())
}
