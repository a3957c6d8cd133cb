//! Each user's share of the queue: at most `max_queued_per_user` of their jobs wait at once.
//! A user past it is refused with 429 and `Retry-After`, whatever they start it with (the
//! form, the API, a re-run, a bulk re-run, which must fit whole), and what others queue is not
//! held back. Starting jobs faster than they run is how one user would otherwise fill the
//! database and the queue for everyone.
//!
//! Each start is checked where it is written, inside the writer's batch
//! (`store_core::Change::Create`'s `max_queued`): starts sent at once, to any number of processes,
//! cannot pass the share together. A bulk re-run is first checked whole against the queue as
//! it is; each of its jobs is then checked as any start is.

use crate::failures::read_failed;
use crate::store::Store;
use model::AppError;

/// The queue's share per user.
pub(crate) struct QueueShares {
    max: u64,
}

impl QueueShares {
    pub(crate) fn new(max: u64) -> QueueShares {
        QueueShares { max: max.max(1) }
    }

    /// The most jobs one user may have waiting.
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// Refuses `n` new jobs of `user` that would not fit their share as the queue is now.
    pub(crate) async fn check_room(
        &self,
        store: &Store,
        user: &model::UserId,
        n: u64,
    ) -> Result<(), AppError> {
        let waiting = store.queued_count(user).await.map_err(read_failed)?;
        match waiting + n > self.max {
            true => Err(self.refusal(waiting, n)),
            false => Ok(()),
        }
    }

    /// What a user over their share is told.
    pub(crate) fn refusal(&self, waiting: u64, n: u64) -> AppError {
        let asked = match n {
            1 => "another job".to_string(),
            n => format!("{n} more jobs"),
        };
        AppError::too_many(
            format!(
                "you have {waiting} jobs waiting to start, and at most {} may wait at once: \
                 {asked} would pass that; wait for some to start, or cancel some",
                self.max
            ),
            10,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_how_many_wait_and_when_to_try_again() {
        let shares = QueueShares::new(1000);
        let e = shares.refusal(1000, 1);
        assert_eq!(e.code, model::ErrorCode::TooManyRequests);
        assert_eq!(e.retry_after, Some(10));
        assert!(e.message.contains("1000 jobs waiting"), "{}", e.message);
        assert!(shares.refusal(12, 3000).message.contains("3000 more jobs"));
    }
}
