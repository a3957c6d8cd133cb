//! `headway worker`: runs command kinds' jobs pulled from a server (docs/WORKERS.md).

pub mod sink;
