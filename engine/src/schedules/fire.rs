//! The scheduler: every process runs one, and the process holding the `schedules` lease fires
//! the schedules that are due. It sleeps until the soonest fire time any schedule waits for
//! (looking again every second, and at once when a schedule changes here), then fires every
//! schedule due, all in a few batches of the writer.
//!
//! Each fire is a `Fire` change: its schedule moves on from the time it was due at only if it
//! still waits for that time, and its job starts in the same commit. Another process firing the
//! same time (its lease lapsed while it still fired) finds the schedule moved on and writes
//! nothing; a process killed before its commit wrote nothing, and the next holder of the lease
//! fires the time, late but within [`MISSED_AFTER_MS`]. So a fire time starts at most one job,
//! and is not lost with a process.

use super::{cron::Cron, rfc_3339, MISSED_AFTER_MS};
use super::{Scheduled, Schedules};
use crate::files::Files;
use crate::jobs::Opens;
use crate::now_ms;
use crate::store::{Fire, ScheduleRow};
use model::error::Chain;
use model::{CatchUp, Overlap, UserId};
use std::collections::HashMap;
use std::time::Duration;

/// How often a scheduler looks at the schedules without being woken.
const POLL: Duration = Duration::from_secs(1);

/// How long the `schedules` lease lasts without being renewed: a process that stops firing
/// (killed, stuck) is relieved by another after this.
const LEASE_MS: i64 = 5_000;

/// Schedules fired per pass at most: as many as one owner may have, so that a thousand due at
/// once go to the writer together rather than half of them after the other half committed.
const PAGE: u32 = 1_000;

/// Passes per wake-up at most: a schedule whose times are all due fires one per pass.
const PASSES: usize = 50;

