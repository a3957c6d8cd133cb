//! Limits keyed by anything ([`model::limits`]): those the kinds declare and those an operator
//! sets at run time, each key's use of them, and why a queued job waits on one.
//!
//! The claim applies them (`store_core::limits`); this reads them for people: the list on
//! `/system` and `GET /api/v1/limits` (the busiest keys first), a queued job's reason ("10 a
//! minute per customer_id acme, next in 12 s"), and the changes operators make. Only a caller
//! who may see every job learns whose keys are in use and how much: anyone else is told how
//! many keys are in use, and of a key their job waits on what their own jobs use of it. A
//! change made here wakes this process's runner; other processes see it at their next claim, and their
//! watch of the limits ([`Jobs::spawn_limit_watcher`]) wakes them within a second or two.

use super::Jobs;
use crate::caller::Caller;
use crate::failures::{read_failed, write_failed};
use model::error::Chain;
use model::limits::{KeyUse, Limit, LimitSource, LimitUse, LimitWait, Per, USES_SHOWN};
use model::{AppError, ErrorCode, Job, UserId};
use std::collections::HashMap;
use std::time::Duration;
use store_core::limits::SetLimit;

/// How often a process looks at the limits set elsewhere, and, while a rate limit is in
/// force, claims again for the jobs whose window has passed.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The limits in force and their use, read once.
pub(crate) struct LimitsNow {
    now: i64,
    limits: Vec<LimitUse>,
    /// Each limit's use by key.
    used: Vec<HashMap<String, KeyUse>>,
    /// Each limit's running jobs by key and owner (empty for a rate, whose starts are counted
    /// by key alone): what a caller who sees only their own jobs is told of a key's use.
    owners: Vec<HashMap<(String, String), u32>>,
}

impl Jobs {
    /// The limits in force, each with its use per key (the busiest first). A caller who may
    /// not see every job gets the limits and how many keys are in use, not the keys.
    pub async fn limits(&self, caller: &Caller) -> Result<Vec<LimitUse>, AppError> {
        let now = self.limits_now().await?;
        let sees_all = caller.sees().is_none();
        let mut limits = Vec::with_capacity(now.limits.len());
        for (mut l, used) in now.limits.into_iter().zip(now.used) {
            l.keys_in_use = used.len() as u64;
            if sees_all {
                let mut keys: Vec<KeyUse> = used.into_values().collect();
                keys.sort_by(|a, b| b.used.cmp(&a.used).then_with(|| a.key.cmp(&b.key)));
                keys.truncate(USES_SHOWN);
                if l.limit.per == Per::Owner {
                    for k in &mut keys {
                        k.name = self.user_name(&k.key).await;
                    }
                }
                l.keys = keys;
            }
            limits.push(l);
        }
        Ok(limits)
    }

