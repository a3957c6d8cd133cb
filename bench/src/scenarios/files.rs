//! Files: a large file uploaded (`POST /api/v1/uploads`) and a job's output of about the same
//! size downloaded (`GET /api/v1/jobs/{id}/outputs/{name}`), each against a bare axum server
//! doing the same transfer in the same run (`files-baseline-server`: the body streamed to a
//! file and synced; the same file served with `ServeDir`), with Headway's RSS sampled while
//! the bytes go through. On SQLite, then on PostgreSQL.

use super::{mib, new_session};
use crate::http::{self, parse_head, Head};
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, RssSampler, RssSpan, Server};
use crate::report::{num, ratio, Section, Table};
use crate::sse::Chunked;
use crate::stats::median;
use crate::Res;
use engine::store::postgres::throwaway::Cluster;
use serde_json::{json, Value};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes of each data row of the source file, its newline included.
const ROW_BYTES: u64 = 64 * 1024;

/// The source file's header: two columns, where every data row has one field.
const HEADER: &[u8] = b"a,b\n";

/// How far Headway's RSS may rise while a file goes through, in KiB.
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// How often RSS is sampled during a transfer.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The throwaway cluster's settings: PostgreSQL's defaults (durable commits).
const SETTINGS: &[&str] = &["max_connections=200"];

/// The output the import writes its skipped rows to.
const REJECTED: &str = "rejected.csv";

/// Which server a transfer goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Headway,
    Baseline,
}

/// Who goes first in a round: the baseline in the first, then each in turn.
fn order(round: u64) -> [Target; 2] {
    if round.is_multiple_of(2) {
        [Target::Baseline, Target::Headway]
    } else {
        [Target::Headway, Target::Baseline]
    }
}

/// What one server's transfers of one kind gave, round after round.
#[derive(Debug, Default)]
struct Side {
    mb_s: Vec<f64>,
    cpu_s: Vec<f64>,
    rss: Vec<RssSpan>,
}

impl Side {
    fn record(&mut self, bytes: u64, t: &Timed) {
        self.mb_s
            .push(bytes as f64 / t.exchange.secs.max(1e-9) / 1e6);
        if let Some(c) = t.cpu_s {
            self.cpu_s.push(c);
        }
        self.rss.push(t.rss);
    }

    fn mb_s(&self) -> f64 {
        median(self.mb_s.clone())
    }

    /// Median CPU seconds of a transfer, per GiB moved.
    fn cpu_per_gib(&self, bytes: u64) -> f64 {
        median(self.cpu_s.clone()) / (bytes as f64 / (1u64 << 30) as f64)
    }

    /// The first sample of the first round.
    fn rss_before(&self) -> Option<u64> {
        self.rss.first()?.before
    }

    /// The highest sample of any round.
    fn rss_peak(&self) -> Option<u64> {
        self.rss.iter().filter_map(|r| r.peak).max()
    }

    /// The largest rise within a round.
    fn rss_increase(&self) -> Option<u64> {
        self.rss.iter().filter_map(RssSpan::increase).max()
    }
}

/// Both servers' transfers of one kind.
#[derive(Debug, Default)]
struct Transfer {
    bytes: u64,
    headway: Side,
    baseline: Side,
}

impl Transfer {
    fn new(bytes: u64) -> Transfer {
        Transfer {
            bytes,
            ..Transfer::default()
        }
    }

    fn side(&mut self, target: Target) -> &mut Side {
        match target {
            Target::Headway => &mut self.headway,
            Target::Baseline => &mut self.baseline,
        }
    }

    fn ratio(&self) -> f64 {
        self.headway.mb_s() / self.baseline.mb_s()
    }
}

