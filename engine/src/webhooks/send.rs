//! One attempt of a delivery: its body (Headway's JSON, or Slack's `text`), its signature, the
//! POST with its time limit, and when to try again.
//!
//! The signature is `Headway-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is the
//! HMAC-SHA256, keyed with the webhook's secret, of `<unix seconds>.<body>`: a receiver
//! recomputes it over the bytes it got, compares in constant time, and refuses a timestamp too
//! far from its clock (a replay). Every delivery is also signed as the Standard Webhooks
//! specification says ([`standard_signature`]), for the verifiers written to it.

use crate::store::{DeliveryRow, Next, WebhookRow};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use model::webhooks::{
    DeliveryBody, JobEnded, WebhookFormat, DELIVERY_HEADER, EVENT_HEADER, EVENT_TEST,
    SIGNATURE_HEADER, STANDARD_ID_HEADER, STANDARD_SIGNATURE_HEADER, STANDARD_TIMESTAMP_HEADER,
};
use model::JobStatus;
use sha2::Sha256;
use std::time::Duration;

/// How long deliveries are retried, and how long each attempt may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// From a delivery's creation (or resend), how long it is retried; a webhook whose
    /// deliveries all failed for this long is disabled.
    pub retry_for: Duration,
    /// How long one attempt may take, connection and answer included.
    pub timeout: Duration,
}

/// The longest wait between two attempts.
const MAX_DELAY_MS: i64 = 3_600_000;

impl Policy {
    /// The wait after a first failure: a hundredth of the retry period, from 200 ms to 10 s.
    fn first_delay_ms(&self) -> i64 {
        (self.retry_for.as_millis() as i64 / 100).clamp(200, 10_000)
    }

    /// What comes after the `attempts`th attempt failed at `now`, for a delivery retried since
    /// `retry_from`: a wait doubling from [`Policy::first_delay_ms`] up to an hour (a tenth
    /// shorter or longer, so that deliveries failing together spread out), the last one at the
    /// end of the retry period; then giving up.
    pub fn after_failure(&self, retry_from: i64, attempts: u32, now: i64, jitter: f64) -> Next {
        let deadline = retry_from + self.retry_for.as_millis() as i64;
        if now >= deadline {
            return Next::GiveUp;
        }
        let doubled = self
            .first_delay_ms()
            .saturating_mul(1i64 << attempts.saturating_sub(1).min(30))
            .min(MAX_DELAY_MS);
        let spread = (doubled as f64 * (1.0 + 0.1 * jitter.clamp(-1.0, 1.0))) as i64;
        Next::RetryAt((now + spread.max(1)).min(deadline))
    }

    /// Whether a webhook failing since `since` has failed long enough to be disabled.
    pub fn gives_up_on(&self, since: i64, now: i64) -> bool {
        now - since >= self.retry_for.as_millis() as i64
    }
}

/// `t=<secs>,v1=<hex HMAC-SHA256 of "<secs>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// `v1,<base64>`: the Standard Webhooks signature, the HMAC-SHA256 of `<id>.<secs>.<body>`
/// keyed with [`standard_key`].
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&standard_key(secret))
        .expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The key the Standard Webhooks specification reads from a secret: the bytes its base64
/// after `whsec_` decodes to (the secrets Headway makes are of that form); a secret chosen
/// otherwise, its own bytes.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The body a delivery POSTs, for the webhook's format; `site` is the address jobs' pages are
/// under.
pub fn body(hook: &WebhookRow, delivery: &DeliveryRow, site: &str) -> Vec<u8> {
    let mut job: JobEnded = serde_json::from_str(&delivery.payload).unwrap_or_else(|_| JobEnded {
        id: delivery
            .delivery
            .job_id
            .clone()
            .unwrap_or_else(super::no_job_id),
        kind: String::new(),
        title: None,
        status: JobStatus::Interrupted,
        error: None,
        attempt: 1,
        created_at: delivery.delivery.created_at,
        started_at: None,
        finished_at: None,
        url: String::new(),
    });
    job.url = format!("{}/jobs/{}", site.trim_end_matches('/'), job.id);
    let d = &delivery.delivery;
    let value = match hook.webhook.format {
        WebhookFormat::Json => serde_json::to_value(DeliveryBody {
            id: d.id.clone(),
            event: d.event.clone(),
            created_at: d.created_at,
            job,
        }),
        WebhookFormat::Slack => Ok(serde_json::json!({ "text": slack_text(&d.event, &job) })),
    };
    value
        .and_then(|v| serde_json::to_vec(&v))
        .unwrap_or_default()
}

