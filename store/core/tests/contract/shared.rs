//! Cases for the statements both databases share (`store/core/src/sql/`), which are checked at
//! run time only: accounts and tokens, webhooks and their deliveries, and the reads the other
//! cases do not reach. With the other cases, every shared statement runs here on both.

use crate::support::Db;
use model::ids::testing::{name_of, named};
use model::webhooks::{DeliveryState, Webhook, WebhookFormat, WebhookScope};
use model::{DeliveryId, Job, JobError, JobStatus, UserId, WebhookId};
use serde_json::json;
use std::time::Duration;
use store_core::*;

fn user(id: &str, name: &str, role: &str) -> UserRow {
    UserRow {
        id: named(id),
        name: name.into(),
        role: role.into(),
        password_hash: format!("hash of {name}"),
        disabled: false,
        generation: 0,
        created_at: 10,
    }
}

fn queued(kind: &str) -> Job {
    Job::queued(model::JobId::random(), kind, json!({}), now_ms())
}

fn create(owner: &str, job: &Job) -> Change {
    Change::Create {
        owner: named(owner),
        job: job.clone(),
        max_queued: None,
        key: None,
        answer: Answer::none(),
    }
}

fn to(owner: &str, job: &Job, status: JobStatus) -> Change {
    Change::Transition {
        fence: None,
        owner: named(owner),
        job_id: job.id.clone(),
        to: status,
        error: None,
        answer: Answer::none(),
    }
}

pub async fn accounts_are_read_by_name_and_id_and_changed_all_or_nothing(db: Db) {
    let s = &db.store;
    assert!(s.create_user(&user("u-bo", "bo", "admin")).await.unwrap());
    assert!(s.create_user(&user("u-al", "al", "member")).await.unwrap());
    assert!(
        !s.create_user(&user("u-other", "al", "viewer"))
            .await
            .unwrap(),
        "a name is taken once"
    );
    let al = s.user_by_name("al").await.unwrap().unwrap();
    assert_eq!(al, user("u-al", "al", "member"));
    assert_eq!(s.user_by_id(&named("u-al")).await.unwrap(), Some(al));
    assert_eq!(s.user_by_name("nobody").await.unwrap(), None);
    let names: Vec<String> = s
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["al", "bo"], "by name");

    // The last enabled admin stays one, neither demoted nor disabled.
    let demote = UserEdit {
        role: Some("member"),
        ..Default::default()
    };
    assert_eq!(
        s.change_user("bo", &demote).await.unwrap(),
        UserEdited::LastAdmin
    );
    let disable = UserEdit {
        disabled: Some(true),
        ..Default::default()
    };
    assert_eq!(
        s.change_user("bo", &disable).await.unwrap(),
        UserEdited::LastAdmin
    );
    assert_eq!(
        s.change_user("nobody", &demote).await.unwrap(),
        UserEdited::NoSuchUser
    );
    // With another admin, it may be; all of an edit or nothing.
    let promote = UserEdit {
        role: Some("admin"),
        ..Default::default()
    };
    assert_eq!(
        s.change_user("al", &promote).await.unwrap(),
        UserEdited::Done
    );
    assert_eq!(
        s.change_user("bo", &demote).await.unwrap(),
        UserEdited::Done
    );
    let bo = s.user_by_name("bo").await.unwrap().unwrap();
    assert_eq!((bo.role.as_str(), bo.generation), ("member", 0));

    // A new password ends the account's sessions and moves its generation.
    let session = |id: &str, user: &str| SessionRow {
        id: id.into(),
        data: vec![1, 2],
        expires_at: i64::MAX / 2,
        user: Some(user.into()),
    };
    assert!(s.create_session(session("s-bo", "u-bo")).await.unwrap());
    assert!(s.create_session(session("s-al", "u-al")).await.unwrap());
    let password = UserEdit {
        password_hash: Some("new hash"),
        ..Default::default()
    };
    assert_eq!(
        s.change_user("bo", &password).await.unwrap(),
        UserEdited::Done
    );
    let bo = s.user_by_name("bo").await.unwrap().unwrap();
    assert_eq!((bo.password_hash.as_str(), bo.generation), ("new hash", 1));
    assert_eq!(s.load_session("s-bo").await.unwrap(), None);
    assert!(s.load_session("s-al").await.unwrap().is_some());
    assert_eq!(
        s.change_user("al", &disable).await.unwrap(),
        UserEdited::LastAdmin,
        "al is the last enabled admin now"
    );
}

