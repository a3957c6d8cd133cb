//! Every page, for everyone, in every language: a server with accounts and one open server,
//! each holding a finished, a failed and a running job, an import of an upload, a schedule and a
//! webhook; then every page route of the app (from its router, so that a new page is swept
//! without a line here) asked by each kind of caller in English and in Chinese. No answer may
//! be a 5xx, none may be empty (a closed connection is the worst of both), and a page is a whole
//! document. The refusals a page gives (403, the 404 page) are pages too.

use crate::client::{Session, WAIT};
use crate::files::upload;
use crate::harness::{app, App};
use crate::team::{add_user, signed_in};
use futures::StreamExt;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};
use serde_json::{json, Value};
use server::config::AuthMode;

/// The `Accept-Language` of an English and of a Chinese browser.
const LANGUAGES: [&str; 2] = ["en", "zh-CN,zh;q=0.9"];

/// What a server holds once [`fill`] has run, by its owner's hand.
struct Held {
    /// Finished, failed, running, and an import with an output.
    jobs: Vec<String>,
    schedule: String,
    webhook: String,
}

/// Gives `owner` a job in every state a page draws, an upload and the import that read it, a
/// schedule and a webhook (whose deliveries fail: nothing listens where it posts).
async fn fill(owner: &Session) -> Held {
    // First, so that the failed job's end is delivered (and fails).
    let webhook = crate::webhooks::register(
        owner,
        json!({"url": "http://127.0.0.1:9/headway", "statuses": ["failed"]}),
    )
    .await;
    let finished = owner.demo(2, 1).await;
    let (status, failed) = owner
        .create_raw(&json!({
            "kind": "demo",
            "params": {"steps": 2, "interval_ms": 1, "fail_attempts": 1},
            "max_attempts": 1,
        }))
        .await;
    assert_eq!(status, 201, "{failed}");
    let failed = failed["id"].as_str().unwrap().to_string();
    let running = owner.demo(100_000, 50).await;
    let (status, up) = upload(
        owner,
        "people ✓.csv",
        "text/csv",
        "name,age\nAda,36\nBob\n".into(),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    let (status, import) = owner
        .create("import_csv", json!({"upload": up["id"], "table": "people"}))
        .await;
    assert_eq!(status, 201, "{import}");
    let import = import["id"].as_str().unwrap().to_string();
    let (status, schedule) = crate::schedules::create(
        owner,
        json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": "0 3 * * *"}),
    )
    .await;
    assert_eq!(status, 201, "{schedule}");
    for (id, status) in [
        (&finished, "succeeded"),
        (&failed, "failed"),
        (&import, "succeeded"),
    ] {
        assert_eq!(owner.wait_finished(id).await["status"], status, "{id}");
    }
    owner.wait_status(&running, "running").await;
    Held {
        jobs: vec![finished, failed, running, import],
        schedule: schedule["id"].as_str().unwrap().to_string(),
        webhook,
    }
}

/// Every path of the app's pages: each route from the router, its parameters given every value
/// `held` offers (every job: a caller's own and others'), and one that names nothing.
fn page_paths(held: &[&Held]) -> Vec<String> {
    let values = |param: &str, route: &str| -> Vec<String> {
        let mut values: Vec<String> = match (route.split('/').nth(1), param) {
            (Some("jobs"), "id") => held.iter().flat_map(|h| h.jobs.clone()).collect(),
            (Some("schedules"), "id") => held.iter().map(|h| h.schedule.clone()).collect(),
            (Some("webhooks"), "id") => held.iter().map(|h| h.webhook.clone()).collect(),
            (_, "kind") => vec!["demo".into(), "import_csv".into()],
            _ => Vec::new(),
        };
        values.push("no-such-thing".into());
        values
    };
    let mut paths = Vec::new();
    for route in server::routes::page_routes() {
        let mut filled = vec![String::new()];
        for segment in route.path().split('/').filter(|s| !s.is_empty()) {
            let param = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .or_else(|| segment.strip_prefix(':'));
            let choices = match param {
                Some(param) => values(param, route.path()),
                None => vec![segment.to_string()],
            };
            filled = filled
                .iter()
                .flat_map(|head| choices.iter().map(move |c| format!("{head}/{c}")))
                .collect();
        }
        paths.extend(filled.into_iter().map(|p| match p.is_empty() {
            true => "/".to_string(),
            false => p,
        }));
    }
    paths.sort();
    paths.dedup();
    paths
}

/// What went wrong with `GET path` for `who` in `lang`, if anything: no answer (within
/// [`WAIT`]), a 5xx, an empty body, or a page that is not a whole document. The status
/// otherwise.
async fn ask(s: &Session, who: &str, lang: &str, path: &str) -> Result<u16, String> {
    let what = format!("{who} {path} ({lang})");
    let asked = s.http.get(s.url(path)).header(ACCEPT_LANGUAGE, lang).send();
    let answer = tokio::time::timeout(WAIT, async {
        let r = asked.await?;
        let status = r.status().as_u16();
        let html = r
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
        Ok::<_, reqwest::Error>((status, html, r.text().await?))
    })
    .await;
    let (status, html, body) = match answer {
        Err(_) => return Err(format!("{what}: no answer within {WAIT:?}")),
        Ok(Err(e)) => return Err(format!("{what}: no answer: {e:?}")),
        Ok(Ok(answer)) => answer,
    };
    if status >= 500 {
        return Err(format!(
            "{what}: {status} {}",
            body.chars().take(300).collect::<String>()
        ));
    }
    if body.trim().is_empty() {
        return Err(format!("{what}: {status} with an empty body"));
    }
    if html && !whole_document(&body) {
        let tail: Vec<char> = body.chars().rev().take(200).collect();
        let tail: String = tail.into_iter().rev().collect();
        return Err(format!("{what}: {status}, a page cut short: …{tail}"));
    }
    Ok(status)
}

/// Whether `page` is a whole document: it ends with `</html>`, after which come only the
/// `<script>` elements Leptos writes there (the resources the page resolved, for the islands).
fn whole_document(page: &str) -> bool {
    let Some((_, mut after)) = page.rsplit_once("</html>") else {
        return false;
    };
    loop {
        after = after.trim_start();
        if after.is_empty() {
            return true;
        }
        match after
            .strip_prefix("<script")
            .and_then(|s| s.split_once("</script>"))
        {
            Some((_, rest)) => after = rest,
            None => return false,
        }
    }
}

/// Asks every path of `paths` as every caller of `callers`, in every language; panics listing
/// every answer that went wrong.
async fn sweep(callers: &[(&str, Session)], paths: &[String]) {
    let asks: Vec<_> = callers
        .iter()
        .flat_map(|(who, s)| {
            paths
                .iter()
                .flat_map(move |path| LANGUAGES.iter().map(move |lang| ask(s, who, lang, path)))
        })
        .collect();
    let total = asks.len();
    let wrong: Vec<String> = futures::stream::iter(asks)
        .buffer_unordered(8)
        .filter_map(|answer| async move { answer.err() })
        .collect()
        .await;
    assert!(
        wrong.is_empty(),
        "{} of {total} pages went wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// A script presenting a token of `owner`'s with `scope`.
async fn token(app: &App, owner: &Session, scope: &str) -> Session {
    let r = owner
        .http
        .post(owner.url("/api/v1/tokens"))
        .json(&json!({"name": scope, "scope": scope}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    Session::with_token(&app.base, made["token"].as_str().unwrap())
}

/// The status of `GET path` as `s` in each language, which must be answered well.
async fn statuses(s: &Session, who: &str, path: &str) -> Vec<u16> {
    let mut got = Vec::new();
    for lang in LANGUAGES {
        got.push(
            ask(s, who, lang, path)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    got
}

/// With accounts: nobody signed in, each role, a member on their own jobs and on another
/// member's, and tokens of each scope; every page in both languages. Then the refusals: the
/// system and users pages to a member and a viewer (403), an unknown path and another member's
/// job (the 404 page).
#[tokio::test]
async fn every_page_answers_every_caller_in_every_language() {
    let app = app()
        .with(|c| {
            c.auth = Some(AuthMode::Accounts);
            c.webhook_allow_private = true;
        })
        .start()
        .await;
    for (name, role) in [
        ("vera", "viewer"),
        ("mia", "member"),
        ("max", "member"),
        ("otto", "operator"),
        ("ada", "admin"),
    ] {
        add_user(&app, name, role).await;
    }
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;
    let (mine, theirs) = (fill(&mia).await, fill(&max).await);
    let callers = [
        ("nobody", app.session()),
        ("viewer", signed_in(&app, "vera").await),
        ("member", mia.clone()),
        ("operator", signed_in(&app, "otto").await),
        ("admin", signed_in(&app, "ada").await),
        ("read token", token(&app, &mia, "read").await),
        ("write token", token(&app, &mia, "write").await),
    ];
    let paths = page_paths(&[&mine, &theirs]);
    // The router's parameters were found and filled.
    assert!(
        paths.contains(&format!("/jobs/{}", theirs.jobs[2])),
        "{paths:?}"
    );
    assert!(paths.contains(&"/settings/api".to_string()), "{paths:?}");
    sweep(&callers, &paths).await;

    let (viewer, member) = (&callers[1].1, &callers[2].1);
    for (who, s) in [("viewer", viewer), ("member", member)] {
        assert_eq!(statuses(s, who, "/system").await, [403, 403], "{who}");
        assert_eq!(statuses(s, who, "/users").await, [403, 403], "{who}");
    }
    let others = format!("/jobs/{}", theirs.jobs[0]);
    assert_eq!(statuses(member, "member", &others).await, [404, 404]);
    assert_eq!(
        statuses(member, "member", "/no/such/page").await,
        [404, 404]
    );
    assert_eq!(
        statuses(member, "member", &format!("/jobs/{}", mine.jobs[1])).await,
        [200, 200]
    );
}

/// On an open server (`--auth open`, the default), its anonymous user.
#[tokio::test]
async fn every_page_answers_the_anonymous_user_of_an_open_server() {
    let app = app().with(|c| c.webhook_allow_private = true).start().await;
    let anyone = app.session();
    let held = fill(&anyone).await;
    sweep(&[("anonymous", anyone.clone())], &page_paths(&[&held])).await;
    assert_eq!(
        statuses(&anyone, "anonymous", "/no/such/page").await,
        [404, 404]
    );
}

/// Pages rendered while this process generates the app's routes (each in-process server of
/// these tests builds a router) all end: generating them holds back the loading of every
/// resource in the process while it runs, so it happens once, before any router exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_rendered_while_routes_are_generated_all_end() {
    let app = app().start().await;
    let anyone = app.session();
    let generating = std::thread::spawn(|| {
        for _ in 0..100 {
            assert!(!server::routes::page_routes().is_empty());
        }
    });
    let asks = (0..200).map(|i| {
        let path = ["/", "/new", "/schedules", "/no/such/page"][i % 4];
        ask(&anyone, "anonymous", LANGUAGES[i % 2], path)
    });
    let wrong: Vec<String> = futures::stream::iter(asks)
        .buffer_unordered(8)
        .filter_map(|answer| async move { answer.err() })
        .collect()
        .await;
    generating.join().unwrap();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The text a reader sees of `page`: outside tags, without scripts and styles; without what is
/// the same in every language: code (`code`, `pre`, `kbd`, `samp`), what is marked
/// `translate="no"`; and without what a job's program wrote (its message, its error, its log),
/// the common entities decoded.
fn visible_text(page: &str) -> String {
    const SKIPPED: [&str; 7] = ["script", "style", "code", "pre", "kbd", "samp", "template"];
    // A job's message and its error on its page are Headway's words in the reader's language,
    // or, marked `translate="no"`, its program's.
    const PROGRAMS: [&str; 4] = [
        "\"job-error\"",
        "\"log-line ",
        "\"attempt-error\"",
        // What a webhook's receiver, or the network on the way, answered.
        "\"delivery-answer\"",
    ];
    let mut text = String::new();
    let mut rest = page;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag = &rest[open + 1..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let Some(end) = tag.find('>') else { break };
        rest = &tag[end + 1..];
        let skipped = SKIPPED.contains(&name.as_str())
            || tag[..end].contains("translate=\"no\"")
            || PROGRAMS.iter().any(|class| tag[..end].contains(class));
        if skipped && !tag[..end].ends_with('/') {
            rest = after_element(rest, &name);
        }
    }
    text.push_str(rest);
    for (entity, is) in [
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#x27;", "'"),
        ("&#39;", "'"),
        ("&nbsp;", " "),
    ] {
        text = text.replace(entity, is);
    }
    text
}

/// What follows the element `name` whose opening tag `rest` follows: after its closing tag,
/// elements of the same name inside it counted.
fn after_element<'a>(rest: &'a str, name: &str) -> &'a str {
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut depth = 1;
    let mut at = 0;
    while depth > 0 {
        let next_close = match rest[at..].find(&close) {
            Some(i) => at + i,
            None => return "",
        };
        match rest[at..next_close].find(&open) {
            Some(i) => {
                depth += 1;
                at += i + open.len();
            }
            None => {
                depth -= 1;
                at = next_close + close.len();
            }
        }
    }
    &rest[at..]
}

/// The English-looking words of `text`: three or more Latin letters in a row, not inside a
/// word with digits, `_`, `-`, `.`, `/`, `:`, `@` or `=` (ids, names, paths, addresses, times).
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| {
        !(c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '=' | '\'' | '*'))
    })
    .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '\'' | '-')))
    .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_alphabetic()))
    .map(str::to_string)
    .collect()
}

