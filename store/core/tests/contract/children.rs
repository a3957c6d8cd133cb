//! Children a running job starts itself: counted in its row, found again by name, waited for
//! unclaimed once its own work succeeded, and cancelled with it.

use crate::cases::{asked, create, new_job, to};
use crate::support::Db;
use model::ids::testing::named;
use model::{Job, JobId, JobStatus};
use store_core::*;

/// A change that moves `job` (`me`'s) to `to` as process `by`'s.
fn by(process: &str, job: &Job, to: JobStatus) -> Change {
    Change::Transition {
        fence: Some(named(process)),
        owner: named("me"),
        job_id: job.id.clone(),
        to,
        error: None,
        answer: Answer::none(),
    }
}

/// A parent of `me`'s, running as process `p1`'s.
async fn running_parent(db: &Db) -> Job {
    let parent = new_job("demo");
    db.store
        .apply(vec![
            create("me", &parent),
            by("p1", &parent, JobStatus::Running),
        ])
        .await
        .unwrap();
    parent
}

/// Starts the child `name` of `parent` as process `process`'s, with at most `max_queued` of
/// `me`'s jobs queued: the answer.
async fn child(
    db: &Db,
    parent: &Job,
    name: &str,
    process: &str,
    max_queued: Option<u64>,
) -> Option<Created> {
    let child = Job {
        parent: Some(parent.id.clone()),
        step: Some(name.into()),
        ..new_job("demo")
    };
    let (change, answered) = asked(|answer| Change::StartChild {
        owner: named("me"),
        child,
        fence: Some(named(process)),
        max_queued,
        answer,
    });
    db.store.apply(vec![change]).await.unwrap();
    answered.now().unwrap()
}

fn made(created: Option<Created>) -> Job {
    match created {
        Some(Created::New(job)) => job,
        other => panic!("expected a new child, got {other:?}"),
    }
}

/// Moves `job` to `to` (no fence); the job as it is then.
async fn moved(db: &Db, job: &Job, to_status: JobStatus) -> Job {
    db.store
        .apply(vec![to("me", job, to_status)])
        .await
        .unwrap();
    now(db, &job.id).await
}

async fn now(db: &Db, id: &JobId) -> Job {
    db.store.job(None, id).await.unwrap().unwrap()
}

pub async fn a_parent_waits_for_its_children_unclaimed_and_ends_with_the_last(db: Db) {
    let parent = running_parent(&db).await;
    let a = made(child(&db, &parent, "a", "p1", None).await);
    let b = made(child(&db, &parent, "b", "p1", None).await);
    assert_eq!(
        (a.parent.as_ref(), a.step.as_deref()),
        (Some(&parent.id), Some("a"))
    );
    assert_eq!(a.status, JobStatus::Queued);
    // The same name again (a parent tried again) is the child it started before.
    match child(&db, &parent, "a", "p1", None).await {
        Some(Created::Again(again)) => assert_eq!(again.id, a.id),
        other => panic!("expected the child made before, got {other:?}"),
    }
    // Only the process that runs the parent starts its children.
    assert_eq!(child(&db, &parent, "c", "p2", None).await, None);
    moved(&db, &a, JobStatus::Running).await;
    moved(&db, &a, JobStatus::Succeeded).await;
    // Its own work succeeded while b waits: it waits for b, running, claimed by no process.
    let (end, answered) = asked(|answer| Change::Transition {
        fence: Some(named("p1")),
        owner: named("me"),
        job_id: parent.id.clone(),
        to: JobStatus::Succeeded,
        error: None,
        answer,
    });
    db.store.apply(vec![end]).await.unwrap();
    let waiting = answered.now().unwrap().expect("the parent as it is");
    assert_eq!(waiting.status, JobStatus::Running, "{waiting:?}");
    // p1 was never registered: a job it ran would be an orphan, not one that waits.
    assert!(db.store.orphaned_jobs().await.unwrap().is_empty());
    let waiting = now(&db, &parent.id).await;
    assert_eq!(waiting.status, JobStatus::Running);
    assert_eq!(
        (waiting.progress.current, waiting.progress.total),
        (1000, Some(2000)),
        "its bar is its children's: {waiting:?}"
    );
    // A parent that waits starts no more children.
    assert_eq!(child(&db, &parent, "late", "p1", None).await, None);
    moved(&db, &b, JobStatus::Running).await;
    moved(&db, &b, JobStatus::Succeeded).await;
    let ended = now(&db, &parent.id).await;
    assert_eq!(ended.status, JobStatus::Succeeded, "{ended:?}");
    assert_eq!(
        (ended.progress.current, ended.progress.total),
        (2000, Some(2000))
    );
    // A job without children ends as ever, its own end its last.
    let plain = running_parent(&db).await;
    db.store
        .apply(vec![by("p1", &plain, JobStatus::Succeeded)])
        .await
        .unwrap();
    assert_eq!(now(&db, &plain.id).await.status, JobStatus::Succeeded);
}

