//! The one error type that crosses the wire: server functions return it to islands, and the JSON
//! API and the stream render it as `{code, message}` (plus `fields` for validation errors).
//!
//! Internal failures are logged on the server with their context and reach users only as
//! [`ErrorCode::Internal`] with a generic message.

use serde::{Deserialize, Serialize};
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Stable machine-readable error codes. The HTTP status follows from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum ErrorCode {
    /// The request could not be read at all (not JSON, wrong shape, bad header).
    BadRequest,
    /// The request was read, but a value is not acceptable; see `fields`.
    InvalidParams,
    UnknownKind,
    NotFound,
    /// The path takes other methods (`Allow` lists them).
    MethodNotAllowed,
    /// An operator request without the right token.
    Unauthorized,
    /// The caller is known but may not do or see this.
    Forbidden,
    /// The job is in a state that does not allow this (e.g. cancelling a finished job).
    Conflict,
    PayloadTooLarge,
    /// The request body did not arrive in time.
    RequestTimeout,
    /// The request named a host this server does not answer for (`Host`).
    MisdirectedRequest,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::InvalidParams | ErrorCode::UnknownKind => 422,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::MisdirectedRequest => 421,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// A problem with one named input, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct FieldError {
    pub field: String,
    /// In English.
    pub message: String,
    /// The same words as Headway's catalogs have them, for a reader of another language. (A
    /// page's errors come already in its reader's language: the browser's bundle has no need of
    /// them.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub said: Option<Said>,
}

impl FieldError {
    /// A problem with `field`, in English only.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            said: None,
        }
    }

    /// A problem with `field`, in the words of Headway's catalogs.
    pub fn words(field: impl Into<String>, words: Words) -> Self {
        FieldError {
            field: field.into(),
            message: words.english,
            said: Some(words.said),
        }
    }
}

/// Words Headway writes for a person, as its catalogs (`app/locales/*.ftl`) have them: a
/// message's id and the values of its variables, which a page puts into its reader's language.
/// Sent beside the same words in English (`message`), so that a program may word them too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Said {
    /// The message's id in the catalogs (`engine-from-to`).
    pub id: String,
    /// Its variables' values, by name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub values: std::collections::BTreeMap<String, String>,
}

/// Words of Headway's catalogs ([`Said`]) and the same words in English, as the engine makes
/// them: one function per message says both (the catalogs' test keeps them alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub english: String,
    pub said: Said,
}

impl Words {
    /// The message `id` (no values yet), `english` in English.
    pub fn new(id: &str, english: impl Into<String>) -> Self {
        Words {
            english: english.into(),
            said: Said {
                id: id.to_string(),
                values: Default::default(),
            },
        }
    }

    /// With the value of its variable `name`.
    pub fn with(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.said.values.insert(name.to_string(), value.to_string());
        self
    }
}

/// Where only text is kept (a job's error, a log line): the English.
impl From<Words> for String {
    fn from(words: Words) -> String {
        words.english
    }
}

/// Words are an error of their own too, to travel inside an `std::io::Error`.
impl std::error::Error for Words {}

impl fmt::Display for Words {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds after which trying again may succeed (a limit that frees up): sent as
    /// `Retry-After` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The message's words as Headway's catalogs have them, for a reader of another language
    /// (the `message` is in English). Not in the browser's bundle, as [`FieldError::said`].
    /// Boxed: an error is returned by most calls, and kept small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub said: Option<Box<Said>>,
    /// Why the server failed, for its log: never sent. Logged once, where the error becomes a
    /// response ([`AppError::log_line`]).
    #[serde(skip)]
    pub cause: Option<Cause>,
}

/// Two errors are the same when they say the same: a cause is the log's, not part of it.
impl PartialEq for AppError {
    fn eq(&self, other: &AppError) -> bool {
        (self.code, &self.message, &self.fields, self.retry_after)
            == (other.code, &other.message, &other.fields, other.retry_after)
    }
}

impl Eq for AppError {}

/// What the server was doing when it failed, and the error that stopped it (with its own
/// sources).
#[derive(Clone)]
pub struct Cause {
    pub doing: String,
    pub error: Arc<dyn Error + Send + Sync>,
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.doing, Chain(&*self.error))
    }
}

