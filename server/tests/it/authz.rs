//! The authorization matrix, generated from the routes: every endpoint of the JSON API (from
//! its one list, `server::rest::api::ENDPOINTS`) and every server function (from the registry
//! the server serves them from), called by every kind of principal, answers as the policy says
//! (`engine::authority`): allowed, 401, 403, or 404 for what the principal may not even see.
//!
//! The principals: nobody, a viewer, the member whose things are asked for and another member,
//! an operator, an admin, that member's tokens of scope `read` and `write`, a worker token on a
//! job its worker holds and on a job it does not, and an external job's report token. Each case
//! asks for a fresh thing of the member's (a job, an upload, a schedule, a webhook, a token…),
//! so that an allowed delete never hides the next case's answer.
//!
//! A new endpoint is in the matrix at once (its declared access decides what is expected); a
//! new server function without an entry in [`SERVER_FNS`] fails [`every_server_function_is_in_the_matrix`].

use crate::client::Session;
use crate::files::upload;
use crate::harness::{app, App};
use crate::team::{add_user, signed_in, PASSWORD};
use crate::workers::{send, worker_token};
use serde_json::{json, Value};
use server::openapi::{Access, Resource};
use std::collections::BTreeMap;

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    Viewer,
    /// The member whose things are asked for.
    Member,
    /// Another member, asking for the first one's things.
    Stranger,
    Operator,
    Admin,
    ReadToken,
    WriteToken,
    /// A worker token, on the job its worker holds.
    Worker,
    /// A worker token, on a job its worker does not hold.
    ForeignWorker,
    /// An external job's report token, on its job.
    Reporter,
}

const EVERYONE: [Who; 11] = [
    Who::Nobody,
    Who::Viewer,
    Who::Member,
    Who::Stranger,
    Who::Operator,
    Who::Admin,
    Who::ReadToken,
    Who::WriteToken,
    Who::Worker,
    Who::ForeignWorker,
    Who::Reporter,
];

/// How a request was answered, as the policy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Allowed,
    Unauthorized,
    Forbidden,
    Hidden,
}

fn answer_of(status: u16) -> Answer {
    match status {
        401 => Answer::Unauthorized,
        403 => Answer::Forbidden,
        404 => Answer::Hidden,
        _ => Answer::Allowed,
    }
}

/// What the policy says `who` gets from an operation of `access` on `what` (`owned`: it names
/// one thing of the member's, by id).
fn expected(access: Access, what: Resource, owned: bool, who: Who) -> Answer {
    use Answer::*;
    // A worker token reaches its worker's own endpoints only; a report token its job's report.
    match who {
        Who::Worker => {
            return if access == Access::Worker {
                Allowed
            } else {
                Forbidden
            }
        }
        Who::ForeignWorker => {
            return match access {
                Access::Worker if owned => Hidden,
                Access::Worker => Allowed,
                _ => Forbidden,
            }
        }
        Who::Reporter => {
            return if access == Access::Reporter {
                Allowed
            } else {
                Forbidden
            }
        }
        _ => {}
    }
    match access {
        Access::Anyone => return Allowed,
        _ if who == Who::Nobody => return Unauthorized,
        Access::Worker | Access::Reporter => return Forbidden,
        _ => {}
    }
    // What of the member's the principal may see at all.
    let sees = !owned
        || match what {
            Resource::Jobs | Resource::Events | Resource::Schedules => who != Who::Stranger,
            Resource::Uploads => matches!(
                who,
                Who::Member | Who::ReadToken | Who::WriteToken | Who::Admin
            ),
            Resource::Webhooks => matches!(
                who,
                Who::Member | Who::ReadToken | Who::WriteToken | Who::Admin
            ),
            Resource::Tokens => matches!(
                who,
                Who::Member | Who::ReadToken | Who::WriteToken | Who::Admin
            ),
            _ => true,
        };
    if !sees {
        return Hidden;
    }
    // A viewer changes nothing but their own tokens; a read token nothing at all.
    let writes = match what {
        Resource::Tokens => who != Who::ReadToken,
        _ => !matches!(who, Who::Viewer | Who::ReadToken),
    };
    let operates = matches!(who, Who::Operator | Who::Admin);
    match access {
        Access::Reader => Allowed,
        Access::Writer if !writes => Forbidden,
        // Another's thing a member may see, they may not change; an operator changes jobs and
        // schedules of anyone's.
        Access::Writer => match (owned, what) {
            (false, _) => Allowed,
            (true, Resource::Jobs | Resource::Schedules) => match who {
                Who::Member | Who::WriteToken | Who::Operator | Who::Admin => Allowed,
                _ => Forbidden,
            },
            (true, _) => Allowed,
        },
        Access::Operator if operates => Allowed,
        Access::Admin if who == Who::Admin => Allowed,
        _ => Forbidden,
    }
}