/// What one backend measured.
struct Measured {
    upload: Transfer,
    download: Transfer,
    import_s: f64,
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Files");
    let size = size_text(plan.file_bytes);
    let source = plan.path("files-source.csv");
    log(format!("files: writing a {size} CSV file"));
    let rows = match generate(&source, plan.file_bytes).await {
        Ok(rows) => rows,
        Err(e) => {
            s.fail(format!("cannot write the source file: {e}"));
            return s;
        }
    };
    s.method = method(plan, &size, rows);
    let mut t = Table::new(&[
        "",
        "Headway (MB/s)",
        "baseline (MB/s)",
        "Headway / baseline",
        "each round, Headway / baseline (MB/s)",
        "server CPU per GiB (s), Headway / baseline",
        "Headway RSS before → peak (MiB)",
        "Headway RSS increase (MiB)",
        "increase < 64 MiB",
        "baseline RSS increase (MiB)",
    ]);

    let sqlite = backend(
        plan,
        "sqlite",
        &sqlite_url(&plan.path("files.db")),
        &source,
        rows,
    )
    .await;
    report(&mut s, &mut t, "SQLite", sqlite, &size, rows);

    log("files: starting a throwaway PostgreSQL cluster");
    let postgres = match tokio::task::spawn_blocking(|| Cluster::start(SETTINGS)).await {
        Ok(Ok(cluster)) => {
            let measured = match cluster.fresh_database().await {
                Ok(url) => backend(plan, "postgres", &url, &source, rows).await,
                Err(e) => Err(format!("a fresh database: {e}")),
            };
            // Dropping the cluster waits for `pg_virtualenv` to remove it.
            let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
            measured
        }
        Ok(Err(e)) => Err(format!("cannot start a throwaway PostgreSQL cluster: {e}")),
        Err(e) => Err(format!(
            "starting a throwaway PostgreSQL cluster failed: {e}"
        )),
    };
    report(&mut s, &mut t, "PostgreSQL", postgres, &size, rows);
    if !t.rows.is_empty() {
        s.tables.push(t);
    }
    let _ = std::fs::remove_file(&source);
    s
}

fn method(plan: &Plan, size: &str, rows: u64) -> String {
    format!(
        "A {size} CSV file ({bytes} bytes: a header of two columns, then {rows} rows of up to \
         64 KiB of one field each), written once to this machine's disk and synced before the \
         first measurement, is uploaded to Headway, and a job's output of about the same size \
         downloaded from it, each next to the same transfer with a bare axum server \
         (`headway-bench files-baseline-server`, its own process, the same axum/hyper/tokio) in \
         the same run, on the same disk. One client for all: one HTTP/1.1 connection per \
         transfer, closed after it; time = connect → the whole answer read; MB/s = 10⁶ bytes \
         per second.\n\n\
         **Upload.** `POST /api/v1/uploads` of one session, the file as the whole body \
         (`Content-Type: text/csv`, `X-File-Name`, `Content-Length`), sent from the file with \
         `sendfile` (Rust's `std::io::copy`, so it does not pass through the client's memory). \
         Headway streams it into its file store (`--file-store`, a folder of the bench's own), \
         hashing it (SHA-256) on the way, syncs it, records it and answers 201 with its size, \
         which must be the file's. Baseline: `POST /upload/{{name}}`, a handler that writes the \
         request body into a file chunk by chunk with `tokio::fs::File`, syncs it \
         (`sync_data`, as Headway syncs an upload before answering) and answers 201 with its \
         size.\n\n\
         **Download.** The first upload is imported with `import_csv` \
         (`{{\"upload\": id, \"table\": …}}`): every row has one field where the header has \
         two, so every row is skipped and written as it was, after its line number and the \
         reason, to the job's output `{REJECTED}`, an output of about the upload's size (of \
         the other built-in kinds with an output, `checksum` writes a small manifest and \
         `export_jobs` its owner's jobs). \
         `GET /api/v1/jobs/{{id}}/outputs/{REJECTED}` (Headway serves it with \
         `tower_http::services::ServeFile`, as an attachment) against \
         `tower_http::services::ServeDir` serving Headway's file store: a `GET` of the very \
         same file. The body is read 1 MiB at a time and counted, and the count must be the \
         output's size.\n\n\
         Each transfer is measured in {rounds} rounds of both servers, the one that goes first \
         alternating (the baseline in the first round), with a pause of {pause} ms before each; \
         the table gives the medians, their ratio and every round. RSS is VmRSS of \
         /proc/PID/status of the server, sampled every 50 ms from just before a transfer to \
         just after its answer: before = the first sample of the first round, peak = the \
         highest of any round, increase = the largest rise within a round (its highest sample \
         − its first), against a bound of 64 MiB. Server CPU = the server process's user + \
         system time during a transfer (median of the rounds), per GiB. Headway runs on SQLite \
         (a fresh file), then on PostgreSQL (a fresh database of a throwaway cluster of the \
         bench's own, started with `pg_virtualenv`: PostgreSQL's default, durable settings), \
         with `--max-running 16` and its default limits (`--max-upload-bytes` 1 GiB). Between \
         transfers the uploads after the first are deleted (`DELETE /api/v1/uploads/{{id}}`) \
         and the baseline's file removed. The page cache is left alone: the source file and \
         the output are read from memory, and each upload reaches the disk by its sync.",
        bytes = num(plan.file_bytes as f64, 0),
        rows = num(rows as f64, 0),
        rounds = plan.file_rounds,
        pause = pause(plan).as_millis(),
    )
}

