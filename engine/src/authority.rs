//! The one policy: may this principal do this to that ([`decide`]). Every read and write of the
//! engine asks it, for a job, a run, a file, a schedule, a webhook, a token, a worker or the
//! deployment, whichever door the request came through (a page, a server function, the API, a
//! stream, a worker's poll); no handler decides alone. It is a pure function of the principal
//! ([`Caller`]) and the act ([`Act`], naming whose thing it is), so that its whole table is
//! tested at once (below), and the routes' generated test (`server/tests/it/authz.rs`) checks
//! that every endpoint answers as it says.
//!
//! The principals:
//! - a person: an open server's anonymous user (a member of their own jobs), or an account
//!   with its role ([`Role`]: viewer, member, operator, admin), in a session;
//! - the person at the machine of an open server that listens on loopback only (the server
//!   decides who that is): its anonymous user, who may also steer the deployment and raise
//!   priorities ([`Act::Operate`], [`Act::Raise`]), as an operator, but administers nothing;
//! - a personal token: its owner's role, and with scope `read` nothing that changes anything;
//! - the operator token: an admin;
//! - a worker token: its worker's own work on the jobs it holds ([`Act::Work`]) and nothing
//!   else, never as those jobs' owner (which jobs it holds, and what it may do with their files
//!   and children, [`crate::workers`] decides from the store);
//! - an external job's report token: that job's reports, as its owner (the server's identity
//!   layer lets it reach that one endpoint only).
//!
//! Refusals say why: 401 where presenting a credential would help (an anonymous caller asked
//! for an operator's act), 403 for a principal who may not, and 404 for what the principal may
//! not even see (another's job or upload: existence is not leaked).

use crate::caller::Caller;
use model::webhooks::WebhookScope;
use model::words::authority as words;
use model::{AppError, ErrorCode, Role, UserId};

