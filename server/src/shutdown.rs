//! Signals: SIGTERM or Ctrl-C shuts down (every open stream ends, running jobs stop and become
//! `interrupted`, what is pending is written, and the process exits); SIGHUP reads the
//! commands file again.

/// Completes on SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Reads the commands file, then the workflows file, again on every SIGHUP; a file with a
/// mistake is logged and what was read before from it stays.
pub fn reload_commands_on_hangup(commands: crate::startup::Commands) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hangups.recv().await.is_some() {
            match commands.reload() {
                Ok(Some(n)) => tracing::info!(commands = n, "read the commands file again"),
                Ok(None) => tracing::info!("SIGHUP: no commands file to read (--commands)"),
                Err(e) => tracing::error!(
                    "the commands file was not read again; the commands read before stay: {e}"
                ),
            }
            match commands.reload_workflows() {
                Ok(Some(n)) => tracing::info!(workflows = n, "read the workflows file again"),
                Ok(None) => {}
                Err(e) => tracing::error!(
                    "the workflows file was not read again; the workflows read before stay: {e}"
                ),
            }
        }
    });
}
