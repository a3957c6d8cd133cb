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

/// What every handler can reach. Cloned for every request, by the router and by every
/// extractor that takes it whole: one pointer to what all the clones share.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What every clone of [`AppState`] shares.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
    pub streams: StreamConfig,
    pub identities: Identities,
    pub telemetry: Arc<Telemetry>,
    /// Proxies whose forwarded client address is believed (`--trusted-proxy`).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// How request bodies are read.
    pub body_limits: BodyLimits,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts an extractor may take alone (`State<Engine>`, …), each cloned from the shared one.
macro_rules! parts {
    ($($field:ident: $type:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> $type {
                state.$field.clone()
            }
        }
    )*};
}

parts!(
    leptos_options: LeptosOptions,
    engine: Engine,
    streams: StreamConfig,
    identities: Identities,
    telemetry: Arc<Telemetry>,
    trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    body_limits: BodyLimits,
);

/// How event streams are kept.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub keep_alive: Duration,
    /// Each user's share of this process's streams.
    pub shares: Arc<Shares>,
}
