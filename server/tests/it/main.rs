//! Headway's integration tests: the real server started in this process on port 0 with a fresh
//! SQLite file ([`harness`]), driven over HTTP and read with a real SSE client ([`client`]).
//! Tests that need a separate process on purpose (kill -9, SIGTERM, start-up errors) are in
//! `tests/process.rs`.

mod client;
mod harness;
/// The real binary as a child process, for the probes that measure a process of its own.
#[path = "../support/headway.rs"]
#[allow(dead_code)]
mod support;

mod accounts;
mod api;
mod bulk;
mod failures;
mod identity;
mod kinds;
mod logs;
mod notices;
mod ops;
mod probes;
mod queue;
mod stream;
mod stress;
