//! Who may start a job at which priority ([`model::priority`]): anyone at their kind's
//! default or below, an operator or an admin at any; and who may change a queued job's.

use crate::caller::Caller;
use crate::kinds::Registry;
use model::{AppError, Priority};

/// The field a refused priority is reported under.
pub const FIELD: &str = "priority";

/// The priority of a new job of `kind` that `caller` asked for (`None`: its kind's default).
pub fn priority_for(
    kinds: &Registry,
    caller: &Caller,
    kind: &str,
    asked: Option<Priority>,
) -> Result<Priority, AppError> {
    let default = kinds.priority(kind);
    match asked {
        None => Ok(default),
        Some(p) if p <= default || raises(caller) => Ok(p),
        Some(p) => Err(AppError::words(
            model::ErrorCode::Forbidden,
            model::words::priority_above(caller.role(), kind, default, p),
        )),
    }
}

/// The priority of a re-run of a job of `kind` that had `was`: the same, where the caller may
/// set it, else its kind's default.
pub fn rerun_priority(kinds: &Registry, caller: &Caller, kind: &str, was: Priority) -> Priority {
    priority_for(kinds, caller, kind, Some(was)).unwrap_or_else(|_| kinds.priority(kind))
}

/// Whether `caller` may set any priority (an operator or an admin, with a token that writes:
/// the policy's [`crate::authority::Act::Raise`]).
fn raises(caller: &Caller) -> bool {
    caller.may(crate::authority::Act::Raise).is_ok()
}

/// A priority written as text (a form's field): its name or level.
pub fn parse_field(text: &str) -> Result<Option<Priority>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Priority::parse(text)
        .map(Some)
        .ok_or_else(|| AppError::invalid_words(FIELD, model::words::priority_levels()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;
    use model::{ErrorCode, Role};

    fn kinds() -> Registry {
        Registry::builtin()
    }

    #[test]
    fn members_start_at_the_kinds_priority_or_below_operators_at_any() {
        let kinds = kinds();
        let member = Caller::account(named("ann"), "ann", Role::Member, true);
        let operator = Caller::account(named("op"), "op", Role::Operator, true);
        let anonymous = Caller::new(named("anon"));
        assert_eq!(
            priority_for(&kinds, &member, "demo", None).unwrap(),
            Priority::NORMAL
        );
        for p in [Priority::LOWEST, Priority::LOW, Priority::NORMAL] {
            assert_eq!(priority_for(&kinds, &member, "demo", Some(p)).unwrap(), p);
        }
        for caller in [&member, &anonymous] {
            let err = priority_for(&kinds, caller, "demo", Some(Priority::HIGH)).unwrap_err();
            assert_eq!(err.code, ErrorCode::Forbidden);
            assert!(
                err.message
                    .contains("at priority normal or below, not high"),
                "{}",
                err.message
            );
        }
        assert_eq!(
            priority_for(&kinds, &operator, "demo", Some(Priority::URGENT)).unwrap(),
            Priority::URGENT
        );
        // A read-only token of an operator raises nothing.
        let reader = Caller::account(named("op"), "op", Role::Operator, false);
        assert!(priority_for(&kinds, &reader, "demo", Some(Priority::HIGH)).is_err());
        // A re-run keeps what its caller may set, else takes the kind's.
        assert_eq!(
            rerun_priority(&kinds, &member, "demo", Priority::URGENT),
            Priority::NORMAL
        );
        assert_eq!(
            rerun_priority(&kinds, &member, "demo", Priority::LOW),
            Priority::LOW
        );
        assert_eq!(
            rerun_priority(&kinds, &operator, "demo", Priority::URGENT),
            Priority::URGENT
        );
    }

    #[test]
    fn a_forms_priority_is_a_name_or_a_level_or_nothing() {
        assert_eq!(parse_field(" high ").unwrap(), Some(Priority::HIGH));
        assert_eq!(parse_field("0").unwrap(), Some(Priority::LOWEST));
        assert_eq!(parse_field("").unwrap(), None);
        let err = parse_field("soon").unwrap_err();
        assert_eq!(err.fields[0].field, "priority");
    }
}
