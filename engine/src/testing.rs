//! Test databases on either backend, and a harness for testing job kinds against the real
//! engine pieces: a fresh store, the committer and bus on top of it, and a data root for
//! file-based kinds.
//!
//! Tests run on SQLite, or on PostgreSQL with `HEADWAY_TEST_BACKEND=postgres` (a throwaway
//! cluster this process starts and removes, a fresh database per test).
//!
//! A kind's test starts a job with [`Harness::start`], runs the kind on the returned context
//! and then reads back what a user would see: the stored job ([`Harness::job`]) and its log
//! ([`Harness::log`]). Both flush the committer first, so everything the kind reported is there.

use crate::bus::Bus;
use crate::committer::Committer;
use crate::context::JobContext;
use crate::files::Files;
use crate::kinds::KindEnv;
use crate::now_ms;
use crate::store::{Access, Store};
use model::ids::testing::named;
use model::{Job, JobId, JobStatus, LogLevel, LogLine};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(crate) const OWNER: &str = "test-owner";
/// The process the test's jobs are claimed by.
pub(crate) const FENCE: &str = "test-process";

/// Whether this run's tests use PostgreSQL.
pub(crate) fn on_postgres() -> bool {
    std::env::var("HEADWAY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh, empty database of this run's backend, which may be opened (again) as a server's.
pub(crate) struct TestDb {
    pub url: String,
    /// The SQLite file's folder, removed on drop.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        if on_postgres() {
            let cluster = tokio::task::spawn_blocking(crate::store::postgres::throwaway::shared)
                .await
                .expect("start the throwaway PostgreSQL");
            let url = cluster.fresh_database().await.expect("a fresh database");
            return TestDb { url, _dir: None };
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}/h.db", dir.path().display());
        TestDb {
            url,
            _dir: Some(dir),
        }
    }

    /// Opens the database as a server does.
    pub async fn open(&self) -> Store {
        Store::open(&self.url, Access::Exclusive)
            .await
            .expect("open the test store")
    }
}

pub(crate) struct Harness {
    /// The temporary folder holding the data root; removed on drop.
    dir: tempfile::TempDir,
    _db: TestDb,
    pub store: Store,
    pub committer: Committer,
    /// Where file-based kinds read and write (`<dir>/data`).
    pub data_root: PathBuf,
    /// Uploads and outputs (`<dir>/store`).
    pub blobs: crate::blobs::Blobs,
}

/// A job that has been stored and moved to `running`, with the context a kind runs on.
pub(crate) struct TestJob {
    pub id: JobId,
    pub ctx: JobContext,
    /// Cancelling it is what a person's cancel request (or a shutdown) does to the job.
    pub stop: CancellationToken,
}

impl Harness {
    pub async fn new() -> Harness {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let data_root = dir.path().join("data");
        std::fs::create_dir_all(&data_root).expect("create the test data root");
        let db = TestDb::new().await;
        let store = db.open().await;
        let last = store.last_event_id().await.expect("read the last event id");
        let committer = Committer::start(store.clone(), Arc::new(Bus::new(64)), last)
            .await
            .expect("the committer starts");
        let blobs = crate::blobs::Blobs::open(&dir.path().join("store"), &store)
            .await
            .expect("open the file store");
        Harness {
            dir,
            _db: db,
            store,
            committer,
            data_root,
            blobs,
        }
    }

    /// What kinds see when they validate parameters.
    pub fn env(&self) -> KindEnv {
        KindEnv::files(Files::whole(&self.data_root))
    }

    /// Writes a file under the data root (creating its folders) and returns its full path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.data_root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A folder next to the data root, for things no job may reach.
    pub fn outside(&self) -> PathBuf {
        let path = self.dir.path().join("outside");
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// Stores a new job of `kind` and starts it.
    pub async fn start(&self, kind: &str, params: serde_json::Value) -> TestJob {
        self.start_resuming(kind, params, None).await
    }

    /// Like [`Harness::start`] for a job that continues from an earlier run's checkpoint.
    pub async fn start_resuming(
        &self,
        kind: &str,
        params: serde_json::Value,
        resume_from: Option<serde_json::Value>,
    ) -> TestJob {
        let job = Job::queued(JobId::random(), kind, params, now_ms());
        let job = self
            .committer
            .create(&named(OWNER), job)
            .await
            .expect("store the job");
        // Progress is only recorded for running jobs, as in the runner.
        let job = self
            .committer
            .transition(
                &named(OWNER),
                &job.id,
                JobStatus::Running,
                None,
                Some(named(FENCE)),
            )
            .await
            .unwrap()
            .expect("start the job");
        let stop = CancellationToken::new();
        let ctx = JobContext::new(
            job.id.clone(),
            named(OWNER),
            Some(named(FENCE)),
            self.committer.clone(),
            job.progress,
            stop.clone(),
            resume_from,
            Arc::new(Files::whole(&self.data_root)),
            self.blobs.clone(),
        );
        TestJob {
            id: job.id,
            ctx,
            stop,
        }
    }

    /// The job as stored, after everything sent so far has been written.
    pub async fn job(&self, job: &mut TestJob) -> Job {
        job.ctx.flush().await;
        self.committer.flush().await;
        self.store
            .job(Some(&named(OWNER)), &job.id)
            .await
            .unwrap()
            .expect("the job exists")
    }

    /// Every log line of the job, in order.
    pub async fn log(&self, job: &mut TestJob) -> Vec<LogLine> {
        job.ctx.flush().await;
        self.committer.flush().await;
        self.store.log_lines(&job.id, 0, u32::MAX).await.unwrap()
    }

    /// The checkpoint the job saved last, if any.
    pub async fn checkpoint(&self, job: &mut TestJob) -> Option<serde_json::Value> {
        job.ctx.flush().await;
        self.committer.flush().await;
        self.store.checkpoint(&job.id).await.unwrap()
    }

    /// The text of the job's log lines of one level.
    pub async fn lines(&self, job: &mut TestJob, level: LogLevel) -> Vec<String> {
        let log = self.log(job).await;
        log.into_iter()
            .filter(|l| l.level == level)
            .map(|l| l.line)
            .collect()
    }
}
