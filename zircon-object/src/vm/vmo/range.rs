//! Range operations: commit, decommit, zero, hints, cache ops, locks, cache
//! policy, and the registry of mappings.

use super::*;
use crate::abi::*;
use crate::error::ZxResult;
use crate::vm::reclaim::{pages_for, retry};
use alloc::sync::Weak;
use kernel_hal::{CachePolicy, PAGE_SHIFT, PAGE_SIZE};

impl VmObject {
    /// Commits every page overlapping `[offset, offset + len)`.
    /// Committed pages shared copy-on-write get their private copy (a commit is a
    /// promise that writes need no more memory). A slice commits its root's pages.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: a physical VMO (device memory is not committed;
    ///   Zircon's physical VMOs have no commit).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames; nothing new stays committed (pages
    ///   already made private stay private), once the machine's reclaimer
    ///   (`vm::reclaim`) could free nothing more.
    /// - A pager's failure status, or `ZX_ERR_BAD_STATE` from a detached VMO: a
    ///   pager-backed VMO's absent pages are asked for, and the commit blocks.
    pub fn commit(&self, offset: u64, len: u64) -> ZxResult {
        retry(&*self.hal, pages_for(len), || self.commit_once(offset, len))
    }

    fn commit_once(&self, offset: u64, len: u64) -> ZxResult {
        if self.is_physical() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if let Some(slice) = &self.slice {
            self.inner.lock().page_span(offset, len)?;
            return slice.root.commit(offset + slice.offset as u64, len);
        }
        loop {
            let mut inner = self.inner.lock();
            let (first, end) = inner.page_span(offset, len)?;
            match self.pager_prepare(&mut inner, first, end, false)? {
                None => return inner.commit_range(&*self.hal, first, end, true, 0..0),
                Some(wait) => {
                    drop(inner);
                    wait.wait()?;
                }
            }
        }
    }

