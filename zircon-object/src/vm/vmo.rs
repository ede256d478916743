//! Paged virtual memory objects.

use super::mapping::VmMapping;
use crate::abi::*;
use crate::error::{hal_error, ZxResult};
use crate::object::{KObjectBase, KernelObject};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use hashbrown::HashMap;
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
/// when the VMO is dropped (a frame shared copy-on-write with relatives goes back
/// when its last holder lets it go).
///
/// A VMO may be a child of another (`create_snapshot`, `create_slice`, in
/// `child.rs`). A snapshot owns its pages like any VMO, some of them shared with its
/// relatives until one side writes. A slice owns none: every page operation goes to
/// its root at the slice's offset.
pub struct VmObject {
    base: KObjectBase,
    hal: Arc<dyn Hal>,
    resizable: bool,
    discardable: bool,
    /// Set for a snapshot child (`ZX_INFO_VMO_IS_COW_CLONE`).
    pub(crate) cow_clone: bool,
    /// Set for a snapshot made with `NO_WRITE` (`ZX_INFO_VMO_IMMUTABLE`).
    pub(crate) immutable: bool,
    /// For a slice: the VMO whose pages it shows.
    pub(crate) slice: Option<SliceOf>,
    /// For a child: its direct parent (held weakly, for the parent's child counts)
    /// and the parent's koid.
    pub(crate) parent: Option<(Weak<VmObject>, zx_koid_t)>,
    /// Live direct children.
    pub(crate) children: AtomicUsize,
    /// Live snapshots of this VMO or of a slice whose root it is: decommit is
    /// refused while there are any.
    pub(crate) cow_children: AtomicUsize,
    /// For a snapshot of a slice: the slice's root, whose `cow_children` it counts
    /// in too.
    pub(crate) cow_root: Option<Weak<VmObject>>,
    pub(crate) inner: Mutex<VmoInner>,
}

/// Where a slice's pages live: a window of a root VMO, which is never a slice and
/// never resizable, so the window stays inside it.
pub(crate) struct SliceOf {
    /// The root VMO.
    pub(crate) root: Arc<VmObject>,
    /// Byte offset of the slice in the root, page-aligned.
    pub(crate) offset: usize,
    /// Size of the slice in bytes, page-aligned (fixed: slices never resize).
    pub(crate) size: usize,
}

