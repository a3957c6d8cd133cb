//! The routes: what each path is served by, and the layers each part of the site goes through.
//!
//! - `/pkg/…`, `/healthz`, `/readyz`, `/metrics`: no caller is decided, no session touched;
//! - `/api/v1/…` (REST, [`crate::rest`], and the event streams, [`crate::sse`]), the pages and
//!   the server functions, `/signin`, `/signout`: the body is read within its limits, cross-site
//!   changes are refused, the caller is decided ([`crate::identity`]), then the handler runs;
//! - a worker (`--role worker`) serves only `/healthz`, `/readyz` and `/metrics`.

use crate::rest::{accounts, external, files, health, jobs, kinds, notices, schedules, webhooks};
use crate::state::AppState;
use crate::{assets, compression, identity, refusals, rest, sse};
use app::{shell, App};
use axum::routing::{any, delete, get, patch, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// What a worker serves: whether it is up and ready, and its metrics; nothing else.
pub fn health_only(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(rest::metrics::metrics))
        .fallback(health::no_such_endpoint)
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let pkg = std::path::Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir);
    let engine = state.engine.clone();
    let accounts = state.identities.accounts().clone();
    let rest = Router::new()
        .route("/events", get(sse::all_events))
        .route("/kinds", get(kinds::kinds))
        .route("/kinds/{kind}/pause", post(kinds::pause))
        .route("/kinds/{kind}/resume", post(kinds::resume))
        .route("/schedules", get(schedules::list).post(schedules::create))
        .route("/schedules/preview", get(schedules::preview))
        .route(
            "/schedules/{id}",
            get(schedules::get)
                .patch(schedules::change)
                .delete(schedules::delete),
        )
        .route("/schedules/{id}/run", post(schedules::run))
        .route("/jobs", post(jobs::create_job).get(jobs::list_jobs))
        .route("/jobs/cancel", post(jobs::bulk_cancel))
        .route("/jobs/rerun", post(jobs::bulk_rerun))
        .route("/jobs/{id}", get(jobs::get_job))
        .route("/jobs/{id}/cancel", post(jobs::cancel_job))
        .route("/jobs/{id}/rerun", post(jobs::rerun_job))
        .route("/jobs/{id}/report", post(external::report))
        .route("/events/poll", get(sse::poll))
        .route("/jobs/{id}/log", get(jobs::job_log))
        .route("/jobs/{id}/log.txt", get(jobs::job_log_text))
        .route("/jobs/{id}/events", get(sse::job_events))
        .route("/jobs/{id}/outputs", get(files::outputs))
        .route("/jobs/{id}/outputs/{name}", get(files::download))
        .route("/uploads", get(files::list).post(files::upload))
        .route("/uploads/{id}", get(files::get).delete(files::delete))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::change)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route(
            "/webhooks/{id}/deliveries/{delivery}/resend",
            post(webhooks::resend),
        )
        .route("/me", get(accounts::me))
        .route(
            "/session",
            post(accounts::sign_in).delete(accounts::sign_out),
        )
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route("/tokens/{id}", delete(accounts::revoke_token))
        .route("/users", get(accounts::list_users).post(accounts::add_user))
        .route("/users/{name}", patch(accounts::change_user))
        .route(
            "/admin/notices",
            post(notices::post_notice).delete(notices::withdraw_notices),
        )
        .route("/{*rest}", any(health::no_such_endpoint));
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
            },
            move || shell(leptos_options.clone()),
        )
        .layer(axum::middleware::from_fn(refusals::server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            state.identities.clone(),
            identity::identify,
        ))
        .layer(axum::middleware::from_fn(
            identity::cross_site::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.body_limits,
            refusals::limit_body,
        ));
    // Everything else is a static asset (or the 404 page): no session is made or written.
    Router::new()
        .nest_service("/pkg", assets::service(&pkg))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(rest::metrics::metrics))
        .merge(identified)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::map_response(
            refusals::close_after_refused_body,
        ))
        .layer(axum::middleware::from_fn(compression::vary_on_encoding))
        .layer(compression::layer())
        .with_state(state)
}
