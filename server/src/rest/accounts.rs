//! Signing in and out, who is calling, API tokens and accounts:
//!
//! - `POST /api/v1/session` `{"username","password"}` signs in (sets the cookie), `DELETE`
//!   signs out; `GET /api/v1/me` says who is calling;
//! - `POST /signin` and `POST /signout`: the same for the sign-in page's and the header's plain
//!   HTML forms (they work without JavaScript);
//! - `GET|POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`: the caller's personal tokens,
//!   listed a page at a time (an admin lists with `?all=true` and revokes anyone's);
//! - `GET|POST /api/v1/users`, `PATCH /api/v1/users/{name}`: accounts, for admins.
//!
//! A failed sign-in says only that the name or the password is wrong, and past a few failures
//! (per name and per client address) sign-in answers 429 with `Retry-After`.

use super::safe_next;
use crate::client::Client;
use crate::config::AuthMode;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::identity::{Identity, SignInError};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use engine::Caller;
use model::accounts::{NewToken, TokenInfo, UserInfo};
use model::{AppError, ErrorCode, Me, Role, TokenScope};
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Deserialize, schemars::JsonSchema)]
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
    Extension(client): Extension<Client>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<Credentials>,
) -> Response {
    match attempt(
        &state,
        &identity,
        &body.username,
        &body.password,
        client.addr,
    )
    .await
    {
        Ok(me) => Json(me).into_response(),
        Err(SignInError::Refused) => ApiError(refused()).into_response(),
        Err(SignInError::TooMany(wait)) => ApiError(too_many_error(wait)).into_response(),
        Err(SignInError::Failed(e)) => ApiError(e).into_response(),
    }
}

/// `DELETE /api/v1/session`: signs out, or on an open server, forgets the browser's anonymous
/// user (its cookie goes).
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
) -> ApiResult<Response> {
    Ok(signed_out(&state, &identity)
        .await?
        .into_response_with(StatusCode::NO_CONTENT))
}

/// What signing out did: the cookie goes with the answer when an anonymous user was forgotten.
struct SignedOut {
    forgotten: bool,
}

impl SignedOut {
    fn into_response_with(self, answer: impl IntoResponse) -> Response {
        let mut response = answer.into_response();
        if self.forgotten {
            response.extensions_mut().insert(crate::identity::Forgotten);
        }
        response
    }
}

async fn signed_out(state: &AppState, identity: &Identity) -> Result<SignedOut, AppError> {
    if let Some(session) = &identity.session {
        state.identities.sign_out(session).await?;
    }
    if let Some(anonymous) = &identity.anonymous {
        state.identities.forget(anonymous).await?;
    }
    Ok(SignedOut {
        forgotten: identity.anonymous.is_some(),
    })
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
    Extension(client): Extension<Client>,
    Extension(identity): Extension<Identity>,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next);
    match attempt(
        &state,
        &identity,
        &form.username,
        &form.password,
        client.addr,
    )
    .await
    {
        Ok(_) => Redirect::to(next).into_response(),
        Err(SignInError::Refused) => Redirect::to(&format!(
            "/signin?failed=1&next={}",
            model::url_encode(next)
        ))
        .into_response(),
        Err(SignInError::TooMany(wait)) => try_later(
            too_many_error(wait),
            "Too many failed sign-ins",
            &format!("Try again in {} seconds.", wait.as_secs().max(1)),
        ),
        Err(SignInError::Failed(e)) if e.code == ErrorCode::Unavailable => try_later(
            e,
            "The server is busy",
            "Too many people are signing in at this moment. Try again in a few seconds.",
        ),
        Err(SignInError::Failed(e)) => ApiError(e).into_response(),
    }
}

/// A page for the sign-in form saying to come back later, with `error`'s status and
/// `Retry-After`.
fn try_later(error: AppError, title: &str, text: &str) -> Response {
    let mut response = Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Headway</title></head>\
         <body><main><h1>{title}</h1><p>{text}</p>\
         <p><a href=\"/signin\">Back to sign-in</a></p></main></body></html>"
    ))
    .into_response();
    let api = ApiError(error).into_response();
    *response.status_mut() = api.status();
    if let Some(retry) = api.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    response
}

