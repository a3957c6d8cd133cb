//! Each user's share of this process's streams: at most `--max-streams-per-user` event streams
//! and long polls open at once per user, so that one client cannot hold every connection the
//! server has. The tabs of one browser share one stream, so a person never comes near it; past
//! it, a stream is refused with 429 and `Retry-After`.

use model::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Open streams per user.
#[derive(Debug)]
pub struct Shares {
    max: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// One open stream of a user, counted until dropped.
#[derive(Debug)]
pub struct Share {
    shares: Arc<Shares>,
    user: String,
}

impl Shares {
    pub fn new(max: usize) -> Arc<Shares> {
        Arc::new(Shares {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a stream of `user`, or refuses it if they hold their share already.
    pub fn take(self: &Arc<Self>, user: &str) -> Result<Share, AppError> {
        let mut open = self.open.lock().unwrap();
        let n = open.entry(user.to_string()).or_default();
        if *n >= self.max {
            return Err(AppError::too_many(
                format!(
                    "you have {} event streams open (at most {} at once); close some tabs or \
                     scripts, or wait for them to end",
                    *n, self.max
                ),
                5,
            ));
        }
        *n += 1;
        Ok(Share {
            shares: Arc::clone(self),
            user: user.to_string(),
        })
    }

    /// Streams `user` holds now.
    pub fn open(&self, user: &str) -> usize {
        self.open.lock().unwrap().get(user).copied().unwrap_or(0)
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut open = self.shares.open.lock().unwrap();
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_their_share_and_gets_it_back_as_streams_end() {
        let shares = Shares::new(2);
        let a1 = shares.take("a").unwrap();
        let _a2 = shares.take("a").unwrap();
        let refused = shares.take("a").unwrap_err();
        assert_eq!(refused.code, model::ErrorCode::TooManyRequests);
        assert!(refused.retry_after.is_some());
        // Another user is not held back.
        let _b = shares.take("b").unwrap();
        drop(a1);
        assert_eq!(shares.open("a"), 1);
        assert!(shares.take("a").is_ok());
        assert_eq!(shares.open("nobody"), 0);
    }
}