fn token(id: &str, user_id: &str, user_name: &str, created_at: i64) -> TokenRow {
    TokenRow {
        id: id.into(),
        user_id: named(user_id),
        user_name: user_name.into(),
        name: format!("token {id}"),
        scope: "write".into(),
        created_at,
        last_used_at: None,
        revoked_at: None,
    }
}

pub async fn tokens_are_found_by_hash_listed_newest_first_touched_and_revoked(db: Db) {
    let s = &db.store;
    s.create_user(&user("u-al", "al", "member")).await.unwrap();
    s.create_user(&user("u-bo", "bo", "admin")).await.unwrap();
    s.create_token(&token("t1", "u-al", "al", 1), "h1", 100)
        .await
        .unwrap();
    s.create_token(&token("t2", "u-al", "al", 2), "h2", 100)
        .await
        .unwrap();
    s.create_token(&token("t3", "u-bo", "bo", 3), "h3", 100)
        .await
        .unwrap();
    let (found, owner) = s.token_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(found, token("t1", "u-al", "al", 1));
    assert_eq!(owner, user("u-al", "al", "member"));
    assert_eq!(s.token_by_hash("nothing").await.unwrap(), None);
    let ids = |tokens: Vec<TokenRow>| tokens.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.tokens(None, None, 100).await.unwrap()),
        ["t3", "t2", "t1"]
    );
    assert_eq!(
        ids(s.tokens(Some(&named("u-al")), None, 100).await.unwrap()),
        ["t2", "t1"]
    );
    s.touch_token("t1", 50).await.unwrap();
    // Only its owner's revocation (or anyone's with `None`) revokes it, once.
    assert!(!s
        .revoke_token("t1", Some(&named("u-bo")), 60)
        .await
        .unwrap());
    assert!(s
        .revoke_token("t1", Some(&named("u-al")), 60)
        .await
        .unwrap());
    assert!(!s.revoke_token("t1", None, 61).await.unwrap());
    assert!(s.revoke_token("t3", None, 62).await.unwrap());
    assert_eq!(s.token_by_hash("h1").await.unwrap(), None, "revoked");
    let t1 = s
        .tokens(Some(&named("u-al")), None, 100)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!((t1.last_used_at, t1.revoked_at), (Some(50), Some(60)));

    // An anonymous user's tokens: apart from accounts', named "anonymous".
    let anon: UserId = named("anon-1");
    s.create_anonymous_token(&token("a1", "anon-1", "anonymous", 5), "ha1", 100)
        .await
        .unwrap();
    s.create_anonymous_token(&token("a2", "anon-1", "anonymous", 6), "ha2", 100)
        .await
        .unwrap();
    assert_eq!(
        s.anonymous_token_by_hash("ha1").await.unwrap(),
        Some(token("a1", "anon-1", "anonymous", 5))
    );
    assert_eq!(s.token_by_hash("ha1").await.unwrap(), None);
    s.touch_anonymous_token("a1", 70).await.unwrap();
    assert!(!s
        .revoke_anonymous_token("a1", &named("anon-2"), 80)
        .await
        .unwrap());
    assert!(s.revoke_anonymous_token("a1", &anon, 80).await.unwrap());
    assert_eq!(s.anonymous_token_by_hash("ha1").await.unwrap(), None);
    let listed = s.anonymous_tokens(&anon, None, 100).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|t| (t.id.as_str(), t.last_used_at, t.revoked_at))
            .collect::<Vec<_>>(),
        [("a2", None, None), ("a1", Some(70), Some(80))]
    );
}