/// The rows and targets of one backend.
fn report(
    s: &mut Section,
    t: &mut Table,
    db: &str,
    measured: Res<Measured>,
    size: &str,
    rows: u64,
) {
    let m = match measured {
        Ok(m) => m,
        Err(e) => {
            s.fail(format!("{db}: {e}"));
            return;
        }
    };
    for (what, tr) in [("upload", &m.upload), ("download", &m.download)] {
        let rounds = tr
            .headway
            .mb_s
            .iter()
            .zip(&tr.baseline.mb_s)
            .map(|(h, b)| format!("{} / {}", num(*h, 0), num(*b, 0)))
            .collect::<Vec<_>>()
            .join(", ");
        let increase = tr.headway.rss_increase();
        t.row(vec![
            format!("**{db}: {what}** of {}", size_text(tr.bytes)),
            format!("**{}**", num(tr.headway.mb_s(), 0)),
            num(tr.baseline.mb_s(), 0),
            ratio(tr.headway.mb_s(), tr.baseline.mb_s()),
            rounds,
            format!(
                "{} / {}",
                num(tr.headway.cpu_per_gib(tr.bytes), 2),
                num(tr.baseline.cpu_per_gib(tr.bytes), 2)
            ),
            format!(
                "{} → {}",
                mib(tr.headway.rss_before()),
                mib(tr.headway.rss_peak())
            ),
            mib(increase),
            match increase {
                Some(kib) if kib < RSS_BOUND_KIB => "pass".into(),
                Some(_) => "**fail**".into(),
                None => "–".into(),
            },
            mib(tr.baseline.rss_increase()),
        ]);
    }
    s.notes.push(format!(
        "{db}: importing the upload ({} rows, every one skipped) took {} s; `{REJECTED}` is {} \
         bytes.",
        num(rows as f64, 0),
        num(m.import_s, 1),
        num(m.download.bytes as f64, 0)
    ));
    let (up, down) = (&m.upload, &m.download);
    s.verdict(
        &format!("Files on {db}: upload of {size} ≥ 0.7× a bare axum handler"),
        format!(
            "{} vs {} MB/s = {}",
            num(up.headway.mb_s(), 0),
            num(up.baseline.mb_s(), 0),
            ratio(up.headway.mb_s(), up.baseline.mb_s())
        ),
        up.ratio() >= 0.7,
    );
    s.verdict(
        &format!("Files on {db}: download of {size} ≥ 0.8× ServeDir"),
        format!(
            "{} vs {} MB/s = {}",
            num(down.headway.mb_s(), 0),
            num(down.baseline.mb_s(), 0),
            ratio(down.headway.mb_s(), down.baseline.mb_s())
        ),
        down.ratio() >= 0.8,
    );
    let increase = up.headway.rss_increase();
    s.verdict(
        &format!("Files on {db}: RSS rises < 64 MiB during an upload of {size}"),
        format!(
            "+{} MiB ({} → {} MiB; during a download +{} MiB)",
            mib(increase),
            mib(up.headway.rss_before()),
            mib(up.headway.rss_peak()),
            mib(down.headway.rss_increase())
        ),
        increase.is_some_and(|kib| kib < RSS_BOUND_KIB),
    );
}

