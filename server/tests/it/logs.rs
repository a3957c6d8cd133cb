//! Big logs: `GET /api/v1/jobs/{id}/log.txt` downloads a job's whole log as text, however long,
//! and only to whoever may see the job.

use crate::harness::app;
use engine::kinds::{JobContext, Kind, KindEnv, RunResult};
use model::LogLevel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A kind that exists only in these tests: writes `lines` log lines, every tenth a warning.
struct Chatty;

/// Writes many log lines at once.
#[derive(Debug, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(KindEnv))]
struct ChattyParams {
    /// How many lines.
    #[garde(range(min = 1, max = 100_000))]
    lines: u32,
}

impl Kind for Chatty {
    type Params = ChattyParams;
    const NAME: &'static str = "chatty";

    async fn run(p: ChattyParams, ctx: &mut JobContext) -> RunResult {
        for i in 1..=p.lines {
            let level = if i % 10 == 0 {
                LogLevel::Warn
            } else {
                LogLevel::Info
            };
            ctx.log(level, format!("line {i} of {}", p.lines)).await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn the_whole_log_downloads_as_text_and_only_for_its_owner() {
    let app = app().kind::<Chatty>().start().await;
    let s = app.session();
    let lines = 12_345;
    let (status, job) = s
        .create("chatty", serde_json::json!({ "lines": lines }))
        .await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let done = s.wait_finished(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    let r = s
        .http
        .get(s.url(&format!("/api/v1/jobs/{id}/log.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"chatty-{}.log\"", &id[..8])
    );
    let text = r.text().await.unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), lines as usize, "every line, across pages");
    for (i, line) in got.iter().enumerate() {
        let n = i + 1;
        let level = if n % 10 == 0 { "warn " } else { "info " };
        // `2026-11-22T15:00:00Z info  line 1 of 12345`
        let (time, rest) = line.split_once(' ').unwrap();
        assert!(time.ends_with('Z') && time.len() == 20, "{line}");
        assert_eq!(rest, format!("{level} line {n} of {lines}"), "line {n}");
    }

    // Someone else's job does not exist for them.
    let other = app.session();
    let r = other
        .http
        .get(other.url(&format!("/api/v1/jobs/{id}/log.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = s
        .http
        .get(s.url("/api/v1/jobs/00000000-0000-4000-8000-000000000000/log.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
