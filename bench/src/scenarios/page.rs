//! Page: the weight of what a browser downloads (raw, gzip -9, and as the server sends it to a
//! browser), and the server-side render time of the history page `/` for a user with a long
//! history, next to the same page for a user with no jobs and a static asset, all measured on
//! one server.

use super::new_session;
use crate::http::{self, Conn};
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, ratio, Section, Table};
use crate::stats::Summary;
use crate::{seed, unix_ms, Res};
use engine::store::Access;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the dashboard loads. The split loader exists when the site was built with `--split`.
const ASSETS: [&str; 4] = [
    "headway.wasm",
    "headway.js",
    "headway.css",
    "__wasm_split.______________________.js",
];

/// Read-only data of lazy islands' own code (the job log's markup, the token manager's shell
/// line; their words come with the page, from the catalogs). Found in the main module, they
/// mean the splitter put every island's read-only data there (see `frontend/src/lib.rs`).
/// `lazy-islands.spec.ts` looks for the same.
const LAZY_ONLY_TEXT: [&str; 2] = ["log-download", "export HEADWAY_TOKEN="];

/// The lazy islands' texts that the main module holds; none when the site was split as meant.
fn lazy_text_in(main: &[u8]) -> Vec<&'static str> {
    LAZY_ONLY_TEXT
        .into_iter()
        .filter(|text| holds(main, text))
        .collect()
}

/// A text of the standard library's panic messages: absent from a wasm built by `make site`,
/// whose standard library aborts on a panic without formatting a message (scripts/site.sh).
const PANIC_TEXT: &str = "called `Option::unwrap()` on a `None` value";

/// Whether `bytes` holds `text`.
fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Whether `name` (in `pkg/`) is a lazily loaded part of the wasm (`--split`): loaded only by a
/// page that shows one of the islands it holds, never by the dashboard.
fn lazy_part(name: &str) -> bool {
    name.ends_with(".wasm") && (name.starts_with("split_") || name.starts_with("chunk_"))
}

/// The lazily loaded parts of the wasm, if the site was split: not in the dashboard's weight.
fn lazy_parts(plan: &Plan) -> Option<Table> {
    let mut names: Vec<String> = std::fs::read_dir(plan.site_root.join("pkg"))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| lazy_part(n))
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort();
    let mut t = Table::new(&[
        "loaded only by the pages with lazy islands",
        "raw bytes",
        "gzip -9 bytes",
    ]);
    for name in names {
        let Ok(bytes) = std::fs::read(plan.site_root.join("pkg").join(&name)) else {
            continue;
        };
        let gz = gzip_len(&bytes).unwrap_or(0);
        t.row(vec![
            format!("`pkg/{name}`"),
            num(bytes.len() as f64, 0),
            num(gz as f64, 0),
        ]);
    }
    Some(t)
}

/// Size of `bytes` after `gzip -9`.
fn gzip_len(bytes: &[u8]) -> Res<u64> {
    let mut child = Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer
        .join()
        .map_err(|_| "gzip writer panicked")?
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("gzip failed: {}", out.status));
    }
    Ok(out.stdout.len() as u64)
}

/// The texts a page carries for the browser (the JSON of `<script id="headway-text">`).
fn page_texts(html: &[u8]) -> Option<&[u8]> {
    let open = b"id=\"headway-text\">";
    let start = html.windows(open.len()).position(|w| w == open)? + open.len();
    let len = html[start..].windows(9).position(|w| w == b"</script>")?;
    Some(&html[start..start + len])
}

