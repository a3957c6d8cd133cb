//! Ids that travel side by side through the engine and the store: a job's, a user's, a
//! process's, a schedule's, an upload's, a webhook's and a delivery's. Each is its own type, so
//! that one cannot be passed where another is meant; on the wire each is the plain string it
//! wraps.
//!
//! An id is only ever made by [parsing](JobId::parse) a string (or, on the server, drawn at
//! random), so holding one means holding a well-formed id: a string that cannot be an id of its
//! kind is refused where it comes in (a request, a row, a JSON document), with an [`IdError`]
//! that says what was expected.
//!
//! - Jobs, schedules, uploads, webhooks and deliveries are named by UUIDs, written as the server
//!   hands them out: 36 characters, lowercase hex in groups of 8-4-4-4-12 joined by `-`. Other
//!   spellings of a UUID (uppercase, braces, `urn:uuid:`, no hyphens) name nothing the server
//!   made, and are refused.
//! - Users and processes are named by names of 1 to [`MAX_NAME_LEN`] ASCII letters, digits and
//!   [`NAME_CHARS`]: an account's and a process's id is a UUID, an open server's anonymous
//!   user's a UUID derived from their session cookie, and the operator's `operator`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The most characters a user's or a process's id has.
pub const MAX_NAME_LEN: usize = 128;

/// The characters a user's or a process's id is made of, besides ASCII letters and digits.
pub const NAME_CHARS: &str = "-_.:@";

/// A string that is not an id of the kind expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// What the id names: `job`, `user`, `schedule`...
    kind: &'static str,
    /// The article the kind is said with: `a` or `an`.
    article: &'static str,
    /// What such an id looks like.
    expected: &'static str,
}

impl IdError {
    /// What the refused id was to name: `job`, `user`, `schedule`...
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not {} {} id: expected {}",
            self.article, self.kind, self.expected
        )
    }
}

impl std::error::Error for IdError {}

/// What a UUID id looks like, for [`IdError`]'s message.
const UUID_FORM: &str =
    "a UUID such as 0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93 (lowercase hex, 8-4-4-4-12)";

/// What a name id looks like, for [`IdError`]'s message.
const NAME_FORM: &str = "1 to 128 ASCII letters, digits or `-_.:@`";