/// A Chinese reader reads every page in Chinese: of each page's visible text, no English word
/// is left but the names that are the same in every language (kinds, parameters, people, the
/// products and standards Headway speaks of).
#[tokio::test]
async fn every_page_in_chinese_has_no_english_word_but_names() {
    let app = app().with(|c| c.webhook_allow_private = true).start().await;
    let anyone = app.session();
    let held = fill(&anyone).await;
    let mut found: Vec<String> = Vec::new();
    // The API's reference is the API's own English, as its document is.
    for path in page_paths(&[&held])
        .into_iter()
        .filter(|p| p != "/settings/api")
    {
        let r = anyone
            .http
            .get(anyone.url(&path))
            .header(ACCEPT_LANGUAGE, LANGUAGES[1])
            .send()
            .await
            .unwrap();
        let page = r.text().await.unwrap();
        let text = visible_text(&page);
        let mut words = latin_words(&text);
        words.retain(|w| !NAMES.contains(&w.as_str()));
        words.sort();
        words.dedup();
        // Each word where it was read, to find it.
        for word in words {
            let at = text.find(&word).unwrap_or(0);
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(30)
                .map_or(0, |(i, _)| i);
            let around: String = text[start..].chars().take(80 + word.len()).collect();
            found.push(format!(
                "{path}: {word} in …{}…",
                around.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    assert!(
        found.is_empty(),
        "English on Chinese pages:\n{}",
        found.join("\n")
    );
}

/// Words that are names in every language: Headway's, the language's own in the language
/// switch, the products, standards and units it names.
const NAMES: &[&str] = &[
    "Headway",
    "English",
    "JavaScript",
    "API",
    "CSV",
    "JSON",
    "Lines",
    "SQLite",
    "PostgreSQL",
    "URL",
    "POST",
    "Slack",
    "Webhook",
    "UTC",
    "GMT",
    "KiB",
    "MiB",
    "GiB",
    "PID",
    "cron",
    "IANA",
    "RFC",
    "UUID",
    "Authorization",
];