/// Bytes after brotli at the quality the site's copies are written with (11).
fn brotli_len(bytes: &[u8]) -> u64 {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    match brotli::BrotliCompress(&mut &bytes[..], &mut out, &params) {
        Ok(_) => out.len() as u64,
        Err(_) => 0,
    }
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Page");
    let n = plan.history_jobs;
    s.method = format!(
        "Weight: the files of `{site}/pkg` a browser loads, raw, after `gzip -9`, and as the \
         server sends them to a browser (`Accept-Encoding: {accept}`, Chromium's), plus the \
         history page's HTML. Render time: `GET /` (server-side rendered, the user's latest jobs) \
         for a user with {jobs} jobs in the store, seeded while the server was stopped through \
         Headway's own store (`Store::import_history`, one transaction per {chunk} jobs; kinds \
         demo/batch/checksum/import_csv and external jobs titled in Chinese, 86 % succeeded, 7 % failed, 5 % cancelled, \
         2 % interrupted, created over 30 days). Baseline: \
         the same page for a user with no jobs, on the same server and store, measured in the \
         same loop (requests alternate), and a static asset. Next to them, `POST /api/summary` for \
         both users: the counts per status and last hour's chart, rendered, that an open dashboard \
         reads again when one of its user's jobs appears or changes status (at most one read per \
         400 ms). {r} measured requests each after 20 of warm-up, sequential, on one keep-alive \
         connection per user and one for the asset; time = request written → whole body read.",
        site = plan.site_root.display(),
        accept = BROWSER_ACCEPT_ENCODING,
        jobs = num(n as f64, 0),
        r = plan.page_requests,
        chunk = num(seed::IMPORT_CHUNK as f64, 0),
    );

    // Weight.
    let mut files = Vec::new();
    for name in ASSETS {
        let path = plan.site_root.join("pkg").join(name);
        if name.starts_with("__wasm_split") && !path.exists() {
            continue;
        }
        match std::fs::read(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|b| Ok((b.len() as u64, gzip_len(&b)?)))
        {
            Ok((raw, gz)) => files.push((name, raw, gz)),
            Err(e) => s.fail(e),
        }
    }
    let history = history(plan).await;
    let sent = match &history {
        Ok(h) => h.sent.clone(),
        Err(_) => Vec::new(),
    };
    let mut t = Table::new(&[
        "file",
        "raw bytes",
        "gzip -9 bytes",
        "sent to a browser (bytes, encoding)",
    ]);
    let sent_cell = |name: &str| match sent.iter().find(|a| a.name == name) {
        Some(a) => format!("{} ({})", num(a.bytes as f64, 0), a.encoding),
        None => "–".into(),
    };
    let (mut raw_total, mut gz_total, mut wasm_gz) = (0u64, 0u64, 0u64);
    for (name, raw, gz) in &files {
        raw_total += raw;
        gz_total += gz;
        if name.ends_with(".wasm") {
            wasm_gz = *gz;
        }
        t.row(vec![
            format!("`pkg/{name}`"),
            num(*raw as f64, 0),
            num(*gz as f64, 0),
            sent_cell(name),
        ]);
    }
    let sent_total: u64 = sent
        .iter()
        .filter(|a| a.name != HISTORY_PAGE)
        .map(|a| a.bytes)
        .sum();
    let kib = |bytes: u64| {
        format!(
            "**{}** ({} KiB)",
            num(bytes as f64, 0),
            num(bytes as f64 / 1024.0, 1)
        )
    };
    let assets_gz = gz_total;
    t.row(vec![
        "**dashboard assets total**".into(),
        num(raw_total as f64, 0),
        kib(gz_total),
        match sent.is_empty() {
            true => "–".into(),
            false => kib(sent_total),
        },
    ]);

    let mut page_gz = None;
    let mut texts_sent = None;
    match &history {
        Ok(h) => {
            let gz = gzip_len(&h.measured.body_a).unwrap_or(0);
            page_gz = Some(gz);
            t.row(vec![
                format!("history page HTML (`GET /`, {} jobs)", num(n as f64, 0)),
                num(h.measured.body_a.len() as f64, 0),
                num(gz as f64, 0),
                sent_cell(HISTORY_PAGE),
            ]);
            if let Some(texts) = page_texts(&h.measured.body_a) {
                let (tgz, tbr) = (gzip_len(texts).unwrap_or(0), brotli_len(texts));
                texts_sent = Some(tbr);
                t.row(vec![
                    "its language's texts for the browser (`#headway-text`, in the HTML; alone)"
                        .into(),
                    num(texts.len() as f64, 0),
                    num(tgz as f64, 0),
                    format!("{} (br)", num(tbr as f64, 0)),
                ]);
            }
            let all = gz_total + gz;
            let html_sent = sent.iter().find(|a| a.name == HISTORY_PAGE);
            t.row(vec![
                "**page total** (assets + HTML)".into(),
                num((raw_total + h.measured.body_a.len() as u64) as f64, 0),
                kib(all),
                match html_sent {
                    Some(html) => kib(sent_total + html.bytes),
                    None => "–".into(),
                },
            ]);
        }
        Err(e) => s.fail(format!("history page: {e}")),
    }
    s.tables.push(t);
    if let Some(lazy) = lazy_parts(plan) {
        s.tables.push(lazy);
        let main = std::fs::read(plan.site_root.join("pkg/headway.wasm")).unwrap_or_default();
        let found = lazy_text_in(&main);
        s.verdict(
            "No lazy island's data in the dashboard's wasm",
            match found.is_empty() {
                true => "none".into(),
                false => format!("found {found:?}"),
            },
            found.is_empty() && !main.is_empty(),
        );
        s.notes.push(format!(
            "The standard library's panic messages in `headway.wasm`: {} (`make site` builds the \
             wasm's standard library to abort on a panic without one).",
            if holds(&main, PANIC_TEXT) {
                "present"
            } else {
                "none"
            }
        ));
    }
    let page_total = gz_total + page_gz.unwrap_or(0);
    s.verdict(
        "Dashboard assets ≤ 150 KiB gzip",
        format!(
            "{} KiB (wasm {} KiB)",
            num(assets_gz as f64 / 1024.0, 1),
            num(wasm_gz as f64 / 1024.0, 1)
        ),
        assets_gz as f64 <= 150.0 * 1024.0 && assets_gz > 0,
    );
    if !sent.is_empty() {
        let wasm = sent.iter().find(|a| a.name.ends_with(".wasm"));
        s.verdict(
            "Dashboard assets as sent to a browser ≤ 150 KiB",
            format!(
                "{} KiB (wasm {} KiB, {})",
                num(sent_total as f64 / 1024.0, 1),
                num(wasm.map_or(0, |a| a.bytes) as f64 / 1024.0, 1),
                wasm.map_or("–", |a| a.encoding.as_str())
            ),
            sent_total as f64 <= 150.0 * 1024.0,
        );
    }
    if let (false, Some(texts)) = (sent.is_empty(), texts_sent) {
        let shown = sent_total + texts;
        s.verdict(
            "What `/` downloads to show and hydrate, its language's texts included, as sent ≤ 160 KiB",
            format!(
                "{} KiB: assets {} KiB, texts {} KiB",
                num(shown as f64 / 1024.0, 1),
                num(sent_total as f64 / 1024.0, 1),
                num(texts as f64 / 1024.0, 1)
            ),
            shown as f64 <= 160.0 * 1024.0,
        );
    }
    s.verdict(
        "Page ≤ 100 KiB gzip",
        format!(
            "{} KiB: assets {} KiB (wasm {} KiB), HTML {} KiB",
            num(page_total as f64 / 1024.0, 1),
            num(gz_total as f64 / 1024.0, 1),
            num(wasm_gz as f64 / 1024.0, 1),
            page_gz
                .map(|g| num(g as f64 / 1024.0, 1))
                .unwrap_or("–".into())
        ),
        page_total as f64 <= 100.0 * 1024.0 && gz_total > 0,
    );

    let Ok(h) = history else { return s };
    let m = &h.measured;
    s.tables.push(timings(m, &num(n as f64, 0)));
    s.notes.push(format!(
        "Seeding {} jobs took {} s; Headway then started on that store in {} s.",
        num(n as f64, 0),
        num(h.seed_s, 1),
        num(h.restart_s, 2)
    ));
    s.verdict(
        &format!("History SSR p99 < 20 ms at {} jobs", num(n as f64, 0)),
        format!(
            "p99 {} ms (0 jobs: {} ms, {})",
            num(m.page_a.p99, 2),
            num(m.page_b.p99, 2),
            ratio(m.page_a.p99, m.page_b.p99)
        ),
        m.page_a.p99 < 20.0,
    );
    search_verdict(&mut s, m, &num(n as f64, 0), "SQLite");
    s
}