/// A size as people say it: `1 GiB`, `4 MiB`, `1.5 MiB`.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

/// Writes the source file's `total` bytes to `w`: [`HEADER`], then rows of [`ROW_BYTES`] (the
/// last one shorter, without its newline if it is a single byte) of one field each, so that
/// `import_csv` skips every one (one field where the header names two) and writes it to
/// [`REJECTED`]. Returns the number of data rows.
fn write_source(w: &mut impl Write, total: u64) -> io::Result<u64> {
    let body = total
        .checked_sub(HEADER.len() as u64)
        .filter(|b| *b > 0)
        .ok_or_else(|| io::Error::other(format!("{total} bytes leave no room for a row")))?;
    w.write_all(HEADER)?;
    let mut row = vec![b'x'; ROW_BYTES as usize];
    row[ROW_BYTES as usize - 1] = b'\n';
    let (full, rest) = (body / ROW_BYTES, body % ROW_BYTES);
    for _ in 0..full {
        w.write_all(&row)?;
    }
    match rest {
        0 => {}
        1 => w.write_all(b"x")?,
        n => w.write_all(&row[(ROW_BYTES - n) as usize..])?,
    }
    Ok(full + u64::from(rest > 0))
}

/// Writes the source file at `path` and syncs it, so that writing it back does not overlap the
/// measurements. Returns its number of data rows.
async fn generate(path: &Path, total: u64) -> Res<u64> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> io::Result<u64> {
        let file = std::fs::File::create(&path)?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        let rows = write_source(&mut w, total)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(rows)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// One backend: Headway on `url` with a file store of its own, the baseline serving that
/// store, both measured and stopped; their files are removed afterwards (the logs stay).
async fn backend(plan: &Plan, tag: &str, url: &str, source: &Path, rows: u64) -> Res<Measured> {
    let dir = plan.path(&format!("files-{tag}"));
    // Headway's file store is its data folder's sibling `store` (see `Server::headway`).
    let (data, store, received) = (dir.join("data"), dir.join("store"), dir.join("baseline"));
    for d in [&data, &store, &received] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    log(format!("files: {tag}, starting Headway and the baseline"));
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: url,
        site_root: &plan.site_root,
        data_root: &data,
        max_running: 16,
        role: ProcessRole::All,
        log: plan.path(&format!("files-{tag}.log")),
        commands: None,
        workflows: None,
    })
    .await?;
    let baseline = match Server::files_baseline(
        &plan.exe,
        &received,
        &store,
        plan.path(&format!("files-{tag}-baseline.log")),
    )
    .await
    {
        Ok(b) => b,
        Err(e) => {
            let _ = server.stop().await;
            return Err(e);
        }
    };
    let sites = Sites {
        headway: &server,
        baseline: &baseline,
        store: &store,
        received: &received,
    };
    let result = drive(plan, tag, &sites, source, rows).await;
    let stopped = super::stop_all(vec![server, baseline]).await;
    let _ = std::fs::remove_dir_all(&dir);
    let measured = result?;
    stopped?;
    Ok(measured)
}

/// The two servers of a backend and their folders.
struct Sites<'a> {
    headway: &'a Server,
    baseline: &'a Server,
    /// Headway's file store, which the baseline serves.
    store: &'a Path,
    /// Where the baseline writes uploads.
    received: &'a Path,
}

