//! The routes: what each path is served by, and the layers each part of the site goes through.
//!
//! - `/pkg/…`, `/healthz`, `/readyz`, `/metrics`: no caller is decided, no session touched;
//! - `/api/v1/…` (REST, [`crate::rest`], and the event streams, [`crate::sse`]: every endpoint
//!   an entry of [`crate::rest::api::ENDPOINTS`], which its OpenAPI document describes), the pages and
//!   the server functions, `/signin`, `/signout`: the body is read within its limits, cross-site
//!   changes are refused, the caller is decided ([`crate::identity`]), then the handler runs;
//! - a worker (`--role worker`) serves only `/healthz`, `/readyz` and `/metrics`.
//!
//! Around everything, a handler's panic is answered 500 and logged ([`crate::panics`]).

use crate::rest::{accounts, health};
use crate::state::AppState;
use crate::{assets, compression, identity, panics, refusals, rest};
use app::{shell, App};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower::ServiceBuilder;

/// What a worker serves: whether it is up and ready, and its metrics; nothing else.
pub fn health_only(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(rest::metrics::metrics))
        .fallback(health::no_such_endpoint)
        .layer(panics::layer())
        .with_state(state)
}

/// The app's page routes, generated once per process. Generating them runs the whole app with
/// every resource's loading held back, and that hold is the process's, not the generation's
/// (`leptos_server`'s `SuppressResourceLoad`): a page rendered meanwhile would wait for its
/// data forever. Generated once, before any router exists, no page can be rendering then.
pub fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let leptos_options = state.leptos_options.clone();
    let pkg = std::path::Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir);
    let engine = state.engine.clone();
    let accounts = state.identities.accounts().clone();
    // A server function's errors answer with their status, those it makes before its body runs
    // (arguments that do not decode) too.
    model::error::on_server_fn_error(app::server_fns::status::refused);
    // The JSON API: every endpoint of its one list ([`rest::api::ENDPOINTS`]), which its
    // OpenAPI document describes. Its refusals are all JSON.
    let rest = rest::api::router().layer(axum::middleware::from_fn(refusals::json_refusals));
    // Pages, server functions and the API: each request's caller is decided first.
    let identified = Router::new()
        .nest("/api/v1", rest)
        .route("/signin", post(accounts::sign_in_form))
        .route("/signout", post(accounts::sign_out_form))
        .route(
            app::components::START_WITH_FILE,
            post(rest::start_with_file::start),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(engine.clone());
                provide_context(accounts.clone());
                provide_context(app::pages::ApiDocument(rest::api::document()));
            },
            move || shell(LeptosOptions::clone(&leptos_options)),
        )
        // Outermost first, one stack around each route (see `startup`).
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(
                    state.body_limits,
                    refusals::limit_body,
                ))
                .layer(axum::middleware::from_fn(
                    identity::cross_site::refuse_cross_site,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.identities.clone(),
                    identity::identify,
                )),
        );
    // Everything else is a static asset (or the 404 page): no session is made or written.
    Router::new()
        .nest_service("/pkg", assets::service(&pkg))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(rest::metrics::metrics))
        .merge(identified)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(
            ServiceBuilder::new()
                // Outermost: whatever panics below (a page, a server function, the API, a
                // stream's setup) is answered.
                .layer(panics::layer())
                .layer(compression::layer())
                .layer(axum::middleware::from_fn(compression::vary_on_encoding))
                .layer(axum::middleware::map_response(
                    refusals::close_after_refused_body,
                )),
        )
        .with_state(state)
}
