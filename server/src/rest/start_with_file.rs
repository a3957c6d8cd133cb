//! `POST /start`: the start form of a kind that takes a file, as a page without JavaScript posts
//! it: one `multipart/form-data` post whose files become the caller's uploads (streamed, with
//! the limits of `POST /api/v1/uploads`) and whose other fields are the start form's. The
//! browser goes back to the page it posted from, as after any form of the site: with the job
//! started, or with the refusal in the address, where the page shows it next to its field (as
//! for server functions). A refused start keeps none of the files it brought.

use super::files::{drain, paced, Paced};
use crate::serve::phases::ConnHandle;
use crate::state::AppState;
use app::server_fns::{StartFields, StartJob};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use engine::uploads::Incoming;
use engine::Caller;
use leptos::server_fn::error::ServerFnUrlError;
use leptos::server_fn::ServerFn;
use model::{AppError, ErrorCode, FieldError, UploadId};

/// The most bytes a field of the form other than a file may hold.
const FIELD_BYTES: usize = 64 * 1024;

/// The most fields the form may have.
const MAX_FIELDS: usize = 256;

pub async fn start(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let conn = parts.extensions.get::<ConnHandle>().cloned();
    let mut body = paced(body, conn.clone(), state.body_limits.timeout);
    let back = referer(&parts.headers);
    let mut uploads = Vec::new();
    let read = read_form(&state, &caller, &parts.headers, &mut body, &mut uploads).await;
    let started = match read {
        Ok(form) => app::server_fns::start(&state.engine, &caller, form).await,
        Err(e) => Err(e),
    };
    let answer = match started {
        // On to the new job's page, where its bar is.
        Ok(job) => see_other(&format!("/jobs/{}", job.id)),
        Err(error) => {
            for id in &uploads {
                if let Err(e) = state.engine.uploads().delete(&caller, id).await {
                    tracing::warn!(upload = %id, error = %e.message, "an upload of a refused start was not deleted");
                }
            }
            // What a refusal left unread is read and discarded, so that the browser, which
            // sends its whole form before reading, sees the answer.
            drain(&mut body).await;
            let mut response = see_other(&back.refused(error));
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    };
    if let Some(ConnHandle(c)) = &conn {
        c.answered();
    }
    answer
}

/// Reads the form, storing each file it holds as an upload (listed in `uploads` as it is made).
async fn read_form(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &mut Paced,
    uploads: &mut Vec<UploadId>,
) -> Result<StartFields, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        AppError::bad_request("the start form must be posted as multipart/form-data")
    })?;
    let unreadable =
        |e: multer::Error| AppError::bad_request(format!("the form could not be read: {e}"));
    let mut parts = multer::Multipart::new(&mut *body, boundary);
    let mut form = StartFields::default();
    let mut fields = 0;
    while let Some(mut field) = parts.next_field().await.map_err(unreadable)? {
        fields += 1;
        if fields > MAX_FIELDS {
            return Err(AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("the form has more than {MAX_FIELDS} fields"),
            ));
        }
        let name = field.name().unwrap_or_default().to_string();
        let param = param_name(&name).map(str::to_string);
        if let Some(file_name) = field.file_name().map(str::to_string) {
            // A file input left empty sends a part with no name and no bytes.
            let Some(param) = param.filter(|_| !file_name.is_empty()) else {
                continue;
            };
            let incoming = Incoming {
                name: file_name,
                content_type: field.content_type().map(|m| m.to_string()),
                declared: None,
            };
            let upload = state
                .engine
                .uploads()
                .receive(caller, incoming, &mut field)
                .await
                .map_err(|e| about(e, &param))?;
            uploads.push(upload.id.clone());
            form.params.insert(param, upload.id.to_string());
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            if value.len() + chunk.len() > FIELD_BYTES {
                return Err(AppError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the field {name} is over {} KiB", FIELD_BYTES / 1024),
                ));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| AppError::bad_request(format!("the field {name} is not UTF-8 text")))?;
        match (name.as_str(), param) {
            // The (empty) id field of a file parameter does not replace its file.
            (_, Some(param)) if value.is_empty() && form.params.contains_key(&param) => {}
            (_, Some(param)) => {
                form.params.insert(param, value);
            }
            ("kind", _) => form.kind = value,
            ("start_at", _) => form.start_at = value,
            ("tz", _) => form.tz = value,
            ("idempotency_key", _) => form.idempotency_key = value,
            ("max_attempts", _) => form.max_attempts = value,
            ("priority", _) => form.priority = value,
            ("after", _) => form.after = value,
            ("when", _) => form.when = value,
            _ => {}
        }
    }
    Ok(form)
}