async fn drive(
    plan: &Plan,
    tag: &str,
    sites: &Sites<'_>,
    source: &Path,
    rows: u64,
) -> Res<Measured> {
    let bytes = plan.file_bytes;
    let (hw, base) = (sites.headway, sites.baseline);
    let cookie = new_session(hw.addr).await?;
    let wait = pause(plan);

    let mut upload = Transfer::new(bytes);
    let mut first_upload: Option<String> = None;
    for round in 0..plan.file_rounds {
        for target in order(round) {
            tokio::time::sleep(wait).await;
            let timed = match target {
                Target::Baseline => {
                    let head = request_head(
                        "POST",
                        "/upload/source.csv",
                        base.addr,
                        &[("Content-Type", "text/csv")],
                        Some(bytes),
                    );
                    let t = timed(base, head, Some(source.to_path_buf()), true)
                        .await
                        .map_err(|e| format!("upload to the baseline: {e}"))?;
                    let answer = t.json();
                    if t.exchange.head.status != 201 || answer["size"] != json!(bytes) {
                        return Err(format!(
                            "the baseline answered the upload {}: {}",
                            t.exchange.head.status,
                            t.text()
                        ));
                    }
                    let _ = std::fs::remove_file(sites.received.join("source.csv"));
                    t
                }
                Target::Headway => {
                    let head = request_head(
                        "POST",
                        "/api/v1/uploads",
                        hw.addr,
                        &[
                            ("Cookie", &cookie),
                            ("X-File-Name", "headway-bench.csv"),
                            ("Content-Type", "text/csv"),
                        ],
                        Some(bytes),
                    );
                    let t = timed(hw, head, Some(source.to_path_buf()), true)
                        .await
                        .map_err(|e| format!("POST /api/v1/uploads: {e}"))?;
                    let answer = t.json();
                    let id = answer["id"].as_str().map(str::to_string);
                    let id = match id {
                        Some(id)
                            if t.exchange.head.status == 201 && answer["size"] == json!(bytes) =>
                        {
                            id
                        }
                        _ => {
                            return Err(format!(
                                "POST /api/v1/uploads answered {}: {}",
                                t.exchange.head.status,
                                t.text()
                            ))
                        }
                    };
                    if first_upload.is_none() {
                        first_upload = Some(id);
                    } else {
                        delete_upload(hw.addr, &cookie, &id).await?;
                    }
                    t
                }
            };
            upload.side(target).record(bytes, &timed);
            log_transfer(tag, "upload", round, target, bytes, &timed);
        }
    }
    let upload_id = first_upload.ok_or("no upload was made")?;

    log(format!("files: {tag}, importing the upload"));
    let started = Instant::now();
    let limit = Duration::from_secs(120 + bytes / 5_000_000);
    let (job_id, output_bytes) = import(hw.addr, &cookie, &upload_id, rows, limit).await?;
    let import_s = started.elapsed().as_secs_f64();
    let stored = stored_output(sites.store, &job_id, output_bytes)?;

    let mut download = Transfer::new(output_bytes);
    let hw_path = format!("/api/v1/jobs/{job_id}/outputs/{REJECTED}");
    let base_path = format!("/files/outputs/{job_id}/{stored}");
    for round in 0..plan.file_rounds {
        for target in order(round) {
            tokio::time::sleep(wait).await;
            let (server, head) = match target {
                Target::Headway => (
                    hw,
                    request_head("GET", &hw_path, hw.addr, &[("Cookie", &cookie)], None),
                ),
                Target::Baseline => (base, request_head("GET", &base_path, base.addr, &[], None)),
            };
            let t = timed(server, head, None, false)
                .await
                .map_err(|e| format!("download from {}: {e}", server.name))?;
            if t.exchange.head.status != 200 || t.exchange.bytes != output_bytes {
                return Err(format!(
                    "the download from {} answered {} with {} bytes, not {output_bytes}",
                    server.name, t.exchange.head.status, t.exchange.bytes
                ));
            }
            download.side(target).record(output_bytes, &t);
            log_transfer(tag, "download", round, target, output_bytes, &t);
        }
    }
    Ok(Measured {
        upload,
        download,
        import_s,
    })
}

/// The pause before each transfer.
fn pause(plan: &Plan) -> Duration {
    Duration::from_millis(if plan.smoke { 100 } else { 1000 })
}

fn log_transfer(tag: &str, what: &str, round: u64, target: Target, bytes: u64, t: &Timed) {
    log(format!(
        "files: {tag}, {what} round {}, {}: {:.0} MB/s, RSS +{} MiB",
        round + 1,
        match target {
            Target::Headway => "Headway",
            Target::Baseline => "baseline",
        },
        bytes as f64 / t.exchange.secs.max(1e-9) / 1e6,
        mib(t.rss.increase())
    ));
}

