//! `zx_vmo_*`: create, byte I/O, size, range ops, children, cache policy.

use crate::records::Layout;
use crate::{status, Process};
use kernel_hal::CachePolicy;
use zircon_object::abi::*;
use zircon_object::object::{Handle, KernelObjectExt};
use zircon_object::vm::{EvictionHint, LockTaken, VmObject, VmoOptions};

impl Process {
    /// Creates a paged VMO of `size` bytes (rounded up to pages), all zero, nothing
    /// committed, and writes its handle to `out`. `options`: `ZX_VMO_RESIZABLE`,
    /// `ZX_VMO_DISCARDABLE`. Rights `ZX_DEFAULT_VMO_RIGHTS`, plus `ZX_RIGHT_RESIZE`
    /// when resizable.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: an unknown option bit, or a bad `out`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds 2^48 bytes.
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_vmo_create(&self, size: u64, options: u32, out: usize) -> zx_status_t {
        status((|| {
            if options & !(ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE) != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let mut typed = VmoOptions::empty();
            typed.set(VmoOptions::RESIZABLE, options & ZX_VMO_RESIZABLE != 0);
            typed.set(VmoOptions::DISCARDABLE, options & ZX_VMO_DISCARDABLE != 0);
            let vmo = VmObject::new(self.inner.aspace().hal().clone(), size, typed)?;
            let mut rights = ZX_DEFAULT_VMO_RIGHTS;
            if vmo.is_resizable() {
                rights |= ZX_RIGHT_RESIZE;
            }
            self.install_handle(Handle::new(vmo, rights), out)
                .map(|_| ())
        })())
    }

    /// Reads `buffer_size` bytes of the VMO at byte `offset` into user memory at
    /// `buffer`. Uncommitted pages read as zeros and stay uncommitted.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (no READ).
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: `offset + buffer_size` overflows or passes the end.
    /// - For a bad `buffer`, the status of the failed user access: `ZX_ERR_NOT_FOUND`
    ///   (unmapped), `ZX_ERR_ACCESS_DENIED` (not writable), `ZX_ERR_OUT_OF_RANGE`
    ///   (past its VMO's end); nothing is copied then.
    pub fn zx_vmo_read(
        &self,
        handle: zx_handle_t,
        buffer: usize,
        offset: u64,
        buffer_size: usize,
    ) -> zx_status_t {
        status((|| {
            let (vmo, _) = self.inner.get_object::<VmObject>(handle, ZX_RIGHT_READ)?;
            vmo.check_io(offset, buffer_size)?;
            self.inner
                .aspace()
                .copy_to_user(buffer, &vmo, offset, buffer_size)
        })())
    }

    // zx_vmo_read and zx_vmo_write mirror each other (the right, the direction of the
    // copy); their shared checks live in `VmObject::check_io`.
    /// Writes `buffer_size` bytes from user memory at `buffer` into the VMO at byte
    /// `offset`, committing the pages touched.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (no WRITE).
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: `offset + buffer_size` overflows or passes the end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames.
    /// - For a bad `buffer`, the status of the failed user access, as for
    ///   [`zx_vmo_read`](Self::zx_vmo_read).
    pub fn zx_vmo_write(
        &self,
        handle: zx_handle_t,
        buffer: usize,
        offset: u64,
        buffer_size: usize,
    ) -> zx_status_t {
        status((|| {
            let (vmo, _) = self.inner.get_object::<VmObject>(handle, ZX_RIGHT_WRITE)?;
            vmo.check_io(offset, buffer_size)?;
            self.inner
                .aspace()
                .copy_from_user(buffer, &vmo, offset, buffer_size)
        })())
    }

    /// Writes the VMO's size (a multiple of the page size) to `size`, a `u64`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`; `ZX_ERR_INVALID_ARGS` for a bad `size`
    /// pointer.
    pub fn zx_vmo_get_size(&self, handle: zx_handle_t, size: usize) -> zx_status_t {
        status((|| {
            let (vmo, _) = self.inner.get_object::<VmObject>(handle, 0)?;
            self.out_u64(size, vmo.size() as u64)
        })())
    }