/// One line for a chat: what ended, how, and a link to it (Slack's `<url|text>`).
fn slack_text(event: &str, job: &JobEnded) -> String {
    if event == EVENT_TEST {
        return "Headway: a test delivery to this webhook. It works.".into();
    }
    let label = escape(job.label());
    let took = match (job.started_at, job.finished_at) {
        (Some(a), Some(b)) if b >= a => format!(" after {}", seconds(b - a)),
        _ => String::new(),
    };
    let why = job
        .error
        .as_ref()
        .map(|e| format!(": {} ({})", escape(&e.message), escape(&e.code)))
        .unwrap_or_default();
    format!("Headway: <{}|{label}> {}{took}{why}", job.url, job.status)
}

fn seconds(ms: i64) -> String {
    match ms / 1000 {
        s if s < 120 => format!("{}.{} s", s, (ms % 1000) / 100),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// Slack's three control characters, escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What an attempt got: the answer's status, or why there was none.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Answer {
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// POSTs the delivery once.
pub async fn post(
    client: &reqwest::Client,
    hook: &WebhookRow,
    delivery: &DeliveryRow,
    site: &str,
    allow_private: bool,
) -> Answer {
    let failed = |error: String| Answer {
        status: None,
        error: Some(error),
    };
    let url = match url::Url::parse(&hook.webhook.url) {
        Ok(url) => url,
        Err(e) => return failed(format!("the URL cannot be read: {e}")),
    };
    // A name is checked by the client's resolver as it connects; an address written in the URL
    // never reaches it.
    if matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
        if let Some(why) = super::address::refusal(&url, allow_private).await {
            return failed(why.into());
        }
    }
    let body = body(hook, delivery, site);
    let now = crate::now_ms() / 1000;
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "Headway-Webhooks/1")
        .header(DELIVERY_HEADER, delivery.delivery.id.as_str())
        .header(EVENT_HEADER, &delivery.delivery.event)
        .header(SIGNATURE_HEADER, signature(&hook.secret, now, &body))
        .header(STANDARD_ID_HEADER, delivery.delivery.id.as_str())
        .header(STANDARD_TIMESTAMP_HEADER, now.to_string())
        .header(
            STANDARD_SIGNATURE_HEADER,
            standard_signature(&hook.secret, delivery.delivery.id.as_str(), now, &body),
        )
        .body(body)
        .send()
        .await;
    match sent {
        Ok(answer) => {
            let status = answer.status();
            Answer {
                status: Some(status.as_u16()),
                error: (!status.is_success()).then(|| match status.is_redirection() {
                    true => format!("answered {status} (redirects are not followed)"),
                    false => format!("answered {status}"),
                }),
            }
        }
        Err(e) => failed(describe(&e)),
    }
}

/// Why a request got no answer, in words: the innermost cause says most.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer within the time limit".into();
    }
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let what = if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    format!("{what}: {source}")
}

