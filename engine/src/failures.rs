//! What the engine answers when the store fails it: the caller gets a generic error that carries
//! the failure as its cause, logged once where the error becomes a response.

use crate::committer::WriteError;
use crate::store::StoreError;
use model::{AppError, ErrorCode};

/// A read the store failed: a generic error for the caller, the failure its cause.
pub(crate) fn read_failed(e: StoreError) -> AppError {
    store_failed("a store query failed", e)
}

/// What the store failed `doing`: a generic error for the caller, the failure its cause. One
/// that found every connection busy for the pool's whole wait is a 503 to try again shortly (a
/// flood of reads), not a fault of the server's.
pub(crate) fn store_failed(doing: impl Into<String>, e: StoreError) -> AppError {
    if e.is_busy() {
        return AppError::new(
            ErrorCode::Unavailable,
            "the server is too busy to answer now; try again in a moment",
        )
        .retry_after(1);
    }
    AppError::internal_because(doing, e)
}

/// A write the store refused: the caller learns that it was not saved, the failure is its cause.
pub(crate) fn write_failed(what: &str, e: WriteError) -> AppError {
    AppError::new(
        ErrorCode::Internal,
        format!("the server could not {what}: the database refused the change"),
    )
    .because(format!("could not {what}"), e)
}
