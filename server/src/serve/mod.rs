//! Accepting connections and serving them with hyper.
//!
//! Every connection is a task in one [`TaskTracker`], and holds one permit of a semaphore sized
//! by `--max-connections`, so the process never runs out of file descriptors (by default the
//! bound sits just under the process's open-files limit). When every permit is taken, the
//! connection furthest behind ([`phases`]: idle, or dawdling over its request) is closed to
//! make room for the newcomer; only when none is, the newcomer is answered `503` with
//! `Retry-After` and closed. So clients that trickle their requests in cannot keep others out.
//! Accepted sockets get `TCP_NODELAY` (small SSE frames and JSON answers go out at once) and a
//! deadline for their request head.
//!
//! At shutdown, [`Connections::close`] stops accepting, asks every connection to finish the
//! request it is serving and close, and waits for them within a bound.

pub mod phases;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use phases::{Conn, ConnHandle, Phases};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long a client may take to send a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection asked to close may take to finish its current response.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long a refused connection is given to send its request and read the answer.
const REFUSE_WAIT: Duration = Duration::from_secs(2);
/// How long a newcomer waits for the slot of a connection closed to make room for it.
const ROOM_WAIT: Duration = Duration::from_secs(2);

/// The connections being served.
#[derive(Clone)]
pub struct Connections {
    permits: Arc<Semaphore>,
    max: usize,
    tracker: TaskTracker,
    /// Cancelled to stop accepting new connections.
    accepting: CancellationToken,
    /// Cancelled to ask open connections to close.
    closing: CancellationToken,
    /// What each open connection is doing.
    phases: Arc<Phases>,
}

impl Connections {
    pub fn new(max: usize) -> Connections {
        let max = max.max(1);
        Connections {
            permits: Arc::new(Semaphore::new(max)),
            max,
            tracker: TaskTracker::new(),
            accepting: CancellationToken::new(),
            closing: CancellationToken::new(),
            phases: Phases::new(),
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// Accepts connections on `listener` and serves `router` on them until [`Connections::close`].
    pub fn spawn_accept_loop(&self, listener: TcpListener, router: Router) {
        let conns = self.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    r = listener.accept() => r,
                    _ = conns.accepting.cancelled() => return,
                };
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // The peer gave up during the handshake, or no descriptor is left: wait
                        // a little rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (router, closing) = (router.clone(), conns.closing.clone());
                let registered = conns.phases.register();
                match Arc::clone(&conns.permits).try_acquire_owned() {
                    Ok(permit) => {
                        conns.tracker.spawn(async move {
                            serve_connection(tcp, peer, router, closing, &registered.conn).await;
                            drop(permit);
                        });
                    }
                    Err(_) if conns.phases.evict_one() => {
                        // A connection that was only holding its slot closes; this one takes it.
                        let permits = Arc::clone(&conns.permits);
                        conns.tracker.spawn(async move {
                            match tokio::time::timeout(ROOM_WAIT, permits.acquire_owned()).await {
                                Ok(Ok(permit)) => {
                                    serve_connection(tcp, peer, router, closing, &registered.conn)
                                        .await;
                                    drop(permit);
                                }
                                _ => refuse(tcp).await,
                            }
                        });
                    }
                    Err(_) => {
                        drop(registered);
                        tracing::warn!(%peer, max = conns.max, "connection refused: too many open connections");
                        conns.tracker.spawn(refuse(tcp));
                    }
                }
            }
        });
    }

    /// Stops accepting new connections; those open are served on.
    pub fn stop_accepting(&self) {
        self.accepting.cancel();
    }

    /// Stops accepting, asks every connection to close once its current request is answered
    /// (closing it regardless after a moment, if a client does not read its answer), and waits
    /// for them for at most `within`. Returns how many were still open then.
    pub async fn close(&self, within: Duration) -> usize {
        self.accepting.cancel();
        self.closing.cancel();
        self.tracker.close();
        if tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_err()
        {
            return self.tracker.len();
        }
        0
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    closing: CancellationToken,
    phase: &Arc<Conn>,
) {
    let handle = ConnHandle(Arc::clone(phase));
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            handle.0.answered();
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(handle.clone());
            let answered = router.clone().oneshot(req.map(axum::body::Body::new));
            let conn = Arc::clone(&handle.0);
            async move {
                let response = answered.await?;
                // Once the answer is sent (its body dropped), the connection waits again.
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| axum::body::Body::new(Sent { body, conn })),
                )
            }
        });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(tcp), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = phase.evicted() => {
            // Closed to make room: a request being read is answered 408 by the body reader.
            conn.as_mut().graceful_shutdown();
            match tokio::time::timeout(CLOSE_GRACE, conn.as_mut()).await {
                Ok(r) => r,
                Err(_) => return,
            }
        }
        _ = closing.cancelled() => {
            conn.as_mut().graceful_shutdown();
            match tokio::time::timeout(CLOSE_GRACE, conn.as_mut()).await {
                Ok(r) => r,
                // A response its client does not read: the connection is dropped, not waited on.
                Err(_) => return,
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// A response body, and the connection that waits again once it has been sent.
struct Sent {
    body: axum::body::Body,
    conn: Arc<Conn>,
}

impl http_body::Body for Sent {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        self.conn.waiting();
    }
}

/// Answers a connection over the limit with `503` and closes it. The request is read first (up
/// to a bound), so that the client reads the answer instead of a reset.
async fn refuse(mut tcp: TcpStream) {
    let body = serde_json::to_string(&model::AppError::new(
        model::ErrorCode::Unavailable,
        "the server has too many open connections; try again shortly",
    ))
    .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSE_WAIT, async {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tcp.write_all(response.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}

/// The default bound on open connections: what the process's open-files limit leaves once the
/// database, logs and a margin have theirs. The soft limit is raised to the hard one first.
pub fn default_max_connections() -> usize {
    const RESERVED: u64 = 256;
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    limit.saturating_sub(RESERVED).max(16) as usize
}
