//! Continuations: jobs that wait, queued and out of line, for others to end.

use crate::cases::{asked, claim, claimed, claiming, create, creating, new_job, to};
use crate::support::Db;
use model::ids::testing::named;
use model::{After, AfterWhen, EventType, Job, JobError, JobId, JobStatus};
use store_core::*;

/// A new job of `kind` to run after `needs`.
fn after(kind: &str, needs: &[&Job], when: AfterWhen) -> Job {
    Job {
        after: Some(After {
            jobs: needs.iter().map(|j| j.id.clone()).collect(),
            when,
            left: 0,
        }),
        ..new_job(kind)
    }
}

async fn read(db: &Db, job: &Job) -> Job {
    db.store
        .job(None, &job.id)
        .await
        .unwrap()
        .expect("the job is stored")
}

fn left(job: &Job) -> u32 {
    job.after.as_ref().expect("it runs after others").left
}

/// Claims up to 10 jobs for `by`; their ids.
async fn claim_all(db: &Db, by: &str) -> Vec<JobId> {
    let (c, taken) = claiming(by, 10, &[]);
    db.store.apply(vec![c]).await.unwrap();
    claimed(taken)
}

pub async fn a_job_after_others_starts_once_they_all_succeeded_and_not_before(db: Db) {
    let (a, b) = (new_job("demo"), new_job("demo"));
    let c = after("checksum", &[&a, &b], AfterWhen::Succeeded);
    let (make, made) = creating("me", &c);
    db.store
        .apply(vec![create("me", &a), create("me", &b), make])
        .await
        .unwrap();
    let Created::New(stored) = made.now().unwrap() else {
        panic!("the job is made");
    };
    assert_eq!(left(&stored), 2);
    assert_eq!(
        stored.after.as_ref().unwrap().jobs,
        [a.id.clone(), b.id.clone()]
    );
    // Out of line: a claim takes the jobs it needs, not it.
    let mut taken = claim_all(&db, "p1").await;
    taken.sort();
    let mut needs = vec![a.id.clone(), b.id.clone()];
    needs.sort();
    assert_eq!(taken, needs);
    // One need ends: it waits for the other, and says so in a `job` event of the same commit.
    let applied = db
        .store
        .apply(vec![to("me", &a, JobStatus::Succeeded)])
        .await
        .unwrap();
    let c_events: Vec<&CommittedEvent> = applied
        .events
        .iter()
        .filter(|e| e.event.job_id.as_ref() == Some(&c.id))
        .collect();
    assert_eq!(c_events.len(), 1, "one `job` event of the waiting job");
    assert_eq!(c_events[0].event.kind, EventType::Job);
    assert_eq!(left(&read(&db, &c).await), 1);
    assert!(claim_all(&db, "p1").await.is_empty());
    // The last one ends: it may start, once.
    db.store
        .apply(vec![to("me", &b, JobStatus::Succeeded)])
        .await
        .unwrap();
    let now = read(&db, &c).await;
    assert_eq!((now.status, left(&now)), (JobStatus::Queued, 0));
    assert_eq!(claim_all(&db, "p2").await, std::slice::from_ref(&c.id));
    assert!(claim_all(&db, "p1").await.is_empty());
}

pub async fn a_need_that_fails_cancels_the_jobs_after_it_and_theirs_in_its_commit(db: Db) {
    let a = new_job("demo");
    let b = after("demo", &[&a], AfterWhen::Succeeded);
    let c = after("demo", &[&b], AfterWhen::Succeeded);
    let d = after("checksum", &[&a], AfterWhen::Ended);
    db.store
        .apply(vec![
            create("me", &a),
            create("me", &b),
            create("me", &c),
            create("other", &d),
        ])
        .await
        .unwrap();
    assert_eq!(claim_all(&db, "p1").await, std::slice::from_ref(&a.id));
    let failed = asked(|answer| Change::Transition {
        fence: None,
        owner: named("me"),
        job_id: a.id.clone(),
        to: JobStatus::Failed,
        error: Some(JobError::new("boom", "it broke")),
        answer,
    })
    .0;
    let applied = db.store.apply(vec![failed]).await.unwrap();
    // In the commit that ends the need: b cancelled for it, c for b, each with its `done`; d,
    // which runs after it however it ends, no longer waits.
    let b_now = read(&db, &b).await;
    assert_eq!(b_now.status, JobStatus::Cancelled);
    let error = b_now.error.unwrap();
    assert_eq!(error.code, model::after::NEED_FAILED);
    assert!(error.message.contains(a.id.as_str()), "{}", error.message);
    let c_now = read(&db, &c).await;
    assert_eq!(c_now.status, JobStatus::Cancelled);
    assert!(c_now.error.unwrap().message.contains(b.id.as_str()));
    let dones: Vec<&JobId> = applied
        .events
        .iter()
        .filter(|e| e.event.kind == EventType::Done)
        .filter_map(|e| e.event.job_id.as_ref())
        .collect();
    assert_eq!(dones, [&a.id, &b.id, &c.id]);
    // The other user's job: its own events, to its owner.
    let d_event = applied
        .events
        .iter()
        .find(|e| e.event.job_id.as_ref() == Some(&d.id))
        .expect("a `job` event of d");
    assert_eq!(d_event.owner, Some(named("other")));
    assert_eq!(left(&read(&db, &d).await), 0);
    assert_eq!(claim_all(&db, "p1").await, std::slice::from_ref(&d.id));
}