/// A request head for a connection closed after its answer; `length`: a body of that many
/// bytes follows.
fn request_head(
    method: &str,
    path: &str,
    addr: SocketAddr,
    headers: &[(&str, &str)],
    length: Option<u64>,
) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(n) = length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

/// Imports the upload with `import_csv` and waits (at most `limit`) for the job to succeed
/// having skipped all `rows`; returns its id and the size of its output [`REJECTED`].
async fn import(
    addr: SocketAddr,
    cookie: &str,
    upload: &str,
    rows: u64,
    limit: Duration,
) -> Res<(String, u64)> {
    let body = json!({"kind": "import_csv", "params": {"upload": upload, "table": "bench_files"}})
        .to_string();
    let mut conn = http::Conn::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let id = super::post_job(&mut conn, cookie, body.as_bytes()).await?;
    let deadline = Instant::now() + limit;
    let job = loop {
        let job = get_json(addr, cookie, &format!("/api/v1/jobs/{id}")).await?;
        let status = job["status"].as_str().unwrap_or("");
        if matches!(status, "succeeded" | "failed" | "cancelled" | "interrupted") {
            break job;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the import was still {status} after {} s",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if job["status"] != "succeeded" {
        return Err(format!(
            "the import ended {}: {}",
            job["status"], job["error"]
        ));
    }
    let result = &job["result"];
    if result["imported"] != json!(0) || result["skipped"] != json!(rows) {
        return Err(format!(
            "the import should have skipped all {rows} rows; its result: {result}"
        ));
    }
    let outputs = get_json(addr, cookie, &format!("/api/v1/jobs/{id}/outputs")).await?;
    let size = outputs
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == REJECTED))
        .and_then(|o| o["size"].as_u64())
        .ok_or_else(|| format!("the import has no output {REJECTED}: {outputs}"))?;
    Ok((id, size))
}

/// The name, in Headway's file store, of the job's one output, which must be `bytes` long.
fn stored_output(store: &Path, job: &str, bytes: u64) -> Res<String> {
    let dir = store.join("outputs").join(job);
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    match entries.as_slice() {
        [one] if one.metadata().is_ok_and(|m| m.len() == bytes) => {
            Ok(one.file_name().to_string_lossy().into_owned())
        }
        _ => Err(format!(
            "{} should hold one file of {bytes} bytes (the output), not {} file(s)",
            dir.display(),
            entries.len()
        )),
    }
}

async fn get_json(addr: SocketAddr, cookie: &str, path: &str) -> Res<Value> {
    let r = http::fetch(addr, "GET", path, &[("Cookie", cookie)], None)
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    if r.head.status != 200 {
        return Err(format!(
            "GET {path} answered {}: {}",
            r.head.status,
            r.text()
        ));
    }
    serde_json::from_slice(&r.body).map_err(|e| format!("GET {path}: {e}"))
}

async fn delete_upload(addr: SocketAddr, cookie: &str, id: &str) -> Res<()> {
    let path = format!("/api/v1/uploads/{id}");
    let r = http::fetch(addr, "DELETE", &path, &[("Cookie", cookie)], None)
        .await
        .map_err(|e| format!("DELETE {path}: {e}"))?;
    if r.head.status != 204 {
        return Err(format!(
            "DELETE {path} answered {}: {}",
            r.head.status,
            r.text()
        ));
    }
    Ok(())
}

/// One transfer and what the server did meanwhile.
struct Timed {
    exchange: Exchange,
    rss: RssSpan,
    cpu_s: Option<f64>,
}

impl Timed {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.exchange.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.exchange.body).into_owned()
    }
}

/// Runs [`exchange`] with `server` (on the blocking pool), sampling the server's RSS and CPU
/// time meanwhile.
async fn timed(server: &Server, head: String, body: Option<PathBuf>, keep: bool) -> Res<Timed> {
    let addr = server.addr;
    let cpu_before = server.cpu_secs();
    let sampler = RssSampler::start(server.pid, SAMPLE_EVERY);
    let exchanged =
        tokio::task::spawn_blocking(move || exchange(addr, &head, body.as_deref(), keep)).await;
    let rss = sampler.stop().await;
    let cpu_after = server.cpu_secs();
    let exchange = exchanged
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(Timed {
        exchange,
        rss,
        cpu_s: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
    })
}

