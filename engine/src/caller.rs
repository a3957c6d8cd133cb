//! [`Caller`]: who a request acts for. The server decides it once per request, from the
//! request's head, and every read and write of the engine takes it.

/// The user a request acts for. Today every user is the anonymous user of a browser session,
/// who sees and touches only their own jobs, or the operator (the holder of the operator token),
/// who may also post notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    user: String,
    operator: bool,
}

impl Caller {
    /// The user of a session.
    pub fn new(user: impl Into<String>) -> Caller {
        Caller {
            user: user.into(),
            operator: false,
        }
    }

    /// Whoever presented the operator token.
    pub fn operator() -> Caller {
        Caller {
            user: "operator".into(),
            operator: true,
        }
    }

    /// The user id: the owner of the jobs this caller starts.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// May post and withdraw notices.
    pub fn is_operator(&self) -> bool {
        self.operator
    }
}
