//! `zx_pager_*`: pagers, the VMOs they back, and the answers a user pager gives
//! to page requests.

use crate::records::{DirtyRange, Layout, PagerVmoStats};
use crate::{status, Process};
use alloc::sync::Arc;
use alloc::vec::Vec;
use zircon_object::abi::*;
use zircon_object::ipc::Port;
use zircon_object::object::Handle;
use zircon_object::vm::pager::Pager;
use zircon_object::vm::{VmObject, VmoOptions};
use zircon_object::{ZxError, ZxResult};

/// The snapshot `zx_vmo_create_child` makes of `vmo` for snapshot kind `kind`
/// (`ZX_VMO_CHILD_SNAPSHOT` or `ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE`): a
/// pager-backed parent takes only the second, which reads through the pager.
///
/// # Errors
///
/// - `ZX_ERR_NOT_SUPPORTED`: a full snapshot of a pager-backed VMO, any
///   snapshot of a slice of one, or of a snapshot of one.
/// - As [`VmObject::create_snapshot`] otherwise.
pub(crate) fn snapshot(
    vmo: &Arc<VmObject>,
    kind: u32,
    offset: u64,
    size: u64,
    resizable: bool,
    immutable: bool,
) -> ZxResult<Arc<VmObject>> {
    if vmo.is_pager_backed() {
        // SNAPSHOT_MODIFIED of a pager-backed VMO, none of whose pages a clone
        // has modified, is an AT_LEAST_ON_WRITE snapshot (Zircon's rule).
        if kind != ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE && kind != ZX_VMO_CHILD_SNAPSHOT_MODIFIED
        {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        return vmo.create_pager_snapshot(offset, size, resizable, immutable);
    }
    if vmo.is_pager_snapshot() {
        return Err(ZX_ERR_NOT_SUPPORTED);
    }
    vmo.create_snapshot(offset, size, resizable, immutable)
}

impl Process {
    /// Looks up a pager (with `rights`) and a VMO created from it, for the calls
    /// that name both.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` for the
    /// pager, then `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` for the VMO, then
    /// `ZX_ERR_INVALID_ARGS` if the VMO is not the pager's.
    fn pager_and_vmo(
        &self,
        pager: zx_handle_t,
        rights: zx_rights_t,
        vmo: zx_handle_t,
        vmo_rights: zx_rights_t,
    ) -> ZxResult<Arc<VmObject>> {
        let (pager, _) = self.inner.get_object::<Pager>(pager, rights)?;
        let (vmo, _) = self.inner.get_object::<VmObject>(vmo, vmo_rights)?;
        pager.check_owns(&vmo)?;
        Ok(vmo)
    }

    /// Creates a pager and writes its handle (`ZX_DEFAULT_PAGER_RIGHTS`) to `out`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `options` is not 0, or a bad `out`.
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_pager_create(&self, options: u32, out: usize) -> zx_status_t {
        status((|| {
            if options != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let pager = Pager::new(self.inner.aspace().hal().clone());
            self.install_handle(Handle::new(pager, ZX_DEFAULT_PAGER_RIGHTS), out)
                .map(|_| ())
        })())
    }

    /// Creates a VMO of `size` bytes (rounded up to pages) backed by `pager`,
    /// whose page requests go to `port` as packets with `key`, and writes its
    /// handle to `out` (the rights of `zx_vmo_create`'s VMOs). `options`:
    /// `ZX_VMO_RESIZABLE`, `ZX_VMO_TRAP_DIRTY`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (the pager
    ///   needs ATTACH_VMO), then the same for the port (needs WRITE).
    /// - `ZX_ERR_INVALID_ARGS`: an unknown option bit, or a bad `out`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds 2^48 bytes.
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_pager_create_vmo(
        &self,
        pager: zx_handle_t,
        options: u32,
        port: zx_handle_t,
        key: u64,
        size: u64,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            let (pager, _) = self.inner.get_object::<Pager>(pager, ZX_RIGHT_ATTACH_VMO)?;
            let (port, _) = self.inner.get_object::<Port>(port, ZX_RIGHT_WRITE)?;
            if options & !(ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY) != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let mut typed = VmoOptions::empty();
            typed.set(VmoOptions::RESIZABLE, options & ZX_VMO_RESIZABLE != 0);
            typed.set(VmoOptions::TRAP_DIRTY, options & ZX_VMO_TRAP_DIRTY != 0);
            let vmo = pager.create_vmo(typed, &port, key, size)?;
            let mut rights = ZX_DEFAULT_VMO_RIGHTS;
            if vmo.is_resizable() {
                rights |= ZX_RIGHT_RESIZE;
            }
            self.install_handle(Handle::new(vmo, rights), out)
                .map(|_| ())
        })())
    }

    /// Detaches `vmo` from `pager`: outstanding requests fail with
    /// `ZX_ERR_BAD_STATE`, and so does every later access that would need the
    /// pager; the port gets `ZX_PAGER_VMO_COMPLETE`. Present pages stay.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (the pager
    /// needs ATTACH_VMO and MANAGE_VMO, the VMO WRITE), `ZX_ERR_INVALID_ARGS` (not
    /// the pager's VMO).
    pub fn zx_pager_detach_vmo(&self, pager: zx_handle_t, vmo: zx_handle_t) -> zx_status_t {
        status((|| {
            self.pager_and_vmo(
                pager,
                ZX_RIGHT_ATTACH_VMO | ZX_RIGHT_MANAGE_VMO,
                vmo,
                ZX_RIGHT_WRITE,
            )?
            .detach_pager()
        })())
    }

    /// Moves the pages of `aux_vmo` in `[aux_offset, aux_offset + length)` into
    /// `pager_vmo` at `[offset, offset + length)`: absent pages are filled,
    /// present ones kept (their aux pages freed), and threads waiting for them go
    /// on. The aux range is left decommitted.
    ///
    /// # Errors
    ///
    /// In this order:
    /// - The pager and VMO lookups (the pager needs MANAGE_VMO, the VMO WRITE); then
    ///   `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` for the
    ///   aux VMO (needs READ and WRITE).
    /// - `ZX_ERR_INVALID_ARGS`: `offset`, `length` or `aux_offset` unaligned.
    /// - `ZX_ERR_NOT_SUPPORTED`: the aux VMO is physical.
    /// - `ZX_ERR_BAD_STATE`: the aux VMO is pager-backed, a slice, contiguous, a
    ///   snapshot or has children.
    /// - `ZX_ERR_OUT_OF_RANGE`: the aux range runs past its end.
    /// - `ZX_ERR_BAD_STATE`: a page of the aux range is pinned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past the pager VMO's end.
    /// - `ZX_ERR_BAD_STATE`: the pager VMO is detached.
    /// - `ZX_ERR_NO_MEMORY`: no frame for a zero page.
    ///
    /// A failed call moves nothing.
    pub fn zx_pager_supply_pages(
        &self,
        pager: zx_handle_t,
        pager_vmo: zx_handle_t,
        offset: u64,
        length: u64,
        aux_vmo: zx_handle_t,
        aux_offset: u64,
    ) -> zx_status_t {
        status((|| {
            let vmo = self.pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_WRITE)?;
            let (aux, _) = self
                .inner
                .get_object::<VmObject>(aux_vmo, ZX_RIGHT_READ | ZX_RIGHT_WRITE)?;
            vmo.supply_pages(offset, length, &aux, aux_offset)
        })())
    }

    /// Applies pager op `op` to `[offset, offset + length)` of `pager_vmo`:
    /// `ZX_PAGER_OP_FAIL` (fails the outstanding requests there with the status in
    /// `data`), `ZX_PAGER_OP_DIRTY` (the pages become dirty; waiting writes go
    /// on), `ZX_PAGER_OP_WRITEBACK_BEGIN` (`data` 0 or
    /// `ZX_VMO_DIRTY_RANGE_IS_ZERO`) and `ZX_PAGER_OP_WRITEBACK_END`.
    ///
    /// # Errors
    ///
    /// - The pager and VMO lookups (the pager needs MANAGE_VMO, the VMO WRITE).
    /// - `ZX_ERR_NOT_SUPPORTED`: an unknown `op`.
    /// - `ZX_ERR_INVALID_ARGS`: FAIL with a `data` that is not one of
    ///   `ZX_ERR_IO`, `ZX_ERR_IO_DATA_INTEGRITY`, `ZX_ERR_BAD_STATE`,
    ///   `ZX_ERR_NO_SPACE`, `ZX_ERR_BUFFER_TOO_SMALL`; WRITEBACK_BEGIN with another
    ///   `data`; `offset` or `length` unaligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past the end.
    /// - `ZX_ERR_BAD_STATE`: DIRTY on a detached VMO.
    /// - `ZX_ERR_NOT_FOUND`: DIRTY over an absent page.
    pub fn zx_pager_op_range(
        &self,
        pager: zx_handle_t,
        op: u32,
        pager_vmo: zx_handle_t,
        offset: u64,
        length: u64,
        data: u64,
    ) -> zx_status_t {
        status((|| {
            let vmo = self.pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_WRITE)?;
            match op {
                ZX_PAGER_OP_FAIL => {
                    // The status comes sign-extended to 64 bits.
                    let raw = i32::try_from(data as i64).map_err(|_| ZX_ERR_INVALID_ARGS)?;
                    let failure = ZxError::from_raw(raw).ok_or(ZX_ERR_INVALID_ARGS)?;
                    vmo.fail_pages(offset, length, failure)
                }
                ZX_PAGER_OP_DIRTY => vmo.dirty_pages(offset, length),
                ZX_PAGER_OP_WRITEBACK_BEGIN => {
                    if data != 0 && data != ZX_VMO_DIRTY_RANGE_IS_ZERO {
                        return Err(ZX_ERR_INVALID_ARGS);
                    }
                    vmo.writeback_begin(offset, length)
                }
                ZX_PAGER_OP_WRITEBACK_END => vmo.writeback_end(offset, length),
                _ => Err(ZX_ERR_NOT_SUPPORTED),
            }
        })())
    }

    /// Writes the runs of dirty pages (dirty or under writeback) in `[offset,
    /// offset + length)` (widened to whole pages) to `buffer` as
    /// `zx_vmo_dirty_range_t` records, as many as fit in `buffer_size`, and the
    /// counts to `actual` (written) and `avail` (found), each optional (0).
    ///
    /// # Errors
    ///
    /// - The pager and VMO lookups (the pager needs MANAGE_VMO, the VMO READ).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_INVALID_ARGS`: a bad `buffer`, `actual` or `avail`.
    #[allow(clippy::too_many_arguments)]
    pub fn zx_pager_query_dirty_ranges(
        &self,
        pager: zx_handle_t,
        pager_vmo: zx_handle_t,
        offset: u64,
        length: u64,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
        avail: usize,
    ) -> zx_status_t {
        status((|| {
            let vmo = self.pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_READ)?;
            let page = kernel_hal::PAGE_SIZE as u64;
            let end = offset
                .checked_add(length)
                .and_then(|end| end.checked_next_multiple_of(page))
                .ok_or(ZX_ERR_OUT_OF_RANGE)?;
            let start = offset - offset % page;
            let runs = vmo.dirty_ranges(start, end - start)?;
            let records: Vec<Vec<u8>> = runs
                .into_iter()
                .map(|(offset, length)| {
                    DirtyRange {
                        offset,
                        length,
                        options: 0,
                    }
                    .to_bytes()
                })
                .collect();
            self.write_records(
                &records,
                DirtyRange::SIZE,
                false,
                buffer,
                buffer_size,
                actual,
                avail,
            )
        })())
    }

    /// Writes `pager_vmo`'s `zx_pager_vmo_stats_t` to `buffer`: whether it was
    /// modified (written or resized) since the last query with
    /// `ZX_PAGER_RESET_VMO_STATS`, which `options` may hold.
    ///
    /// # Errors
    ///
    /// - The pager and VMO lookups (the pager needs MANAGE_VMO, the VMO READ).
    /// - `ZX_ERR_INVALID_ARGS`: `options` is neither 0 nor
    ///   `ZX_PAGER_RESET_VMO_STATS`, or a bad `buffer` (nothing is reset then).
    /// - `ZX_ERR_BUFFER_TOO_SMALL`: `buffer_size` is below the record's size.
    pub fn zx_pager_query_vmo_stats(
        &self,
        pager: zx_handle_t,
        pager_vmo: zx_handle_t,
        options: u32,
        buffer: usize,
        buffer_size: usize,
    ) -> zx_status_t {
        status((|| {
            let vmo = self.pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_READ)?;
            if options & !ZX_PAGER_RESET_VMO_STATS != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            if buffer_size < PagerVmoStats::SIZE {
                return Err(ZX_ERR_BUFFER_TOO_SMALL);
            }
            let modified = vmo.pager_modified(false)?;
            let record = PagerVmoStats {
                modified: if modified {
                    ZX_PAGER_VMO_STATS_MODIFIED
                } else {
                    0
                },
            };
            self.copy_out(buffer, &record.to_bytes())?;
            if options & ZX_PAGER_RESET_VMO_STATS != 0 {
                vmo.pager_modified(true)?;
            }
            Ok(())
        })())
    }
}
