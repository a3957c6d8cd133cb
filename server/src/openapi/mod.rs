//! The words an API's operations are described in: methods, groups, who may call, parameters,
//! bodies, answers and links ([`Endpoint`]), from which [`document`] writes an OpenAPI 3.1
//! document. It names no endpoint and no handler: the JSON API's own list is
//! `crate::rest::api::ENDPOINTS`, which serves each entry and describes it in these words.

pub mod document;

use crate::state::AppState;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};

use Access::*;
use Resource::*;
use Verb::*;

/// Where the API lives: every [`Endpoint::path`] is under it.
pub const PREFIX: &str = "/api/v1";

/// The schema of a part of a request or an answer, from the generator that gathers them all.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// `T`'s schema: a reference to it among the document's schemas (or `T` inline, for a plain
/// type).
pub fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Get => Method::GET,
            Post => Method::POST,
            Patch => Method::PATCH,
            Delete => Method::DELETE,
        }
    }

    pub fn filter(self) -> MethodFilter {
        match self {
            Get => MethodFilter::GET,
            Post => MethodFilter::POST,
            Patch => MethodFilter::PATCH,
            Delete => MethodFilter::DELETE,
        }
    }

    /// As OpenAPI names it (a key of a path item).
    pub fn key(self) -> &'static str {
        match self {
            Get => "get",
            Post => "post",
            Patch => "patch",
            Delete => "delete",
        }
    }
}

/// What an endpoint is about: its group in the document and on the reference page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Jobs,
    Events,
    Uploads,
    Kinds,
    Schedules,
    Session,
    Tokens,
    Users,
    Notices,
    Webhooks,
    Workers,
    Api,
}

impl Resource {
    pub const ALL: [Resource; 12] = [
        Jobs, Events, Uploads, Kinds, Schedules, Session, Tokens, Users, Notices, Webhooks,
        Workers, Api,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Jobs => "jobs",
            Events => "events",
            Uploads => "uploads",
            Kinds => "kinds",
            Schedules => "schedules",
            Session => "session",
            Tokens => "tokens",
            Users => "users",
            Notices => "notices",
            Webhooks => "webhooks",
            Workers => "workers",
            Api => "api",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Jobs => "Starting, reading, listing, cancelling and re-running jobs; their logs and output files; external jobs' reports.",
            Events => "What happens to the jobs a caller may see: as a `text/event-stream` (one per browser tab), or as JSON pages for clients that cannot hold a stream.",
            Uploads => "Files sent to the server, which a job's `file` parameter names by id. One not used by a job within a day is deleted.",
            Kinds => "The kinds of job the server runs, with their parameters; operators pause and resume them.",
            Schedules => "Jobs started on a clock: a kind with its parameters, a cron expression and a time zone.",
            Session => "Signing in and out with a browser session, and who is calling.",
            Tokens => "Personal API tokens (`Authorization: Bearer hw_…`), which act as their owner in scripts.",
            Users => "Accounts, for admins (servers run with `--auth accounts`).",
            Notices => "The operator's notices, shown to every connected user.",
            Webhooks => "URLs Headway POSTs to when jobs end (signed with HMAC-SHA256, retried for a day), and their deliveries. Members hear of their own jobs, admins may hear of everyone's.",
            Workers => "Workers on other machines (`headway worker`): they register the kinds of their commands file, take jobs by long polls and report on them with a worker token; operators list, drain and disable them, admins make and revoke their tokens.",
            Api => "This document.",
        }
    }
}

