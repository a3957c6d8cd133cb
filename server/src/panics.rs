//! A handler's panic as an answer. Without this, a panic in a handler unwinds through hyper's
//! connection task: the reader gets an empty reply (the connection closes), and the log says
//! only what the default panic hook wrote to stderr.
//!
//! [`layer`] (tower-http's `CatchPanic`, given what it needs of the request) turns a panic while
//! a request is being answered (its handler, a server function, a page being rendered, a
//! stream being set up) into a 500: for the JSON API (`/api/…`) the JSON body of every other
//! error (`{"code": "internal", …}`), for anything else a page in the reader's language (the
//! language a page would speak: `app::i18n::negotiate`). The panic is logged with its message,
//! the method and the path; the client gets neither the message nor a backtrace. The
//! connection, and the server, go on serving.
//!
//! A panic while a body is already streaming (an event stream's events) cannot be answered:
//! the status is gone. The connection then ends, as before.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use futures::future::BoxFuture;
use std::any::Any;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use tower_http::catch_panic::{CatchPanic, ResponseForPanic};

/// Answers a panic under it with a 500 and logs it: see the module's documentation.
pub fn layer() -> AnswerPanicsLayer {
    AnswerPanicsLayer
}

/// The layer [`layer`] builds.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnswerPanicsLayer;

impl<S> Layer<S> for AnswerPanicsLayer {
    type Service = AnswerPanics<S>;

    fn layer(&self, inner: S) -> AnswerPanics<S> {
        AnswerPanics { inner }
    }
}

/// The service [`AnswerPanicsLayer`] puts around another.
#[derive(Clone, Debug)]
pub struct AnswerPanics<S> {
    inner: S,
}

impl<S, B> Service<Request> for AnswerPanics<S>
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // CatchPanic answers from the panic alone: what the answer needs of the request is
        // taken now. The service that was polled ready is the one that answers.
        let answer = Answer::to(&req);
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let answering = CatchPanic::custom(ready, answer).call(req);
        Box::pin(async move { Ok(answering.await?.map(Body::new)) })
    }
}

/// What the answer to a panic needs of its request.
#[derive(Clone)]
struct Answer {
    method: Method,
    uri: Uri,
    /// The request's `Cookie` and `Accept-Language`, for the page's language.
    language: HeaderMap,
}

impl Answer {
    fn to(req: &Request) -> Answer {
        let mut language = HeaderMap::new();
        for name in [header::COOKIE, header::ACCEPT_LANGUAGE] {
            for value in req.headers().get_all(&name) {
                language.append(name.clone(), value.clone());
            }
        }
        Answer {
            method: req.method().clone(),
            uri: req.uri().clone(),
            language,
        }
    }

    /// The page saying that the server failed, in the reader's language. It carries its own
    /// policy: its stylesheet and nothing else may load.
    fn page(&self) -> Response {
        let lang = app::i18n::negotiate::of_request(&self.language);
        let t = app::i18n::Text::of(lang);
        let title = t.server_failed_title();
        let mut page = Html(format!(
            "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · Headway</title><link rel=\"stylesheet\" href=\"/pkg/headway.css\">\
             </head><body><main><section class=\"not-found\"><h1>{title}</h1><p>{text} \
             <a href=\"/\">{back}</a></p></section></main></body></html>",
            lang = lang.tag(),
            text = t.server_failed_text(),
            back = t.not_found_back(),
        ))
        .into_response();
        page.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        page
    }
}

impl ResponseForPanic for Answer {
    type ResponseBody = Body;

    fn response_for_panic(&mut self, panic: Box<dyn Any + Send + 'static>) -> Response {
        let message = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        tracing::error!(
            method = %self.method,
            path = self.uri.path(),
            panic = message,
            "a handler panicked; answered 500"
        );
        let mut answer = match self.uri.path().starts_with("/api/") {
            true => Json(model::AppError::internal()).into_response(),
            false => self.page(),
        };
        *answer.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::sync::{Arc, Mutex};

    /// What the tracing subscriber writes, kept for the test to read.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Kept {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Kept {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    async fn boom() -> &'static str {
        panic!("the secret sauce is {}", 42)
    }

    /// A panic in a handler, in the API or in a page, is a 500 the client can read (JSON, or a
    /// page in its language) that tells nothing of the panic; the log tells all of it; and the
    /// same connection is served again.
    #[tokio::test]
    async fn a_panic_is_answered_500_in_the_readers_language_and_logged() {
        let kept = Kept::default();
        let writer = kept.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // The test's runtime runs the server on this thread: the subscriber sees its events.
        let _logging = tracing::subscriber::set_default(subscriber);
        let router = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/jobs/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(layer());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        // One connection for every request: a panic must not cost it.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap();
        let get = |path: &str, lang: &str| {
            client
                .get(format!("{base}{path}"))
                .header(header::ACCEPT_LANGUAGE, lang)
                .send()
        };

        let r = get("/api/v1/boom", "zh-CN,zh;q=0.9").await.unwrap();
        assert_eq!(r.status(), 500);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "code": "internal",
                "message": "something went wrong on the server; it has been logged",
                "said": {"id": "engine-internal"}
            })
        );

        let r = get("/jobs/boom", "zh-CN,zh;q=0.9").await.unwrap();
        assert_eq!(r.status(), 500);
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let page = r.text().await.unwrap();
        let zh = app::i18n::Text::of(app::i18n::Lang::ZhCn);
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
            "{page}"
        );
        assert!(page.contains(zh.server_failed_title()), "{page}");
        assert!(page.contains(zh.server_failed_text()), "{page}");
        assert!(page.ends_with("</html>"), "{page}");
        assert!(!page.contains("secret"), "{page}");

        let r = get("/jobs/boom", "en").await.unwrap();
        assert_eq!(r.status(), 500);
        let page = r.text().await.unwrap();
        assert!(page.contains("<h1>Something went wrong</h1>"), "{page}");

        let r = get("/fine", "en").await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "fine");

        let log = kept.text();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains("panicked")).collect();
        assert_eq!(lines.len(), 3, "{log}");
        assert!(lines[0].contains("ERROR"), "{log}");
        assert!(lines[0].contains("path=\"/api/v1/boom\""), "{log}");
        assert!(lines[1].contains("path=\"/jobs/boom\""), "{log}");
        assert!(
            lines[0].contains("panic=\"the secret sauce is 42\""),
            "{log}"
        );
    }
}
