//! The Headway server: the axum binary's parts, as a library so that integration tests can start
//! the real thing on port 0.
//!
//! - [`config`]: flags and environment, read once;
//! - [`hosts`]: the hosts this server answers for (421 for any other, against DNS rebinding);
//! - [`client`]: who the client of a request is, past trusted proxies, and whether it is local;
//! - [`security_headers`]: the headers every answer carries (Content-Security-Policy and
//!   others);
//! - [`startup`]: opens the store, starts the engine, builds the router with its layers;
//! - [`serve`]: accepts connections, bounded and tracked, and serves them with hyper; makes
//!   room for newcomers by closing the connections that only hold their slot;
//! - [`identity`]: who is calling, decided once per request from its head (session cookie, API
//!   token or operator token), with sessions and accounts kept in Headway's database; roles;
//!   cross-site refusal; failed sign-in limits;
//! - [`accounts_api`]: signing in and out, `/api/v1/me`, tokens and accounts;
//! - [`accounts_cli`]: `headway users` and `headway tokens`;
//! - [`assets`]: the site's files, their compressed copies, checked with the server at every use;
//! - [`compression`]: answers compressed (brotli or gzip), `Vary` on every compressed one;
//! - [`refusals`]: oversized or late bodies and refused server-function input get readable 4xx
//!   answers;
//! - [`api`]: the JSON API for scripts, `/healthz` and `/readyz`;
//! - [`admin`]: operator endpoints (notices) and the operator token;
//! - [`notice`]: `headway notice`, the operator's client for them;
//! - [`sse`]: the event streams and long polling;
//! - [`metrics`]: `/metrics` (Prometheus), counting requests and streams;
//! - [`access_log`]: one log record per request, with a request id and the client's address;
//! - [`shutdown`]: what happens on SIGTERM / Ctrl-C.

// The dashboard's view types nest deeply; rendering them needs more than the default.
#![recursion_limit = "256"]

pub mod access_log;
pub mod accounts_api;
pub mod accounts_cli;
pub mod admin;
pub mod api;
pub mod assets;
pub mod client;
pub mod compression;
pub mod config;
pub mod hosts;
pub mod identity;
pub mod metrics;
pub mod notice;
pub mod refusals;
pub mod security_headers;
pub mod serve;
pub mod shutdown;
pub mod sse;
pub mod startup;

pub use config::Config;
pub use startup::{Server, StartError};