pub async fn a_job_after_jobs_that_ended_is_settled_as_it_is_inserted(db: Db) {
    let (ok, bad) = (new_job("demo"), new_job("demo"));
    db.store
        .apply(vec![create("me", &ok), create("me", &bad)])
        .await
        .unwrap();
    claim_all(&db, "p1").await;
    db.store
        .apply(vec![
            to("me", &ok, JobStatus::Succeeded),
            to("me", &bad, JobStatus::Failed),
        ])
        .await
        .unwrap();
    let starts = after("demo", &[&ok], AfterWhen::Succeeded);
    let never = after("demo", &[&ok, &bad], AfterWhen::Succeeded);
    let anyway = after("demo", &[&bad], AfterWhen::Ended);
    let unknown = Job {
        after: Some(After {
            jobs: vec![JobId::random()],
            when: AfterWhen::Succeeded,
            left: 0,
        }),
        ..new_job("demo")
    };
    let (m1, starts_made) = creating("me", &starts);
    let (m2, never_made) = creating("me", &never);
    let (m3, anyway_made) = creating("me", &anyway);
    let (m4, unknown_made) = creating("me", &unknown);
    db.store.apply(vec![m1, m2, m3, m4]).await.unwrap();
    let made = |c: Created| match c {
        Created::New(job) => job,
        other => panic!("made: {other:?}"),
    };
    assert_eq!(left(&made(starts_made.now().unwrap())), 0);
    let never_now = made(never_made.now().unwrap());
    assert_eq!(never_now.status, JobStatus::Cancelled);
    assert!(never_now.error.unwrap().message.contains(bad.id.as_str()));
    assert_eq!(left(&made(anyway_made.now().unwrap())), 0);
    match unknown_made.now().unwrap() {
        Created::UnknownNeed(id) => assert_eq!(Some(&id), unknown.after.unwrap().jobs.first()),
        other => panic!("a start after no job is refused: {other:?}"),
    }
    assert!(db.store.job(None, &unknown.id).await.unwrap().is_none());
    let mut taken = claim_all(&db, "p1").await;
    taken.sort();
    let mut expected = vec![starts.id.clone(), anyway.id.clone()];
    expected.sort();
    assert_eq!(taken, expected);
}

pub async fn an_interruption_queued_again_at_once_is_no_end_for_the_jobs_after_it(db: Db) {
    let a = new_job("checksum");
    let b = after("demo", &[&a], AfterWhen::Succeeded);
    db.store
        .apply(vec![
            create("me", &a),
            create("me", &b),
            claim("p1", 1, &[]),
        ])
        .await
        .unwrap();
    let interrupt = |requeue: bool| Change::Interrupt {
        owner: named("me"),
        job_id: a.id.clone(),
        error: JobError::new(
            "interrupted",
            "the server stopped while this job was running",
        ),
        requeue,
        fence: Some(named("p1")),
        answer: Answer::none(),
    };
    db.store.apply(vec![interrupt(true)]).await.unwrap();
    assert_eq!(read(&db, &a).await.status, JobStatus::Queued);
    let b_now = read(&db, &b).await;
    assert_eq!((b_now.status, left(&b_now)), (JobStatus::Queued, 1));
    // Taken again and interrupted for good: an end that is not a success.
    assert_eq!(claim_all(&db, "p1").await, std::slice::from_ref(&a.id));
    db.store.apply(vec![interrupt(false)]).await.unwrap();
    assert_eq!(read(&db, &b).await.status, JobStatus::Cancelled);
    // A job cancelled while it waits is not settled again when its need ends.
    let c = new_job("demo");
    let d = after("demo", &[&c], AfterWhen::Ended);
    db.store
        .apply(vec![create("me", &c), create("me", &d)])
        .await
        .unwrap();
    db.store
        .apply(vec![to("me", &d, JobStatus::Cancelled)])
        .await
        .unwrap();
    assert_eq!(claim_all(&db, "p1").await, std::slice::from_ref(&c.id));
    let applied = db
        .store
        .apply(vec![to("me", &c, JobStatus::Succeeded)])
        .await
        .unwrap();
    assert!(applied
        .events
        .iter()
        .all(|e| e.event.job_id.as_ref() != Some(&d.id)));
    assert_eq!(read(&db, &d).await.status, JobStatus::Cancelled);
}