pub async fn tokens_in_force_are_bounded_and_listed_a_page_at_a_time(db: Db) {
    let s = &db.store;
    s.create_user(&user("u-al", "al", "member")).await.unwrap();
    s.create_user(&user("u-bo", "bo", "member")).await.unwrap();
    // Three in force at most: the fourth is refused, nothing written; another user's bound is
    // their own; a revoked token makes room.
    for n in 1..=3 {
        let added = s
            .create_token(
                &token(&format!("t{n}"), "u-al", "al", n),
                &format!("h{n}"),
                3,
            )
            .await
            .unwrap();
        assert_eq!(added, TokenAdded::Added);
    }
    let refused = s
        .create_token(&token("t4", "u-al", "al", 4), "h4", 3)
        .await
        .unwrap();
    assert_eq!(refused, TokenAdded::TooMany(3));
    assert_eq!(s.token_by_hash("h4").await.unwrap(), None);
    assert_eq!(
        s.create_token(&token("b1", "u-bo", "bo", 5), "hb1", 3)
            .await
            .unwrap(),
        TokenAdded::Added
    );
    assert!(s.revoke_token("t2", None, 6).await.unwrap());
    assert_eq!(
        s.create_token(&token("t4", "u-al", "al", 7), "h4", 3)
            .await
            .unwrap(),
        TokenAdded::Added
    );

    // Pages, newest first, each after the last of the one before; an unknown cursor (or
    // another user's token) is the end.
    let ids = |tokens: Vec<TokenRow>| tokens.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let al = named("u-al");
    assert_eq!(
        ids(s.tokens(Some(&al), None, 3).await.unwrap()),
        ["t4", "t3", "t2"]
    );
    assert_eq!(
        ids(s.tokens(Some(&al), Some("t2"), 3).await.unwrap()),
        ["t1"]
    );
    assert!(s.tokens(Some(&al), Some("t1"), 3).await.unwrap().is_empty());
    assert!(s.tokens(Some(&al), Some("b1"), 3).await.unwrap().is_empty());
    assert!(s
        .tokens(Some(&al), Some("none"), 3)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(s.tokens(None, Some("b1"), 2).await.unwrap()),
        ["t3", "t2"]
    );

    // An anonymous user's, alike.
    let anon: UserId = named("anon-1");
    for n in 1..=2 {
        let added = s
            .create_anonymous_token(
                &token(&format!("a{n}"), "anon-1", "anonymous", n),
                &format!("ha{n}"),
                2,
            )
            .await
            .unwrap();
        assert_eq!(added, TokenAdded::Added);
    }
    assert_eq!(
        s.create_anonymous_token(&token("a3", "anon-1", "anonymous", 3), "ha3", 2)
            .await
            .unwrap(),
        TokenAdded::TooMany(2)
    );
    assert_eq!(
        ids(s.anonymous_tokens(&anon, None, 1).await.unwrap()),
        ["a2"]
    );
    assert_eq!(
        ids(s.anonymous_tokens(&anon, Some("a2"), 1).await.unwrap()),
        ["a1"]
    );
}

fn webhook(id: &str, owner_id: &str, created_at: i64) -> WebhookRow {
    WebhookRow {
        webhook: Webhook {
            id: named(id),
            owner: format!("name of {owner_id}"),
            url: format!("https://example.com/{id}"),
            statuses: vec![JobStatus::Failed],
            kinds: vec!["demo".into()],
            format: WebhookFormat::Slack,
            scope: WebhookScope::All,
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            created_at,
        },
        owner_id: named(owner_id),
        secret: format!("secret of {id}"),
    }
}