/// `x` for a field named `params[x]`.
fn param_name(field: &str) -> Option<&str> {
    field
        .strip_prefix("params[")
        .and_then(|rest| rest.strip_suffix(']'))
        .filter(|name| !name.is_empty())
}

/// A refusal of the file for the parameter `param`, shown next to that parameter's field.
fn about(mut error: AppError, param: &str) -> AppError {
    let message = match error.fields.first() {
        Some(field) => field.message.clone(),
        None => error.message.clone(),
    };
    error.fields = vec![FieldError::new(param.to_string(), message)];
    error
}

/// The page the form was posted from, as an absolute URL of this site's origin (only its
/// path and query are ever sent back).
struct Back(url::Url);

fn referer(headers: &HeaderMap) -> Back {
    let base = url::Url::parse("http://headway.invalid/").expect("a valid URL");
    let url = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|r| {
            let mut local = base.clone();
            local.set_path(r.path());
            local.set_query(r.query());
            local
        })
        .unwrap_or(base);
    Back(url)
}

impl Back {
    /// The page without a refusal it showed before.
    fn strip(&self) -> String {
        let mut url = self.0.to_string();
        ServerFnUrlError::<AppError>::strip_error_info(&mut url);
        local(&url)
    }

    /// The page with `error` for the start form to show, as a refused server function's.
    fn refused(&self, error: AppError) -> String {
        let stripped = self.strip();
        let base = format!("http://headway.invalid{stripped}");
        match ServerFnUrlError::new(<StartJob as ServerFn>::PATH, error).to_url(&base) {
            Ok(url) => local(url.as_str()),
            Err(_) => stripped,
        }
    }
}

/// The path and query of an absolute URL.
fn local(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query().filter(|q| !q.is_empty()) {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => "/".into(),
    }
}

/// A redirection to `to`, a path of this site; anything else (`//evil.example/x`, `/\evil`,
/// a scheme) goes to `/` instead.
fn see_other(to: &str) -> Response {
    let to = super::safe_next(to);
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_field_is_named_params_of_its_name() {
        assert_eq!(param_name("params[upload]"), Some("upload"));
        assert_eq!(param_name("params[]"), None);
        assert_eq!(param_name("kind"), None);
        assert_eq!(param_name("params[upload"), None);
    }

    #[test]
    fn the_browser_goes_back_to_the_page_it_posted_from_on_this_site_only() {
        let mut h = HeaderMap::new();
        h.insert(
            header::REFERER,
            "https://elsewhere.example/kinds?x=1&__path=%2Fapi%2Fstart_job&__err=e30"
                .parse()
                .unwrap(),
        );
        let back = referer(&h);
        assert_eq!(back.strip(), "/kinds?x=1");
        let refused = back.refused(AppError::bad_request("no"));
        assert!(refused.starts_with("/kinds?x=1&__path="), "{refused}");
        assert!(refused.contains("&__err="), "{refused}");
        assert_eq!(referer(&HeaderMap::new()).strip(), "/");
    }

    #[test]
    fn a_referer_whose_path_leads_to_another_site_goes_back_home() {
        for sneaky in [
            "http://127.0.0.1:3000//evil.example/x",
            "http://127.0.0.1:3000/\\evil.example/x",
            "http://127.0.0.1:3000/%5C/evil.example",
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::REFERER, sneaky.parse().unwrap());
            let to = see_other(&referer(&h).strip());
            let location = to.headers()[header::LOCATION].to_str().unwrap();
            assert!(
                location == "/" || (location.starts_with('/') && !location.starts_with("//")),
                "{sneaky} -> {location}"
            );
            assert!(!location.contains("\\"), "{sneaky} -> {location}");
        }
    }

    #[test]
    fn a_refused_file_is_shown_at_its_parameter() {
        let e = about(AppError::bad_request("the file is empty"), "upload");
        assert_eq!(e.field("upload"), Some("the file is empty"));
        let e = about(
            AppError::invalid(vec![FieldError::new("file", "not a CSV")]),
            "upload",
        );
        assert_eq!(e.field("upload"), Some("not a CSV"));
        assert_eq!(e.fields.len(), 1);
    }
}
