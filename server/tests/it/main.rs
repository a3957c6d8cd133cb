//! Headway's integration tests, in one binary: the real server started in this process on port 0
//! with a fresh SQLite file ([`harness`]), driven over HTTP and read with a real SSE client
//! ([`client`]); and the tests that need the real binary as processes of their own
//! ([`support`]): kill -9, SIGTERM and start-up errors ([`process`]), several processes on one
//! PostgreSQL database ([`cluster`]), and nginx in front ([`proxy`]).
//!
//! `scripts/unit.sh` runs the processes' tests (`cluster::`, `proxy::`, `process::`) apart from
//! the others, so that their timings do not depend on the in-process tests sharing the machine.

mod client;
mod harness;
mod support;
mod team;

mod accounts;
mod after;
mod api;
mod architecture;
mod authz;
mod bounds;
mod bulk;
mod children;
mod clients;
mod cluster;
mod commands;
mod external;
mod failures;
mod files;
mod identity;
mod kinds;
mod limits;
mod local_operator;
mod logs;
mod notices;
mod openapi;
mod ops;
mod pages;
mod pauses;
mod priorities;
mod probes;
mod process;
mod proxy;
mod queue;
mod retries;
mod rows;
mod schedules;
mod search;
mod starts;
mod stream;
mod stress;
mod tags;
mod trust;
mod webhooks;
mod workers;
mod workflows;
