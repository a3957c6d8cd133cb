//! Accounts as clients see them: roles, who is signed in, and API tokens.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// What a signed-in user may do. Each role may do everything the one before it may, except
/// that a viewer starts nothing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Role {
    /// Sees every job, its log and events; changes nothing.
    Viewer,
    /// Starts jobs; sees, cancels and re-runs only their own.
    Member,
    /// Sees, cancels and re-runs every job.
    Operator,
    /// An operator who also posts notices and manages users and others' tokens.
    Admin,
}

names!(Role);

impl Role {
    /// Sees every user's jobs (not only their own).
    pub fn sees_all(self) -> bool {
        self != Role::Member
    }

    /// May start jobs.
    pub fn starts(self) -> bool {
        self != Role::Viewer
    }

    /// May cancel and re-run other users' jobs.
    pub fn acts_on_all(self) -> bool {
        self >= Role::Operator
    }
}

/// What an API token may do on its owner's behalf.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum TokenScope {
    /// Reads only: any change is refused (403).
    Read,
    /// Whatever its owner's role allows.
    Write,
}

names!(TokenScope);

/// `GET /api/v1/me`: who is calling. Anonymous users of an open server have no name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Me {
    pub username: Option<String>,
    pub role: Role,
    /// Whether the server requires signing in (`--auth accounts`).
    pub accounts: bool,
}

/// A personal API token as listed (its secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    /// The owner's name.
    pub user: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct NewToken {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    pub token: String,
}

/// An account as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

/// The most characters of a user name; names are lowercase letters, digits, `.`, `_`, `-`.
pub const MAX_NAME: usize = 64;

/// [`check_username`]'s rule as a regular expression, for the API's document.
pub const USERNAME_PATTERN: &str = "^[a-z0-9._-]{1,64}$";

/// Why a user name is not acceptable, if it is not.
pub fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("a user name has 1 to {MAX_NAME} characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return Err("a user name has only lowercase letters, digits, '.', '_' and '-'".into());
    }
    Ok(())
}

/// The fewest characters of a password.
pub const MIN_PASSWORD: usize = 8;
/// The most bytes of a password (hashing longer ones only costs the server time).
pub const MAX_PASSWORD: usize = 1024;

/// Why a new password is not acceptable, if it is not.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("a password has at least {MIN_PASSWORD} characters"));
    }
    if password.len() > MAX_PASSWORD {
        return Err(format!("a password has at most {MAX_PASSWORD} bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order_their_powers() {
        assert!(!Role::Viewer.starts() && Role::Viewer.sees_all() && !Role::Viewer.acts_on_all());
        assert!(Role::Member.starts() && !Role::Member.sees_all() && !Role::Member.acts_on_all());
        assert!(
            Role::Operator.starts() && Role::Operator.sees_all() && Role::Operator.acts_on_all()
        );
        assert!(Role::Admin.acts_on_all());
        assert_eq!(Role::parse("operator"), Some(Role::Operator));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_username("ada.l-2_x").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("Ada").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"a".repeat(65)).is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
