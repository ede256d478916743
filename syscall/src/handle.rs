//! `zx_handle_*`: close, duplicate, replace.

use crate::{status, Process};
use zircon_object::abi::*;
use zircon_object::object::Handle;
use zircon_object::ZxResult;

/// The rights a duplicate or replacement gets, or `ZX_ERR_INVALID_ARGS` if `asked`
/// would add any.
fn derive_rights(held: zx_rights_t, asked: zx_rights_t) -> ZxResult<zx_rights_t> {
    if asked == ZX_RIGHT_SAME_RIGHTS {
        Ok(held)
    } else if asked & !held == 0 {
        Ok(asked)
    } else {
        Err(ZX_ERR_INVALID_ARGS)
    }
}

impl Process {
    /// Closes `handle`. Closing `ZX_HANDLE_INVALID` succeeds and does nothing. The
    /// object lives on while other handles or mappings hold it; closing a region's
    /// last handle does not destroy the region.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: not a live handle.
    pub fn zx_handle_close(&self, handle: zx_handle_t) -> zx_status_t {
        if handle == ZX_HANDLE_INVALID {
            return ZX_OK;
        }
        // The object (if this was the table's last reference) goes after the
        // table's lock is released.
        let last = self.inner.handles().close(handle);
        status(last.map(drop))
    }

    /// Makes a new handle to the same object with `rights` (a subset of the
    /// original's, or `ZX_RIGHT_SAME_RIGHTS`) and writes it to `out`. The original
    /// is untouched.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`: not a live handle.
    /// - `ZX_ERR_ACCESS_DENIED`: the handle lacks `ZX_RIGHT_DUPLICATE`.
    /// - `ZX_ERR_INVALID_ARGS`: `rights` would add a right, or `out` is bad.
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_handle_duplicate(
        &self,
        handle: zx_handle_t,
        rights: zx_rights_t,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            let value = self.inner.handles().duplicate(handle, |held| {
                if held & ZX_RIGHT_DUPLICATE == 0 {
                    return Err(ZX_ERR_ACCESS_DENIED);
                }
                derive_rights(held, rights)
            })?;
            self.publish_handle(value, out).map(|_| ())
        })())
    }

    /// Replaces `handle` by a new handle to the same object with `rights` (a subset,
    /// or `ZX_RIGHT_SAME_RIGHTS`), written to `out`. Once `handle` is found live it
    /// is gone, whatever happens next.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`: not a live handle.
    /// - `ZX_ERR_INVALID_ARGS`: `rights` would add a right, or `out` is bad (the
    ///   original is gone in both cases).
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    // duplicate and replace share their signature and the rights rule
    // (`derive_rights`); they differ in what happens to the original handle.
    pub fn zx_handle_replace(
        &self,
        handle: zx_handle_t,
        rights: zx_rights_t,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            let original = self.inner.remove_handle(handle)?;
            let rights = derive_rights(original.rights, rights)?;
            self.install_handle(Handle::new(original.object, rights), out)
                .map(|_| ())
        })())
    }
}