/// The searches' table and verdict: every search of three characters or more (the index's)
/// answers within 50 ms at p99; the shorter ones, which read the rows, are shown beside them.
pub(crate) fn search_verdict(s: &mut Section, m: &Measured, jobs: &str, database: &str) {
    s.tables.push(search_timings(m, jobs));
    let (indexed, all) = slowest_searches(m);
    s.verdict(
        &format!("Search p99 ≤ 50 ms at {jobs} jobs on {database} (three characters or more)"),
        format!(
            "slowest p99 {} ms ({} the newest 50's); with one or two characters: {} ms",
            num(indexed, 2),
            ratio(indexed, m.list_a.p99),
            num(all, 2)
        ),
        indexed <= 50.0 && !m.searches.is_empty(),
    );
}

struct History {
    measured: Measured,
    sent: Vec<Sent>,
    seed_s: f64,
    restart_s: f64,
}

/// What Chromium says it accepts, over plain HTTP to 127.0.0.1 as over HTTPS.
const BROWSER_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// A dashboard asset as the server sends it to a browser.
#[derive(Clone)]
struct Sent {
    name: &'static str,
    bytes: u64,
    /// `Content-Encoding`, or `identity`.
    encoding: String,
}

/// The history page's name among what is sent.
const HISTORY_PAGE: &str = "history page";