/// What a request brought back.
#[derive(Debug)]
struct Exchange {
    head: Head,
    /// The answer's body, if kept.
    body: Vec<u8>,
    /// Bytes of the answer's body.
    bytes: u64,
    /// From connecting to the last byte of the answer.
    secs: f64,
}

/// One request on a new connection: `head`, then the file `body` if any, sent with
/// `std::io::copy` (`sendfile` from a file to a socket on Linux), then the whole answer read
/// (its body kept only if `keep`, otherwise counted).
fn exchange(addr: SocketAddr, head: &str, body: Option<&Path>, keep: bool) -> io::Result<Exchange> {
    let started = Instant::now();
    let mut sock = std::net::TcpStream::connect(addr)?;
    sock.set_nodelay(true)?;
    sock.set_read_timeout(Some(Duration::from_secs(600)))?;
    sock.write_all(head.as_bytes())?;
    let sent = match body {
        Some(path) => std::fs::File::open(path).and_then(|mut f| io::copy(&mut f, &mut sock)),
        None => Ok(0),
    };
    // A server may answer before the whole body has arrived (a refusal): read it anyway.
    let answer = read_answer(&mut sock, keep);
    let secs = started.elapsed().as_secs_f64();
    let (head, body, bytes) = match (answer, sent) {
        (Ok(a), _) => a,
        (Err(e), Ok(_)) => return Err(e),
        (Err(e), Err(s)) => return Err(io::Error::other(format!("{s}; then {e}"))),
    };
    Ok(Exchange {
        head,
        body,
        bytes,
        secs,
    })
}

