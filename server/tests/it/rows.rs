//! `POST /api/rows`: the rows of jobs that appeared after a list was rendered, rendered by the
//! server as the list renders its own, for the caller only.

use crate::client::Session;
use crate::team::{accounts_app, add_user, signed_in};

/// Asks for the rows of `ids` (comma-separated): the status and the answer's text (JSON).
async fn rows(s: &Session, ids: &str) -> (u16, serde_json::Value) {
    let r = s
        .http
        .post(s.url("/api/rows"))
        .form(&[("ids", ids)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// Who may ask: a member gets their own jobs' rows with Cancel or Re-run and the bulk
/// checkbox, not another member's; a viewer gets every job's row without them; nobody
/// signed in gets nothing.
#[tokio::test]
async fn each_caller_gets_the_rows_of_the_jobs_they_see_with_what_they_may_do() {
    let app = accounts_app().await;
    for (name, role) in [("mia", "member"), ("max", "member"), ("vera", "viewer")] {
        add_user(&app, name, role).await;
    }
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;
    let vera = signed_in(&app, "vera").await;
    let mine = mia.demo(1, 1).await;
    mia.wait_finished(&mine).await;
    let his = max.demo(1, 1).await;

    let (status, html) = rows(&mia, &format!("{mine},{his}")).await;
    assert_eq!(status, 200, "{html}");
    let html = html.as_str().unwrap();
    assert_eq!(
        html.matches("<article").count(),
        1,
        "only her own job: {html}"
    );
    assert!(html.contains(&format!("data-job-id=\"{mine}\"")));
    assert!(
        !html.contains(&*his),
        "another member's job is not hers to see"
    );
    assert!(html.contains("class=\"job-action job-rerun\""), "{html}");
    assert!(html.contains("class=\"job-select\""), "{html}");
    assert!(
        html.contains("data-job="),
        "the row carries its job for the browser"
    );

    let (status, html) = rows(&vera, &format!("{mine},{his}")).await;
    assert_eq!(status, 200, "{html}");
    let html = html.as_str().unwrap();
    assert_eq!(
        html.matches("<article").count(),
        2,
        "a viewer sees every job: {html}"
    );
    assert!(
        !html.contains("class=\"job-action "),
        "a viewer neither cancels nor re-runs"
    );
    assert!(!html.contains("job-select"));

    let nobody = app.session();
    let (status, _) = rows(&nobody, &mine).await;
    assert_eq!(status, 401);
}

/// What bad input gets: no ids, too many, or ids that name no job. Each a clear answer, and
/// the server goes on.
#[tokio::test]
async fn bad_ids_get_a_clear_answer() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    for ids in ["", " , ,"] {
        let (status, error) = rows(&mia, ids).await;
        assert_eq!(status, 400, "{ids:?}: {error}");
        assert_eq!(error["code"], "bad_request", "{error}");
        assert!(error["message"].as_str().unwrap().contains("50"), "{error}");
    }
    // More than one call's worth (the bound keeps a call's cost known).
    let many = vec![engine::new_id(); server_bound() + 1].join(",");
    let (status, error) = rows(&mia, &many).await;
    assert_eq!(status, 400, "{error}");
    // Ids of no job, or not ids at all: no rows, no error a page would show.
    let (status, html) = rows(&mia, &format!("{},not-an-id", engine::new_id())).await;
    assert!(status == 200 || status == 400, "{status}: {html}");
    if status == 200 {
        assert_eq!(html, "");
    }
    let job = mia.demo(1, 1).await;
    let (status, html) = rows(&mia, &job).await;
    assert_eq!(status, 200);
    assert_eq!(html.as_str().unwrap().matches("<article").count(), 1);
    // A call whose arguments do not decode is refused before the function runs, as clearly.
    for body in ["", "ids=a&ids=b&nonsense=%ZZ"] {
        let r = mia
            .http
            .post(mia.url("/api/rows"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let error: serde_json::Value = r.json().await.unwrap_or_default();
        assert_eq!(status, 400, "{body:?}: {error}");
        assert_eq!(error["code"], "bad_request", "{error}");
    }
}

/// What it costs as the input grows: one row per job asked for, at most a call's bound of
/// them, each a few kilobytes.
#[tokio::test]
async fn a_calls_answer_grows_with_its_rows_and_no_further() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    let mut ids = Vec::new();
    for _ in 0..server_bound() {
        ids.push(mia.demo(1, 1).await);
    }
    let (status, html) = rows(&mia, &ids[..1].join(",")).await;
    assert_eq!(status, 200);
    let one = html.as_str().unwrap().len();
    let (status, html) = rows(&mia, &ids.join(",")).await;
    assert_eq!(status, 200);
    let html = html.as_str().unwrap();
    assert_eq!(html.matches("<article").count(), ids.len());
    // In the order asked for.
    let first = html.find(&format!("data-job-id=\"{}\"", ids[0])).unwrap();
    let last = html
        .find(&format!("data-job-id=\"{}\"", ids[ids.len() - 1]))
        .unwrap();
    assert!(first < last);
    assert!(one < 8 * 1024, "a row is {one} bytes");
    assert!(html.len() < ids.len() * 8 * 1024, "{} bytes", html.len());
}

/// The most rows one call renders.
fn server_bound() -> usize {
    app::server_fns::ROWS_PER_CALL
}

/// What a flood from one user does to everyone else: 200 calls of a full call's worth of rows
/// at once, bounded, while another member asks for their own row. Every call is answered (a
/// row each, or a refusal that says to come back), none fails, and the other member gets
/// theirs.
#[tokio::test]
async fn a_flood_of_row_calls_from_one_user_leaves_the_others_served() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;
    let mut ids = Vec::new();
    for _ in 0..server_bound() {
        ids.push(mia.demo(1, 1).await);
    }
    let his = max.demo(1, 1).await;
    let all = ids.join(",");
    let flood = futures::future::join_all((0..200).map(|_| rows(&mia, &all)));
    let (answers, (status, html)) = tokio::join!(flood, async {
        tokio::task::yield_now().await;
        rows(&max, &his).await
    });
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.as_str().unwrap().matches("<article").count(), 1);
    for (status, body) in &answers {
        assert!(
            *status == 200 || *status == 429 || *status == 503,
            "{status}: {body}"
        );
        if *status == 200 {
            assert_eq!(
                body.as_str().unwrap().matches("<article").count(),
                ids.len()
            );
        }
    }
    let (status, _) = rows(&max, &his).await;
    assert_eq!(status, 200, "and after it");
}
