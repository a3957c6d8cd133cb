//! Where a feed starts: from the client's cursor when the events after it can be replayed,
//! else (with a resync) from the head.

/// Why a cursor newer than the head cannot be resumed from.
pub const NEWER: &str = "the event id is newer than this server's events";
/// Why a cursor older than what is kept cannot be resumed from.
pub const NOT_KEPT: &str = "events after this id are no longer kept";

/// The cursor a feed sends from, and why the client must resync first, if it must.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Origin {
    pub cursor: i64,
    pub resync: Option<&'static str>,
}

/// Where a feed starts for a client at `requested` (`None`: a client that starts afresh), on
/// a server whose head is `head` and which keeps the events after `pruned_through`. A fresh
/// feed of one job starts at 0, so that it tells the job's whole story; any other fresh feed
/// starts at the head (its snapshot tells the rest).
pub(super) fn origin(
    requested: Option<i64>,
    one_job: bool,
    head: i64,
    pruned_through: i64,
) -> Origin {
    let resync = |reason| Origin {
        cursor: head,
        resync: Some(reason),
    };
    match requested {
        Some(c) if c > head => resync(NEWER),
        Some(c) if c < pruned_through => resync(NOT_KEPT),
        Some(c) => Origin {
            cursor: c,
            resync: None,
        },
        None if one_job => Origin {
            cursor: 0,
            resync: None,
        },
        None => Origin {
            cursor: head,
            resync: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(cursor: i64) -> Origin {
        Origin {
            cursor,
            resync: None,
        }
    }

    #[test]
    fn a_cursor_within_what_is_kept_is_resumed_from() {
        assert_eq!(origin(Some(40), false, 50, 10), from(40));
        assert_eq!(origin(Some(50), true, 50, 10), from(50));
        assert_eq!(
            origin(Some(10), false, 50, 10),
            from(10),
            "the floor itself"
        );
    }

    #[test]
    fn a_cursor_from_the_future_or_before_what_is_kept_resyncs_at_the_head() {
        let at_head = |reason| Origin {
            cursor: 50,
            resync: Some(reason),
        };
        assert_eq!(origin(Some(51), false, 50, 10), at_head(NEWER));
        assert_eq!(origin(Some(9), true, 50, 10), at_head(NOT_KEPT));
    }

    #[test]
    fn a_fresh_feed_starts_at_the_head_or_at_its_jobs_beginning() {
        assert_eq!(origin(None, false, 50, 10), from(50));
        assert_eq!(origin(None, true, 50, 10), from(0));
    }
}
