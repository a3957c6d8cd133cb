//! What the engine answers when the store fails it: the caller gets a generic error that carries
//! the failure as its cause, logged once where the error becomes a response.

use crate::committer::WriteError;
use crate::store::StoreError;
use model::{AppError, ErrorCode};

/// A read the store failed: a generic error for the caller, the failure its cause.
pub(crate) fn read_failed(e: StoreError) -> AppError {
    AppError::internal_because("a store query failed", e)
}

/// A write the store refused: the caller learns that it was not saved, the failure is its cause.
pub(crate) fn write_failed(what: &str, e: WriteError) -> AppError {
    AppError::new(
        ErrorCode::Internal,
        format!("the server could not {what}: the database refused the change"),
    )
    .because(format!("could not {what}"), e)
}
