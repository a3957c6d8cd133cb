//! The history as the dashboard reads it, against a real SQLite store: pages both ways, filters,
//! search, counts kept by triggers, the per-minute chart, timelines and notices.

use crate::store::{Access, Store};
use crate::{now_ms, Caller, EngineConfig, Jobs as Engine};
use model::ids::testing::named;
use model::{
    EventType, HistoryQuery, Job, JobError, JobId, JobStatus, LogFilter, Progress, StatusCount,
    UserId,
};

const ME: &str = "me";

fn me() -> Caller {
    Caller::new(named(ME))
}

fn them() -> Caller {
    Caller::new(named("them"))
}

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &format!("sqlite://{}/h.db", dir.path().display()),
        Access::Exclusive,
    )
    .await
    .unwrap();
    // Nothing runs: the tests move their jobs themselves.
    let config = EngineConfig {
        data_root: dir.path().join("files"),
        runs_jobs: false,
        ..EngineConfig::default()
    };
    let engine = Engine::start(store, config).await.unwrap();
    Fixture { _dir: dir, engine }
}

/// Stores a queued job without running it.
async fn add(engine: &Engine, owner: &str, kind: &str) -> Job {
    let job = Job::queued(JobId::random(), kind, serde_json::json!({}), now_ms());
    engine
        .inner
        .committer
        .create(&named(owner), job)
        .await
        .unwrap()
}

async fn finish(engine: &Engine, owner: &str, id: &JobId, status: JobStatus) {
    let (w, owner) = (&engine.inner.committer, &named::<UserId>(owner));
    w.transition(owner, id, JobStatus::Running, None, None)
        .await
        .unwrap()
        .unwrap();
    let error = (status == JobStatus::Failed).then(|| JobError::new("boom", "disk quota exceeded"));
    w.transition(owner, id, status, error, None)
        .await
        .unwrap()
        .unwrap();
}

fn ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|j| j.id.clone()).collect()
}

fn query(limit: u32) -> HistoryQuery {
    HistoryQuery {
        limit: Some(limit),
        ..HistoryQuery::default()
    }
}

#[tokio::test]
async fn pages_walk_older_and_back_newer() {
    let f = fixture().await;
    let mut all = Vec::new();
    for _ in 0..7 {
        all.push(add(&f.engine, ME, "demo").await.id);
    }
    all.reverse(); // newest first, as listed
    let e = &f.engine;

    let first = e.history_page(&me(), &query(3)).await.unwrap();
    assert_eq!(ids(&first.jobs), all[0..3]);
    assert_eq!(
        (first.prev.as_deref(), first.next.as_deref()),
        (None, Some(all[2].as_str()))
    );

    let second = e
        .history_page(&me(), &query(3).page(first.next.clone(), None))
        .await
        .unwrap();
    assert_eq!(ids(&second.jobs), all[3..6]);
    assert_eq!(second.prev.as_deref(), Some(all[3].as_str()));

    let last = e
        .history_page(&me(), &query(3).page(second.next.clone(), None))
        .await
        .unwrap();
    assert_eq!(ids(&last.jobs), all[6..7]);
    assert_eq!(last.next, None);

    let back = e
        .history_page(&me(), &query(3).page(None, second.prev.clone()))
        .await
        .unwrap();
    assert_eq!(ids(&back.jobs), all[0..3]);
    assert_eq!(back.prev, None, "the newest page has nothing newer");
    assert_eq!(back.next.as_deref(), Some(all[2].as_str()));

    let middle = e
        .history_page(&me(), &query(3).page(None, last.prev.clone()))
        .await
        .unwrap();
    assert_eq!(ids(&middle.jobs), all[3..6]);
    assert_eq!(middle.prev.as_deref(), Some(all[3].as_str()));
}

