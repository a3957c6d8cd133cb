//! What the engine answers when the store fails it: the failure is logged with its cause, and
//! the caller gets a generic error.

use crate::store::StoreError;
use crate::writer::WriteError;
use model::{AppError, ErrorCode};

/// A read the store failed: logged here, a generic error for the caller.
pub(crate) fn read_failed(e: StoreError) -> AppError {
    tracing::error!(error = %e, "store query failed");
    AppError::internal()
}

/// A write the store refused: logged here; the caller learns that it was not saved.
pub(crate) fn write_failed(what: &str, e: WriteError) -> AppError {
    tracing::error!(error = %e, "could not {what}");
    AppError::new(
        ErrorCode::Internal,
        format!("the server could not {what}: the database refused the change"),
    )
}
