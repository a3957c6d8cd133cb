//! Headway's application crate: everything Leptos renders or calls, for both the server (`ssr`)
//! and the browser (`hydrate`).
//!
//! - [`app`]: the HTML shell, `<App/>` and its routes;
//! - [`model`]: the job model and stream events, shared by every boundary;
//! - [`error`]: the error type server functions return;
//! - [`format`]: how numbers, times and durations are written for people;
//! - [`pace`]: elapsed time, smoothed rate, ETA and stalls of running jobs;
//! - [`pages`]: one module per route;
//! - [`components`]: views; the islands among them are the only code that runs in the browser;
//! - [`live`]: the browser side of the event stream, one `EventSource` per tab shared by every
//!   island;
//! - [`api`]: server functions, thin: who is calling, then the engine;
//! - [`engine`] (server only): store, writer, bus, runner and job kinds.

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod format;
pub mod live;
pub mod model;
pub mod pace;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod engine;

pub use app::{shell, App};
