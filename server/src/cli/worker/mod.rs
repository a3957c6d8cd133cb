//! `headway worker`: runs command kinds' jobs pulled from a server (docs/WORKERS.md).
//!
//! - [`pull`]: registering, and the loop of long polls that takes work and stops it;
//! - [`job`]: one job, its command run as a server runs it, and its end;
//! - [`sink`]: where a run's progress, log, result, children, inputs and outputs go.

pub mod job;
pub mod pull;
pub mod sink;

pub use pull::run;
