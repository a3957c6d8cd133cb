//! Capacity: N idle subscribers held by one server process, and what they cost in resident
//! memory. Headway twice (one user with N tabs; N users with a tab each), and the baseline.

use super::{mib, new_session, Totals};
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, ClientPlan, Clients, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, ratio, Section, Table};
use crate::{unix_ms, Res};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Every subscriber with the same session cookie.
    HeadwayOneUser,
    /// Every subscriber without a cookie: a new session (user) each.
    HeadwayUsers,
    Baseline,
    /// The baseline without hyper (`baseline-server --raw`): what a stream costs at the least.
    Raw,
}

struct Outcome {
    totals: Totals,
    open_s: f64,
    rss_before: Option<u64>,
    /// Highest RSS seen while the subscribers were held.
    rss_held: Option<u64>,
    held: u64,
}

impl Outcome {
    fn per_subscriber_kib(&self) -> Option<f64> {
        let (b, a) = (self.rss_before?, self.rss_held?);
        (self.held > 0).then(|| (a as f64 - b as f64) / self.held as f64)
    }
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Capacity");
    let n = plan.capacity;
    s.method = format!(
        "{} idle subscribers on `GET /api/v1/events` of one server process, opened at {}/s from \
         {} client processes; each must receive its opening `snapshot` (the baseline sends the same \
         opening). RSS is VmRSS of /proc/PID/status: once the server is ready (before), and the \
         highest value sampled every second while the subscribers are held for {} s, across a \
         keep-alive (after). RSS per subscriber = (after − before) / held. Held = connections \
         still open when the hold ends. Headway runs twice: every subscriber with one cookie (one \
         user, many tabs, like the baseline) and every subscriber without a cookie (a session, so \
         a user, each). A second reference, `baseline-server --raw`, serves the same stream from a \
         bare tokio accept loop without hyper: what an idle stream costs at the least on this \
         runtime.",
        num(n as f64, 0),
        num(plan.connect_rate as f64, 0),
        plan.client_procs(n),
        plan.hold_secs,
    );
    let mut outcomes = Vec::new();
    for target in [
        Target::Baseline,
        Target::Raw,
        Target::HeadwayOneUser,
        Target::HeadwayUsers,
    ] {
        match measure(plan, target).await {
            Ok(o) => outcomes.push((target, o)),
            Err(e) => s.fail(format!("{}: {e}", label(target))),
        }
    }
    let find = |t: Target| outcomes.iter().find(|(x, _)| *x == t).map(|(_, o)| o);
    let (Some(base), Some(one), users) = (
        find(Target::Baseline),
        find(Target::HeadwayOneUser),
        find(Target::HeadwayUsers),
    ) else {
        return s;
    };

    let raw = find(Target::Raw);
    let mut t = Table::new(&[
        "",
        "Headway, one user",
        "Headway, a user each",
        "baseline (axum)",
        "raw tokio, no hyper",
        "ratio (one user / baseline)",
    ]);
    let cells = |f: &dyn Fn(&Outcome) -> String| -> Vec<String> {
        vec![
            f(one),
            users.map(f).unwrap_or("–".into()),
            f(base),
            raw.map(f).unwrap_or("–".into()),
        ]
    };
    let mut row = |name: &str, mut c: Vec<String>, r: String| {
        let mut v = vec![name.to_string()];
        v.append(&mut c);
        v.push(r);
        t.row(v);
    };
    row(
        "subscribers held",
        cells(&|o| {
            format!(
                "{} / {}",
                num(o.held as f64, 0),
                num(o.totals.sum.conns as f64, 0)
            )
        }),
        ratio(one.held as f64, base.held as f64),
    );
    row(
        "seconds to open them",
        cells(&|o| num(o.open_s, 1)),
        ratio(one.open_s, base.open_s),
    );
    row(
        "RSS before (MiB)",
        cells(&|o| mib(o.rss_before)),
        ratio(
            one.rss_before.unwrap_or(0) as f64,
            base.rss_before.unwrap_or(0) as f64,
        ),
    );
    row(
        "RSS held (MiB)",
        cells(&|o| mib(o.rss_held)),
        ratio(
            one.rss_held.unwrap_or(0) as f64,
            base.rss_held.unwrap_or(0) as f64,
        ),
    );
    row(
        "RSS per subscriber (KiB)",
        cells(&|o| {
            o.per_subscriber_kib()
                .map(|k| num(k, 1))
                .unwrap_or("–".into())
        }),
        ratio(
            one.per_subscriber_kib().unwrap_or(f64::NAN),
            base.per_subscriber_kib().unwrap_or(f64::NAN),
        ),
    );
    row(
        "keep-alive comments received",
        cells(&|o| num(o.totals.sum.comments as f64, 0)),
        String::new(),
    );
    row(
        "errors",
        cells(&|o| num(o.totals.connection_errors() as f64, 0)),
        String::new(),
    );
    s.tables.push(t);

