//! Search over the history (`q` of `GET /api/v1/jobs`, the history page's box, `headway jobs
//! --search`): what a person types finds a job by its id, title, kind (its name, or its title in
//! either language), parameter values, error code and message, Chinese as well as English, on
//! both databases, through the search index for three characters or more and by reading the
//! rows for fewer; only among the jobs the caller sees.

use crate::client::Session;
use crate::team::{accounts_app, add_user, signed_in};
use serde_json::{json, Value};

/// The ids of the jobs a search for `q` lists for `s` (one page of 50).
async fn found(s: &Session, q: &str) -> Vec<String> {
    found_page(s, q, "").await.0
}

/// One page of a search: its ids and its key to the next page.
async fn found_page(s: &Session, q: &str, more: &str) -> (Vec<String>, Option<String>) {
    let query = serde_urlencoded::to_string([("q", q)]).unwrap();
    let (status, page) = s.list(&format!("{query}&limit=50{more}")).await;
    assert_eq!(status, 200, "q={q:?}: {page}");
    let ids = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    (ids, page["next"].as_str().map(String::from))
}

/// Starts an external job (it runs elsewhere: it stays running until reported) titled `title`
/// with `params`.
async fn external(s: &Session, title: &str, params: Value) -> String {
    let (status, job) = s
        .create("external", json!({"title": title, "params": params}))
        .await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_search_finds_titles_parameters_error_codes_kinds_and_live_messages_in_both_languages() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;

    let backup = external(&mia, "夜间备份 nightly backup", json!({"db": "main"})).await;
    let import = external(
        &mia,
        "import",
        json!({"file": "people.csv", "size": "large"}),
    )
    .await;
    // A demo job that fails with its error code, and one that runs on with a live message.
    let (status, failed) = mia
        .create_raw(&json!({
            "kind": "demo",
            "params": {"steps": 3, "interval_ms": 1, "fail_attempts": 1},
            "max_attempts": 1,
        }))
        .await;
    assert_eq!(status, 201, "{failed}");
    let failed = failed["id"].as_str().unwrap().to_string();
    let done = mia.wait_finished(&failed).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "demo_failure", "{done}");
    let running = mia.demo(98_765, 20).await;
    mia.wait_status(&running, "running").await;
    // Another member's job with the same title: never in Mia's results, nor hers in his.
    let his = external(&max, "夜间备份 nightly backup", json!({})).await;

    // A title, in Chinese, whole or a word of it (two characters: read row by row), in English
    // and in any case.
    assert_eq!(found(&mia, "夜间备份").await, [backup.as_str()]);
    assert_eq!(found(&mia, "备份").await, [backup.as_str()]);
    assert_eq!(found(&mia, "NIGHTLY Backup").await, [backup.as_str()]);
    // Parameter values.
    assert_eq!(found(&mia, "people.csv").await, [import.as_str()]);
    assert_eq!(found(&mia, "large").await, [import.as_str()]);
    // An error code as the failure groups show it, and the error's message.
    assert_eq!(found(&mia, "demo_failure").await, [failed.as_str()]);
    assert_eq!(found(&mia, "failed on purpose").await, [failed.as_str()]);
    // A kind by its name, and by its title in Chinese and English: its every job.
    let demos = vec![running.clone(), failed.clone()];
    assert_eq!(found(&mia, "demo").await, demos);
    assert_eq!(found(&mia, "演示").await, demos);
    // A running job's live message, which the index has not seen.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !mia.job(&running).await["progress"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("of 98,765"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no progress message"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(found(&mia, "of 98,765").await, [running.as_str()]);
    // An id by its first 8 characters, and the whole id.
    assert_eq!(found(&mia, &import[..8]).await, [import.as_str()]);
    assert_eq!(found(&mia, &import.to_uppercase()).await, [import.as_str()]);

    // Only the caller's jobs.
    assert_eq!(found(&max, "夜间备份").await, [his.as_str()]);
    assert!(found(&max, "people.csv").await.is_empty());
    assert!(found(&mia, &his).await.is_empty());

    // Nothing for what no job has; the index's own syntax and LIKE's wildcards are text.
    for q in [
        "zzz-nothing-zzz",
        "%",
        "a\" OR \"b",
        "people*",
        "NEAR(a b)",
        "备份 OR demo",
    ] {
        assert!(found(&mia, q).await.is_empty(), "{q:?} found something");
    }

    mia.cancel(&running).await;
    mia.wait_finished(&running).await;
    // Ended, its last message is in the index.
    assert_eq!(found(&mia, "of 98,765").await, [running.as_str()]);
}

#[tokio::test]
async fn a_search_pages_through_every_match_newest_first_with_filters() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(external(&mia, &format!("报表 report {i}"), json!({})).await);
        external(&mia, &format!("other {i}"), json!({})).await;
    }
    ids.reverse();
    let q = serde_urlencoded::to_string([("q", "报表 report")]).unwrap();
    let mut seen = Vec::new();
    let mut more = String::new();
    loop {
        let (status, page) = mia.list(&format!("{q}&limit=3{more}")).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) => more = format!("&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every match once, newest first");
    // With a status: the running ones; none cancelled yet.
    let (_, page) = mia.list(&format!("{q}&status=running")).await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 7, "{page}");
    let (_, page) = mia.list(&format!("{q}&status=cancelled,failed")).await;
    assert!(page["jobs"].as_array().unwrap().is_empty(), "{page}");
    let (status, page) = mia.list(&format!("{q}&kind=demo")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page["jobs"].as_array().unwrap().is_empty(), "{page}");
}

/// `headway jobs --search`: what the page finds, in the terminal.
#[tokio::test]
async fn headway_jobs_search_finds_a_kind_and_a_title() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    let backup = external(&mia, "夜间备份", json!({})).await;
    let demo = mia.demo(1, 1).await;
    mia.wait_finished(&demo).await;
    for (q, id) in [("demo", &demo), ("夜间备份", &backup)] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
            .env_remove("HEADWAY_TOKEN")
            .env("HEADWAY_ADMIN_TOKEN", app.admin_token())
            .args(["--server", &app.base, "jobs", "--search", q])
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = text.trim().lines().collect();
        assert_eq!(lines.len(), 2, "{q}: {text}");
        assert!(lines[1].contains(&id[..8]), "{q}: {text}");
    }
}
