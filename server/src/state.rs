//! What every handler can reach ([`AppState`]), built once at start-up.

use crate::identity::Identities;
use crate::limits::BodyLimits;
use crate::shares::Shares;
use crate::telemetry::Telemetry;
use axum::extract::FromRef;
use engine::Engine;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach. Cloned by every extractor of every request: each field is a
/// pointer or a few words.
#[derive(Clone, FromRef)]
pub struct AppState {
    #[from_ref(skip)]
    pub leptos_options: Arc<LeptosOptions>,
    pub engine: Engine,
    pub streams: StreamConfig,
    pub identities: Identities,
    pub telemetry: Arc<Telemetry>,
    /// Proxies whose forwarded client address is believed (`--trusted-proxy`).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// How request bodies are read.
    pub body_limits: BodyLimits,
}

/// The pages' renderer asks for the options by value; only page routes do.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        LeptosOptions::clone(&state.leptos_options)
    }
}

/// How event streams are kept.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub keep_alive: Duration,
    /// Each user's share of this process's streams.
    pub shares: Arc<Shares>,
}