/// Reads an answer from `r`: its head, and its body (by `Content-Length`, chunks, or up to the
/// end of the connection), kept if `keep`; returns the head, what was kept and the body's size.
fn read_answer(r: &mut impl Read, keep: bool) -> io::Result<(Head, Vec<u8>, u64)> {
    let eof = || io::Error::from(io::ErrorKind::UnexpectedEof);
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut buf = vec![0u8; 1 << 20];
    let mut pending = Vec::new();
    let end = loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if pending.len() > 64 * 1024 {
            return Err(bad("response head too large"));
        }
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Err(eof());
        }
        pending.extend_from_slice(&buf[..n]);
    };
    let head = parse_head(&pending[..end])?;
    let first = pending.split_off(end + 4);
    let mut kept = Vec::new();
    let mut bytes = 0u64;
    let mut take = |d: &[u8]| {
        bytes += d.len() as u64;
        if keep {
            kept.extend_from_slice(d);
        }
    };
    if head.is_chunked() {
        let mut decoder = Chunked::default();
        let mut input = first;
        while !decoder.feed(&input, &mut take).map_err(bad)? {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Err(eof());
            }
            input.clear();
            input.extend_from_slice(&buf[..n]);
        }
    } else if let Some(len) = head.header("content-length") {
        let len: u64 = len.parse().map_err(|_| bad("bad content-length"))?;
        let mut got = first.len().min(len as usize) as u64;
        take(&first[..got as usize]);
        while got < len {
            let want = (len - got).min(buf.len() as u64) as usize;
            let n = r.read(&mut buf[..want])?;
            if n == 0 {
                return Err(eof());
            }
            got += n as u64;
            take(&buf[..n]);
        }
    } else {
        take(&first);
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            take(&buf[..n]);
        }
    }
    Ok((head, kept, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every data row of the source has one field where the header names two (so the import
    /// skips them all), no row is empty, and the file is exactly as long as asked.
    #[test]
    fn the_source_is_exactly_its_size_and_every_row_is_one_field() {
        let header = HEADER.len() as u64;
        for total in [
            header + 1,
            header + 2,
            header + ROW_BYTES,
            header + ROW_BYTES + 1,
            header + 3 * ROW_BYTES - 7,
            1 << 20,
        ] {
            let mut out = Vec::new();
            let rows = write_source(&mut out, total).unwrap();
            assert_eq!(out.len() as u64, total);
            let text = String::from_utf8(out).unwrap();
            let mut lines = text.split_terminator('\n');
            assert_eq!(lines.next(), Some("a,b"));
            let data: Vec<&str> = lines.collect();
            assert_eq!(data.len() as u64, rows, "{total}");
            assert_eq!(rows, (total - header).div_ceil(ROW_BYTES));
            assert!(data
                .iter()
                .all(|l| !l.is_empty() && !l.contains(',') && l.len() < ROW_BYTES as usize));
        }
        assert!(write_source(&mut Vec::new(), header).is_err());
        assert_eq!(write_source(&mut io::sink(), 1 << 30).unwrap(), 16_384);
    }

    #[test]
    fn answers_are_read_whole_or_counted() {
        let plain = b"HTTP/1.1 201 Created\r\ncontent-length: 11\r\n\r\n{\"size\":42}";
        let (head, body, bytes) = read_answer(&mut &plain[..], true).unwrap();
        assert_eq!(
            (head.status, body.as_slice(), bytes),
            (201, &b"{\"size\":42}"[..], 11)
        );

        let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n".to_vec();
        big.resize(big.len() + 3_000_000, b'x');
        let (head, body, bytes) = read_answer(&mut &big[..], false).unwrap();
        assert_eq!((head.status, body.len(), bytes), (200, 0, 3_000_000));
        let cut = &big[..big.len() - 1];
        assert!(read_answer(&mut &cut[..], false).is_err());

        let chunked =
            b"HTTP/1.1 413 Payload Too Large\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (head, body, bytes) = read_answer(&mut &chunked[..], true).unwrap();
        assert_eq!(
            (head.status, body.as_slice(), bytes),
            (413, &b"abcde"[..], 5)
        );

        let to_end = b"HTTP/1.1 200 OK\r\n\r\nuntil the end";
        let (_, body, _) = read_answer(&mut &to_end[..], true).unwrap();
        assert_eq!(body, b"until the end");
    }

    #[test]
    fn rounds_alternate_who_goes_first_and_sizes_read_as_people_say_them() {
        assert_eq!(order(0), [Target::Baseline, Target::Headway]);
        assert_eq!(order(1), [Target::Headway, Target::Baseline]);
        assert_eq!(order(2), order(0));
        assert_eq!(size_text(1 << 30), "1 GiB");
        assert_eq!(size_text((1 << 30) + 447_662), "1.00 GiB");
        assert_eq!(size_text(4 << 20), "4 MiB");
        assert_eq!(size_text(3 << 19), "1.5 MiB");
        assert_eq!(size_text(1000), "1000 bytes");
        assert_eq!(
            request_head(
                "POST",
                "/u",
                "127.0.0.1:9".parse().unwrap(),
                &[("A", "b")],
                Some(5)
            ),
            "POST /u HTTP/1.1\r\nHost: 127.0.0.1:9\r\nA: b\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn a_side_keeps_medians_and_the_largest_rise() {
        let mut side = Side::default();
        for (secs, before, peak) in [(1.0, 100, 150), (2.0, 120, 130), (0.5, 90, 200)] {
            let t = Timed {
                exchange: Exchange {
                    head: parse_head(b"HTTP/1.1 200 OK").unwrap(),
                    body: Vec::new(),
                    bytes: 0,
                    secs,
                },
                rss: RssSpan {
                    before: Some(before),
                    peak: Some(peak),
                    samples: 2,
                },
                cpu_s: Some(secs / 2.0),
            };
            side.record(1 << 30, &t);
        }
        assert!((side.mb_s() - (1u64 << 30) as f64 / 1e6).abs() < 1e-6);
        assert!((side.cpu_per_gib(1 << 30) - 0.5).abs() < 1e-9);
        assert_eq!(side.rss_before(), Some(100));
        assert_eq!(side.rss_peak(), Some(200));
        assert_eq!(side.rss_increase(), Some(110));
    }
}
