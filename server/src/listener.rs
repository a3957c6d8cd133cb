//! Accepting connections. Every accepted socket gets `TCP_NODELAY` (small SSE frames and JSON
//! answers go out at once) and a look at its first request: a connection that opens with
//! `GET /api/v1/events` is an event stream for its whole life, and [`sse::direct`] serves it with
//! a few hundred bytes of state instead of hyper's buffers and the router. Every other
//! connection, and any stream request `direct` declines, goes to axum with the bytes already
//! read put back in front ([`Conn`]).

use crate::sse;
use crate::startup::AppState;
use bytes::{Buf, Bytes};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The request line that marks an event-stream connection.
const STREAM_REQUEST: &[u8] = b"GET /api/v1/events";
/// Largest request head read here; a longer one is left to hyper.
const MAX_HEAD: usize = 8 * 1024;
/// How long a connection may take to send its request head before hyper takes it as it is.
const HEAD_WAIT: Duration = Duration::from_secs(10);

/// The listener axum serves: the connections that [`sse::direct`] did not take.
pub struct Dispatcher {
    rx: mpsc::Receiver<(Conn, SocketAddr)>,
    addr: SocketAddr,
}

impl Dispatcher {
    /// Starts accepting on `listener` until the engine stops.
    pub fn start(listener: TcpListener, state: AppState) -> Dispatcher {
        let addr = listener.local_addr().expect("a bound listener has an address");
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(accept_loop(listener, tx, state));
        Dispatcher { rx, addr }
    }
}

impl axum::serve::Listener for Dispatcher {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        match self.rx.recv().await {
            Some(accepted) => accepted,
            // The accept loop has stopped with the server: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

async fn accept_loop(listener: TcpListener, tx: mpsc::Sender<(Conn, SocketAddr)>, state: AppState) {
    let state = Arc::new(state);
    let stopping = state.engine.stopping();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stopping.cancelled() => return,
        };
        let (tcp, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, or the peer gave up during the handshake: wait a
                // little rather than spin, as axum does.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (tx, state) = (tx.clone(), Arc::clone(&state));
        tokio::spawn(async move {
            if let Some(conn) = Box::pin(dispatch(tcp, &state)).await {
                let _ = tx.send((conn, addr)).await;
            }
        });
    }
}

/// Serves the connection here if it is an event stream `direct` takes; otherwise returns it
/// for axum, with what was read of it.
async fn dispatch(mut tcp: TcpStream, state: &AppState) -> Option<Conn> {
    let mut head = Vec::new();
    let verdict = tokio::time::timeout(HEAD_WAIT, read_stream_head(&mut tcp, &mut head)).await;
    match verdict {
        // A stream request and nothing after it (a client that pipelines more is hyper's).
        Ok(Ok(Some(len))) if len == head.len() => match sse::direct::serve(tcp, head, state).await {
            Ok(()) => None,
            Err((tcp, head)) => Some(Conn::new(Bytes::from(head), tcp)),
        },
        Ok(Ok(_)) | Err(_) => Some(Conn::new(Bytes::from(head), tcp)),
        // The peer reset the connection before its request: nothing to serve.
        Ok(Err(_)) => None,
    }
}

/// Reads until the connection is known not to open with an event-stream request (`None`) or
/// until that request's head is complete (`Some(length of the head)`).
async fn read_stream_head(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
    loop {
        buf.reserve(1024);
        if tcp.read_buf(buf).await? == 0 {
            return Ok(None);
        }
        if !could_be_stream_request(buf) {
            return Ok(None);
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(end + 4));
        }
        if buf.len() >= MAX_HEAD {
            return Ok(None);
        }
    }
}

/// Whether the bytes so far can still be the start of `GET /api/v1/events` followed by a
/// space or a query (not `/api/v1/events/poll`).
fn could_be_stream_request(buf: &[u8]) -> bool {
    let n = buf.len().min(STREAM_REQUEST.len());
    if buf[..n] != STREAM_REQUEST[..n] {
        return false;
    }
    match buf.get(STREAM_REQUEST.len()) {
        None => true,
        Some(b) => *b == b' ' || *b == b'?',
    }
}

/// An accepted connection for hyper: the bytes already read from it, then the socket.
pub struct Conn {
    read: Bytes,
    tcp: TcpStream,
}

impl Conn {
    fn new(read: Bytes, tcp: TcpStream) -> Conn {
        Conn { read, tcp }
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.read.has_remaining() {
            let n = self.read.len().min(buf.remaining());
            buf.put_slice(&self.read[..n]);
            self.read.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_stream_is_recognised() {
        for yes in [&b"G"[..], b"GET /api/v1/ev", b"GET /api/v1/events", b"GET /api/v1/events ", b"GET /api/v1/events?last_event_id=3"] {
            assert!(could_be_stream_request(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [&b"POST"[..], b"GET / HTTP/1.1", b"GET /api/v1/events/poll", b"GET /api/v1/eventsx", b"get /api/v1/events "] {
            assert!(!could_be_stream_request(no), "{}", String::from_utf8_lossy(no));
        }
    }

    #[tokio::test]
    async fn bytes_read_ahead_come_first_then_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b" world").await.unwrap();
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let mut conn = Conn::new(Bytes::from_static(b"hello"), tcp);
        let mut got = String::new();
        conn.read_to_string(&mut got).await.unwrap();
        client.await.unwrap();
        assert_eq!(got, "hello world");
    }
}