pub async fn a_parent_fails_with_a_child_that_failed_and_its_own_failure_cancels_the_rest(db: Db) {
    // A child that failed before its parent's own end: the parent fails at that end, naming it.
    let parent = running_parent(&db).await;
    let a = made(child(&db, &parent, "a", "p1", None).await);
    moved(&db, &a, JobStatus::Running).await;
    moved(&db, &a, JobStatus::Failed).await;
    db.store
        .apply(vec![by("p1", &parent, JobStatus::Succeeded)])
        .await
        .unwrap();
    let failed = now(&db, &parent.id).await;
    assert_eq!(failed.status, JobStatus::Failed, "{failed:?}");
    assert!(
        failed
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("\"a\" failed"),
        "{failed:?}"
    );
    // A parent whose own work failed ends at once; its children are cancelled, or asked to stop.
    let other = running_parent(&db).await;
    let queued = made(child(&db, &other, "queued", "p1", None).await);
    let busy = made(child(&db, &other, "busy", "p1", None).await);
    moved(&db, &busy, JobStatus::Running).await;
    db.store
        .apply(vec![by("p1", &other, JobStatus::Failed)])
        .await
        .unwrap();
    assert_eq!(now(&db, &other.id).await.status, JobStatus::Failed);
    assert_eq!(now(&db, &queued.id).await.status, JobStatus::Cancelled);
    assert_eq!(now(&db, &busy.id).await.status, JobStatus::Cancelling);
}

pub async fn a_waiting_parent_cancelled_cancels_its_children_and_ends_after_them(db: Db) {
    let parent = running_parent(&db).await;
    let busy = made(child(&db, &parent, "busy", "p1", None).await);
    moved(&db, &busy, JobStatus::Running).await;
    db.store
        .apply(vec![by("p1", &parent, JobStatus::Succeeded)])
        .await
        .unwrap();
    let cancelling = moved(&db, &parent, JobStatus::Cancelling).await;
    assert_eq!(cancelling.status, JobStatus::Cancelling);
    assert_eq!(now(&db, &busy.id).await.status, JobStatus::Cancelling);
    moved(&db, &busy, JobStatus::Cancelled).await;
    assert_eq!(now(&db, &parent.id).await.status, JobStatus::Cancelled);
}

pub async fn a_child_past_its_owners_share_is_refused_and_not_counted(db: Db) {
    let parent = running_parent(&db).await;
    let first = made(child(&db, &parent, "first", "p1", Some(1)).await);
    assert_eq!(
        child(&db, &parent, "second", "p1", Some(1)).await,
        Some(Created::Full { waiting: 1 })
    );
    moved(&db, &first, JobStatus::Running).await;
    moved(&db, &first, JobStatus::Succeeded).await;
    // The refused child is not waited for: the parent's own end is its end.
    db.store
        .apply(vec![by("p1", &parent, JobStatus::Succeeded)])
        .await
        .unwrap();
    assert_eq!(now(&db, &parent.id).await.status, JobStatus::Succeeded);
}
