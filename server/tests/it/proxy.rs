//! Headway behind Debian's nginx, started here on loopback with the proxy settings of
//! `docs/nginx/headway-proxy.conf` (the ones docs/DEPLOY.md gives): events pass unbuffered,
//! `Last-Event-ID` survives a reconnect through the proxy, keep-alive comments hold an idle
//! stream open past the proxy's read timeout, HTTP/2 over TLS carries the stream, and the
//! client's address reaches Headway's log only when the proxy is trusted. And what the log
//! says of a job's life.

use crate::support::Headway;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nginx's read timeout towards Headway in these tests: shorter than the idle time the
/// keep-alive test waits through.
const PROXY_READ_TIMEOUT_SECS: u64 = 3;

/// nginx in the foreground, one process, with its files in a directory of its own.
struct Nginx {
    child: Child,
    base: String,
    tls_base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is missing: make setup-test installs it (apt-get install nginx)")
}

impl Nginx {
    /// Starts nginx in front of `upstream` (`127.0.0.1:PORT`), over plain HTTP and over
    /// HTTPS with HTTP/2 (a certificate made here, by an authority of its own: `ca.pem`).
    fn start(upstream: &str, dir: &Path) -> Nginx {
        let include =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/nginx/headway-proxy.conf");
        let (port, tls_port) = (free_port(), free_port());
        // A certificate authority of its own (ca.pem, for clients to trust) and the server's
        // certificate for 127.0.0.1, signed by it.
        let openssl = |args: &[&str]| {
            let status = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl");
            assert!(status.success(), "openssl {args:?} failed");
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Headway test CA",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ]);
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "cert.pem",
        ]);
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream headway {{
        server {upstream};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            include {include};
            proxy_read_timeout {PROXY_READ_TIMEOUT_SECS}s;
        }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        location / {{
            include {include};
            proxy_read_timeout {PROXY_READ_TIMEOUT_SECS}s;
        }}
    }}
}}
"#,
            dir = dir.display(),
            include = include.display(),
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-e", "stderr"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            child,
            base: format!("http://127.0.0.1:{port}"),
            tls_base: format!("https://127.0.0.1:{tls_port}"),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One frame of an event stream, as read raw: its fields, or a comment.
#[derive(Debug)]
enum Frame {
    Event {
        id: Option<i64>,
        event: String,
        data: String,
    },
    Comment,
}

/// Reads an event stream frame by frame from the raw bytes, comments included.
struct RawStream {
    response: reqwest::Response,
    buf: String,
}