/// A UUID as the server writes one: lowercase hex in groups of 8-4-4-4-12 joined by `-`.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// A user's or a process's name: 1 to [`MAX_NAME_LEN`] ASCII letters, digits and
/// [`NAME_CHARS`]; so never empty, and never a space or a control character.
fn is_name(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || NAME_CHARS.as_bytes().contains(&b))
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $article:literal $kind:literal, $valid:path, $form:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema), schemars(transparent))]
        pub struct $name(String);

        impl $name {
            /// The id `s` names, if it is well-formed for this kind of id.
            pub fn parse(s: &str) -> Result<$name, IdError> {
                if $valid(s) {
                    Ok($name(s.to_string()))
                } else {
                    Err($name::error())
                }
            }

            /// A new id, unlike any other: a random UUID (version 4).
            #[cfg(feature = "random")]
            pub fn random() -> $name {
                $name(uuid::Uuid::new_v4().to_string())
            }

            fn error() -> IdError {
                IdError {
                    kind: $kind,
                    article: $article,
                    expected: $form,
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<$name, IdError> {
                $name::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<$name, IdError> {
                if $valid(&s) {
                    Ok($name(s))
                } else {
                    Err($name::error())
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;

            fn try_from(s: &str) -> Result<$name, IdError> {
                $name::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        /// Reads a string, and refuses it unless it is a well-formed id of this kind.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let s = String::deserialize(deserializer)?;
                $name::try_from(s).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Reads as the string it wraps (`id.len()`, `&id[..8]`, `format!`), but only a
        /// function that takes this type accepts it as an id.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        /// Hashes and compares as its string, so a map keyed by ids is searched with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> $name {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

id!(
    /// A job's id (a UUID).
    JobId, "a" "job", is_uuid, UUID_FORM
);
id!(
    /// A user's id: who owns a job, whose token or session it is. An account's is a UUID, an
    /// open server's anonymous user's a UUID derived from their session cookie, the operator's
    /// `operator`.
    UserId, "a" "user", is_name, NAME_FORM
);
id!(
    /// A Headway process's id (a UUID drawn when it joins): who claimed a job, who holds a
    /// lease.
    ProcessId, "a" "process", is_name, NAME_FORM
);
id!(
    /// A schedule's id (a UUID).
    ScheduleId, "a" "schedule", is_uuid, UUID_FORM
);
id!(
    /// An uploaded file's id (a UUID): what a job's file parameter holds.
    UploadId, "an" "upload", is_uuid, UUID_FORM
);
id!(
    /// A webhook's id (a UUID).
    WebhookId, "a" "webhook", is_uuid, UUID_FORM
);
id!(
    /// One delivery's id (a UUID): the same on every attempt, so that a receiver can tell a
    /// retry from a new delivery.
    DeliveryId, "a" "delivery", is_uuid, UUID_FORM
);

/// Ids for tests, named for reading (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    use super::IdError;

    /// An id for a test, named for reading. A name that is an id of the kind wanted is that id
    /// (`named::<UserId>("me")`); another is spelled into a UUID, its bytes in hex followed by zeros
    /// (`named::<WebhookId>("w1")` is `77310000-0000-0000-0000-000000000000`), so that ids sort as
    /// their names do and [`name_of`] reads the name back.
    pub fn named<T: std::str::FromStr<Err = IdError>>(name: &str) -> T {
        name.parse()
            .or_else(|_| spelled(name).parse())
            .unwrap_or_else(|e| panic!("{name:?} names no id: {e}"))
    }

    /// `name` (16 bytes at most) spelled into a UUID: its bytes in hex, then zeros.
    fn spelled(name: &str) -> String {
        assert!(
            name.len() <= 16,
            "{name:?} is too long to spell into a UUID"
        );
        let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
        let hex = format!("{hex:0<32}");
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// The name an id of [`named`] was made from: the name spelled into it, or the id itself.
    pub fn name_of(id: &str) -> String {
        let hex: String = id.chars().filter(|c| *c != '-').collect();
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .take_while(|b| *b != Some(0))
            .collect();
        match bytes.and_then(|b| String::from_utf8(b).ok()) {
            Some(name) if id.len() == 36 && spelled(&name) == id => name,
            _ => id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93";

    #[test]
    fn an_id_is_its_string_on_the_wire() {
        let id = JobId::parse(UUID).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{UUID}\""));
        let back: JobId = serde_json::from_str(&format!("\"{UUID}\"")).unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string(), UUID);
        assert!(id == UUID);
    }

    /// Every spelling of a UUID but the server's, and strings that are no UUID at all.
    fn not_uuids() -> Vec<String> {
        vec![
            String::new(),
            "0b7c".into(),
            "not-an-id".into(),
            UUID.to_uppercase(),
            UUID.replace('-', ""),
            format!("{{{UUID}}}"),
            format!("urn:uuid:{UUID}"),
            format!(" {UUID}"),
            format!("{UUID}\n"),
            format!("{UUID}0"),
            UUID[..35].to_string(),
            UUID.replace('-', "_"),
            "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7cg3".into(),
            // 36 bytes, but not 36 characters.
            "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7é".into(),
        ]
    }

    /// Strings that name no user nor process.
    fn not_names() -> Vec<String> {
        vec![
            String::new(),
            " ".into(),
            "ann smith".into(),
            "ann\n".into(),
            "\tann".into(),
            "ann\u{0}".into(),
            "ann\u{7f}".into(),
            "änn".into(),
            "ann/../bob".into(),
            "a".repeat(MAX_NAME_LEN + 1),
        ]
    }

    #[test]
    fn uuid_ids_take_what_the_server_hands_out_and_nothing_else() {
        fn check<T: std::str::FromStr<Err = IdError> + std::fmt::Debug + AsRef<str>>(
            kind: &str,
            parse: fn(&str) -> Result<T, IdError>,
        ) {
            for id in [UUID, "00000000-0000-0000-0000-000000000000"] {
                assert_eq!(parse(id).unwrap().as_ref(), id);
                assert_eq!(id.parse::<T>().unwrap().as_ref(), id);
            }
            // An anonymous user's id (version 8) is a UUID too.
            assert!(parse("5f1e9c2a-7b3d-8e4f-a012-3456789abcde").is_ok());
            for bad in not_uuids() {
                let e = parse(&bad).expect_err(&bad);
                assert_eq!(e.kind(), kind);
                let a = if kind == "upload" { "an" } else { "a" };
                assert_eq!(
                    e.to_string(),
                    format!("not {a} {kind} id: expected {UUID_FORM}")
                );
            }
        }
        check("job", JobId::parse);
        check("schedule", ScheduleId::parse);
        check("upload", UploadId::parse);
        check("webhook", WebhookId::parse);
        check("delivery", DeliveryId::parse);
    }

    #[test]
    fn user_and_process_ids_are_names() {
        let longest = "a".repeat(MAX_NAME_LEN);
        for name in [
            UUID,
            "operator",
            "ann",
            "u1",
            "u-owner",
            "checkpoints",
            "ann.smith@example.org",
            "p_1:2",
            longest.as_str(),
        ] {
            assert_eq!(UserId::parse(name).unwrap(), name);
            assert_eq!(ProcessId::parse(name).unwrap(), name);
        }
        for bad in not_names() {
            let e = UserId::parse(&bad).expect_err(&bad);
            assert_eq!(
                e.to_string(),
                format!("not a user id: expected {NAME_FORM}")
            );
            let e = ProcessId::parse(&bad).expect_err(&bad);
            assert_eq!(
                e.to_string(),
                format!("not a process id: expected {NAME_FORM}")
            );
        }
    }

    #[test]
    fn the_message_says_what_was_expected() {
        assert_eq!(
            JobId::parse("0b7c").unwrap_err().to_string(),
            "not a job id: expected a UUID such as 0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93 \
             (lowercase hex, 8-4-4-4-12)"
        );
        assert_eq!(
            UserId::parse("").unwrap_err().to_string(),
            "not a user id: expected 1 to 128 ASCII letters, digits or `-_.:@`"
        );
        assert!(UploadId::parse("u")
            .unwrap_err()
            .to_string()
            .starts_with("not an upload id: "));
    }

    #[test]
    fn every_kind_of_id_round_trips_through_json() {
        fn round_trip<T>(id: &str)
        where
            T: Serialize + for<'de> Deserialize<'de> + PartialEq<str> + fmt::Debug,
        {
            let json = serde_json::to_string(id).unwrap();
            let parsed: T = serde_json::from_str(&json).unwrap();
            assert!(parsed == *id, "{parsed:?}");
            assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
        }
        round_trip::<JobId>(UUID);
        round_trip::<ScheduleId>(UUID);
        round_trip::<UploadId>(UUID);
        round_trip::<WebhookId>(UUID);
        round_trip::<DeliveryId>(UUID);
        round_trip::<UserId>(UUID);
        round_trip::<UserId>("operator");
        round_trip::<ProcessId>(UUID);
    }

    #[test]
    fn json_with_a_malformed_id_is_refused_with_the_message() {
        type Row = std::collections::BTreeMap<String, JobId>;
        let e = serde_json::from_str::<Row>(r#"{"id": "0b7c"}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("not a job id: expected {UUID_FORM}")),
            "{e}"
        );
        let e = serde_json::from_str::<Vec<UserId>>(r#"["ann", "ann smith"]"#).unwrap_err();
        assert!(e.to_string().starts_with("not a user id"), "{e}");
        let e = serde_json::from_str::<Option<ScheduleId>>(r#""""#).unwrap_err();
        assert!(e.to_string().starts_with("not a schedule id"), "{e}");
        // Not a string at all.
        assert!(serde_json::from_str::<JobId>("7").is_err());
        // `null` stays "no id" where an id is optional.
        assert_eq!(serde_json::from_str::<Option<JobId>>("null").unwrap(), None);
    }

    #[cfg(feature = "random")]
    #[test]
    fn random_ids_parse_and_differ() {
        let (a, b) = (JobId::random(), JobId::random());
        assert_ne!(a, b);
        assert_eq!(JobId::parse(&a).unwrap(), a);
        assert_eq!(UserId::parse(&UserId::random()).unwrap().len(), 36);
        assert!(ProcessId::parse(&ProcessId::random()).is_ok());
        assert!(ScheduleId::parse(&ScheduleId::random()).is_ok());
        assert!(UploadId::parse(&UploadId::random()).is_ok());
        assert!(WebhookId::parse(&WebhookId::random()).is_ok());
        assert!(DeliveryId::parse(&DeliveryId::random()).is_ok());
    }

    #[cfg(feature = "testing")]
    #[test]
    fn a_test_names_ids_and_reads_the_names_back() {
        use super::testing::{name_of, named};
        let hook: WebhookId = named("w1");
        assert_eq!(hook, "77310000-0000-0000-0000-000000000000");
        assert_eq!(name_of(&hook), "w1");
        assert!(named::<WebhookId>("w1") < named("w2"));
        assert!(named::<JobId>("a10") < named("a2"), "as the names sort");
        assert_eq!(named::<UserId>("me"), "me");
        assert_eq!(named::<JobId>(UUID), UUID);
        assert_eq!(name_of(UUID), UUID);
        assert_eq!(name_of("me"), "me");
    }

    #[cfg(feature = "schemars")]
    #[test]
    fn the_schema_of_an_id_is_a_plain_string() {
        for schema in [
            schemars::schema_for!(JobId),
            schemars::schema_for!(UserId),
            schemars::schema_for!(DeliveryId),
        ] {
            assert_eq!(schema.get("type"), Some(&serde_json::json!("string")));
            assert_eq!(schema.get("pattern"), None);
        }
    }
}