#[tokio::test]
async fn filters_search_and_someone_elses_ids_are_refused() {
    let f = fixture().await;
    let e = &f.engine;
    let a = add(e, ME, "demo").await;
    let b = add(e, ME, "batch").await;
    let c = add(e, ME, "batch").await;
    let theirs = add(e, "them", "demo").await;
    finish(e, ME, &b.id, JobStatus::Failed).await;
    finish(e, ME, &c.id, JobStatus::Succeeded).await;

    let by_kind = HistoryQuery {
        kind: Some("batch".into()),
        ..query(50)
    };
    assert_eq!(
        ids(&e.history_page(&me(), &by_kind).await.unwrap().jobs),
        [c.id.clone(), b.id.clone()]
    );
    let by_status = HistoryQuery {
        status: Some("failed,queued".into()),
        ..query(50)
    };
    assert_eq!(
        ids(&e.history_page(&me(), &by_status).await.unwrap().jobs),
        [b.id.clone(), a.id.clone()]
    );

    let by_id = HistoryQuery {
        q: Some(a.id[..13].to_uppercase()),
        ..query(50)
    };
    assert_eq!(
        ids(&e.history_page(&me(), &by_id).await.unwrap().jobs),
        std::slice::from_ref(&a.id)
    );
    let by_message = HistoryQuery {
        q: Some("QUOTA".into()),
        ..query(50)
    };
    assert_eq!(
        ids(&e.history_page(&me(), &by_message).await.unwrap().jobs),
        std::slice::from_ref(&b.id)
    );
    let wildcard = HistoryQuery {
        q: Some("%".into()),
        ..query(50)
    };
    assert!(
        e.history_page(&me(), &wildcard)
            .await
            .unwrap()
            .jobs
            .is_empty(),
        "% is a character, not a wildcard"
    );
    let their_id = HistoryQuery {
        q: Some(theirs.id.to_string()),
        ..query(50)
    };
    assert!(e
        .history_page(&me(), &their_id)
        .await
        .unwrap()
        .jobs
        .is_empty());

    let bad_status = HistoryQuery {
        status: Some("done".into()),
        ..query(50)
    };
    assert!(e
        .history_page(&me(), &bad_status)
        .await
        .unwrap_err()
        .message
        .contains("unknown status"));
    let their_key = query(5).page(Some(theirs.id.to_string()), None);
    assert!(e
        .history_page(&me(), &their_key)
        .await
        .unwrap_err()
        .message
        .contains("before"));
    assert!(e.history_page(&me(), &query(0)).await.is_err());
}

#[tokio::test]
async fn counts_follow_every_status_change() {
    let f = fixture().await;
    let e = &f.engine;
    let jobs = [
        add(e, ME, "demo").await,
        add(e, ME, "demo").await,
        add(e, ME, "batch").await,
    ];
    add(e, "them", "demo").await;
    finish(e, ME, &jobs[0].id, JobStatus::Succeeded).await;
    finish(e, ME, &jobs[2].id, JobStatus::Failed).await;
    e.inner.committer.flush().await;

    let count = |counts: &[StatusCount], s: JobStatus| {
        counts.iter().find(|c| c.status == s).map(|c| c.n).unwrap()
    };
    let all = e.status_counts(&me(), None).await.unwrap();
    assert_eq!(
        all.len(),
        JobStatus::ALL.len(),
        "every status is listed, zeros included"
    );
    assert_eq!(
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed
        ]
        .map(|s| count(&all, s)),
        [1, 0, 1, 1]
    );
    let demo = e.status_counts(&me(), Some("demo")).await.unwrap();
    assert_eq!(
        [
            count(&demo, JobStatus::Queued),
            count(&demo, JobStatus::Failed)
        ],
        [1, 0]
    );
}