impl RawStream {
    async fn open(http: &reqwest::Client, url: &str, last_event_id: Option<i64>) -> RawStream {
        let mut req = http.get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200);
        RawStream {
            response,
            buf: String::new(),
        }
    }

    async fn next(&mut self) -> Frame {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data, mut comment) =
                    (None, String::new(), String::new(), false);
                for line in block.lines() {
                    if line.starts_with(':') {
                        comment = true;
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = v.to_string();
                    }
                }
                if !event.is_empty() {
                    return Frame::Event { id, event, data };
                }
                if comment {
                    return Frame::Comment;
                }
                continue;
            }
            let chunk = tokio::time::timeout(crate::client::WAIT, self.response.chunk())
                .await
                .expect("the stream went quiet")
                .expect("the stream broke")
                .expect("the stream ended");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads until an event satisfies `stop`; returns the events read (comments left out).
    async fn until(
        &mut self,
        mut stop: impl FnMut(&str, &Value) -> bool,
    ) -> Vec<(Option<i64>, String, Value)> {
        let mut got = Vec::new();
        loop {
            if let Frame::Event { id, event, data } = self.next().await {
                let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                let done = stop(&event, &value);
                got.push((id, event, value));
                if done {
                    return got;
                }
            }
        }
    }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn median(mut v: Vec<i64>) -> i64 {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn through_nginx_events_are_unbuffered_resume_and_outlive_the_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("headway.db").display());
    let headway = Headway::start(&db, dir.path(), &["--keep-alive-secs", "1"], &[]);
    let nginx_dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(headway.base.trim_start_matches("http://"), nginx_dir.path());
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let events_url = format!("{}/api/v1/events", nginx.base);
    let mut stream = RawStream::open(&http, &events_url, None).await;
    assert!(matches!(stream.next().await, Frame::Event { ref event, .. } if event == "snapshot"));

    // Progress through the proxy: each sample's delay from its writing to its arrival here.
    let start = |steps: u32| {
        let http = http.clone();
        let url = format!("{}/api/v1/jobs", nginx.base);
        async move {
            let r = http
                .post(url)
                .json(&serde_json::json!({"kind": "demo", "params": {"steps": steps, "interval_ms": 100}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let id = start(20).await;
    let mut delays = Vec::new();
    let seen = stream
        .until(|event, data| {
            if event == "progress" {
                if let Some(at) = data["at"].as_i64() {
                    delays.push(unix_ms() - at);
                }
            }
            event == "done" && data["job_id"] == id.as_str()
        })
        .await;
    let last = seen.iter().filter_map(|(id, _, _)| *id).max().unwrap();
    eprintln!(
        "progress delay through nginx (ms): median {}, max {}, all {delays:?}",
        median(delays.clone()),
        delays.iter().max().unwrap()
    );
    assert!(delays.len() >= 10, "{} progress samples", delays.len());
    assert!(
        median(delays.clone()) < 200,
        "events are held back by the proxy: {delays:?}"
    );

    // Idle for longer than the proxy's read timeout: keep-alive comments hold the stream open,
    // and it still carries the next job.
    let idle = Instant::now();
    let mut comments = 0;
    while idle.elapsed() < Duration::from_secs(PROXY_READ_TIMEOUT_SECS + 1) {
        if let Frame::Comment = stream.next().await {
            comments += 1;
        }
    }
    let next = start(2).await;
    stream
        .until(|event, data| event == "done" && data["job_id"] == next.as_str())
        .await;
    eprintln!("stream idle {:?} through a {PROXY_READ_TIMEOUT_SECS} s proxy timeout: {comments} keep-alive comments, still open", idle.elapsed());
    drop(stream);

    // A reconnect through the proxy with Last-Event-ID resumes after `last`: the second job's
    // events, from the first id after it, as the direct replay has them.
    let mut resumed = RawStream::open(&http, &events_url, Some(last)).await;
    let through: Vec<i64> = resumed
        .until(|event, data| event == "done" && data["job_id"] == next.as_str())
        .await
        .iter()
        .filter(|(_, event, _)| event != "snapshot")
        .filter_map(|(id, _, _)| *id)
        .collect();
    let mut direct = RawStream::open(
        &http,
        &format!("{}/api/v1/events", headway.base),
        Some(last),
    )
    .await;
    let direct: Vec<i64> = direct
        .until(|event, data| event == "done" && data["job_id"] == next.as_str())
        .await
        .iter()
        .filter(|(_, event, _)| event != "snapshot")
        .filter_map(|(id, _, _)| *id)
        .collect();
    assert!(
        through.first().is_some_and(|first| *first > last),
        "{through:?} after {last}"
    );
    assert_eq!(through, direct);

    // HTTP/2 over TLS: the same stream opens and sends its snapshot.
    let out = Command::new("curl")
        .args([
            "-sk",
            "--http2",
            "-N",
            "--max-time",
            "3",
            "-o",
            "-",
            "-w",
            "\nversion %{http_version}\n",
        ])
        .arg(format!("{}/api/v1/events", nginx.tls_base))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("event: snapshot"), "{text}");
    assert!(text.contains("version 2"), "{text}");

    // The client commands reach Headway over HTTPS, trusting the system's authorities (here,
    // the test's, through SSL_CERT_FILE), and refuse a certificate they cannot trust.
    let token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    let follow = |ca: &Path| {
        Command::new(env!("CARGO_BIN_EXE_headway"))
            .env("SSL_CERT_FILE", ca)
            .env("HEADWAY_ADMIN_TOKEN", token.trim())
            .env_remove("HEADWAY_TOKEN")
            .args([
                "--server",
                &nginx.tls_base,
                "start",
                "demo",
                "--param",
                "steps=3",
            ])
            .args(["--param", "interval_ms=10", "--follow"])
            .output()
            .expect("headway start")
    };
    let out = follow(&nginx_dir.path().join("ca.pem"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("the job succeeded"), "{err}");
    let out = follow(&nginx_dir.path().join("cert.pem"));
    assert_ne!(
        out.status.code(),
        Some(0),
        "an untrusted certificate was accepted"
    );
}

/// The `answered` record of the request with id `request_id` in a JSON log.
fn logged(log: &[String], request_id: &str) -> Value {
    log.iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["fields"]["message"] == "answered" && v["span"]["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no record of request {request_id} in:\n{}", log.join("\n")))
}

#[tokio::test]
async fn the_clients_address_is_logged_only_through_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let run = |trusted: bool, name: &str| {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let db = format!("sqlite://{}", sub.join("headway.db").display());
        let mut args = vec!["--log-format", "json"];
        if trusted {
            args.extend(["--trusted-proxy", "127.0.0.1"]);
        }
        Headway::start(&db, &sub, &args, &[])
    };
    // The client comes from 127.0.0.2; nginx reaches Headway from 127.0.0.1.
    let client: IpAddr = "127.0.0.2".parse().unwrap();
    let http = reqwest::Client::builder()
        .local_address(client)
        .build()
        .unwrap();
    for trusted in [true, false] {
        let headway = run(trusted, if trusted { "trusted" } else { "untrusted" });
        let nginx_dir = tempfile::tempdir().unwrap();
        let nginx = Nginx::start(headway.base.trim_start_matches("http://"), nginx_dir.path());
        let request_id = format!("through-proxy-{trusted}");
        let r = http
            .get(format!("{}/api/v1/kinds", nginx.base))
            .header("x-request-id", &request_id)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-request-id"], request_id.as_str());
        // A client that claims another address directly is logged as itself.
        let forged = format!("forged-{trusted}");
        let direct = http
            .get(format!("{}/api/v1/kinds", headway.base))
            .header("x-request-id", &forged)
            .header("x-forwarded-for", "203.0.113.66")
            .send()
            .await
            .unwrap();
        assert_eq!(direct.status(), 200);

        let deadline = Instant::now() + crate::client::WAIT;
        let log = loop {
            let log = headway.log();
            let has = |id: &str| log.iter().any(|l| l.contains(id) && l.contains("answered"));
            if (has(&request_id) && has(&forged)) || Instant::now() > deadline {
                break log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let record = logged(&log, &request_id);
        let expected = if trusted { "127.0.0.2" } else { "127.0.0.1" };
        assert_eq!(record["span"]["client"], expected, "{record}");
        assert_eq!(record["span"]["method"], "GET");
        assert_eq!(record["span"]["route"], "/api/v1/kinds");
        assert_eq!(record["fields"]["status"], 200);
        assert!(record["fields"]["ms"].as_f64().is_some());
        assert_eq!(logged(&log, &forged)["span"]["client"], "127.0.0.2");
    }
}

#[tokio::test]
async fn a_jobs_life_is_logged_with_its_id_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("headway.db").display());
    let headway = Headway::start(&db, dir.path(), &["--log-format", "json"], &[]);
    let s = headway.session();
    let id = s.demo(2, 1).await;
    s.wait_finished(&id).await;
    let deadline = Instant::now() + crate::client::WAIT;
    let messages = loop {
        let messages: Vec<(String, Value)> = headway
            .log()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["fields"]["job"] == id.as_str())
            .map(|v| {
                (
                    v["fields"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    v["fields"].clone(),
                )
            })
            .collect();
        if messages.len() >= 3 || Instant::now() > deadline {
            break messages;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let names: Vec<&str> = messages.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(names, ["job created", "job started", "job ended"]);
    assert!(messages.iter().all(|(_, f)| f["kind"] == "demo"));
    assert_eq!(messages[2].1["status"], "succeeded");
}
