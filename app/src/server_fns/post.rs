//! The page's side of a form whose server function answers in JSON: the form is sent as the
//! browser itself posts it without JavaScript (its fields, URL-encoded, to its `action`), and the
//! answer is read as the server function's value or its [`AppError`].
//!
//! Islands send their forms through this rather than `ActionForm` and `ServerAction`. Those
//! decode the form into the server function's arguments in the browser and carry refusals
//! through the page's address, code that the page downloads and never needs: the server
//! decodes the same fields either way.

use crate::error::{AppError, ErrorCode};
use crate::i18n::t;
use serde::de::DeserializeOwned;

/// The form a submit event is for.
#[cfg(feature = "hydrate")]
pub fn submitted(ev: &leptos::ev::SubmitEvent) -> Option<web_sys::HtmlFormElement> {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
}

/// Posts `form` to its `action` and returns the server function's answer.
#[cfg(feature = "hydrate")]
pub async fn form<T: DeserializeOwned>(form: &web_sys::HtmlFormElement) -> Result<T, AppError> {
    form_to(form, &form.action()).await
}

/// Posts `form`'s fields to `url` (another server function than its `action`) and returns that
/// function's answer.
#[cfg(feature = "hydrate")]
pub async fn form_to<T: DeserializeOwned>(
    form: &web_sys::HtmlFormElement,
    url: &str,
) -> Result<T, AppError> {
    let body = web_sys::FormData::new_with_form(form)
        .and_then(|fields| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&fields))
        .map_err(|_| unreachable())?;
    let (ok, status, text) = send(url, &body).await?;
    answer(ok, status, &text)
}

/// Posts `fields` to the server function at `url` (its `url()`), as a form with those fields
/// would, and returns its answer.
#[cfg(feature = "hydrate")]
pub async fn fields<T: DeserializeOwned>(
    url: &str,
    fields: &[(&str, &str)],
) -> Result<T, AppError> {
    let body = web_sys::UrlSearchParams::new().map_err(|_| unreachable())?;
    for (name, value) in fields {
        body.append(name, value);
    }
    let (ok, status, text) = send(url, &body).await?;
    answer(ok, status, &text)
}

/// Sends `body` as the browser sends a form, asking for JSON rather than a redirect, and
/// returns whether the answer is a success, its status and its text. The same code for every
/// answer's type: only [`answer`] depends on it.
#[cfg(feature = "hydrate")]
async fn send(url: &str, body: &web_sys::UrlSearchParams) -> Result<(bool, u16, String), AppError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let response: Option<web_sys::Response> = async {
        let headers = web_sys::Headers::new().ok()?;
        headers.set("Accept", "application/json").ok()?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(body);
        let pending = web_sys::window()?.fetch_with_str_and_init(url, &init);
        JsFuture::from(pending).await.ok()?.dyn_into().ok()
    }
    .await;
    let response = response.ok_or_else(unreachable)?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string()),
        Err(_) => None,
    }
    .ok_or_else(unreachable)?;
    Ok((response.ok(), response.status(), text))
}

/// A request that got no answer, in the page's language.
#[cfg(feature = "hydrate")]
fn unreachable() -> AppError {
    AppError::new(ErrorCode::Unavailable, t().answer_unreachable())
}

/// The server function's value from a successful answer, its error from any other.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn answer<T: DeserializeOwned>(ok: bool, status: u16, text: &str) -> Result<T, AppError> {
    if ok {
        return serde_json::from_str(text)
            .map_err(|e| AppError::new(ErrorCode::Internal, t().answer_unreadable(e.to_string())));
    }
    Err(serde_json::from_str(text)
        .unwrap_or_else(|_| AppError::new(ErrorCode::Internal, t().answer_status(status))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Job;

    #[test]
    fn a_successful_answer_is_the_value_and_any_other_the_servers_error() {
        let n: i64 = answer(true, 200, "42").unwrap();
        assert_eq!(n, 42);
        let refused = r#"{"code":"invalid_params","message":"steps: too big","fields":[{"field":"steps","message":"too big"}]}"#;
        let e = answer::<Job>(false, 422, refused).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParams);
        assert_eq!(e.field("steps"), Some("too big"));
    }

    #[test]
    fn an_answer_that_cannot_be_read_is_an_error_that_says_so() {
        let e = answer::<Job>(true, 200, "{\"id\":").unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(e.message.contains("could not be read"), "{}", e.message);
        let e = answer::<Job>(false, 502, "<html>Bad Gateway</html>").unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert_eq!(e.message, "the server answered 502");
    }
}
