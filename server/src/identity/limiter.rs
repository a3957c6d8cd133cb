//! Sign-in attempts, counted per account name and per client address over a sliding window.
//! An attempt is counted as failed *before* its password is checked ([`Limiter::begin`]) and
//! taken back only once it has succeeded, so that attempts sent at once cannot pass the limit
//! together: past it, sign-in is refused (429 with `Retry-After`) until the oldest failure in
//! the window is old enough, whatever the password, and no password is checked.
//!
//! A name's limit would let anyone lock its owner out for good, at the cost of five wrong
//! passwords every quarter of an hour. So an address that has signed in as a name lately
//! ([`KNOWN_FOR`]) is *known* for that name: its attempts are counted apart, against a limit
//! of their own, and neither the name's count nor the address's count (others failing from
//! elsewhere, or from a shared address) holds them back. Someone who tries passwords from
//! elsewhere locks out only attempts from elsewhere.
//!
//! The counts live in this process's memory: with several processes behind a load balancer,
//! each one counts the attempts it sees; a restart forgets them, and which addresses are known.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account name within [`WINDOW`] (from addresses not known for it).
pub const PER_ACCOUNT: usize = 5;
/// Failed attempts allowed per client address within [`WINDOW`] (a shared office address tries
/// several names).
pub const PER_ADDRESS: usize = 20;
/// Failed attempts allowed per name from an address known for it, within [`WINDOW`].
pub const PER_KNOWN: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long an address stays known for a name after it signed in as that name.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Keys remembered at most; past that, the stalest are forgotten.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Limiter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    failures: HashMap<Key, VecDeque<Instant>>,
    /// When each (name, address) last signed in.
    known: HashMap<(String, IpAddr), Instant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
    Known(String, IpAddr),
}

/// An attempt under way, counted as failed until [`Limiter::succeeded`] or [`Limiter::forget`].
#[must_use]
#[derive(Debug)]
pub struct Attempt {
    name: String,
    client: IpAddr,
    at: Instant,
    keys: Vec<Key>,
}

impl Limiter {
    /// Counts an attempt to sign in as `name` from `client`, or `Err(wait)` if too many have
    /// failed lately: then nothing is counted and no password may be checked.
    pub fn begin(&self, name: &str, client: IpAddr, now: Instant) -> Result<Attempt, Duration> {
        let mut state = self.state.lock().unwrap();
        let known = state
            .known
            .get(&(name.to_string(), client))
            .is_some_and(|t| now.duration_since(*t) < KNOWN_FOR);
        let limits = match known {
            true => vec![(Key::Known(name.to_string(), client), PER_KNOWN)],
            false => vec![
                (Key::Account(name.to_string()), PER_ACCOUNT),
                (Key::Address(client), PER_ADDRESS),
            ],
        };
        let wait = limits
            .iter()
            .filter_map(|(key, limit)| {
                let times = state.failures.get_mut(key)?;
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    times.pop_front();
                }
                (times.len() >= *limit)
                    .then(|| WINDOW - now.duration_since(times[times.len() - limit]))
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait.max(Duration::from_secs(1)));
        }
        state.forget_stale(now);
        let keys: Vec<Key> = limits.into_iter().map(|(k, _)| k).collect();
        for key in &keys {
            state
                .failures
                .entry(key.clone())
                .or_default()
                .push_back(now);
        }
        Ok(Attempt {
            name: name.to_string(),
            client,
            at: now,
            keys,
        })
    }

    /// The attempt signed in: it is not a failure, the name's failures are cleared, and its
    /// address becomes known for the name.
    pub fn succeeded(&self, attempt: Attempt, now: Instant) {
        let mut state = self.state.lock().unwrap();
        state.take_back(&attempt);
        state.failures.remove(&Key::Account(attempt.name.clone()));
        state
            .failures
            .remove(&Key::Known(attempt.name.clone(), attempt.client));
        state.known.insert((attempt.name, attempt.client), now);
    }

    /// The attempt came to nothing either way (the password was not checked): it is not
    /// counted.
    pub fn forget(&self, attempt: Attempt) {
        self.state.lock().unwrap().take_back(&attempt);
    }
}

