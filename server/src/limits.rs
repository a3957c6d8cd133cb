//! How much of a request the server reads, and how long it waits for it.

use std::time::Duration;

/// Largest request body read, but for the few below that carry more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest body of a start (`POST /api/v1/jobs`): a posted workflow's definition of up to
/// [`engine::workflows::posted::MAX_DEFINITION`] (256 KiB), with [`START_ROOM_BYTES`] for its
/// parameters and the rest of the request: 288 KiB.
pub const MAX_START_BYTES: usize = engine::workflows::posted::MAX_DEFINITION + START_ROOM_BYTES;
/// What a start's body has beside a posted definition: its run's parameters, its kind, its
/// options, and the spaces of a definition not sent compact.
pub const START_ROOM_BYTES: usize = 32 * 1024;
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
