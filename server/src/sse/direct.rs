//! `GET /api/v1/events` on a connection of its own, served without hyper and the router.
//!
//! An idle stream is most of what a busy Headway holds, so its cost per connection is what
//! decides how many one process can keep open. Through hyper a stream keeps a 16 KiB read buffer
//! and an 8 KiB write buffer for its whole life; here it keeps the [`EventStream`], the socket
//! and its task. The request head has already been read ([`crate::listener`]); it is parsed,
//! the session resolved exactly as the router's layer does, and the stream written as an HTTP/1.1
//! chunked body. Anything unusual (another method or version, a body, a malformed cursor or
//! query) is handed back to the router, which answers it as for any other request.

use super::{open_stream, requested_cursor, Opened, StreamQuery, EventStream, STREAM_HEADERS};
use crate::startup::AppState;
use app::error::AppError;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use bytes::Buf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Headers looked at; a request with more is left to hyper.
const MAX_HEADERS: usize = 64;
/// How long the last chunk may take to leave when the stream ends.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// What a stream request asks for.
#[derive(Debug, PartialEq)]
pub(crate) struct StreamRequest {
    cursor: Option<i64>,
    cookie: Option<String>,
}

/// Serves the stream whose request head is `head`, until either side ends it. Gives the
/// connection and its head back when the router should answer the request instead.
pub async fn serve(mut tcp: TcpStream, head: Vec<u8>, state: &AppState) -> Result<(), (TcpStream, Vec<u8>)> {
    let Some(request) = parse(&head) else { return Err((tcp, head)) };
    // Boxed: the session and snapshot queries are large futures, and this one lives as long as
    // the stream.
    let (owner, set_cookie) = match Box::pin(state.sessions.user_for(request.cookie.as_deref())).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "cannot load or create the session of an event stream");
            return Err((tcp, head));
        }
    };
    drop(head);
    let opened = Box::pin(open_stream(state, owner, None, request.cursor)).await;
    let stream = match opened {
        Ok(Opened::Stream(stream)) => stream,
        Ok(Opened::Ended) => {
            let _ = tcp.write_all(&response_head(StatusCode::NO_CONTENT, set_cookie.as_deref(), &[])).await;
            return Ok(());
        }
        Err(e) => {
            let _ = write_error(&mut tcp, e, set_cookie.as_deref()).await;
            return Ok(());
        }
    };
    let mut headers: Vec<(&str, &str)> = STREAM_HEADERS.to_vec();
    headers.push(("transfer-encoding", "chunked"));
    if tcp.write_all(&response_head(StatusCode::OK, set_cookie.as_deref(), &headers)).await.is_err() {
        return Ok(());
    }
    drop(set_cookie);
    run(tcp, stream).await;
    Ok(())
}

/// Writes the stream's chunks until it ends, the client goes away, or the server stops.
async fn run(mut tcp: TcpStream, mut stream: EventStream) {
    let stopping = stream.stopping();
    let (mut rd, mut wr) = tcp.split();
    let mut probe = [0u8; 1];
    loop {
        let chunk = tokio::select! {
            chunk = stream.next_chunk() => chunk,
            // The client closed the connection, or sent something an event stream never gets.
            _ = rd.read(&mut probe) => return,
        };
        let Some(chunk) = chunk else {
            let _ = tokio::time::timeout(CLOSE_WAIT, wr.write_all(b"0\r\n\r\n")).await;
            return;
        };
        let size = format!("{:x}\r\n", chunk.len());
        let mut frame = Buf::chain(Buf::chain(size.as_bytes(), &chunk[..]), &b"\r\n"[..]);
        // A client that stops reading blocks the write, never the server's shutdown.
        tokio::select! {
            biased;
            r = wr.write_all_buf(&mut frame) => if r.is_err() { return },
            _ = stopping.cancelled() => return,
        }
    }
}

/// The stream request in `head`, if it is one this module serves.
pub(crate) fn parse(head: &[u8]) -> Option<StreamRequest> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(req.parse(head), Ok(httparse::Status::Complete(n)) if n == head.len()) {
        return None;
    }
    if req.method != Some("GET") || req.version != Some(1) {
        return None;
    }
    let (path, query) = req.path?.split_once('?').unwrap_or((req.path?, ""));
    if path != "/api/v1/events" {
        return None;
    }
    let mut map = HeaderMap::new();
    let mut cookies: Vec<&str> = Vec::new();
    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "cookie" => cookies.push(std::str::from_utf8(h.value).ok()?),
            "last-event-id" => {
                map.insert("last-event-id", HeaderValue::from_bytes(h.value).ok()?);
            }
            // A body, or a protocol switch: not a plain stream request.
            "content-length" if h.value != b"0" => return None,
            "transfer-encoding" | "upgrade" | "expect" => return None,
            _ => {}
        }
    }
    let query: StreamQuery = serde_urlencoded::from_str(query).ok()?;
    let cursor = requested_cursor(&map, query.last_event_id.as_deref()).ok()?;
    let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
    Some(StreamRequest { cursor, cookie })
}

fn response_head(status: StatusCode, set_cookie: Option<&str>, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(cookie) = set_cookie {
        out.push_str(&format!("set-cookie: {cookie}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The same JSON error the router's handlers answer with.
async fn write_error(tcp: &mut TcpStream, e: AppError, set_cookie: Option<&str>) -> std::io::Result<()> {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&e).unwrap_or_default();
    let length = body.len().to_string();
    let headers = [("content-type", "application/json"), ("content-length", &length), ("connection", "close")];
    let mut out = response_head(status, set_cookie, &headers);
    out.extend_from_slice(&body);
    tcp.write_all(&out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Option<StreamRequest> {
        parse(s.as_bytes())
    }

    #[test]
    fn a_plain_stream_request_is_taken_with_its_cookie_and_cursor() {
        let got = req("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\ncookie: headway_session=abc\r\nLast-Event-ID: 42\r\n\r\n");
        assert_eq!(got, Some(StreamRequest { cursor: Some(42), cookie: Some("a=1; headway_session=abc".into()) }));
        let got = req("GET /api/v1/events?last_event_id=7 HTTP/1.1\r\n\r\n");
        assert_eq!(got, Some(StreamRequest { cursor: Some(7), cookie: None }));
    }

    #[test]
    fn anything_else_is_left_to_the_router() {
        for head in [
            "GET /api/v1/events HTTP/1.0\r\n\r\n",
            "POST /api/v1/events HTTP/1.1\r\n\r\n",
            "GET /api/v1/events/poll HTTP/1.1\r\n\r\n",
            "GET /api/v1/events HTTP/1.1\r\nLast-Event-ID: nope\r\n\r\n",
            "GET /api/v1/events?last_event_id=-3 HTTP/1.1\r\n\r\n",
            "GET /api/v1/events HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            "GET /api/v1/events HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n",
        ] {
            assert_eq!(req(head), None, "{head:?}");
        }
    }
}
