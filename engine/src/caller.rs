//! [`Caller`]: who a request acts for, the principal. The server decides it once per request,
//! from the request's head, and every read and write of the engine takes it; what it may do is
//! the one policy's to say ([`crate::authority::decide`]), which its `may_…` methods ask.
//!
//! - The anonymous user of a browser session (`--auth open`) sees and touches only their own
//!   jobs, as a member does.
//! - The same anonymous user at the machine ([`Caller::at_the_machine`]): on an open server that
//!   listens on loopback only, a request from this machine is its operator's, who may also steer
//!   the deployment (pause kinds, set limits, raise priorities). The server says who is at the
//!   machine; the policy says what that allows.
//! - A signed-in user, or the holder of one of their API tokens, has their account's role
//!   ([`Role`]); a `read` token changes nothing.
//! - The holder of the operator token (`admin.token`) is an admin.
//! - A worker token acts for its workers alone, on the jobs they hold.

use crate::authority::Act;
use model::{AppError, Role, UserId};

/// The key of the bus channel that carries every user's events.
pub const EVERYONE: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    user: UserId,
    /// The account's name; `None` for an anonymous user.
    name: Option<String>,
    role: Role,
    /// `false` for a read-only token.
    writes: bool,
    /// The name of the personal API token the request came with, if it came with one.
    token: Option<String>,
    /// The worker token a worker's request came with: it acts for that token's workers alone.
    worker: Option<String>,
    /// The anonymous user is the operator at the machine of an open loopback server.
    at_the_machine: bool,
}

impl Caller {
    /// The anonymous user of a session on an open server.
    pub fn new(user: UserId) -> Caller {
        Caller {
            user,
            name: None,
            role: Role::Member,
            writes: true,
            token: None,
            worker: None,
            at_the_machine: false,
        }
    }

    /// `self`, an anonymous user (a session's or an anonymous token's), as the person at the
    /// machine of an open server that listens on loopback only, which is how one person runs
    /// Headway for themselves (`make run`): they are its operator, so the pages offer them the
    /// operator's controls ([`crate::authority::Act::Operate`], [`crate::authority::Act::Raise`])
    /// without the operator token. They still see and touch only their own jobs. A signed-in
    /// account, a worker, or a token of either is unchanged.
    pub fn at_the_machine(self) -> Caller {
        Caller {
            at_the_machine: self.name.is_none() && self.worker.is_none(),
            ..self
        }
    }

    /// The holder of an API token of an open server's anonymous user (`writes`: a write token).
    pub fn anonymous_token(user: UserId, writes: bool) -> Caller {
        Caller {
            writes,
            ..Caller::new(user)
        }
    }

    /// A signed-in user (or a token of theirs; `writes` is `false` for a read-only one).
    pub fn account(id: UserId, name: impl Into<String>, role: Role, writes: bool) -> Caller {
        Caller {
            user: id,
            name: Some(name.into()),
            role,
            writes,
            token: None,
            worker: None,
            at_the_machine: false,
        }
    }

    /// `self`, come through the personal API token named `name`.
    pub fn through_token(self, name: impl Into<String>) -> Caller {
        Caller {
            token: Some(name.into()),
            ..self
        }
    }

    /// Who this caller is on what it does to a job ([`model::Job::started_by`],
    /// [`model::Job::cancelled_by`]): an account, and the token it came through; `None` for an
    /// anonymous user (an open server's one user) and a worker.
    pub fn actor(&self) -> Option<model::Actor> {
        let bounded = |s: &str| {
            let mut end = s.len().min(model::job::MAX_ACTOR_NAME_BYTES);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_string()
        };
        Some(model::Actor {
            name: bounded(self.name.as_deref()?),
            token: self.token.as_deref().map(bounded),
        })
    }

    /// Whoever presented the operator token.
    pub fn operator() -> Caller {
        Caller::account(operator_id(), "operator", Role::Admin, true)
    }

    /// A worker of the worker token `token_id`: it acts for that token's workers alone. Beside
    /// what the policy refuses it, it is a user of its own who owns nothing and sees only what
    /// it owns (so, nothing), with a token that only reads.
    pub fn worker(token_id: impl Into<String>) -> Caller {
        let token_id = token_id.into();
        Caller {
            user: anonymous_user(&format!("worker:{token_id}")),
            name: None,
            role: Role::Member,
            writes: false,
            token: None,
            worker: Some(token_id),
            at_the_machine: false,
        }
    }

    /// The user id: the owner of the jobs this caller starts.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// The account's name (`None`: an anonymous user).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// `false` for a read-only token.
    pub fn writes(&self) -> bool {
        self.writes
    }

    /// Whether this is the anonymous operator at the machine ([`Caller::at_the_machine`]).
    pub fn is_at_the_machine(&self) -> bool {
        self.at_the_machine
    }

    /// The worker token, for a worker's request.
    pub fn worker_token(&self) -> Option<&str> {
        self.worker.as_deref()
    }

    /// Whose jobs this caller sees: theirs, or (`None`) everyone's.
    pub fn sees(&self) -> Option<&UserId> {
        (!self.role.sees_all()).then_some(&self.user)
    }