/// The client deliveries go through: its resolver keeps to public addresses (unless
/// `allow_private`), it follows no redirect and uses no proxy, and an attempt ends after
/// `timeout`.
pub fn client(allow_private: bool, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(super::address::PublicOnly {
            allow_private,
        }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .expect("the webhook client's settings are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;
    use model::webhooks::{Delivery, DeliveryState, Webhook, WebhookScope};

    #[test]
    fn the_standard_signature_is_the_specifications_own_example() {
        // The example of the Standard Webhooks specification (and of its libraries' tests).
        let signed = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // A secret that is not base64 after `whsec_` keys with its own bytes.
        assert_eq!(standard_key("my own secret, 16+"), b"my own secret, 16+");
    }

    fn policy(retry_for_secs: u64) -> Policy {
        Policy {
            retry_for: Duration::from_secs(retry_for_secs),
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_the_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            signature("s3cret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
        assert_ne!(
            signature("s3cret", 1_700_000_000, br#"{"a":1}"#),
            signature("s3cret", 1_700_000_001, br#"{"a":1}"#)
        );
        assert_ne!(
            signature("s3cret", 1_700_000_000, br#"{"a":1}"#),
            signature("other", 1_700_000_000, br#"{"a":1}"#)
        );
    }

    #[test]
    fn retries_double_up_to_an_hour_and_stop_after_the_retry_period() {
        let day = policy(24 * 3600);
        assert_eq!(day.after_failure(0, 1, 0, 0.0), Next::RetryAt(10_000));
        assert_eq!(day.after_failure(0, 2, 0, 0.0), Next::RetryAt(20_000));
        assert_eq!(day.after_failure(0, 20, 0, 0.0), Next::RetryAt(3_600_000));
        assert_eq!(day.after_failure(0, 2, 0, 1.0), Next::RetryAt(22_000));
        // The last attempt falls at the end of the day, then it gives up.
        let late = 86_400_000 - 1_000;
        assert_eq!(
            day.after_failure(0, 30, late, 0.0),
            Next::RetryAt(86_400_000)
        );
        assert_eq!(day.after_failure(0, 31, 86_400_000, 0.0), Next::GiveUp);
        assert!(day.gives_up_on(0, 86_400_000));
        assert!(!day.gives_up_on(1, 86_400_000));
        // A short period (the tests') starts from 200 ms.
        assert_eq!(policy(4).after_failure(0, 1, 0, 0.0), Next::RetryAt(200));
    }

    /// The job a delivery tells of, and the delivery.
    const JOB: &str = "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93";
    const DELIVERY: &str = "d1e1e1e1-0000-4000-8000-000000000001";

    fn hook(format: WebhookFormat) -> WebhookRow {
        WebhookRow {
            webhook: Webhook {
                id: named("w"),
                owner: "ann".into(),
                url: "https://example.com/h".into(),
                statuses: vec![],
                kinds: vec![],
                format,
                scope: WebhookScope::Own,
                enabled: true,
                disabled_reason: None,
                failing_since: None,
                created_at: 0,
            },
            owner_id: named("ann"),
            secret: "s".repeat(16),
        }
    }

    fn delivery() -> DeliveryRow {
        let job = JobEnded {
            id: named(JOB),
            kind: "checksum".into(),
            title: None,
            status: JobStatus::Failed,
            error: Some(model::JobError::new("bad_input", "no <such> file")),
            attempt: 1,
            created_at: 1,
            started_at: Some(1_000),
            finished_at: Some(13_500),
            url: String::new(),
        };
        DeliveryRow {
            delivery: Delivery {
                id: named(DELIVERY),
                webhook_id: named("w"),
                event: model::webhooks::EVENT_JOB_ENDED.into(),
                job_id: Some(named(JOB)),
                created_at: 5,
                state: DeliveryState::Pending,
                attempts: 0,
                last_attempt_at: None,
                last_status: None,
                last_error: None,
                next_attempt_at: Some(5),
            },
            payload: serde_json::to_string(&job).unwrap(),
            retry_from: 5,
        }
    }

    #[test]
    fn the_json_body_names_the_delivery_and_links_the_jobs_page() {
        let body: DeliveryBody = serde_json::from_slice(&body(
            &hook(WebhookFormat::Json),
            &delivery(),
            "https://h.example/",
        ))
        .unwrap();
        assert_eq!(body.id, DELIVERY);
        assert_eq!(body.event, "job.ended");
        assert_eq!(body.job.status, JobStatus::Failed);
        assert_eq!(body.job.url, format!("https://h.example/jobs/{JOB}"));
    }

    #[test]
    fn the_slack_body_is_one_escaped_line_with_a_link() {
        let body: serde_json::Value = serde_json::from_slice(&body(
            &hook(WebhookFormat::Slack),
            &delivery(),
            "https://h.example",
        ))
        .unwrap();
        assert_eq!(
            body["text"],
            format!("Headway: <https://h.example/jobs/{JOB}|checksum> failed after 12.5 s: no &lt;such&gt; file (bad_input)")
        );
    }
}
