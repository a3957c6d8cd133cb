//! Failed sign-ins, counted per account name and per client address over a sliding window:
//! past the limit, sign-in is refused (429 with `Retry-After`) until the oldest failure in the
//! window is old enough, whatever the password. A successful sign-in clears its name's count.
//!
//! The counts live in this process's memory: with several processes behind a load balancer,
//! each one counts the attempts it sees.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account name within [`WINDOW`].
pub const PER_ACCOUNT: usize = 5;
/// Failed attempts allowed per client address within [`WINDOW`] (a shared office address tries
/// several names).
pub const PER_ADDRESS: usize = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most; past that, the stalest are forgotten.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

impl Limiter {
    /// `Err(wait)` if `name` or `client` has failed too often lately.
    pub fn check(&self, name: &str, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut failures = self.failures.lock().unwrap();
        let wait = [
            (Key::Account(name.to_string()), PER_ACCOUNT),
            (Key::Address(client), PER_ADDRESS),
        ]
        .into_iter()
        .filter_map(|(key, limit)| {
            let times = failures.get_mut(&key)?;
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= WINDOW)
            {
                times.pop_front();
            }
            (times.len() >= limit).then(|| WINDOW - now.duration_since(times[times.len() - limit]))
        })
        .max();
        match wait {
            Some(wait) => Err(wait.max(Duration::from_secs(1))),
            None => Ok(()),
        }
    }

    pub fn failed(&self, name: &str, client: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap();
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        for key in [Key::Account(name.to_string()), Key::Address(client)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    pub fn succeeded(&self, name: &str) {
        self.failures
            .lock()
            .unwrap()
            .remove(&Key::Account(name.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_held_off_after_its_limit_until_the_window_moves() {
        let limiter = Limiter::default();
        let (ip, t0) = ("127.0.0.1".parse().unwrap(), Instant::now());
        for i in 0..PER_ACCOUNT {
            assert!(limiter.check("ada", ip, t0).is_ok(), "attempt {i}");
            limiter.failed("ada", ip, t0 + Duration::from_secs(i as u64));
        }
        let wait = limiter
            .check("ada", ip, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, WINDOW - Duration::from_secs(10));
        // Another name from the same address is still allowed; the first, once the window moves.
        assert!(limiter
            .check("bob", ip, t0 + Duration::from_secs(10))
            .is_ok());
        assert!(limiter.check("ada", ip, t0 + WINDOW).is_ok());
        limiter.succeeded("ada");
        assert!(limiter
            .check("ada", ip, t0 + Duration::from_secs(10))
            .is_ok());
    }

    #[test]
    fn an_address_is_held_off_after_its_limit_whatever_the_name() {
        let limiter = Limiter::default();
        let (ip, t0) = ("10.0.0.9".parse().unwrap(), Instant::now());
        for i in 0..PER_ADDRESS {
            limiter.failed(&format!("user{i}"), ip, t0);
        }
        assert!(limiter.check("someone", ip, t0).is_err());
        assert!(limiter
            .check("someone", "10.0.0.10".parse().unwrap(), t0)
            .is_ok());
    }
}