/// Who may call an endpoint. On an open server (`--auth open`) every browser is its own
/// anonymous user, and needs no credential; with accounts, a caller presents a session cookie
/// or a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Anyone,
    /// Any caller: an account of any role, any token, an open server's anonymous user.
    Reader,
    /// A caller who may change things: a member or above, with a session or a write token.
    Writer,
    /// An operator or an admin (or the operator token).
    Operator,
    /// An admin (or the operator token).
    Admin,
    /// An external job's report token, for its own job only.
    Reporter,
    /// A worker token: a worker's own registration, polls and reports.
    Worker,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Anyone => "anyone",
            Reader => "reader",
            Writer => "writer",
            Operator => "operator",
            Admin => "admin",
            Reporter => "reporter",
            Worker => "worker",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            Anyone => "Anyone, signed in or not.",
            Reader => "Any caller: an account of any role, a read or write token, or anyone on an open server. A member sees only their own jobs.",
            Writer => "A caller who may change things: a member, operator or admin, with a session or a write token (a viewer or a read token gets 403). A member acts on their own jobs only.",
            Operator => "An operator or an admin (or the operator token), with a session or a write token.",
            Admin => "An admin (or the operator token), with a session or a write token.",
            Reporter => "The external job's report token (`Authorization: Bearer hwr_…`), answered once by the job's start; for that job only.",
            Worker => "A worker token (`Authorization: Bearer hwk_…`), for the worker's own registration, polls and reports; it may do nothing else (403).",
        }
    }

    /// The credentials it is presented with, as OpenAPI security requirements.
    fn security(self) -> Value {
        match self {
            Anyone => json!([{}]),
            Reporter => json!([{ "reportToken": [] }]),
            Worker => json!([{ "workerToken": [] }]),
            _ => json!([{ "bearer": [] }, { "session": [] }]),
        }
    }
}

/// Where a parameter is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Path,
    Header,
}

/// A path or header parameter (query parameters come from a type: `Endpoint::query`).
#[derive(Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub place: Place,
    pub required: bool,
    pub about: &'static str,
    pub schema: SchemaFn,
}

impl Param {
    /// A segment `{name}` of the path.
    pub const fn path(name: &'static str, about: &'static str, schema: SchemaFn) -> Param {
        Param {
            name,
            place: Place::Path,
            required: true,
            about,
            schema,
        }
    }

    /// An optional header.
    pub const fn header(name: &'static str, about: &'static str) -> Param {
        Param::header_of(name, about, schema::<String>)
    }

    /// An optional header whose values the schema describes.
    pub const fn header_of(name: &'static str, about: &'static str, schema: SchemaFn) -> Param {
        Param {
            name,
            place: Place::Header,
            required: false,
            about,
            schema,
        }
    }
}

/// What a request carries.
#[derive(Clone, Copy)]
pub enum Body {
    None,
    /// JSON of this schema (`Content-Type: application/json`).
    Json(SchemaFn),
    /// A file: the body itself (named by `X-File-Name`), or the first file of a
    /// `multipart/form-data` body; read as it arrives, within its own limits.
    File,
}

/// What an answer carries.
#[derive(Clone, Copy)]
pub enum Content {
    /// JSON of this schema.
    Json(SchemaFn),
    /// Nothing.
    Empty,
    /// A `text/event-stream`.
    Events,
    /// `text/plain`, as an attachment.
    Text,
    /// A file of any type, as an attachment.
    File,
}

/// One answer an operation gives on success (its errors are `Endpoint::errors`).
#[derive(Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub about: &'static str,
    pub content: Content,
    /// Says where the new resource is (`Location`).
    pub located: bool,
    /// The operations its body names the parameter of (what a client, or a fuzzer, calls
    /// next).
    pub links: &'static [Link],
}

/// An answer's value that is another operation's parameter: `param` of operation `op` is
/// `from` (a runtime expression, such as `$response.body#/id`).
#[derive(Clone, Copy)]
pub struct Link {
    pub op: &'static str,
    pub param: &'static str,
    pub from: &'static str,
}

impl Answer {
    pub const fn json(status: u16, about: &'static str, schema: SchemaFn) -> Answer {
        Answer {
            status,
            about,
            content: Content::Json(schema),
            located: false,
            links: &[],
        }
    }

