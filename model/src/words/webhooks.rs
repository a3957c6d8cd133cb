//! The words of a webhook's refusals: its URL, the address it reaches, what it is sent, its
//! secret, its tests.

use crate::Words;
use std::fmt::Display;

pub fn needs_url() -> Words {
    Words::new(
        "engine-webhook-needs-url",
        "a webhook needs the URL to POST to",
    )
}

pub fn url_length(max: usize) -> Words {
    Words::new(
        "engine-webhook-url-length",
        format!("a URL is at most {max} characters"),
    )
    .with("max", max)
}

/// Text that is not a URL; `reason` in the URL parser's words.
pub fn not_a_url(text: &str, reason: impl Display) -> Words {
    let text = format!("{text:?}");
    Words::new(
        "engine-webhook-not-a-url",
        format!("{text} is not a URL: {reason}"),
    )
    .with("text", text)
    .with("reason", reason)
}

pub fn url_scheme() -> Words {
    Words::new(
        "engine-webhook-url-scheme",
        "the URL must start with http:// or https:// and name a host",
    )
}

pub fn url_credentials() -> Words {
    Words::new(
        "engine-webhook-url-credentials",
        "put credentials in the secret, not the URL (it is shown on the webhooks page)",
    )
}

/// A host name that does not resolve; `reason` in the resolver's words.
pub fn no_such_host(host: impl Display, reason: impl Display) -> Words {
    Words::new(
        "engine-webhook-no-such-host",
        format!("{host} does not resolve: {reason}"),
    )
    .with("host", host)
    .with("reason", reason)
}

/// An address webhooks may not reach.
pub fn private_address(ip: impl Display) -> Words {
    Words::new(
        "engine-webhook-private-address",
        format!("{ip} is a loopback, private or link-local address, which webhooks may not reach"),
    )
    .with("ip", ip)
}

/// A status named that is not where a job ends.
pub fn not_an_end(status: impl Display) -> Words {
    Words::new(
        "engine-webhook-not-an-end",
        format!("{status} is not an end: name succeeded, failed, cancelled or interrupted"),
    )
    .with("status", status)
}

pub fn kinds_at_most(max: usize) -> Words {
    Words::new(
        "engine-webhook-kinds-at-most",
        format!("name at most {max} kinds"),
    )
    .with("max", max)
}

pub fn no_such_kind(kind: &str) -> Words {
    let kind = format!("{kind:?}");
    Words::new(
        "engine-webhook-no-such-kind",
        format!("there is no kind {kind}"),
    )
    .with("kind", kind)
}

pub fn secret() -> Words {
    Words::new(
        "engine-webhook-secret",
        "a secret is 16 to 200 printable characters without spaces (leave it out and Headway \
         makes one)",
    )
}

pub fn disabled_test() -> Words {
    Words::new(
        "engine-webhook-disabled-test",
        "the webhook is disabled: enable it to send a test",
    )
}

pub fn disabled_resend() -> Words {
    Words::new(
        "engine-webhook-disabled-resend",
        "the webhook is disabled: enable it to resend",
    )
}

pub fn tests_waiting(n: impl Display) -> Words {
    Words::new(
        "engine-webhook-tests-waiting",
        format!("{n} tests wait to be sent to this webhook already"),
    )
    .with("n", n)
}

/// Every function here with sample values.
pub fn samples() -> Vec<Words> {
    vec![
        needs_url(),
        url_length(2000),
        not_a_url("not a url", "relative URL without a base"),
        url_scheme(),
        url_credentials(),
        no_such_host("hooks.invalid", "failed to lookup address information"),
        private_address("10.0.0.1"),
        not_an_end("running"),
        kinds_at_most(50),
        no_such_kind("nope"),
        secret(),
        disabled_test(),
        disabled_resend(),
        tests_waiting(5),
    ]
}
