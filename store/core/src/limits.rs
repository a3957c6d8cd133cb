//! Limits keyed by anything ([`model::limits`]), as a claim applies them.
//!
//! A claim reads the limits set at run time in its own transaction, so that every process
//! applies the same ones; the declared ones come with the claim (every process of a deployment
//! runs the same kinds). A limit over a whole kind's running jobs joins the kinds' limits (the
//! lower wins), and the claim leaves such a kind out of its read. Every other limit is *keyed*:
//! [`Keyed`] counts each key's running jobs (from the running jobs' rows) or its starts in the
//! window (from `limit_uses`, a row per start, written by the claim that starts the job), tells
//! the backends' candidate reads which keys are full so that the jobs behind a full key are not
//! read at all (no head-of-line blocking however many of them wait), and passes over a
//! candidate whose key fills up during the claim.
//!
//! The counts are exact across processes because claims are: SQLite has one writer, and on
//! PostgreSQL every batch of every process first takes the lock on event ids. A running job's
//! slot is its row's status, so a process killed mid-run holds its jobs' slots until they are
//! taken over, and a takeover frees each exactly once, in the transaction that moves the job.

use crate::Candidate;
use model::limits::{Limit, Per};
use std::collections::HashMap;

/// The limits set at run time, as rows of `(data, set_by, set_at)` ([`set_limits`]); the same
/// statement on both databases, as are the others here.
pub const SET_LIMITS: &str = "SELECT data, set_by, set_at FROM limits ORDER BY signature";
/// Sets a limit: `$1` its signature, `$2` its JSON ([`limit_json`]), `$3` who, `$4` when.
pub const PUT_LIMIT: &str = "INSERT INTO limits (signature, data, set_by, set_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (signature) DO UPDATE \
     SET data = excluded.data, set_by = excluded.set_by, set_at = excluded.set_at";
/// A rate limit's starts (`$1` its signature) at or after `$2`, by key.
pub const LIMIT_USES: &str = "SELECT key, COUNT(*) FROM limit_uses \
     WHERE signature = $1 AND at >= $2 GROUP BY key";

/// A limit as its row stores it.
pub fn limit_json(limit: &Limit) -> String {
    serde_json::to_string(limit).expect("limits serialize")
}

/// The rows of [`SET_LIMITS`] as limits; a row that does not read as one is logged and left
/// out.
pub fn set_limits(rows: Vec<(String, String, i64)>) -> Vec<SetLimit> {
    rows.into_iter()
        .filter_map(|(data, set_by, set_at)| match serde_json::from_str(&data) {
            Ok(limit) => Some(SetLimit {
                limit,
                set_by,
                set_at,
            }),
            Err(e) => {
                tracing::error!(data, error = %e, "a stored limit does not read as one; it is not applied");
                None
            }
        })
        .collect()
}

/// A limit set at run time, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetLimit {
    pub limit: Limit,
    pub set_by: String,
    pub set_at: i64,
}

/// The limits in force: the declared ones, each replaced by the one set at run time with its
/// signature, then the others set at run time.
pub fn in_force(declared: &[Limit], set: &[SetLimit]) -> Vec<Limit> {
    let mut limits: Vec<Limit> = declared
        .iter()
        .map(|d| {
            let sig = d.signature();
            set.iter()
                .find(|s| s.limit.signature() == sig)
                .map_or_else(|| d.clone(), |s| s.limit.clone())
        })
        .collect();
    for s in set {
        let sig = s.limit.signature();
        if !declared.iter().any(|d| d.signature() == sig) {
            limits.push(s.limit.clone());
        }
    }
    limits
}

/// `limits` split for a claim: each kind's limit of running jobs (its own, and any limit on
/// the whole kind's running jobs, the lower winning), and the keyed limits.
pub fn split(
    limits: Vec<Limit>,
    kind_limits: &[(String, u32)],
) -> (Vec<(String, u32)>, Vec<Limit>) {
    let mut by_kind: Vec<(String, u32)> = kind_limits.to_vec();
    let mut keyed = Vec::new();
    for l in limits {
        if l.per == Per::Kind && l.window_ms.is_none() {
            match by_kind.iter_mut().find(|(k, _)| *k == l.kind) {
                Some((_, n)) => *n = (*n).min(l.max),
                None => by_kind.push((l.kind, l.max)),
            }
        } else {
            keyed.push(l);
        }
    }
    (by_kind, keyed)
}

