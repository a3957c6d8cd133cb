//! What a feed's caller rests on when it can be taken away (a signed-in session, a personal
//! API token): checked again at every keep-alive and whenever an account or token changes in
//! this process, so that the feed of a caller who was signed out, disabled, given another role
//! or whose token was revoked ends. How it is checked is the server's business (sessions live
//! there); the feed only asks.

use futures::future::BoxFuture;
use tokio::sync::watch;

/// The check a feed makes of its caller: whether they still hold what it was opened with.
type Holds = Box<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// What a feed's caller rests on: how to check it, and when to check it again.
pub struct Standing {
    holds: Holds,
    /// Moves when an account or token changes in this process.
    changes: watch::Receiver<u64>,
}

impl Standing {
    /// `holds` checks the caller; `changes` moves whenever an account or token changes (see
    /// [`crate::accounts::Accounts::changes`]).
    pub fn new(
        changes: watch::Receiver<u64>,
        holds: impl Fn() -> BoxFuture<'static, bool> + Send + Sync + 'static,
    ) -> Standing {
        Standing {
            holds: Box::new(holds),
            changes,
        }
    }

    /// Whether the caller still holds what the feed was opened with.
    pub(super) async fn holds(&self) -> bool {
        (self.holds)().await
    }
}

/// Whether the caller still holds `standing` (always, without one).
pub(super) async fn holds(standing: &Option<Standing>) -> bool {
    match standing {
        Some(s) => s.holds().await,
        None => true,
    }
}

/// Completes when an account or token changes in this process; never without a standing.
pub(super) async fn changed(standing: &mut Option<Standing>) {
    match standing {
        Some(s) => {
            if s.changes.changed().await.is_err() {
                // The accounts are gone (the server is stopping): nothing more will change.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}
