//! What only the SQLite backend does: file URLs, the lock that keeps a second server off a
//! file, and the refusals at open. Everything else is checked for both backends by the
//! engine's store tests.

use super::*;
use model::ProcessId;
use store_core::{Access, JobStore, OpenError, ProcessRegistry, ProcessRow};

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/h.db", dir.path().display())
}

#[test]
fn urls_name_a_file_and_an_open_mode() {
    let at = |url: &str| Location::parse(url);
    assert_eq!(
        at("sqlite://data/headway.db").unwrap().path,
        PathBuf::from("data/headway.db")
    );
    assert_eq!(at("sqlite:h.db").unwrap().dir(), PathBuf::from("."));
    assert_eq!(
        at("sqlite:///tmp/x/h.db").unwrap().dir(),
        PathBuf::from("/tmp/x")
    );
    assert!(at("sqlite:///tmp/h.db?mode=ro").unwrap().read_only);
    assert!(at("sqlite://h.db?mode=rw").unwrap().must_exist);
    assert!(at("sqlite::memory:").unwrap_err().contains("in-memory"));
    assert!(at("sqlite://h.db?cache=shared")
        .unwrap_err()
        .contains("unsupported parameter"));
    assert!(at("sqlite://").unwrap_err().contains("no file"));
    assert!(at("postgres://x").is_err());
}

#[tokio::test]
async fn a_second_server_on_the_same_file_is_refused_but_tools_may_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open(&url(&dir), Access::Exclusive)
        .await
        .unwrap();
    match SqliteStore::open(&url(&dir), Access::Exclusive).await {
        Err(OpenError::InUse { holder, .. }) => {
            assert!(holder.contains(&std::process::id().to_string()))
        }
        Err(other) => panic!("expected InUse, got {other}"),
        Ok(_) => panic!("a second server opened the database"),
    }
    let tool = SqliteStore::open(&url(&dir), Access::Shared).await.unwrap();
    assert_eq!(
        tool.last_event_id().await.unwrap(),
        server.last_event_id().await.unwrap()
    );
}

#[tokio::test]
async fn a_read_only_database_is_refused_to_a_server_with_one_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    drop(
        SqliteStore::open(&url(&dir), Access::Exclusive)
            .await
            .unwrap(),
    );
    match SqliteStore::open(&format!("{}?mode=ro", url(&dir)), Access::Exclusive).await {
        Err(e @ OpenError::NotWritable { .. }) => {
            assert!(e.to_string().contains("readonly"), "{e}")
        }
        Err(other) => panic!("expected NotWritable, got {other}"),
        Ok(_) => panic!("a read-only database was accepted"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.db"), vec![7u8; 8192]).unwrap();
    let err = SqliteStore::open(&url(&dir), Access::Exclusive)
        .await
        .err()
        .expect("garbage is not a database");
    assert!(err.to_string().contains("not a database"), "{err}");
}

#[tokio::test]
async fn a_server_takes_every_other_process_for_gone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&dir), Access::Exclusive)
        .await
        .unwrap();
    let process = |id: &str| ProcessRow {
        id: ProcessId::parse(id).unwrap(),
        role: "all".into(),
        build: "b".into(),
        host: "h".into(),
        pid: 1,
        started_at: 0,
        heartbeat_at: 0,
        tags: Vec::new(),
        name: String::new(),
    };
    store.register(&process("before")).await.unwrap();
    store.register(&process("me")).await.unwrap();
    // However recent its heartbeat: only one server uses the file, and it is this one.
    assert_eq!(
        store
            .reap_stale(&ProcessId::parse("me").unwrap(), 3_600_000)
            .await
            .unwrap(),
        vec!["before"]
    );
    let left: Vec<ProcessId> = store
        .processes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(left, vec!["me"]);
}

/// SQLite's plan for `sql` on `store`, a line per step.
async fn query_plan(store: &SqliteStore, sql: String) -> String {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&store.pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn the_running_jobs_are_found_through_an_index_not_by_reading_every_job() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&dir), Access::Exclusive)
        .await
        .unwrap();
    // What a claim, the orphans' takeover and the estimates ask: without `jobs_active`, each
    // would read the whole history, on the writer's thread for a claim.
    let plan = |sql: String| query_plan(&store, sql);
    let running = plan(format!(
        "SELECT kind, owner FROM jobs WHERE {}",
        store_core::RUNNING
    ))
    .await;
    assert!(running.contains("USING INDEX jobs_active"), "{running}");
    // The condition alone, as it was written before: SQLite does not see that it implies the
    // index's own, and reads the table.
    let alone =
        plan("SELECT kind, owner FROM jobs WHERE status IN ('running', 'cancelling')".to_string())
            .await;
    assert!(!alone.contains("jobs_active"), "{alone}");
    // A claim's counts of the jobs holding a slot: from `jobs_working` alone, never from the
    // rows of the running jobs (a workflow run's plan makes its row wide).
    let working = plan(store_core::RUNNING_KINDS_AND_OWNERS.to_string()).await;
    assert!(
        working.contains("USING COVERING INDEX jobs_working"),
        "{working}"
    );
}

