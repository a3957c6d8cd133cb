//! Workflow runs: a run's tally kept in its row as its steps end, and a run counted once.

use crate::cases::{asked, create, new_job, to};
use crate::support::Db;
use model::ids::testing::named;
use model::workflows::run::{Each, EachSpec, OnFailure, Plan, PlanStep, RunParams};
use model::workflows::WORKFLOW_KIND;
use model::{EventType, Job, JobId, JobStatus, StatusCount};
use serde_json::{json, Value};
use store_core::*;

/// A run of one fan-out step over `items` items of kind `demo`, all of them at once: the run's
/// job, its plan and its group's job.
fn fan_out(items: usize) -> (Job, String, Job) {
    fan_out_within(items, None)
}

/// [`fan_out`], its items made only if they fit beside their owner's jobs waiting within
/// `max_queued`.
fn fan_out_within(items: usize, max_queued: Option<u64>) -> (Job, String, Job) {
    let step = PlanStep {
        name: "each".into(),
        kind: "demo".into(),
        needs: Vec::new(),
        params: json!({"n": "{item}"}),
        each: Some(EachSpec {
            list: "{list}".into(),
            concurrency: None,
            succeed_at: 100,
        }),
    };
    let params = RunParams {
        workflow: "many".into(),
        params: serde_json::Map::from_iter([(
            "list".to_string(),
            // A count: the items 0 to items - 1.
            Value::from(items),
        )]),
        each: None,
    };
    let run = Job::queued(
        JobId::random(),
        WORKFLOW_KIND,
        serde_json::to_value(&params).unwrap(),
        now_ms(),
    );
    let plan = Plan {
        on_failure: OnFailure::Cancel,
        steps: vec![step.clone()],
        succeed_at: None,
    };
    let group = RunParams {
        each: Some(Each {
            step,
            max_attempts: 1,
            max_queued,
        }),
        ..params
    };
    let group = Job {
        parent: Some(run.id.clone()),
        step: Some("each".into()),
        ..Job::queued(
            JobId::random(),
            WORKFLOW_KIND,
            serde_json::to_value(&group).unwrap(),
            now_ms(),
        )
    };
    (run, serde_json::to_string(&plan).unwrap(), group)
}