    /// The bus channel that carries the events this caller may see.
    pub fn channel(&self) -> &str {
        self.sees().map_or(EVERYONE, UserId::as_str)
    }

    /// May do what the policy lets an admin do ([`Act::Administer`]).
    pub fn is_admin(&self) -> bool {
        self.may(Act::Administer).is_ok()
    }

    /// Asks the policy ([`crate::authority::decide`]).
    pub fn may(&self, act: Act<'_>) -> Result<(), AppError> {
        crate::authority::decide(self, act)
    }

    /// Refuses a change made with a read-only token ([`Act::Write`]).
    pub fn may_write(&self) -> Result<(), AppError> {
        self.may(Act::Write)
    }

    /// Refuses a viewer (or a read-only token) starting a job ([`Act::Start`]).
    pub fn may_start(&self) -> Result<(), AppError> {
        self.may(Act::Start)
    }

    /// Refuses cancelling or re-running a job of `owner` that this caller may see but not
    /// touch ([`Act::Change`]).
    pub fn may_touch(&self, owner: &UserId) -> Result<(), AppError> {
        self.may(Act::Change(owner))
    }

    /// Refuses a bulk action to a caller who may act on no job at all.
    pub fn may_act(&self) -> Result<(), AppError> {
        self.may_touch(&self.user)
    }

    /// Refuses anyone but an operator, an admin or the person at the machine ([`Act::Operate`]):
    /// 401 for another anonymous user (who could present the operator token), 403 for another
    /// role.
    pub fn may_operate(&self) -> Result<(), AppError> {
        self.may(Act::Operate)
    }

    /// Refuses anyone but an admin ([`Act::Administer`]): 401 for an anonymous user, 403 for a
    /// signed-in one.
    pub fn may_administer(&self) -> Result<(), AppError> {
        self.may(Act::Administer)
    }
}

/// The anonymous user of an open server's browser whose session cookie carries `cookie`: a
/// SHA-256 of it written as a UUID (version 8), so that the same cookie is the same user in
/// every process and after restarts with nothing stored, and the user id (shown to operators
/// as the owner of jobs) does not give the cookie away.
pub fn anonymous_user(cookie: &str) -> UserId {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("headway anonymous user {cookie}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let id = uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string();
    UserId::parse(&id).expect("a UUID is a user id")
}

/// The user id of whoever presents the operator token: `operator`, the owner of the jobs they
/// start.
pub fn operator_id() -> UserId {
    UserId::parse("operator").expect("`operator` is a user id")
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;

    #[test]
    fn an_anonymous_user_is_the_same_for_a_cookie_and_does_not_give_it_away() {
        let user = anonymous_user("AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(user, anonymous_user("AAAAAAAAAAAAAAAAAAAAAA"));
        assert_ne!(user, anonymous_user("AAAAAAAAAAAAAAAAAAAAAB"));
        let parsed = uuid::Uuid::try_parse(&user).unwrap();
        assert_eq!(parsed.get_version_num(), 8);
        assert!(!user.contains("AAAA"));
    }

    #[test]
    fn what_each_caller_may_see_and_do() {
        let anonymous = Caller::new(named("u1"));
        assert_eq!(anonymous.sees().map(|u| u.as_str()), Some("u1"));
        assert!(anonymous.may_start().is_ok() && anonymous.may_touch(&named("u1")).is_ok());
        assert_eq!(
            anonymous.may_touch(&named("u2")).unwrap_err().code,
            model::ErrorCode::Forbidden
        );
        assert_eq!(
            anonymous.may_administer().unwrap_err().code,
            model::ErrorCode::Unauthorized
        );

        let viewer = Caller::account(named("v"), "vera", Role::Viewer, true);
        assert_eq!((viewer.sees(), viewer.channel()), (None, EVERYONE));
        assert!(
            viewer.may_start().is_err()
                && viewer.may_touch(&named("v")).is_err()
                && viewer.may_touch(&named("x")).is_err()
        );

        let operator = Caller::account(named("o"), "otto", Role::Operator, true);
        assert!(operator.may_touch(&named("x")).is_ok() && operator.may_operate().is_ok());
        assert_eq!(
            Caller::account(named("m"), "mia", Role::Member, true)
                .may_operate()
                .unwrap_err()
                .code,
            model::ErrorCode::Forbidden
        );
        assert_eq!(
            anonymous.may_operate().unwrap_err().code,
            model::ErrorCode::Unauthorized
        );
        assert!(Caller::account(named("o"), "otto", Role::Operator, false)
            .may_operate()
            .is_err());
        assert_eq!(
            operator.may_administer().unwrap_err().code,
            model::ErrorCode::Forbidden
        );

        let read_only = Caller::account(named("a"), "ada", Role::Admin, false);
        assert!(read_only.may_start().is_err() && read_only.may_touch(&named("a")).is_err());
        assert!(read_only.may_administer().is_err() && !read_only.is_admin());
        assert!(Caller::operator().may_administer().is_ok());
    }
}
