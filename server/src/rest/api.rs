//! The JSON API's one list of endpoints: every operation under `/api/v1`, with its method, path,
//! who may call it, its parameters, body and answers, and the handler that serves it, written in
//! the words of [`crate::openapi`].
//!
//! Both faces of the API come from [`ENDPOINTS`], so that they cannot drift apart:
//! - [`router`] serves each entry (and nothing else but the "no such endpoint" 404);
//! - [`document`] describes each entry as OpenAPI 3.1 ([`crate::openapi::document`]), served at
//!   `GET /api/v1/openapi.json`, its bodies' schemas derived (`schemars`) from the very types the
//!   handlers read and write.
//!
//! Adding an endpoint is adding one [`Endpoint`] here. The errors every operation may answer
//! (401, 403, 421, 503; 400, 408, 413, 422 with a body; 400 with a query) are added to each
//! operation by [`document`]; an entry names only the errors of its own (404, 409, 429…).

use crate::openapi::{document::build, schema};
pub use crate::openapi::{
    Access, Answer, Body, Content, Endpoint, Link, Param, Place, Resource, SchemaFn, Verb,
    BODY_ERRORS, COMMON_ERRORS, PREFIX,
};
use crate::rest::{
    accounts, external, files, health, jobs, kinds, notices, schedules, webhooks, workers,
};
use crate::sse;
use crate::state::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{any, on};
use axum::Router;
use schemars::{Schema, SchemaGenerator};
use serde_json::{json, Value};
use std::sync::OnceLock;

use Access::*;
use Resource::*;
use Verb::*;
/// An `Idempotency-Key`: what the server takes (`Engine`'s check of a start's key).
fn idempotency_key(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "string", "pattern": "^[!-~]{1,255}$" })
}

/// A page of the history: a [`model::HistoryQuery`], whose `before` and `after` are job ids (a
/// bulk action's filter, the same type, ignores them).
fn history_page(g: &mut SchemaGenerator) -> Schema {
    let reference = Value::from(g.subschema_for::<model::HistoryQuery>());
    let name = reference["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next());
    let mut query = name
        .and_then(|name| g.definitions().get(name).cloned())
        .unwrap_or(reference);
    for cursor in ["before", "after"] {
        if let Some(field) = query["properties"].get_mut(cursor) {
            field["pattern"] = json!(model::history::ID_OR_NOTHING_PATTERN);
        }
    }
    Schema::try_from(query).expect("a query's schema is an object")
}

/// An event's id, as a client names the last one it has (`Last-Event-ID`).
fn event_id(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "integer", "format": "int64", "minimum": 0 })
}

/// A new schedule: a [`model::ScheduleInput`] with its kind and expression (a change may leave
/// them out).
fn new_schedule(g: &mut SchemaGenerator) -> Schema {
    let input = Value::from(g.subschema_for::<model::ScheduleInput>());
    schemars::json_schema!({
        "allOf": [input],
        "required": ["kind", "cron"],
        "properties": {
            "kind": { "type": "string", "minLength": 1 },
            "cron": { "type": "string", "pattern": model::schedules::CRON_PATTERN },
        },
    })
}

/// The operations a new job's id is the `id` of.
const JOB_LINKS: &[Link] = &[
    Link {
        op: "getJob",
        param: "id",
        from: "$response.body#/id",
    },
    Link {
        op: "cancelJob",
        param: "id",
        from: "$response.body#/id",
    },
    Link {
        op: "prioritizeJob",
        param: "id",
        from: "$response.body#/id",
    },
    Link {
        op: "rerunJob",
        param: "id",
        from: "$response.body#/id",
    },
    Link {
        op: "getJobLog",
        param: "id",
        from: "$response.body#/id",
    },
    Link {
        op: "downloadJobLog",
        param: "id",
        from: "$response.body#/id",
    },
    Link {
        op: "listJobOutputs",
        param: "id",
        from: "$response.body#/id",
    },
];

/// A job's id.
const JOB_ID: Param = Param::path("id", "The job's id.", schema::<model::JobId>);
const SCHEDULE_ID: Param = Param::path("id", "The schedule's id.", schema::<model::ScheduleId>);
const WEBHOOK_ID: Param = Param::path("id", "The webhook's id.", schema::<model::WebhookId>);
const UPLOAD_ID: Param = Param::path("id", "The upload's id.", schema::<model::UploadId>);
const WORKER_ID: Param = Param::path(
    "id",
    "The worker's id (`id` of its registration).",
    schema::<model::ProcessId>,
);
const LAST_EVENT_ID: Param = Param::header_of(
    "Last-Event-ID",
    "The id of the last event the client has: the stream replays what came after it.",
    event_id,
);