/// Starts, as `me`'s, a run of a fan-out over `items` items (with the changes `with` in its
/// batch): the run's job, its group's and the items, each made.
async fn started(db: &Db, items: usize, with: Vec<Change>) -> (Job, Job, Vec<Job>) {
    let (run, plan, group) = fan_out(items);
    let (start, answer) = asked(|answer| Change::StartRun {
        owner: named("me"),
        run: run.clone(),
        plan,
        steps: vec![group.clone()],
        max_queued: None,
        key: None,
        answer,
    });
    db.store
        .apply(std::iter::once(start).chain(with).collect())
        .await
        .unwrap();
    assert!(matches!(answer.now().unwrap(), Created::New(_)));
    let made = db
        .store
        .list_jobs(
            Some(&named("me")),
            &JobFilter {
                steps: Steps::Of(group.id.clone()),
                limit: items as u32 + 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(made.len(), items);
    (run, group, made)
}

/// What the dashboard counts of `me`'s jobs in each of `statuses`.
async fn my_counts(db: &Db, statuses: &[JobStatus]) -> Vec<u64> {
    let counts: Vec<StatusCount> = db
        .store
        .status_counts(Some(&named("me")), None)
        .await
        .unwrap();
    statuses
        .iter()
        .map(|s| counts.iter().find(|c| c.status == *s).map_or(0, |c| c.n))
        .collect()
}

/// The progress events of `job` among `events`: their messages.
fn bars(events: &[CommittedEvent], job: &JobId) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.event.kind == EventType::Progress && e.event.job_id.as_ref() == Some(job))
        .map(|e| {
            let data: Value = serde_json::from_str(&e.event.data).unwrap();
            data["message"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

pub async fn a_fan_out_past_its_owners_share_fails_its_step_and_makes_no_item(db: Db) {
    // Two jobs of the owner's wait already: 9 items pass a share of 10, 8 fit.
    let waiting = [new_job("demo"), new_job("demo")];
    db.store
        .apply(waiting.iter().map(|j| create("me", j)).collect())
        .await
        .unwrap();
    for (items, fits) in [(9, false), (8, true)] {
        let (run, plan, group) = fan_out_within(items, Some(10));
        let (start, answer) = asked(|answer| Change::StartRun {
            owner: named("me"),
            run: run.clone(),
            plan,
            steps: vec![group.clone()],
            max_queued: Some(10),
            key: None,
            answer,
        });
        db.store.apply(vec![start]).await.unwrap();
        assert!(matches!(answer.now().unwrap(), Created::New(_)));
        let group = db.store.job(None, &group.id).await.unwrap().unwrap();
        let made = db
            .store
            .list_jobs(
                Some(&named("me")),
                &JobFilter {
                    steps: Steps::Of(group.id.clone()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        match fits {
            false => {
                assert_eq!(group.status, JobStatus::Failed, "{group:?}");
                let error = group.error.unwrap();
                assert_eq!(error.code, "step_params");
                assert!(
                    error.message.contains("would make 9 jobs")
                        && error.message.contains("the 2 its owner has waiting")
                        && error.message.contains("the 10 one user may have waiting"),
                    "{}",
                    error.message
                );
                assert!(made.is_empty(), "{made:?}");
            }
            true => {
                assert_eq!(group.status, JobStatus::Running, "{group:?}");
                assert_eq!(made.len(), 8);
            }
        }
    }
}

pub async fn a_runs_steps_count_against_its_owners_share_with_the_jobs_waiting(db: Db) {
    let waiting = new_job("demo");
    db.store.apply(vec![create("me", &waiting)]).await.unwrap();
    // With one waiting, a run of three steps fits a share of four, one of four does not.
    for (n, fits) in [(4, false), (3, true)] {
        let run = Job::queued(JobId::random(), WORKFLOW_KIND, json!({}), now_ms());
        let steps: Vec<Job> = (0..n)
            .map(|i| Job {
                parent: Some(run.id.clone()),
                step: Some(format!("s{i}")),
                ..new_job("demo")
            })
            .collect();
        let (start, answer) = asked(|answer| Change::StartRun {
            owner: named("me"),
            run: run.clone(),
            plan: serde_json::to_string(&Plan {
                on_failure: OnFailure::Cancel,
                steps: Vec::new(),
                succeed_at: None,
            })
            .unwrap(),
            steps,
            max_queued: Some(4),
            key: None,
            answer,
        });
        db.store.apply(vec![start]).await.unwrap();
        match (answer.now().unwrap(), fits) {
            (Created::Full { waiting }, false) => assert_eq!(waiting, 1),
            (Created::New(_), true) => {}
            (other, _) => panic!("{n} steps: {other:?}"),
        }
    }
    // One waiting and the three steps: the share of four is full.
    let (more, answer) = asked(|answer| Change::Create {
        owner: named("me"),
        job: new_job("demo"),
        max_queued: Some(4),
        key: None,
        answer,
    });
    db.store.apply(vec![more]).await.unwrap();
    assert!(
        matches!(answer.now().unwrap(), Created::Full { waiting: 4 }),
        "the steps are not counted"
    );
}

pub async fn a_fan_out_of_thousands_ends_from_its_tally_and_its_run_counts_once(db: Db) {
    const ITEMS: usize = 3000;
    let other = new_job("demo");
    let (run, group, items) = started(&db, ITEMS, vec![create("me", &other)]).await;
    // The dashboard counts the run once and the other job: not the group, nor its items.
    assert_eq!(
        my_counts(&db, &[JobStatus::Running, JobStatus::Queued]).await,
        [1, 1]
    );
    // The items end 500 to a batch, one in ten failing: each batch draws the group's bar and
    // the run's once, however many items ended in it.
    let mut group_bars = Vec::new();
    let mut run_bars = Vec::new();
    for chunk in items.chunks(500) {
        let mut changes = Vec::new();
        for (i, item) in chunk.iter().enumerate() {
            changes.push(to("me", item, JobStatus::Running));
            let end = match i % 10 {
                0 => JobStatus::Failed,
                _ => JobStatus::Succeeded,
            };
            changes.push(to("me", item, end));
        }
        let applied = db.store.apply(changes).await.unwrap();
        group_bars.extend(bars(&applied.events, &group.id));
        run_bars.extend(bars(&applied.events, &run.id));
    }
    assert_eq!(group_bars.len(), ITEMS / 500, "{group_bars:?}");
    assert_eq!(
        group_bars.last().unwrap(),
        "2,700 of 3,000 done, 300 failed"
    );
    assert_eq!(group_bars[0], "450 of 3,000 done, 50 failed");
    assert_eq!(run_bars.len(), ITEMS / 500, "{run_bars:?}");
    // Fewer than 100 % succeeded: the group failed, saying how many did; the run with it.
    let group = db.store.job(None, &group.id).await.unwrap().unwrap();
    assert_eq!(group.status, JobStatus::Failed, "{group:?}");
    assert_eq!(
        group.error.unwrap().message,
        "2,700 of 3,000 items succeeded, fewer than 100 %"
    );
    let run = db.store.job(None, &run.id).await.unwrap().unwrap();
    assert_eq!(run.status, JobStatus::Failed, "{run:?}");
    // Its one step failed: its bar shows where it stopped, none of its steps done.
    assert_eq!((run.progress.current, run.progress.total), (0, Some(1000)));
    assert_eq!(
        my_counts(
            &db,
            &[JobStatus::Running, JobStatus::Failed, JobStatus::Queued]
        )
        .await,
        [0, 1, 1]
    );
}

/// A step's progress on `item` as `me`'s.
fn progress(item: &Job, current: u64, total: Option<u64>) -> Change {
    Change::Progress {
        fence: None,
        owner: named("me"),
        job_id: item.id.clone(),
        progress: model::Progress {
            current,
            total,
            ..Default::default()
        },
        answer: Answer::none(),
    }
}

pub async fn a_runs_bar_moves_with_its_active_steps_share_of_their_totals(db: Db) {
    let (run, group, items) = started(&db, 5, Vec::new()).await;
    let mut changes: Vec<Change> = items
        .iter()
        .map(|i| to("me", i, JobStatus::Running))
        .collect();
    // A quarter done, past its total, a total of nothing, no total, and one ended.
    changes.extend([
        progress(&items[0], 25, Some(100)),
        progress(&items[1], 900, Some(100)),
        progress(&items[2], 3, Some(0)),
        progress(&items[3], 7, None),
        to("me", &items[4], JobStatus::Succeeded),
    ]);
    db.store.apply(changes).await.unwrap();
    let bar = |job: Job| (job.progress.current, job.progress.total);
    let group_now = db.store.job(None, &group.id).await.unwrap().unwrap();
    // One item ended (1000) and two with totals: 250 and, at most, 1000.
    assert_eq!(bar(group_now), (2250, Some(5000)));
    // The run's one step is the group, active without a total of its own on the run's scale:
    // its share is the group's bar.
    let run_now = db.store.job(None, &run.id).await.unwrap().unwrap();
    assert_eq!(bar(run_now), (450, Some(1000)));
    // Once they end, the shares are gone and the ends count whole.
    let ends: Vec<Change> = items[..4]
        .iter()
        .map(|i| to("me", i, JobStatus::Succeeded))
        .collect();
    db.store.apply(ends).await.unwrap();
    let run_now = db.store.job(None, &run.id).await.unwrap().unwrap();
    assert_eq!(run_now.status, JobStatus::Succeeded, "{run_now:?}");
    assert_eq!(bar(run_now), (1000, Some(1000)));
}

/// A run of independent steps `s0`… (the plan's `on_failure` as given), all of them waiting.
async fn run_of_steps(db: &Db, n: usize, on_failure: OnFailure) -> (Job, Vec<Job>) {
    let params = RunParams {
        workflow: "steps".into(),
        params: serde_json::Map::new(),
        each: None,
    };
    let params = serde_json::to_value(&params).unwrap();
    let run = Job::queued(JobId::random(), WORKFLOW_KIND, params, now_ms());
    let steps: Vec<Job> = (0..n)
        .map(|i| Job {
            parent: Some(run.id.clone()),
            step: Some(format!("s{i}")),
            ..new_job("demo")
        })
        .collect();
    let plan = Plan {
        on_failure,
        steps: Vec::new(),
        succeed_at: None,
    };
    let (start, answer) = asked(|answer| Change::StartRun {
        owner: named("me"),
        run: run.clone(),
        plan: serde_json::to_string(&plan).unwrap(),
        steps: steps.clone(),
        max_queued: None,
        key: None,
        answer,
    });
    db.store.apply(vec![start]).await.unwrap();
    assert!(matches!(answer.now().unwrap(), Created::New(_)));
    (run, steps)
}

pub async fn a_step_cancelled_by_hand_stops_its_run_starting_the_others(db: Db) {
    let cancel = |job: &Job| Change::Cancel {
        owner: named("me"),
        job_id: job.id.clone(),
        to: JobStatus::Cancelled,
        by: None,
        answer: Answer::none(),
    };
    let status = |id: JobId| {
        let s = &db.store;
        async move { s.job(None, &id).await.unwrap().unwrap() }
    };
    // The run can no longer succeed: with on_failure = "cancel", the steps waiting beside the
    // one cancelled are cancelled too, saying why, and the run ends.
    let (run, steps) = run_of_steps(&db, 3, OnFailure::Cancel).await;
    db.store.apply(vec![cancel(&steps[0])]).await.unwrap();
    for sibling in &steps[1..] {
        let sibling = status(sibling.id.clone()).await;
        assert_eq!(sibling.status, JobStatus::Cancelled, "{sibling:?}");
        let error = sibling.error.unwrap();
        assert_eq!(error.code, "step_failed");
        assert_eq!(
            error.message,
            "step \"s0\" was cancelled, so the run stopped starting steps"
        );
    }
    let run = status(run.id).await;
    assert!(run.status.is_terminal(), "{run:?}");
    // With on_failure = "finish", the others still run.
    let (run, steps) = run_of_steps(&db, 2, OnFailure::Finish).await;
    db.store.apply(vec![cancel(&steps[0])]).await.unwrap();
    assert_eq!(status(steps[1].id.clone()).await.status, JobStatus::Queued);
    assert_eq!(status(run.id).await.status, JobStatus::Running);
}
