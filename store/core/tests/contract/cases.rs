//! The cases: each takes a fresh, empty database of one backend.

use crate::support::Db;
use model::ids::testing::named;
use model::{
    EventType, Job, JobError, JobId, JobStatus, KindPause, LogLevel, ProcessId, Progress,
    StatusCount, UserId,
};
use serde_json::json;
use store_core::*;

pub(crate) fn new_job(kind: &str) -> Job {
    let job = Job::queued(model::JobId::random(), kind, json!({"steps": 3}), now_ms());
    Job {
        timeout_ms: Some(5000),
        ..job
    }
}

pub(crate) fn create(owner: &str, job: &Job) -> Change {
    Change::Create {
        owner: named(owner),
        job: job.clone(),
        max_queued: None,
        key: None,
        answer: Answer::none(),
    }
}

pub(crate) fn to(owner: &str, job: &Job, status: JobStatus) -> Change {
    Change::Transition {
        fence: None,
        owner: named(owner),
        job_id: job.id.clone(),
        to: status,
        error: None,
        answer: Answer::none(),
    }
}

fn ids(events: &[CommittedEvent]) -> Vec<i64> {
    events.iter().map(|e| e.event.id).collect()
}

fn ids_of(events: &[StoredEvent]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

/// The change `make` builds around an answer, and where that answer comes.
pub(crate) fn asked<T>(make: impl FnOnce(Answer<T>) -> Change) -> (Change, Answered<T>) {
    let (answer, answered) = Answer::new();
    (make(answer), answered)
}

pub(crate) fn creating(owner: &str, job: &Job) -> (Change, Answered<Created>) {
    asked(|answer| Change::Create {
        owner: named(owner),
        job: job.clone(),
        max_queued: None,
        key: None,
        answer,
    })
}

fn moving(owner: &str, job: &Job, status: JobStatus) -> (Change, Answered<Option<Job>>) {
    asked(|answer| Change::Transition {
        fence: None,
        owner: named(owner),
        job_id: job.id.clone(),
        to: status,
        error: None,
        answer,
    })
}

/// Applies the one change `make` builds; the batch and the change's answer.
async fn one<T>(db: &Db, make: impl FnOnce(Answer<T>) -> Change) -> (Applied, T) {
    let (change, answered) = asked(make);
    let applied = db.store.apply(vec![change]).await.unwrap();
    (applied, answered.now().unwrap())
}

/// The ids of the jobs of `owner` a history page with `filter` lists, in its order.
pub(crate) async fn listed(db: &Db, owner: &str, filter: &JobFilter) -> Vec<JobId> {
    db.store
        .list_jobs(Some(&named(owner)), filter)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect()
}

/// The job a create made (it must have made one).
fn made(created: Answered<Created>) -> Job {
    match created.now().unwrap() {
        Created::New(job) => job,
        other => panic!("expected a new job, got {other:?}"),
    }
}

pub async fn a_batch_allocates_consecutive_ids_and_returns_its_events_in_order(db: Db) {
    let first = db.store.reserve_event_id().await.unwrap();
    let job = new_job("demo");
    let applied = db
        .store
        .apply(vec![
            create("me", &job),
            to("me", &job, JobStatus::Running),
            Change::Progress {
                fence: None,
                owner: named("me"),
                job_id: job.id.clone(),
                progress: Progress {
                    current: 2,
                    total: Some(3),
                    unit: "steps".into(),
                    at: Some(7),
                    ..Default::default()
                },
                answer: Answer::none(),
            },
            Change::Log {
                fence: None,
                owner: named("me"),
                job_id: job.id.clone(),
                level: LogLevel::Warn,
                line: "careful".into(),
                bounds: Default::default(),
                answer: Answer::none(),
            },
            to("me", &job, JobStatus::Succeeded),
        ])
        .await
        .unwrap();
    // create 1, running 1, progress 1, log 1, succeeded 2 (job + done).
    assert_eq!(
        ids(&applied.events),
        ((first + 1)..=(first + 6)).collect::<Vec<_>>()
    );
    assert_eq!(applied.head, first + 6);
    let kinds: Vec<EventType> = applied.events.iter().map(|e| e.event.kind).collect();
    assert_eq!(
        kinds,
        [
            EventType::Job,
            EventType::Job,
            EventType::Progress,
            EventType::Log,
            EventType::Job,
            EventType::Done
        ]
    );
    assert!(applied
        .events
        .iter()
        .all(|e| e.owner.as_deref() == Some("me")));
    assert_eq!(db.store.last_event_id().await.unwrap(), first + 6);

    let stored = db
        .store
        .job(Some(&named("me")), &job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, JobStatus::Succeeded);
    assert_eq!(
        stored.event_id,
        first + 6,
        "a job's event_id is its latest event"
    );
    assert_eq!(
        (
            stored.progress.current,
            stored.progress.total,
            stored.progress.at
        ),
        (2, Some(3), Some(7))
    );
    assert!(stored.started_at.is_some() && stored.finished_at.is_some());
    assert_eq!(stored.timeout_ms, Some(5000));
    assert_eq!(
        db.store
            .job(Some(&named("someone else")), &job.id)
            .await
            .unwrap(),
        None
    );

    // The `job` event carries the job as it was at that event.
    let running: model::Job = serde_json::from_str(&applied.events[1].event.data).unwrap();
    assert_eq!(
        (running.status, running.event_id),
        (JobStatus::Running, first + 2)
    );
    let log = db.store.log_lines(&job.id, 0, 10).await.unwrap();
    assert_eq!(
        (log[0].seq, log[0].level, log[0].line.as_str()),
        (1, LogLevel::Warn, "careful")
    );
    assert_eq!(db.store.log_tail(&job.id, 10).await.unwrap().1, 1);

    let replay = db
        .store
        .owner_events_after(Some(&named("me")), first, i64::MAX, 100)
        .await
        .unwrap();
    assert_eq!(
        replay.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids(&applied.events)
    );
    assert_eq!(replay[3].data, applied.events[3].event.data);
    assert_eq!(
        db.store
            .job_events_after(&job.id, first + 4, i64::MAX, 100)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(db
        .store
        .owner_events_after(Some(&named("someone else")), 0, i64::MAX, 100)
        .await
        .unwrap()
        .is_empty());
    let until = db
        .store
        .owner_events_after(Some(&named("me")), first, first + 2, 100)
        .await
        .unwrap();
    assert_eq!(
        until.iter().map(|e| e.id).collect::<Vec<_>>(),
        [first + 1, first + 2],
        "nothing past `until`"
    );
    let timeline: Vec<JobStatus> = db
        .store
        .status_changes(&job.id)
        .await
        .unwrap()
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(
        timeline,
        [JobStatus::Queued, JobStatus::Running, JobStatus::Succeeded]
    );
}

pub async fn a_change_the_database_refuses_fails_alone_and_its_batch_commits(db: Db) {
    let (a, b) = (new_job("demo"), new_job("demo"));
    let duplicate = Job {
        id: a.id.clone(),
        ..new_job("demo")
    };
    let ((ca, a_made), (cd, d_made), (cb, b_made)) = (
        creating("me", &a),
        creating("you", &duplicate),
        creating("them", &b),
    );
    let applied = db.store.apply(vec![ca, cd, cb]).await.unwrap();
    let a_stored = made(a_made);
    match d_made.now() {
        Err(e) => {
            let chain = model::error::Chain(&e).to_string();
            assert!(chain.to_lowercase().contains("unique"), "{chain}")
        }
        Ok(other) => panic!("the duplicate must fail, got {other:?}"),
    }
    assert_eq!(applied.failed, 1);
    let b_stored = made(b_made);
    // The failed change's event id was handed out again: no gap.
    assert_eq!(b_stored.event_id, a_stored.event_id + 1);
    assert_eq!(
        ids(&applied.events),
        [b_stored.event_id - 1, b_stored.event_id]
    );
    assert!(db
        .store
        .job(Some(&named("me")), &a.id)
        .await
        .unwrap()
        .is_some());
    assert!(db
        .store
        .job(Some(&named("them")), &b.id)
        .await
        .unwrap()
        .is_some());
    assert!(
        db.store
            .owner_events_after(Some(&named("you")), 0, i64::MAX, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing of the refused change"
    );
}

pub async fn moves_the_state_machine_refuses_change_nothing(db: Db) {
    let job = new_job("demo");
    db.store.apply(vec![create("me", &job)]).await.unwrap();
    let head = db.store.last_event_id().await.unwrap();
    let (finish, finished) = moving("me", &job, JobStatus::Succeeded);
    let (sample, sampled) = asked(|answer| Change::Progress {
        fence: None,
        owner: named("me"),
        job_id: job.id.clone(),
        progress: Progress::default(),
        answer,
    });
    let (start, started) = moving("me", &new_job("demo"), JobStatus::Running);
    let (log, logged) = asked(|answer| Change::Log {
        fence: None,
        owner: named("me"),
        job_id: named("nope"),
        level: LogLevel::Info,
        line: "x".into(),
        bounds: Default::default(),
        answer,
    });
    let applied = db
        .store
        .apply(vec![finish, sample, start, log])
        .await
        .unwrap();
    assert_eq!(
        finished.now().unwrap(),
        None,
        "queued cannot become succeeded"
    );
    assert!(!sampled.now().unwrap(), "progress needs a running job");
    assert_eq!(started.now().unwrap(), None, "no such job");
    assert!(!logged.now().unwrap(), "no such job");
    assert!(applied.events.is_empty());
    assert_eq!(applied.head, head);
}

pub async fn orphans_are_jobs_running_for_nobody_registered_and_claims_carry_checkpoints(db: Db) {
    let (running, queued, done, held) = (
        new_job("checksum"),
        new_job("demo"),
        new_job("demo"),
        new_job("demo"),
    );
    let alive = ProcessRow {
        id: named("alive"),
        role: "all".into(),
        build: "b".into(),
        host: "h".into(),
        pid: 1,
        started_at: 0,
        heartbeat_at: 0,
        tags: Vec::new(),
        name: String::new(),
    };
    db.store.register(&alive).await.unwrap();
    db.store
        .apply(vec![
            create("a", &running),
            create("b", &queued),
            create("a", &done),
            create("a", &held),
            Change::Transition {
                fence: Some(named("gone")),
                owner: named("a"),
                job_id: running.id.clone(),
                to: JobStatus::Running,
                error: None,
                answer: Answer::none(),
            },
            Change::Checkpoint {
                fence: Some(named("gone")),
                job_id: running.id.clone(),
                value: json!({"files_done": 2}),
                answer: Answer::none(),
            },
            to("a", &done, JobStatus::Running),
            to("a", &done, JobStatus::Failed),
            Change::Transition {
                fence: Some(named("alive")),
                owner: named("a"),
                job_id: held.id.clone(),
                to: JobStatus::Running,
                error: None,
                answer: Answer::none(),
            },
        ])
        .await
        .unwrap();
    // Running for a process that is not registered: an orphan; the registered one's is not.
    let orphans = db.store.orphaned_jobs().await.unwrap();
    assert_eq!(
        orphans
            .iter()
            .map(|o| (o.owner.as_str(), o.job.id.as_str(), o.claimed_by.as_deref()))
            .collect::<Vec<_>>(),
        [("a", running.id.as_str(), Some("gone"))]
    );
    assert_eq!(
        db.store.checkpoint(&running.id).await.unwrap(),
        Some(json!({"files_done": 2}))
    );
    assert_eq!(db.store.checkpoint(&named("nope")).await.unwrap(), None);
    // Taken over and queued again, it is claimed with its checkpoint.
    let (claim_alive, taken) = claiming("alive", 5, &[]);
    db.store
        .apply(vec![
            Change::Transition {
                fence: Some(named("gone")),
                owner: named("a"),
                job_id: running.id.clone(),
                to: JobStatus::Interrupted,
                error: None,
                answer: Answer::none(),
            },
            Change::Transition {
                fence: Some(named("gone")),
                owner: named("a"),
                job_id: running.id.clone(),
                to: JobStatus::Queued,
                error: None,
                answer: Answer::none(),
            },
            claim_alive,
        ])
        .await
        .unwrap();
    assert!(db.store.orphaned_jobs().await.unwrap().is_empty());
    let jobs = taken.now().unwrap();
    let got: Vec<(&str, &str, Option<serde_json::Value>)> = jobs
        .iter()
        .map(|q| (q.owner.as_str(), q.job.id.as_str(), q.checkpoint.clone()))
        .collect();
    // b, with nothing running, first; then a (who has `held` running) with its checkpoint.
    assert_eq!(
        got,
        [
            ("b", queued.id.as_str(), None),
            ("a", running.id.as_str(), Some(json!({"files_done": 2})))
        ]
    );
}

pub async fn processes_register_beat_and_leave_and_leases_have_one_holder(db: Db) {
    let p = |id: &str| ProcessRow {
        id: named(id),
        role: "worker".into(),
        build: "b1".into(),
        host: "h".into(),
        pid: 42,
        started_at: 0,
        heartbeat_at: 0,
        tags: Vec::new(),
        name: String::new(),
    };
    let one = db.store.register(&p("one")).await.unwrap();
    assert!(one.started_at > 0 && one.heartbeat_at >= one.started_at);
    // The tags it offers are kept as registered.
    let two = ProcessRow {
        tags: vec!["eu".into(), "gpu".into()],
        name: String::new(),
        ..p("two")
    };
    assert_eq!(db.store.register(&two).await.unwrap().tags, ["eu", "gpu"]);
    assert!(db.store.heartbeat(&named("one")).await.unwrap());
    assert!(!db.store.heartbeat(&named("nobody")).await.unwrap());
    let listed: Vec<(ProcessId, String, i64, Vec<String>)> = db
        .store
        .processes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.role, p.pid, p.tags))
        .collect();
    assert_eq!(
        listed,
        [
            (named("one"), "worker".into(), 42, vec![]),
            (
                named("two"),
                "worker".into(),
                42,
                vec!["eu".into(), "gpu".into()]
            )
        ]
    );
    db.store.deregister(&named("two")).await.unwrap();
    assert!(
        !db.store.heartbeat(&named("two")).await.unwrap(),
        "a process that left has no heartbeat"
    );
    // A lease is its holder's until it expires; renewing it is the holder's alone.
    assert!(db
        .store
        .try_lease("prune", &named("one"), 60_000)
        .await
        .unwrap());
    assert!(db
        .store
        .try_lease("prune", &named("one"), 60_000)
        .await
        .unwrap());
    if db.store.is_shared() {
        assert!(!db
            .store
            .try_lease("prune", &named("three"), 60_000)
            .await
            .unwrap());
        assert!(
            db.store
                .try_lease("prune", &named("one"), -1)
                .await
                .unwrap(),
            "renewed, already expired"
        );
        assert!(db
            .store
            .try_lease("prune", &named("three"), 60_000)
            .await
            .unwrap());
        // Silent for longer than the lease: removed, and only then.
        assert!(db
            .store
            .reap_stale(&named("one"), 3_600_000)
            .await
            .unwrap()
            .is_empty());
    }
}

pub async fn snapshots_hold_unfinished_jobs_and_the_latest_ones(db: Db) {
    let jobs: Vec<Job> = (0..5).map(|_| new_job("demo")).collect();
    let mut changes: Vec<Change> = jobs.iter().map(|j| create("me", j)).collect();
    for j in &jobs[1..] {
        changes.push(to("me", j, JobStatus::Running));
        changes.push(to("me", j, JobStatus::Succeeded));
    }
    db.store.apply(changes).await.unwrap();
    let snapshot: Vec<JobId> = db
        .store
        .snapshot_jobs(Some(&named("me")), 2)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    // Newest first: the two latest, and the oldest because it is still queued.
    assert_eq!(
        snapshot,
        [jobs[4].id.clone(), jobs[3].id.clone(), jobs[0].id.clone()]
    );
}

pub async fn counts_and_the_chart_follow_status_changes(db: Db) {
    let (a, b) = (new_job("demo"), new_job("batch"));
    db.store
        .apply(vec![
            create("me", &a),
            create("me", &b),
            to("me", &b, JobStatus::Running),
            Change::Transition {
                fence: None,
                owner: named("me"),
                job_id: b.id.clone(),
                to: JobStatus::Failed,
                error: Some(JobError::new("boom", "disk")),
                answer: Answer::none(),
            },
        ])
        .await
        .unwrap();
    let count =
        |counts: &[StatusCount], s: JobStatus| counts.iter().find(|c| c.status == s).unwrap().n;
    let all = db
        .store
        .status_counts(Some(&named("me")), None)
        .await
        .unwrap();
    assert_eq!(
        (
            count(&all, JobStatus::Queued),
            count(&all, JobStatus::Failed)
        ),
        (1, 1)
    );
    assert_eq!(
        count(
            &db.store
                .status_counts(Some(&named("me")), Some("demo"))
                .await
                .unwrap(),
            JobStatus::Failed
        ),
        0
    );
    let now = now_ms();
    let chart = db
        .store
        .finished_per_minute(Some(&named("me")), now - 3_600_000, now + 60_000)
        .await
        .unwrap();
    assert_eq!(
        (chart.len(), chart[0].finished, chart[0].unsuccessful),
        (1, 1, 1)
    );
    let failed = db
        .store
        .job(Some(&named("me")), &b.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.error.unwrap().message, "disk");
}

pub async fn pruning_removes_the_oldest_events_in_bounded_batches(db: Db) {
    let jobs: Vec<Job> = (0..3).map(|_| new_job("demo")).collect();
    let created = db
        .store
        .apply(jobs.iter().map(|j| create("me", j)).collect())
        .await
        .unwrap();
    let oldest = created.events[0].event.id;
    assert!(db.store.pruned_through().await.unwrap() < oldest);
    let (_, pruned) = one(&db, |answer| Change::Prune {
        before_ms: now_ms() + 1,
        limit: 2,
        answer,
    })
    .await;
    assert_eq!(pruned, Some(oldest + 1));
    assert_eq!(db.store.pruned_through().await.unwrap(), oldest + 1);
    let kept = db
        .store
        .owner_events_after(Some(&named("me")), 0, i64::MAX, 10)
        .await
        .unwrap();
    assert_eq!(ids_of(&kept), [oldest + 2]);
    let (_, none) = one(&db, |answer| Change::Prune {
        before_ms: 0,
        limit: 2,
        answer,
    })
    .await;
    assert_eq!(none, None);
    assert!(
        db.store
            .job(Some(&named("me")), &jobs[0].id)
            .await
            .unwrap()
            .is_some(),
        "history is not pruned"
    );
}

pub async fn notices_take_event_ids_and_go_to_everyone(db: Db) {
    let (posted, notice) = one(&db, |answer| Change::PostNotice {
        text: "hello".into(),
        answer,
    })
    .await;
    let notice = &notice;
    assert_eq!(posted.events[0].event.id, notice.id);
    assert_eq!(posted.events[0].owner, None);
    assert_eq!(
        db.store.active_notices().await.unwrap(),
        std::slice::from_ref(notice)
    );
    let (withdrawn, n) = one(&db, |answer| Change::WithdrawNotices { answer }).await;
    assert_eq!(n, 1);
    assert!(withdrawn.events[0].event.data.contains(r#""text":"""#));
    assert!(db.store.active_notices().await.unwrap().is_empty());
}

pub async fn list_jobs_filters_searches_and_pages_both_ways(db: Db) {
    let jobs: Vec<Job> = (0..6)
        .map(|i| Job {
            created_at: 1_000 * (i + 1),
            ..new_job(if i % 2 == 0 { "demo" } else { "batch" })
        })
        .collect();
    let mut changes: Vec<Change> = jobs.iter().map(|j| create("me", j)).collect();
    changes.push(create("them", &new_job("demo")));
    changes.push(to("me", &jobs[1], JobStatus::Running));
    changes.push(Change::Progress {
        fence: None,
        owner: named("me"),
        job_id: jobs[1].id.clone(),
        progress: Progress {
            message: "copying 50% done".into(),
            ..Default::default()
        },
        answer: Answer::none(),
    });
    db.store.apply(changes).await.unwrap();
    let list = |filter: JobFilter| {
        let db = &db;
        async move { listed(db, "me", &filter).await }
    };
    let newest_first: Vec<JobId> = jobs.iter().rev().map(|j| j.id.clone()).collect();
    assert_eq!(
        list(JobFilter {
            limit: 10,
            ..Default::default()
        })
        .await,
        newest_first
    );
    assert_eq!(
        list(JobFilter {
            limit: 2,
            ..Default::default()
        })
        .await,
        newest_first[..2]
    );
    let before = JobFilter {
        before: Some(jobs[3].id.to_string()),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(list(before).await, [jobs[2].id.clone(), jobs[1].id.clone()]);
    let after = JobFilter {
        after: Some(jobs[1].id.to_string()),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(
        list(after).await,
        [jobs[3].id.clone(), jobs[2].id.clone()],
        "newer ones, still newest first"
    );
    let batch = JobFilter {
        kind: Some("batch".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(list(batch).await.len(), 3);
    let statuses = JobFilter {
        statuses: vec![JobStatus::Running, JobStatus::Failed],
        limit: 10,
        ..Default::default()
    };
    assert_eq!(list(statuses).await, [jobs[1].id.clone()]);
    // Several statuses: the newest of them together, and their pages both ways.
    let some = |before: Option<usize>, after: Option<usize>, limit| JobFilter {
        statuses: vec![JobStatus::Queued, JobStatus::Running],
        before: before.map(|i| jobs[i].id.to_string()),
        after: after.map(|i| jobs[i].id.to_string()),
        limit,
        ..Default::default()
    };
    assert_eq!(list(some(None, None, 3)).await, newest_first[..3]);
    assert_eq!(
        list(some(Some(3), None, 2)).await,
        [jobs[2].id.clone(), jobs[1].id.clone()]
    );
    assert_eq!(
        list(some(None, Some(0), 2)).await,
        [jobs[2].id.clone(), jobs[1].id.clone()]
    );
    assert_eq!(list(some(None, None, 10)).await, newest_first);
    let by_id = JobFilter {
        search: Some(jobs[4].id[..9].to_uppercase()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(list(by_id).await, [jobs[4].id.clone()]);
    let by_text = JobFilter {
        search: Some("50%".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(list(by_text).await, [jobs[1].id.clone()]);
    // Created from the third job's time, before the fifth's.
    let between = JobFilter {
        created_from: Some(jobs[2].created_at),
        created_to: Some(jobs[4].created_at),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        list(between).await,
        [jobs[3].id.clone(), jobs[2].id.clone()]
    );
    let wildcard = JobFilter {
        search: Some("_".into()),
        limit: 10,
        ..Default::default()
    };
    assert!(
        list(wildcard).await.is_empty(),
        "_ is a character, not a wildcard"
    );
}

/// A job that ends is queued for the search index and written into it by the writer many at a
/// time: a search finds it all along, in the queue, then in the index.
pub async fn an_ended_job_is_found_while_queued_for_the_index_and_once_in_it(db: Db) {
    db.store.index_search().await.unwrap();
    let job = |params| Job {
        params,
        ..new_job("demo")
    };
    let backup = job(json!({"file": "nightly-backup.tar"}));
    let failed = job(json!({"file": "people.csv"}));
    let running = job(json!({"file": "backup-of-photos"}));
    let mut changes: Vec<Change> = [&backup, &failed, &running]
        .iter()
        .map(|j| create("me", j))
        .collect();
    for j in [&backup, &failed, &running] {
        changes.push(to("me", j, JobStatus::Running));
    }
    changes.push(to("me", &backup, JobStatus::Succeeded));
    changes.push(Change::Transition {
        fence: None,
        owner: named("me"),
        job_id: failed.id.clone(),
        to: JobStatus::Failed,
        error: Some(JobError::new("disk_full", "no space left on the volume")),
        answer: Answer::none(),
    });
    db.store.apply(changes).await.unwrap();
    let found = |text: &str| {
        let filter = JobFilter {
            search: Some(text.to_string()),
            limit: 10,
            ..Default::default()
        };
        let db = &db;
        async move {
            let mut ids = listed(db, "me", &filter).await;
            ids.sort();
            ids
        }
    };
    let sorted = |mut ids: Vec<JobId>| {
        ids.sort();
        ids
    };
    let expected = [
        (
            "backup",
            sorted(vec![backup.id.clone(), running.id.clone()]),
        ),
        ("disk_full", vec![failed.id.clone()]),
        ("left on the vol", vec![failed.id.clone()]),
        ("people.csv", vec![failed.id.clone()]),
        ("nowhere", vec![]),
    ];
    // Queued for the index (unless the writer took them already, by itself).
    for (text, ids) in &expected {
        assert_eq!(
            &found(text).await,
            ids,
            "before the index took them: {text:?}"
        );
    }
    db.store.index_search().await.unwrap();
    assert_eq!(
        db.store.index_search().await.unwrap(),
        0,
        "the queue was emptied into the index"
    );
    // Now from the index alone (the running job where it is).
    for (text, ids) in &expected {
        assert_eq!(&found(text).await, ids, "from the index: {text:?}");
    }
    // Only the ended jobs were written: the running one ends, and is written then.
    db.store
        .apply(vec![to("me", &running, JobStatus::Cancelled)])
        .await
        .unwrap();
    assert_eq!(found("photos").await, std::slice::from_ref(&running.id));
    db.store.index_search().await.unwrap();
    assert_eq!(found("photos").await, std::slice::from_ref(&running.id));
    assert_eq!(db.store.index_search().await.unwrap(), 0);
}

pub async fn sessions_are_created_once_saved_loaded_and_expire(db: Db) {
    let row = SessionRow {
        id: "s1".into(),
        data: vec![1, 2, 3],
        expires_at: 2_000_000_000,
        user: Some("u1".into()),
    };
    assert!(db.store.create_session(row.clone()).await.unwrap());
    assert!(
        !db.store.create_session(row.clone()).await.unwrap(),
        "an id is never reused"
    );
    assert_eq!(
        db.store.load_session("s1").await.unwrap(),
        Some(row.clone())
    );
    let saved = SessionRow {
        data: vec![9],
        expires_at: 100,
        ..row.clone()
    };
    db.store.save_session(saved.clone()).await.unwrap();
    assert_eq!(db.store.load_session("s1").await.unwrap(), Some(saved));
    db.store
        .save_session(SessionRow {
            id: "s2".into(),
            ..row.clone()
        })
        .await
        .unwrap();
    assert_eq!(db.store.delete_expired_sessions(1_000).await.unwrap(), 1);
    assert_eq!(db.store.load_session("s1").await.unwrap(), None);
    db.store.delete_session("s2").await.unwrap();
    assert_eq!(db.store.load_session("s2").await.unwrap(), None);
}

pub async fn an_imported_history_is_read_like_any_other_and_ids_go_on_after_it(db: Db) {
    let jobs: Vec<Job> = (0..600)
        .map(|i| Job {
            status: JobStatus::Succeeded,
            started_at: Some(10),
            finished_at: Some(20 + i),
            event_id: 1000 + i,
            progress: Progress {
                current: 3,
                total: Some(3),
                at: Some(20),
                ..Default::default()
            },
            ..new_job("demo")
        })
        .collect();
    db.store
        .import_history(&named("me"), jobs.clone())
        .await
        .unwrap();
    assert_eq!(db.store.last_event_id().await.unwrap(), 1599);
    let back = db
        .store
        .job(Some(&named("me")), &jobs[599].id)
        .await
        .unwrap()
        .unwrap();
    // Read back as written, with its one attempt listed.
    assert_eq!(back.attempts.len(), 1);
    assert_eq!(
        Job {
            attempts: Vec::new(),
            ..back
        },
        jobs[599]
    );
    let count = db
        .store
        .status_counts(Some(&named("me")), None)
        .await
        .unwrap();
    assert_eq!(
        count
            .iter()
            .find(|c| c.status == JobStatus::Succeeded)
            .unwrap()
            .n,
        600
    );
    assert_eq!(db.store.reserve_event_id().await.unwrap(), 1600);
}

pub async fn ids_are_never_handed_out_twice_after_pruning_everything_or_after_notices(fresh: Db) {
    let Db { db, store } = fresh;
    let job = new_job("demo");
    let first = store.apply(vec![create("me", &job)]).await.unwrap().head;
    // Every event pruned: the next id still follows the last one handed out.
    store
        .apply(vec![Change::Prune {
            before_ms: i64::MAX,
            limit: 100,
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    assert_eq!(store.pruned_through().await.unwrap(), first);
    let notice = store
        .apply(vec![Change::PostNotice {
            text: "hi".into(),
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    assert_eq!(notice.head, first + 1);
    // However a notice's id is kept, it is not handed out again, across a restart.
    drop(store);
    let store = db.open().await;
    assert_eq!(store.last_event_id().await.unwrap(), first + 1);
    let next = store
        .apply(vec![to("me", &job, JobStatus::Running)])
        .await
        .unwrap();
    assert_eq!(next.events[0].event.id, first + 2);
    assert_eq!(store.reserve_event_id().await.unwrap(), first + 3);
    assert_eq!(
        store.apply(vec![]).await.unwrap().head,
        first + 3,
        "a reserved id is never handed out again"
    );
}

pub(crate) fn claim(by: &str, slots: u32, limits: &[(&str, u32)]) -> Change {
    let kinds = ["batch", "checksum", "demo"].map(String::from).to_vec();
    Change::Claim {
        by: named(by),
        slots,
        kinds,
        limits: limits.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        declared: Vec::new(),
        per_owner: u32::MAX,
        answer: Answer::none(),
    }
}

pub(crate) fn claiming(
    by: &str,
    slots: u32,
    limits: &[(&str, u32)],
) -> (Change, Answered<Vec<QueuedJob>>) {
    let (answer, answered) = Answer::new();
    match claim(by, slots, limits) {
        Change::Claim {
            by,
            slots,
            kinds,
            limits,
            declared,
            per_owner,
            ..
        } => (
            Change::Claim {
                by,
                slots,
                kinds,
                limits,
                declared,
                per_owner,
                answer,
            },
            answered,
        ),
        _ => unreachable!(),
    }
}

/// The ids of the jobs a claim took.
pub(crate) fn claimed(answered: Answered<Vec<QueuedJob>>) -> Vec<JobId> {
    answered
        .now()
        .unwrap()
        .iter()
        .map(|q| q.job.id.clone())
        .collect()
}

pub async fn claims_and_places_follow_priorities_with_aging_and_a_change_while_queued(db: Db) {
    use model::Priority;
    let now = now_ms();
    let of = |priority: Priority, created_at: i64| Job {
        priority,
        created_at,
        ..new_job("demo")
    };
    // A normal job; a low one queued 25 minutes ago, risen two levels by now (it competes as a
    // normal one, and is the first of those by rank); an urgent one; a low one.
    let normal = of(Priority::NORMAL, now);
    let aged = of(Priority::LOW, now - 25 * 60_000);
    let urgent = of(Priority::URGENT, now);
    let low = of(Priority::LOW, now);
    let jobs = [&normal, &aged, &urgent, &low];
    db.store
        .apply(jobs.iter().map(|j| create("me", j)).collect())
        .await
        .unwrap();
    let read = db.store.job(None, &urgent.id).await.unwrap().unwrap();
    assert_eq!(
        read.priority,
        Priority::URGENT,
        "a priority is stored with its job"
    );
    let ids: Vec<JobId> = jobs.iter().map(|j| j.id.clone()).collect();
    let places: Vec<u64> = db
        .store
        .queue_standings(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.unwrap().ahead)
        .collect();
    assert_eq!(
        places,
        [2, 1, 0, 3],
        "places in line: urgent, aged, normal, low"
    );
    // The low job is made urgent while it waits: it goes ahead of all but the urgent one,
    // which was first by rank; its `job` event says so.
    let (answer, answered) = Answer::new();
    let applied = db
        .store
        .apply(vec![Change::Prioritize {
            owner: named("me"),
            job_id: low.id.clone(),
            priority: Priority::URGENT,
            answer,
        }])
        .await
        .unwrap();
    let changed = answered
        .now()
        .unwrap()
        .expect("a queued job's priority changes");
    assert_eq!(changed.priority, Priority::URGENT);
    assert_eq!(applied.events.len(), 1);
    assert_eq!(applied.events[0].event.kind, EventType::Job);
    let mut order = Vec::new();
    for _ in 0..4 {
        let (c, one) = claiming("p1", 1, &[]);
        db.store.apply(vec![c]).await.unwrap();
        order.extend(claimed(one));
    }
    assert_eq!(
        order,
        [
            urgent.id.clone(),
            low.id.clone(),
            aged.id.clone(),
            normal.id.clone()
        ]
    );
    // A job that is not queued keeps its priority.
    let (answer, answered) = Answer::new();
    let applied = db
        .store
        .apply(vec![Change::Prioritize {
            owner: named("me"),
            job_id: normal.id.clone(),
            priority: Priority::LOWEST,
            answer,
        }])
        .await
        .unwrap();
    assert!(answered.now().unwrap().is_none());
    assert!(applied.events.is_empty());
    let read = db.store.job(None, &normal.id).await.unwrap().unwrap();
    assert_eq!(read.priority, Priority::NORMAL);
}

pub async fn claims_take_the_oldest_jobs_up_to_the_slots_and_the_kind_limits(db: Db) {
    let jobs: Vec<Job> = ["batch", "batch", "demo", "batch", "demo"]
        .iter()
        .map(|k| new_job(k))
        .collect();
    db.store
        .apply(jobs.iter().map(|j| create("me", j)).collect())
        .await
        .unwrap();
    // Two slots: the two oldest.
    let (c, first) = claiming("p1", 2, &[]);
    let first_applied = db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(first), [jobs[0].id.clone(), jobs[1].id.clone()]);
    assert_eq!(
        first_applied.events.len(),
        2,
        "one `job` event per claimed job"
    );
    let running = db
        .store
        .job(Some(&named("me")), &jobs[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.status, JobStatus::Running);
    // batch is at its limit of 2 (both claimed by p1): another process skips it and takes the
    // demo jobs behind it.
    let (c, second) = claiming("p2", 5, &[("batch", 2)]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(second), [jobs[2].id.clone(), jobs[4].id.clone()]);
    // Once a batch job has ended, the next one can be claimed.
    db.store
        .apply(vec![Change::Transition {
            owner: named("me"),
            job_id: jobs[0].id.clone(),
            to: JobStatus::Succeeded,
            error: None,
            fence: Some(named("p1")),
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    let (c, third) = claiming("p2", 5, &[("batch", 2)]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(third), [jobs[3].id.clone()]);
    let (c, none) = claiming("p2", 5, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert!(claimed(none).is_empty());
    // A kind the process does not run is never claimed by it.
    let other = new_job("import_csv");
    db.store.apply(vec![create("me", &other)]).await.unwrap();
    let (c, none) = claiming("p2", 5, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert!(claimed(none).is_empty());
}

/// A claim under keyed `declared` limits.
fn claiming_under(
    by: &str,
    slots: u32,
    declared: &[model::limits::Limit],
) -> (Change, Answered<Vec<QueuedJob>>) {
    let (answer, answered) = Answer::new();
    let change = Change::Claim {
        by: named(by),
        slots,
        kinds: ["batch", "checksum", "demo"].map(String::from).to_vec(),
        limits: Vec::new(),
        declared: declared.to_vec(),
        per_owner: u32::MAX,
        answer,
    };
    (change, answered)
}

pub async fn claims_keep_every_key_under_its_limits_and_take_other_keys_past_a_full_one(db: Db) {
    use model::limits::{Limit, Per};
    let at = now_ms();
    let for_repo = |repo: &str, n: i64| Job {
        params: json!({"repo": repo, "n": n}),
        // In order: a key's jobs all come before the next key's.
        created_at: at - 10_000 + n,
        ..new_job("demo")
    };
    // 20 jobs of repository "web" queued first, then 3 of "api" and 2 of "docs", by Ann; then
    // 3 of "ops" by Bob.
    let mut jobs: Vec<(String, Job)> = Vec::new();
    for n in 0..20 {
        jobs.push(("ann".into(), for_repo("web", n)));
    }
    for n in 20..23 {
        jobs.push(("ann".into(), for_repo("api", n)));
    }
    for n in 23..25 {
        jobs.push(("ann".into(), for_repo("docs", n)));
    }
    for n in 25..28 {
        jobs.push(("bob".into(), for_repo("ops", n)));
    }
    db.store
        .apply(jobs.iter().map(|(o, j)| create(o, j)).collect())
        .await
        .unwrap();
    let repo_of = |q: &QueuedJob| q.job.params["repo"].as_str().unwrap().to_string();
    let one_per_repo = Limit {
        kind: "demo".into(),
        per: Per::Param("repo".into()),
        max: 1,
        window_ms: None,
    };
    // Three slots, one at a time per repository: "web", Bob's "ops" (the fair share), and then,
    // past the 19 other "web" jobs, Ann's "api" (the candidates first read were all "web"'s
    // but Bob's).
    let (c, first) = claiming_under("p1", 3, std::slice::from_ref(&one_per_repo));
    db.store.apply(vec![c]).await.unwrap();
    let first = first.now().unwrap();
    assert_eq!(
        first.iter().map(repo_of).collect::<Vec<_>>(),
        ["web", "ops", "api"]
    );
    // Another process, ten slots: "docs" alone, the others run already.
    let (c, second) = claiming_under("p2", 10, std::slice::from_ref(&one_per_repo));
    db.store.apply(vec![c]).await.unwrap();
    let second: Vec<String> = second.now().unwrap().iter().map(repo_of).collect();
    assert_eq!(second, ["docs"]);
    // The "web" job ends: the next "web" job may start, and only one.
    db.store
        .apply(vec![Change::Transition {
            owner: named("ann"),
            job_id: first[0].job.id.clone(),
            to: JobStatus::Succeeded,
            error: None,
            fence: Some(named("p1")),
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    let (c, third) = claiming_under("p1", 10, std::slice::from_ref(&one_per_repo));
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(
        third.now().unwrap().iter().map(repo_of).collect::<Vec<_>>(),
        ["web"]
    );

    // At run time, an operator allows three at once per repository, in place of the declared
    // one, and at most 4 per user: Ann has 3 running ("web", "api", "docs"), so she gets one
    // more, Bob ("ops", 1 running) two of "ops" (its three at most).
    let per_user = Limit {
        kind: "demo".into(),
        per: Per::Owner,
        max: 4,
        window_ms: None,
    };
    let (answer, set) = Answer::new();
    db.store
        .apply(vec![Change::SetLimit {
            limit: Limit {
                max: 3,
                ..one_per_repo.clone()
            },
            by: "olga".into(),
            answer,
        }])
        .await
        .unwrap();
    assert_eq!(set.now().unwrap().set_by, "olga");
    db.store
        .apply(vec![Change::SetLimit {
            limit: per_user.clone(),
            by: "olga".into(),
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    let stored = db.store.set_limits().await.unwrap();
    assert_eq!(stored.len(), 2);
    let (c, fourth) = claiming_under("p2", 10, std::slice::from_ref(&one_per_repo));
    db.store.apply(vec![c]).await.unwrap();
    let mut fourth: Vec<(String, String)> = fourth
        .now()
        .unwrap()
        .iter()
        .map(|q| (q.owner.to_string(), repo_of(q)))
        .collect();
    fourth.sort();
    assert_eq!(
        fourth,
        [
            ("ann".to_string(), "web".to_string()),
            ("bob".to_string(), "ops".to_string()),
            ("bob".to_string(), "ops".to_string())
        ]
    );
    // What runs, by key, as the pages read it.
    let running = db.store.running_params("demo").await.unwrap();
    assert_eq!(running.len(), 7);
    // Removed, the run-time limits give way to the declared one again: nothing more starts.
    for limit in [
        Limit {
            max: 3,
            ..one_per_repo.clone()
        },
        per_user,
    ] {
        let (answer, removed) = Answer::new();
        db.store
            .apply(vec![Change::RemoveLimit {
                signature: limit.signature(),
                answer,
            }])
            .await
            .unwrap();
        assert!(removed.now().unwrap());
    }
    let (c, none) = claiming_under("p2", 10, std::slice::from_ref(&one_per_repo));
    db.store.apply(vec![c]).await.unwrap();
    assert!(none.now().unwrap().is_empty());
}

pub async fn rate_limits_count_starts_in_a_sliding_window_per_key(db: Db) {
    use model::limits::{Limit, Per};
    let for_customer = |customer: &str| Job {
        params: json!({"customer": customer}),
        ..new_job("demo")
    };
    let mut jobs = Vec::new();
    for _ in 0..5 {
        jobs.push(for_customer("acme"));
    }
    jobs.push(for_customer("initech"));
    db.store
        .apply(jobs.iter().map(|j| create("ann", j)).collect())
        .await
        .unwrap();
    // Two a minute per customer: two of acme's and initech's start; the others wait, though
    // slots are free and nothing runs any more.
    let rate = Limit {
        kind: "demo".into(),
        per: Per::Param("customer".into()),
        max: 2,
        window_ms: Some(60_000),
    };
    let (c, first) = claiming_under("p1", 10, std::slice::from_ref(&rate));
    db.store.apply(vec![c]).await.unwrap();
    let first = first.now().unwrap();
    assert_eq!(first.len(), 3);
    db.store
        .apply(
            first
                .iter()
                .map(|q| Change::Transition {
                    owner: named("ann"),
                    job_id: q.job.id.clone(),
                    to: JobStatus::Succeeded,
                    error: None,
                    fence: Some(named("p1")),
                    answer: Answer::none(),
                })
                .collect(),
        )
        .await
        .unwrap();
    let (c, none) = claiming_under("p1", 10, std::slice::from_ref(&rate));
    db.store.apply(vec![c]).await.unwrap();
    assert!(
        none.now().unwrap().is_empty(),
        "acme started two this minute"
    );
    let mut uses = db
        .store
        .limit_uses(&rate.signature(), now_ms() - 60_000)
        .await
        .unwrap();
    uses.sort();
    assert_eq!(
        uses.iter()
            .map(|(k, n, _)| (k.as_str(), *n))
            .collect::<Vec<_>>(),
        [("acme", 2), ("initech", 1)]
    );
    // A window of a second (a signature of its own, counted apart from the minute's): two of
    // acme's three start, and the third once a second has passed since.
    let per_second = Limit {
        window_ms: Some(1_000),
        ..rate.clone()
    };
    let (c, second) = claiming_under("p1", 10, std::slice::from_ref(&per_second));
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(second.now().unwrap().len(), 2);
    let started = db
        .store
        .limit_uses(&per_second.signature(), 0)
        .await
        .unwrap();
    assert_eq!(started.len(), 1);
    let (_, n, at) = &started[0];
    assert_eq!(*n, 2);
    while now_ms() <= at + 1_000 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (c, third) = claiming_under("p1", 10, std::slice::from_ref(&per_second));
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(third.now().unwrap().len(), 1);
    let running = db.store.running_params("demo").await.unwrap();
    assert_eq!(running.len(), 3);
    // The starts older than the window were deleted by that claim.
    let kept = db
        .store
        .limit_uses(&per_second.signature(), 0)
        .await
        .unwrap();
    assert_eq!(kept.iter().map(|(_, n, _)| n).sum::<u32>(), 1);
}

fn create_within(owner: &str, job: &Job, max_queued: u64) -> (Change, Answered<Created>) {
    asked(|answer| Change::Create {
        owner: named(owner),
        job: job.clone(),
        max_queued: Some(max_queued),
        key: None,
        answer,
    })
}

/// Applies `changes`; what each answered.
async fn all<T>(db: &Db, changes: Vec<(Change, Answered<T>)>) -> Vec<T> {
    let (changes, answers): (Vec<_>, Vec<_>) = changes.into_iter().unzip();
    db.store.apply(changes).await.unwrap();
    answers.into_iter().map(|a| a.now().unwrap()).collect()
}

pub async fn a_start_past_its_owners_share_is_refused_where_it_is_written(db: Db) {
    // Six starts of one owner with a share of 3, written in one batch.
    let jobs: Vec<Job> = (0..6).map(|_| new_job("demo")).collect();
    let created = all(
        &db,
        jobs.iter().map(|j| create_within("me", j, 3)).collect(),
    )
    .await;
    let stored = created
        .iter()
        .filter(|c| matches!(c, Created::New(_)))
        .count();
    assert_eq!(stored, 3);
    assert_eq!(created[3], Created::Full { waiting: 3 });
    assert_eq!(db.store.queued_count(&named("me")).await.unwrap(), 3);
    // Another owner is not held back; a later batch counts again.
    let other = all(
        &db,
        vec![
            create_within("you", &new_job("demo"), 3),
            create_within("me", &new_job("demo"), 3),
        ],
    )
    .await;
    assert!(matches!(other[0], Created::New(_)));
    assert!(matches!(other[1], Created::Full { .. }));
    // Once one of them has left the queue, there is room for one more.
    db.store.apply(vec![claim("p1", 1, &[])]).await.unwrap();
    let again = all(
        &db,
        vec![
            create_within("me", &new_job("demo"), 3),
            create_within("me", &new_job("demo"), 3),
        ],
    )
    .await;
    assert!(matches!(again[0], Created::New(_)));
    assert!(matches!(again[1], Created::Full { .. }));
}

pub async fn a_free_slot_goes_to_the_user_with_the_fewest_running_however_late_they_queued(db: Db) {
    // Ann queues more jobs than a claim looks at from the front of the queue; then Bob one.
    let ann: Vec<Job> = (0..store_core::CLAIM_SCAN + 10)
        .map(|_| new_job("demo"))
        .collect();
    for chunk in ann.chunks(256) {
        db.store
            .apply(chunk.iter().map(|j| create("ann", j)).collect())
            .await
            .unwrap();
    }
    let bob = new_job("demo");
    db.store.apply(vec![create("bob", &bob)]).await.unwrap();
    // Ann's oldest takes the first slot; the next goes to Bob, who has none running.
    let (c, first) = claiming("p1", 1, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(first), [ann[0].id.clone()]);
    let (c, second) = claiming("p1", 2, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(second), [bob.id.clone(), ann[1].id.clone()]);
    // A share of one running job per user: Ann, with two, gets nothing more.
    let (mut capped, third) = claiming("p1", 5, &[]);
    if let Change::Claim { per_owner, .. } = &mut capped {
        *per_owner = 1;
    }
    db.store.apply(vec![capped]).await.unwrap();
    assert!(claimed(third).is_empty());
}

pub async fn a_long_queue_of_a_kind_at_its_limit_does_not_hide_the_jobs_behind_it(db: Db) {
    // One batch job runs (its kind's limit is one); many more wait, far more than a claim of
    // one slot reads; then one demo job.
    let running = new_job("batch");
    db.store
        .apply(vec![
            create("me", &running),
            claim("p1", 1, &[("batch", 1)]),
        ])
        .await
        .unwrap();
    let waiting: Vec<Job> = (0..store_core::scan_for(1) * 4)
        .map(|_| new_job("batch"))
        .collect();
    db.store
        .apply(waiting.iter().map(|j| create("me", j)).collect())
        .await
        .unwrap();
    let demo = new_job("demo");
    db.store.apply(vec![create("me", &demo)]).await.unwrap();
    // The free slot goes to the demo job: the batch jobs may not start, so none is read.
    let (c, next) = claiming("p1", 1, &[("batch", 1)]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(next), std::slice::from_ref(&demo.id));
}

pub async fn a_job_takes_writes_only_from_the_process_that_holds_it(db: Db) {
    let job = new_job("checksum");
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    // What the process `by` reports, and whether each was taken (the job moved, for the last).
    let report = |by: &str| {
        let (progress, a) = asked(|answer| Change::Progress {
            owner: named("me"),
            job_id: job.id.clone(),
            progress: Progress {
                current: 1,
                ..Default::default()
            },
            fence: Some(named(by)),
            answer,
        });
        let (log, b) = asked(|answer| Change::Log {
            owner: named("me"),
            job_id: job.id.clone(),
            level: LogLevel::Info,
            line: by.into(),
            bounds: Default::default(),
            fence: Some(named(by)),
            answer,
        });
        let (checkpoint, c) = asked(|answer| Change::Checkpoint {
            job_id: job.id.clone(),
            value: json!(by),
            fence: Some(named(by)),
            answer,
        });
        let (end, d) = asked(|answer| Change::Transition {
            owner: named("me"),
            job_id: job.id.clone(),
            to: JobStatus::Succeeded,
            error: None,
            fence: Some(named(by)),
            answer,
        });
        let taken = move || {
            let moved = d.now().unwrap().is_some();
            [a.now().unwrap(), b.now().unwrap(), c.now().unwrap(), moved]
        };
        (vec![progress, log, checkpoint, end], taken)
    };
    // Another process's reports change nothing and make no event.
    let (changes, taken) = report("p2");
    let stale = db.store.apply(changes).await.unwrap();
    assert_eq!(taken(), [false; 4]);
    assert!(stale.events.is_empty());
    assert_eq!(db.store.checkpoint(&job.id).await.unwrap(), None);
    // Anyone may ask it to stop; the holder's reports are taken.
    let (_, cancelled) = one(&db, |answer| Change::Transition {
        owner: named("me"),
        job_id: job.id.clone(),
        to: JobStatus::Cancelling,
        error: None,
        fence: None,
        answer,
    })
    .await;
    assert!(cancelled.is_some());
    let (changes, taken) = report("p1");
    db.store.apply(changes).await.unwrap();
    assert_eq!(taken(), [true; 4]);
    assert_eq!(
        db.store.checkpoint(&job.id).await.unwrap(),
        Some(json!("p1"))
    );
    assert_eq!(
        db.store
            .job(Some(&named("me")), &job.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Succeeded
    );
}

pub async fn an_interruption_queues_a_resumable_job_again_in_the_same_commit(db: Db) {
    let (resumed, ended) = (new_job("checksum"), new_job("demo"));
    db.store
        .apply(vec![
            create("me", &resumed),
            create("me", &ended),
            claim("p1", 2, &[]),
        ])
        .await
        .unwrap();
    let interrupt = |job: &Job, requeue: bool, by: &str| {
        asked(|answer| Change::Interrupt {
            owner: named("me"),
            job_id: job.id.clone(),
            error: JobError::new(
                "interrupted",
                "the server stopped while this job was running",
            ),
            requeue,
            fence: Some(named(by)),
            answer,
        })
    };
    // Only the holder can interrupt.
    let (change, stale) = interrupt(&resumed, true, "p2");
    let applied = db.store.apply(vec![change]).await.unwrap();
    assert!(stale.now().unwrap().is_none() && applied.events.is_empty());
    let ((one_, resumed_now), (two, ended_now)) = (
        interrupt(&resumed, true, "p1"),
        interrupt(&ended, false, "p1"),
    );
    let applied = db.store.apply(vec![one_, two]).await.unwrap();
    assert_eq!(
        resumed_now.now().unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert_eq!(
        ended_now.now().unwrap().unwrap().status,
        JobStatus::Interrupted
    );
    // The resumed job's `job` and `done` (interrupted) and its `job` (queued again) are
    // consecutive events of one commit; the other job ends with its `job` and `done`.
    let kinds: Vec<(JobId, EventType)> = applied
        .events
        .iter()
        .map(|e| (e.event.job_id.clone().unwrap(), e.event.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (resumed.id.clone(), EventType::Job),
            (resumed.id.clone(), EventType::Done),
            (resumed.id.clone(), EventType::Job),
            (ended.id.clone(), EventType::Job),
            (ended.id.clone(), EventType::Done),
        ]
    );
    assert!(ids(&applied.events).windows(2).all(|w| w[1] == w[0] + 1));
    // Queued again, it can be claimed by anyone; interrupted, it stays so.
    let (c, taken) = claiming("p2", 5, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(taken), std::slice::from_ref(&resumed.id));
    assert_eq!(
        db.store
            .job(Some(&named("me")), &ended.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Interrupted
    );
}

pub async fn a_log_is_searched_by_text_and_level_newest_matches_first_kept(db: Db) {
    let job = new_job("batch");
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    let mut changes = Vec::new();
    let lines = [
        (LogLevel::Info, "started 100% of nothing"),
        (LogLevel::Warn, "item 7 failed"),
        (LogLevel::Info, "item 7 retried"),
        (LogLevel::Error, "ITEM 9 crashed"),
        (LogLevel::Warn, "disk_full on item_3"),
    ];
    for (level, line) in lines {
        changes.push(Change::Log {
            owner: named("me"),
            job_id: job.id.clone(),
            level,
            line: line.into(),
            bounds: Default::default(),
            fence: Some(named("p1")),
            answer: Answer::none(),
        });
    }
    db.store.apply(changes).await.unwrap();
    let search = |q: Option<&str>, level: Option<&str>, limit: u32| {
        let filter = model::LogFilter::from_query(q, level);
        let store = db.store.clone();
        let id = job.id.clone();
        async move {
            let (found, n) = store.log_search(&id, &filter, limit).await.unwrap();
            (found.into_iter().map(|l| l.line).collect::<Vec<_>>(), n)
        }
    };
    assert_eq!(
        search(Some("item"), None, 10).await,
        (
            vec![
                "item 7 failed".into(),
                "item 7 retried".into(),
                "ITEM 9 crashed".into(),
                "disk_full on item_3".into()
            ],
            4
        )
    );
    assert_eq!(
        search(Some("item"), None, 2).await,
        (
            vec!["ITEM 9 crashed".into(), "disk_full on item_3".into()],
            4
        ),
        "the newest matches, oldest first"
    );
    assert_eq!(search(None, Some("warn"), 10).await.1, 3);
    assert_eq!(
        search(None, Some("error"), 10).await,
        (vec!["ITEM 9 crashed".into()], 1)
    );
    assert_eq!(
        search(Some("item 7"), Some("warn"), 10).await,
        (vec!["item 7 failed".into()], 1)
    );
    // `%` and `_` are searched for as themselves.
    assert_eq!(
        search(Some("100%"), None, 10).await.0,
        vec!["started 100% of nothing".to_string()]
    );
    assert_eq!(
        search(Some("item_"), None, 10).await.0,
        vec!["disk_full on item_3".to_string()]
    );
    assert_eq!(search(Some("nowhere"), None, 10).await, (vec![], 0));
}

pub async fn a_line_and_a_checkpoint_together_commit_as_one_change(db: Db) {
    let job = new_job("checksum");
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    // The line and the checkpoint, and whether each was taken.
    let together = |line: &str, value: serde_json::Value, by: &str| {
        let (log, logged) = asked(|answer| Change::Log {
            owner: named("me"),
            job_id: job.id.clone(),
            level: LogLevel::Info,
            line: line.into(),
            bounds: Default::default(),
            fence: Some(named(by)),
            answer,
        });
        let (checkpoint, kept) = asked(|answer| Change::Checkpoint {
            job_id: job.id.clone(),
            value,
            fence: Some(named(by)),
            answer,
        });
        let taken = move || [logged.now().unwrap(), kept.now().unwrap()];
        (Change::Together(vec![log, checkpoint]), taken)
    };
    let (change, taken) = together("abc  d0/f000.bin", json!({"files_done": 1}), "p1");
    let applied = db.store.apply(vec![change]).await.unwrap();
    assert_eq!(taken(), [true, true]);
    assert_eq!(applied.events.len(), 1, "the line's event");
    assert_eq!(
        db.store.checkpoint(&job.id).await.unwrap(),
        Some(json!({"files_done": 1}))
    );
    let (lines, total) = db.store.log_tail(&job.id, 10).await.unwrap();
    assert_eq!((lines[0].line.as_str(), total), ("abc  d0/f000.bin", 1));
    // From a process that does not hold the job: neither is written.
    let (change, taken) = together("def  d1/f001.bin", json!({"files_done": 2}), "p2");
    let stale = db.store.apply(vec![change]).await.unwrap();
    assert_eq!(taken(), [false, false]);
    assert!(stale.events.is_empty());
    assert_eq!(
        db.store.checkpoint(&job.id).await.unwrap(),
        Some(json!({"files_done": 1}))
    );
    assert_eq!(db.store.log_tail(&job.id, 10).await.unwrap().1, 1);
}

pub async fn a_job_waiting_for_its_time_is_passed_over_and_out_of_line_until_then(db: Db) {
    let now = now_ms();
    let soon = Job {
        run_after: Some(now + 1_500),
        ..new_job("demo")
    };
    let later = Job {
        run_after: Some(now + 3_600_000),
        ..new_job("demo")
    };
    let past = Job {
        run_after: Some(now - 1_000),
        ..new_job("demo")
    };
    let plain = new_job("demo");
    db.store
        .apply(
            [&soon, &later, &past, &plain]
                .map(|j| create("me", j))
                .into(),
        )
        .await
        .unwrap();
    let stored = db.store.job(None, &soon.id).await.unwrap().unwrap();
    assert_eq!(stored.run_after, soon.run_after, "kept with the job");
    assert_eq!(db.store.next_start().await.unwrap(), soon.run_after);
    // In line: only the jobs whose time has come, the oldest first.
    let standings = db
        .store
        .queue_standings(&[soon.id.clone(), past.id.clone(), plain.id.clone()])
        .await
        .unwrap();
    assert!(standings[0].is_none(), "{standings:?}");
    assert_eq!(standings[1].as_ref().map(|s| s.ahead), Some(0));
    assert_eq!(standings[2].as_ref().map(|s| s.ahead), Some(1));
    // A claim with slots to spare takes those two and leaves the waiting ones.
    let (c, first) = claiming("p", 10, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(first), [past.id.clone(), plain.id.clone()]);
    // Once its time has come, the sooner one is claimed; the later one still waits.
    while now_ms() <= now + 1_500 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(db.store.next_start().await.unwrap(), later.run_after);
    let (c, second) = claiming("p", 10, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(second), vec![soon.id.clone()]);
    // Cancelled while it waits, it no longer wakes anyone.
    db.store
        .apply(vec![to("me", &later, JobStatus::Cancelled)])
        .await
        .unwrap();
    assert_eq!(db.store.next_start().await.unwrap(), None);
}

fn keyed(owner: &str, job: &Job, key: &str, fingerprint: &str) -> (Change, Answered<Created>) {
    asked(|answer| Change::Create {
        owner: named(owner),
        job: job.clone(),
        max_queued: Some(100),
        key: Some(StartKey {
            key: key.into(),
            fingerprint: fingerprint.into(),
        }),
        answer,
    })
}

pub async fn a_start_with_a_key_is_made_once_for_a_day(db: Db) {
    // Two starts with one key in one batch (a double click): one job, one event.
    let (a, b) = (new_job("demo"), new_job("demo"));
    let ((ca, a_made), (cb, b_made)) = (keyed("me", &a, "k1", "f1"), keyed("me", &b, "k1", "f1"));
    let applied = db.store.apply(vec![ca, cb]).await.unwrap();
    let first = made(a_made);
    assert!(matches!(b_made.now().unwrap(), Created::Again(j) if j.id == first.id));
    assert_eq!(applied.events.len(), 1);
    // Sent again later: the same job, as it is now.
    db.store
        .apply(vec![to("me", &a, JobStatus::Running)])
        .await
        .unwrap();
    let (c, later_made) = keyed("me", &new_job("demo"), "k1", "f1");
    let later = db.store.apply(vec![c]).await.unwrap();
    let again = later_made.now().unwrap();
    assert!(
        matches!(&again, Created::Again(j) if j.id == a.id && j.status == JobStatus::Running),
        "{again:?}"
    );
    assert!(later.events.is_empty());
    // The key with other parameters: refused, nothing written.
    let (c, other_made) = keyed("me", &new_job("demo"), "k1", "f2");
    let other = db.store.apply(vec![c]).await.unwrap();
    assert_eq!(other_made.now().unwrap(), Created::KeyTaken);
    assert!(other.events.is_empty());
    // Another user's key of the same name is theirs.
    let (c, yours) = keyed("you", &new_job("demo"), "k1", "f2");
    db.store.apply(vec![c]).await.unwrap();
    assert!(matches!(yours.now().unwrap(), Created::New(_)));
    // A day later, the key starts a new job.
    db.db
        .execute("UPDATE start_keys SET created_at = created_at - 86400001 WHERE owner = 'me'")
        .await;
    let fresh = new_job("demo");
    let (c, next_day) = keyed("me", &fresh, "k1", "f2");
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(made(next_day).id, fresh.id);
    assert_eq!(db.db.count("SELECT COUNT(*) FROM jobs").await, 3);
    // Pruning forgets the keys that no longer hold, and only those.
    db.db
        .execute("UPDATE start_keys SET created_at = created_at - 86400001 WHERE owner = 'you'")
        .await;
    db.store
        .apply(vec![Change::Prune {
            before_ms: 0,
            limit: 10,
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    assert_eq!(
        db.db.count("SELECT COUNT(*) FROM start_keys").await,
        1,
        "only me's fresh key is left"
    );
}

fn pause(kind: &str, by: &str) -> (Change, Answered<KindPause>) {
    asked(|answer| Change::Pause {
        kind: kind.into(),
        by: by.into(),
        answer,
    })
}

fn resume(kind: &str) -> (Change, Answered<bool>) {
    asked(|answer| Change::Resume {
        kind: kind.into(),
        answer,
    })
}

pub async fn a_paused_kind_is_passed_over_by_claims_and_out_of_line_until_resumed(db: Db) {
    let (demo, batch) = (new_job("demo"), new_job("batch"));
    db.store
        .apply(vec![create("me", &demo), create("me", &batch)])
        .await
        .unwrap();
    // Paused twice: the first pause stays, with its time and who made it.
    let paused = all(&db, vec![pause("demo", "otto"), pause("demo", "ada")]).await;
    let first = paused[0].clone();
    assert_eq!(paused[1], first);
    assert_eq!(
        (first.kind.as_str(), first.paused_by.as_str()),
        ("demo", "otto")
    );
    assert_eq!(db.store.kind_pauses().await.unwrap(), vec![first.clone()]);
    // A job of the paused kind has no place in line; the other kind's job is first.
    let standings = db
        .store
        .queue_standings(&[demo.id.clone(), batch.id.clone()])
        .await
        .unwrap();
    assert!(standings[0].is_none(), "{standings:?}");
    assert_eq!(standings[1].as_ref().map(|s| s.ahead), Some(0));
    // Claims take the other kind only, and with every kind paused, nothing.
    let (c, claims) = claiming("p1", 5, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(claims), vec![batch.id.clone()]);
    db.store
        .apply(vec![resume("demo").0, pause("*", "otto").0])
        .await
        .unwrap();
    let (c, none) = claiming("p1", 5, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert!(claimed(none).is_empty());
    // Resumed: the job is claimed.
    let resumed = all(&db, vec![resume("*"), resume("*")]).await;
    assert_eq!(resumed, [true, false]);
    let (c, claims) = claiming("p1", 5, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(claims), vec![demo.id.clone()]);
    assert!(db.store.kind_pauses().await.unwrap().is_empty());
}

fn retry(job: &Job, by: &str, code: &str, wait_ms: i64) -> (Change, Answered<Option<Job>>) {
    asked(|answer| Change::Retry {
        owner: named("me"),
        job_id: job.id.clone(),
        error: JobError::new(code, format!("{code} happened")),
        wait_ms,
        reset_progress: true,
        fence: Some(named(by)),
        answer,
    })
}

fn log(job: &Job, by: &str, line: &str) -> Change {
    Change::Log {
        owner: named("me"),
        job_id: job.id.clone(),
        level: LogLevel::Info,
        line: line.into(),
        bounds: Default::default(),
        fence: Some(named(by)),
        answer: Answer::none(),
    }
}

pub async fn a_failed_attempt_is_queued_again_keeping_the_attempts_and_their_lines(db: Db) {
    let job = Job {
        max_attempts: 3,
        ..new_job("demo")
    };
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    let later = 3_600_000;
    db.store
        .apply(vec![
            log(&job, "p1", "first try"),
            Change::Progress {
                owner: named("me"),
                job_id: job.id.clone(),
                progress: Progress {
                    current: 2,
                    total: Some(3),
                    ..Default::default()
                },
                fence: Some(named("p1")),
                answer: Answer::none(),
            },
        ])
        .await
        .unwrap();
    // Another process's retry is refused; the runner's queues it again, with its `job` event.
    let (c, refused) = retry(&job, "p2", "timeout", later);
    let stale = db.store.apply(vec![c]).await.unwrap();
    assert!(refused.now().unwrap().is_none() && stale.events.is_empty());
    let (c, retried) = retry(&job, "p1", "timeout", later);
    let applied = db.store.apply(vec![c]).await.unwrap();
    let waiting = retried.now().unwrap().unwrap();
    assert_eq!(waiting.status, JobStatus::Queued);
    assert_eq!((waiting.attempt, waiting.max_attempts), (2, 3));
    // The wait counts from the commit that records the failed attempt's end.
    let failed_at = waiting.attempts[0].finished_at.unwrap();
    assert_eq!(waiting.next_attempt_at, Some(failed_at + later));
    assert_eq!((waiting.started_at, waiting.progress.current), (None, 0));
    assert_eq!(waiting.error.as_ref().unwrap().code, "timeout");
    let first = &waiting.attempts[..];
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].n, 1);
    assert_eq!(first[0].error.as_ref().unwrap().code, "timeout");
    assert!(first[0].finished_at.unwrap() >= first[0].started_at);
    assert_eq!(applied.events.len(), 1);
    assert_eq!(applied.events[0].event.kind, EventType::Job);
    // It waits for its time: claims pass it over until then.
    let (c, none) = claiming("p1", 1, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert!(claimed(none).is_empty());
    db.db
        .execute(&format!(
            "UPDATE jobs SET run_after = 1 WHERE id = '{}'",
            job.id
        ))
        .await;
    let (c, again) = claiming("p1", 1, &[]);
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(claimed(again), vec![job.id.clone()]);
    db.store
        .apply(vec![
            log(&job, "p1", "second try"),
            retry(&job, "p1", "crashed", later).0,
        ])
        .await
        .unwrap();
    db.db
        .execute(&format!(
            "UPDATE jobs SET run_after = 1 WHERE id = '{}'",
            job.id
        ))
        .await;
    db.store.apply(vec![claim("p1", 1, &[])]).await.unwrap();
    // The last attempt may not be tried again: the runner records its end instead.
    let (c, last) = retry(&job, "p1", "crashed", later);
    db.store
        .apply(vec![log(&job, "p1", "third try"), c])
        .await
        .unwrap();
    let last = last.now().unwrap();
    assert!(last.is_none(), "{last:?}");
    let (_, ended) = one(&db, |answer| Change::Transition {
        owner: named("me"),
        job_id: job.id.clone(),
        to: JobStatus::Failed,
        error: Some(JobError::new("crashed", "again")),
        fence: Some(named("p1")),
        answer,
    })
    .await;
    let ended = ended.unwrap();
    let ns: Vec<u32> = ended.attempts.iter().map(|a| a.n).collect();
    assert_eq!(ns, [1, 2, 3]);
    assert!(ended.attempts.iter().all(|a| a.error.is_some()));
    // Each attempt names the process that ran it, the last one too once the job has ended.
    let p1 = named::<ProcessId>("p1").to_string();
    assert!(
        ended
            .attempts
            .iter()
            .all(|a| a.on.as_deref() == Some(p1.as_str())),
        "{:?}",
        ended.attempts
    );
    assert_eq!(ended.attempt, 3);
    // Every attempt's lines are kept, each with its attempt.
    let (lines, total) = db.store.log_tail(&job.id, 10).await.unwrap();
    let got: Vec<(u32, &str)> = lines.iter().map(|l| (l.attempt, l.line.as_str())).collect();
    assert_eq!(got, [(1, "first try"), (2, "second try"), (3, "third try")]);
    assert_eq!(total, 3);
}

fn schedule_row(id: &str, owner: &str, next: i64) -> ScheduleRow {
    ScheduleRow {
        id: named(id),
        owner: named(owner),
        owner_name: None,
        name: None,
        kind: "demo".into(),
        params: r#"{"steps":1}"#.into(),
        cron: "* * * * *".into(),
        timezone: "UTC".into(),
        enabled: true,
        overlap: "skip".into(),
        catch_up: "skip".into(),
        max_attempts: None,
        next_fire_at: Some(next),
        last_job_id: None,
        last_fire_at: None,
        last_skip: None,
        created_at: 1,
        updated_at: 1,
        priority: None,
    }
}

fn fire(
    schedule: &str,
    due: i64,
    owner: &str,
    job: Option<&Job>,
    skip_if_busy: bool,
) -> (Change, Answered<Option<Fired>>) {
    let fire = Fire {
        schedule_id: named(schedule),
        due,
        next: Some(due + 60_000),
        job: job.map(|j| {
            (
                named::<UserId>(owner),
                Job {
                    schedule_id: Some(named(schedule)),
                    scheduled_for: Some(due),
                    ..j.clone()
                },
            )
        }),
        run: None,
        skip_if_busy,
        max_queued: None,
        skipped: None,
    };
    asked(|answer| Change::Fire { fire, answer })
}

/// What a fire time did (`None`: it was not the schedule's time any more).
fn fired(answered: Answered<Option<Fired>>) -> Option<Fired> {
    answered.now().unwrap()
}

pub async fn a_fire_time_starts_one_job_and_moves_its_schedule_on_in_one_commit(db: Db) {
    let s = "5e3c1a00-0000-4000-8000-000000000001";
    let due = 1_000_000;
    db.store
        .apply(vec![Change::PutSchedule {
            answer: Answer::none(),
            row: schedule_row(s, "me", due),
        }])
        .await
        .unwrap();
    assert_eq!(db.store.next_fire().await.unwrap(), Some(due));
    assert_eq!(db.store.due_schedules(due - 1, 10).await.unwrap(), vec![]);
    assert_eq!(db.store.due_schedules(due, 10).await.unwrap().len(), 1);
    // Two processes fire the same time, here in one batch: one job; the second finds the
    // schedule moved on and writes nothing.
    let (a, b) = (new_job("demo"), new_job("demo"));
    let ((fa, a_fired), (fb, b_fired)) = (
        fire(s, due, "me", Some(&a), true),
        fire(s, due, "me", Some(&b), true),
    );
    let applied = db.store.apply(vec![fa, fb]).await.unwrap();
    let first = fired(a_fired).expect("the first fire");
    let job = first.job.expect("its job");
    assert_eq!(
        (job.schedule_id.as_deref(), job.scheduled_for),
        (Some(s), Some(due))
    );
    assert!(fired(b_fired).is_none());
    assert_eq!(applied.events.len(), 1);
    let row = db.store.schedule(&named(s)).await.unwrap().unwrap();
    assert_eq!(row.next_fire_at, Some(due + 60_000));
    assert_eq!(
        (row.last_fire_at, row.last_job_id.as_deref()),
        (Some(due), Some(a.id.as_str()))
    );
    assert_eq!(row.last_skip, None);
    // The next time, while that job still waits: skipped, with the reason kept.
    let (f, skipped) = fire(s, due + 60_000, "me", Some(&new_job("demo")), true);
    db.store.apply(vec![f]).await.unwrap();
    let skipped = fired(skipped).unwrap();
    assert!(skipped.job.is_none());
    assert!(
        skipped
            .skipped
            .as_deref()
            .unwrap()
            .contains("still queued or running"),
        "{skipped:?}"
    );
    let row = db.store.schedule(&named(s)).await.unwrap().unwrap();
    assert!(row.last_skip.is_some() && row.next_fire_at == Some(due + 120_000));
    // Overlap "start": a job anyway. One fire time can never hold two jobs, even written by
    // hand: the database refuses it.
    let c = new_job("demo");
    let (f, started) = fire(s, due + 120_000, "me", Some(&c), false);
    db.store.apply(vec![f]).await.unwrap();
    assert!(fired(started).unwrap().job.is_some());
    let twice = Job {
        schedule_id: Some(named(s)),
        scheduled_for: Some(due + 120_000),
        ..new_job("demo")
    };
    let (second, refused) = creating("me", &twice);
    let applied = db.store.apply(vec![second]).await.unwrap();
    let refused = refused.now();
    assert!(refused.is_err() && applied.failed == 1, "{refused:?}");
    // "Run now": a job of the schedule without a fire time, its last job from then on.
    let now = Job {
        schedule_id: Some(named(s)),
        ..new_job("demo")
    };
    db.store.apply(vec![create("me", &now)]).await.unwrap();
    let row = db.store.schedule(&named(s)).await.unwrap().unwrap();
    assert_eq!(row.last_job_id.as_deref(), Some(now.id.as_str()));
    // The history of one schedule.
    let filter = JobFilter {
        schedule: Some(named(s)),
        limit: 10,
        ..Default::default()
    };
    let ids: Vec<JobId> = db
        .store
        .list_jobs(None, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(ids, vec![now.id.clone(), c.id.clone(), a.id.clone()]);
    // Paused, it is not due and a fire finds it so; a change keeps what its fires recorded.
    let paused = ScheduleRow {
        enabled: false,
        cron: "@daily".into(),
        ..row.clone()
    };
    db.store
        .apply(vec![Change::PutSchedule {
            answer: Answer::none(),
            row: paused,
        }])
        .await
        .unwrap();
    let due_now = row.next_fire_at.unwrap();
    assert!(db
        .store
        .due_schedules(i64::MAX, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(db.store.next_fire().await.unwrap(), None);
    let (f, none) = fire(s, due_now, "me", Some(&new_job("demo")), false);
    db.store.apply(vec![f]).await.unwrap();
    assert!(fired(none).is_none());
    let row = db.store.schedule(&named(s)).await.unwrap().unwrap();
    assert_eq!((row.cron.as_str(), row.enabled), ("@daily", false));
    assert_eq!(row.last_job_id.as_deref(), Some(now.id.as_str()));
    // Owners: each sees their own, everyone's with `None`; deleted, it is gone, its jobs stay.
    db.store
        .apply(vec![Change::PutSchedule {
            answer: Answer::none(),
            row: schedule_row("5e3c1a00-0000-4000-8000-000000000002", "you", due),
        }])
        .await
        .unwrap();
    assert_eq!(
        db.store.schedules(Some(&named("me"))).await.unwrap().len(),
        1
    );
    assert_eq!(db.store.schedules(None).await.unwrap().len(), 2);
    let delete = || {
        asked(|answer| Change::DeleteSchedule {
            id: named(s),
            answer,
        })
    };
    let deleted = all(&db, vec![delete(), delete()]).await;
    assert_eq!(deleted, [true, false]);
    assert!(db.store.schedule(&named(s)).await.unwrap().is_none());
    assert_eq!(db.store.list_jobs(None, &filter).await.unwrap().len(), 3);
}

pub async fn a_schedule_is_read_with_its_owners_name(db: Db) {
    db.store
        .create_user(&UserRow {
            id: named("u-ada"),
            name: "ada".into(),
            role: "member".into(),
            password_hash: "x".into(),
            disabled: false,
            generation: 0,
            created_at: 1,
        })
        .await
        .unwrap();
    db.store
        .apply(vec![
            Change::PutSchedule {
                answer: Answer::none(),
                row: schedule_row("5e3c1a00-0000-4000-8000-000000000003", "u-ada", 5),
            },
            Change::PutSchedule {
                answer: Answer::none(),
                row: schedule_row("5e3c1a00-0000-4000-8000-000000000004", "anon", 5),
            },
        ])
        .await
        .unwrap();
    let names: Vec<Option<String>> = db
        .store
        .schedules(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.owner_name)
        .collect();
    assert_eq!(names, vec![Some("ada".to_string()), None]);

    // A name given is kept, changed and taken away again.
    let id = "5e3c1a00-0000-4000-8000-000000000003";
    for name in [Some("nightly import"), Some("hourly import"), None] {
        let mut row = schedule_row(id, "u-ada", 5);
        row.name = name.map(String::from);
        db.store
            .apply(vec![Change::PutSchedule {
                answer: Answer::none(),
                row,
            }])
            .await
            .unwrap();
        let read = db.store.schedule(&named(id)).await.unwrap().unwrap();
        assert_eq!(read.name.as_deref(), name);
    }
}

fn output(name: &str, size: u64) -> model::Output {
    model::Output {
        name: name.into(),
        size,
        content_type: "text/csv".into(),
        created_at: now_ms(),
    }
}

fn attach(job: &Job, by: &str, what: Attachment) -> Change {
    attaching(job, by, what).0
}

fn attaching(job: &Job, by: &str, what: Attachment) -> (Change, Answered<Attached>) {
    asked(|answer| Change::Attach {
        owner: named("me"),
        job_id: job.id.clone(),
        what,
        fence: Some(named(by)),
        answer,
    })
}

pub async fn a_running_job_lists_its_outputs_by_name_and_sets_its_result_with_job_events(db: Db) {
    let job = new_job("checksum");
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    // Only the process holding the job attaches to it.
    let (c, stale_now) = attaching(
        &job,
        "p2",
        Attachment::Output {
            output: output("a.csv", 1),
            most: 1000,
            quota: u64::MAX,
        },
    );
    let stale = db.store.apply(vec![c]).await.unwrap();
    assert_eq!(stale_now.now().unwrap(), Attached::NotRunning);
    assert!(stale.events.is_empty());

    let written = db
        .store
        .apply(vec![
            attach(
                &job,
                "p1",
                Attachment::Output {
                    output: output("a.csv", 1),
                    most: 1000,
                    quota: u64::MAX,
                },
            ),
            attach(
                &job,
                "p1",
                Attachment::Output {
                    output: output("b.csv", 2),
                    most: 1000,
                    quota: u64::MAX,
                },
            ),
            // The same name again replaces the first, in its place.
            attach(
                &job,
                "p1",
                Attachment::Output {
                    output: output("a.csv", 3),
                    most: 1000,
                    quota: u64::MAX,
                },
            ),
            attach(&job, "p1", Attachment::Result(json!({"rows": 7}))),
        ])
        .await
        .unwrap();
    assert_eq!(written.events.len(), 4);
    let kinds: Vec<EventType> = written.events.iter().map(|e| e.event.kind).collect();
    assert_eq!(
        kinds,
        [
            EventType::Output,
            EventType::Output,
            EventType::Output,
            EventType::Job
        ]
    );
    // Each output's event carries that output alone.
    let replaced: model::OutputEvent = serde_json::from_str(&written.events[2].event.data).unwrap();
    assert_eq!(
        (replaced.output.name.as_str(), replaced.output.size),
        ("a.csv", 3)
    );
    assert_eq!(replaced.job_id, job.id);
    let last: Job = serde_json::from_str(&written.events[3].event.data).unwrap();
    let listed: Vec<(&str, u64)> = last
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.size))
        .collect();
    assert_eq!(listed, [("a.csv", 3), ("b.csv", 2)]);
    assert_eq!(last.result, Some(json!({"rows": 7})));
    assert_eq!(last.event_id, written.events[3].event.id);

    // A new name past the job's bound is refused, and nothing is written.
    let (c, full_now) = attaching(
        &job,
        "p1",
        Attachment::Output {
            output: output("c.csv", 1),
            most: 2,
            quota: u64::MAX,
        },
    );
    let full = db.store.apply(vec![c]).await.unwrap();
    assert_eq!(full_now.now().unwrap(), Attached::Full(2));
    assert!(full.events.is_empty());

    // The bytes the job lists count in its owner's totals, a replaced output's once; an output
    // that would take them past the quota is refused (a replacement counts only what it
    // adds), and nothing is written.
    let me: UserId = named("me");
    assert_eq!(db.store.upload_totals(&me).await.unwrap(), (0, 5));
    let over = |name: &str, size: u64| Attachment::Output {
        output: output(name, size),
        most: 1000,
        quota: 6,
    };
    let (c, over_now) = attaching(&job, "p1", over("c.csv", 2));
    let refused = db.store.apply(vec![c]).await.unwrap();
    assert_eq!(over_now.now().unwrap(), Attached::OverQuota(5));
    assert!(refused.events.is_empty());
    let (c, over_now) = attaching(&job, "p1", over("a.csv", 5));
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(over_now.now().unwrap(), Attached::OverQuota(5));
    assert_eq!(db.store.upload_totals(&me).await.unwrap(), (0, 5));

    // The job as read back is the same, and once it ended nothing more is attached.
    db.store
        .apply(vec![to("me", &job, JobStatus::Succeeded)])
        .await
        .unwrap();
    let (c, late_now) = attaching(&job, "p1", Attachment::Result(json!({"rows": 8})));
    db.store.apply(vec![c]).await.unwrap();
    assert_eq!(late_now.now().unwrap(), Attached::NotRunning);
    let read = db
        .store
        .job(Some(&named("me")), &job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.outputs, last.outputs);
    assert_eq!(read.result, Some(json!({"rows": 7})));

    // Outputs of jobs that ended before the cut-off are forgotten, a bounded number at a time.
    assert!(db.store.expire_outputs(0, 10).await.unwrap().is_empty());
    let expired = db.store.expire_outputs(now_ms() + 1, 10).await.unwrap();
    assert_eq!(expired, vec![job.id.clone()]);
    let read = db.store.job(None, &job.id).await.unwrap().unwrap();
    assert!(read.outputs.is_empty());
    assert_eq!(read.result, Some(json!({"rows": 7})), "the result stays");
    // Forgotten, they no longer count.
    assert_eq!(db.store.upload_totals(&me).await.unwrap(), (0, 0));
}

fn upload(size: u64, at: i64) -> model::Upload {
    model::Upload {
        id: model::UploadId::random(),
        name: "people.csv".into(),
        size,
        sha256: "ab".repeat(32),
        content_type: "text/csv".into(),
        looks_like: "text".into(),
        created_at: at,
        used_at: None,
    }
}

pub async fn uploads_are_kept_within_their_owners_quota_and_swept_when_stale(db: Db) {
    use store_core::UploadAdded::{Added, OverQuota, TooMany};
    let (me, other): (UserId, UserId) = (named("me"), named("other"));
    let first = upload(60, 1_000);
    assert_eq!(
        db.store.add_upload(&me, &first, 100, 3).await.unwrap(),
        Added
    );
    // Past the quota: refused, nothing written; another user's quota is their own.
    assert_eq!(
        db.store
            .add_upload(&me, &upload(41, 2_000), 100, 3)
            .await
            .unwrap(),
        OverQuota
    );
    let second = upload(40, 2_000);
    assert_eq!(
        db.store.add_upload(&me, &second, 100, 3).await.unwrap(),
        Added
    );
    assert_eq!(
        db.store
            .add_upload(&other, &upload(100, 3_000), 100, 3)
            .await
            .unwrap(),
        Added
    );
    // Running totals, and a bound on the number of uploads.
    assert_eq!(db.store.upload_totals(&me).await.unwrap(), (2, 100));
    let small = |at| upload(0, at);
    assert_eq!(
        db.store
            .add_upload(&other, &small(20_000), 100, 2)
            .await
            .unwrap(),
        Added
    );
    assert_eq!(
        db.store
            .add_upload(&other, &small(20_100), 100, 2)
            .await
            .unwrap(),
        TooMany
    );
    assert_eq!(db.store.upload_totals(&other).await.unwrap(), (2, 100));

    let (owner, read) = db.store.upload(&first.id).await.unwrap().unwrap();
    assert_eq!((owner, read), (me.clone(), first.clone()));
    let mine: Vec<_> = db.store.uploads_of(&me, None, 10).await.unwrap();
    assert_eq!(
        mine.iter().map(|u| &u.id).collect::<Vec<_>>(),
        [&second.id, &first.id],
        "newest first"
    );
    // Paged: one at a time, each page after the last of the one before.
    let page = db.store.uploads_of(&me, None, 1).await.unwrap();
    assert_eq!(page.iter().map(|u| &u.id).collect::<Vec<_>>(), [&second.id]);
    let page = db.store.uploads_of(&me, Some(&second.id), 1).await.unwrap();
    assert_eq!(page.iter().map(|u| &u.id).collect::<Vec<_>>(), [&first.id]);
    assert!(db
        .store
        .uploads_of(&me, Some(&first.id), 1)
        .await
        .unwrap()
        .is_empty());

    // A used upload is not deleted by its owner; an unused one is.
    db.store
        .use_uploads(std::slice::from_ref(&first.id), 5_000)
        .await
        .unwrap();
    assert_eq!(
        db.store.upload(&first.id).await.unwrap().unwrap().1.used_at,
        Some(5_000)
    );
    assert!(!db.store.delete_unused_upload(&first.id).await.unwrap());
    assert!(db.store.delete_unused_upload(&second.id).await.unwrap());
    assert!(db.store.upload(&second.id).await.unwrap().is_none());
    assert_eq!(
        db.store.upload_totals(&me).await.unwrap(),
        (1, 60),
        "a delete gives back"
    );

    // Stale: unused and older than the first cut-off, or last used before the second.
    let third = upload(10, 10_000);
    assert_eq!(
        db.store.add_upload(&me, &third, 100, 3).await.unwrap(),
        Added
    );
    let swept = db
        .store
        .delete_stale_uploads(5_000, 5_000, 10)
        .await
        .unwrap();
    assert_eq!(
        swept.len(),
        1,
        "the other user's unused upload of 3_000: {swept:?}"
    );
    assert!(db.store.upload(&first.id).await.unwrap().is_some());
    let swept = db
        .store
        .delete_stale_uploads(5_000, 6_000, 10)
        .await
        .unwrap();
    assert_eq!(swept, vec![first.id.clone()]);
    assert!(db.store.upload(&third.id).await.unwrap().is_some());
}

pub async fn the_file_store_recorded_first_is_the_one_every_process_is_told(db: Db) {
    assert_eq!(db.store.file_store_id("a", 1).await.unwrap(), "a");
    assert_eq!(db.store.file_store_id("b", 2).await.unwrap(), "a");
}

pub async fn a_jobs_log_is_bounded_per_line_and_in_all_whatever_writes_it(db: Db) {
    let job = new_job("batch");
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    let bounds = store_core::LogBounds {
        line_bytes: 100,
        job_bytes: 250,
    };
    let line = |text: String| {
        asked(|answer| Change::Log {
            owner: named("me"),
            job_id: job.id.clone(),
            level: LogLevel::Info,
            line: text,
            bounds,
            fence: Some(named("p1")),
            answer,
        })
    };
    // 100 bytes (cut from 500), 100, then one that would pass 250, then more: dropped.
    let (changes, taken): (Vec<_>, Vec<_>) = [
        line("é".repeat(250)),
        line("b".repeat(100)),
        line("c".repeat(60)),
        line("d".repeat(10)),
        line("e".repeat(10)),
    ]
    .into_iter()
    .unzip();
    let written = db.store.apply(changes).await.unwrap();
    assert!(taken.into_iter().all(|t| t.now().unwrap()));
    assert_eq!(written.events.len(), 3, "no event for a dropped line");
    let lines = db.store.log_lines(&job.id, 0, 100).await.unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(texts.len(), 3);
    assert!(texts[0].len() <= 100 && texts[0].ends_with(store_core::LINE_CUT));
    assert_eq!(texts[1], "b".repeat(100));
    assert!(texts[2].starts_with("log cut"), "{}", texts[2]);
    assert_eq!(lines[2].level, LogLevel::Warn);
    let seqs: Vec<u64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [1, 2, 3], "no gap for the dropped lines");
    // A later line is still dropped, and the job's latest event is its last kept line's.
    db.store.apply(vec![line("f".into()).0]).await.unwrap();
    assert_eq!(db.store.log_lines(&job.id, 0, 100).await.unwrap().len(), 3);
    let read = db.store.job(None, &job.id).await.unwrap().unwrap();
    assert_eq!(read.event_id, written.events[2].event.id);
}

pub async fn failures_are_grouped_by_kind_and_code_and_filtered_by_code(db: Db) {
    let failed = |owner: &str, job: &Job, code: &str, message: &str| {
        vec![
            create(owner, job),
            to(owner, job, JobStatus::Running),
            Change::Transition {
                fence: None,
                owner: named(owner),
                job_id: job.id.clone(),
                to: JobStatus::Failed,
                error: Some(JobError::new(code, message)),
                answer: Answer::none(),
            },
        ]
    };
    let jobs: Vec<Job> = ["import_csv", "import_csv", "import_csv", "demo", "demo"]
        .into_iter()
        .map(new_job)
        .collect();
    let mut changes = Vec::new();
    changes.extend(failed("me", &jobs[0], "bad_header", "first"));
    changes.extend(failed("me", &jobs[1], "bad_header", "second"));
    changes.extend(failed("me", &jobs[2], "too_big", "big"));
    changes.extend(failed("someone", &jobs[3], "bad_header", "not mine"));
    // A cancel is no failure.
    changes.extend([
        create("me", &jobs[4]),
        to("me", &jobs[4], JobStatus::Cancelled),
    ]);
    for change in changes {
        db.store.apply(vec![change]).await.unwrap();
    }
    let groups = db
        .store
        .failure_groups(Some(&named("me")), now_ms() - 86_400_000, 10)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>, u64)> = groups
        .iter()
        .map(|g| (g.kind.as_str(), g.error_code.as_deref(), g.count))
        .collect();
    // The group whose failure is the newest first.
    assert_eq!(
        seen,
        [
            ("import_csv", Some("too_big"), 1),
            ("import_csv", Some("bad_header"), 2)
        ]
    );
    assert_eq!(groups[1].last_job, jobs[1].id);
    assert_eq!(groups[1].last_message.as_deref(), Some("second"));
    let everyone = db
        .store
        .failure_groups(None, now_ms() - 86_400_000, 10)
        .await
        .unwrap();
    assert_eq!(everyone.len(), 3);
    // Only failures since the time asked, and at most the groups asked.
    let later = db
        .store
        .failure_groups(Some(&named("me")), now_ms() + 60_000, 10)
        .await
        .unwrap();
    assert!(later.is_empty());
    assert_eq!(
        db.store
            .failure_groups(None, now_ms() - 86_400_000, 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // The history filtered on an error code.
    let filter = JobFilter {
        error_code: Some("bad_header".into()),
        limit: 10,
        ..JobFilter::default()
    };
    assert_eq!(
        listed(&db, "me", &filter).await,
        [jobs[1].id.clone(), jobs[0].id.clone()]
    );
}

pub async fn who_started_a_job_and_who_cancelled_it_are_kept_with_it(db: Db) {
    let mia = model::Actor {
        name: "mia".into(),
        token: Some("deploy".into()),
    };
    let (waiting, running) = (
        Job {
            started_by: Some(mia.clone()),
            ..new_job("demo")
        },
        new_job("demo"),
    );
    db.store
        .apply(vec![
            create("me", &running),
            claim("p1", 1, &[]),
            create("me", &waiting),
        ])
        .await
        .unwrap();
    let read = |id: &JobId| {
        let id = id.clone();
        let s = &db.store;
        async move { s.job(None, &id).await.unwrap().unwrap() }
    };
    assert_eq!(read(&waiting.id).await.started_by, Some(mia.clone()));
    assert_eq!(read(&running.id).await.started_by, None);
    let ada = model::Actor {
        name: "ada".into(),
        token: None,
    };
    // A cancel of a waiting job ends it; of a running one asks it to stop: both keep who asked.
    for (job, to) in [
        (&waiting, JobStatus::Cancelled),
        (&running, JobStatus::Cancelling),
    ] {
        let (_, moved) = one(&db, |answer| Change::Cancel {
            owner: named("me"),
            job_id: job.id.clone(),
            to,
            by: Some(ada.clone()),
            answer,
        })
        .await;
        let moved = moved.unwrap();
        assert_eq!(
            (moved.status, moved.cancelled_by.as_ref()),
            (to, Some(&ada))
        );
        assert_eq!(read(&job.id).await.cancelled_by, Some(ada.clone()));
    }
    // The runner's end of the cancelled job keeps it, and where the job ran.
    let (_, ended) = one(&db, |answer| Change::Transition {
        owner: named("me"),
        job_id: running.id.clone(),
        to: JobStatus::Cancelled,
        error: None,
        fence: Some(named("p1")),
        answer,
    })
    .await;
    let ended = ended.unwrap();
    assert_eq!(ended.cancelled_by, Some(ada));
    assert_eq!(
        ended.attempts[0].on.as_deref(),
        Some(named::<ProcessId>("p1").to_string().as_str())
    );
    // A cancel of a job that has ended changes nothing.
    let (_, refused) = one(&db, |answer| Change::Cancel {
        owner: named("me"),
        job_id: running.id.clone(),
        to: JobStatus::Cancelling,
        by: None,
        answer,
    })
    .await;
    assert!(refused.is_none());
}

pub async fn headways_words_are_kept_beside_a_jobs_message_and_its_errors(db: Db) {
    let job = Job {
        max_attempts: 2,
        ..new_job("demo")
    };
    db.store
        .apply(vec![create("me", &job), claim("p1", 1, &[])])
        .await
        .unwrap();
    let read = || {
        let (s, id) = (&db.store, job.id.clone());
        async move { s.job(None, &id).await.unwrap().unwrap() }
    };
    let mut progress = Progress {
        current: 3,
        total: Some(10),
        ..Default::default()
    };
    progress.say(model::words::jobs::step_of(3, 10));
    let (applied, took) = one(&db, |answer| Change::Progress {
        owner: named("me"),
        job_id: job.id.clone(),
        progress: progress.clone(),
        fence: Some(named("p1")),
        answer,
    })
    .await;
    assert!(took);
    let stored = read().await;
    assert_eq!(stored.progress.message, "step 3 of 10");
    assert_eq!(stored.progress.said, progress.said);
    // The stream's event carries them too.
    let event: model::ProgressEvent = serde_json::from_str(&applied.events[0].event.data).unwrap();
    assert_eq!(event.said, progress.said);
    // A program's own message has none: the words go with the message they said.
    progress.set_text("copying".into());
    db.store
        .apply(vec![Change::Progress {
            owner: named("me"),
            job_id: job.id.clone(),
            progress,
            fence: Some(named("p1")),
            answer: Answer::none(),
        }])
        .await
        .unwrap();
    assert_eq!(read().await.progress.said, None);

    // An attempt that failed in words keeps them, in the job and in its attempts.
    let lost = JobError::words("interrupted", model::words::jobs::attempt_lost());
    let (c, retried) = asked(|answer| Change::Retry {
        owner: named("me"),
        job_id: job.id.clone(),
        error: lost.clone(),
        wait_ms: 0,
        reset_progress: true,
        fence: Some(named("p1")),
        answer,
    });
    db.store.apply(vec![c]).await.unwrap();
    let waiting = retried.now().unwrap().unwrap();
    assert_eq!(waiting.error.as_ref(), Some(&lost));
    assert_eq!(waiting.attempts[0].error.as_ref(), Some(&lost));
    db.db
        .execute(&format!(
            "UPDATE jobs SET run_after = 1 WHERE id = '{}'",
            job.id
        ))
        .await;
    db.store.apply(vec![claim("p1", 1, &[])]).await.unwrap();
    let exited = JobError::words("exit_7", model::words::jobs::exited(7));
    let (_, ended) = one(&db, |answer| Change::Transition {
        owner: named("me"),
        job_id: job.id.clone(),
        to: JobStatus::Failed,
        error: Some(exited.clone()),
        fence: Some(named("p1")),
        answer,
    })
    .await;
    assert_eq!(ended.unwrap().error, Some(exited.clone()));
    let stored = read().await;
    assert_eq!(stored.error, Some(exited.clone()));
    assert_eq!(stored.attempts[0].error.as_ref(), Some(&lost));
    assert_eq!(stored.attempts[1].error.as_ref(), Some(&exited));
    // The failure groups say the newest failure's words.
    let groups = db.store.failure_groups(None, 0, 10).await.unwrap();
    assert_eq!(groups[0].last_said, exited.said);
}