/// An error and its sources, one after the other: `writing a batch: database is locked`.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
            said: None,
            cause: None,
        }
    }

    /// An internal failure while `doing` something, caused by `error`: the caller reads a
    /// generic message, the log reads both.
    pub fn internal_because(
        doing: impl Into<String>,
        error: impl Error + Send + Sync + 'static,
    ) -> Self {
        AppError::internal().because(doing, error)
    }

    /// Keeps why this error happened, for the log.
    pub fn because(
        mut self,
        doing: impl Into<String>,
        error: impl Error + Send + Sync + 'static,
    ) -> Self {
        self.cause = Some(Cause {
            doing: doing.into(),
            error: Arc::new(error),
        });
        self
    }

    /// What to log when this error becomes a response: for an internal error, what the server
    /// was doing and the whole chain of causes; nothing for any other (it is the caller's).
    pub fn log_line(&self) -> Option<String> {
        if self.code != ErrorCode::Internal {
            return None;
        }
        Some(match &self.cause {
            Some(cause) => format!("{}: {}", cause.doing, Chain(&*cause.error)),
            None => self.message.clone(),
        })
    }

    /// A refusal that lifts with time: `429 Too Many Requests` with `Retry-After`.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        AppError::new(ErrorCode::TooManyRequests, message).retry_after(retry_after_secs)
    }

    /// Says when trying again may succeed (at least a second from now).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found() -> Self {
        AppError::words(ErrorCode::NotFound, crate::words::no_such_job())
    }

    pub fn internal() -> Self {
        AppError::words(ErrorCode::Internal, crate::words::internal())
    }

    /// What the browser reports when a request to the server did not get an answer.
    pub fn unreachable() -> Self {
        AppError::words(ErrorCode::Unavailable, crate::words::unreachable())
    }

    /// A validation failure listing every bad field at once.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError {
            code: ErrorCode::InvalidParams,
            message,
            fields,
            retry_after: None,
            said: None,
            cause: None,
        }
    }

    /// A validation failure of one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        AppError::invalid(vec![FieldError::new(field, message)])
    }

    /// An error whose message is in the words of Headway's catalogs.
    pub fn words(code: ErrorCode, words: Words) -> Self {
        AppError {
            said: Some(Box::new(words.said)),
            ..AppError::new(code, words.english)
        }
    }

    /// A validation failure of one field, in the words of Headway's catalogs.
    pub fn invalid_words(field: &str, words: Words) -> Self {
        AppError::invalid(vec![FieldError::words(field, words)])
    }

    /// The message for one field, if validation flagged it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.as_str())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for AppError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause
            .as_ref()
            .map(|c| &*c.error as &(dyn Error + 'static))
    }
}

/// Where, on the server, the errors a server function makes before its body runs (arguments
/// that do not decode) are told as they are made, so that one rule gives every server
/// function's error its HTTP status (the app's). Set once, at start-up.
#[cfg(feature = "server-fn")]
static REFUSED: std::sync::OnceLock<fn(&AppError)> = std::sync::OnceLock::new();

/// Calls `refused` with every error a server function makes before its body runs. Set once:
/// later calls change nothing.
#[cfg(feature = "server-fn")]
pub fn on_server_fn_error(refused: fn(&AppError)) {
    let _ = REFUSED.set(refused);
}

/// How the page says, in its reader's language, that the server could not be reached: a
/// server function's request that got no answer is made into an error here, where no catalog
/// is. Set once, by the browser's start; else the English.
#[cfg(feature = "server-fn")]
static UNREACHABLE: std::sync::OnceLock<fn() -> String> = std::sync::OnceLock::new();

/// Says that the server could not be reached with `words`. Set once: later calls change
/// nothing.
#[cfg(feature = "server-fn")]
pub fn on_unreachable(words: fn() -> String) {
    let _ = UNREACHABLE.set(words);
}

/// Server functions return `AppError` itself, encoded as JSON, so islands read the same `code`
/// and `fields` as scripts do.
#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        let error = match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => AppError::bad_request(m),
            E::Request(_) => match UNREACHABLE.get() {
                Some(words) => AppError::new(ErrorCode::Unavailable, words()),
                None => AppError::unreachable(),
            },
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        };
        if let Some(refused) = REFUSED.get() {
            refused(&error);
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Driver;

    impl fmt::Display for Driver {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("database is locked")
        }
    }

    impl Error for Driver {}

    #[derive(Debug)]
    struct Store(Driver);

    impl fmt::Display for Store {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("writing a batch")
        }
    }

    impl Error for Store {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_chain_names_every_cause_in_order() {
        assert_eq!(
            Chain(&Store(Driver)).to_string(),
            "writing a batch: database is locked"
        );
    }

    #[test]
    fn an_internal_error_keeps_its_causes_for_the_log_and_never_sends_them() {
        let e = AppError::internal_because("could not start a job", Store(Driver));
        assert_eq!(
            e.log_line().as_deref(),
            Some("could not start a job: writing a batch: database is locked")
        );
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("writing a batch")
        );
        let sent = serde_json::to_string(&e).unwrap();
        assert!(
            !sent.contains("locked") && !sent.contains("batch"),
            "{sent}"
        );
        let back: AppError = serde_json::from_str(&sent).unwrap();
        assert_eq!(back, e, "a cause is not part of what the error says");
    }

    #[test]
    fn only_internal_errors_are_logged() {
        assert_eq!(AppError::not_found().log_line(), None);
        assert_eq!(
            AppError::internal().log_line().as_deref(),
            Some("something went wrong on the server; it has been logged")
        );
    }
}