/// What a principal asks to do, and to whose thing.
#[derive(Debug, Clone, Copy)]
pub enum Act<'a> {
    /// See a job of `owner`: the job, its run, its log, its events and its outputs.
    See(&'a UserId),
    /// Change anything at all (a token of scope `read` may not).
    Write,
    /// Start jobs (their kinds' priority ceilings and shares are the admission's).
    Start,
    /// Cancel, re-run or set the priority of a job of `owner`.
    Change(&'a UserId),
    /// Raise a job above its kind's priority.
    Raise,
    /// Steer the deployment: pause kinds, set limits, drain or disable workers, see the system
    /// page's controls and every schedule.
    Operate,
    /// Administer it: accounts, notices, worker tokens, every user's tokens.
    Administer,
    /// Do `what` with an upload of `owner`.
    Upload(Upload, &'a UserId),
    /// Create, change, run or delete a schedule of `owner`.
    Schedule(&'a UserId),
    /// Register a webhook of `scope`.
    RegisterWebhook(WebhookScope),
    /// Change, test or delete a webhook of `owner`, or resend its deliveries.
    Webhook(&'a UserId),
    /// Make, list or revoke a personal token of `owner`.
    Token(&'a UserId),
    /// A worker's own work: register, poll, and report, fetch inputs and send outputs for the
    /// jobs it holds.
    Work,
}

/// What is done with an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// See it in the listing: its owner only.
    List,
    /// Read what is known of it: its owner, and an admin.
    Read,
    /// Delete it while no job used it: its owner, and an admin (who keeps the file store
    /// clean).
    Delete,
    /// Name it in a job's parameters, which reads its content: its owner only (a re-run of
    /// someone's job may use that job's uploads, which the admission allows for the re-run
    /// alone).
    Use,
}

/// Whether `who` may do `act`: `Ok`, or the refusal to answer with.
pub fn decide(who: &Caller, act: Act<'_>) -> Result<(), AppError> {
    if who.worker_token().is_some() {
        return match act {
            Act::Work => Ok(()),
            _ => Err(forbidden(words::worker_token_only_works())),
        };
    }
    let role = who.role();
    let own = |owner: &UserId| owner == who.user();
    match act {
        Act::Work => Err(forbidden(words::workers_need_worker_token())),
        Act::See(owner) => match own(owner) || role.sees_all() {
            true => Ok(()),
            false => Err(AppError::not_found()),
        },
        Act::Write => writes(who),
        Act::Start => {
            writes(who)?;
            match role.starts() {
                true => Ok(()),
                false => Err(forbidden(words::may_not_start(role))),
            }
        }
        Act::Change(owner) => {
            writes(who)?;
            if role == Role::Viewer {
                return Err(forbidden(words::viewer_may_not_change_jobs()));
            }
            match own(owner) || role.acts_on_all() {
                true => Ok(()),
                false => Err(forbidden(words::only_own_jobs(role))),
            }
        }
        Act::Raise | Act::Operate if who.is_at_the_machine() => writes(who),
        Act::Raise | Act::Operate => {
            signed(who)?;
            writes(who)?;
            match role.acts_on_all() {
                true => Ok(()),
                false => Err(forbidden(words::only_operator())),
            }
        }
        Act::Administer => {
            signed(who)?;
            writes(who)?;
            match role == Role::Admin {
                true => Ok(()),
                false => Err(forbidden(words::only_admin())),
            }
        }
        Act::Upload(what, owner) => {
            let may = match what {
                Upload::List | Upload::Use => own(owner),
                Upload::Read => own(owner) || role == Role::Admin,
                Upload::Delete => own(owner) || (role == Role::Admin && who.writes()),
            };
            match (may, what) {
                (true, Upload::Delete) => writes(who),
                (true, _) => Ok(()),
                // Another's upload is not even there for them.
                (false, _) => Err(AppError::words(
                    ErrorCode::NotFound,
                    words::no_such_upload(),
                )),
            }
        }
        Act::Schedule(owner) => {
            writes(who)?;
            if role == Role::Viewer {
                return Err(forbidden(words::viewer_may_not_change_schedules()));
            }
            match own(owner) || role.acts_on_all() {
                true => Ok(()),
                false => Err(forbidden(words::only_own_schedules(role))),
            }
        }
        Act::RegisterWebhook(scope) => {
            writes(who)?;
            if role == Role::Viewer {
                return Err(forbidden(words::viewer_may_not_register_webhooks()));
            }
            match scope == WebhookScope::All && role != Role::Admin {
                true => Err(forbidden(words::only_admin_hears_all())),
                false => Ok(()),
            }
        }
        Act::Webhook(owner) => {
            writes(who)?;
            match own(owner) || role == Role::Admin {
                true => Ok(()),
                false => Err(forbidden(words::only_owner_changes_webhook())),
            }
        }
        Act::Token(owner) => match own(owner) {
            true => writes(who),
            false => decide(who, Act::Administer),
        },
    }
}

/// Refuses a read-only token.
fn writes(who: &Caller) -> Result<(), AppError> {
    match who.writes() {
        true => Ok(()),
        false => Err(forbidden(words::token_only_reads())),
    }
}

/// Refuses an anonymous caller an operator's or an admin's act: 401, as presenting the
/// operator token would help.
fn signed(who: &Caller) -> Result<(), AppError> {
    match who.name() {
        Some(_) => Ok(()),
        None => Err(AppError::words(
            ErrorCode::Unauthorized,
            words::operator_needs_token(),
        )),
    }
}

/// A 403 in the policy's words.
fn forbidden(words: model::Words) -> AppError {
    AppError::words(ErrorCode::Forbidden, words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;

    /// Every principal the server knows, by a short name.
    fn principals() -> Vec<(&'static str, Caller)> {
        let me = named::<UserId>("me");
        vec![
            ("anonymous", Caller::new(me.clone())),
            ("anonymous-read", Caller::anonymous_token(me.clone(), false)),
            (
                "viewer",
                Caller::account(me.clone(), "vera", Role::Viewer, true),
            ),
            (
                "member",
                Caller::account(me.clone(), "mia", Role::Member, true),
            ),
            (
                "member-read",
                Caller::account(me.clone(), "mia", Role::Member, false),
            ),
            (
                "operator",
                Caller::account(me.clone(), "oli", Role::Operator, true),
            ),
            (
                "admin",
                Caller::account(me.clone(), "ada", Role::Admin, true),
            ),
            (
                "admin-read",
                Caller::account(me.clone(), "ada", Role::Admin, false),
            ),
            ("operator-token", Caller::operator()),
            ("worker", Caller::worker("t1")),
            ("at-the-machine", Caller::new(me.clone()).at_the_machine()),
            (
                "at-the-machine-read",
                Caller::anonymous_token(me.clone(), false).at_the_machine(),
            ),
            (
                "member-at-the-machine",
                Caller::account(me.clone(), "mia", Role::Member, true).at_the_machine(),
            ),
        ]
    }

    /// The policy's whole table: for each act, on the principal's own thing and on another's,
    /// the answer of each principal (`.` allowed, else the status code).
    #[test]
    fn the_policy_answers_every_principal_for_every_act() {
        let me = named::<UserId>("me");
        let other = named::<UserId>("other");
        let acts: Vec<(&str, Act, &str)> = vec![
            // act, on what; then the answers of: anonymous, anonymous-read, viewer, member,
            // member-read, operator, admin, admin-read, operator-token, worker, at-the-machine,
            // at-the-machine-read, member-at-the-machine.
            ("see own", Act::See(&me), ". . . . . . . . . 403 . . ."),
            (
                "see other's",
                Act::See(&other),
                "404 404 . 404 404 . . . . 403 404 404 404",
            ),
            ("write", Act::Write, ". 403 . . 403 . . 403 . 403 . 403 ."),
            ("start", Act::Start, ". 403 403 . 403 . . 403 . 403 . 403 ."),
            (
                "change own",
                Act::Change(&me),
                ". 403 403 . 403 . . 403 . 403 . 403 .",
            ),
            (
                "change other's",
                Act::Change(&other),
                "403 403 403 403 403 . . 403 . 403 403 403 403",
            ),
            (
                "raise",
                Act::Raise,
                "401 401 403 403 403 . . 403 . 403 . 403 403",
            ),
            (
                "operate",
                Act::Operate,
                "401 401 403 403 403 . . 403 . 403 . 403 403",
            ),
            (
                "administer",
                Act::Administer,
                "401 401 403 403 403 403 . 403 . 403 401 401 403",
            ),
            // (The operator token's user is `operator`: "me"'s uploads are another's to it.)
            (
                "list own uploads",
                Act::Upload(Upload::List, &me),
                ". . . . . . . . 404 403 . . .",
            ),
            (
                "list other's uploads",
                Act::Upload(Upload::List, &other),
                "404 404 404 404 404 404 404 404 404 403 404 404 404",
            ),
            (
                "read other's upload",
                Act::Upload(Upload::Read, &other),
                "404 404 404 404 404 404 . . . 403 404 404 404",
            ),
            (
                "use other's upload",
                Act::Upload(Upload::Use, &other),
                "404 404 404 404 404 404 404 404 404 403 404 404 404",
            ),
            (
                "delete own upload",
                Act::Upload(Upload::Delete, &me),
                ". 403 . . 403 . . 403 . 403 . 403 .",
            ),
            (
                "delete other's upload",
                Act::Upload(Upload::Delete, &other),
                "404 404 404 404 404 404 . 404 . 403 404 404 404",
            ),
            (
                "own schedule",
                Act::Schedule(&me),
                ". 403 403 . 403 . . 403 . 403 . 403 .",
            ),
            (
                "other's schedule",
                Act::Schedule(&other),
                "403 403 403 403 403 . . 403 . 403 403 403 403",
            ),
            (
                "register webhook",
                Act::RegisterWebhook(WebhookScope::Own),
                ". 403 403 . 403 . . 403 . 403 . 403 .",
            ),
            (
                "register webhook for all",
                Act::RegisterWebhook(WebhookScope::All),
                "403 403 403 403 403 403 . 403 . 403 403 403 403",
            ),
            (
                "own webhook",
                Act::Webhook(&me),
                ". 403 . . 403 . . 403 . 403 . 403 .",
            ),
            (
                "other's webhook",
                Act::Webhook(&other),
                "403 403 403 403 403 403 . 403 . 403 403 403 403",
            ),
            (
                "own token",
                Act::Token(&me),
                ". 403 . . 403 . . 403 . 403 . 403 .",
            ),
            (
                "other's token",
                Act::Token(&other),
                "401 401 403 403 403 403 . 403 . 403 401 401 403",
            ),
            (
                "work",
                Act::Work,
                "403 403 403 403 403 403 403 403 403 . 403 403 403",
            ),
        ];
        let principals = principals();
        let mut wrong = Vec::new();
        for (name, act, expected) in &acts {
            let expected: Vec<&str> = expected.split(' ').collect();
            assert_eq!(expected.len(), principals.len(), "{name}");
            for ((who, caller), want) in principals.iter().zip(expected) {
                let got = match decide(caller, *act) {
                    Ok(()) => ".".to_string(),
                    Err(e) => e.code.http_status().to_string(),
                };
                if got != want {
                    wrong.push(format!("{name}, {who}: {got}, not {want}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
