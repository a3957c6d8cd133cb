//! Schedules through the API: they fire their jobs as their owners, once per fire time; a bad
//! expression or zone is a 422 naming it; who may see and change them; pause, resume, run now
//! and delete; overlap; fire times missed while no process ran; daylight-saving changes. (Several
//! processes and a kill -9 are in `cluster.rs`.)

use crate::client::*;
use crate::harness::{app, spawn_app, App};
use crate::team::{accounts_app, add_user, signed_in};
use serde_json::{json, Value};
use std::collections::HashSet;

pub(crate) async fn create(s: &Session, body: Value) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/schedules"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn patch(s: &Session, id: &str, body: Value) -> (u16, Value) {
    let r = s
        .http
        .patch(s.url(&format!("/api/v1/schedules/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn delete(s: &Session, id: &str) -> u16 {
    let r = s
        .http
        .delete(s.url(&format!("/api/v1/schedules/{id}")))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// A schedule of quick demo jobs on `cron`.
fn quick(cron: &str) -> Value {
    json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": cron})
}

/// The `job` events of jobs the schedule `id` started, until `n` of them were created.
async fn fired(events: &mut Events, id: &str, n: usize) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    read_until(events, |e| {
        let job = data(e);
        if e.event == "job" && job["schedule_id"] == id && job["status"] == "queued" {
            seen.push(job);
        }
        seen.len() >= n
    })
    .await;
    seen
}

#[tokio::test]
async fn a_schedule_fires_its_job_at_every_time_as_its_owner() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let (status, schedule) = create(&s, quick("* * * * * *")).await;
    assert_eq!(status, 201, "{schedule}");
    let id = schedule["id"].as_str().unwrap().to_string();
    assert_eq!(schedule["description"], "every second, UTC");
    assert_eq!(
        (schedule["overlap"].as_str(), schedule["catch_up"].as_str()),
        (Some("skip"), Some("skip"))
    );
    let runs: Vec<&str> = schedule["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(runs.len(), 3, "{schedule}");
    assert!(runs.iter().all(|r| r.ends_with("+00:00")), "{runs:?}");
    let jobs = fired(&mut events, &id, 3).await;
    let times: Vec<i64> = jobs
        .iter()
        .map(|j| j["scheduled_for"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 1_000),
        "one job per second: {times:?}"
    );
    for job in &jobs {
        // Created at its time, never before it.
        assert!(
            job["created_at"].as_i64().unwrap() >= job["scheduled_for"].as_i64().unwrap(),
            "{job}"
        );
    }
    // Its jobs are its owner's: in their history, filtered by schedule.
    let (_, page) = s.list(&format!("schedule={id}&limit=100")).await;
    let listed: HashSet<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert!(
        jobs.iter()
            .all(|j| listed.contains(j["id"].as_str().unwrap())),
        "{page}"
    );
    let (_, again) = s.get(&format!("/api/v1/schedules/{id}")).await;
    assert!(again["last_job_id"].is_string(), "{again}");
    assert!(
        again["last_fire_at"].as_i64().unwrap() >= times[2],
        "{again}"
    );
    // Someone else sees neither the schedule nor its jobs.
    let other = app.session();
    assert_eq!(other.get(&format!("/api/v1/schedules/{id}")).await.0, 404);
    let (_, theirs) = other.get("/api/v1/schedules").await;
    assert_eq!(theirs, json!([]));
    assert_eq!(delete(&s, &id).await, 204);
}

#[tokio::test]
async fn a_bad_expression_or_zone_is_a_422_naming_it_and_nothing_is_kept() {
    let app = spawn_app().await;
    let s = app.session();
    for (body, field, says) in [
        (
            quick("61 * * * *"),
            "cron",
            "minute: 61 is out of range (0 to 59)",
        ),
        (quick("* * *"), "cron", "3 fields"),
        (quick("0 0 30 2 *"), "cron", "never fires"),
        (
            json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": "@daily", "timezone": "Mars/Olympus"}),
            "timezone",
            "\"Mars/Olympus\" is not an IANA time zone",
        ),
        (
            json!({"params": {}, "cron": "@daily"}),
            "kind",
            "needs the kind",
        ),
        (
            json!({"kind": "demo", "params": {"steps": 0, "interval_ms": 1}, "cron": "@daily"}),
            "steps",
            "from 1 to",
        ),
        (
            json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": "@daily", "max_attempts": 9}),
            "max_attempts",
            "at most 3",
        ),
    ] {
        let (status, body) = create(&s, body.clone()).await;
        assert_eq!(status, 422, "{body}");
        let found = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field);
        let message = found
            .map(|f| f["message"].as_str().unwrap())
            .unwrap_or_default();
        assert!(message.contains(says), "{field}: {body}");
    }
    // Both wrong: both named at once.
    let (status, both) = create(
        &s,
        json!({"kind": "demo", "params": {}, "cron": "x", "timezone": "y"}),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = both["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"cron") && fields.contains(&"timezone"),
        "{both}"
    );
    let (status, unknown) = create(
        &s,
        json!({"kind": "demo", "cron": "@daily", "every": "day"}),
    )
    .await;
    assert!(status == 400 || status == 422, "{unknown}");
    let (_, list) = s.get("/api/v1/schedules").await;
    assert_eq!(list, json!([]));
    // A body that is not an object is refused, even one that would fill the fields in order,
    // and the schedule stays as it was.
    let (status, kept) = create(&s, quick("@daily")).await;
    assert_eq!(status, 201, "{kept}");
    let id = kept["id"].as_str().unwrap();
    for body in [
        json!([null, null]),
        json!(["demo", {}, "@hourly"]),
        json!("x"),
        json!(7),
    ] {
        let (status, refused) = patch(&s, id, body.clone()).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert_eq!(refused["code"], "invalid_params", "{body}: {refused}");
        assert!(
            refused["message"].as_str().unwrap().contains("JSON object"),
            "{body}: {refused}"
        );
        let (status, _) = create(&s, body.clone()).await;
        assert_eq!(status, 422, "{body}");
    }
    let (_, read) = s.get(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(read, kept);
    assert_eq!(delete(&s, id).await, 204);
    // The preview reads the same way.
    let (status, preview) = s.get("/api/v1/schedules/preview?cron=0%202%20*%20*%201-5&timezone=Europe/Paris&after=2026-11-27T12:00:00Z").await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        preview["description"],
        "every weekday at 02:00, Europe/Paris"
    );
    assert_eq!(preview["next_runs"][0], "2026-11-30T02:00:00+01:00");
    let (status, bad) = s
        .get("/api/v1/schedules/preview?cron=0%2025%20*%20*%20*")
        .await;
    assert_eq!(
        (status, bad["fields"][0]["field"].as_str()),
        (422, Some("cron")),
        "{bad}"
    );
}

#[tokio::test]
async fn daylight_saving_changes_fire_no_time_twice() {
    let app = spawn_app().await;
    let s = app.session();
    let preview = |cron: &str, after: &str| {
        let s = s.clone();
        let url = format!(
            "/api/v1/schedules/preview?cron={}&timezone=Europe/Paris&after={after}",
            url_encode(cron)
        );
        async move { s.get(&url).await.1["next_runs"].clone() }
    };
    // 2026-03-29, 02:00 becomes 03:00: a daily 02:30 fires at 03:30, once.
    assert_eq!(
        preview("30 2 * * *", "2026-03-28T12:00:00Z").await,
        json!([
            "2026-03-29T03:30:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00"
        ])
    );
    // 2026-10-25, 03:00 becomes 02:00: 02:30 happens twice and fires at its first only.
    assert_eq!(
        preview("30 2 * * *", "2026-10-24T12:00:00Z").await,
        json!([
            "2026-10-25T02:30:00+02:00",
            "2026-10-26T02:30:00+01:00",
            "2026-10-27T02:30:00+01:00"
        ])
    );
    assert_eq!(
        preview("0 * * * *", "2026-10-24T23:30:00Z").await,
        json!([
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T03:00:00+01:00",
            "2026-10-25T04:00:00+01:00"
        ])
    );
}

fn url_encode(s: &str) -> String {
    s.replace('*', "%2A").replace(' ', "%20")
}

#[tokio::test]
async fn paused_it_fires_nothing_run_now_starts_one_and_deleted_its_jobs_stay() {
    let app = spawn_app().await;
    let s = app.session();
    let (_, schedule) = create(&s, json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": "@yearly", "enabled": false})).await;
    let id = schedule["id"].as_str().unwrap().to_string();
    assert_eq!(schedule["enabled"], false);
    assert_eq!(schedule["next_runs"], json!([]), "paused: no next time");
    // Run now: a job of the schedule, for no fire time.
    let r = s
        .http
        .post(s.url(&format!("/api/v1/schedules/{id}/run")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let job: Value = r.json().await.unwrap();
    assert_eq!(
        (job["schedule_id"].as_str(), job["scheduled_for"].as_i64()),
        (Some(id.as_str()), None)
    );
    assert_eq!(
        s.wait_finished(job["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
    // Resumed: its next times come back; changed, they follow.
    let (status, resumed) = patch(
        &s,
        &id,
        json!({"enabled": true, "cron": "0 3 * * *", "timezone": "Asia/Tokyo"}),
    )
    .await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["description"], "every day at 03:00, Asia/Tokyo");
    assert!(
        resumed["next_runs"][0]
            .as_str()
            .unwrap()
            .ends_with("T03:00:00+09:00"),
        "{resumed}"
    );
    assert_eq!(resumed["last_job_id"], job["id"]);
    let (status, refused) = patch(&s, &id, json!({"kind": "batch"})).await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (422, Some("kind")),
        "{refused}"
    );
    let (status, refused) = patch(&s, &id, json!({"cron": "0 0 * * 9"})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        s.get(&format!("/api/v1/schedules/{id}")).await.1["cron"],
        "0 3 * * *",
        "nothing kept"
    );
    assert_eq!(delete(&s, &id).await, 204);
    assert_eq!(delete(&s, &id).await, 404);
    assert_eq!(s.get(&format!("/api/v1/schedules/{id}")).await.0, 404);
    assert_eq!(
        s.job(job["id"].as_str().unwrap()).await["schedule_id"],
        id.as_str()
    );
    assert_eq!(s.get("/api/v1/schedules/not-an-id").await.0, 404);
}

/// The pages say a schedule's times in the reader's language; the API keeps the engine's
/// English words.
#[tokio::test]
async fn the_pages_say_a_schedules_times_in_the_readers_language() {
    let app = spawn_app().await;
    let s = app.session();
    let body = json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1},
        "cron": "30 9 * * 1,3", "timezone": "Asia/Shanghai", "enabled": false});
    let (status, schedule) = create(&s, body).await;
    assert_eq!(status, 201, "{schedule}");
    let english = "every Monday and Wednesday at 09:30, Asia/Shanghai";
    assert_eq!(schedule["description"], english);
    let page = |lang: &'static str, path: String| {
        let r = s
            .http
            .get(s.url(&path))
            .header("accept-language", lang)
            .send();
        async move { r.await.unwrap().text().await.unwrap() }
    };
    let id = schedule["id"].as_str().unwrap();
    for path in ["/schedules".to_string(), format!("/schedules/{id}")] {
        let zh = page("zh-CN,zh;q=0.9", path.clone()).await;
        assert!(
            zh.contains("每周一和周三 09:30，Asia/Shanghai"),
            "{path}: {zh}"
        );
        assert!(!zh.contains(english), "{path}");
        assert!(page("en", path.clone()).await.contains(english), "{path}");
    }
    assert_eq!(
        s.get(&format!("/api/v1/schedules/{id}")).await.1["description"],
        english
    );
}

#[tokio::test]
async fn a_fire_time_starts_nothing_while_the_previous_job_runs_unless_asked_to() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let slow = json!({"kind": "demo", "params": {"steps": 100000, "interval_ms": 50}, "cron": "* * * * * *"});
    let (_, skip) = create(&s, slow.clone()).await;
    let skip = skip["id"].as_str().unwrap().to_string();
    let mut start = slow.clone();
    start["overlap"] = json!("start");
    let (_, starts) = create(&s, start).await;
    let starts = starts["id"].as_str().unwrap().to_string();
    // Three jobs of the schedule that starts anyway; by then the other one has skipped.
    fired(&mut events, &starts, 3).await;
    let (_, page) = s.list(&format!("schedule={skip}")).await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 1, "{page}");
    let (_, skipping) = s.get(&format!("/api/v1/schedules/{skip}")).await;
    assert!(
        skipping["last_skip"]
            .as_str()
            .unwrap()
            .contains("still queued or running (overlap: skip)"),
        "{skipping}"
    );
    for id in [&skip, &starts] {
        patch(&s, id, json!({"enabled": false})).await;
    }
}

