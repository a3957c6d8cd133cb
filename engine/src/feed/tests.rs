//! Feeds of a real engine on a fresh database (SQLite, or PostgreSQL with
//! `HEADWAY_TEST_BACKEND=postgres`): where they start, what they replay, the `version` item,
//! live bursts, catching up, and when they end.

use super::*;
use crate::bus::Event;
use crate::testing::TestDb;
use crate::{now_ms, Engine, EngineConfig};
use model::ids::testing::named;
use model::{EventType, JobId, JobStatus};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const ME: &str = "me";

fn me() -> Caller {
    Caller::new(named(ME))
}

/// The feed's counts, as `/metrics` would show them.
#[derive(Default)]
struct Counts {
    fell_behind: AtomicUsize,
    skipped: AtomicUsize,
}

impl FeedMetrics for Counts {
    fn fell_behind(&self) {
        self.fell_behind.fetch_add(1, Ordering::Relaxed);
    }
    fn skipped_progress(&self, samples: usize) {
        self.skipped.fetch_add(samples, Ordering::Relaxed);
    }
}

struct Fixture {
    db: TestDb,
    dir: tempfile::TempDir,
    engine: Engine,
}

impl Fixture {
    async fn new(build: &str) -> Fixture {
        let db = TestDb::new().await;
        let dir = tempfile::tempdir().unwrap();
        let engine = start(&db, &dir, build).await;
        Fixture { db, dir, engine }
    }

    /// Stops this server and starts another build on the same database.
    async fn upgrade(mut self, build: &str) -> Fixture {
        self.engine.shutdown().await;
        self.engine = start(&self.db, &self.dir, build).await;
        self
    }

    /// Stores a job of mine that has run to `status`; returns its id.
    async fn finished_job(&self, status: JobStatus) -> JobId {
        let w = &self.engine.jobs().inner.committer;
        let job = Job::queued(JobId::random(), "demo", serde_json::json!({}), now_ms());
        let id = w.create(&named(ME), job).await.unwrap().id;
        for s in [JobStatus::Running, status] {
            w.transition(&named(ME), &id, s, None, None)
                .await
                .unwrap()
                .unwrap();
        }
        id
    }

    async fn open(&self, start: Start) -> Box<Feed> {
        self.open_as(start, None, Duration::from_secs(60)).await
    }

    async fn open_as(
        &self,
        start: Start,
        standing: Option<Standing>,
        quiet: Duration,
    ) -> Box<Feed> {
        let settings = FeedSettings {
            quiet,
            metrics: Arc::new(Counts::default()),
            standing,
        };
        match self
            .engine
            .feeds()
            .open(me(), start, settings)
            .await
            .unwrap()
        {
            Opened::Feed(feed) => feed,
            Opened::Ended => panic!("the feed has ended already"),
        }
    }
}

async fn start(db: &TestDb, dir: &tempfile::TempDir, build: &str) -> Engine {
    // Nothing runs: the tests move their jobs themselves.
    let config = EngineConfig {
        data_root: dir.path().join("files"),
        runs_jobs: false,
        build: build.into(),
        ..EngineConfig::default()
    };
    Engine::start(db.open().await, config).await.unwrap()
}

fn stream_from(cursor: Option<i64>) -> Start {
    Start {
        job_id: None,
        cursor,
        snapshot_on_resume: true,
    }
}

fn poll_from(cursor: Option<i64>) -> Start {
    Start {
        snapshot_on_resume: false,
        ..stream_from(cursor)
    }
}

/// What a client is told: each item's id, type and data.
fn told(items: &[Item]) -> Vec<(Option<i64>, Option<EventType>, String)> {
    items
        .iter()
        .map(|i| (i.id(), i.kind(), i.data().into_owned()))
        .collect()
}

/// Everything the feed gives until it has caught up with the store (the first keep-alive of a
/// feed that is quiet at once).
async fn until_quiet(feed: &mut Feed) -> Vec<Item> {
    let mut all = Vec::new();
    while let Some(items) = feed.next().await {
        if matches!(items[..], [Item::KeepAlive]) {
            break;
        }
        all.extend(items);
    }
    all
}

fn live(id: i64, job: Option<&str>, kind: EventType) -> Arc<Event> {
    Arc::new(Event::new(id, job.map(named), kind, "{}"))
}