    /// Resizes a resizable VMO to `size` rounded up to pages (content size `size`).
    /// Shrinking frees the pages past the end and removes them from every mapping.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (no WRITE,
    ///   or a resizable VMO's handle without `ZX_RIGHT_RESIZE`).
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds the maximum.
    /// - `ZX_ERR_UNAVAILABLE`: the VMO is not resizable.
    pub fn zx_vmo_set_size(&self, handle: zx_handle_t, size: u64) -> zx_status_t {
        status((|| {
            let (vmo, rights) = self.inner.get_object::<VmObject>(handle, ZX_RIGHT_WRITE)?;
            if vmo.is_resizable() && rights & ZX_RIGHT_RESIZE == 0 {
                return Err(ZX_ERR_ACCESS_DENIED);
            }
            vmo.set_size(size)
        })())
    }

    /// Applies `op` (`ZX_VMO_OP_*`) to `[offset, offset + size)` of the VMO.
    ///
    /// COMMIT, DECOMMIT and ZERO need WRITE; LOCK, TRY_LOCK and UNLOCK need READ or
    /// WRITE and act on discardable VMOs only (LOCK writes a `zx_vmo_lock_state_t` to
    /// `buffer`); the cache ops need READ and do nothing after validation (x86 caches
    /// are coherent); the hints need no right.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`; `ZX_ERR_ACCESS_DENIED` for a
    ///   missing right.
    /// - `ZX_ERR_INVALID_ARGS`: unknown op, DECOMMIT unaligned, cache op of size 0,
    ///   LOCK with a buffer smaller than 32 bytes or a bad buffer.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or passes the end; LOCK ranges
    ///   other than the whole VMO.
    /// - `ZX_ERR_NOT_SUPPORTED`: CACHE_INVALIDATE; LOCK ops on a non-discardable VMO;
    ///   DECOMMIT on a snapshot, on a VMO with live snapshots, or on a slice whose
    ///   root is either (checked before the range).
    /// - `ZX_ERR_BAD_STATE`: ZERO on a non-CACHED VMO; UNLOCK when not locked.
    /// - `ZX_ERR_NO_MEMORY`: COMMIT out of frames; COMMIT or ZERO needing a private
    ///   copy of a page shared copy-on-write with no frame free.
    ///
    /// On a slice, COMMIT, DECOMMIT and ZERO act on its root's pages.
    pub fn zx_vmo_op_range(
        &self,
        handle: zx_handle_t,
        op: u32,
        offset: u64,
        size: u64,
        buffer: usize,
        buffer_size: usize,
    ) -> zx_status_t {
        status((|| {
            let (vmo, rights) = self.inner.get_object::<VmObject>(handle, 0)?;
            let need = |right: u32| {
                if rights & right == right {
                    Ok(())
                } else {
                    Err(ZX_ERR_ACCESS_DENIED)
                }
            };
            let read_or_write = || {
                if rights & (ZX_RIGHT_READ | ZX_RIGHT_WRITE) != 0 {
                    Ok(())
                } else {
                    Err(ZX_ERR_ACCESS_DENIED)
                }
            };
            match op {
                ZX_VMO_OP_COMMIT => need(ZX_RIGHT_WRITE).and_then(|_| vmo.commit(offset, size)),
                ZX_VMO_OP_DECOMMIT => need(ZX_RIGHT_WRITE).and_then(|_| vmo.decommit(offset, size)),
                ZX_VMO_OP_ZERO => need(ZX_RIGHT_WRITE).and_then(|_| vmo.zero(offset, size)),
                ZX_VMO_OP_LOCK => {
                    read_or_write()?;
                    // An early return drops the lock, which undoes it.
                    let taken = vmo.lock_range(offset, size)?;
                    if buffer_size < <zx_vmo_lock_state_t as Layout>::SIZE {
                        return Err(ZX_ERR_INVALID_ARGS);
                    }
                    self.copy_out(buffer, &taken.state().to_bytes())?;
                    taken.keep();
                    Ok(())
                }
                ZX_VMO_OP_TRY_LOCK => read_or_write()
                    .and_then(|_| vmo.try_lock_range(offset, size).map(LockTaken::keep)),
                ZX_VMO_OP_UNLOCK => read_or_write().and_then(|_| vmo.unlock_range(offset, size)),
                ZX_VMO_OP_CACHE_INVALIDATE => Err(ZX_ERR_NOT_SUPPORTED),
                ZX_VMO_OP_CACHE_SYNC | ZX_VMO_OP_CACHE_CLEAN | ZX_VMO_OP_CACHE_CLEAN_INVALIDATE => {
                    need(ZX_RIGHT_READ).and_then(|_| vmo.cache_op(offset, size))
                }
                ZX_VMO_OP_DONT_NEED => vmo.hint(offset, size, EvictionHint::DontNeed),
                ZX_VMO_OP_ALWAYS_NEED => vmo.hint(offset, size, EvictionHint::AlwaysNeed),
                _ => Err(ZX_ERR_INVALID_ARGS),
            }
        })())
    }