#[tokio::test]
async fn the_log_is_checkpointed_off_the_writer_and_stays_bounded() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&dir), Access::Exclusive)
        .await
        .unwrap();
    let owner = model::UserId::parse("checkpoints").unwrap();
    // One job per commit: each commit appends the pages it dirtied (the job, its event, their
    // indexes) to the log, several MiB of log for every hundred commits.
    let mut appended = 0u64;
    let wal = dir.path().join("h.db-wal");
    let mut largest = 0u64;
    for i in 0..3000 {
        let job = model::Job::queued(
            model::JobId::parse(&format!("00000000-0000-0000-0000-{i:012}")).unwrap(),
            "demo",
            serde_json::json!({ "pad": "x".repeat(2000) }),
            i,
        );
        let (answer, created) = store_core::Answer::new();
        store
            .writer
            .apply(vec![store_core::Change::Create {
                owner: owner.clone(),
                job,
                max_queued: None,
                key: None,
                answer,
            }])
            .await
            .unwrap();
        assert!(matches!(
            created.now().unwrap(),
            store_core::Created::New(_)
        ));
        appended += 1;
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    let counts = &store.writer.checkpoints;
    assert!(
        counts.background.load(Ordering::Relaxed) >= 1,
        "no checkpoint ran on the checkpointer's thread after {appended} commits"
    );
    // The writer copied the last pages of each log; the checkpointer the rest. (How much each
    // copies depends on how the machine shares its time between them: the benchmark's business.)
    let (inline, logged) = (
        counts.inline_pages.load(Ordering::Relaxed),
        counts.logged_pages.load(Ordering::Relaxed),
    );
    assert!(logged > 0, "the log never restarted");
    assert!(
        inline < logged,
        "the writer copied all the {logged} pages itself"
    );
    // The log restarts once copied: past twice the threshold the writer waits for the
    // checkpointer, so it never holds more than that and one commit's pages, where without
    // checkpoints it would hold every page of every commit.
    let bound = 3 * checkpoint::CHECKPOINT_PAGES as u64 * 4096;
    assert!(largest < bound, "the log grew to {largest} bytes");
    assert!(
        std::fs::metadata(dir.path().join("h.db")).unwrap().len() > 4 * 1024 * 1024,
        "the jobs never reached the database file"
    );
}

/// The history's reads follow the indexes made for them: a page of several rare statuses
/// (the dashboard's running jobs) and the day's failures never walk all of a user's jobs,
/// which on a long history took seconds.
#[tokio::test]
async fn the_dashboards_reads_use_their_indexes() {
    use model::JobStatus;
    use store_core::sql::Dialect;
    use store_core::{FailureGroupsQuery, HistoryQuery, JobFilter};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&dir), Access::Exclusive)
        .await
        .unwrap();
    let plan = |sql: String| query_plan(&store, sql);
    let running = JobFilter {
        statuses: vec![JobStatus::Running, JobStatus::Cancelling],
        limit: 20,
        ..Default::default()
    };
    let page = plan(
        HistoryQuery::<sqlx::Sqlite>::new(Some("me"), &running, Dialect::Sqlite)
            .query
            .into_sql(),
    )
    .await;
    assert!(
        page.contains("jobs_owner_status_seq (owner=? AND status=?)"),
        "{page}"
    );
    assert!(!page.contains("jobs_owner_seq"), "{page}");
    // A search reads the search index in the jobs' order (no sort of every match), and the
    // live messages of the unfinished jobs alone: no walk of the jobs.
    let search = JobFilter {
        search: Some("夜间备份".into()),
        search_names: vec!["backup".into()],
        limit: 20,
        ..Default::default()
    };
    let found = plan(
        HistoryQuery::<sqlx::Sqlite>::new(Some("me"), &search, Dialect::Sqlite)
            .query
            .into_sql(),
    )
    .await;
    assert!(found.contains("SCAN job_search VIRTUAL TABLE"), "{found}");
    assert!(found.contains("jobs_active"), "{found}");
    assert!(!found.contains("SCAN jobs"), "{found}");
    assert_eq!(
        found.matches("TEMP B-TREE").count(),
        1,
        "only the few live ones sorted: {found}"
    );
    let failures = plan(
        FailureGroupsQuery::<sqlx::Sqlite>::new(Some("me"), 0, 5)
            .query
            .into_sql(),
    )
    .await;
    assert!(failures.contains("jobs_owner_failed"), "{failures}");
    let everyones = plan(
        FailureGroupsQuery::<sqlx::Sqlite>::new(None, 0, 5)
            .query
            .into_sql(),
    )
    .await;
    assert!(everyones.contains("jobs_failed"), "{everyones}");
}