impl Schedules {
    /// Fires the schedules that are due while this process holds the `schedules` lease, until
    /// shutdown.
    pub(crate) fn spawn_scheduler(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            let stopping = engine.jobs.stopping();
            loop {
                let wait = match engine.jobs.inner.store.next_fire().await {
                    Ok(Some(at)) => Duration::from_millis(
                        (at - now_ms()).clamp(0, POLL.as_millis() as i64) as u64,
                    ),
                    Ok(None) => POLL,
                    Err(e) => {
                        tracing::warn!(error = %Chain(&e), "cannot read when the next schedule fires; looking again shortly");
                        POLL
                    }
                };
                if !wait.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = engine.changed.notified() => {}
                        _ = stopping.cancelled() => return,
                    }
                    continue;
                }
                let me = engine.jobs.process_id();
                let fired = match engine
                    .jobs
                    .inner
                    .store
                    .try_lease("schedules", &me, LEASE_MS)
                    .await
                {
                    Ok(true) => engine.fire_due().await,
                    Ok(false) => 0,
                    Err(e) => {
                        tracing::warn!(error = %Chain(&e), "cannot take the schedules' lease; trying again shortly");
                        0
                    }
                };
                // Not the holder, or nothing could be fired: wait before looking again.
                if fired == 0 {
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {}
                        _ = stopping.cancelled() => return,
                    }
                }
            }
        });
    }

    /// Fires every schedule that is due now; returns how many fire times it handled.
    pub(crate) async fn fire_due(&self) -> usize {
        let mut handled = 0;
        for _ in 0..PASSES {
            let now = now_ms();
            let due = match self.jobs.inner.store.due_schedules(now, PAGE).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %Chain(&e), "cannot read the schedules that are due");
                    break;
                }
            };
            if due.is_empty() {
                break;
            }
            let mut owners = Owners::default();
            let mut fires = Vec::with_capacity(due.len());
            for row in &due {
                fires.push(self.plan(row, now, &mut owners).await);
            }
            let done = futures::future::join_all(
                fires
                    .into_iter()
                    .map(|fire| self.jobs.inner.committer.fire(fire)),
            )
            .await;
            let mut pass = 0;
            for (row, result) in due.iter().zip(done) {
                match result {
                    Ok(Some(fired)) => {
                        pass += 1;
                        match (&fired.job, &fired.skipped) {
                            (Some(job), _) => {
                                tracing::debug!(schedule = %row.id, job = %job.id, "schedule fired")
                            }
                            (None, Some(why)) => {
                                tracing::info!(schedule = %row.id, why, "schedule fired nothing")
                            }
                            (None, None) => {}
                        }
                    }
                    // Fired by another process meanwhile, or changed.
                    Ok(None) => pass += 1,
                    Err(e) => {
                        tracing::error!(schedule = %row.id, error = %Chain(&e), "cannot fire a schedule; trying again shortly")
                    }
                }
            }
            handled += pass;
            if pass == 0 {
                break;
            }
        }
        handled
    }

    /// What the due schedule `row` does now: its fire time, the next one, and its job or why it
    /// starts none.
    async fn plan(&self, row: &ScheduleRow, now: i64, owners: &mut Owners) -> Fire {
        let due = row.next_fire_at.unwrap_or(now);
        let mut fire = Fire {
            schedule_id: row.id.clone(),
            due,
            next: None,
            job: None,
            run: None,
            skip_if_busy: Overlap::parse(&row.overlap) != Some(Overlap::Start),
            max_queued: Some(self.jobs.inner.queue_shares.max()),
            skipped: None,
        };
        let (cron, tz) = match (
            Cron::parse(&row.cron),
            crate::when::time_zone(&row.timezone),
        ) {
            (Ok(cron), Ok(tz)) => (cron, tz),
            (Err(e), _) => {
                fire.skipped = Some(format!(
                    "its expression can no longer be read ({e}); it fires no more"
                ));
                return fire;
            }
            (_, Err(e)) => {
                fire.skipped = Some(format!(
                    "its time zone can no longer be read ({}); it fires no more",
                    e.message
                ));
                return fire;
            }
        };
        let missed = due < now - MISSED_AFTER_MS;
        let scheduled_for = if missed {
            // Times missed while no process ran: on from the first one not yet a minute old.
            fire.next = cron.next_after(now - MISSED_AFTER_MS - 1, &tz);
            match CatchUp::parse(&row.catch_up).unwrap_or_default() {
                CatchUp::One => due,
                CatchUp::Skip => {
                    fire.skipped = Some(format!(
                        "its fire times from {} were missed while no process ran, and skipped (catch-up: skip)",
                        rfc_3339(due, &tz)
                    ));
                    return fire;
                }
            }
        } else {
            fire.next = cron.next_after(due, &tz);
            due
        };
        // The owner's rights, as they are now.
        if let Some(why) = owners.held(self, &row.owner).await {
            fire.skipped = Some(why);
            return fire;
        }
        let opens = Opens {
            files: owners.files(self, &row.owner).await,
            user: row.owner.clone(),
            rerun_of: None,
        };
        match self.schedule_job(row, opens, Some(scheduled_for)).await {
            Ok(Scheduled::Job(job)) => fire.job = Some((row.owner.clone(), job)),
            Ok(Scheduled::Run(new)) => {
                let plan = serde_json::to_string(&new.plan).expect("a plan serializes");
                fire.job = Some((row.owner.clone(), new.run));
                fire.run = Some((plan, new.steps));
            }
            Err(e) => {
                fire.skipped = Some(format!("its parameters were refused: {}", e.message));
            }
        }
        fire
    }
}

/// The owners of one pass's schedules: what holds each back, and what their jobs may open,
/// read once each.
#[derive(Default)]
struct Owners {
    accounts: HashMap<UserId, Option<crate::store::UserRow>>,
    files: HashMap<UserId, Files>,
}

impl Owners {
    /// Why the owner's schedules start nothing now, if something holds them back.
    async fn held(&mut self, engine: &Schedules, owner: &UserId) -> Option<String> {
        match engine.held(owner, &mut self.accounts).await {
            Ok(why) => why,
            Err(e) => Some(format!("its owner could not be read ({})", e.message)),
        }
    }

    /// What the owner's jobs may open; only their own folder when the store does not answer.
    async fn files(&mut self, engine: &Schedules, owner: &UserId) -> Files {
        if let Some(files) = self.files.get(owner) {
            return files.clone();
        }
        let root = &engine.jobs.inner.data_root;
        let files = match Files::for_owner(root, &engine.jobs.inner.store, owner).await {
            Ok(files) => files,
            Err(e) => {
                tracing::error!(error = %Chain(&e), "cannot tell whose files a schedule's job may open");
                Files::own(root, owner)
            }
        };
        self.files.insert(owner.clone(), files.clone());
        files
    }
}
