//! Paged virtual memory objects.

use super::mapping::VmMapping;
use crate::abi::*;
use crate::error::{hal_error, ZxResult};
use crate::object::{KObjectBase, KernelObject};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use kernel_hal::{CachePolicy, Hal, PhysAddr, PAGE_SHIFT, PAGE_SIZE};
use spin::Mutex;

/// The largest size a VMO may have: 2^48 bytes. Creation is lazy, so a large VMO
/// costs nothing until its pages are committed.
pub const MAX_VMO_SIZE: u64 = 1 << 48;

/// `size` rounded up to whole pages, or `ZX_ERR_OUT_OF_RANGE` if that overflows or
/// exceeds [`MAX_VMO_SIZE`].
pub fn vmo_size_for(size: u64) -> ZxResult<usize> {
    let rounded = size
        .checked_add(PAGE_SIZE as u64 - 1)
        .ok_or(ZX_ERR_OUT_OF_RANGE)?
        & !(PAGE_SIZE as u64 - 1);
    if rounded > MAX_VMO_SIZE {
        return Err(ZX_ERR_OUT_OF_RANGE);
    }
    Ok(rounded as usize)
}

/// A paged VMO: a size, a sparse set of committed pages, a cache policy and the
/// mappings that show it.
///
/// Pages are committed on demand (a write, a fault, `commit`) and are always zeroed
/// when committed, so an uncommitted page and a fresh committed one read the same.
/// Every frame goes back to the HAL when it is decommitted, cut off by a shrink, or
/// when the VMO is dropped.
pub struct VmObject {
    base: KObjectBase,
    hal: Arc<dyn Hal>,
    resizable: bool,
    discardable: bool,
    pub(crate) inner: Mutex<VmoInner>,
}

/// The mutable state of a VMO, guarded by its lock.
pub(crate) struct VmoInner {
    /// Size in bytes, a multiple of `PAGE_SIZE`.
    pub(crate) size: usize,
    /// The byte size the creator asked for (`ZX_PROP_VMO_CONTENT_SIZE`).
    content_size: u64,
    /// Committed pages: page index to frame. Always below `size`.
    pub(crate) pages: BTreeMap<usize, PhysAddr>,
    pub(crate) cache: CachePolicy,
    /// The mappings of this VMO, by mapping id. Ids only grow, so the newest
    /// mappings (the ones most often removed again) share the B-tree's last leaf.
    /// A mapping removes itself when it is
    /// destroyed; one dropped with its address space leaves a dead entry, which
    /// [`VmObject::add_mapping`] prunes from time to time and every reader skips.
    pub(crate) mappings: BTreeMap<u64, Weak<VmMapping>>,
    /// Uncommitted pages that a read fault may have mapped to an address space's
    /// zero frame. Committing one of them first takes those translations away.
    pub(crate) zero_mapped: BTreeSet<usize>,
    /// Whether a discardable VMO is locked (`ZX_VMO_OP_LOCK`).
    locked: bool,
}

impl KernelObject for VmObject {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_VMO
    }
}

/// Pages taken out of a VMO whose translations are already gone: their frames, and
/// the mappings that were visited, both to be let go only after the VMO's lock is
/// released (a mapping's drop takes that lock).
#[derive(Default)]
#[must_use = "the frames must be given back to the HAL after the lock is released"]
pub(crate) struct Removed {
    frames: Vec<PhysAddr>,
    mappings: Vec<Arc<VmMapping>>,
}

impl Removed {
    pub(crate) fn release(self, hal: &dyn Hal) {
        drop(self.mappings);
        free_frames(hal, self.frames);
    }
}

/// Gives frames back to the HAL, one call per physically contiguous run.
fn free_frames(hal: &dyn Hal, mut frames: Vec<PhysAddr>) {
    frames.sort_unstable();
    let mut i = 0;
    while i < frames.len() {
        let start = frames[i];
        let mut count = 1;
        while i + count < frames.len() && frames[i + count] == start + count * PAGE_SIZE {
            count += 1;
        }
        // The frames came from this HAL and each was owned once by this VMO, so
        // freeing cannot fail; an error here would be a HAL bug we cannot repair.
        let _ = hal.free_frames(start, count);
        i += count;
    }
}

