//! Ids that travel side by side through the engine and the store: a job's, a user's, a
//! process's and a schedule's. Each is its own type, so that one cannot be passed where another is meant; on the
//! wire each is the plain string it wraps.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
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

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
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
    JobId
);
id!(
    /// A user's id: who owns a job, whose token or session it is.
    UserId
);
id!(
    /// A Headway process's id: who claimed a job, who holds a lease.
    ProcessId
);
id!(
    /// A schedule's id (a UUID).
    ScheduleId
);
id!(
    /// An uploaded file's id (a UUID): what a job's file parameter holds.
    UploadId
);
id!(
    /// A webhook's id (a UUID).
    WebhookId
);
id!(
    /// One delivery's id (a UUID): the same on every attempt, so that a receiver can tell a
    /// retry from a new delivery.
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_string_on_the_wire() {
        let id = JobId::new("0b7c");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0b7c\"");
        let back: JobId = serde_json::from_str("\"0b7c\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string(), "0b7c");
        assert!(id == "0b7c");
    }
}
