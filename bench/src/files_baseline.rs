//! `headway-bench files-baseline-server` (hidden): the bare axum server the file benchmark's
//! transfers are compared with. Same stack as Headway (axum 0.8 on hyper and tokio's
//! multi-threaded runtime), no store, no sessions, no hashing:
//!
//! - `POST /upload/{name}` streams the request body into `--dir`/name, one chunk at a time with
//!   `tokio::fs::File` (as Headway writes an upload), syncs it (`sync_data`, as Headway syncs an
//!   upload before it answers) and answers 201 with `{"size": bytes}`;
//! - `GET /files/…` is `tower_http::services::ServeDir` on `--serve` (Headway serves a job's
//!   output with `ServeFile`, which is `ServeDir` on one file).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone, clap::Args)]
pub struct FilesBaselineArgs {
    #[arg(long)]
    pub addr: SocketAddr,
    /// Where uploads are written.
    #[arg(long)]
    pub dir: PathBuf,
    /// The folder `GET /files/…` serves.
    #[arg(long)]
    pub serve: PathBuf,
}

pub fn main(args: FilesBaselineArgs) -> ! {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("files-baseline-server: cannot listen on {}: {e}", args.addr);
                std::process::exit(1);
            }
        };
        let app = Router::new()
            .route("/upload/{name}", post(upload))
            .nest_service("/files", tower_http::services::ServeDir::new(&args.serve))
            .route("/health", get(|| async { "ok" }))
            .with_state(Arc::new(args.dir));
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("signal handler");
            term.recv().await;
        };
        tokio::select! {
            r = axum::serve(listener, app) => if let Err(e) = r { eprintln!("files-baseline-server: {e}") },
            _ = shutdown => {}
        }
    });
    std::process::exit(0)
}

async fn upload(State(dir): State<Arc<PathBuf>>, Path(name): Path<String>, body: Body) -> Response {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return (StatusCode::BAD_REQUEST, "a plain file name").into_response();
    }
    let path = dir.join(&name);
    let written: std::io::Result<u64> = async {
        let mut file = tokio::fs::File::create(&path).await?;
        let mut chunks = body.into_data_stream();
        let mut size = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(std::io::Error::other)?;
            size += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_data().await?;
        Ok(size)
    }
    .await;
    match written {
        Ok(size) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "size": size })),
        )
            .into_response(),
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}