/// The keyed limits of a claim, with each key's use.
#[derive(Debug, Default)]
pub struct Keyed {
    limits: Vec<Limit>,
    of_kind: HashMap<String, Vec<usize>>,
    /// Running jobs, or starts in the window, by limit and key.
    used: HashMap<(usize, String), u32>,
    /// Each candidate's keys (by its `seq`), by limit.
    keys: HashMap<i64, Vec<(usize, String)>>,
    /// Whether a key filled up in this claim.
    filled: bool,
}

impl Keyed {
    pub fn new(limits: Vec<Limit>) -> Keyed {
        let mut of_kind: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, l) in limits.iter().enumerate() {
            of_kind.entry(l.kind.clone()).or_default().push(i);
        }
        Keyed {
            limits,
            of_kind,
            ..Keyed::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// The kinds with keyed limits: their candidates are read with their parameters.
    pub fn kinds(&self) -> Vec<String> {
        self.of_kind.keys().cloned().collect()
    }

    /// The keyed limits of running jobs, with their places: their running jobs are counted by
    /// key ([`Keyed::count`]).
    pub fn of_running(&self) -> impl Iterator<Item = (usize, &Limit)> {
        self.limits.iter().enumerate().filter(|(_, l)| !l.is_rate())
    }

    /// The rate limits, with their places.
    pub fn rates(&self) -> impl Iterator<Item = (usize, &Limit)> {
        self.limits.iter().enumerate().filter(|(_, l)| l.is_rate())
    }

    /// Counts `n` uses of `key` (jobs running, or starts in the window) of the limit at `i`;
    /// a key is cut as [`model::limits::key_text`] cuts it.
    pub fn count(&mut self, i: usize, key: &str, n: u32) {
        let key = model::text::truncate_bytes(key, model::limits::MAX_KEY).to_string();
        *self.used.entry((i, key)).or_default() += n;
    }

    /// The full keys as the backends' candidate reads leave them out: a JSON list of
    /// `[kind, how, param, [key, …]]`, one per limit with a full key, `how` being `k` (the
    /// whole kind, no keys), `o` (owners) or `p` (values of a parameter, as
    /// [`model::limits::key_text`] writes them). One entry per limit, so that a read works out
    /// a job's key once for each, however many keys are full.
    pub fn excluded(&self) -> String {
        let mut full: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
        for ((i, key), n) in &self.used {
            if *n >= self.limits[*i].max {
                full.entry(*i).or_default().push(key.as_str());
            }
        }
        let groups: Vec<serde_json::Value> = full
            .into_iter()
            .map(|(i, mut keys)| {
                keys.sort_unstable();
                let l = &self.limits[i];
                match &l.per {
                    Per::Kind => serde_json::json!([l.kind, "k", "", []]),
                    Per::Owner => serde_json::json!([l.kind, "o", "", keys]),
                    Per::Param(p) => serde_json::json!([l.kind, "p", p, keys]),
                }
            })
            .collect();
        serde_json::Value::Array(groups).to_string()
    }

    /// Works out a candidate's keys (once, before it is weighed).
    pub(crate) fn learn(&mut self, c: &Candidate) {
        let Some(at) = self.of_kind.get(&c.kind) else {
            return;
        };
        let params: serde_json::Value = c
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        let keys = at
            .iter()
            .map(|&i| (i, self.limits[i].key_of(c.owner.as_str(), &params)))
            .collect();
        self.keys.insert(c.seq, keys);
    }

    /// Whether every limit of the candidate's keys has room for it.
    pub fn allows(&self, c: &Candidate) -> bool {
        self.keys.get(&c.seq).is_none_or(|keys| {
            keys.iter().all(|(i, key)| {
                self.used.get(&(*i, key.clone())).copied().unwrap_or(0) < self.limits[*i].max
            })
        })
    }

    /// Counts the candidate as started; the rate limits' starts to record, as
    /// `(signature, key)`.
    pub fn take(&mut self, c: &Candidate) -> Vec<(String, String)> {
        let mut starts = Vec::new();
        for (i, key) in self.keys.get(&c.seq).cloned().unwrap_or_default() {
            let l = &self.limits[i];
            let n = self.used.entry((i, key.clone())).or_default();
            *n += 1;
            if *n >= l.max {
                self.filled = true;
            }
            if l.is_rate() {
                starts.push((l.signature(), key));
            }
        }
        starts
    }

    /// Whether a key filled up since the last call: jobs of other keys, not read for being
    /// behind its own, may then be worth another read.
    pub fn filled_up(&mut self) -> bool {
        std::mem::take(&mut self.filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{JobId, Priority, UserId};

    fn limit(kind: &str, per: Per, max: u32, window_ms: Option<i64>) -> Limit {
        Limit {
            kind: kind.into(),
            per,
            max,
            window_ms,
        }
    }

    fn job(seq: i64, owner: &str, kind: &str, params: &str) -> Candidate {
        Candidate {
            seq,
            rank: seq,
            priority: Priority::NORMAL,
            id: JobId::parse(&format!("00000000-0000-0000-0000-{seq:012}")).unwrap(),
            owner: UserId::parse(owner).unwrap(),
            kind: kind.into(),
            checkpoint: None,
            params: Some(params.into()),
        }
    }

    #[test]
    fn a_limit_set_at_run_time_replaces_the_declared_one_of_its_signature() {
        let declared = [
            limit("deploy", Per::Param("repo".into()), 1, None),
            limit("deploy", Per::Owner, 3, None),
        ];
        let set = [
            SetLimit {
                limit: limit("deploy", Per::Param("repo".into()), 2, None),
                set_by: "olga".into(),
                set_at: 1,
            },
            SetLimit {
                limit: limit("mail", Per::Kind, 10, Some(60_000)),
                set_by: "olga".into(),
                set_at: 1,
            },
        ];
        let got = in_force(&declared, &set);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].max, 2);
        assert_eq!(got[1].max, 3);
        assert_eq!(got[2].kind, "mail");
    }

    #[test]
    fn a_whole_kinds_limit_of_running_jobs_joins_the_kinds_limits_lower_first() {
        let (kinds, keyed) = split(
            vec![
                limit("a", Per::Kind, 5, None),
                limit("b", Per::Kind, 1, None),
                limit("a", Per::Kind, 2, Some(1_000)),
                limit("a", Per::Owner, 1, None),
            ],
            &[("a".into(), 3)],
        );
        assert_eq!(kinds, [("a".to_string(), 3), ("b".to_string(), 1)]);
        assert_eq!(keyed.len(), 2);
    }

    #[test]
    fn each_key_has_its_own_room_and_a_full_key_is_left_out_of_reads() {
        let mut keyed = Keyed::new(vec![
            limit("deploy", Per::Param("repo".into()), 1, None),
            limit("deploy", Per::Owner, 10, Some(60_000)),
        ]);
        keyed.count(0, "web", 1);
        keyed.count(1, "bob", 10);
        let web = job(1, "cat", "deploy", r#"{"repo": "web"}"#);
        let api = job(2, "cat", "deploy", r#"{"repo": "api"}"#);
        let bobs = job(3, "bob", "deploy", r#"{"repo": "docs"}"#);
        let other = job(4, "bob", "other", "{}");
        for c in [&web, &api, &bobs, &other] {
            keyed.learn(c);
        }
        assert!(!keyed.allows(&web), "web runs already");
        assert!(keyed.allows(&api));
        assert!(!keyed.allows(&bobs), "Bob started ten this minute");
        assert!(keyed.allows(&other), "no limit on other kinds");
        let mut excluded: Vec<serde_json::Value> = serde_json::from_str(&keyed.excluded()).unwrap();
        excluded.sort_by_key(|e| e.to_string());
        assert_eq!(
            excluded,
            [
                serde_json::json!(["deploy", "o", "", ["bob"]]),
                serde_json::json!(["deploy", "p", "repo", ["web"]]),
            ]
        );
        assert!(!keyed.filled_up());
        let starts = keyed.take(&api);
        assert_eq!(
            starts,
            [("deploy/owner/rate:60000".to_string(), "cat".to_string())]
        );
        assert!(keyed.filled_up(), "api is full now");
        assert!(!keyed.allows(&api));
    }
}