    /// The name of the account with the id `id`, if there is one.
    pub(crate) async fn user_name(&self, id: &str) -> Option<String> {
        let id = model::UserId::parse(id).ok()?;
        match self.inner.store.user_by_id(&id).await {
            Ok(user) => user.map(|u| u.name),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "cannot read an account's name");
                None
            }
        }
    }

    /// Sets `limit` for every process, in place of the one of its kind, key and window
    /// (declared or set); operators and admins only. The limit as now in force.
    pub async fn set_limit(&self, caller: &Caller, limit: Limit) -> Result<LimitUse, AppError> {
        caller.may_operate()?;
        self.limitable(&limit)?;
        let set = self.inner.store.set_limits().await.map_err(read_failed)?;
        let signature = limit.signature();
        if set.len() >= model::limits::MAX_SET
            && !set.iter().any(|s| s.limit.signature() == signature)
        {
            return Err(AppError::words(
                ErrorCode::Conflict,
                model::words::limit_too_many(model::limits::MAX_SET),
            ));
        }
        let by = caller.name().unwrap_or("operator");
        let set = self
            .inner
            .committer
            .set_limit(limit, by)
            .await
            .map_err(|e| write_failed("set the limit", e))?;
        tracing::info!(limit = %set.limit, kind = %set.limit.kind, by, "limit set");
        self.wake_claims();
        Ok(self.in_force_as(set))
    }

    /// Removes the limit set at run time with the kind, key and window of `limit` (its `max`
    /// does not matter, but is checked as when set): a declared one of that signature applies
    /// again. Whether there was one. Operators and admins only.
    pub async fn remove_limit(&self, caller: &Caller, limit: &Limit) -> Result<bool, AppError> {
        caller.may_operate()?;
        // A limit that could not have been set is refused as it would be when set.
        if let Some((field, words)) = limit.problem() {
            return Err(AppError::invalid_words(field, words));
        }
        let removed = self
            .inner
            .committer
            .remove_limit(limit.signature())
            .await
            .map_err(|e| write_failed("remove the limit", e))?;
        if removed {
            tracing::info!(kind = %limit.kind, by = caller.name().unwrap_or("operator"), "limit removed");
            self.wake_claims();
        }
        Ok(removed)
    }

    /// Refuses a limit that cannot be set: a bad number, window or name, a kind this server
    /// does not run (or whose jobs run elsewhere), a parameter the kind does not have.
    fn limitable(&self, limit: &Limit) -> Result<(), AppError> {
        if let Some((field, words)) = limit.problem() {
            return Err(AppError::invalid_words(field, words));
        }
        let Some(info) = self.inner.kinds.info(&limit.kind) else {
            return Err(AppError::invalid_words(
                "kind",
                model::words::limit_no_kind(format!(
                    "{:?}",
                    limit.kind.chars().take(64).collect::<String>()
                )),
            ));
        };
        if self.inner.kinds.starts(&limit.kind) != Some(crate::kinds::Starts::Here) {
            return Err(AppError::invalid_words(
                "kind",
                model::words::limit_elsewhere(format!("{:?}", limit.kind)),
            ));
        }
        if let Per::Param(p) = &limit.per {
            if !info.params.iter().any(|i| i.name == *p) {
                let names: Vec<&str> = info.params.iter().map(|i| i.name.as_str()).collect();
                let names = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                return Err(AppError::invalid_words(
                    "param",
                    model::words::limit_no_param(&limit.kind, format!("{p:?}"), &names),
                ));
            }
        }
        Ok(())
    }

    /// A limit just set, as the list shows it (without its use).
    fn in_force_as(&self, set: SetLimit) -> LimitUse {
        let signature = set.limit.signature();
        let declared_max = self
            .inner
            .kinds
            .declared_limits()
            .into_iter()
            .find(|d| d.signature() == signature)
            .map(|d| d.max);
        LimitUse {
            limit: set.limit,
            source: LimitSource::Set,
            declared_max,
            set_by: Some(set.set_by),
            set_at: Some(set.set_at),
            keys: Vec::new(),
            keys_in_use: 0,
        }
    }

    /// The limits in force, with their use by key, read now.
    pub(crate) async fn limits_now(&self) -> Result<LimitsNow, AppError> {
        let store = &self.inner.store;
        let declared = self.inner.kinds.declared_limits();
        let set = store.set_limits().await.map_err(read_failed)?;
        let mut limits: Vec<LimitUse> = declared
            .iter()
            .map(|d| {
                let over = set.iter().find(|s| s.limit.signature() == d.signature());
                LimitUse {
                    limit: over.map_or_else(|| d.clone(), |s| s.limit.clone()),
                    source: if over.is_some() {
                        LimitSource::Set
                    } else {
                        LimitSource::Declared
                    },
                    declared_max: over.map(|_| d.max),
                    set_by: over.map(|s| s.set_by.clone()),
                    set_at: over.map(|s| s.set_at),
                    keys: Vec::new(),
                    keys_in_use: 0,
                }
            })
            .collect();
        for s in &set {
            if !declared
                .iter()
                .any(|d| d.signature() == s.limit.signature())
            {
                limits.push(LimitUse {
                    limit: s.limit.clone(),
                    source: LimitSource::Set,
                    declared_max: None,
                    set_by: Some(s.set_by.clone()),
                    set_at: Some(s.set_at),
                    keys: Vec::new(),
                    keys_in_use: 0,
                });
            }
        }
        let now = crate::now_ms();
        let mut running: HashMap<String, Vec<(String, serde_json::Value)>> = HashMap::new();
        let mut used = Vec::with_capacity(limits.len());
        let mut owners = Vec::with_capacity(limits.len());
        for l in &limits {
            let l = &l.limit;
            let mut keys: HashMap<String, KeyUse> = HashMap::new();
            let mut by_owner: HashMap<(String, String), u32> = HashMap::new();
            match l.window_ms {
                None => {
                    if !running.contains_key(&l.kind) {
                        let rows = store.running_params(&l.kind).await.map_err(read_failed)?;
                        let parsed = rows
                            .into_iter()
                            .map(|(owner, params)| {
                                (owner, serde_json::from_str(&params).unwrap_or_default())
                            })
                            .collect();
                        running.insert(l.kind.clone(), parsed);
                    }
                    for (owner, params) in &running[&l.kind] {
                        let key = l.key_of(owner, params);
                        *by_owner.entry((key.clone(), owner.clone())).or_default() += 1;
                        keys.entry(key.clone())
                            .or_insert(KeyUse {
                                key,
                                name: None,
                                used: 0,
                                next_at: None,
                            })
                            .used += 1;
                    }
                }
                Some(window) => {
                    let rows = store
                        .limit_uses(&l.signature(), now - window)
                        .await
                        .map_err(read_failed)?;
                    for (key, n, oldest) in rows {
                        // The oldest start leaves the window a millisecond after it is a whole
                        // window old.
                        let next_at = (n >= l.max).then_some(oldest + window + 1);
                        keys.insert(
                            key.clone(),
                            KeyUse {
                                key,
                                name: None,
                                used: n,
                                next_at,
                            },
                        );
                    }
                }
            }
            used.push(keys);
            owners.push(by_owner);
        }
        Ok(LimitsNow {
            now,
            limits,
            used,
            owners,
        })
    }

    /// Wakes what claims jobs here when the limits set at run time change elsewhere, and every
    /// [`WATCH_EVERY`] while a rate limit is in force (a job held back by one may start once
    /// its window has passed, and nothing else would tell), until shutdown.
    pub(crate) fn spawn_limit_watcher(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            let stopping = engine.stopping();
            let mut seen: Option<Vec<String>> = None;
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopping.cancelled() => return,
                }
                match engine.inner.store.set_limits().await {
                    Ok(set) => {
                        let now: Vec<String> = set
                            .iter()
                            .map(|s| store_core::limits::limit_json(&s.limit))
                            .collect();
                        let rates = set.iter().any(|s| s.limit.is_rate())
                            || engine
                                .inner
                                .kinds
                                .declared_limits()
                                .iter()
                                .any(Limit::is_rate);
                        if rates || seen.as_ref().is_some_and(|s| *s != now) {
                            engine.wake_claims();
                        }
                        seen = Some(now);
                    }
                    Err(e) => {
                        tracing::warn!(error = %Chain(&e), "cannot read the limits; looking again shortly")
                    }
                }
            }
        });
    }
}

