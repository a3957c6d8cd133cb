//! How much of a request the server reads, and how long it waits for it.

use std::time::Duration;

/// Largest request body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most of a refused body read (and discarded) before the answer.
pub const DRAIN_BYTES: usize = 64 * 1024 * 1024;
/// Longest a refused body is read before the answer.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// How request bodies are read.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// How long a whole body may take to arrive once its head has.
    pub timeout: Duration,
}