impl State {
    /// Removes the failure `attempt` counted.
    fn take_back(&mut self, attempt: &Attempt) {
        for key in &attempt.keys {
            if let Some(times) = self.failures.get_mut(key) {
                if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    self.failures.remove(key);
                }
            }
        }
    }

    /// Keeps the memory bounded: past [`MAX_KEYS`], what no longer counts is dropped.
    fn forget_stale(&mut self, now: Instant) {
        if self.failures.len() >= MAX_KEYS {
            self.failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        if self.known.len() >= MAX_KEYS {
            self.known
                .retain(|_, at| now.duration_since(*at) < KNOWN_FOR);
            if self.known.len() >= MAX_KEYS {
                // Still full of recent ones: the least recently used half goes.
                let mut times: Vec<Instant> = self.known.values().copied().collect();
                times.sort();
                let cut = times[times.len() / 2];
                self.known.retain(|_, at| *at > cut);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// `n` failed attempts for `name` from `client` at `at`.
    fn fail(limiter: &Limiter, name: &str, client: IpAddr, at: Instant, n: usize) {
        for i in 0..n {
            let attempt = limiter
                .begin(name, client, at)
                .unwrap_or_else(|_| panic!("attempt {i} is allowed"));
            drop(attempt); // refused: it stays counted
        }
    }

    #[test]
    fn an_account_is_held_off_after_its_limit_until_the_window_moves() {
        let limiter = Limiter::default();
        let (ip, t0) = (ip("127.0.0.1"), Instant::now());
        for i in 0..PER_ACCOUNT {
            fail(&limiter, "ada", ip, t0 + Duration::from_secs(i as u64), 1);
        }
        let wait = limiter
            .begin("ada", ip, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, WINDOW - Duration::from_secs(10));
        // Another name from the same address is still allowed; the first, once the window moves.
        assert!(limiter
            .begin("bob", ip, t0 + Duration::from_secs(10))
            .is_ok());
        assert!(limiter.begin("ada", ip, t0 + WINDOW).is_ok());
    }

    #[test]
    fn attempts_under_way_count_before_their_passwords_are_checked() {
        let limiter = Limiter::default();
        let (ip, t0) = (ip("127.0.0.1"), Instant::now());
        // Sixty attempts at once: only the first few are let through to be checked.
        let started: Vec<_> = (0..60).map(|_| limiter.begin("ada", ip, t0)).collect();
        let through: Vec<Attempt> = started.into_iter().filter_map(Result::ok).collect();
        assert_eq!(through.len(), PER_ACCOUNT);
        // One of them turns out right: the name's count is cleared.
        let mut through = through.into_iter();
        limiter.succeeded(through.next().unwrap(), t0);
        assert!(limiter.begin("ada", ip, t0).is_ok());
    }

    #[test]
    fn an_attempt_that_checked_nothing_is_not_counted() {
        let limiter = Limiter::default();
        let (ip, t0) = (ip("10.0.0.1"), Instant::now());
        for _ in 0..PER_ACCOUNT * 3 {
            let attempt = limiter.begin("ada", ip, t0).unwrap();
            limiter.forget(attempt);
        }
        assert!(limiter.begin("ada", ip, t0).is_ok());
    }

    #[test]
    fn an_address_is_held_off_after_its_limit_whatever_the_name() {
        let limiter = Limiter::default();
        let (ip, t0) = (ip("10.0.0.9"), Instant::now());
        for i in 0..PER_ADDRESS {
            fail(&limiter, &format!("user{i}"), ip, t0, 1);
        }
        assert!(limiter.begin("someone", ip, t0).is_err());
        assert!(limiter
            .begin("someone", "10.0.0.10".parse().unwrap(), t0)
            .is_ok());
    }

    #[test]
    fn someone_failing_from_elsewhere_does_not_lock_out_a_known_address() {
        let limiter = Limiter::default();
        let (home, attacker, t0) = (ip("192.0.2.10"), ip("203.0.113.66"), Instant::now());
        let attempt = limiter.begin("ada", home, t0).unwrap();
        limiter.succeeded(attempt, t0);
        // The attacker locks the name for everyone else...
        let later = t0 + Duration::from_secs(60);
        fail(&limiter, "ada", attacker, later, PER_ACCOUNT);
        assert!(limiter.begin("ada", attacker, later).is_err());
        assert!(limiter.begin("ada", ip("198.51.100.7"), later).is_err());
        // ...but not for ada at home, whose own mistakes count apart.
        fail(&limiter, "ada", home, later, PER_KNOWN);
        assert!(limiter.begin("ada", home, later).is_err());
        // A known address is known for that name only.
        assert!(limiter.begin("bob", home, later).is_ok());
        // Once the address has not signed in for long, it is an address like any other.
        let much_later = t0 + KNOWN_FOR + WINDOW;
        assert!(limiter.begin("ada", home, much_later).is_ok());
        fail(&limiter, "ada", attacker, much_later, PER_ACCOUNT - 1);
        assert!(limiter.begin("ada", home, much_later).is_err());
    }
}