impl LimitsNow {
    /// Whether a limit applies to jobs of `kind`.
    pub(crate) fn limits_kind(&self, kind: &str) -> bool {
        self.limits.iter().any(|l| l.limit.kind == kind)
    }

    /// Why `job` (queued, of `owner`) waits on a limit, if one of its keys is full: the first
    /// such limit. Its use as `viewer` may know it: everyone's for a caller who sees every job
    /// (`None`); else what `viewer`'s own jobs use of the key ([`LimitWait::used`]).
    pub(crate) fn wait_of(
        &self,
        job: &Job,
        owner: &str,
        viewer: Option<&UserId>,
    ) -> Option<LimitWait> {
        self.limits
            .iter()
            .zip(&self.used)
            .zip(&self.owners)
            .filter(|((l, _), _)| l.limit.kind == job.kind)
            .find_map(|((l, used), owners)| {
                let key = l.limit.key_of(owner, &job.params);
                let u = used.get(&key)?;
                let seen = match viewer {
                    None => Some(u.used),
                    // Every start of a key per user is that user's.
                    Some(v) if l.limit.per == Per::Owner && key == v.as_str() => Some(u.used),
                    Some(_) if l.limit.is_rate() => None,
                    Some(v) => Some(
                        owners
                            .get(&(key.clone(), v.as_str().to_string()))
                            .copied()
                            .unwrap_or(0),
                    ),
                };
                (u.used >= l.limit.max).then(|| LimitWait {
                    limit: l.limit.clone(),
                    key: key.clone(),
                    name: None,
                    used: seen,
                    next_at: u.next_at.map(|t| t.max(self.now)),
                })
            })
    }
}