    for (target, o) in &outcomes {
        let missing = o.totals.sum.conns - o.held;
        if o.totals.connection_errors() > 0 || missing > 0 {
            s.fail(format!(
                "{}: {} of {} subscribers not held ({} connection errors){}",
                label(*target),
                num(missing as f64, 0),
                num(o.totals.sum.conns as f64, 0),
                o.totals.connection_errors(),
                o.totals
                    .sum
                    .first_error
                    .as_ref()
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    for (target, o) in [
        (Target::HeadwayOneUser, Some(one)),
        (Target::HeadwayUsers, users),
    ] {
        let Some(o) = o else { continue };
        let per = o.per_subscriber_kib().unwrap_or(f64::INFINITY);
        s.verdict(
            &format!(
                "Capacity: hold {} idle subscribers at ≤ 8 KiB RSS each ({})",
                num(n as f64, 0),
                label(target)
            ),
            format!(
                "{} held, {} KiB each (baseline {} KiB)",
                num(o.held as f64, 0),
                num(per, 1),
                base.per_subscriber_kib()
                    .map(|k| num(k, 1))
                    .unwrap_or("–".into())
            ),
            o.held == n && per <= 8.0,
        );
    }
    s
}

fn label(t: Target) -> &'static str {
    match t {
        Target::HeadwayOneUser => "Headway, one user",
        Target::HeadwayUsers => "Headway, a user each",
        Target::Baseline => "baseline",
        Target::Raw => "raw tokio server",
    }
}

async fn measure(plan: &Plan, target: Target) -> Res<Outcome> {
    log(format!(
        "capacity: {}, {} subscribers",
        label(target),
        plan.capacity
    ));
    let server = match target {
        Target::Baseline => {
            Server::baseline(
                &plan.exe,
                &["--jobs".into(), "0".into()],
                plan.path("capacity-baseline.log"),
            )
            .await?
        }
        Target::Raw => {
            let extra = ["--jobs".into(), "0".into(), "--raw".into()];
            Server::baseline(&plan.exe, &extra, plan.path("capacity-raw.log")).await?
        }
        _ => {
            let tag = if target == Target::HeadwayOneUser {
                "one"
            } else {
                "each"
            };
            let db = plan.path(&format!("capacity-{tag}.db"));
            Server::headway(HeadwayOptions {
                bin: &plan.bin,
                database_url: &sqlite_url(&db),
                role: ProcessRole::All,
                site_root: &plan.site_root,
                data_root: &plan.path("files"),
                max_running: 16,
                log: plan.path(&format!("capacity-{tag}.log")),
                commands: None,
                workflows: None,
            })
            .await?
        }
    };
    let result = drive(plan, target, &server).await;
    let stopped = server.stop().await;
    let outcome = result?;
    stopped?;
    Ok(outcome)
}

async fn drive(plan: &Plan, target: Target, server: &Server) -> Res<Outcome> {
    let cookie = match target {
        Target::HeadwayOneUser => Some(new_session(server.addr).await?),
        _ => None,
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_kib();
    let started = unix_ms();
    let mut clients = Clients::spawn(&ClientPlan {
        exe: &plan.exe,
        addr: server.addr,
        cookie: cookie.as_deref(),
        conns: plan.capacity,
        procs: plan.client_procs(plan.capacity),
        rate: plan.connect_rate,
        expect_done: 0,
        max_secs: 180 + plan.capacity / plan.connect_rate.max(1) * 3 + plan.hold_secs,
    })?;
    let limit = Duration::from_secs(60 + plan.capacity / plan.connect_rate.max(1) * 2);
    let (opened, failed) = clients.wait_ready(limit).await?;
    let open_s = (unix_ms() - started) / 1000.0;
    log(format!(
        "capacity: {opened} open, {failed} failed, in {open_s:.1} s; holding {} s",
        plan.hold_secs
    ));
    let mut rss_held = server.rss_kib();
    for _ in 0..plan.hold_secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_held = rss_held.max(server.rss_kib());
    }
    let reports = clients.stop().await?;
    let totals = Totals::of(&reports);
    let held = totals.sum.held_at_stop;
    log(format!(
        "capacity: held {held}, RSS {} -> {} MiB",
        mib(rss_before),
        mib(rss_held)
    ));
    Ok(Outcome {
        totals,
        open_s,
        rss_before,
        rss_held,
        held,
    })
}
