//! Errors of the object layer: a Zircon error status, which cannot be `ZX_OK`.

use crate::abi::*;
use core::fmt;
use core::num::NonZeroI32;
use kernel_hal::PagingError;

/// A Zircon error status (`ZX_ERR_*`). It wraps a non-zero value, so no `Err` can
/// hold `ZX_OK`; [`raw`](Self::raw) gives the ABI's `zx_status_t`. Every
/// `ZX_ERR_*` constant in [`crate::abi`] is one of these.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct ZxError(NonZeroI32);

impl ZxError {
    /// The error with status `value`, for constants: a zero fails to compile.
    pub(crate) const fn from_const(value: zx_status_t) -> ZxError {
        match NonZeroI32::new(value) {
            Some(value) => ZxError(value),
            None => panic!("ZX_OK is not an error"),
        }
    }

    /// The error with status `status`, or `None` for `ZX_OK`.
    pub const fn from_raw(status: zx_status_t) -> Option<ZxError> {
        match NonZeroI32::new(status) {
            Some(value) => Some(ZxError(value)),
            None => None,
        }
    }

    /// The status as the ABI passes it.
    pub const fn raw(self) -> zx_status_t {
        self.0.get()
    }

    /// The status's name (`"ZX_ERR_INVALID_ARGS"`), if it is one Zircon defines.
    pub fn name(self) -> Option<&'static str> {
        ERROR_NAMES
            .iter()
            .find(|(err, _)| *err == self)
            .map(|(_, name)| *name)
    }
}

impl fmt::Debug for ZxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ZxError({})", self.raw()),
        }
    }
}

impl fmt::Display for ZxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<ZxError> for zx_status_t {
    fn from(err: ZxError) -> zx_status_t {
        err.raw()
    }
}

/// Each HAL error as the status that says the same thing: running out of memory
/// is `NO_MEMORY`, a range outside the address space or physical memory
/// `OUT_OF_RANGE`, a misaligned argument `INVALID_ARGS`, a page already mapped
/// `ALREADY_EXISTS`, a page not mapped `NOT_FOUND`.
impl From<PagingError> for ZxError {
    fn from(err: PagingError) -> ZxError {
        match err {
            PagingError::NoMemory => ZX_ERR_NO_MEMORY,
            PagingError::OutOfRange => ZX_ERR_OUT_OF_RANGE,
            PagingError::NotAligned => ZX_ERR_INVALID_ARGS,
            PagingError::AlreadyMapped => ZX_ERR_ALREADY_EXISTS,
            PagingError::NotMapped => ZX_ERR_NOT_FOUND,
        }
    }
}

/// The result of every fallible object-layer operation.
pub type ZxResult<T = ()> = Result<T, ZxError>;

/// Converts a HAL error (see `From<PagingError> for ZxError`).
pub fn hal_error(err: PagingError) -> ZxError {
    ZxError::from(err)
}

/// Consumes the result of a step that cannot fail while the invariants hold
/// (returning frames this layer owns to the HAL). A failure means the HAL and this
/// layer disagree: debug builds stop on it; release builds go on without the
/// step, which at worst leaks what it would have freed.
pub(crate) fn invariant<T, E: fmt::Debug>(result: Result<T, E>, what: &str) {
    debug_assert!(result.is_ok(), "{what}: {:?}", result.as_ref().err());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_values_names_and_hal_meaning() {
        assert_eq!(ZX_ERR_INVALID_ARGS.raw(), -10);
        assert_eq!(ZxError::from_raw(0), None);
        assert_eq!(ZxError::from_raw(-10), Some(ZX_ERR_INVALID_ARGS));
        assert_eq!(ZX_ERR_BAD_STATE.name(), Some("ZX_ERR_BAD_STATE"));
        assert_eq!(ZxError::from(PagingError::NoMemory), ZX_ERR_NO_MEMORY);
        assert_eq!(ZxError::from(PagingError::OutOfRange), ZX_ERR_OUT_OF_RANGE);
        assert_ne!(ZxError::from(PagingError::NotMapped), ZX_ERR_INTERNAL);
    }
}