    /// Decommits the pages in the page-aligned range `[offset, offset + len)`: their
    /// frames go back to the HAL, every mapping loses them, and they read as zeros.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: a physical VMO (first); the range is not empty and the VMO (or a slice's
    ///   root) is a snapshot or has live snapshots, of itself or of one of its
    ///   slices (checked before the range unless the range is empty and inside).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_INVALID_ARGS`: `offset` or `len` not page-aligned.
    /// - `ZX_ERR_NOT_SUPPORTED`: a contiguous or pager-backed VMO (after the range
    ///   checks).
    /// - `ZX_ERR_BAD_STATE`: a page of the range is pinned.
    ///
    /// A slice forwards the decommit to its root.
    pub fn decommit(&self, offset: u64, len: u64) -> ZxResult {
        if self.is_physical() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let (root, shift) = self.backing();
        let in_range = offset
            .checked_add(len)
            .is_some_and(|end| end <= self.size() as u64);
        // Zircon checks the range and the empty case before the VMO's kind.
        if len == 0 && in_range {
            return Ok(());
        }
        if self.in_cow_family() || root.in_cow_family() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let mut inner = self.inner.lock();
        offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if offset + len > inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        if offset % PAGE_SIZE as u64 != 0 || len % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if self.slice.is_some() {
            drop(inner);
            return root.decommit(offset + shift as u64, len);
        }
        if inner.contiguous || inner.pager.is_some() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        // Snapshots are counted under this lock, so one made since the check above
        // shows now; without this the decommit would free frames it shares.
        if self.in_cow_family() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let (first, end) = (
            (offset as usize) >> PAGE_SHIFT,
            ((offset + len) as usize) >> PAGE_SHIFT,
        );
        if inner.any_pinned(first, end) {
            return Err(ZX_ERR_BAD_STATE);
        }
        let removed = Removed {
            frames: inner.take_pages(first, end),
            mappings: inner.unmap_from_mappings(first << PAGE_SHIFT, end << PAGE_SHIFT),
        };
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Zeroes the bytes `[offset, offset + len)`: whole pages are decommitted,
    /// partial pages zeroed in place. Pinned pages (and a contiguous VMO's) stay
    /// committed and are zeroed in place, as Zircon's kernel does.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: a physical VMO (first).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_BAD_STATE`: `len > 0` and the cache policy is not `CACHED`.
    /// - `ZX_ERR_NO_MEMORY`: a partial page is shared copy-on-write and no frame is
    ///   free for its private copy.
    ///
    /// A slice zeroes its root's bytes.
    pub fn zero(&self, offset: u64, len: u64) -> ZxResult {
        retry(&*self.hal, 2, || self.zero_once(offset, len))
    }

    fn zero_once(&self, offset: u64, len: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        if inner.physical {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        // An empty range succeeds before the cache policy is looked at, as Zircon's.
        if len == 0 {
            return Ok(());
        }
        if inner.cache != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        if let Some(slice) = &self.slice {
            drop(inner);
            let shift = slice.offset as u64;
            return slice.root.zero_in_place(offset + shift, end + shift);
        }
        let removed = inner.zero_bytes(&*self.hal, offset as usize, end as usize)?;
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Zeroes bytes `[start, end)` of this non-slice VMO, which the caller has
    /// checked lie inside it (checked again here: a reference's root may have
    /// shrunk since).
    pub(super) fn zero_in_place(&self, start: u64, end: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        if end > inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        let removed = inner.zero_bytes(&*self.hal, start as usize, end as usize)?;
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Checks a cache maintenance op's range; x86 caches are coherent, so the op
    /// itself does nothing.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `len == 0`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    pub fn cache_op(&self, offset: u64, len: u64) -> ZxResult {
        if len == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > self.inner.lock().size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        Ok(())
    }

    /// `ZX_VMO_OP_LOCK`: locks a discardable VMO over its whole range. If reclaim
    /// discarded the VMO while it was unlocked, the state reports the whole VMO
    /// as discarded (it reads as zeros) and the lock clears the mark.
    /// Returns the lock, with the state to report: it stays only once
    /// [`LockTaken::keep`] is called (a report that cannot be delivered drops it,
    /// which puts the VMO back as it was, discard mark included).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: the VMO is not discardable.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range is not exactly the whole VMO.
    pub fn lock_range(&self, offset: u64, len: u64) -> ZxResult<LockTaken<'_>> {
        self.take_lock(offset, len, false)
    }

    /// `ZX_VMO_OP_TRY_LOCK`: as [`lock_range`](Self::lock_range), but a VMO that
    /// reclaim has discarded is not locked.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: the VMO is not discardable.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range is not exactly the whole VMO.
    /// - `ZX_ERR_UNAVAILABLE`: the VMO has been discarded (it stays unlocked).
    pub fn try_lock_range(&self, offset: u64, len: u64) -> ZxResult<LockTaken<'_>> {
        self.take_lock(offset, len, true)
    }

    fn take_lock(&self, offset: u64, len: u64, try_only: bool) -> ZxResult<LockTaken<'_>> {
        if !self.discardable {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let mut inner = self.inner.lock();
        if offset != 0 || len != inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        let was_discarded = inner.discard.discarded;
        if try_only && was_discarded {
            return Err(ZX_ERR_UNAVAILABLE);
        }
        inner.discard.discarded = false;
        let was_locked = core::mem::replace(&mut inner.locked, true);
        Ok(LockTaken {
            vmo: self,
            state: zx_vmo_lock_state_t {
                offset,
                size: len,
                discarded_offset: 0,
                discarded_size: if was_discarded { len } else { 0 },
            },
            was_locked,
            was_discarded,
            kept: false,
        })
    }

    /// `ZX_VMO_OP_UNLOCK`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: the VMO is not discardable.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range is not exactly the whole VMO.
    /// - `ZX_ERR_BAD_STATE`: the VMO is not locked.
    pub fn unlock_range(&self, offset: u64, len: u64) -> ZxResult {
        if !self.discardable {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let mut inner = self.inner.lock();
        if offset != 0 || len != inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        if !inner.locked {
            return Err(ZX_ERR_BAD_STATE);
        }
        inner.locked = false;
        self.note_unlock(&mut inner);
        Ok(())
    }

    /// Sets the cache policy used by later mappings and byte access.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_STATE`: the VMO is mapped, is a child or has children, has
    /// pinned pages, or (not
    /// for a physical VMO) has committed pages under a policy other than `CACHED`.
    pub fn set_cache_policy(&self, policy: CachePolicy) -> ZxResult {
        let mut inner = self.inner.lock();
        if inner.mappings.values().any(|m| m.strong_count() > 0) {
            return Err(ZX_ERR_BAD_STATE);
        }
        if self.parent.is_some() || self.num_children() > 0 || !inner.pinned.is_empty() {
            return Err(ZX_ERR_BAD_STATE);
        }
        // A physical VMO's pages are device memory, not cached copies: any policy.
        if !inner.physical && !inner.pages.is_empty() && inner.cache != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        inner.cache = policy;
        Ok(())
    }

    /// Whether the VMO is locked (`ZX_VMO_OP_LOCK`).
    pub fn is_locked(&self) -> bool {
        self.inner.lock().locked
    }

    pub(crate) fn add_mapping(&self, id: u64, mapping: Weak<VmMapping>) {
        let mut inner = self.inner.lock();
        let len = inner.mappings.len();
        if len >= 64 && len.is_power_of_two() {
            inner.mappings.retain(|_, m| m.strong_count() > 0);
        }
        inner.mappings.insert(id, mapping);
    }

    pub(crate) fn remove_mapping(&self, id: u64) {
        self.inner.lock().mappings.remove(&id);
    }
}

/// A lock just taken by [`VmObject::lock_range`], and the state to report for it.
/// [`keep`](Self::keep) makes the lock stay; dropping it instead puts the VMO back
/// as it was before the call (unlocked, unless it was locked already), taking the
/// VMO's lock to do so.
#[must_use = "dropping a LockTaken undoes the lock: call keep() once its state is reported"]
pub struct LockTaken<'a> {
    vmo: &'a VmObject,
    state: zx_vmo_lock_state_t,
    was_locked: bool,
    was_discarded: bool,
    kept: bool,
}

impl LockTaken<'_> {
    /// The state to report (`zx_vmo_lock_state_t`).
    pub fn state(&self) -> &zx_vmo_lock_state_t {
        &self.state
    }

    /// Keeps the lock: the report was delivered.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for LockTaken<'_> {
    fn drop(&mut self) {
        if !self.kept {
            let mut inner = self.vmo.inner.lock();
            inner.locked = self.was_locked;
            inner.discard.discarded |= self.was_discarded;
        }
    }
}
