//! The event streams and the long poll: the HTTP faces of the caller's feed
//! (`engine::feed`), which decides what a client is told, from its cursor on; these modules
//! only frame it, so that the two always agree.
//!
//! - [`stream`]: `GET /api/v1/events` and `GET /api/v1/jobs/{id}/events`, as
//!   `text/event-stream`;
//! - [`poll`](mod@poll): `GET /api/v1/events/poll`, as JSON pages;
//! - [`frames`]: the feed's items as SSE frames, `retry:`, and chunks of bursts;
//! - [`cursor`]: the client's cursor, from `Last-Event-ID`, `?last_event_id=` or `?after=`.
//!
//! The two handlers depend on the feed, [`crate::state`], [`crate::error`] and the two helper
//! modules, never on each other.

pub mod cursor;
pub mod frames;
pub mod poll;
pub mod stream;

pub use poll::poll;
pub use stream::{all_events, job_events};
