//! Files in and out: uploads streamed in (`POST /api/v1/uploads`), used by a job, listed and
//! deleted; the job's outputs listed and downloaded (attachment, nosniff, ranges, never
//! compressed); who may see what; the size limit, the quota, bad files, a cut connection, a
//! flood of one user's uploads, and the sweep of uploads no job used and of expired outputs.

use crate::client::*;
use crate::harness::{app, App};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// `POST /api/v1/uploads` with `bytes` as the body, named `name`.
pub(crate) async fn upload(
    s: &Session,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/uploads"))
        .header("x-file-name", model::url_encode(name))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The files in the file store's `dir` (`uploads`, `tmp`…).
fn files_in(app: &App, dir: &str) -> usize {
    std::fs::read_dir(app.dir().join("store").join(dir))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits (bounded) until `check` holds, looking again every 20 ms.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const PEOPLE: &str = "name,age\nAda,36\nBob\nGrace,45\n";

#[tokio::test]
async fn an_upload_feeds_an_import_whose_outputs_download_as_attachments_with_ranges() {
    let app = app().start().await;
    let s = app.session();
    let (status, up) = upload(&s, "people ✓.csv", "text/csv", PEOPLE.into()).await;
    assert_eq!(status, 201, "{up}");
    let sha = Sha256::digest(PEOPLE.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(
        (&up["name"], &up["size"], &up["sha256"], &up["content_type"]),
        (
            &json!("people ✓.csv"),
            &json!(PEOPLE.len()),
            &json!(sha),
            &json!("text/csv")
        )
    );
    let id = up["id"].as_str().unwrap().to_string();
    let (_, listed) = s.get("/api/v1/uploads").await;
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");

    // The kind describes its file field.
    let (_, kinds) = s.get("/api/v1/kinds").await;
    let import = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "import_csv")
        .unwrap();
    let field = import["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "upload")
        .unwrap();
    assert_eq!(field["type"], "file", "{field}");
    assert_eq!(field["accept"], json!([".csv", "text/csv"]));
    assert_eq!(field["max_bytes"], json!(1u64 << 30));

    let (status, job) = s
        .create("import_csv", json!({"upload": id, "table": "people"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    let done = s.wait_finished(&job_id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"],
        json!({"imported": 2, "skipped": 1, "table": "people", "database": "imports.db"})
    );
    let (_, outputs) = s.get(&format!("/api/v1/jobs/{job_id}/outputs")).await;
    assert_eq!(outputs.as_array().unwrap().len(), 1, "{outputs}");
    assert_eq!(outputs[0]["name"], "rejected.csv");
    let rejected = "line,reason,name,age\n3,1 fields instead of 2,Bob\n";
    assert_eq!(outputs[0]["size"], json!(rejected.len()));

    let url = s.url(&format!("/api/v1/jobs/{job_id}/outputs/rejected.csv"));
    let r = s
        .http
        .get(&url)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"rejected.csv\"; filename*=UTF-8''rejected.csv"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(
        h.get("content-encoding").is_none(),
        "a download is never compressed"
    );
    assert_eq!(r.text().await.unwrap(), rejected);
    let part = s
        .http
        .get(&url)
        .header("range", "bytes=5-10")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 5-10/{}", rejected.len()).as_str()
    );
    assert_eq!(part.text().await.unwrap(), &rejected[5..=10]);

    // A job used it: it stays with the job.
    let r = s
        .http
        .delete(s.url(&format!("/api/v1/uploads/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // Someone else sees none of it, and cannot use it.
    let other = app.session();
    assert_eq!(other.get(&format!("/api/v1/uploads/{id}")).await.0, 404);
    assert_eq!(
        other.get(&format!("/api/v1/jobs/{job_id}/outputs")).await.0,
        404
    );
    let r = other.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let (status, refused) = other
        .create("import_csv", json!({"upload": id, "table": "theirs"}))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is neither one of your uploads"),
        "{refused}"
    );
    let (_, theirs) = other.get("/api/v1/uploads").await;
    assert_eq!(theirs, json!([]));
}

#[tokio::test]
async fn sizes_past_the_limit_or_the_quota_and_bad_files_are_refused_and_nothing_is_kept() {
    let app = app()
        .with(|c| {
            c.max_upload_bytes = 16 << 20;
            c.upload_quota_bytes = 20 << 20;
        })
        .start()
        .await;
    let s = app.session();
    // Over the limit, declared or not: 413 saying which limit, the body read through first.
    let (status, e) = upload(&s, "big.csv", "text/csv", vec![b'a'; 17 << 20]).await;
    assert_eq!(status, 413, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("--max-upload-bytes"),
        "{e}"
    );
    let chunks = futures::stream::iter(
        (0..17).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 1 << 20]))),
    );
    let r = s
        .http
        .post(s.url("/api/v1/uploads"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Within the limit, past the quota.
    let (status, kept) = upload(&s, "a.csv", "text/csv", vec![b'a'; 12 << 20]).await;
    assert_eq!(status, 201);
    let (status, e) = upload(&s, "b.csv", "text/csv", vec![b'a'; 12 << 20]).await;
    assert_eq!(status, 413, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("upload quota"),
        "{e}"
    );
    // Empty.
    let (status, e) = upload(&s, "empty.csv", "text/csv", Vec::new()).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["fields"][0]["message"], "the file is empty");
    let (_, listed) = s.get("/api/v1/uploads").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(files_in(&app, "uploads"), 1);
    assert_eq!(files_in(&app, "tmp"), 0);

    // Files that are not what the parameter takes are refused when the job starts.
    let refusal = |name: &'static str, bytes: Vec<u8>| {
        let s = &s;
        async move {
            let (status, up) = upload(s, name, "application/octet-stream", bytes).await;
            assert_eq!(status, 201, "{up}");
            let (status, e) = s
                .create("import_csv", json!({"upload": up["id"], "table": "t"}))
                .await;
            assert_eq!(status, 422, "{e}");
            e["fields"][0]["message"].as_str().unwrap().to_string()
        }
    };
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend(vec![0u8; 1000]);
    assert!(refusal("bomb.csv", zip)
        .await
        .contains("looks like a zip archive"));
    assert!(refusal("photo.png", b"a,b\n".to_vec())
        .await
        .contains("is not a CSV file"));
    assert!(refusal("latin1.csv", b"name\nJos\xe9\n".to_vec())
        .await
        .contains("is not UTF-8 text (invalid bytes on line 2)"));

    // An upload no job used is deleted by its owner, bytes and all, and frees its quota.
    let kept = format!("/api/v1/uploads/{}", kept["id"].as_str().unwrap());
    assert_eq!(
        app.session()
            .http
            .delete(s.url(&kept))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        s.http.delete(s.url(&kept)).send().await.unwrap().status(),
        204
    );
    assert_eq!(s.get(&kept).await.0, 404);
    // A row of 10 MiB, past what validation reads: the job fails saying where, nothing imported.
    let mut long = b"name\nAda\n".to_vec();
    long.extend(vec![b'x'; 10 << 20]);
    long.push(b'\n');
    let (status, up) = upload(&s, "long.csv", "text/csv", long).await;
    assert_eq!(status, 201, "{up}");
    let (status, job) = s
        .create("import_csv", json!({"upload": up["id"], "table": "t"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "line_too_long", "{done}");
    assert!(
        done["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{done}"
    );
    assert!(done["outputs"].as_array().unwrap().is_empty(), "{done}");
}

#[tokio::test]
async fn a_connection_cut_mid_upload_leaves_nothing_behind() {
    let app = app().start().await;
    let s = app.session();
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // A session first, so that the upload is a known user's.
    let (_, me) = s.get("/api/v1/me").await;
    assert!(me.is_object());
    let head = format!(
        "POST /api/v1/uploads HTTP/1.1\r\nHost: {}\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\n\r\n",
        app.addr,
        1 << 20
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&vec![b'a'; 100 << 10]).await.unwrap();
    until("the upload is being written", || files_in(&app, "tmp") == 1).await;
    drop(tcp);
    until("the half-written file is deleted", || {
        files_in(&app, "tmp") == 0
    })
    .await;
    assert_eq!(files_in(&app, "uploads"), 0);
}

#[tokio::test]
async fn one_user_sending_many_files_at_once_is_held_to_a_few_and_others_upload_meanwhile() {
    let app = app().start().await;
    let flooder = app.session();
    let _ = flooder.get("/api/v1/me").await;
    // Four uploads that stay open: their bodies wait.
    let mut held = Vec::new();
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
        tx.send(Ok(bytes::Bytes::from_static(b"a,b\n")))
            .await
            .unwrap();
        let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
        let request = flooder
            .http
            .post(flooder.url("/api/v1/uploads"))
            .header("x-file-name", "slow.csv")
            .body(body)
            .send();
        held.push(tokio::spawn(request));
        senders.push(tx);
    }
    until("four uploads are being written", || {
        files_in(&app, "tmp") == 4
    })
    .await;
    let (status, e) = upload(&flooder, "fifth.csv", "text/csv", b"a\n".to_vec()).await;
    assert_eq!(status, 429, "{e}");
    // Everyone else goes on.
    let other = app.session();
    let (status, up) = upload(&other, "mine.csv", "text/csv", b"a\n".to_vec()).await;
    assert_eq!(status, 201, "{up}");
    drop(senders);
    for request in held {
        assert_eq!(request.await.unwrap().unwrap().status(), 201);
    }
    let (status, _) = upload(&flooder, "sixth.csv", "text/csv", b"a\n".to_vec()).await;
    assert_eq!(status, 201, "the slots are free again");
}

#[tokio::test]
async fn uploads_no_job_used_are_swept_and_outputs_expire_with_their_files() {
    let app = app()
        .with(|c| {
            c.unused_upload_secs = 1;
            c.file_retention_secs = 3;
        })
        .start()
        .await;
    let s = app.session();
    let (_, unused) = upload(&s, "unused.csv", "text/csv", PEOPLE.into()).await;
    let (_, used) = upload(&s, "used.csv", "text/csv", PEOPLE.into()).await;
    let (status, job) = s
        .create(
            "import_csv",
            json!({"upload": used["id"], "table": "people"}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    let done = s.wait_finished(&job_id).await;
    assert_eq!(done["outputs"][0]["name"], "rejected.csv", "{done}");
    let output_dir = app.dir().join("store/outputs").join(&job_id);
    assert!(output_dir.exists());
    let unused_path = app
        .dir()
        .join("store/uploads")
        .join(unused["id"].as_str().unwrap());
    until("the unused upload is swept", || !unused_path.exists()).await;
    until("the outputs expire", || !output_dir.exists()).await;
    let job = s.job(&job_id).await;
    assert_eq!(job["outputs"], json!([]), "{job}");
    assert_eq!(job["result"]["imported"], 2, "the result stays: {job}");
    let (_, left) = s.get("/api/v1/uploads").await;
    assert_eq!(left, json!([]), "the used upload went after its retention");
    assert!(!Path::new(&unused_path).exists());
}

/// A `multipart/form-data` body of `(field, file name, bytes)` parts, and its content type.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "headway-test-2f8c41";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let head = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A browser without JavaScript: its own cookies, and redirects read rather than followed.
fn plain_browser(app: &App) -> Session {
    let mut s = app.session();
    s.http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    s
}

/// Posts the import's start form as a page without JavaScript does, from the New job page's
/// form; the answer's status and where it sends the browser.
async fn post_start(s: &Session, table: &str, file: (&str, &[u8])) -> (u16, String) {
    post_start_from(s, &s.url("/new/import_csv?x=1"), table, file).await
}

/// [`post_start`] from the page `referer` names.
async fn post_start_from(
    s: &Session,
    referer: &str,
    table: &str,
    file: (&str, &[u8]),
) -> (u16, String) {
    let (content_type, body) = multipart(&[
        ("kind", None, b"import_csv"),
        ("idempotency_key", None, engine::new_id().as_bytes()),
        // The upload's id field, empty without JavaScript, comes before the file.
        ("params[upload]", None, b""),
        ("params[upload]", Some(file.0), file.1),
        ("params[file]", None, b""),
        ("params[table]", None, table.as_bytes()),
        ("params[database]", None, b"imports.db"),
        ("max_attempts", None, b""),
    ]);
    let r = s
        .http
        .post(s.url("/start"))
        .header("content-type", content_type)
        .header("referer", referer)
        .body(body)
        .send()
        .await
        .unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), to)
}

#[tokio::test]
async fn a_page_without_javascript_uploads_the_file_and_starts_the_job_in_one_post() {
    let app = app().with(|c| c.max_upload_bytes = 1 << 20).start().await;
    let s = plain_browser(&app);
    let (status, to) = post_start(&s, "people", ("people.csv", PEOPLE.as_bytes())).await;
    // On to the new job's page.
    assert_eq!(status, 303);
    let id = to.strip_prefix("/jobs/").expect(&to).to_string();
    let (_, uploads) = s.get("/api/v1/uploads").await;
    let uploads = uploads.as_array().unwrap().clone();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(uploads[0]["name"], "people.csv");
    let (_, page) = s.list("kind=import_csv").await;
    assert_eq!(page["jobs"][0]["id"], id.as_str());
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["params"]["upload"], uploads[0]["id"]);
    assert_eq!(job["result"]["imported"], 2, "{job}");

    // Refused: back to the page with the refusal, shown at its field; the file is not kept.
    let kept = files_in(&app, "uploads");
    for (table, file, says) in [
        (
            "1people",
            ("people.csv", PEOPLE.as_bytes().to_vec()),
            "must start with a letter",
        ),
        (
            "people2",
            ("big.csv", vec![b'a'; 2 << 20]),
            "--max-upload-bytes",
        ),
        ("people3", ("empty.csv", Vec::new()), "empty"),
        ("people4", ("", Vec::new()), "choose a CSV file to upload"),
    ] {
        let (status, to) = post_start(&s, table, (file.0, &file.1)).await;
        assert_eq!(status, 303, "{table}");
        assert!(
            to.starts_with("/new/import_csv?x=1&__path=%2Fapi%2Fstart_job&__err="),
            "{table}: {to}"
        );
        let page = s.text(&to).await;
        assert!(
            page.contains(says),
            "{table}: the page does not say {says:?}"
        );
        let (_, uploads) = s.get("/api/v1/uploads").await;
        assert_eq!(uploads.as_array().unwrap().len(), 1, "{table}: {uploads}");
        assert_eq!(files_in(&app, "uploads"), kept, "{table}");
    }
    let (_, page) = s.list("kind=import_csv").await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 1);

    // Not a multipart form: refused, the same way.
    let r = s
        .http
        .post(s.url("/start"))
        .header("referer", s.url("/"))
        .form(&[("kind", "import_csv")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/?__path="), "{to}");
}

#[tokio::test]
async fn an_export_holds_the_callers_jobs_matching_its_filter_and_downloads() {
    let app = app().start().await;
    let (s, other) = (app.session(), app.session());
    let mine = [s.demo(1, 1).await, s.demo(1, 1).await];
    let theirs = other.demo(1, 1).await;
    for id in &mine {
        s.wait_finished(id).await;
    }
    other.wait_finished(&theirs).await;
    let (status, job) = s
        .create(
            "export_jobs",
            json!({"kind": "demo", "status": "succeeded"}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    let job = s.wait_finished(id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["jobs"], 2, "{job}");
    assert_eq!(job["outputs"][0]["name"], "jobs.csv", "{job}");
    let r = s
        .http
        .get(s.url(&format!("/api/v1/jobs/{id}/outputs/jobs.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("id,kind,status,created_at"), "{text}");
    // Newest first; someone else's job is not in it.
    assert!(
        lines[1].starts_with(&mine[1]) && lines[2].starts_with(&mine[0]),
        "{text}"
    );
    assert!(!text.contains(&theirs));
    // Nor may they download it.
    let r = other
        .http
        .get(other.url(&format!("/api/v1/jobs/{id}/outputs/jobs.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // A bad filter is refused before anything starts, naming the field.
    let (status, e) = s
        .create("export_jobs", json!({"format": "xlsx", "status": "done"}))
        .await;
    assert_eq!(status, 422, "{e}");
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["format", "status"], "{e}");

    // The dashboard's "Export" without JavaScript goes to the new job's page.
    let plain = plain_browser(&app);
    let r = plain
        .http
        .post(plain.url("/api/start_job"))
        .header("accept", "text/html")
        .header("referer", plain.url("/?kind=demo"))
        .form(&[
            ("kind", "export_jobs"),
            ("then", "job"),
            ("params[kind]", "demo"),
            ("params[format]", "jsonl"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id = to.strip_prefix("/jobs/").expect(&to);
    let job = plain.wait_finished(id).await;
    assert_eq!(job["outputs"][0]["name"], "jobs.jsonl", "{job}");
    assert_eq!(job["result"]["jobs"], 0, "{job}");
}

/// The cells of a CSV text, row by row (quoted cells, `""` for a quote inside).
fn csv_cells(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn no_cell_of_an_export_starts_a_formula_whatever_the_user_wrote() {
    let app = app().start().await;
    let s = app.session();
    let (status, job) = s
        .create(
            "external",
            json!({"title": "=cmd|' /C calc'!A0", "params": {"n": "=1+1"}}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let (id, token) = (
        job["id"].as_str().unwrap().to_string(),
        job["report_token"].as_str().unwrap().to_string(),
    );
    let report = json!({
        "progress": 1, "unit": "=HYPERLINK(\"http://e.x\",\"y\")", "message": "+1 rows",
        "end": {"status": "failed", "error": {"code": "@SUM(1)", "message": "-2"}},
    });
    let r = s
        .http
        .post(s.url(&format!("/api/v1/jobs/{id}/report")))
        .bearer_auth(&token)
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, export) = s.create("export_jobs", json!({"kind": "external"})).await;
    assert_eq!(status, 201, "{export}");
    let export_id = export["id"].as_str().unwrap();
    let done = s.wait_finished(export_id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let text = s
        .text(&format!("/api/v1/jobs/{export_id}/outputs/jobs.csv"))
        .await;
    let rows = csv_cells(&text);
    assert_eq!(rows.len(), 2, "{text}");
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let row = &rows[1];
    assert_eq!(row[0], id);
    assert_eq!(row[column("unit")], "'=HYPERLINK(\"http://e.x\",\"y\")");
    assert_eq!(row[column("error_code")], "'@SUM(1)");
    assert_eq!(row[column("message")], "'+1 rows");
    assert_eq!(row[column("error")], "'-2");
    for cell in row {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?} starts a formula: {text}"
        );
    }
}

#[tokio::test]
async fn the_start_form_sends_the_browser_back_to_a_page_of_this_site_only() {
    let app = app().start().await;
    let s = plain_browser(&app);
    let base = &app.base;
    for referer in [
        format!("{base}//evil.example/x"),
        format!("{base}/\\evil.example/x"),
        format!("{base}///evil.example"),
        format!("{base}/%09/evil.example"),
    ] {
        // Started (to the job's page), and refused (back, to this site's home instead).
        for table in ["people", "1people"] {
            let (status, to) =
                post_start_from(&s, &referer, table, ("people.csv", PEOPLE.as_bytes())).await;
            assert_eq!(status, 303, "{referer}");
            assert!(
                to.starts_with('/') && !to.starts_with("//") && !to.contains('\\'),
                "{referer} ({table}) sent the browser to {to}"
            );
        }
    }
    // A page of the site is kept for a refusal (with the refusal in its address); a start goes
    // to its job.
    let (_, to) = post_start_from(
        &s,
        &format!("{base}/new/import_csv?x=1"),
        "1people",
        ("people.csv", PEOPLE.as_bytes()),
    )
    .await;
    assert!(to.starts_with("/new/import_csv?x=1&"), "{to}");
    let (_, to) = post_start_from(
        &s,
        &format!("{base}/new/import_csv"),
        "people",
        ("people.csv", PEOPLE.as_bytes()),
    )
    .await;
    assert!(to.starts_with("/jobs/"), "{to}");
}

#[tokio::test]
async fn upload_names_lose_the_marks_that_turn_them_around() {
    let app = app().start().await;
    let s = app.session();
    let (status, up) = upload(&s, "\u{202e}vsc.exe", "text/csv", PEOPLE.into()).await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["name"], "vsc.exe");
    let (status, up) = upload(
        &s,
        "a\u{2066}b\u{2069}\u{200e}c\u{200f}\u{202a}d\u{1b}[2J\u{9b}.csv",
        "text/csv",
        PEOPLE.into(),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["name"], "abcd[2J.csv");
    // A multipart upload's name is made the same way.
    let (content_type, body) = multipart(&[("file", Some("\u{202e}lmth.csv"), PEOPLE.as_bytes())]);
    let r = s
        .http
        .post(s.url("/api/v1/uploads"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let up: Value = r.json().await.unwrap();
    assert_eq!(up["name"], "lmth.csv");
}

#[tokio::test]
async fn an_upload_is_read_and_deleted_by_its_owner_and_an_admin_and_used_by_its_owner_only() {
    use crate::team::{accounts_app, add_user, signed_in};
    let app = accounts_app().await;
    for (name, role) in [
        ("mia", "member"),
        ("max", "member"),
        ("val", "viewer"),
        ("otto", "operator"),
        ("ada", "admin"),
    ] {
        add_user(&app, name, role).await;
    }
    let mia = signed_in(&app, "mia").await;
    let (status, up) = upload(&mia, "people.csv", "text/csv", PEOPLE.into()).await;
    assert_eq!(status, 201, "{up}");
    let id = up["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/uploads/{id}");

    // Others, whatever their role (a viewer and an operator see every job): not found, not
    // deleted, not listed, not used.
    for name in ["max", "val", "otto"] {
        let s = signed_in(&app, name).await;
        assert_eq!(s.get(&path).await.0, 404, "{name} read it");
        let r = s.http.delete(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{name} deleted it");
        assert_eq!(s.get("/api/v1/uploads").await.1, json!([]), "{name}");
        if name != "val" {
            let (status, refused) = s
                .create("import_csv", json!({"upload": id, "table": "theirs"}))
                .await;
            assert_eq!(status, 422, "{name} used it: {refused}");
        }
    }
    let (_, listed) = mia.get("/api/v1/uploads").await;
    assert_eq!(listed[0]["id"], id.as_str(), "still there: {listed}");

    // An admin reads it, and may not use it for a job of theirs.
    let ada = signed_in(&app, "ada").await;
    let (status, read) = ada.get(&path).await;
    assert_eq!((status, &read["id"]), (200, &json!(id)), "{read}");
    assert_eq!(ada.get("/api/v1/uploads").await.1, json!([]));
    let (status, refused) = ada
        .create("import_csv", json!({"upload": id, "table": "admins"}))
        .await;
    assert_eq!(status, 422, "{refused}");

    // Its owner uses it; an operator re-runs that job, with the same upload.
    let (status, job) = mia
        .create("import_csv", json!({"upload": id, "table": "people"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    assert_eq!(mia.wait_finished(&job_id).await["status"], "succeeded");
    let otto = signed_in(&app, "otto").await;
    let (status, rerun) = otto.rerun(&job_id).await;
    assert_eq!(status, 201, "{rerun}");
    assert_eq!(rerun["params"]["upload"], id.as_str());

    // An admin deletes an upload no job used; its owner deletes their own.
    let (_, spare) = upload(&mia, "spare.csv", "text/csv", PEOPLE.into()).await;
    let spare = format!("/api/v1/uploads/{}", spare["id"].as_str().unwrap());
    let r = ada.http.delete(ada.url(&spare)).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(mia.get(&spare).await.0, 404);
    let (_, own) = upload(&mia, "own.csv", "text/csv", PEOPLE.into()).await;
    let own = format!("/api/v1/uploads/{}", own["id"].as_str().unwrap());
    let r = mia.http.delete(mia.url(&own)).send().await.unwrap();
    assert_eq!(r.status(), 204);
}
