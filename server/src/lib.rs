//! The Headway server: the axum binary's parts, as a library so that integration tests can start
//! the real thing on port 0.
//!
//! - [`config`]: flags and environment, read once;
//! - [`startup`]: opens the store, starts the engine, builds the router with its layers;
//! - [`session`]: every request's user, from a SQLite-backed session;
//! - [`api`]: the JSON API for scripts;
//! - [`admin`]: operator endpoints (notices), behind a bearer token;
//! - [`notice`]: `headway notice`, the operator's client for them;
//! - [`listener`]: accepts connections; event streams go to [`sse::direct`], the rest to axum;
//! - [`sse`]: the event streams;
//! - [`shutdown`]: what happens on SIGTERM / Ctrl-C.

// The dashboard's view types nest deeply; rendering them needs more than the default.
#![recursion_limit = "256"]

pub mod admin;
pub mod api;
pub mod config;
pub mod listener;
pub mod notice;
pub mod session;
pub mod shutdown;
pub mod sse;
pub mod startup;

pub use config::Config;
pub use startup::{Server, StartError};