/// Fetches each dashboard asset of the site, and the history page as `cookie`'s user sees it,
/// the way a browser asks for them.
async fn sent_to_a_browser(
    plan: &Plan,
    addr: std::net::SocketAddr,
    cookie: &str,
) -> Res<Vec<Sent>> {
    let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut sent = Vec::new();
    let files = ASSETS
        .into_iter()
        .filter(|name| plan.site_root.join("pkg").join(name).exists())
        .map(|name| (name, format!("/pkg/{name}")));
    for (name, path) in files.chain([(HISTORY_PAGE, "/".to_owned())]) {
        let r = conn
            .request(
                "GET",
                &path,
                &[
                    ("accept-encoding", BROWSER_ACCEPT_ENCODING),
                    ("Cookie", cookie),
                ],
                None,
            )
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        if r.head.status != 200 {
            return Err(format!("{path}: status {}", r.head.status));
        }
        sent.push(Sent {
            name,
            bytes: r.body.len() as u64,
            encoding: r
                .head
                .header("content-encoding")
                .unwrap_or("identity")
                .to_owned(),
        });
    }
    Ok(sent)
}

async fn history(plan: &Plan) -> Res<History> {
    let db = plan.path("history.db");
    let url = sqlite_url(&db);
    let files = plan.path("files");
    let options = |log: &str| HeadwayOptions {
        bin: &plan.bin,
        database_url: &url,
        role: ProcessRole::All,
        site_root: &plan.site_root,
        data_root: &files,
        max_running: 16,
        log: plan.path(log),
        commands: None,
        workflows: None,
    };
    log("page: creating two users");
    let server = Server::headway(options("history-1.log")).await?;
    let users = two_users(server.addr).await;
    let stopped = server.stop().await;
    let (cookie_a, cookie_b, first_job) = users?;
    stopped?;

    log(format!("page: seeding {} jobs", plan.history_jobs));
    // Through Headway's own store, with the server stopped. `Shared` does not take the lock a
    // server holds, and the store is dropped (its writer thread with it) before Headway starts
    // again on the file.
    let (newest, seed_s) = {
        let store = seed::open(&db, Access::Shared).await?;
        let owner = seed::owner_of(&store, &cookie_a)
            .await
            .map_err(|e| format!("finding the user of the first session: {e}"))?;
        let started = Instant::now();
        let newest =
            seed::seed_history(&store, &owner, plan.history_jobs, unix_ms() as i64).await?;
        let seed_s = started.elapsed().as_secs_f64();
        // The first job, posted through the server, is the same user's.
        if store
            .job(Some(&owner), &crate::id(&first_job)?)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err("the first job does not belong to the first session's user".into());
        }
        (newest, seed_s)
    };
    log(format!("page: seeded in {seed_s:.1} s; restarting Headway"));

    let started = Instant::now();
    let server = Server::headway(options("history-2.log")).await?;
    let restart_s = started.elapsed().as_secs_f64();
    let result = match sent_to_a_browser(plan, server.addr, &cookie_a).await {
        Ok(sent) => measure(plan, server.addr, &cookie_a, &cookie_b, &newest)
            .await
            .map(|m| (m, sent)),
        Err(e) => Err(e),
    };
    let stopped = server.stop().await;
    let (measured, sent) = result?;
    stopped?;
    Ok(History {
        measured,
        sent,
        seed_s,
        restart_s,
    })
}

