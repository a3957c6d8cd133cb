//! The Headway server: the axum binary's parts, as a library so that integration tests can start
//! the real thing on port 0.
//!
//! Start-up and what every part shares:
//! - [`config`]: flags and environment, read once;
//! - [`startup`]: opens the store, starts the engine, builds the [`state`] and the [`routes`];
//! - [`state`]: what every handler can reach ([`state::AppState`]);
//! - [`error`]: an error as an HTTP answer, and JSON bodies refused with one;
//! - [`routes`]: what each path is served by, and the layers of each part of the site;
//! - [`serve`]: accepts connections, bounded and tracked, and serves them with hyper; makes
//!   room for newcomers by closing the connections that only hold their slot;
//! - [`operator_token`]: the operator token, given or kept next to the database;
//! - [`shutdown`]: what happens on SIGTERM / Ctrl-C.
//!
//! What every request goes through (layers):
//! - [`client`]: who the client of a request is, past trusted proxies, and whether it is local;
//! - [`hosts`]: the hosts this server answers for (421 for any other, against DNS rebinding);
//! - [`security_headers`]: the headers every answer carries (Content-Security-Policy and
//!   others);
//! - [`limits`] and [`refusals`]: bodies read within their size and deadline, readable 4xx
//!   answers for what is refused;
//! - [`identity`]: who is calling, decided once per request from its head (session cookie, API
//!   token or operator token), with sessions and accounts kept in Headway's database; roles;
//!   cross-site refusal; failed sign-in limits;
//! - [`panics`]: a handler's panic answered 500 (JSON, or a page in the reader's language) and
//!   logged with its cause;
//! - [`telemetry`]: counting requests and streams for `/metrics`;
//! - [`access_log`]: one log record per request, with a request id and the client's address;
//! - [`assets`] and [`compression`]: the site's files and their compressed copies, answers
//!   compressed (brotli or gzip).
//!
//! Handlers, which depend on the above and never on each other:
//! - [`rest`]: the JSON API for scripts (jobs, accounts, notices, metrics, health);
//! - [`sse`]: the event streams and long polling, which frame the caller's feed
//!   (`engine::feed`), with [`shares`], each user's share of them.
//!
//! Commands: [`accounts_cli`] (`headway users`, `headway tokens`, on the database) and [`cli`]
//! (`headway notice`, `headway kinds`, through a running server's API).

// The dashboard's view types nest deeply; rendering them needs more than the default.
#![recursion_limit = "256"]

pub mod access_log;
pub mod accounts_cli;
pub mod assets;
pub mod cli;
pub mod client;
pub mod compression;
pub mod config;
pub mod error;
pub mod hosts;
pub mod identity;
pub mod limits;
pub mod openapi;
pub mod operator_token;
pub mod panics;
pub mod refusals;
pub mod rest;
pub mod routes;
pub mod security_headers;
pub mod serve;
pub mod shares;
pub mod shutdown;
pub mod sse;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use startup::{Server, StartError};