#[tokio::test]
async fn the_chart_counts_jobs_finished_per_minute_and_the_timeline_shows_each_state() {
    let f = fixture().await;
    let e = &f.engine;
    let ok = add(e, ME, "demo").await;
    let bad = add(e, ME, "demo").await;
    finish(e, ME, &ok.id, JobStatus::Succeeded).await;
    finish(e, ME, &bad.id, JobStatus::Failed).await;
    e.inner.committer.flush().await;

    let minutes = e.last_hour(&me(), now_ms()).await.unwrap();
    let finished: u64 = minutes.iter().map(|m| m.finished).sum();
    let unsuccessful: u64 = minutes.iter().map(|m| m.unsuccessful).sum();
    assert_eq!((finished, unsuccessful), (2, 1));
    assert!(minutes
        .iter()
        .all(|m| m.start % 60_000 == 0 && m.avg_run_ms.is_some()));
    assert!(e.last_hour(&them(), now_ms()).await.unwrap().is_empty());

    let detail = e
        .job_detail(&me(), &bad.id, 100, &LogFilter::default())
        .await
        .unwrap();
    let states: Vec<JobStatus> = detail.timeline.iter().map(|c| c.status).collect();
    assert_eq!(
        states,
        [JobStatus::Queued, JobStatus::Running, JobStatus::Failed]
    );
    assert!(detail.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(
        e.job_detail(&them(), &bad.id, 100, &LogFilter::default())
            .await
            .is_err(),
        "not someone else's"
    );
}

#[test]
fn a_timeline_without_events_is_rebuilt_from_the_jobs_times() {
    let job = Job {
        id: named("x"),
        kind: "demo".into(),
        params: serde_json::Value::Null,
        status: JobStatus::Cancelled,
        progress: Progress::default(),
        error: None,
        created_at: 10,
        started_at: Some(20),
        finished_at: Some(30),
        event_id: 9,
        timeout_ms: None,
        origin: None,
        run_after: None,
        attempt: 1,
        max_attempts: 1,
        next_attempt_at: None,
        attempts: Vec::new(),
        schedule_id: None,
        scheduled_for: None,
        outputs: Vec::new(),
        result: None,
        priority: Default::default(),
        after: None,
        parent: None,
        step: None,
        started_by: None,
        cancelled_by: None,
    };
    let t = crate::history::timeline(&job, Vec::new());
    let got: Vec<(JobStatus, i64)> = t.iter().map(|c| (c.status, c.at)).collect();
    assert_eq!(
        got,
        [
            (JobStatus::Queued, 10),
            (JobStatus::Running, 20),
            (JobStatus::Cancelled, 30)
        ]
    );
}

#[tokio::test]
async fn notices_reach_every_user_until_withdrawn() {
    let f = fixture().await;
    let e = &f.engine;
    let mut mine = e.bus().subscribe(ME);
    let mut theirs = e.bus().subscribe("them");
    let notice = e
        .post_notice(&Caller::operator(), "  Maintenance at 18:00  ")
        .await
        .unwrap();
    assert_eq!(notice.text, "Maintenance at 18:00");
    assert!(
        notice.id > e.version_event_id(),
        "ids come from the one event sequence"
    );
    assert_eq!(
        e.post_notice(&me(), "hi").await.unwrap_err().code,
        model::ErrorCode::Unauthorized
    );
    assert_eq!(
        e.withdraw_notices(&me()).await.unwrap_err().code,
        model::ErrorCode::Unauthorized
    );
    for sub in [&mut mine, &mut theirs] {
        let ev = sub.recv().await.unwrap();
        assert_eq!((ev.id, ev.kind), (notice.id, EventType::Notice));
    }
    assert_eq!(e.notices().await.unwrap(), std::slice::from_ref(&notice));

    for bad in ["", "   ", "two\nlines", &"x".repeat(501)] {
        let err = e.post_notice(&Caller::operator(), bad).await.unwrap_err();
        assert_eq!(err.fields[0].field, "text");
    }
    assert_eq!(e.withdraw_notices(&Caller::operator()).await.unwrap(), 1);
    assert!(e.notices().await.unwrap().is_empty());
    let gone = mine.recv().await.unwrap();
    assert!(gone.id > notice.id && gone.data().contains(r#""text":"""#));
    assert_eq!(e.withdraw_notices(&Caller::operator()).await.unwrap(), 0);
}