/// Two users of a running server: A, whoever posted a first job (which has succeeded by the
/// time this returns, so that nothing is running when the server stops), and B, a session with
/// no jobs. Returns their cookies and the id of A's job.
pub(crate) async fn two_users(addr: std::net::SocketAddr) -> Res<(String, String, String)> {
    // User A: whoever posts this job; user B: a session with no jobs.
    let body = br#"{"kind":"demo","params":{"steps":1,"interval_ms":0}}"#;
    let r = http::fetch(
        addr,
        "POST",
        "/api/v1/jobs",
        &[],
        Some(("application/json", &body[..])),
    )
    .await
    .map_err(|e| e.to_string())?;
    if r.head.status != 201 {
        return Err(format!("POST /api/v1/jobs answered {}", r.head.status));
    }
    let cookie_a = r
        .head
        .cookie("headway_session")
        .ok_or("no session cookie")?;
    let job: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
    let id = job["id"].as_str().ok_or("no job id")?.to_string();
    let cookie_b = new_session(addr).await?;
    // Let the job finish, so that nothing is running when the server stops.
    for _ in 0..200 {
        let r = http::fetch(
            addr,
            "GET",
            &format!("/api/v1/jobs/{id}"),
            &[("Cookie", &cookie_a)],
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&r.body).contains(r#""status":"succeeded""#) {
            return Ok((cookie_a, cookie_b, id));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the first job did not succeed within 10 s".to_string())
}

/// What one server answered, timed: the history page for a user with a long history (A) and
/// for one with none (B), a static asset, and the summary a dashboard reads again when one of
/// its user's jobs changes status (`POST /api/summary`: counts per status and the last hour's
/// chart), for A and for B.
pub(crate) struct Measured {
    pub page_a: Summary,
    pub page_b: Summary,
    pub asset: Summary,
    pub summary_a: Summary,
    pub summary_b: Summary,
    pub body_a: Vec<u8>,
    pub body_b_len: usize,
    pub asset_len: usize,
    pub summary_a_len: usize,
    pub summary_b_len: usize,
    /// The newest 50 of A's jobs through the API (`GET /api/v1/jobs?limit=50`): the baseline
    /// of the searches, measured in the same loop.
    pub list_a: Summary,
    /// Each of [`SEARCHES`]: its timings and how many jobs its first page lists.
    pub searches: Vec<(Summary, usize)>,
}

/// What people type in the history's search box, over the seeded history ([`seed`]): what it
/// matches, and the text.
pub(crate) const SEARCHES: [(&str, &str); 8] = [
    ("a kind's name, in 40 % of jobs", "demo"),
    ("a kind's title in Chinese (two characters)", "演示"),
    ("a title in Chinese, in 5 % of jobs", "夜间备份"),
    ("a word of two characters of that title", "备份"),
    ("a parameter value, in 0.005 % of jobs", "customers-42.csv"),
    (
        "words of an error message, in 3.5 % of jobs",
        "permission denied",
    ),
    ("text no job has", "no-such-text"),
    ("two characters no job has", "zq"),
];

pub(crate) async fn measure(
    plan: &Plan,
    addr: std::net::SocketAddr,
    cookie_a: &str,
    cookie_b: &str,
    newest: &str,
) -> Res<Measured> {
    let mut ca = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut cb = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut cs = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut ta, mut tb, mut ts, mut tsa, mut tsb) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut body_a, mut body_b_len, mut asset_len) = (Vec::new(), 0, 0);
    let (mut summary_a, mut summary_b_len) = (Vec::new(), 0);
    for i in 0..20 + plan.page_requests {
        let measured = i >= 20;
        let keep = |times: &mut Vec<f64>, (d, body): (f64, Vec<u8>)| {
            if measured {
                times.push(d);
            }
            body
        };
        body_a = keep(&mut ta, timed(&mut ca, "GET", "/", Some(cookie_a)).await?);
        body_b_len = keep(&mut tb, timed(&mut cb, "GET", "/", Some(cookie_b)).await?).len();
        asset_len = keep(
            &mut ts,
            timed(&mut cs, "GET", "/pkg/headway.css", None).await?,
        )
        .len();
        summary_a = keep(
            &mut tsa,
            timed(&mut ca, "POST", "/api/summary", Some(cookie_a)).await?,
        );
        summary_b_len = keep(
            &mut tsb,
            timed(&mut cb, "POST", "/api/summary", Some(cookie_b)).await?,
        )
        .len();
    }
    if !String::from_utf8_lossy(&body_a).contains(newest) {
        return Err("the history page does not list the user's newest job".into());
    }
    check_summary(&summary_a, plan.history_jobs + 1)?;

    // The searches, each beside the unfiltered page it is a filter of, alternating.
    let list = "/api/v1/jobs?limit=50";
    let mut tl = Vec::new();
    let mut searches = Vec::new();
    for (_, text) in SEARCHES {
        let path = format!(
            "/api/v1/jobs?limit=50&{}",
            serde_urlencoded::to_string([("q", text)]).map_err(|e| e.to_string())?
        );
        let (mut times, mut body) = (Vec::new(), Vec::new());
        for i in 0..5 + plan.page_requests {
            let (d, b) = timed(&mut ca, "GET", &path, Some(cookie_a)).await?;
            let (dl, _) = timed(&mut cb, "GET", list, Some(cookie_a)).await?;
            if i >= 5 {
                times.push(d);
                tl.push(dl);
            }
            body = b;
        }
        let page: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("the search for {text:?} answered no page: {e}"))?;
        let found = page["jobs"]
            .as_array()
            .ok_or_else(|| format!("the search for {text:?} answered {page}"))?
            .len();
        searches.push((Summary::of(&times), found));
    }
    Ok(Measured {
        page_a: Summary::of(&ta),
        page_b: Summary::of(&tb),
        asset: Summary::of(&ts),
        summary_a: Summary::of(&tsa),
        summary_b: Summary::of(&tsb),
        body_a,
        body_b_len,
        asset_len,
        summary_a_len: summary_a.len(),
        summary_b_len,
        list_a: Summary::of(&tl),
        searches,
    })
}