    /// Creates a child of the VMO behind `handle` and writes its handle to `out`:
    /// a copy-on-write snapshot of `[offset, offset + size)` (`ZX_VMO_CHILD_SNAPSHOT`,
    /// `ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE` or `ZX_VMO_CHILD_SNAPSHOT_MODIFIED`,
    /// all true snapshots here, as Zircon makes them for VMOs without a pager; of a
    /// pager-backed VMO the last two make a snapshot that reads absent pages
    /// through the pager; the range may run past the parent's end, where it reads
    /// as zeros), a slice
    /// (`ZX_VMO_CHILD_SLICE`), a window onto the parent's pages, or a reference
    /// (`ZX_VMO_CHILD_REFERENCE`, offset and size 0), another VMO over all the
    /// parent's pages with the same size and content size. `ZX_VMO_CHILD_RESIZABLE`
    /// makes a resizable snapshot, or a reference with the RESIZE right;
    /// `ZX_VMO_CHILD_NO_WRITE` drops WRITE from the new handle (and marks a
    /// snapshot immutable).
    ///
    /// The new handle has the parent handle's rights without RESIZE, plus
    /// GET_PROPERTY and SET_PROPERTY, plus RESIZE for `ZX_VMO_CHILD_RESIZABLE`; a
    /// snapshot also gains WRITE and loses EXECUTE; NO_WRITE removes WRITE. The
    /// child's name is the parent's if the parent handle has GET_PROPERTY; its
    /// content size is `size` (a reference's is the parent's).
    ///
    /// # Errors
    ///
    /// In this order:
    /// - `ZX_ERR_INVALID_ARGS`: `ZX_VMO_CHILD_NO_WRITE` with `ZX_VMO_CHILD_RESIZABLE`
    ///   (checked before the handle).
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (the handle
    ///   needs DUPLICATE and READ).
    /// - `ZX_ERR_NOT_SUPPORTED`: the parent is discardable.
    /// - `ZX_ERR_INVALID_ARGS`: SLICE with any other bit; a reference with another
    ///   bit but RESIZABLE, an offset or a size; no child type, or a bit left over
    ///   besides the first snapshot kind (in the order SNAPSHOT,
    ///   AT_LEAST_ON_WRITE, MODIFIED) and RESIZABLE.
    /// - Slice: `ZX_ERR_INVALID_ARGS` (unaligned `offset`), `ZX_ERR_OUT_OF_RANGE`
    ///   (`size` rounding or `offset + size` overflows), `ZX_ERR_INVALID_ARGS` (the
    ///   range is not inside the parent), `ZX_ERR_NOT_SUPPORTED` (resizable parent),
    ///   `ZX_ERR_BAD_STATE` (parent not CACHED).
    /// - Reference: `ZX_ERR_NOT_SUPPORTED` (a physical, contiguous or slice parent,
    ///   or RESIZABLE of a parent that is not), `ZX_ERR_BAD_STATE` (parent not
    ///   CACHED).
    /// - Snapshot: `ZX_ERR_NOT_SUPPORTED` (physical parent), `ZX_ERR_INVALID_ARGS`
    ///   (contiguous parent), `ZX_ERR_BAD_STATE` (parent not CACHED, or pinned pages
    ///   in the range), `ZX_ERR_INVALID_ARGS` (unaligned `offset`),
    ///   `ZX_ERR_OUT_OF_RANGE` (`size` rounding overflows or exceeds 2^48 bytes, or
    ///   `offset + size` overflows).
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    /// - `ZX_ERR_INVALID_ARGS`: a bad `out`; the child is discarded then.
    pub fn zx_vmo_create_child(
        &self,
        handle: zx_handle_t,
        options: u32,
        offset: u64,
        size: u64,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            if options & ZX_VMO_CHILD_NO_WRITE != 0 && options & ZX_VMO_CHILD_RESIZABLE != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let no_write = options & ZX_VMO_CHILD_NO_WRITE != 0;
            let options = options & !ZX_VMO_CHILD_NO_WRITE;
            let (vmo, parent_rights) = self
                .inner
                .get_object::<VmObject>(handle, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ)?;
            if vmo.is_discardable() {
                return Err(ZX_ERR_NOT_SUPPORTED);
            }
            let resizable = options & ZX_VMO_CHILD_RESIZABLE != 0;
            let snapshot_kinds = [
                ZX_VMO_CHILD_SNAPSHOT,
                ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
                ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
            ];
            let (child, snapshot) = if options & ZX_VMO_CHILD_SLICE != 0 {
                if options != ZX_VMO_CHILD_SLICE {
                    return Err(ZX_ERR_INVALID_ARGS);
                }
                (vmo.create_slice(offset, size)?, false)
            } else if options & ZX_VMO_CHILD_REFERENCE != 0 {
                if options & !(ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE) != 0
                    || offset != 0
                    || size != 0
                {
                    return Err(ZX_ERR_INVALID_ARGS);
                }
                (vmo.create_reference(resizable)?, false)
            } else {
                // The first snapshot kind present is the one asked for, as in
                // Zircon; any other bit left over is invalid.
                let kind = snapshot_kinds
                    .into_iter()
                    .find(|&k| options & k != 0)
                    .ok_or(ZX_ERR_INVALID_ARGS)?;
                if options & !(kind | ZX_VMO_CHILD_RESIZABLE) != 0 {
                    return Err(ZX_ERR_INVALID_ARGS);
                }
                (
                    crate::pager::snapshot(&vmo, kind, offset, size, resizable, no_write)?,
                    true,
                )
            };
            let mut rights = (parent_rights & !ZX_RIGHT_RESIZE) | ZX_RIGHTS_PROPERTY;
            if resizable {
                rights |= ZX_RIGHT_RESIZE;
            }
            if snapshot {
                rights = (rights | ZX_RIGHT_WRITE) & !ZX_RIGHT_EXECUTE;
            }
            if no_write {
                rights &= !ZX_RIGHT_WRITE;
            }
            if parent_rights & ZX_RIGHT_GET_PROPERTY != 0 {
                child.set_name(vmo.name().as_bytes());
            }
            self.install_handle(Handle::new(child, rights), out)
                .map(|_| ())
        })())
    }

    /// Sets the VMO's cache policy (`ZX_CACHE_POLICY_*`), used by later mappings.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: a policy outside `ZX_CACHE_POLICY_MASK` (checked before
    ///   the handle).
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (no MAP).
    /// - `ZX_ERR_BAD_STATE`: the VMO is mapped, is a child (snapshot or slice) or has
    ///   live children, or has committed pages under a policy
    ///   other than CACHED.
    pub fn zx_vmo_set_cache_policy(&self, handle: zx_handle_t, cache_policy: u32) -> zx_status_t {
        status((|| {
            let policy = CachePolicy::from_raw(cache_policy).ok_or(ZX_ERR_INVALID_ARGS)?;
            let (vmo, _) = self.inner.get_object::<VmObject>(handle, ZX_RIGHT_MAP)?;
            vmo.set_cache_policy(policy)
        })())
    }
}