#[tokio::test]
async fn fire_times_missed_while_no_process_ran_catch_up_once_or_are_skipped() {
    let mut app = app().start().await;
    let s = app.session();
    let yearly = |catch_up: &str| json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": "@yearly", "catch_up": catch_up});
    let (_, one) = create(&s, yearly("one")).await;
    let (_, skip) = create(&s, yearly("skip")).await;
    let (one, skip) = (
        one["id"].as_str().unwrap().to_string(),
        skip["id"].as_str().unwrap().to_string(),
    );
    // The server stops; the schedules' fire time passes ten minutes before it starts again.
    app.shutdown().await;
    let missed = engine::now_ms() - 600_000;
    let sql = format!("UPDATE schedules SET next_fire_at = {missed}");
    app.sql(&sql, &sql).await;
    let app = app.restart().await;
    let s = s.rebase(&app.base);
    // The catch-up job may be created (and even finish) before any stream could open,
    // so the history is what shows it.
    let deadline = tokio::time::Instant::now() + WAIT;
    let jobs = loop {
        let (_, page) = s.list(&format!("schedule={one}")).await;
        let jobs = page["jobs"].as_array().cloned().unwrap_or_default();
        if !jobs.is_empty() {
            break jobs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no catch-up job after {WAIT:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(jobs.len(), 1, "one job for the missed times: {jobs:?}");
    assert_eq!(jobs[0]["scheduled_for"], missed, "{jobs:?}");
    // The other moved on to next year, and says why it started nothing.
    let skipped = loop {
        let (_, s) = s.get(&format!("/api/v1/schedules/{skip}")).await;
        if s["last_skip"].is_string() {
            break s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        skipped["last_skip"]
            .as_str()
            .unwrap()
            .contains("missed while no process ran, and skipped"),
        "{skipped}"
    );
    assert!(
        skipped["next_runs"][0]
            .as_str()
            .unwrap()
            .ends_with("-01-01T00:00:00+00:00"),
        "{skipped}"
    );
    let (_, page) = s.list(&format!("schedule={skip}")).await;
    assert_eq!(page["jobs"], json!([]));
    let (_, caught_up) = s.get(&format!("/api/v1/schedules/{one}")).await;
    assert!(caught_up["last_skip"].is_null(), "{caught_up}");
    let (_, page) = s.list(&format!("schedule={one}")).await;
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(1), "{page}");
}

#[tokio::test]
async fn members_manage_their_own_operators_every_one_and_viewers_only_look() {
    let team: App = accounts_app().await;
    for (name, role) in [
        ("mia", "member"),
        ("max", "member"),
        ("vera", "viewer"),
        ("otto", "operator"),
        ("ada", "admin"),
    ] {
        add_user(&team, name, role).await;
    }
    let mia = signed_in(&team, "mia").await;
    let (status, schedule) = create(&mia, quick("@yearly")).await;
    assert_eq!(status, 201, "{schedule}");
    assert_eq!(schedule["owner"], "mia");
    let id = schedule["id"].as_str().unwrap().to_string();
    // Another member: it does not exist for them.
    let max = signed_in(&team, "max").await;
    assert_eq!(max.get(&format!("/api/v1/schedules/{id}")).await.0, 404);
    assert_eq!(patch(&max, &id, json!({"enabled": false})).await.0, 404);
    assert_eq!(max.get("/api/v1/schedules").await.1, json!([]));
    // A viewer sees it and changes nothing.
    let vera = signed_in(&team, "vera").await;
    assert_eq!(
        vera.get("/api/v1/schedules")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(patch(&vera, &id, json!({"enabled": false})).await.0, 403);
    assert_eq!(delete(&vera, &id).await, 403);
    assert_eq!(create(&vera, quick("@daily")).await.0, 403);
    // An operator changes it and runs it: the job is the owner's.
    let otto = signed_in(&team, "otto").await;
    assert_eq!(patch(&otto, &id, json!({"overlap": "start"})).await.0, 200);
    let r = otto
        .http
        .post(otto.url(&format!("/api/v1/schedules/{id}/run")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let job: Value = r.json().await.unwrap();
    assert_eq!(
        mia.job(job["id"].as_str().unwrap()).await["id"],
        job["id"],
        "mia's job"
    );
    // Its owner disabled: it says why, and runs no more.
    let ada = signed_in(&team, "ada").await;
    let r = ada
        .http
        .patch(ada.url("/api/v1/users/mia"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, held) = otto.get(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(
        held["held"], "its owner mia's account is disabled",
        "{held}"
    );
    let r = otto
        .http
        .post(otto.url(&format!("/api/v1/schedules/{id}/run")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(delete(&ada, &id).await, 204);
}

#[tokio::test]
async fn a_disabled_owners_schedule_fires_nothing_and_says_why() {
    let team = accounts_app().await;
    add_user(&team, "mia", "member").await;
    add_user(&team, "ada", "admin").await;
    let mia = signed_in(&team, "mia").await;
    let (_, schedule) = create(&mia, quick("* * * * * *")).await;
    let id = schedule["id"].as_str().unwrap().to_string();
    let ada = signed_in(&team, "ada").await;
    let mut events = ada.events("/api/v1/events", None).await;
    fired(&mut events, &id, 1).await;
    let r = ada
        .http
        .patch(ada.url("/api/v1/users/mia"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Its next fire times start nothing, and say why.
    let said = loop {
        let (_, s) = ada.get(&format!("/api/v1/schedules/{id}")).await;
        if s["last_skip"]
            .as_str()
            .is_some_and(|w| w.contains("disabled"))
        {
            break s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(said["last_skip"], "its owner mia's account is disabled");
    let before = ada.list(&format!("schedule={id}&limit=500")).await.1["jobs"]
        .as_array()
        .unwrap()
        .len();
    let fire_at = said["last_fire_at"].as_i64().unwrap();
    // A later fire time passes, and the count of its jobs stays.
    loop {
        let (_, s) = ada.get(&format!("/api/v1/schedules/{id}")).await;
        if s["last_fire_at"].as_i64().unwrap() > fire_at {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = ada.list(&format!("schedule={id}&limit=500")).await.1["jobs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    assert_eq!(delete(&ada, &id).await, 204);
}

#[tokio::test]
async fn the_command_line_adds_lists_pauses_resumes_runs_and_deletes() {
    let app = spawn_app().await;
    let headway = |args: Vec<String>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"));
        if crate::harness::on_postgres() {
            command.env("HEADWAY_ADMIN_TOKEN", app.admin_token());
        }
        command
            .args([
                "--addr",
                app.base.trim_start_matches("http://"),
                "--database-url",
                app.database_url(),
            ])
            .args(args)
            .output()
    };
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let mut add =
        words("schedules add demo --timezone Europe/Paris --param steps=2 --param interval_ms=1");
    add.extend(["--cron".to_string(), "0 2 * * 1-5".to_string()]);
    add.extend(["--name".to_string(), "weekday demo".to_string()]);
    let out = headway(add).await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("every weekday at 02:00, Europe/Paris; next at "),
        "{said}"
    );
    let id = said.split_whitespace().next().unwrap().to_string();
    let list = headway(words("schedules list")).await.unwrap();
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    let line = list
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("demo") && line.contains("enabled") && line.contains("+01:00"),
        "{list}"
    );
    assert!(line.contains("weekday demo: every weekday"), "{list}");
    for (verb, says) in [
        ("pause", "paused"),
        ("resume", "resumed; next at"),
        ("run", "started job"),
    ] {
        let out = headway(vec!["schedules".into(), verb.into(), id.clone()])
            .await
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains(says),
            "{verb}: {said}"
        );
    }
    // What the server refuses, the command says, and fails.
    let bad = headway(
        words("schedules add demo --cron 99_*_*_*_*")
            .into_iter()
            .map(|w| w.replace('_', " "))
            .collect(),
    )
    .await
    .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("minute: 99 is out of range"),
        "{bad:?}"
    );
    let bad = headway(words("schedules add demo --cron @daily --param steps"))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("NAME=VALUE"),
        "{bad:?}"
    );
    let out = headway(vec!["schedules".into(), "delete".into(), id.clone()])
        .await
        .unwrap();
    assert!(out.status.success());
    let gone = headway(vec!["schedules".into(), "run".into(), id.clone()])
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("(404): no such schedule"),
        "{gone:?}"
    );
}

/// A flood of schedules from one user: they may have a thousand, no more; and when their
/// schedules' jobs fill their share of the queue, the next fire times start nothing (and say
/// so) while another user's job starts at once.
#[tokio::test]
async fn a_flood_of_one_users_schedules_is_bounded_and_holds_no_one_else_back() {
    let app = app()
        .with(|c| {
            c.max_queued_per_user = 3;
            // A user's share of running jobs is three of these four slots.
            c.max_running = 4;
        })
        .start()
        .await;
    let flooder = app.session();
    assert_eq!(flooder.list("").await.0, 200);
    // A schedule every second of a job that runs for long, started whatever the previous one.
    let slow = json!({"kind": "demo", "params": {"steps": 100000, "interval_ms": 100},
                      "cron": "* * * * * *", "overlap": "start"});
    let (_, busy) = create(&flooder, slow).await;
    let busy = busy["id"].as_str().unwrap().to_string();
    let full = loop {
        let (_, s) = flooder.get(&format!("/api/v1/schedules/{busy}")).await;
        if s["last_skip"]
            .as_str()
            .is_some_and(|w| w.contains("queue was full"))
        {
            break s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(
        full["last_skip"]
            .as_str()
            .unwrap()
            .contains("its owner's queue was full"),
        "{full}"
    );
    // Meanwhile another user's job starts and ends.
    let other = app.session();
    let id = other.demo(1, 1).await;
    assert_eq!(other.wait_finished(&id).await["status"], "succeeded");
    patch(&flooder, &busy, json!({"enabled": false})).await;
    // A hundred schedules (`--max-schedules-per-user`), no more.
    let many = futures::future::join_all((0..99).map(|_| create(&flooder, quick("@yearly")))).await;
    assert!(many.iter().all(|(status, _)| *status == 201));
    let (status, refused) = create(&flooder, quick("@yearly")).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("you have 100 schedules, as many as one may have (100)"),
        "{refused}"
    );
    assert_eq!(
        create(&other, quick("@yearly")).await.0,
        201,
        "others are not held back"
    );
}

#[tokio::test]
async fn a_schedule_may_be_named_renamed_and_unnamed() {
    let app = spawn_app().await;
    let s = app.session();
    let mut body = quick("@daily");
    body["name"] = json!("  nightly demo ");
    let (status, schedule) = create(&s, body).await;
    assert_eq!(status, 201, "{schedule}");
    assert_eq!(schedule["name"], "nightly demo");
    let id = schedule["id"].as_str().unwrap().to_string();
    // Unnamed, two schedules of one kind look alike: named, they do not.
    let (_, other) = create(&s, quick("@daily")).await;
    assert_eq!(other["name"], Value::Null);
    let (status, renamed) = patch(&s, &id, json!({"name": "daily demo"})).await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (200, Some("daily demo"))
    );
    // Left out, the name stays; empty, it goes.
    let (_, kept) = patch(&s, &id, json!({"enabled": false})).await;
    assert_eq!(kept["name"], "daily demo");
    let (_, unnamed) = patch(&s, &id, json!({"name": ""})).await;
    assert_eq!(unnamed["name"], Value::Null);
    for bad in ["x".repeat(101), "two\nlines".to_string()] {
        let (status, e) = patch(&s, &id, json!({ "name": bad })).await;
        assert_eq!(status, 422, "{e}");
        assert_eq!(e["fields"][0]["field"], "name", "{e}");
    }
}