#[tokio::test]
async fn a_fresh_feed_opens_with_a_snapshot_at_the_head_and_has_nothing_more_to_replay() {
    let f = Fixture::new("b").await;
    f.finished_job(JobStatus::Succeeded).await;
    let head = f.engine.head();
    let mut feed = f
        .open_as(stream_from(None), None, Duration::from_millis(1))
        .await;
    let opening = feed.next().await.unwrap();
    assert_eq!(opening.len(), 1);
    let Item::Snapshot { id, data } = &opening[0] else {
        panic!("{opening:?}")
    };
    assert_eq!(*id, head);
    let snapshot: Snapshot = serde_json::from_str(data).unwrap();
    assert_eq!((snapshot.jobs.len(), snapshot.build.as_str()), (1, "b"));
    assert!(matches!(feed.next().await.unwrap()[..], [Item::KeepAlive]));
    assert_eq!(feed.cursor(), head);
}

#[tokio::test]
async fn a_cursor_it_cannot_resume_from_gets_a_resync_then_a_snapshot_at_the_head() {
    let f = Fixture::new("b").await;
    let head = f.engine.head();
    for start in [
        stream_from(Some(head + 1_000)),
        poll_from(Some(head + 1_000)),
    ] {
        let mut feed = f.open(start).await;
        let opening = feed.next().await.unwrap();
        assert!(
            matches!(
                &opening[..],
                [Item::Resync { reason: start::NEWER }, Item::Snapshot { id, .. }] if *id == head
            ),
            "{opening:?}"
        );
        assert_eq!(feed.cursor(), head);
    }
}

#[tokio::test]
async fn a_long_poll_resuming_gets_the_events_after_its_cursor_without_a_snapshot() {
    let f = Fixture::new("b").await;
    let cursor = f.engine.head();
    let job = f.finished_job(JobStatus::Failed).await;
    let mut poll = f.open(poll_from(Some(cursor))).await;
    let mut stream = f.open(stream_from(Some(cursor))).await;
    let replayed = poll.next().await.unwrap();
    let kinds: Vec<_> = replayed.iter().map(|i| i.kind().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            EventType::Job,
            EventType::Job,
            EventType::Job,
            EventType::Done
        ]
    );
    assert!(replayed.iter().all(|i| i.data().contains(job.as_str())));
    assert_eq!(poll.cursor(), f.engine.head());
    // The stream opens with its snapshot at the cursor, then replays the same.
    let opening = stream.next().await.unwrap();
    assert!(matches!(&opening[..], [Item::Snapshot { id, .. }] if *id == cursor));
    assert_eq!(told(&stream.next().await.unwrap()), told(&replayed));
}

#[tokio::test]
async fn a_client_from_before_the_servers_start_is_told_its_build_by_stream_and_poll_alike() {
    let f = Fixture::new("build-1").await;
    let before = f.engine.head();
    f.finished_job(JobStatus::Succeeded).await;
    let f = f.upgrade("build-2").await;
    let version = f.engine.jobs().version_event_id();
    assert!(version > before);

    let quiet = Duration::from_millis(1);
    let mut stream = f.open_as(stream_from(Some(before)), None, quiet).await;
    let mut poll = f.open_as(poll_from(Some(before)), None, quiet).await;
    let streamed = until_quiet(&mut stream).await;
    let polled = until_quiet(&mut poll).await;
    // The stream's opening snapshot aside, both tell the same, version included, once.
    assert!(matches!(streamed[0], Item::Snapshot { .. }));
    assert_eq!(told(&streamed[1..]), told(&polled));
    let versions: Vec<_> = told(&polled)
        .into_iter()
        .filter(|(_, kind, _)| *kind == Some(EventType::Version))
        .collect();
    assert_eq!(
        versions,
        [(
            Some(version),
            Some(EventType::Version),
            r#"{"build":"build-2"}"#.to_string()
        )]
    );
    assert_eq!(
        polled.last().unwrap().id(),
        Some(version),
        "after the job's events"
    );
    assert_eq!(poll.cursor(), f.engine.head());

    // A client that has it, or started after it, is not told again.
    for cursor in [version, f.engine.head()] {
        let mut stream = f.open_as(stream_from(Some(cursor)), None, quiet).await;
        let mut poll = f.open_as(poll_from(Some(cursor)), None, quiet).await;
        assert_eq!(until_quiet(&mut stream).await.len(), 1, "the snapshot only");
        assert!(until_quiet(&mut poll).await.is_empty());
    }
}