/// `POST /signout`: the header's form.
pub async fn sign_out_form(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
) -> Response {
    match signed_out(&state, &identity).await {
        Ok(done) => done.into_response_with(Redirect::to(match state.identities.mode() {
            AuthMode::Accounts => "/signin",
            AuthMode::Open => "/",
        })),
        Err(e) => ApiError(e).into_response(),
    }
}

async fn attempt(
    state: &AppState,
    identity: &Identity,
    name: &str,
    password: &str,
    client: IpAddr,
) -> Result<Me, SignInError> {
    if state.identities.mode() == AuthMode::Open {
        return Err(SignInError::Failed(AppError::new(
            ErrorCode::Conflict,
            "this server runs with --auth open: there is nothing to sign in to",
        )));
    }
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

fn refused() -> AppError {
    AppError::unauthorized("wrong user name or password")
}

fn too_many_error(wait: Duration) -> AppError {
    let secs = wait.as_secs().max(1);
    AppError::too_many(
        format!("too many failed sign-ins; try again in {secs} seconds"),
        secs,
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for: something besides spaces (what is around it is trimmed).
    #[schemars(length(max = engine::accounts::MAX_TOKEN_NAME), regex(pattern = r"\S"))]
    name: String,
    scope: TokenScope,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct TokenList {
    /// Everyone's tokens (admins only).
    #[serde(default)]
    all: bool,
    /// The id of the last token of the previous page.
    before: Option<String>,
    /// Tokens in the page (default 100, at most 1,000).
    limit: Option<u32>,
}

/// `GET /api/v1/tokens?before=&limit=`: a page of the caller's tokens, newest first (an
/// admin's `?all=true`: everyone's); the next page is the one `before` this page's last, and
/// an empty page is the end.
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<TokenList>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    let Query(list) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let limit = list.limit.unwrap_or(engine::accounts::TOKENS_PAGE);
    let accounts = state.identities.accounts();
    Ok(Json(
        accounts
            .tokens(&caller, list.all, list.before.as_deref(), limit)
            .await?,
    ))
}

/// `POST /api/v1/tokens`: 201 with the token, shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let accounts = state.identities.accounts();
    let token = accounts
        .create_token(&caller, &body.name, body.scope)
        .await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// `DELETE /api/v1/tokens/{id}`: the caller's token, or anyone's for an admin.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .identities
        .accounts()
        .revoke_token(&caller, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users` (admins).
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<UserInfo>>> {
    Ok(Json(state.identities.accounts().list(&caller).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schemars(regex(pattern = model::accounts::USERNAME_PATTERN))]
    username: String,
    #[schemars(length(min = model::accounts::MIN_PASSWORD))]
    password: String,
    role: Role,
}

/// `POST /api/v1/users` (admins): 201 with the account.
pub async fn add_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    let user = state
        .identities
        .accounts()
        .add(&caller, &body.username, body.role, &body.password)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = something_to_change)]
pub struct UserChange {
    role: Option<Role>,
    #[schemars(length(min = model::accounts::MIN_PASSWORD))]
    password: Option<String>,
    disabled: Option<bool>,
}

/// The document says what the server takes: at least one of the fields, not `null` (which
/// the server reads as absent).
fn something_to_change(schema: &mut schemars::Schema) {
    let one_of = |field: &str, kind: &str| serde_json::json!({ "required": [field], "properties": { field: { "type": kind } } });
    schema.insert(
        "anyOf".into(),
        serde_json::json!([
            one_of("role", "string"),
            one_of("password", "string"),
            one_of("disabled", "boolean"),
        ]),
    );
}

/// `PATCH /api/v1/users/{name}` (admins): a new role, password, or disabled state, all or
/// none (see `engine::accounts::Accounts::change`).
pub async fn change_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<StatusCode> {
    let change = engine::accounts::AccountChange {
        role: change.role,
        password: change.password,
        disabled: change.disabled,
    };
    state
        .identities
        .accounts()
        .change(&caller, &name, change)
        .await?;
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
        for sneaky in [
            "/\t/evil.example",
            "/\n/x",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/a\\b",
            "/\u{7f}/x",
            "/\u{2028}/x",
        ] {
            assert_eq!(safe_next(sneaky), "/", "{sneaky:?}");
        }
        assert_eq!(safe_next("/jobs?q=a%20b"), "/jobs?q=a%20b");
    }
}