    pub const fn empty(status: u16, about: &'static str) -> Answer {
        Answer {
            status,
            about,
            content: Content::Empty,
            located: false,
            links: &[],
        }
    }

    pub const fn of(status: u16, about: &'static str, content: Content) -> Answer {
        Answer {
            status,
            about,
            content,
            located: false,
            links: &[],
        }
    }

    /// With a `Location` header naming what was created.
    pub const fn located(mut self) -> Answer {
        self.located = true;
        self
    }

    pub const fn links(mut self, links: &'static [Link]) -> Answer {
        self.links = links;
        self
    }
}

/// One operation of the API: what the document says of it, and what serves it.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub verb: Verb,
    /// Under [`PREFIX`], with `{name}` for a path parameter (as axum and OpenAPI write it).
    pub path: &'static str,
    /// The operation's id in the document: what a generated client names its function.
    pub id: &'static str,
    pub resource: Resource,
    pub access: Access,
    pub summary: &'static str,
    pub about: &'static str,
    pub params: &'static [Param],
    /// The query's type: each of its fields is a query parameter.
    pub query: Option<SchemaFn>,
    pub body: Body,
    pub answers: &'static [Answer],
    /// The errors of its own, besides those every operation may answer ([`COMMON_ERRORS`]).
    pub errors: &'static [u16],
    /// A body that works, as JSON text: shown to people, and sent first by a fuzzer.
    pub example: Option<&'static str>,
    /// Its handler, for the method given.
    pub serve: fn(MethodFilter) -> MethodRouter<AppState>,
}

impl Endpoint {
    pub const fn new(
        verb: Verb,
        path: &'static str,
        id: &'static str,
        resource: Resource,
        access: Access,
        summary: &'static str,
        serve: fn(MethodFilter) -> MethodRouter<AppState>,
    ) -> Endpoint {
        Endpoint {
            verb,
            path,
            id,
            resource,
            access,
            summary,
            about: "",
            params: &[],
            query: None,
            body: Body::None,
            answers: &[],
            errors: &[],
            example: None,
            serve,
        }
    }

    pub const fn example(mut self, example: &'static str) -> Endpoint {
        self.example = Some(example);
        self
    }

    pub const fn about(mut self, about: &'static str) -> Endpoint {
        self.about = about;
        self
    }

    pub const fn params(mut self, params: &'static [Param]) -> Endpoint {
        self.params = params;
        self
    }

    pub const fn query(mut self, query: SchemaFn) -> Endpoint {
        self.query = Some(query);
        self
    }

    pub const fn body(mut self, body: Body) -> Endpoint {
        self.body = body;
        self
    }

    pub const fn answers(mut self, answers: &'static [Answer]) -> Endpoint {
        self.answers = answers;
        self
    }

    pub const fn errors(mut self, errors: &'static [u16]) -> Endpoint {
        self.errors = errors;
        self
    }

    /// Its path as clients call it.
    pub fn full_path(&self) -> String {
        format!("{PREFIX}{}", self.path)
    }

    /// Every error status it may answer: its own, and those of every operation like it.
    pub fn error_statuses(&self) -> Vec<u16> {
        let mut all: Vec<u16> = COMMON_ERRORS.to_vec();
        if !matches!(self.body, Body::None) {
            all.extend(BODY_ERRORS);
        }
        if self.query.is_some() || self.params.iter().any(|p| p.place == Place::Header) {
            all.push(400);
        }
        all.extend(self.errors);
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// What every operation may answer: no one signed in (or a token that is not valid), a caller
/// who may not (or a cross-site request, or a report token elsewhere than its report), a host
/// the server does not answer for, a server out of connections or shutting down.
pub const COMMON_ERRORS: [u16; 4] = [401, 403, 421, 503];

/// What an operation with a body may answer besides: not JSON, too slow, too large, or not of
/// the right shape.
pub const BODY_ERRORS: [u16; 4] = [400, 408, 413, 422];