#[tokio::test]
async fn live_events_come_as_a_burst_then_a_feed_behind_gets_them_thinned() {
    let f = Fixture::new("b").await;
    let head = f.engine.head();
    let metrics = Arc::new(Counts::default());
    let settings = FeedSettings {
        quiet: Duration::from_secs(60),
        metrics: Arc::clone(&metrics) as Arc<dyn FeedMetrics>,
        standing: None,
    };
    let Opened::Feed(mut feed) = f
        .engine
        .feeds()
        .open(me(), stream_from(None), settings)
        .await
        .unwrap()
    else {
        panic!("ended")
    };
    feed.next().await.unwrap();
    let bus = f.engine.jobs().bus();
    // A few events: the first wakes the feed, the rest follow it without waiting.
    for id in 1..=3 {
        bus.publish(ME, live(head + id, Some("a"), EventType::Progress));
    }
    let burst = feed.next().await.unwrap();
    assert_eq!(
        burst.iter().map(|i| i.id().unwrap()).collect::<Vec<_>>(),
        [head + 1, head + 2, head + 3],
        "taken whole, at once"
    );
    assert_eq!(feed.cursor(), head + 3);

    // More than BEHIND waiting: taken at once, each job's newest sample only.
    let mut id = head + 3;
    for _ in 0..=waiting::BEHIND {
        for job in ["a", "b"] {
            id += 1;
            bus.publish(ME, live(id, Some(job), EventType::Progress));
        }
    }
    let caught = feed.next().await.unwrap();
    assert_eq!(
        caught.iter().map(|i| i.id().unwrap()).collect::<Vec<_>>(),
        [id - 1, id]
    );
    let pairs = waiting::BEHIND + 1;
    assert_eq!(metrics.skipped.load(Ordering::Relaxed), 2 * pairs - 2);
    assert_eq!(metrics.fell_behind.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn one_jobs_feed_tells_its_story_and_ends_after_its_terminal_event() {
    let f = Fixture::new("b").await;
    let job = f.finished_job(JobStatus::Cancelled).await;
    let one_job = |cursor| Start {
        job_id: Some(job.clone()),
        cursor,
        snapshot_on_resume: true,
    };
    let mut feed = f.open(one_job(None)).await;
    let opening = feed.next().await.unwrap();
    assert!(matches!(&opening[..], [Item::Snapshot { id: 0, .. }]));
    let story = feed.next().await.unwrap();
    assert_eq!(story.last().unwrap().kind(), Some(EventType::Done));
    assert!(feed.next().await.is_none(), "over after its terminal event");

    // A client that has seen the end is told so at once.
    let done = story.last().unwrap().id();
    let settings = FeedSettings {
        quiet: Duration::from_secs(60),
        metrics: Arc::new(Counts::default()),
        standing: None,
    };
    let ended = f.engine.feeds().open(me(), one_job(done), settings).await;
    assert!(matches!(ended, Ok(Opened::Ended)));
}

#[tokio::test]
async fn a_feed_ends_once_its_caller_no_longer_holds_what_it_rests_on() {
    let f = Fixture::new("b").await;
    let valid = Arc::new(AtomicBool::new(true));
    let (changes, watched) = tokio::sync::watch::channel(0u64);
    let check = Arc::clone(&valid);
    let standing = Standing::new(watched, move || {
        let valid = check.load(Ordering::Relaxed);
        Box::pin(async move { valid })
    });
    let quiet = Duration::from_millis(1);
    let mut feed = f.open_as(stream_from(None), Some(standing), quiet).await;
    feed.next().await.unwrap();
    // Still valid: keep-alives.
    assert!(matches!(feed.next().await.unwrap()[..], [Item::KeepAlive]));
    valid.store(false, Ordering::Relaxed);
    changes.send_modify(|n| *n += 1);
    assert!(feed.next().await.is_none());
}

#[tokio::test]
async fn every_feed_ends_when_the_server_stops() {
    let f = Fixture::new("b").await;
    let mut feed = f.open(stream_from(None)).await;
    feed.next().await.unwrap();
    f.engine.shutdown().await;
    assert!(feed.next().await.is_none());
}