/// How many VMOs hold each frame shared copy-on-write within one family (a VMO
/// and its snapshots, transitively). An entry exists while at least one VMO holds
/// the frame marked shared; the holder that brings the count to zero frees it.
pub(crate) type ShareCounts = Arc<Mutex<HashMap<PhysAddr, usize>>>;

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
    /// Committed pages whose frame may be held by a relative too. They are mapped
    /// read-only; a write first gives this VMO a private copy (or the frame itself,
    /// when no relative holds it any more).
    pub(crate) shared: BTreeSet<usize>,
    /// The share counts of this VMO's copy-on-write family, once it has one.
    pub(crate) family: Option<ShareCounts>,
    /// The slices whose root is this VMO, so that pages leaving it leave their
    /// mappings too. Dead entries are pruned when a slice is added.
    pub(crate) slices: Vec<Weak<VmObject>>,
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
        Ok(Arc::new(VmObject::build(
            hal,
            options & ZX_VMO_RESIZABLE != 0,
            options & ZX_VMO_DISCARDABLE != 0,
            VmoInner::new(rounded, size),
        )))
    }

    /// A root VMO (no parent, not a slice, no COW relation) around `inner`.
    pub(crate) fn build(
        hal: Arc<dyn Hal>,
        resizable: bool,
        discardable: bool,
        inner: VmoInner,
    ) -> VmObject {
        VmObject {
            base: KObjectBase::new(),
            hal,
            resizable,
            discardable,
            cow_clone: false,
            immutable: false,
            slice: None,
            parent: None,
            children: AtomicUsize::new(0),
            cow_children: AtomicUsize::new(0),
            cow_root: None,
            inner: Mutex::new(inner),
        }
    }

    /// The VMO whose pages back this one, and the byte offset of this VMO in it:
    /// the root for a slice, else this VMO at offset 0.
    pub(crate) fn backing(&self) -> (&VmObject, usize) {
        match &self.slice {
            Some(s) => (&s.root, s.offset),
            None => (self, 0),
        }
    }

    /// For a slice, the end of its window in its root's byte offsets.
    pub(crate) fn slice_end(&self) -> Option<usize> {
        self.slice.as_ref().map(|s| s.offset + s.size)
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

    /// Whether this VMO is a snapshot (`ZX_INFO_VMO_IS_COW_CLONE`).
    pub fn is_cow_clone(&self) -> bool {
        self.cow_clone
    }

    /// Whether this VMO is a snapshot made with `ZX_VMO_CHILD_NO_WRITE`
    /// (`ZX_INFO_VMO_IMMUTABLE`).
    pub fn is_immutable(&self) -> bool {
        self.immutable
    }

    /// Whether this VMO is a slice of another.
    pub fn is_slice(&self) -> bool {
        self.slice.is_some()
    }

    /// The koid of the VMO this one was created from, or 0 for a VMO that is not a
    /// child.
    pub fn parent_koid(&self) -> zx_koid_t {
        self.parent.as_ref().map_or(0, |(_, koid)| *koid)
    }

    /// How many direct children of this VMO are alive.
    pub fn num_children(&self) -> usize {
        self.children.load(Ordering::Acquire)
    }

    /// Whether this VMO is a snapshot or has live snapshots: decommitting it is
    /// not supported then.
    fn in_cow_family(&self) -> bool {
        self.cow_clone || self.cow_children.load(Ordering::Acquire) > 0
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

    /// How many pages are committed in this VMO (for a slice, none: its pages are
    /// its root's). Pages shared copy-on-write count in every VMO holding them.
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
        if let Some(slice) = &self.slice {
            self.inner.lock().check_io(offset, buf.len(), byte_io)?;
            return slice
                .root
                .read_bytes(offset + slice.offset as u64, buf, byte_io);
        }
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
    /// - `ZX_ERR_NO_MEMORY`: no frames for the pages to commit (nothing is written
    ///   and nothing stays committed) or for the private copy of a page shared
    ///   copy-on-write (nothing is written; pages committed or copied before the
    ///   failure stay, with the same contents).
    ///
    /// A page shared copy-on-write gets its private copy before it is written. A
    /// slice writes its root's pages.
    pub fn write(&self, offset: u64, buf: &[u8]) -> ZxResult {
        self.write_bytes(offset, buf, true)
    }

    /// Writes through a mapping: as [`write`](Self::write), but any cache policy
    /// is fine.
    pub(crate) fn write_mapped(&self, offset: u64, buf: &[u8]) -> ZxResult {
        self.write_bytes(offset, buf, false)
    }

    fn write_bytes(&self, offset: u64, buf: &[u8], byte_io: bool) -> ZxResult {
        if let Some(slice) = &self.slice {
            self.inner.lock().check_io(offset, buf.len(), byte_io)?;
            return slice
                .root
                .write_bytes(offset + slice.offset as u64, buf, byte_io);
        }
        let mut inner = self.inner.lock();
        let start = inner.check_io(offset, buf.len(), byte_io)?;
        if buf.is_empty() {
            return Ok(());
        }
        let first = start >> PAGE_SHIFT;
        let end = (start + buf.len() - 1) / PAGE_SIZE + 1;
        inner.commit_pages(&*self.hal, first, end)?;
        inner.make_private(&*self.hal, first, end)?;
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
    /// - `ZX_ERR_NO_MEMORY`: the page holding the new end is shared copy-on-write,
    ///   its tail must be zeroed, and no frame is free for the copy; nothing changes.
    pub fn set_size(&self, size: u64) -> ZxResult {
        let rounded = vmo_size_for(size)?;
        if !self.resizable {
            return Err(ZX_ERR_UNAVAILABLE);
        }
        let mut inner = self.inner.lock();
        // The tail of the last page is zeroed below, so that growing again shows
        // zeros; a shared page gets its private copy first, before anything changes.
        let tail = size as usize % PAGE_SIZE;
        let tail_page = size as usize >> PAGE_SHIFT;
        if tail != 0 {
            inner.make_private(&*self.hal, tail_page, tail_page + 1)?;
        }
        let old = inner.size;
        inner.size = rounded;
        inner.content_size = size;
        let mut removed = Removed::default();
        if rounded < old {
            removed.frames = inner.take_pages(rounded >> PAGE_SHIFT, usize::MAX);
            removed.mappings = inner.unmap_from_mappings(rounded, old);
        }
        if tail != 0 {
            if let Some(&frame) = inner.pages.get(&tail_page) {
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
    /// - `ZX_ERR_NO_MEMORY`: a partial page to zero is shared copy-on-write and no
    ///   frame is free for its private copy.
    /// - `ZX_ERR_INTERNAL`: the HAL refuses to zero a frame it handed out.
    pub fn set_content_size(&self, content_size: u64) -> ZxResult {
        if let Some(slice) = &self.slice {
            // The bytes past the new content size are the root's.
            let size = {
                let mut inner = self.inner.lock();
                inner.content_size = content_size;
                inner.size as u64
            };
            if content_size < size {
                let start = slice.offset as u64 + content_size;
                return slice.root.zero_in_place(start, slice.offset as u64 + size);
            }
            return Ok(());
        }
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
    /// Committed pages shared copy-on-write get their private copy (a commit is a
    /// promise that writes need no more memory). A slice commits its root's pages.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames; nothing new stays committed (pages
    ///   already made private stay private).
    pub fn commit(&self, offset: u64, len: u64) -> ZxResult {
        if let Some(slice) = &self.slice {
            self.inner.lock().page_span(offset, len)?;
            return slice.root.commit(offset + slice.offset as u64, len);
        }
        let mut inner = self.inner.lock();
        let (first, end) = inner.page_span(offset, len)?;
        inner.commit_pages(&*self.hal, first, end)?;
        inner.make_private(&*self.hal, first, end)
    }

    /// Decommits the pages in the page-aligned range `[offset, offset + len)`: their
    /// frames go back to the HAL, every mapping loses them, and they read as zeros.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: the VMO (or a slice's root) is a snapshot or has
    ///   live snapshots, of itself or of one of its slices (checked first).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_INVALID_ARGS`: `offset` or `len` not page-aligned.
    ///
    /// A slice forwards the decommit to its root.
    pub fn decommit(&self, offset: u64, len: u64) -> ZxResult {
        let (root, shift) = self.backing();
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
    /// - `ZX_ERR_NO_MEMORY`: a partial page is shared copy-on-write and no frame is
    ///   free for its private copy.
    ///
    /// A slice zeroes its root's bytes.
    pub fn zero(&self, offset: u64, len: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > inner.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
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
    /// checked lie inside it.
    fn zero_in_place(&self, start: u64, end: u64) -> ZxResult {
        let mut inner = self.inner.lock();
        let removed = inner.zero_bytes(&*self.hal, start as usize, end as usize)?;
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
    /// `ZX_ERR_BAD_STATE`: the VMO is mapped, is a child or has children, or has
    /// committed pages under a policy other than `CACHED`.
    pub fn set_cache_policy(&self, policy: CachePolicy) -> ZxResult {
        let mut inner = self.inner.lock();
        if inner.mappings.values().any(|m| m.strong_count() > 0) {
            return Err(ZX_ERR_BAD_STATE);
        }
        if self.parent.is_some() || self.num_children() > 0 {
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
    /// The state of a fresh VMO of `size` bytes (page-aligned) with content size
    /// `content_size`: nothing committed, cached.
    pub(crate) fn new(size: usize, content_size: u64) -> VmoInner {
        VmoInner {
            size,
            content_size,
            pages: BTreeMap::new(),
            cache: CachePolicy::Cached,
            mappings: BTreeMap::new(),
            zero_mapped: BTreeSet::new(),
            locked: false,
            shared: BTreeSet::new(),
            family: None,
            slices: Vec::new(),
        }
    }

    /// Gives this VMO private frames for the committed pages in `[first, end)`
    /// that are shared copy-on-write: a copy when a relative still holds the frame,
    /// the frame itself when none does. The pages' old translations leave every
    /// mapping, so that the next access maps the private frame.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: no frame for a copy. Pages made private before that stay
    /// private (their contents are the same).
    pub(crate) fn make_private(&mut self, hal: &dyn Hal, first: usize, end: usize) -> ZxResult {
        if first >= end || self.shared.range(first..end).next().is_none() {
            return Ok(());
        }
        let todo: Vec<usize> = self.shared.range(first..end).copied().collect();
        let family = self.family.clone().ok_or(ZX_ERR_INTERNAL)?;
        let mut result = Ok(());
        let mut changed = Vec::with_capacity(todo.len());
        {
            let mut counts = family.lock();
            for page in todo {
                let frame = self.pages[&page];
                let count = counts.get_mut(&frame).ok_or(ZX_ERR_INTERNAL)?;
                if *count == 1 {
                    counts.remove(&frame);
                } else {
                    let Ok(copy) = hal.alloc_frame() else {
                        result = Err(ZX_ERR_NO_MEMORY);
                        break;
                    };
                    if hal.copy(copy, frame, PAGE_SIZE).is_err() {
                        free_frames(hal, alloc::vec![copy]);
                        result = Err(ZX_ERR_INTERNAL);
                        break;
                    }
                    *count -= 1;
                    self.pages.insert(page, copy);
                }
                self.shared.remove(&page);
                changed.push(page);
            }
        }
        for page in changed {
            drop(self.unmap_from_mappings(page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT));
        }
        result
    }

    /// Removes the pages in `pages` from this VMO's bookkeeping of shared pages and
    /// returns the frames that nobody holds any more. Takes the family's share
    /// counts once, only if a page was shared.
    fn frames_to_free(&mut self, pages: BTreeMap<usize, PhysAddr>) -> Vec<PhysAddr> {
        let (Some(family), false) = (&self.family, self.shared.is_empty()) else {
            return pages.into_values().collect();
        };
        let mut counts = family.lock();
        let mut free = Vec::with_capacity(pages.len());
        for (page, frame) in pages {
            if !self.shared.remove(&page) {
                free.push(frame);
                continue;
            }
            match counts.get_mut(&frame) {
                Some(count) if *count > 1 => *count -= 1,
                _ => {
                    counts.remove(&frame);
                    free.push(frame);
                }
            }
        }
        free
    }

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

    /// Removes the committed pages in `[first, end)` and returns the frames to
    /// free: all of them, except shared frames that a relative still holds.
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
        self.frames_to_free(tail)
    }

    /// Removes the translations of VMO bytes `[start, end)` from every mapping,
    /// including the mappings of the slices whose root this is (taking each slice's
    /// lock after this one). Returns the mappings it looked at, to be dropped after
    /// this lock is released.
    pub(crate) fn unmap_from_mappings(&self, start: usize, end: usize) -> Vec<Arc<VmMapping>> {
        let mut live: Vec<Arc<VmMapping>> =
            self.mappings.values().filter_map(Weak::upgrade).collect();
        for mapping in &live {
            mapping.clear_vmo_range(start, end);
        }
        for slice in self.slices.iter().filter_map(Weak::upgrade) {
            let Some(window) = &slice.slice else {
                continue;
            };
            let lo = start.max(window.offset);
            let hi = end.min(window.offset + window.size);
            if lo >= hi {
                continue;
            }
            let inner = slice.inner.lock();
            for mapping in inner.mappings.values().filter_map(Weak::upgrade) {
                mapping.clear_vmo_range(lo - window.offset, hi - window.offset);
                live.push(mapping);
            }
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
        let zero_partial = |inner: &mut VmoInner, from: usize, to: usize| -> ZxResult {
            if from < to {
                let page = from >> PAGE_SHIFT;
                inner.make_private(hal, page, page + 1)?;
                if let Some(&frame) = inner.pages.get(&page) {
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
    /// Frees the frames only this VMO holds, and leaves its parent's child counts.
    /// Takes no VMO lock (a slice may be dropped while its root's lock is held) and
    /// no lock but its family's share counts.
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        let pages = core::mem::take(&mut inner.pages);
        let frames = inner.frames_to_free(pages);
        free_frames(&*self.hal, frames);
        if let Some(parent) = self.parent.as_ref().and_then(|(p, _)| p.upgrade()) {
            parent.children.fetch_sub(1, Ordering::AcqRel);
            if self.cow_clone {
                parent.cow_children.fetch_sub(1, Ordering::AcqRel);
            }
        }
        if let Some(root) = self.cow_root.as_ref().and_then(Weak::upgrade) {
            root.cow_children.fetch_sub(1, Ordering::AcqRel);
        }
    }
}
