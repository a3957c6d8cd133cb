//! Headway's application crate: everything Leptos renders or calls, for both the server (`ssr`)
//! and the browser (`hydrate`).
//!
//! - [`app`]: the HTML shell, `<App/>` and its routes;
//! - [`ansi`]: the escape sequences of log lines: colours kept, the rest dropped;
//! - [`model`] (the `model` crate): the job model, stream events and the error type, shared by
//!   the engine, the server and the browser;
//! - [`theme`]: the colour theme a person chose;
//! - [`i18n`]: the person's language: the message catalogs, compiled, and which one a page gets;
//! - [`format`](mod@format): how numbers, times and durations are written for people;
//! - [`names`]: what a person reads for a kind or a job (its title, not its machine name);
//! - [`zone`]: the time zone a page shows times in, the reader's;
//! - [`pace`]: elapsed time, smoothed rate, ETA and stalls of running jobs;
//! - [`pages`]: one module per route;
//! - [`components`]: views; the islands among them are the only code that runs in the browser;
//! - [`live`]: the browser side of the event stream, one `EventSource` per tab shared by every
//!   island;
//! - `security` (server only): each page's Content-Security-Policy;
//! - [`server_fns`]: server functions, thin: who is calling, then the engine (the `engine` crate,
//!   linked only into the server).

// The dashboard's view is one deep type (rows, counts, chart, forms), deeper than the compiler's
// default limit lets it compute the layout of.
#![recursion_limit = "256"]

pub mod ansi;
pub mod app;
pub mod components;
pub mod format;
pub mod i18n;
pub mod live;
pub mod names;
pub mod pace;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod security;
pub mod server_fns;
pub mod theme;
pub mod zone;

pub use model;
pub use model::error;

pub use app::{shell, App};