/// The summary (the counts and the chart, rendered) counts every one of the user's `jobs`.
fn check_summary(body: &[u8], jobs: u64) -> Res<()> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the summary is not JSON: {e}"))?;
    let counts = v["counts"].as_str().ok_or("the summary has no counts")?;
    let all = counts
        .split("data-status=\"all\"")
        .nth(1)
        .and_then(|rest| rest.split("<strong>").nth(1))
        .and_then(|rest| rest.split("</strong>").next())
        .ok_or("the summary's counts have no total")?;
    if all != num(jobs as f64, 0) {
        return Err(format!("the summary counts {all} jobs, not {jobs}"));
    }
    if !v["chart"].as_str().is_some_and(|c| c.contains("<svg")) {
        return Err("the summary has no chart".into());
    }
    Ok(())
}

/// The render and summary timings of [`measure`], with `jobs` the long history's size.
pub(crate) fn timings(m: &Measured, jobs: &str) -> Table {
    let mut t = Table::new(&["request", "p50 (ms)", "p99 (ms)", "max (ms)", "body bytes"]);
    let line = |name: String, s: &Summary, bytes: usize| {
        vec![
            name,
            num(s.p50, 2),
            num(s.p99, 2),
            num(s.max, 2),
            num(bytes as f64, 0),
        ]
    };
    let ratios = |name: &str, a: &Summary, b: &Summary| {
        vec![
            name.into(),
            ratio(a.p50, b.p50),
            ratio(a.p99, b.p99),
            ratio(a.max, b.max),
            String::new(),
        ]
    };
    t.row(line(
        format!("`GET /`, user with {jobs} jobs"),
        &m.page_a,
        m.body_a.len(),
    ));
    t.row(line(
        "`GET /`, user with 0 jobs (baseline)".into(),
        &m.page_b,
        m.body_b_len,
    ));
    t.row(line(
        "`GET /pkg/headway.css` (static)".into(),
        &m.asset,
        m.asset_len,
    ));
    t.row(ratios("ratio: many jobs / no jobs", &m.page_a, &m.page_b));
    t.row(line(
        format!("`POST /api/summary`, user with {jobs} jobs"),
        &m.summary_a,
        m.summary_a_len,
    ));
    t.row(line(
        "`POST /api/summary`, user with 0 jobs".into(),
        &m.summary_b,
        m.summary_b_len,
    ));
    t.row(ratios(
        "ratio: summary / `GET /`, many jobs",
        &m.summary_a,
        &m.page_a,
    ));
    t
}