/// Every endpoint of the JSON API. See the module's notes.
pub static ENDPOINTS: &[Endpoint] = &[
    // Jobs.
    Endpoint::new(Post, "/jobs", "createJob", Jobs, Writer, "Start a job", |m| on(m, jobs::create_job))
        .about("Starts a job of a kind with its parameters (checked against the kind's; see `GET /api/v1/kinds`). \
                With an `Idempotency-Key` that started a job within the last day, answers that job with 200 (the same key with other parameters: 422). \
                An `external` job (a program that runs elsewhere and reports) is answered with its `report_token`, shown this once. \
                The body may have 288 KiB (every other JSON body 64 KiB): a `workflow` posted with its definition (256 KiB at most) and its parameters.")
        .params(&[Param::header_of("Idempotency-Key", "Makes the start idempotent for a day: 1 to 255 visible ASCII characters.", idempotency_key)])
        .body(Body::Json(schema::<jobs::CreateJob>))
        .example(r#"{"kind":"demo","params":{"steps":3,"interval_ms":10}}"#)
        .answers(&[
            Answer::json(201, "The new job (an external one with its report token).", schema::<jobs::Opened>).located().links(JOB_LINKS),
            Answer::json(200, "The job this idempotency key started already.", schema::<model::Job>).located(),
        ])
        .errors(&[429]),
    Endpoint::new(Get, "/jobs", "listJobs", Jobs, Reader, "List jobs", |m| on(m, jobs::list_jobs))
        .about("A page of the history, newest first, with filters; `next` and `prev` page through it (keyset pagination). A queued job also says its place in line.")
        .query(history_page)
        .answers(&[Answer::json(200, "A page of jobs.", schema::<jobs::JobViewPage>)])
        .errors(&[422]),
    Endpoint::new(Post, "/jobs/cancel", "cancelJobs", Jobs, Writer, "Cancel many jobs", |m| on(m, jobs::bulk_cancel))
        .about("Requests cancellation of each job named by id, or of every job a history filter matches; the answer says what became of each.")
        .body(Body::Json(schema::<model::bulk::BulkRequest>))
        .example(r#"{"filter":{"status":"queued","kind":"demo"}}"#)
        .answers(&[Answer::json(200, "What became of each job.", schema::<model::bulk::BulkAnswer>)]),
    Endpoint::new(Post, "/jobs/rerun", "rerunJobs", Jobs, Writer, "Re-run many jobs", |m| on(m, jobs::bulk_rerun))
        .about("Starts a new job like each job named by id, or like every job a history filter matches.")
        .body(Body::Json(schema::<model::bulk::BulkRequest>))
        .example(r#"{"filter":{"status":"queued","kind":"demo"}}"#)
        .answers(&[Answer::json(200, "What became of each job.", schema::<model::bulk::BulkAnswer>)])
        .errors(&[429]),
    Endpoint::new(Post, "/jobs/priority", "prioritizeJobs", Jobs, Writer, "Change many jobs' priority", |m| on(m, jobs::bulk_prioritize))
        .about("Sets the priority of each queued job named by id, or of every job a history filter matches; the answer says what became of each. \
                A job's owner may set up to its kind's priority, an operator or an admin any.")
        .body(Body::Json(schema::<model::bulk::BulkPriority>))
        .example(r#"{"filter":{"status":"queued","kind":"demo"},"priority":"high"}"#)
        .answers(&[Answer::json(200, "What became of each job.", schema::<model::bulk::BulkAnswer>)]),
    Endpoint::new(Get, "/jobs/{id}", "getJob", Jobs, Reader, "Read a job", |m| on(m, jobs::get_job))
        .about("A job the caller may see (any other is 404, never 403: existence is not leaked).")
        .params(&[JOB_ID])
        .answers(&[Answer::json(200, "The job.", schema::<jobs::JobView>)])
        .errors(&[404]),
    Endpoint::new(Post, "/jobs/{id}/cancel", "cancelJob", Jobs, Writer, "Cancel a job", |m| on(m, jobs::cancel_job))
        .about("A queued job is cancelled at once; a running one becomes `cancelling` until it stops. 409 once it has ended.")
        .params(&[JOB_ID])
        .answers(&[Answer::json(200, "The job as it is now.", schema::<model::Job>)])
        .errors(&[404, 409]),
    Endpoint::new(Post, "/jobs/{id}/rerun", "rerunJob", Jobs, Writer, "Re-run a job", |m| on(m, jobs::rerun_job))
        .about("Starts a new job of the same kind with the same parameters.")
        .params(&[JOB_ID])
        .answers(&[Answer::json(201, "The new job.", schema::<model::Job>).located().links(JOB_LINKS)])
        .errors(&[404, 409, 422, 429]),
    Endpoint::new(Post, "/jobs/{id}/priority", "prioritizeJob", Jobs, Writer, "Change a job's priority", |m| on(m, jobs::set_priority))
        .about("Sets a queued job's priority: its place in line moves by the difference of the levels, the time it waited counting as before. \
                Its owner may set up to its kind's priority (403 above), an operator or an admin any; 409 once it has started.")
        .params(&[JOB_ID])
        .body(Body::Json(schema::<jobs::SetPriority>))
        .example(r#"{"priority":"urgent"}"#)
        .answers(&[Answer::json(200, "The job as it is now.", schema::<model::Job>)])
        .errors(&[403, 404, 409]),
    Endpoint::new(Post, "/jobs/{id}/report", "reportJob", Jobs, Reporter, "Report for an external job", |m| on(m, external::report))
        .about("What an external job's program has to say since its last report: progress, log lines (numbered, so that a report sent twice changes nothing), result, end. \
                The answer's `status` is `cancelling` when someone asked it to stop. 409 once the job has ended. A report may be up to 2 MiB. \
                Each costs its job owner's report budget (`--report-bytes-per-sec`) 1 KiB plus its log lines' bytes: past it, 429 with `Retry-After`, nothing written.")
        .params(&[JOB_ID])
        .body(Body::Json(schema::<model::Report>))
        .example(r#"{"progress":1,"total":2,"message":"halfway","log":[{"seq":1,"line":"started"}]}"#)
        .answers(&[Answer::json(200, "What was kept, and the job's status.", schema::<model::ReportReply>)])
        .errors(&[404, 409, 429]),
    Endpoint::new(Get, "/jobs/{id}/log", "getJobLog", Jobs, Reader, "Read a job's log", |m| on(m, jobs::job_log))
        .about("Log lines after `after` (a line's `seq`), oldest first, at most `limit` (1000 unless asked, at most 10000) \
                and about 1 MiB of text (no more than one line past it): the next page is after the last line, \
                and an empty page is the end.")
        .params(&[JOB_ID])
        .query(schema::<jobs::LogQuery>)
        .answers(&[Answer::json(200, "The lines.", schema::<jobs::LogPage>)])
        .errors(&[404]),
    Endpoint::new(Get, "/jobs/{id}/log.txt", "downloadJobLog", Jobs, Reader, "Download a job's log", |m| on(m, jobs::job_log_text))
        .about("The whole log as plain text, one line per log line (`time level text`), as an attachment.")
        .params(&[JOB_ID])
        .answers(&[Answer::of(200, "The log.", Content::Text)])
        .errors(&[404]),
    Endpoint::new(Get, "/jobs/{id}/events", "streamJobEvents", Events, Reader, "Stream a job's events", |m| on(m, sse::job_events))
        .about("The events of one job as `text/event-stream`, from its start (or after `Last-Event-ID`); the stream ends after its terminal event. \
                A client that has seen that end is answered 204, which tells an `EventSource` to stop.")
        .params(&[JOB_ID, LAST_EVENT_ID])
        .query(schema::<sse::stream::StreamQuery>)
        .answers(&[
            Answer::of(200, "The stream: `retry:`, a `snapshot`, then `job`, `progress`, `log` and `done` events; `: keep-alive` comments in between.", Content::Events),
            Answer::empty(204, "The job's stream has ended already."),
        ])
        .errors(&[404, 429]),
    Endpoint::new(Get, "/jobs/{id}/outputs", "listJobOutputs", Jobs, Reader, "List a job's files", |m| on(m, files::outputs))
        .about("The files the job wrote, in the order they were first written.")
        .params(&[JOB_ID])
        .answers(&[Answer::json(200, "The files.", schema::<Vec<model::Output>>)])
        .errors(&[404]),
    Endpoint::new(Get, "/jobs/{id}/outputs/{name}", "downloadJobOutput", Jobs, Reader, "Download a job's file", |m| on(m, files::download))
        .about("The file, as an attachment of its own media type, with `Range` support.")
        .params(&[JOB_ID, Param::path("name", "The file's name.", schema::<String>)])
        .answers(&[
            Answer::of(200, "The file.", Content::File),
            Answer::of(206, "The range asked for.", Content::File),
        ])
        .errors(&[404, 416]),
    // Events.
    Endpoint::new(Get, "/events", "streamEvents", Events, Reader, "Stream every event", |m| on(m, sse::all_events))
        .about("Every event of every job the caller may see, as `text/event-stream`: a browser tab opens one. \
                Reconnecting with `Last-Event-ID` (or `?last_event_id=`) replays what came after it. Each user may hold a few streams at once (429 past them).")
        .params(&[LAST_EVENT_ID])
        .query(schema::<sse::stream::StreamQuery>)
        .answers(&[Answer::of(200, "The stream: `retry:`, a `snapshot`, then `job`, `progress`, `log`, `done`, `resync`, `notice` and `version` events; `: keep-alive` comments in between.", Content::Events)])
        .errors(&[429]),
    Endpoint::new(Get, "/events/poll", "pollEvents", Events, Reader, "Poll for events", |m| on(m, sse::poll))
        .about("The same events as the stream, as JSON, for clients that cannot hold one: a snapshot without `after`, else what came after it, \
                answered as soon as there is anything, or empty after `timeout_ms` (25 s unless asked, at most 60 s).")
        .query(schema::<sse::poll::PollQuery>)
        .answers(&[Answer::json(200, "The next events, and the cursor to pass as `after` next.", schema::<sse::poll::PollPage>)])
        .errors(&[429]),
    // Uploads.
    Endpoint::new(Get, "/uploads", "listUploads", Uploads, Reader, "List uploads", |m| on(m, files::list))
        .about("A page of the caller's uploads, newest first: `limit` (default 100, at most 1,000); \
                the next page is `before` the last of this one, and an empty page is the end.")
        .query(schema::<files::UploadsQuery>)
        .answers(&[Answer::json(200, "The uploads.", schema::<Vec<model::Upload>>)]),
    Endpoint::new(Post, "/uploads", "createUpload", Uploads, Writer, "Upload a file", |m| on(m, files::upload))
        .about("The request body is the file (its name in `X-File-Name`, percent-encoded UTF-8, its type in `Content-Type`), \
                or the first file of a `multipart/form-data` body. It is read as it arrives: a body that stops arriving is cut (408); \
                past the size or the caller's quota, 413; too many uploads at once, or as many kept as one may, 429.")
        .params(&[Param::header("X-File-Name", "The file's name, percent-encoded UTF-8 (for a body that is the file itself).")])
        .body(Body::File)
        .answers(&[Answer::json(201, "The upload.", schema::<model::Upload>).located().links(&[
                Link { op: "getUpload", param: "id", from: "$response.body#/id" },
                Link { op: "deleteUpload", param: "id", from: "$response.body#/id" },
            ])])
        .errors(&[429]),
    Endpoint::new(Get, "/uploads/{id}", "getUpload", Uploads, Reader, "Read an upload", |m| on(m, files::get))
        .params(&[UPLOAD_ID])
        .answers(&[Answer::json(200, "The upload.", schema::<model::Upload>)])
        .errors(&[404]),
    Endpoint::new(Delete, "/uploads/{id}", "deleteUpload", Uploads, Writer, "Delete an upload", |m| on(m, files::delete))
        .about("409 for an upload a job used.")
        .params(&[UPLOAD_ID])
        .answers(&[Answer::empty(204, "Deleted.")])
        .errors(&[404, 409]),
    // Kinds.
    Endpoint::new(Get, "/kinds", "listKinds", Kinds, Reader, "List kinds", |m| on(m, kinds::kinds))
        .about("Each kind the server runs: its parameters (what `params` of a start may hold), its retry policy, and the pause that holds it back, if any.")
        .answers(&[Answer::json(200, "The kinds.", schema::<Vec<model::KindInfo>>)]),
    Endpoint::new(Get, "/workflows", "listWorkflows", Kinds, Reader, "List workflows", |m| on(m, kinds::workflows))
        .about("Each workflow of the server's workflows file, with its parameters. A run starts as a job: `POST /api/v1/jobs` with `kind: workflow` and \
                `params: {\"workflow\": NAME, \"params\": {…}}`; its steps are its children (`parent`), each started once the steps it needs succeeded.")
        .answers(&[Answer::json(200, "The workflows.", schema::<Vec<model::KindInfo>>)]),
    Endpoint::new(Post, "/kinds/{kind}/pause", "pauseKind", Kinds, Operator, "Pause a kind", |m| on(m, kinds::pause))
        .about("Its queued jobs stay queued and none starts until it is resumed, on every process and across restarts; running ones finish. `*` pauses every kind.")
        .params(&[Param::path("kind", "The kind's name, or `*` for every kind.", schema::<String>)])
        .answers(&[Answer::json(200, "The pause in force (the earlier one if it was paused already).", schema::<model::KindPause>)
            .links(&[Link { op: "resumeKind", param: "kind", from: "$response.body#/kind" }])])
        .errors(&[404, 422]),
    Endpoint::new(Post, "/kinds/{kind}/resume", "resumeKind", Kinds, Operator, "Resume a kind", |m| on(m, kinds::resume))
        .params(&[Param::path("kind", "The kind's name, or `*`.", schema::<String>)])
        .answers(&[Answer::json(200, "Whether it was paused.", schema::<kinds::Resumed>)])
        .errors(&[404, 422]),
    Endpoint::new(Get, "/limits", "listLimits", Kinds, Reader, "List limits", |m| on(m, kinds::limits))
        .about("The limits in force, declared by kinds or set at run time, each with its use per key (jobs running, or starts in the window), the busiest first. A caller who may not see every job gets how many keys are in use, not the keys.")
        .answers(&[Answer::json(200, "The limits.", schema::<Vec<model::limits::LimitUse>>)]),
    Endpoint::new(Post, "/limits", "setLimit", Kinds, Operator, "Set a limit", |m| on(m, kinds::set_limit))
        .about("At most `max` jobs of `kind` running at once, or with `window_ms`, at most `max` starts in any such window; over the kind (`per: kind`), per user (`per: owner`) or per value of a parameter (`per: param`, `param: NAME`). It replaces the limit of the same kind, key and window, declared or set, on every process.")
        .body(Body::Json(schema::<model::limits::Limit>))
        .example(r#"{"kind":"demo","per":"param","param":"steps","max":1}"#)
        .answers(&[Answer::json(200, "The limit as now in force.", schema::<model::limits::LimitUse>)])
        .errors(&[409, 422]),
    Endpoint::new(Post, "/limits/remove", "removeLimit", Kinds, Operator, "Remove a limit set at run time", |m| on(m, kinds::remove_limit))
        .about("The limit set with this kind, key and window (its `max`, from 1 to 1,000,000 as when set, does not matter) goes; a declared one of the same applies again.")
        .body(Body::Json(schema::<model::limits::Limit>))
        .answers(&[Answer::json(200, "Whether one was set.", schema::<kinds::Removed>)])
        .errors(&[422]),
    // Schedules.
    Endpoint::new(Get, "/schedules", "listSchedules", Schedules, Reader, "List schedules", |m| on(m, schedules::list))
        .answers(&[Answer::json(200, "The schedules the caller may see.", schema::<Vec<model::Schedule>>)]),
    Endpoint::new(Post, "/schedules", "createSchedule", Schedules, Writer, "Create a schedule", |m| on(m, schedules::create))
        .about("`kind` and `cron` are required; the schedule starts its jobs as its owner.")
        .body(Body::Json(new_schedule))
        .example(r#"{"kind":"demo","params":{"steps":3,"interval_ms":10},"cron":"0 2 * * 1-5","timezone":"Europe/Paris"}"#)
        .answers(&[Answer::json(201, "The schedule.", schema::<model::Schedule>).located().links(&[
                Link { op: "getSchedule", param: "id", from: "$response.body#/id" },
                Link { op: "changeSchedule", param: "id", from: "$response.body#/id" },
                Link { op: "runSchedule", param: "id", from: "$response.body#/id" },
                Link { op: "deleteSchedule", param: "id", from: "$response.body#/id" },
            ])]),
    Endpoint::new(Get, "/schedules/preview", "previewSchedule", Schedules, Reader, "Preview a cron expression", |m| on(m, schedules::preview))
        .about("An expression's words and its next fire times in a time zone, or why it is refused (422).")
        .query(schema::<schedules::PreviewQuery>)
        .answers(&[Answer::json(200, "Its words and next fire times.", schema::<model::CronPreview>)])
        .errors(&[422]),
    Endpoint::new(Get, "/schedules/{id}", "getSchedule", Schedules, Reader, "Read a schedule", |m| on(m, schedules::get))
        .params(&[SCHEDULE_ID])
        .answers(&[Answer::json(200, "The schedule.", schema::<model::Schedule>)])
        .errors(&[404]),
    Endpoint::new(Patch, "/schedules/{id}", "changeSchedule", Schedules, Writer, "Change a schedule", |m| on(m, schedules::change))
        .about("Fields left out stay as they were; the kind never changes. `enabled: false` pauses it.")
        .params(&[SCHEDULE_ID])
        .body(Body::Json(schema::<model::ScheduleInput>))
        .example(r#"{"cron":"@daily","enabled":false}"#)
        .answers(&[Answer::json(200, "The schedule as it is now.", schema::<model::Schedule>)])
        .errors(&[404]),
    Endpoint::new(Delete, "/schedules/{id}", "deleteSchedule", Schedules, Writer, "Delete a schedule", |m| on(m, schedules::delete))
        .about("The jobs it started stay.")
        .params(&[SCHEDULE_ID])
        .answers(&[Answer::empty(204, "Deleted.")])
        .errors(&[404]),
    Endpoint::new(Post, "/schedules/{id}/run", "runSchedule", Schedules, Writer, "Run a schedule now", |m| on(m, schedules::run))
        .about("Starts its job now, outside its clock.")
        .params(&[SCHEDULE_ID])
        .answers(&[Answer::json(201, "The job it started.", schema::<model::Job>).located().links(JOB_LINKS)])
        .errors(&[404, 409, 422, 429]),
    // Session.
    Endpoint::new(Get, "/me", "whoAmI", Session, Reader, "Who is calling", |m| on(m, accounts::me))
        .answers(&[Answer::json(200, "The caller: name (none for an open server's anonymous user), role, and whether the server has accounts.", schema::<model::Me>)]),
    Endpoint::new(Post, "/session", "signIn", Session, Anyone, "Sign in", |m| on(m, accounts::sign_in))
        .about("Signs the browser's session in (the cookie comes with the answer). A failure says only that the name or the password is wrong; \
                past a few failures (per name and per client address), 429 with `Retry-After`. 409 on an open server, which has nothing to sign in to; \
                400 with a bearer token instead of a session.")
        .body(Body::Json(schema::<accounts::Credentials>))
        .example(r#"{"username":"ada","password":"correct horse"}"#)
        .answers(&[Answer::json(200, "Who is signed in now.", schema::<model::Me>)])
        .errors(&[409, 429]),
    Endpoint::new(Delete, "/session", "signOut", Session, Reader, "Sign out", |m| on(m, accounts::sign_out))
        .about("Ends the session; on an open server, forgets the browser's anonymous user (its cookie goes).")
        .answers(&[Answer::empty(204, "Signed out.")]),
    // Tokens.
    Endpoint::new(Get, "/tokens", "listTokens", Tokens, Reader, "List tokens", |m| on(m, accounts::list_tokens))
        .about("A page of the caller's tokens, newest first, revoked ones included (their secrets are never shown again); an admin's `?all=true`: everyone's. \
                `limit` (default 100, at most 1,000); the next page is `before` the last of this one, and an empty page is the end.")
        .query(schema::<accounts::TokenList>)
        .answers(&[Answer::json(200, "The tokens.", schema::<Vec<model::accounts::TokenInfo>>)]),
    Endpoint::new(Post, "/tokens", "createToken", Tokens, Writer, "Create a token", |m| on(m, accounts::create_token))
        .about("A token acting as the caller, limited by its scope: `read` can look but never change anything. \
                A user may have `--max-tokens-per-user` (100) tokens in force; past them, 429 saying how many they have (revoke some first).")
        .body(Body::Json(schema::<accounts::TokenRequest>))
        .example(r#"{"name":"nightly backup","scope":"write"}"#)
        .answers(&[Answer::json(201, "The token, with its secret, shown this once.", schema::<model::accounts::NewToken>)
            .links(&[Link { op: "revokeToken", param: "id", from: "$response.body#/id" }])])
        .errors(&[409, 429]),
    Endpoint::new(Delete, "/tokens/{id}", "revokeToken", Tokens, Writer, "Revoke a token", |m| on(m, accounts::revoke_token))
        .about("The caller's token, or anyone's for an admin. Streams that rest on it end.")
        .params(&[Param::path("id", "The token's id.", schema::<String>)])
        .answers(&[Answer::empty(204, "Revoked.")])
        .errors(&[404]),
    // Users.
    Endpoint::new(Get, "/users", "listUsers", Users, Admin, "List accounts", |m| on(m, accounts::list_users))
        .answers(&[Answer::json(200, "The accounts.", schema::<Vec<model::accounts::UserInfo>>)]),
    Endpoint::new(Post, "/users", "addUser", Users, Admin, "Add an account", |m| on(m, accounts::add_user))
        .about("Names are 1 to 64 lowercase letters, digits, `.`, `_` and `-`; passwords have at least 8 characters. 409 for a name taken.")
        .body(Body::Json(schema::<accounts::NewUser>))
        .example(r#"{"username":"ada","password":"correct horse","role":"member"}"#)
        .answers(&[Answer::json(201, "The account.", schema::<model::accounts::UserInfo>)
            .links(&[Link { op: "changeUser", param: "name", from: "$response.body#/username" }])])
        .errors(&[409]),
    Endpoint::new(Patch, "/users/{name}", "changeUser", Users, Admin, "Change an account", |m| on(m, accounts::change_user))
        .about("A new role, password, or disabled state, all or none. A disabled account's sessions and tokens stop working; \
                the last enabled admin cannot be demoted or disabled (409).")
        .params(&[Param::path("name", "The account's name.", schema::<String>)])
        .body(Body::Json(schema::<accounts::UserChange>))
        .example(r#"{"role":"operator"}"#)
        .answers(&[Answer::empty(204, "Changed.")])
        .errors(&[404, 409]),
    // Notices.
    Endpoint::new(Post, "/admin/notices", "postNotice", Notices, Admin, "Post a notice", |m| on(m, notices::post_notice))
        .about("Shows a message to every connected user (a `notice` event), until withdrawn.")
        .body(Body::Json(schema::<notices::NoticeBody>))
        .example(r#"{"text":"Maintenance at 18:00"}"#)
        .answers(&[Answer::json(201, "The notice.", schema::<model::Notice>)]),
    Endpoint::new(Delete, "/admin/notices", "withdrawNotices", Notices, Admin, "Withdraw the notices", |m| on(m, notices::withdraw_notices))
        .answers(&[Answer::json(200, "How many were withdrawn.", schema::<notices::Withdrawn>)]),
    // Webhooks.
    Endpoint::new(Get, "/webhooks", "listWebhooks", Webhooks, Reader, "List webhooks", |m| on(m, webhooks::list))
        .about("The caller's webhooks; an admin's, everyone's. Their secrets are never shown again.")
        .answers(&[Answer::json(200, "The webhooks.", schema::<Vec<model::webhooks::Webhook>>)]),
    Endpoint::new(Post, "/webhooks", "createWebhook", Webhooks, Writer, "Register a webhook", |m| on(m, webhooks::create))
        .about("`statuses` (ends) and `kinds` left empty hear of every one. A URL that is, or resolves to, a loopback, private or link-local address \
                is refused unless the server allows it (`--webhook-allow-private`). `scope: all` (everyone's jobs) is for admins; 20 webhooks per user.")
        .body(Body::Json(schema::<model::webhooks::WebhookInput>))
        .example(r#"{"url":"https://hooks.example.com/headway","statuses":["failed"],"kinds":[],"format":"json"}"#)
        .answers(&[Answer::json(201, "The webhook, and its secret, shown this once.", schema::<model::webhooks::WebhookCreated>).located().links(&[
                Link { op: "getWebhook", param: "id", from: "$response.body#/webhook/id" },
                Link { op: "testWebhook", param: "id", from: "$response.body#/webhook/id" },
                Link { op: "changeWebhook", param: "id", from: "$response.body#/webhook/id" },
                Link { op: "deleteWebhook", param: "id", from: "$response.body#/webhook/id" },
            ])])
        .errors(&[429]),
    Endpoint::new(Get, "/webhooks/{id}", "getWebhook", Webhooks, Reader, "Read a webhook and its deliveries", |m| on(m, webhooks::get))
        .about("The webhook and its newest 50 deliveries: when each was made, its state, the last answer's status or error, its attempts.")
        .params(&[WEBHOOK_ID])
        .answers(&[Answer::json(200, "The webhook and its deliveries.", schema::<model::webhooks::WebhookDetail>)])
        .errors(&[404]),
    Endpoint::new(Patch, "/webhooks/{id}", "changeWebhook", Webhooks, Writer, "Enable or disable a webhook", |m| on(m, webhooks::change))
        .about("`enabled: true` enables it again (forgetting why it was disabled); `false` disables it and gives up its pending deliveries.")
        .params(&[WEBHOOK_ID])
        .body(Body::Json(schema::<model::webhooks::WebhookChange>))
        .example(r#"{"enabled":true}"#)
        .answers(&[Answer::json(200, "The webhook as it is now.", schema::<model::webhooks::Webhook>)])
        .errors(&[404]),
    Endpoint::new(Delete, "/webhooks/{id}", "deleteWebhook", Webhooks, Writer, "Delete a webhook", |m| on(m, webhooks::delete))
        .about("Its deliveries go with it.")
        .params(&[WEBHOOK_ID])
        .answers(&[Answer::empty(204, "Deleted.")])
        .errors(&[404]),
    Endpoint::new(Post, "/webhooks/{id}/test", "testWebhook", Webhooks, Writer, "Send a test delivery", |m| on(m, webhooks::test))
        .about("A delivery of event `test`, sent at once. 409 while the webhook is disabled; 429 while 10 tests wait to be sent to it.")
        .params(&[WEBHOOK_ID])
        .answers(&[Answer::json(202, "The test delivery, waiting to be sent.", schema::<model::webhooks::Delivery>)])
        .errors(&[404, 409, 429]),
    Endpoint::new(Post, "/webhooks/{id}/deliveries/{delivery}/resend", "resendDelivery", Webhooks, Writer, "Resend a delivery", |m| on(m, webhooks::resend))
        .about("Sends a delivery again now, with the same id, retried for a day from now. 409 while the webhook is disabled.")
        .params(&[WEBHOOK_ID, Param::path("delivery", "The delivery's id.", schema::<model::DeliveryId>)])
        .answers(&[Answer::json(202, "The delivery, waiting to be sent.", schema::<model::webhooks::Delivery>)])
        .errors(&[404, 409]),
    // Workers on other machines.
    Endpoint::new(Post, "/workers", "registerWorker", Workers, Worker, "Register a worker", |m| on(m, workers::register))
        .about("A worker says who it is (name, host, version), the tags it offers, how many jobs it runs at once, and the text of its commands file: \
                its commands become kinds of the server (their forms, checks, limits and tags), whose jobs only workers run. 422 names what is wrong \
                (a line of the file, a tag, a command of the name of a kind the server runs itself). The body may be up to 2 MiB.")
        .body(Body::Json(schema::<model::workers::Hello>))
        .example(r#"{"name":"gpu-1","host":"gpu-1.lan","version":"0.1.0","pid":4242,"tags":["gpu"],"max_running":4,"commands":"[[command]]\nname = \"render\"\nprogram = \"/opt/render.sh\"\n"}"#)
        .answers(&[Answer::json(201, "Its id, its lease and how long a poll waits.", schema::<model::workers::Registered>).located()]),
    Endpoint::new(Post, "/workers/{id}/poll", "pollWork", Workers, Worker, "Take work", |m| on(m, workers::poll))
        .about("A long poll: answered as soon as there are jobs for the worker (at most `free`, of its kinds whose tags it offers; priorities, users' shares and limits hold) \
                or jobs among those it lists as `running` to stop (cancelled, or taken back), else empty after `poll_secs`. Each poll is the worker's heartbeat: \
                one silent for longer than its lease is taken for gone and its jobs are taken back (tried again where their kind allows). 404: the worker was taken for gone; register again.")
        .params(&[WORKER_ID])
        .body(Body::Json(schema::<model::workers::Poll>))
        .example(r#"{"free":4,"running":[]}"#)
        .answers(&[Answer::json(200, "Jobs to run, jobs to stop, and the worker's state.", schema::<model::workers::PollReply>)])
        .errors(&[404]),
    Endpoint::new(Post, "/workers/{id}/jobs/{job}/report", "reportWork", Workers, Worker, "Report on a job a worker runs", |m| on(m, workers::report))
        .about("The body of an external job's report (`reportJob`), on attempt `attempt` of a job the worker holds: log lines numbered on from `log_seq` of its poll's answer. \
                A failed end is tried again where the kind allows. 404 for a job that is not of the worker's kinds; 409 for an attempt no longer the worker's (taken back: stop it). \
                Each report costs its worker token's report budget (`--report-bytes-per-sec`, not the job owner's) 1 KiB plus its log lines' bytes: past it, 429 with `Retry-After`, nothing written.")
        .params(&[WORKER_ID, Param::path("job", "The job's id.", schema::<model::JobId>)])
        .query(schema::<workers::AttemptQuery>)
        .body(Body::Json(schema::<model::Report>))
        .example(r#"{"progress":1,"total":2,"log":[{"seq":1,"line":"started"}]}"#)
        .answers(&[Answer::json(200, "What was kept, and the job's status.", schema::<model::ReportReply>)])
        .errors(&[404, 409, 429]),
    Endpoint::new(Get, "/workers/{id}/jobs/{job}/files/{param}", "getWorkInput", Workers, Worker, "Fetch a job's input file", |m| on(m, workers::input))
        .about("The bytes of the file the parameter `param` of a job the worker holds names (an upload, or another job's output), with `Range` support: \
                the run's input. 404 for a parameter that names no file; 409 for a job the worker no longer holds.")
        .params(&[WORKER_ID, Param::path("job", "The job's id.", schema::<model::JobId>), Param::path("param", "The file parameter's name.", schema::<String>)])
        .answers(&[
            Answer::of(200, "The file.", Content::File),
            Answer::of(206, "The range asked for.", Content::File),
        ])
        .errors(&[404, 409]),
    Endpoint::new(Post, "/workers/{id}/jobs/{job}/outputs/{name}", "sendWorkOutput", Workers, Worker, "Send a job's output file", |m| on(m, workers::output))
        .about("An output file the program of attempt `attempt` left, the body its bytes (at most `--max-upload-bytes`, 413 past it): \
                listed with the job once whole, replacing one of the same name. It counts against the job owner's file quota, with their uploads \
                (`--upload-quota-bytes`): 413 past it, nothing kept. 409 for an attempt the worker no longer holds, or past the outputs a job may have.")
        .params(&[WORKER_ID, Param::path("job", "The job's id.", schema::<model::JobId>), Param::path("name", "The output's name.", schema::<String>)])
        .query(schema::<workers::AttemptQuery>)
        .body(Body::File)
        .answers(&[Answer::json(201, "The output, as listed with the job.", schema::<model::Output>)])
        .errors(&[404, 409, 413]),
    Endpoint::new(Get, "/workers", "listWorkers", Workers, Operator, "List workers", |m| on(m, workers::list))
        .about("Every registered worker: name, host, version, tags, kinds, slots, jobs running, state, and its last poll.")
        .answers(&[Answer::json(200, "The workers.", schema::<Vec<model::workers::WorkerInfo>>)]),
    Endpoint::new(Post, "/workers/{id}/state", "setWorkerState", Workers, Operator, "Drain or disable a worker", |m| on(m, workers::set_state))
        .about("`draining`: it finishes what it runs and takes no more. `disabled`: it takes nothing, and what it runs is taken back now (tried again where its kind allows) \
                and stopped on it. `active`: it takes work again.")
        .params(&[WORKER_ID])
        .body(Body::Json(schema::<model::workers::SetState>))
        .example(r#"{"state":"draining"}"#)
        .answers(&[Answer::json(200, "The worker as it is now.", schema::<model::workers::WorkerInfo>)])
        .errors(&[404]),
    Endpoint::new(Get, "/worker-tokens", "listWorkerTokens", Workers, Admin, "List worker tokens", |m| on(m, workers::list_tokens))
        .answers(&[Answer::json(200, "The worker tokens, revoked ones included.", schema::<Vec<model::workers::WorkerTokenInfo>>)]),
    Endpoint::new(Post, "/worker-tokens", "createWorkerToken", Workers, Admin, "Make a worker token", |m| on(m, workers::create_token))
        .about("A token a worker connects with: it may register workers, take their work and report on it, nothing else.")
        .body(Body::Json(schema::<workers::TokenRequest>))
        .example(r#"{"name":"gpu box"}"#)
        .answers(&[Answer::json(201, "The token, with its secret, shown this once.", schema::<model::workers::NewWorkerToken>)
            .links(&[Link { op: "revokeWorkerToken", param: "id", from: "$response.body#/id" }])]),
    Endpoint::new(Delete, "/worker-tokens/{id}", "revokeWorkerToken", Workers, Admin, "Revoke a worker token", |m| on(m, workers::revoke_token))
        .about("Its workers' requests are refused (401) from now on; the workers are removed and their jobs taken back.")
        .params(&[Param::path("id", "The token's id.", schema::<String>)])
        .answers(&[Answer::empty(204, "Revoked.")])
        .errors(&[404]),
    // This document.
    Endpoint::new(Get, "/openapi.json", "getOpenApi", Api, Anyone, "This document", |m| on(m, openapi))
        .about("The API as OpenAPI 3.1, generated from the list the server's routes are built from. The page `/settings/api` shows it to people.")
        .answers(&[Answer::json(200, "The document.", schema::<Value>)]),
];

/// The `/api/v1` router: each endpoint served by its handler, and any other path answered
/// "no such API endpoint" (404).
pub fn router() -> Router<AppState> {
    ENDPOINTS
        .iter()
        .fold(Router::new(), |router, e| {
            router.route(e.path, (e.serve)(e.verb.filter()))
        })
        .route("/{*rest}", any(health::no_such_endpoint))
}

/// The requests someone not signed in may make (their whole paths), handed to who decides
/// who is calling at start-up ([`crate::identity::OpenPaths`]).
pub fn open_paths() -> crate::identity::OpenPaths {
    crate::identity::OpenPaths::new(
        ENDPOINTS
            .iter()
            .filter(|e| e.access == Anyone)
            .map(|e| (e.verb.method(), format!("{PREFIX}{}", e.path))),
    )
}

/// `GET /api/v1/openapi.json`.
async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_bytes(),
    )
}

/// The document as JSON text, built once.
pub fn document_bytes() -> &'static [u8] {
    static TEXT: OnceLock<Vec<u8>> = OnceLock::new();
    TEXT.get_or_init(|| serde_json::to_vec(document()).expect("the document is JSON"))
}

/// The OpenAPI 3.1 document of [`ENDPOINTS`], built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| build(ENDPOINTS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;
    use serde_json::json;
    use std::collections::HashSet;

    #[test]
    fn every_operation_is_named_once_and_served_once() {
        let mut ids = HashSet::new();
        let mut routes = HashSet::new();
        for e in ENDPOINTS {
            assert!(ids.insert(e.id), "operation id {} twice", e.id);
            assert!(
                routes.insert((e.verb, e.path)),
                "{:?} {} twice",
                e.verb,
                e.path
            );
            assert!(
                e.path.starts_with('/') && !e.path.ends_with('/'),
                "{}",
                e.path
            );
            assert!(!e.answers.is_empty(), "{} answers nothing", e.id);
        }
    }

    #[test]
    fn every_link_names_an_operation_and_one_of_its_parameters() {
        for e in ENDPOINTS {
            for link in e.answers.iter().flat_map(|a| a.links) {
                let target = ENDPOINTS.iter().find(|t| t.id == link.op);
                let target = target.unwrap_or_else(|| panic!("{} links to no {}", e.id, link.op));
                assert!(
                    target.params.iter().any(|p| p.name == link.param),
                    "{} has no parameter {}",
                    link.op,
                    link.param
                );
            }
        }
    }

    #[test]
    fn every_path_parameter_is_described_and_every_described_one_is_in_the_path() {
        for e in ENDPOINTS {
            let in_path: Vec<&str> = e
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let described: Vec<&str> = e
                .params
                .iter()
                .filter(|p| p.place == Place::Path)
                .map(|p| p.name)
                .collect();
            assert_eq!(in_path, described, "{}", e.id);
        }
    }

    #[test]
    fn the_document_refers_only_to_what_it_holds() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let text = serde_json::to_string(doc).unwrap();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = &reference[..reference.find('"').unwrap()];
            let pointer = target.strip_prefix('#').expect("a local reference");
            assert!(
                doc.pointer(pointer).is_some(),
                "{target} is not in the document"
            );
        }
        assert_eq!(
            doc["paths"]
                .as_object()
                .unwrap()
                .values()
                .map(|p| p.as_object().unwrap().len())
                .sum::<usize>(),
            ENDPOINTS.len()
        );
    }

    #[test]
    fn anything_is_written_as_an_empty_schema_not_as_true() {
        let doc = document();
        for pointer in [
            "/components/schemas/Job/properties/params",
            "/components/schemas/Schedule/properties/params",
            "/components/schemas/ParamInfo/properties/default",
            "/paths/~1api~1v1~1openapi.json/get/responses/200/content/application~1json/schema",
        ] {
            assert_eq!(doc.pointer(pointer), Some(&json!({})), "{pointer}");
        }
        let text = serde_json::to_string(doc).unwrap();
        for needle in ["\"schema\":true", "\"items\":true"] {
            assert!(!text.contains(needle), "{needle}");
        }
        // A value `true` that is not a schema stays.
        assert!(text.contains("\"required\":true"));
    }

    #[test]
    fn only_the_document_and_signing_in_are_open_to_anyone() {
        let open = open_paths();
        let open_to_anyone = |method: &Method, path: &str| open.allows(method, path);
        assert!(open_to_anyone(&Method::GET, "/api/v1/openapi.json"));
        assert!(open_to_anyone(&Method::POST, "/api/v1/session"));
        assert!(!open_to_anyone(&Method::DELETE, "/api/v1/session"));
        assert!(!open_to_anyone(&Method::GET, "/api/v1/jobs"));
        assert!(!open_to_anyone(&Method::GET, "/openapi.json"));
    }
}
