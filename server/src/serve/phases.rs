//! What each open connection is doing, so that when every connection slot is taken the one
//! that holds its slot for least is closed to make room: a connection idle between requests,
//! one still sending its request head, or one sending its body far below any real client's
//! pace, rather than refusing the newcomer. Connections being answered (a page, an event
//! stream) are never closed for this.
//!
//! A connection is *waiting* (between requests, or sending a head) from the moment its last
//! answer was sent; *sending its body* from when its head arrived, with the bytes received so
//! far; or *answered* while the handler and its response run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A body arriving slower than this is behind: under pressure its connection is closed (408).
pub const MIN_BODY_RATE: f64 = 8.0 * 1024.0;
/// How far behind (waiting, or behind [`MIN_BODY_RATE`]) a connection must be to be closed
/// to make room.
pub const EVICTABLE_AFTER: Duration = Duration::from_secs(1);

const WAITING: u8 = 0;
const BODY: u8 = 1;
const ANSWERED: u8 = 2;

/// One connection's phase, shared by its task, the request it serves and the registry.
#[derive(Debug)]
pub struct Conn {
    phase: AtomicU8,
    /// When the phase began, in microseconds since the registry's start.
    since: AtomicU64,
    /// Bytes of the body received, while sending one.
    body_bytes: AtomicU64,
    origin: Instant,
    /// Cancelled to close the connection to make room.
    evicted: CancellationToken,
}

/// A request's handle on its connection (a request extension).
#[derive(Debug, Clone)]
pub struct ConnHandle(pub Arc<Conn>);

impl Conn {
    fn now(&self) -> u64 {
        self.origin.elapsed().as_micros() as u64
    }

    fn enter(&self, phase: u8) {
        self.enter_at(phase, self.now());
    }

    fn enter_at(&self, phase: u8, at: u64) {
        self.since.store(at, Ordering::Relaxed);
        self.body_bytes.store(0, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }

    /// Its answer is sent: it waits for the next request.
    pub fn waiting(&self) {
        self.enter(WAITING);
    }

    /// Its request is being handled.
    pub fn answered(&self) {
        self.enter(ANSWERED);
    }

    /// Its request's body is being read.
    pub fn reading_body(&self) {
        self.enter(BODY);
    }

    /// `n` more bytes of the body arrived.
    pub fn received(&self, n: usize) {
        self.body_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Completes when the connection is to be closed to make room.
    pub async fn evicted(&self) {
        self.evicted.cancelled().await
    }

    pub fn is_evicted(&self) -> bool {
        self.evicted.is_cancelled()
    }

    /// How far behind it is at `now` (microseconds since the registry's start; `None`: being
    /// answered): how long it has waited, or for a body, how long it has taken beyond what
    /// [`MIN_BODY_RATE`] allows for what arrived.
    fn behind_at(&self, now: u64) -> Option<Duration> {
        let phase = self.phase.load(Ordering::Acquire);
        let elapsed = now.saturating_sub(self.since.load(Ordering::Relaxed));
        let elapsed = Duration::from_micros(elapsed);
        match phase {
            WAITING => Some(elapsed),
            BODY => {
                let allowed = self.body_bytes.load(Ordering::Relaxed) as f64 / MIN_BODY_RATE;
                Some(elapsed.saturating_sub(Duration::from_secs_f64(allowed)))
            }
            _ => None,
        }
    }
}

/// The open connections' phases.
#[derive(Debug)]
pub struct Phases {
    origin: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
}

/// A connection's place in the registry, removed when dropped.
pub struct Registered {
    phases: Arc<Phases>,
    id: u64,
    pub conn: Arc<Conn>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.phases.open.lock().unwrap().remove(&self.id);
    }
}

impl Phases {
    pub fn new() -> Arc<Phases> {
        Arc::new(Phases {
            origin: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A newly accepted connection, waiting for its first request.
    pub fn register(self: &Arc<Self>) -> Registered {
        let conn = Arc::new(Conn {
            phase: AtomicU8::new(WAITING),
            since: AtomicU64::new(0),
            body_bytes: AtomicU64::new(0),
            origin: self.origin,
            evicted: CancellationToken::new(),
        });
        conn.waiting();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.lock().unwrap().insert(id, Arc::clone(&conn));
        Registered {
            phases: Arc::clone(self),
            id,
            conn,
        }
    }

    /// Closes the connection furthest behind, if one is at least [`EVICTABLE_AFTER`] behind and
    /// not already closing; whether one was.
    pub fn evict_one(&self) -> bool {
        self.evict_one_at(self.origin.elapsed().as_micros() as u64)
    }

    /// [`Phases::evict_one`] at `now` (microseconds since the registry's start).
    fn evict_one_at(&self, now: u64) -> bool {
        let open = self.open.lock().unwrap();
        let victim = open
            .values()
            .filter(|c| !c.is_evicted())
            .filter_map(|c| Some((c.behind_at(now)?, c)))
            .filter(|(behind, _)| *behind >= EVICTABLE_AFTER)
            .max_by_key(|(behind, _)| *behind);
        match victim {
            Some((_, conn)) => {
                conn.evicted.cancel();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000;

    #[test]
    fn a_body_is_behind_by_the_time_it_took_beyond_the_minimum_rate() {
        let phases = Phases::new();
        let c = phases.register();
        c.conn.enter_at(BODY, 10 * SEC);
        // 64 KiB in two seconds is well ahead of the minimum rate.
        c.conn.received(64 * 1024);
        assert_eq!(c.conn.behind_at(12 * SEC), Some(Duration::ZERO));
        // Two bytes in two seconds is two seconds behind, less a quarter of a millisecond.
        c.conn.enter_at(BODY, 10 * SEC);
        c.conn.received(2);
        let behind = c.conn.behind_at(12 * SEC).unwrap();
        assert!(behind > Duration::from_millis(1999), "{behind:?}");
        // Waiting for a request: behind by all the time waited. Answered: never.
        c.conn.enter_at(WAITING, 10 * SEC);
        assert_eq!(c.conn.behind_at(13 * SEC), Some(Duration::from_secs(3)));
        c.conn.enter_at(ANSWERED, 0);
        assert_eq!(c.conn.behind_at(100 * SEC), None);
    }

    #[test]
    fn room_is_made_only_by_a_connection_far_enough_behind() {
        let phases = Phases::new();
        let streaming = phases.register();
        streaming.conn.enter_at(ANSWERED, 0);
        let fresh = phases.register();
        fresh.conn.enter_at(WAITING, 4 * SEC + SEC / 2);
        assert!(
            !phases.evict_one_at(SEC / 2),
            "nobody is behind a second yet"
        );
        let idle = phases.register();
        idle.conn.enter_at(WAITING, 0);
        assert!(phases.evict_one_at(5 * SEC));
        assert!(idle.conn.is_evicted());
        assert!(!fresh.conn.is_evicted() && !streaming.conn.is_evicted());
        assert!(
            !phases.evict_one_at(5 * SEC),
            "the rest are answered or recent"
        );
    }
}