/// The searches of [`measure`] over the user's `jobs`, beside the page they filter.
pub(crate) fn search_timings(m: &Measured, jobs: &str) -> Table {
    let mut t = Table::new(&[
        "search (`GET /api/v1/jobs?q=…&limit=50`)",
        "found",
        "p50 (ms)",
        "p99 (ms)",
        "p99 / newest 50",
    ]);
    t.row(vec![
        format!("none: the newest 50 of {jobs} (baseline)"),
        "50".into(),
        num(m.list_a.p50, 2),
        num(m.list_a.p99, 2),
        String::new(),
    ]);
    for ((what, text), (s, found)) in SEARCHES.iter().zip(&m.searches) {
        t.row(vec![
            format!("`{text}`: {what}"),
            num(*found as f64, 0),
            num(s.p50, 2),
            num(s.p99, 2),
            ratio(s.p99, m.list_a.p99),
        ]);
    }
    t
}

/// The slowest search of three characters or more (the search index's), and the slowest of
/// all, in ms at p99.
pub(crate) fn slowest_searches(m: &Measured) -> (f64, f64) {
    let mut indexed: f64 = 0.0;
    let mut all: f64 = 0.0;
    for ((_, text), (s, _)) in SEARCHES.iter().zip(&m.searches) {
        all = all.max(s.p99);
        if text.chars().count() >= 3 {
            indexed = indexed.max(s.p99);
        }
    }
    (indexed, all)
}

/// One request (a `POST` with an empty form), timed from writing it to reading the whole
/// body, in ms.
async fn timed(
    conn: &mut Conn,
    method: &str,
    path: &str,
    cookie: Option<&str>,
) -> Res<(f64, Vec<u8>)> {
    // A server function answers a browser's `fetch` (JSON) rather than a form it would redirect.
    let accept = if method == "POST" {
        "application/json"
    } else {
        "text/html,*/*"
    };
    let mut headers = vec![("Accept", accept)];
    if let Some(c) = cookie {
        headers.push(("Cookie", c));
    }
    let form = (method == "POST").then_some(("application/x-www-form-urlencoded", &b""[..]));
    let t = Instant::now();
    let r = conn
        .request(method, path, &headers, form)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let d = t.elapsed().as_secs_f64() * 1000.0;
    if r.head.status != 200 {
        return Err(format!(
            "{method} {path} answered {}: {}",
            r.head.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    Ok((d, r.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lazy_islands_text_is_found_in_a_module_that_holds_it() {
        assert_eq!(lazy_text_in(b"\0\0log-downloadlog-rows"), ["log-download"]);
        assert!(lazy_text_in(b"log-downloa").is_empty());
        assert!(lazy_text_in(b"").is_empty());
    }
}
