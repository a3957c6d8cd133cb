//! Signing in and out, who is calling, API tokens and accounts:
//!
//! - `POST /api/v1/session` `{"username","password"}` signs in (sets the cookie), `DELETE`
//!   signs out; `GET /api/v1/me` says who is calling;
//! - `POST /signin` and `POST /signout`: the same for the sign-in page's and the header's plain
//!   HTML forms (they work without JavaScript);
//! - `GET|POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`: the caller's personal tokens (an
//!   admin lists with `?all=true` and revokes anyone's);
//! - `GET|POST /api/v1/users`, `PATCH /api/v1/users/{name}`: accounts, for admins.
//!
//! A failed sign-in says only that the name or the password is wrong, and past a few failures
//! (per name and per client address) sign-in answers 429 with `Retry-After`.

use crate::access_log::client_address;
use crate::api::{ApiError, ApiJson, ApiResult};
use crate::config::AuthMode;
use crate::identity::{Identity, SignInError};
use crate::startup::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use engine::Caller;
use model::accounts::{NewToken, TokenInfo, UserInfo};
use model::{AppError, ErrorCode, Me, Role, TokenScope};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Json<Me> {
    Json(Me {
        username: caller.name().map(str::to_string),
        role: caller.role(),
        accounts: state.identities.mode() == AuthMode::Accounts,
    })
}

/// `POST /api/v1/session`.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Response {
    let client = client_address(peer.ip(), &headers, &state.trusted_proxies);
    match attempt(&state, &identity, &body.username, &body.password, client).await {
        Ok(me) => Json(me).into_response(),
        Err(SignInError::Refused) => ApiError(refused()).into_response(),
        Err(SignInError::TooMany(wait)) => {
            too_many(wait, ApiError(too_many_error(wait)).into_response())
        }
        Err(SignInError::Failed(e)) => ApiError(e).into_response(),
    }
}

/// `DELETE /api/v1/session`.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
) -> ApiResult<StatusCode> {
    if let Some(session) = &identity.session {
        state.identities.sign_out(session).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin`: the sign-in page's form. Success and failure both answer with a redirect (to
/// the page asked for, or back to the form with a message).
pub async fn sign_in_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let client = client_address(peer.ip(), &headers, &state.trusted_proxies);
    let next = safe_next(&form.next);
    match attempt(&state, &identity, &form.username, &form.password, client).await {
        Ok(_) => Redirect::to(next).into_response(),
        Err(SignInError::Refused) => Redirect::to(&format!(
            "/signin?failed=1&next={}",
            model::url_encode(next)
        ))
        .into_response(),
        Err(SignInError::TooMany(wait)) => {
            let secs = wait.as_secs().max(1);
            too_many(wait, Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Headway</title></head>\
                 <body><main><h1>Too many failed sign-ins</h1><p>Try again in {secs} seconds.</p>\
                 <p><a href=\"/signin\">Back to sign-in</a></p></main></body></html>"
            )).into_response())
        }
        Err(SignInError::Failed(e)) => ApiError(e).into_response(),
    }
}

/// `POST /signout`: the header's form.
pub async fn sign_out_form(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
) -> Response {
    if let Some(session) = &identity.session {
        if let Err(e) = state.identities.sign_out(session).await {
            return ApiError(e).into_response();
        }
    }
    Redirect::to(match state.identities.mode() {
        AuthMode::Accounts => "/signin",
        AuthMode::Open => "/",
    })
    .into_response()
}

async fn attempt(
    state: &AppState,
    identity: &Identity,
    name: &str,
    password: &str,
    client: IpAddr,
) -> Result<Me, SignInError> {
    let session = identity.session.as_ref().ok_or_else(|| {
        SignInError::Failed(AppError::bad_request(
            "sign in with a browser session, not a bearer token",
        ))
    })?;
    let user = state
        .identities
        .sign_in(session, name, password, client)
        .await?;
    Ok(Me {
        username: Some(user.name),
        role: Role::parse(&user.role).unwrap_or(Role::Viewer),
        accounts: true,
    })
}

/// Where to go after signing in: a path on this site, never another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

fn refused() -> AppError {
    AppError::unauthorized("wrong user name or password")
}

fn too_many_error(wait: Duration) -> AppError {
    AppError::new(
        ErrorCode::TooManyRequests,
        format!(
            "too many failed sign-ins; try again in {} seconds",
            wait.as_secs().max(1)
        ),
    )
}

fn too_many(wait: Duration, response: Response) -> Response {
    let mut response = response;
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    name: String,
    scope: TokenScope,
}

#[derive(Deserialize)]
pub struct TokenList {
    #[serde(default)]
    all: bool,
}

/// `GET /api/v1/tokens`: the caller's tokens (an admin's `?all=true`: everyone's).
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(list): Query<TokenList>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    let accounts = state.identities.accounts();
    if list.all {
        caller.may_administer()?;
        return Ok(Json(accounts.tokens(None).await?));
    }
    let user = accounts.user(&caller).await?;
    Ok(Json(accounts.tokens(Some(&user.id)).await?))
}

/// `POST /api/v1/tokens`: 201 with the token, shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    caller.may_write()?;
    let accounts = state.identities.accounts();
    let user = accounts.user(&caller).await?;
    let token = accounts.create_token(&user, &body.name, body.scope).await?;
    tracing::info!(user = %user.name, token = %token.id, scope = %token.scope, "API token created");
    Ok((StatusCode::CREATED, Json(token)))
}

/// `DELETE /api/v1/tokens/{id}`: the caller's token, or anyone's for an admin.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.may_write()?;
    let accounts = state.identities.accounts();
    let owner = match caller.is_admin() {
        true => None,
        false => Some(accounts.user(&caller).await?.id),
    };
    accounts.revoke_token(&id, owner.as_deref()).await?;
    tracing::info!(token = %id, by = caller.name().unwrap_or_default(), "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users` (admins).
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<UserInfo>>> {
    caller.may_administer()?;
    Ok(Json(state.identities.accounts().list().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    role: Role,
}

/// `POST /api/v1/users` (admins): 201 with the account.
pub async fn add_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    caller.may_administer()?;
    let user = state
        .identities
        .accounts()
        .add(&body.username, body.role, &body.password)
        .await?;
    tracing::info!(user = %user.username, role = %user.role, by = caller.name().unwrap_or_default(), "account added");
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    role: Option<Role>,
    password: Option<String>,
    disabled: Option<bool>,
}

/// `PATCH /api/v1/users/{name}` (admins): a new role, password, or disabled state. A new
/// password or disabling ends the account's sessions, open streams included.
pub async fn change_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<StatusCode> {
    caller.may_administer()?;
    let accounts = state.identities.accounts();
    if change.role.is_none() && change.password.is_none() && change.disabled.is_none() {
        return Err(AppError::new(
            ErrorCode::InvalidParams,
            "nothing to change: send role, password or disabled",
        )
        .into());
    }
    if let Some(role) = change.role {
        accounts.set_role(&name, role).await?;
    }
    if let Some(password) = &change.password {
        accounts.set_password(&name, password).await?;
    }
    if let Some(disabled) = change.disabled {
        accounts.set_disabled(&name, disabled).await?;
    }
    tracing::info!(user = %name, by = caller.name().unwrap_or_default(), "account changed");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_only_sends_on_within_the_site() {
        assert_eq!(safe_next("/jobs/1?x=2"), "/jobs/1?x=2");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
