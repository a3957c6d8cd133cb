//! The JSON API for scripts (`/api/v1/…`), one module per resource; every handler parses, calls
//! one engine function and formats its answer. (The pages' server functions are `app::server_fns`; the
//! event streams are [`crate::sse`].)
//!
//! - [`api`]: the one list of every endpoint, which the router serves and the OpenAPI document
//!   (`GET /api/v1/openapi.json`) describes;
//! - [`jobs`]: jobs, their logs, bulk actions;
//! - [`external`]: jobs of programs that run elsewhere, and their reports;
//! - [`kinds`]: the kinds, and pausing them;
//! - [`files`]: uploads, and jobs' outputs;
//! - [`schedules`]: jobs started on a clock;
//! - [`webhooks`]: URLs told when jobs end, and their deliveries;
//! - [`workers`]: workers on other machines, their work and their tokens;
//! - [`accounts`]: signing in and out, who is calling, tokens, accounts;
//! - [`notices`]: the operator's notices;
//! - [`metrics`], `/metrics`;
//! - [`health`]: `/healthz`, `/readyz`, and unknown API paths.

pub mod accounts;
pub mod api;
pub mod external;
pub mod files;
pub mod health;
pub mod jobs;
pub mod kinds;
pub mod metrics;
pub mod notices;
pub mod schedules;
pub mod start_with_file;
pub mod webhooks;
pub mod workers;

/// Where to send a browser back to (after signing in, after the start form): a path on this
/// site, never another site. Only a path that starts with one `/` and holds no backslash,
/// whitespace or control character is kept: browsers drop tabs and line breaks from URLs and read `\` as `/`, so `/\t/evil.example`
/// would lead to `//evil.example`, another site. (The paths Headway sends people back to
/// are percent-encoded, hence ASCII.)
pub(crate) fn safe_next(next: &str) -> &str {
    let path_only = next.starts_with('/')
        && !next[1..].starts_with('/')
        && next.is_ascii()
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    match path_only {
        true => next,
        false => "/",
    }
}
