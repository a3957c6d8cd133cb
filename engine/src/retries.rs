//! Automatic retries: whether a job's failed attempt is tried again, and when. The policy is
//! its kind's ([`crate::kinds::Retry`]); the attempts a job may take are fixed when it starts
//! (the kind's, or fewer if the start asked for fewer). The runner asks at a job's end, and a
//! takeover asks for the jobs of a process that is gone; the store's `Retry` change queues the
//! job again, recording the attempt, in one commit.

use crate::kinds::Registry;
use model::{AppError, Job, JobError};

/// The field a refused number of attempts is reported under.
pub const FIELD: &str = "max_attempts";

/// How long after its failed attempt ends (with `error`) a job starts its next one, in
/// milliseconds, if it is to be tried again: it has attempts left and its kind does not take
/// `error` as final. The wait counts from the commit that records the failure.
pub fn next_attempt(kinds: &Registry, job: &Tries<'_>, error: &JobError) -> Option<i64> {
    let policy = kinds.retry(job.kind);
    if job.attempt >= job.max_attempts || !policy.retries(&error.code) {
        return None;
    }
    let wait = policy.delay(job.attempt, jitter());
    Some(wait.as_millis().min(i64::MAX as u128) as i64)
}

/// What a retry decision needs of a job.
pub struct Tries<'a> {
    pub kind: &'a str,
    pub attempt: u32,
    pub max_attempts: u32,
}

impl<'a> From<&'a Job> for Tries<'a> {
    fn from(job: &'a Job) -> Tries<'a> {
        Tries {
            kind: &job.kind,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
        }
    }
}

/// How many attempts a job of `kind` gets when its start asks for `asked` (`None`: as many as
/// the kind allows); asking for more than the kind allows, or for none, is refused.
pub fn attempts_for(kinds: &Registry, kind: &str, asked: Option<u32>) -> Result<u32, AppError> {
    let allowed = kinds.retry(kind).max_attempts.max(1);
    match asked {
        None => Ok(allowed),
        Some(n) if (1..=allowed).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid_words(
            FIELD,
            match allowed {
                1 => model::words::attempts_none(kind),
                n => model::words::attempts_at_most(n, kind),
            },
        )),
    }
}

/// A number from 0 to 1, different each time.
fn jitter() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() >> 75) as u64;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Retry;
    use std::time::Duration;

    const POLICY: Retry = Retry {
        max_attempts: 5,
        base: Duration::from_secs(2),
        cap: Duration::from_secs(30),
        permanent: &["not_found"],
    };

    #[test]
    fn the_wait_doubles_from_the_base_up_to_the_cap_less_up_to_half_of_it() {
        let full = |n| POLICY.delay(n, 0.0);
        assert_eq!(
            [full(1), full(2), full(3), full(4), full(5), full(40)],
            [2, 4, 8, 16, 30, 30].map(Duration::from_secs)
        );
        assert_eq!(POLICY.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(POLICY.delay(3, 0.5), Duration::from_secs(6));
        assert!(jitter() >= 0.0 && jitter() < 1.0);
    }

    #[test]
    fn permanent_codes_and_bad_parameters_are_never_tried_again() {
        assert!(POLICY.retries("timeout") && POLICY.retries("interrupted"));
        assert!(!POLICY.retries("not_found") && !POLICY.retries("bad_params"));
        assert!(!Retry::NEVER.retries("bad_params"));
        let info = POLICY.info();
        assert_eq!(info.permanent, ["not_found", "bad_params"]);
        assert_eq!(
            (info.max_attempts, info.base_ms, info.cap_ms),
            (5, 2000, 30_000)
        );
    }

    #[test]
    fn a_start_may_ask_for_fewer_attempts_never_more() {
        let kinds = Registry::builtin();
        let demo = kinds.retry("demo").max_attempts;
        assert!(demo > 1, "demo is tried again");
        assert_eq!(attempts_for(&kinds, "demo", None).unwrap(), demo);
        assert_eq!(attempts_for(&kinds, "demo", Some(1)).unwrap(), 1);
        let more = attempts_for(&kinds, "demo", Some(demo + 1)).unwrap_err();
        assert!(more.field(FIELD).unwrap().contains("at most"), "{more:?}");
        assert!(attempts_for(&kinds, "demo", Some(0)).is_err());
        assert_eq!(attempts_for(&kinds, "no-such-kind", None).unwrap(), 1);
    }

    #[test]
    fn the_last_attempt_and_a_final_error_are_not_tried_again() {
        let kinds = Registry::builtin();
        let timeout = JobError::new("timeout", String::new());
        let tries = |attempt, max_attempts| Tries {
            kind: "demo",
            attempt,
            max_attempts,
        };
        let wait = next_attempt(&kinds, &tries(1, 3), &timeout).unwrap();
        assert!(wait > 0);
        assert_eq!(next_attempt(&kinds, &tries(3, 3), &timeout), None);
        let bad = JobError::new("bad_params", String::new());
        assert_eq!(next_attempt(&kinds, &tries(1, 3), &bad), None);
    }
}