fn delivery(id: &str, hook: &str, at: i64) -> NewDelivery {
    NewDelivery {
        id: named(id),
        webhook_id: named(hook),
        event: "job.ended".into(),
        job_id: None,
        payload: format!("{{\"n\":\"{id}\"}}"),
        created_at: at,
    }
}

/// A failed attempt of `delivery` (a 500) at `at`, or an answered one.
fn attempt<'a>(
    delivery: &'a DeliveryId,
    webhook: &'a WebhookId,
    at: i64,
    next: Next,
) -> Attempt<'a> {
    Attempt {
        delivery,
        webhook,
        at,
        status: Some(500),
        error: Some("refused"),
        next,
    }
}

pub async fn webhooks_are_kept_per_owner_and_their_deliveries_come_due_in_turns(db: Db) {
    let s = &db.store;
    assert!(s.create_webhook(&webhook("w1", "al", 1), 2).await.unwrap());
    assert!(s.create_webhook(&webhook("w2", "al", 2), 2).await.unwrap());
    assert!(
        !s.create_webhook(&webhook("w3", "al", 3), 2).await.unwrap(),
        "two webhooks per owner at most"
    );
    assert!(s.create_webhook(&webhook("w4", "bo", 4), 2).await.unwrap());
    assert_eq!(
        s.webhook(&named("w1")).await.unwrap(),
        Some(webhook("w1", "al", 1))
    );
    let ids = |rows: Vec<WebhookRow>| rows.into_iter().map(|r| r.webhook.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.webhooks(Some(&named("al"))).await.unwrap()),
        [named::<WebhookId>("w1"), named("w2")]
    );
    assert_eq!(s.webhooks(None).await.unwrap().len(), 3);

    // Deliveries due come in turns: each owner's longest waiting first.
    for (id, hook, at) in [("d1", "w1", 10), ("d2", "w2", 11), ("d3", "w1", 12)] {
        s.add_delivery(&delivery(id, hook, at)).await.unwrap();
    }
    s.add_delivery(&delivery("d4", "w4", 13)).await.unwrap();
    assert_eq!(
        s.pending_deliveries(&named("w1"), "job.ended")
            .await
            .unwrap(),
        2
    );
    let due = |rows: Vec<DeliveryRow>| {
        rows.into_iter()
            .map(|r| name_of(&r.delivery.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        due(s.due_deliveries(100, 10, 10).await.unwrap()),
        ["d1", "d4", "d2", "d3"]
    );
    assert_eq!(
        due(s.due_deliveries(100, 1, 10).await.unwrap()),
        ["d1", "d4"]
    );
    assert_eq!(
        due(s.due_deliveries(11, 10, 10).await.unwrap()),
        ["d1", "d2"]
    );
    let listed = s.deliveries(&named("w1"), 10).await.unwrap();
    assert_eq!(due(listed.clone()), ["d3", "d1"], "newest first");
    assert_eq!(listed[1].payload, "{\"n\":\"d1\"}");
    assert_eq!(listed[1].retry_from, 10);

    // A failed attempt starts the webhook's failing; an answered one ends it.
    let (w1, d1, d3): (WebhookId, DeliveryId, DeliveryId) = (named("w1"), named("d1"), named("d3"));
    assert_eq!(
        s.record_attempt(&attempt(&d1, &w1, 20, Next::RetryAt(30)))
            .await
            .unwrap(),
        Some(20)
    );
    assert_eq!(
        s.record_attempt(&attempt(&d3, &w1, 25, Next::GiveUp))
            .await
            .unwrap(),
        Some(20),
        "failing since the first failure"
    );
    let first = s.deliveries(&w1, 10).await.unwrap().pop().unwrap();
    assert_eq!(
        (
            first.delivery.state,
            first.delivery.attempts,
            first.delivery.last_status,
            first.delivery.next_attempt_at
        ),
        (DeliveryState::Pending, 1, Some(500), Some(30))
    );
    assert_eq!(
        s.record_attempt(&attempt(&d1, &w1, 31, Next::Delivered))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.webhook(&named("w1"))
            .await
            .unwrap()
            .unwrap()
            .webhook
            .failing_since,
        None
    );
    // Sent again from now, whatever became of it; given up on without an attempt.
    assert!(s
        .resend_delivery(&named("w1"), &named("d3"), 40)
        .await
        .unwrap());
    assert!(!s
        .resend_delivery(&named("w2"), &named("d3"), 40)
        .await
        .unwrap());
    assert!(s.drop_delivery(&named("d3"), "too old").await.unwrap());
    assert!(!s.drop_delivery(&named("d3"), "too old").await.unwrap());
    let d3 = s.deliveries(&named("w1"), 1).await.unwrap().pop().unwrap();
    assert_eq!(
        (
            d3.delivery.state,
            d3.delivery.last_error.as_deref(),
            d3.retry_from
        ),
        (DeliveryState::Failed, Some("too old"), 40)
    );

    // Disabled, a webhook's pending deliveries fail and none come due; enabled again, it
    // forgets why.
    assert!(s
        .disable_webhook(&named("w2"), Some("gone"), 50)
        .await
        .unwrap());
    let w2 = s.webhook(&named("w2")).await.unwrap().unwrap().webhook;
    assert_eq!(
        (w2.enabled, w2.disabled_reason.as_deref(), w2.failing_since),
        (false, Some("gone"), Some(50))
    );
    assert_eq!(
        s.pending_deliveries(&named("w2"), "job.ended")
            .await
            .unwrap(),
        0
    );
    assert_eq!(due(s.due_deliveries(100, 10, 10).await.unwrap()), ["d4"]);
    assert!(s.enable_webhook(&named("w2")).await.unwrap());
    let w2 = s.webhook(&named("w2")).await.unwrap().unwrap().webhook;
    assert_eq!(
        (w2.enabled, w2.disabled_reason, w2.failing_since),
        (true, None, None)
    );

    // Pruned: the deliveries done with, made before the time; deleted: a webhook and its own.
    assert_eq!(s.prune_deliveries(12).await.unwrap(), 2, "d1 and d2");
    assert_eq!(due(s.deliveries(&named("w1"), 10).await.unwrap()), ["d3"]);
    assert!(s.delete_webhook(&named("w1")).await.unwrap());
    assert!(!s.delete_webhook(&named("w1")).await.unwrap());
    assert!(s.deliveries(&named("w1"), 10).await.unwrap().is_empty());
}

pub async fn jobs_are_counted_by_who_sees_them_and_external_leases_run_out(db: Db) {
    let s = &db.store;
    let (mine, theirs) = (queued("demo"), queued("demo"));
    let outside = queued(model::EXTERNAL_KIND);
    s.apply(vec![
        create("me", &mine),
        create("you", &theirs),
        create("me", &outside),
    ])
    .await
    .unwrap();
    let all = [mine.id.clone(), theirs.id.clone(), named("no-such-job")];
    assert_eq!(s.count_jobs(None, &all).await.unwrap(), 2);
    assert_eq!(s.count_jobs(Some(&named("me")), &all).await.unwrap(), 1);
    assert_eq!(s.count_jobs(None, &[]).await.unwrap(), 0);
    assert_eq!(s.job_owner(&theirs.id).await.unwrap(), Some(named("you")));
    assert_eq!(s.job_owner(&named("no-such-job")).await.unwrap(), None);

    // An external job: running at once with the hash of its token, until its lease ends.
    assert_eq!(s.report_hash(&outside.id).await.unwrap(), None);
    s.apply(vec![Change::Open {
        owner: named("me"),
        job_id: outside.id.clone(),
        report_hash: "token hash".into(),
        lease_until: 1_000,
        answer: Answer::none(),
    }])
    .await
    .unwrap();
    assert_eq!(
        s.report_hash(&outside.id).await.unwrap(),
        Some((named("me"), "token hash".into()))
    );
    assert_eq!(s.report_hash(&mine.id).await.unwrap(), None, "not external");
    assert!(s.expired_leases(1_000, 10).await.unwrap().is_empty());
    assert_eq!(
        s.expired_leases(1_001, 10).await.unwrap(),
        [(named("me"), outside.id.clone())]
    );
    s.apply(vec![Change::Expire {
        owner: named("me"),
        job_id: outside.id.clone(),
        now: 1_001,
        error: JobError::new("lost", "no report"),
        answer: Answer::none(),
    }])
    .await
    .unwrap();
    assert!(s.expired_leases(1_001, 10).await.unwrap().is_empty());
}

pub async fn the_figures_count_what_waits_what_runs_and_what_ended(db: Db) {
    let s = &db.store;
    s.check_ready(Duration::from_secs(10)).await.unwrap();
    let (a, b, c, d) = (
        queued("demo"),
        queued("demo"),
        queued("checksum"),
        queued("demo"),
    );
    s.apply(vec![
        create("me", &a),
        create("me", &b),
        create("you", &c),
        create("me", &d),
        to("me", &a, JobStatus::Running),
        to("you", &c, JobStatus::Running),
        to("me", &d, JobStatus::Running),
        to("me", &d, JobStatus::Failed),
    ])
    .await
    .unwrap();
    assert_eq!(s.queued_count(&named("me")).await.unwrap(), 1);
    assert_eq!(s.queued_count(&named("you")).await.unwrap(), 0);
    let mut running: Vec<String> = s
        .running_jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    running.sort();
    assert_eq!(running, ["checksum", "demo"]);
    let ended = s.finished_since(0).await.unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0].kind.as_str(), ended[0].status.as_str()),
        ("demo", "failed")
    );
    assert!(ended[0].queued_ms.is_some() && ended[0].ran_ms.is_some());
    assert!(s
        .finished_since(now_ms() + 60_000)
        .await
        .unwrap()
        .is_empty());
    let mut unfinished: Vec<(String, &str, u64)> = s
        .unfinished_by_kind()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.n > 0) // a count that fell back to 0 may keep its row
        .map(|k| (k.kind, k.status.as_str(), k.n))
        .collect();
    unfinished.sort();
    assert_eq!(
        unfinished,
        [
            ("checksum".into(), "running", 1),
            ("demo".into(), "queued", 1),
            ("demo".into(), "running", 1),
        ]
    );
    assert_eq!(s.schedule_count(&named("me")).await.unwrap(), 0);
}

