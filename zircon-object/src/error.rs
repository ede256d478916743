//! Errors of the object layer: a Zircon status code.

use crate::abi::*;
use kernel_hal::PagingError;

/// A Zircon status code (`ZX_ERR_*`, never `ZX_OK` inside an `Err`).
pub type ZxError = zx_status_t;

/// The result of every fallible object-layer operation.
pub type ZxResult<T = ()> = Result<T, ZxError>;

/// Converts a HAL error met while working on memory the object layer already
/// validated. Only running out of memory is expected; anything else means the HAL
/// and the object layer disagree, which is reported as `ZX_ERR_INTERNAL`.
pub fn hal_error(err: PagingError) -> ZxError {
    match err {
        PagingError::NoMemory => ZX_ERR_NO_MEMORY,
        _ => ZX_ERR_INTERNAL,
    }
}