impl VmObject {
    /// Creates a VMO of `size` bytes rounded up to pages, all zero, nothing
    /// committed. `options` are `ZX_VMO_RESIZABLE` and `ZX_VMO_DISCARDABLE`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: an unknown option bit.
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds [`MAX_VMO_SIZE`].
    pub fn new(hal: Arc<dyn Hal>, size: u64, options: u32) -> ZxResult<Arc<VmObject>> {
        if options & !(ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE) != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let rounded = vmo_size_for(size)?;
        Ok(Arc::new(VmObject {
            base: KObjectBase::new(),
            hal,
            resizable: options & ZX_VMO_RESIZABLE != 0,
            discardable: options & ZX_VMO_DISCARDABLE != 0,
            inner: Mutex::new(VmoInner {
                size: rounded,
                content_size: size,
                pages: BTreeMap::new(),
                cache: CachePolicy::Cached,
                mappings: BTreeMap::new(),
                zero_mapped: BTreeSet::new(),
                locked: false,
            }),
        }))
    }

    /// The HAL this VMO's frames come from.
    pub fn hal(&self) -> &Arc<dyn Hal> {
        &self.hal
    }

    /// Whether the VMO was created resizable.
    pub fn is_resizable(&self) -> bool {
        self.resizable
    }

    /// Whether the VMO was created discardable.
    pub fn is_discardable(&self) -> bool {
        self.discardable
    }

    /// The size in bytes (a multiple of `PAGE_SIZE`).
    pub fn size(&self) -> usize {
        self.inner.lock().size
    }

    /// The content size in bytes (`ZX_PROP_VMO_CONTENT_SIZE`).
    pub fn content_size(&self) -> u64 {
        self.inner.lock().content_size
    }

    /// The cache policy.
    pub fn cache_policy(&self) -> CachePolicy {
        self.inner.lock().cache
    }