/// The server, its principals, and what the cases ask for.
struct World {
    app: App,
    op: Session,
    sessions: BTreeMap<Who, Session>,
    member: Session,
    /// The worker's id and the job it holds.
    worker: (String, String),
    /// A job of the member's the worker does not hold.
    foreign: String,
    report_job: String,
    /// A job of the member's that wrote an output, `jobs.csv`.
    with_output: String,
    n: std::sync::atomic::AtomicU64,
    /// What the member deletes once a case has been asked (their webhooks, schedules and
    /// tokens are bounded in number).
    litter: std::sync::Mutex<Vec<String>>,
    /// The delivery of the webhook made last.
    delivery: std::sync::Mutex<String>,
}

/// A worker's commands: `convert` takes a file.
const COMMANDS: &str = r#"
[[command]]
name = "convert"
program = "/opt/worker/convert.sh"

[command.params.input]
type = "file"
"#;

impl World {
    async fn new() -> World {
        let app = app()
            .with(|c| {
                c.auth = Some(server::config::AuthMode::Accounts);
                c.webhook_allow_private = true;
                c.lease_secs = 600;
            })
            .start()
            .await;
        let op = Session::with_token(&app.base, &app.admin_token());
        for (name, role) in [
            ("vera", "viewer"),
            ("mia", "member"),
            ("max", "member"),
            ("oli", "operator"),
            ("ada", "admin"),
        ] {
            add_user(&app, name, role).await;
        }
        let member = signed_in(&app, "mia").await;
        let token = |scope: &'static str| {
            let member = &member;
            async move {
                let (status, made) = send(
                    member,
                    reqwest::Method::POST,
                    "/api/v1/tokens",
                    json!({"name": scope, "scope": scope}),
                )
                .await;
                assert_eq!(status, 201, "{made}");
                made["token"].as_str().unwrap().to_string()
            }
        };
        let (read, write) = (token("read").await, token("write").await);
        // A worker holding a job of the member's.
        let hwk = worker_token(&op, "box").await;
        let ws = Session::with_token(&app.base, &hwk);
        let (status, hello) = send(
            &ws,
            reqwest::Method::POST,
            "/api/v1/workers",
            json!({"name": "box", "host": "box", "version": "t", "pid": 1, "max_running": 1,
                   "commands": COMMANDS}),
        )
        .await;
        assert_eq!(status, 201, "{hello}");
        let worker_id = hello["id"].as_str().unwrap().to_string();
        let (_, file) = upload(&member, "in.txt", "text/plain", b"x\n".to_vec()).await;
        let (status, held) = member.create("convert", json!({"input": file["id"]})).await;
        assert_eq!(status, 201, "{held}");
        let held = held["id"].as_str().unwrap().to_string();
        let (status, given) = send(
            &ws,
            reqwest::Method::POST,
            &format!("/api/v1/workers/{worker_id}/poll"),
            json!({"free": 1, "running": []}),
        )
        .await;
        assert_eq!(
            (status, given["jobs"][0]["id"].as_str()),
            (200, Some(held.as_str()))
        );
        let foreign = member.demo(1, 1).await;
        // An external job of the member's, and its report token.
        let (status, external) = member.create("external", json!({"title": "x"})).await;
        assert_eq!(status, 201, "{external}");
        let report_job = external["id"].as_str().unwrap().to_string();
        let reporter = external["report_token"].as_str().unwrap().to_string();
        let (status, export) = member.create("export_jobs", json!({})).await;
        assert_eq!(status, 201, "{export}");
        let with_output = export["id"].as_str().unwrap().to_string();
        assert_eq!(
            member.wait_finished(&with_output).await["status"],
            "succeeded"
        );
        let mut sessions = BTreeMap::new();
        sessions.insert(Who::Nobody, app.session());
        sessions.insert(Who::Viewer, signed_in(&app, "vera").await);
        sessions.insert(Who::Member, signed_in(&app, "mia").await);
        sessions.insert(Who::Stranger, signed_in(&app, "max").await);
        sessions.insert(Who::Operator, signed_in(&app, "oli").await);
        sessions.insert(Who::Admin, signed_in(&app, "ada").await);
        sessions.insert(Who::ReadToken, Session::with_token(&app.base, &read));
        sessions.insert(Who::WriteToken, Session::with_token(&app.base, &write));
        sessions.insert(Who::Worker, Session::with_token(&app.base, &hwk));
        sessions.insert(Who::ForeignWorker, Session::with_token(&app.base, &hwk));
        sessions.insert(Who::Reporter, Session::with_token(&app.base, &reporter));
        World {
            app,
            op,
            sessions,
            member,
            worker: (worker_id, held),
            foreign,
            report_job,
            with_output,
            n: Default::default(),
            litter: Default::default(),
            delivery: Default::default(),
        }
    }

    /// Deletes, as the member, what the last case made.
    async fn sweep(&self) {
        let litter: Vec<String> = std::mem::take(&mut *self.litter.lock().unwrap());
        for path in litter {
            send(&self.member, reqwest::Method::DELETE, &path, json!({})).await;
        }
    }

    fn litter(&self, path: String) {
        self.litter.lock().unwrap().push(path);
    }

    fn next(&self) -> u64 {
        self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// A fresh thing of the member's for the path parameter `param` of `path`, as `who` asks.
    async fn fill(&self, path: &str, param: &str, who: Who) -> String {
        let m = &self.member;
        let created = |r: (u16, Value)| {
            assert!(r.0 < 300, "{path}: making its {param}: {}", r.1);
            r.1["id"].as_str().unwrap().to_string()
        };
        match (path, param) {
            (p, "id") if p.starts_with("/jobs/") && p.ends_with("/report") => {
                self.report_job.clone()
            }
            (p, "id") if p.starts_with("/jobs/") && p.contains("/outputs") => {
                self.with_output.clone()
            }
            (p, "id") if p.starts_with("/jobs/") => m.demo(1, 1).await,
            (_, "name") if path.starts_with("/jobs/") => "jobs.csv".into(),
            (_, "name") if path.starts_with("/workers/") => "out.txt".into(),
            (p, "id") if p.starts_with("/uploads/") => {
                created(upload(m, "a.txt", "text/plain", b"a\n".to_vec()).await)
            }
            (p, "id") if p.starts_with("/schedules/") => {
                let id = created(
                    send(
                        m,
                        reqwest::Method::POST,
                        "/api/v1/schedules",
                        json!({"kind": "demo", "cron": "0 3 * * *",
                               "params": {"steps": 1, "interval_ms": 1}}),
                    )
                    .await,
                );
                self.litter(format!("/api/v1/schedules/{id}"));
                id
            }
            (p, "id") if p.starts_with("/webhooks/") => {
                let (id, delivery) = self.webhook().await;
                *self.delivery.lock().unwrap() = delivery;
                id
            }
            // The delivery of the webhook the case's `{id}` named.
            (_, "delivery") => self.delivery.lock().unwrap().clone(),
            (p, "id") if p.starts_with("/tokens/") => {
                let id = created(
                    send(
                        m,
                        reqwest::Method::POST,
                        "/api/v1/tokens",
                        json!({"name": format!("t{}", self.next()), "scope": "read"}),
                    )
                    .await,
                );
                self.litter(format!("/api/v1/tokens/{id}"));
                id
            }
            (p, "id") if p.starts_with("/worker-tokens/") => created(
                send(
                    &self.op,
                    reqwest::Method::POST,
                    "/api/v1/worker-tokens",
                    json!({"name": format!("w{}", self.next())}),
                )
                .await,
            ),
            (p, "id") if p.ends_with("/state") => {
                // Another of the token's workers: a disable takes its jobs back.
                let ws = &self.sessions[&Who::Worker];
                created(
                    send(
                        ws,
                        reqwest::Method::POST,
                        "/api/v1/workers",
                        json!({"name": "spare", "host": "spare", "version": "t", "pid": 2,
                               "max_running": 1, "commands": COMMANDS}),
                    )
                    .await,
                )
            }
            (p, "id") if p.starts_with("/workers/") => self.worker.0.clone(),
            (_, "job") => match who {
                Who::ForeignWorker => self.foreign.clone(),
                _ => self.worker.1.clone(),
            },
            (_, "param") => "input".into(),
            (_, "kind") => "batch".into(),
            (p, "name") if p.starts_with("/users/") => {
                let name = format!("u{}", self.next());
                add_user(&self.app, &name, "viewer").await;
                name
            }
            (p, q) => panic!("no value for {{{q}}} of {p}"),
        }
    }

    /// A fresh webhook of the member's with one delivery of a job's end (not a test's, which
    /// is never sent again): their ids.
    async fn webhook(&self) -> (String, String) {
        let m = &self.member;
        let (status, hook) = send(
            m,
            reqwest::Method::POST,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
        assert_eq!(status, 201, "{hook}");
        let id = hook["webhook"]["id"].as_str().unwrap().to_string();
        self.litter(format!("/api/v1/webhooks/{id}"));
        let job = m.demo(1, 1).await;
        m.wait_finished(&job).await;
        for _ in 0..200 {
            let (_, detail) = m.get(&format!("/api/v1/webhooks/{id}")).await;
            let delivered = detail["deliveries"]
                .as_array()
                .and_then(|d| d.iter().find(|d| d["job_id"] == job.as_str()));
            if let Some(delivery) = delivered {
                return (id, delivery["id"].as_str().unwrap().to_string());
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the job's end made no delivery");
    }

    /// The session `who` asks with: for a sign-in or a sign-out, a session of its own that the
    /// case may change.
    async fn session_for(&self, who: Who, signs_out: bool) -> Session {
        if who == Who::Nobody {
            return self.app.session();
        }
        let name = match who {
            Who::Viewer => "vera",
            Who::Member => "mia",
            Who::Stranger => "max",
            Who::Operator => "oli",
            Who::Admin => "ada",
            _ => return self.sessions[&who].clone(),
        };
        match signs_out {
            true => signed_in(&self.app, name).await,
            false => self.sessions[&who].clone(),
        }
    }
}

/// A body the endpoint `id` takes (its example, where it has one that fits a fresh case).
fn body_of(id: &str, example: Option<&str>, n: u64) -> Option<Value> {
    Some(match id {
        "signIn" => json!({"username": "mia", "password": PASSWORD}),
        "createToken" => json!({"name": format!("made{n}"), "scope": "read"}),
        "addUser" => json!({"username": format!("new{n}"), "password": PASSWORD, "role": "viewer"}),
        "changeUser" => json!({"role": "member"}),
        "createWorkerToken" => json!({"name": format!("made{n}")}),
        "registerWorker" => json!({"name": "box", "host": "box", "version": "t", "pid": 3,
                                   "max_running": 1, "commands": COMMANDS}),
        "pollWork" => json!({"free": 0, "running": []}),
        "reportWork" | "reportJob" => json!({}),
        "setWorkerState" => json!({"state": "draining"}),
        "createWebhook" => json!({"url": "http://127.0.0.1:9/hook"}),
        "changeWebhook" => json!({"enabled": false}),
        "postNotice" => json!({"text": "maintenance at noon"}),
        // Within what a member may ask for its own job.
        "prioritizeJob" => json!({"priority": "low"}),
        "setLimit" | "removeLimit" => json!({"kind": "batch", "per": "kind", "max": 5}),
        _ => return example.map(|e| serde_json::from_str(e).unwrap()),
    })
}

/// A query the endpoint `id` takes, so that a long poll or a stream answers at once.
fn query_of(id: &str) -> &'static str {
    match id {
        "pollEvents" => "?timeout_ms=1",
        "previewSchedule" => "?cron=0+3+*+*+*&timezone=UTC",
        "reportWork" | "sendWorkOutput" => "?attempt=1",
        _ => "",
    }
}

#[tokio::test]
async fn every_endpoint_answers_every_principal_as_the_policy_says() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut cases = 0;
    for endpoint in server::rest::api::ENDPOINTS {
        let owned = endpoint.path.contains("{id}") || endpoint.path.contains("{name}");
        for who in EVERYONE {
            // A worker on a foreign job differs only where a job is named.
            if who == Who::ForeignWorker && !endpoint.path.contains("{job}") {
                continue;
            }
            let mut path = endpoint.path.to_string();
            while let Some(start) = path.find('{') {
                let end = path[start..].find('}').unwrap() + start;
                let param = path[start + 1..end].to_string();
                let value = world.fill(endpoint.path, &param, who).await;
                path.replace_range(start..=end, &value);
            }
            let url = format!("/api/v1{path}{}", query_of(endpoint.id));
            let s = world
                .session_for(who, matches!(endpoint.id, "signOut" | "signIn"))
                .await;
            let mut request = s.http.request(endpoint.verb.method(), s.url(&url));
            if let Some(body) = body_of(endpoint.id, endpoint.example, world.next()) {
                request = request.json(&body);
            }
            if endpoint.id == "sendWorkOutput" {
                request = request.body("out");
            }
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            // A stream's body never ends: its status is all this needs.
            let said = match status {
                401 | 403 | 404 => r.text().await.unwrap_or_default(),
                _ => String::new(),
            };
            world.sweep().await;
            cases += 1;
            let got = answer_of(status);
            let want = expected(endpoint.access, endpoint.resource, owned, who);
            if got != want {
                wrong.push(format!(
                    "{} {} ({}), {who:?}: {status}, expected {want:?} {said}",
                    endpoint.verb.method(),
                    endpoint.path,
                    endpoint.id
                ));
            }
        }
    }
    eprintln!("{cases} endpoint × principal cases");
    assert!(
        wrong.is_empty(),
        "{} of {cases} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every server function the pages call: its endpoint (`/api/{endpoint}`), who may call it
/// and on what, and its arguments as a form sends them (`{job}`, `{schedule}`, `{webhook}`,
/// `{delivery}`, `{token}`, `{user}`, `{worker}`: a fresh thing of the member's, as
/// [`World::fill`] makes it). A server function missing here fails
/// [`every_server_function_is_in_the_matrix`].
const SERVER_FNS: &[(&str, Access, Resource, &str)] = &[
    (
        "dashboard",
        Access::Reader,
        Resource::Jobs,
        "query[limit]=5",
    ),
    ("rows", Access::Reader, Resource::Jobs, "ids="),
    ("summary", Access::Reader, Resource::Jobs, ""),
    ("new_job", Access::Writer, Resource::Kinds, "kind=demo"),
    (
        "job",
        Access::Reader,
        Resource::Jobs,
        "id={job}&log_filter[q]=x",
    ),
    ("dismiss_notice", Access::Reader, Resource::Notices, "id=1"),
    ("set_theme", Access::Reader, Resource::Session, "theme=dark"),
    (
        "set_language",
        Access::Reader,
        Resource::Session,
        "lang=zh-CN",
    ),
    (
        "set_time_zone",
        Access::Reader,
        Resource::Session,
        "zone=Asia/Shanghai",
    ),
    (
        "start_job",
        Access::Writer,
        Resource::Kinds,
        "kind=demo&params[steps]=1&params[interval_ms]=1",
    ),
    (
        "set_job_priority",
        Access::Writer,
        Resource::Jobs,
        "id={job}&priority=low",
    ),
    ("cancel_job", Access::Writer, Resource::Jobs, "id={job}"),
    ("rerun_job", Access::Writer, Resource::Jobs, "id={job}"),
    // A selection counts the caller's own jobs among those it names: another's count nothing.
    (
        "bulk_preview",
        Access::Reader,
        Resource::Kinds,
        "selection[ids]=&selection[all]=false",
    ),
    (
        "bulk_act",
        Access::Writer,
        Resource::Kinds,
        "action=cancel&selection[ids]=&selection[all]=false&selection[status]=queued",
    ),
    (
        "log_page",
        Access::Reader,
        Resource::Jobs,
        "id={job}&after=0&limit=10",
    ),
    ("queue_text", Access::Reader, Resource::Jobs, "id={job}"),
    ("system", Access::Operator, Resource::Kinds, ""),
    ("system_page", Access::Operator, Resource::Kinds, ""),
    (
        "pause_kind",
        Access::Operator,
        Resource::Kinds,
        "kind=batch",
    ),
    (
        "resume_kind",
        Access::Operator,
        Resource::Kinds,
        "kind=batch",
    ),
    (
        "set_worker_state",
        Access::Operator,
        Resource::Workers,
        "id={worker}&state=draining",
    ),
    (
        "set_limit",
        Access::Operator,
        Resource::Kinds,
        "kind=batch&max=5&per=kind",
    ),
    (
        "remove_limit",
        Access::Operator,
        Resource::Kinds,
        "kind=batch&per=kind",
    ),
    ("tokens", Access::Reader, Resource::Session, ""),
    (
        "create_token",
        Access::Writer,
        Resource::Tokens,
        "name=made&scope=read",
    ),
    (
        "revoke_token",
        Access::Writer,
        Resource::Tokens,
        "id={token}",
    ),
    ("users", Access::Admin, Resource::Users, ""),
    (
        "add_user",
        Access::Admin,
        Resource::Users,
        "username={new}&password=correct+horse+battery&role=viewer",
    ),
    (
        "change_user",
        Access::Admin,
        Resource::Users,
        "username={user}&role=member",
    ),
    ("schedules", Access::Reader, Resource::Schedules, ""),
    (
        "schedule",
        Access::Reader,
        Resource::Schedules,
        "id={schedule}",
    ),
    (
        "cron_preview",
        Access::Reader,
        Resource::Schedules,
        "cron=0+3+*+*+*&tz=UTC",
    ),
    (
        "create_schedule",
        Access::Writer,
        Resource::Kinds,
        "kind=demo&cron=0+3+*+*+*&params[steps]=1&params[interval_ms]=1",
    ),
    (
        "save_schedule",
        Access::Writer,
        Resource::Schedules,
        "id={schedule}&cron=0+4+*+*+*",
    ),
    (
        "set_schedule_enabled",
        Access::Writer,
        Resource::Schedules,
        "id={schedule}&enabled=false",
    ),
    (
        "run_schedule",
        Access::Writer,
        Resource::Schedules,
        "id={schedule}",
    ),
    (
        "delete_schedule",
        Access::Writer,
        Resource::Schedules,
        "id={schedule}",
    ),
    ("webhooks", Access::Reader, Resource::Session, ""),
    (
        "webhook",
        Access::Reader,
        Resource::Webhooks,
        "id={webhook}",
    ),
    (
        "create_webhook",
        Access::Writer,
        Resource::Kinds,
        "url=http%3A%2F%2F127.0.0.1%3A9%2Fhook",
    ),
    (
        "set_webhook_enabled",
        Access::Writer,
        Resource::Webhooks,
        "id={webhook}&enabled=false",
    ),
    (
        "delete_webhook",
        Access::Writer,
        Resource::Webhooks,
        "id={webhook}",
    ),
    (
        "test_webhook",
        Access::Writer,
        Resource::Webhooks,
        "id={webhook}",
    ),
    (
        "resend_delivery",
        Access::Writer,
        Resource::Webhooks,
        "id={webhook}&delivery={delivery}",
    ),
];

#[test]
fn every_server_function_is_in_the_matrix() {
    let listed: std::collections::BTreeSet<String> = SERVER_FNS
        .iter()
        .map(|(endpoint, ..)| format!("/api/{endpoint}"))
        .collect();
    let registered: std::collections::BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    assert!(
        registered.len() > 30,
        "the registry was not read: {registered:?}"
    );
    let missing: Vec<&String> = registered.difference(&listed).collect();
    let gone: Vec<&String> = listed.difference(&registered).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "server functions not in the matrix: {missing:?}; in it but not served: {gone:?}"
    );
}

#[tokio::test]
async fn every_server_function_answers_every_principal_as_the_policy_says() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut cases = 0;
    for &(endpoint, access, what, args) in SERVER_FNS {
        let owned = args.contains('{') && !args.contains("{new}");
        for who in EVERYONE {
            if who == Who::ForeignWorker {
                continue;
            }
            let mut form = args.to_string();
            for (slot, path, param) in [
                ("{job}", "/jobs/{id}", "id"),
                ("{schedule}", "/schedules/{id}", "id"),
                ("{webhook}", "/webhooks/{id}", "id"),
                (
                    "{delivery}",
                    "/webhooks/{id}/deliveries/{delivery}/resend",
                    "delivery",
                ),
                ("{token}", "/tokens/{id}", "id"),
                ("{user}", "/users/{name}", "name"),
                ("{worker}", "/workers/{id}/state", "id"),
            ] {
                if form.contains(slot) {
                    let value = world.fill(path, param, who).await;
                    form = form.replace(slot, &value);
                }
            }
            form = form.replace("{new}", &format!("new{}", world.next()));
            let s = world.session_for(who, false).await;
            let r = s
                .http
                .post(s.url(&format!("/api/{endpoint}")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(form)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let said = r.text().await.unwrap_or_default();
            world.sweep().await;
            cases += 1;
            // A server function's arguments that do not decode would be refused before any
            // right is asked: the matrix would prove nothing.
            assert!(
                !(status == 400 && said.contains("decode")),
                "{endpoint}: its arguments do not decode: {said}"
            );
            let got = answer_of(status);
            let want = expected(access, what, owned, who);
            if got != want {
                wrong.push(format!(
                    "/api/{endpoint}, {who:?}: {status}, expected {want:?} {said:.200}"
                ));
            }
        }
    }
    eprintln!("{cases} server function × principal cases");
    assert!(
        wrong.is_empty(),
        "{} of {cases} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