/// Workers on other machines: their tokens, their registry rows (which a server's own reaping
/// leaves alone), the jobs each holds, and a report fenced by the worker that holds the job.
pub async fn workers_register_hold_jobs_are_reaped_and_reports_are_fenced(db: Db) {
    let s = &db.store;
    let token = WorkerTokenRow {
        id: "t1".into(),
        name: "gpu box".into(),
        created_at: 10,
        last_used_at: None,
        revoked_at: None,
    };
    s.create_worker_token(&token, "hash 1").await.unwrap();
    assert_eq!(
        s.worker_token_by_hash("hash 1").await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(s.worker_token_by_hash("hash 2").await.unwrap(), None);
    s.touch_worker_token("t1", 20).await.unwrap();
    assert_eq!(s.worker_tokens().await.unwrap()[0].last_used_at, Some(20));
    let worker = RemoteRow {
        id: named("w1"),
        name: "gpu-1".into(),
        host: "gpu-1.lan".into(),
        build: "0.1.0".into(),
        pid: 7,
        tags: vec!["eu".into(), "gpu".into()],
        slots: 4,
        state: "active".into(),
        token_id: "t1".into(),
        commands: "[[command]]\nname = \"render\"\n".into(),
        started_at: 0,
        heartbeat_at: 0,
    };
    let registered = s.register_remote(&worker).await.unwrap();
    assert!(registered.started_at > 0);
    assert_eq!(
        RemoteRow {
            started_at: 0,
            heartbeat_at: 0,
            ..registered
        },
        worker
    );
    assert_eq!(s.remote(&named("w1")).await.unwrap().unwrap().slots, 4);
    assert_eq!(s.remotes().await.unwrap().len(), 1);
    // A server's own reaping leaves workers alone, whatever the database.
    s.register(&ProcessRow {
        id: named("server"),
        role: "all".into(),
        build: "b".into(),
        host: "h".into(),
        pid: 1,
        started_at: 0,
        heartbeat_at: 0,
        tags: Vec::new(),
        name: String::new(),
    })
    .await
    .unwrap();
    s.reap_stale(&named("server"), -1).await.unwrap();
    assert!(s.remote(&named("w1")).await.unwrap().is_some());
    assert!(s.set_remote_state(&named("w1"), "draining").await.unwrap());
    assert!(!s
        .set_remote_state(&named("nobody"), "draining")
        .await
        .unwrap());

    // A job it holds, and a report on it: fenced by the worker.
    let job = queued("render");
    s.apply(vec![create("me", &job)]).await.unwrap();
    s.apply(vec![Change::Claim {
        by: named("w1"),
        slots: 1,
        kinds: vec!["render".into()],
        limits: Vec::new(),
        declared: Vec::new(),
        per_owner: u32::MAX,
        answer: Answer::none(),
    }])
    .await
    .unwrap();
    assert_eq!(
        s.held_jobs(&named("w1")).await.unwrap(),
        [HeldJob {
            id: job.id.clone(),
            status: JobStatus::Running,
            log_seq: 0,
        }]
    );
    let held = s.claimed_job(&job.id).await.unwrap().unwrap();
    assert_eq!(
        (held.owner, held.claimed_by),
        (named("me"), Some(named("w1")))
    );
    let report = |fence: &str, seq: u64| ExternalReport {
        owner: named("me"),
        job_id: job.id.clone(),
        bounds: Default::default(),
        log: vec![model::ReportLine {
            seq,
            level: model::LogLevel::Info,
            line: format!("line {seq}"),
        }],
        progress: None,
        result: None,
        end: None,
        lease_until: 0,
        fence: Some(named(fence)),
    };
    let (answer, taken) = Answer::new();
    s.apply(vec![Change::Report {
        report: Box::new(report("w1", 1)),
        answer,
    }])
    .await
    .unwrap();
    assert!(matches!(
        taken.get().await.unwrap(),
        Reported::Taken { acked: 1, .. }
    ));
    let (answer, refused) = Answer::new();
    s.apply(vec![Change::Report {
        report: Box::new(report("w2", 2)),
        answer,
    }])
    .await
    .unwrap();
    assert_eq!(
        refused.get().await.unwrap(),
        Reported::NotRunning,
        "another worker's"
    );
    assert_eq!(
        s.held_jobs(&named("w1")).await.unwrap()[0].log_seq,
        1,
        "where its log stands, for the worker to number on from"
    );

    // Silent past its lease, or its token revoked: removed, and its job is an orphan.
    assert!(s.reap_remotes(3_600_000).await.unwrap().is_empty());
    assert!(s.revoke_worker_token("t1", 30).await.unwrap());
    assert!(!s.revoke_worker_token("t1", 31).await.unwrap());
    assert_eq!(s.worker_token_by_hash("hash 1").await.unwrap(), None);
    assert_eq!(
        s.reap_remotes(3_600_000).await.unwrap(),
        [named::<model::ProcessId>("w1")]
    );
    assert!(s.remotes().await.unwrap().is_empty());
    assert!(s
        .orphaned_jobs()
        .await
        .unwrap()
        .iter()
        .any(|o| o.job.id == job.id));
}