    /// Checks a byte access of `len` bytes at `offset` as `read`/`write` would,
    /// without doing it.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    pub fn check_io(&self, offset: u64, len: usize) -> ZxResult {
        self.inner.lock().check_io(offset, len, true).map(|_| ())
    }

    /// How many pages are committed.
    pub fn committed_pages(&self) -> usize {
        self.inner.lock().pages.len()
    }

    /// How many pages are committed in the page-aligned byte range
    /// `[offset, offset + len)`.
    pub fn committed_pages_in(&self, offset: usize, len: usize) -> usize {
        let inner = self.inner.lock();
        let first = offset >> PAGE_SHIFT;
        let end = first.saturating_add(len >> PAGE_SHIFT);
        inner.pages.range(first..end).count()
    }

    /// How many mappings show this VMO, and in how many distinct address spaces.
    pub fn mapping_counts(&self) -> (usize, usize) {
        let inner = self.inner.lock();
        let mut spaces: Vec<usize> = inner
            .mappings
            .values()
            .filter_map(|m| m.upgrade().map(|m| m.aspace_id()))
            .collect();
        let count = spaces.len();
        spaces.sort_unstable();
        spaces.dedup();
        drop(inner);
        (count, spaces.len())
    }

    /// Reads `buf.len()` bytes at byte offset `offset`. Uncommitted pages read as
    /// zeros and stay uncommitted.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> ZxResult {
        self.read_bytes(offset, buf, true)
    }

    /// Reads through a mapping: as [`read`](Self::read), but any cache policy is
    /// fine (a mapping of an uncached VMO is how uncached memory is used).
    pub(crate) fn read_mapped(&self, offset: u64, buf: &mut [u8]) -> ZxResult {
        self.read_bytes(offset, buf, false)
    }

    fn read_bytes(&self, offset: u64, buf: &mut [u8], byte_io: bool) -> ZxResult {
        let inner = self.inner.lock();
        let start = inner.check_io(offset, buf.len(), byte_io)?;
        let mut done = 0;
        while done < buf.len() {
            let pos = start + done;
            let in_page = pos % PAGE_SIZE;
            let chunk = (PAGE_SIZE - in_page).min(buf.len() - done);
            let out = &mut buf[done..done + chunk];
            match inner.pages.get(&(pos >> PAGE_SHIFT)) {
                Some(&frame) => self.hal.read(frame + in_page, out).map_err(hal_error)?,
                None => out.fill(0),
            }
            done += chunk;
        }
        Ok(())
    }

    /// Writes `buf` at byte offset `offset`, committing the pages it touches.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_NO_MEMORY`: no frames for the pages to commit; nothing is written
    ///   and nothing stays committed.
    pub fn write(&self, offset: u64, buf: &[u8]) -> ZxResult {
        self.write_bytes(offset, buf, true)
    }

    /// Writes through a mapping: as [`write`](Self::write), but any cache policy
    /// is fine.
    pub(crate) fn write_mapped(&self, offset: u64, buf: &[u8]) -> ZxResult {
        self.write_bytes(offset, buf, false)
    }

    fn write_bytes(&self, offset: u64, buf: &[u8], byte_io: bool) -> ZxResult {
        let mut inner = self.inner.lock();
        let start = inner.check_io(offset, buf.len(), byte_io)?;
        if buf.is_empty() {
            return Ok(());
        }
        let first = start >> PAGE_SHIFT;
        let end = (start + buf.len() - 1) / PAGE_SIZE + 1;
        inner.commit_pages(&*self.hal, first, end)?;
        let mut done = 0;
        while done < buf.len() {
            let pos = start + done;
            let in_page = pos % PAGE_SIZE;
            let chunk = (PAGE_SIZE - in_page).min(buf.len() - done);
            let frame = inner.pages[&(pos >> PAGE_SHIFT)];
            self.hal
                .write(frame + in_page, &buf[done..done + chunk])
                .map_err(hal_error)?;
            done += chunk;
        }
        Ok(())
    }

    /// Changes the size to `size` rounded up to pages, and the content size to
    /// `size`. Shrinking frees the pages past the new end and removes them from every
    /// mapping (accesses there then fault as out of range), and zeroes the bytes
    /// between `size` and the end of its page. Growing adds zero pages. Mappings keep
    /// their size.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds [`MAX_VMO_SIZE`].
    /// - `ZX_ERR_UNAVAILABLE`: the VMO is not resizable.
    pub fn set_size(&self, size: u64) -> ZxResult {
        let rounded = vmo_size_for(size)?;
        if !self.resizable {
            return Err(ZX_ERR_UNAVAILABLE);
        }
        let mut inner = self.inner.lock();
        let old = inner.size;
        inner.size = rounded;
        inner.content_size = size;
        let mut removed = Removed::default();
        if rounded < old {
            removed.frames = inner.take_pages(rounded >> PAGE_SHIFT, usize::MAX);
            removed.mappings = inner.unmap_from_mappings(rounded, old);
        }
        // Zero the tail of the last page so that growing again shows zeros.
        let tail = size as usize % PAGE_SIZE;
        if tail != 0 {
            if let Some(&frame) = inner.pages.get(&(size as usize >> PAGE_SHIFT)) {
                self.hal
                    .zero(frame + tail, PAGE_SIZE - tail)
                    .map_err(hal_error)?;
            }
        }
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Sets the content size (`ZX_PROP_VMO_CONTENT_SIZE`). Bytes between the new
    /// content size and the VMO's size are zeroed.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY` never happens here: zeroing only touches committed pages.
    /// Returns `ZX_ERR_INTERNAL` if the HAL refuses to zero a frame it handed out.
    pub fn set_content_size(&self, content_size: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        inner.content_size = content_size;
        let size = inner.size as u64;
        let removed = if content_size < size {
            inner.zero_bytes(&*self.hal, content_size as usize, size as usize)?
        } else {
            Removed::default()
        };
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Commits every page overlapping `[offset, offset + len)`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames; nothing new stays committed.
    pub fn commit(&self, offset: u64, len: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        let (first, end) = inner.page_span(offset, len)?;
        inner.commit_pages(&*self.hal, first, end)
    }

    /// Decommits the pages in the page-aligned range `[offset, offset + len)`: their
    /// frames go back to the HAL, every mapping loses them, and they read as zeros.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_INVALID_ARGS`: `offset` or `len` not page-aligned.
    pub fn decommit(&self, offset: u64, len: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if offset + len > inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        if offset % PAGE_SIZE as u64 != 0 || len % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let (first, end) = (
            (offset as usize) >> PAGE_SHIFT,
            ((offset + len) as usize) >> PAGE_SHIFT,
        );
        let removed = Removed {
            frames: inner.take_pages(first, end),
            mappings: inner.unmap_from_mappings(first << PAGE_SHIFT, end << PAGE_SHIFT),
        };
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Zeroes the bytes `[offset, offset + len)`: whole pages are decommitted,
    /// partial pages zeroed in place.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    pub fn zero(&self, offset: u64, len: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        if inner.cache != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        let removed = inner.zero_bytes(&*self.hal, offset as usize, end as usize)?;
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }

    /// Checks an eviction hint's range (`DONT_NEED`, `ALWAYS_NEED`). Anonymous
    /// memory is never evicted, so the hints have no other effect.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    pub fn hint(&self, offset: u64, len: u64) -> ZxResult {
        self.inner.lock().page_span(offset, len).map(|_| ())
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

    /// `ZX_VMO_OP_LOCK` / `TRY_LOCK`: locks a discardable VMO over its whole range.
    /// Pages are never discarded here, so the lock never finds anything discarded.
    /// Returns the lock state to report.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: the VMO is not discardable.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range is not exactly the whole VMO.
    pub fn lock_range(&self, offset: u64, len: u64) -> ZxResult<zx_vmo_lock_state_t> {
        if !self.discardable {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let mut inner = self.inner.lock();
        if offset != 0 || len != inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        inner.locked = true;
        Ok(zx_vmo_lock_state_t {
            offset,
            size: len,
            discarded_offset: 0,
            discarded_size: 0,
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
        Ok(())
    }

    /// Undoes a lock taken by [`lock_range`](Self::lock_range) whose report could not
    /// be delivered.
    pub fn undo_lock(&self) {
        self.inner.lock().locked = false;
    }

    /// Sets the cache policy used by later mappings and byte access.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_STATE`: the VMO is mapped, or has committed pages under a policy
    /// other than `CACHED`.
    pub fn set_cache_policy(&self, policy: CachePolicy) -> ZxResult {
        let mut inner = self.inner.lock();
        if inner.mappings.values().any(|m| m.strong_count() > 0) {
            return Err(ZX_ERR_BAD_STATE);
        }
        if !inner.pages.is_empty() && inner.cache != CachePolicy::Cached {
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

impl VmoInner {
    /// Checks a byte access of `len` bytes at `offset`; returns the offset as usize.
    fn check_io(&self, offset: u64, len: usize, byte_io: bool) -> ZxResult<usize> {
        if byte_io && self.cache != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        let end = offset.checked_add(len as u64).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > self.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        Ok(offset as usize)
    }

    /// The pages overlapping `[offset, offset + len)`, which must lie in the VMO.
    fn page_span(&self, offset: u64, len: u64) -> ZxResult<(usize, usize)> {
        let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > self.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        if len == 0 {
            return Ok((0, 0));
        }
        Ok((
            (offset as usize) >> PAGE_SHIFT,
            (end as usize).div_ceil(PAGE_SIZE),
        ))
    }

    /// Commits every missing page in `[first, end)`, zeroed. Gaps are filled with
    /// contiguous runs when the HAL has them, so they map with few translations.
    /// On failure, the pages this call committed are freed again.
    pub(crate) fn commit_pages(&mut self, hal: &dyn Hal, first: usize, end: usize) -> ZxResult {
        let mut added: Vec<usize> = Vec::new();
        let mut page = first;
        while page < end {
            let next = self
                .pages
                .range(page..end)
                .next()
                .map(|(&p, _)| p)
                .unwrap_or(end);
            if next > page {
                if let Err(err) = self.fill_gap(hal, page, next, &mut added) {
                    let frames = added.iter().filter_map(|p| self.pages.remove(p)).collect();
                    free_frames(hal, frames);
                    return Err(err);
                }
            }
            page = next + 1;
        }
        if !self.zero_mapped.is_empty() {
            let shown: Vec<usize> = added
                .iter()
                .copied()
                .filter(|p| self.zero_mapped.remove(p))
                .collect();
            for p in shown {
                drop(self.unmap_from_mappings(p << PAGE_SHIFT, (p + 1) << PAGE_SHIFT));
            }
        }
        Ok(())
    }

    fn fill_gap(
        &mut self,
        hal: &dyn Hal,
        first: usize,
        end: usize,
        added: &mut Vec<usize>,
    ) -> ZxResult {
        let mut page = first;
        while page < end {
            let want = end - page;
            // Try a contiguous run first; fall back to smaller runs, then to single frames.
            let mut run = want.min(512);
            let base = loop {
                match hal.alloc_contiguous(run, 0) {
                    Ok(base) => break base,
                    Err(_) if run > 1 => run = (run / 2).max(1),
                    Err(_) => return Err(ZX_ERR_NO_MEMORY),
                }
            };
            if hal.zero(base, run * PAGE_SIZE).is_err() {
                free_frames(hal, (0..run).map(|i| base + i * PAGE_SIZE).collect());
                return Err(ZX_ERR_INTERNAL);
            }
            for i in 0..run {
                self.pages.insert(page + i, base + i * PAGE_SIZE);
                added.push(page + i);
            }
            page += run;
        }
        Ok(())
    }

    /// Removes the committed pages in `[first, end)` and returns their frames.
    pub(crate) fn take_pages(&mut self, first: usize, end: usize) -> Vec<PhysAddr> {
        if first >= end {
            return Vec::new();
        }
        let mut tail = self.pages.split_off(&first);
        let mut rest = if end == usize::MAX {
            BTreeMap::new()
        } else {
            tail.split_off(&end)
        };
        self.pages.append(&mut rest);
        tail.into_values().collect()
    }

    /// Removes the translations of VMO bytes `[start, end)` from every mapping.
    /// Returns the mappings it looked at, to be dropped after this lock is released.
    pub(crate) fn unmap_from_mappings(&self, start: usize, end: usize) -> Vec<Arc<VmMapping>> {
        let live: Vec<Arc<VmMapping>> = self.mappings.values().filter_map(Weak::upgrade).collect();
        for mapping in &live {
            mapping.clear_vmo_range(start, end);
        }
        live
    }

    /// Zeroes bytes `[start, end)`: whole pages are taken out (and their frames
    /// returned for freeing), partial pages zeroed in place.
    fn zero_bytes(&mut self, hal: &dyn Hal, start: usize, end: usize) -> ZxResult<Removed> {
        if start >= end {
            return Ok(Removed::default());
        }
        let first_full = start.div_ceil(PAGE_SIZE);
        let end_full = end >> PAGE_SHIFT;
        let zero_partial = |inner: &VmoInner, from: usize, to: usize| -> ZxResult {
            if from < to {
                if let Some(&frame) = inner.pages.get(&(from >> PAGE_SHIFT)) {
                    hal.zero(frame + from % PAGE_SIZE, to - from)
                        .map_err(hal_error)?;
                }
            }
            Ok(())
        };
        if first_full > end_full {
            // Start and end inside the same page.
            zero_partial(self, start, end)?;
            return Ok(Removed::default());
        }
        zero_partial(self, start, first_full << PAGE_SHIFT)?;
        zero_partial(self, end_full << PAGE_SHIFT, end)?;
        let frames = self.take_pages(first_full, end_full);
        let mappings = if frames.is_empty() {
            Vec::new()
        } else {
            self.unmap_from_mappings(first_full << PAGE_SHIFT, end_full << PAGE_SHIFT)
        };
        Ok(Removed { frames, mappings })
    }
}

impl Drop for VmObject {
    fn drop(&mut self) {
        let pages = core::mem::take(&mut self.inner.get_mut().pages);
        free_frames(&*self.hal, pages.into_values().collect());
    }
}
