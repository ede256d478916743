//! Paged virtual memory objects.

mod copy;
mod discard;
mod evict;
mod io;
mod paged;
mod pages;
mod physical;
mod pin;
mod range;

pub use evict::EvictionHint;
pub use paged::{PageState, PAGER_FAILURE_STATUSES};
pub use range::LockTaken;

use super::mapping::VmMapping;
use super::pager::{PagerLink, PagerPages, PagerParent};
use crate::abi::*;
use crate::error::{invariant, ZxResult};
use crate::object::{KObjectBase, KernelObject};
use crate::sync::Mutex;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use hashbrown::HashMap;
use kernel_hal::{CachePolicy, Hal, PhysAddr, PAGE_SHIFT, PAGE_SIZE};

bitflags::bitflags! {
    /// How a VMO behaves ([`VmObject::new`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct VmoOptions: u32 {
        /// The size may change after creation.
        const RESIZABLE = 1 << 0;
        /// The VMO may be locked and unlocked, and mapped only by mappings that
        /// allow faults.
        const DISCARDABLE = 1 << 1;
        /// For a pager-backed VMO ([`VmObject::new_paged`]): a write to a page
        /// that is not dirty first asks the provider (a dirty request).
        const TRAP_DIRTY = 1 << 2;
    }
}

/// The largest size a VMO may have: 2^48 bytes. Creation is lazy, so a large VMO
/// costs nothing until its pages are committed.
pub const MAX_VMO_SIZE: u64 = 1 << 48;

/// `size` rounded up to whole pages, or `ZX_ERR_OUT_OF_RANGE` if that overflows or
/// exceeds [`MAX_VMO_SIZE`].
pub(crate) fn vmo_size_for(size: u64) -> ZxResult<usize> {
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
/// A VMO may be a child of another (`create_snapshot`, `create_slice`,
/// `create_reference`, in `child.rs`). A snapshot owns its pages like any VMO, some
/// of them shared with its relatives until one side writes. A slice or a reference
/// owns none: every page operation goes to its root at the slice's offset (0 for a
/// reference).
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
    /// For a child: its place in its parent's child counts, which it leaves only
    /// when it and all its own children are gone (Zircon's child holds its parent).
    pub(crate) link: Option<Arc<ChildLink>>,
    /// Live direct children.
    pub(crate) children: AtomicUsize,
    /// Live snapshots of this VMO or of a slice whose root it is: decommit is
    /// refused while there are any.
    pub(crate) cow_children: AtomicUsize,
    /// For a snapshot of a slice: the slice's root, whose `cow_children` it counts
    /// in too.
    pub(crate) cow_root: Option<Weak<VmObject>>,
    /// For a pager-backed VMO: its provider (see [`crate::vm::pager`]).
    pub(crate) pager: Option<Arc<PagerLink>>,
    pub(crate) inner: Mutex<VmoInner>,
}

/// A child's entry in its parent's child counts. The child holds it, and so does
/// each of the child's own children (through `up`), so the parent keeps counting
/// the child as long as any of them lives, as it would if children held their
/// parents. The frames of a closed child go at once all the same.
pub(crate) struct ChildLink {
    /// The parent whose counts this entry is in; taken when it leaves them.
    parent: Option<Weak<VmObject>>,
    /// Whether the child is a snapshot (counted in `cow_children` too).
    cow: bool,
    /// The parent's own entry in its parent's counts, if it is a child.
    up: Option<Arc<ChildLink>>,
}

impl ChildLink {
    /// Enters a new child of `parent` in its counts.
    pub(crate) fn enter(parent: &VmObject, weak: Weak<VmObject>, cow: bool) -> Arc<ChildLink> {
        parent.children.fetch_add(1, Ordering::AcqRel);
        if cow {
            parent.cow_children.fetch_add(1, Ordering::AcqRel);
        }
        Arc::new(ChildLink {
            parent: Some(weak),
            cow,
            up: parent.link.clone(),
        })
    }

    /// Leaves the parent's counts and hands back the parent's own entry.
    fn leave(&mut self) -> Option<Arc<ChildLink>> {
        if let Some(parent) = self.parent.take().and_then(|p| p.upgrade()) {
            parent.children.fetch_sub(1, Ordering::AcqRel);
            if self.cow {
                parent.cow_children.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.up.take()
    }
}

impl Drop for ChildLink {
    /// A chain of entries is as long as a user makes it: each entry this drop
    /// releases last is left here, in a loop, not by recursion.
    fn drop(&mut self) {
        let mut next = self.leave();
        while let Some(link) = next {
            next = match Arc::try_unwrap(link) {
                Ok(mut last) => last.leave(),
                Err(_) => None,
            };
        }
    }
}

/// Where the pages of a slice or a reference live: a window of a root VMO, which is
/// neither a slice nor a reference. A slice's root is never resizable, so its window
/// stays inside it. A reference's window is the whole root at every moment: the root
/// keeps the reference's size and content size equal to its own (under its lock,
/// through its list of windows), and a reference resizes by resizing the root.
pub(crate) struct SliceOf {
    /// The root VMO.
    pub(crate) root: Arc<VmObject>,
    /// Byte offset of the window in the root, page-aligned (0 for a reference).
    pub(crate) offset: usize,
    /// Size of a slice in bytes, page-aligned (fixed: slices never resize); for a
    /// reference, its size at creation (the root's size is the one that counts).
    pub(crate) size: usize,
    /// Set for a reference (`ZX_VMO_CHILD_REFERENCE`).
    pub(crate) reference: bool,
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
    pub(crate) content_size: u64,
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
    /// Whether reclaim has discarded this VMO's pages since it was last locked
    /// (the next LOCK reports it, TRY_LOCK refuses), and when it was last unlocked
    /// (a tick of its machine's reclaimer: the oldest unlock is discarded first).
    pub(crate) discard: discard::DiscardState,
    /// A pager-backed VMO's pages in its machine's reclaim queue, and the hints
    /// that steer their eviction.
    pub(crate) evict: evict::EvictState,
    /// Committed pages whose frame may be held by a relative too. They are mapped
    /// read-only; a write first gives this VMO a private copy (or the frame itself,
    /// when no relative holds it any more).
    pub(crate) shared: BTreeSet<usize>,
    /// The share counts of this VMO's copy-on-write family, once it has one.
    pub(crate) family: Option<ShareCounts>,
    /// The slices and references whose root is this VMO, so that pages leaving it
    /// leave their mappings too (and references follow its size). Dead entries are
    /// pruned when one is added.
    pub(crate) slices: Vec<Weak<VmObject>>,
    /// Set for a physical VMO and its slices: `pages` names device frames, which
    /// are never freed, decommitted or copied, and byte I/O is not supported.
    pub(crate) physical: bool,
    /// Set for a contiguous VMO: its pages are one physical run, committed from
    /// creation to drop (never decommitted; ZERO zeroes them in place).
    pub(crate) contiguous: bool,
    /// Pinned pages: page index to how many pins hold it. A pinned page stays
    /// committed, private and in place: nothing decommits, zeroes away, shares or
    /// cuts it off until the last pin is released.
    pub(crate) pinned: BTreeMap<usize, usize>,
    /// For a pager-backed VMO: its pages' dirty states and outstanding requests.
    pub(crate) pager: Option<PagerPages>,
    /// For a snapshot of a pager-backed VMO: the parent its absent pages come
    /// from.
    pub(crate) pager_parent: Option<PagerParent>,
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
        invariant(hal.free_frames(start, count), "free a VMO's frames");
        i += count;
    }
}

impl VmObject {
    /// Creates a VMO of `size` bytes rounded up to pages, all zero, nothing
    /// committed, with `options`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds [`MAX_VMO_SIZE`].
    pub fn new(hal: Arc<dyn Hal>, size: u64, options: VmoOptions) -> ZxResult<Arc<VmObject>> {
        let rounded = vmo_size_for(size)?;
        let vmo = Arc::new(VmObject::build(
            hal,
            options.contains(VmoOptions::RESIZABLE),
            options.contains(VmoOptions::DISCARDABLE),
            VmoInner::new(rounded, size),
        ));
        if vmo.discardable {
            vmo.enter_reclaim();
        }
        Ok(vmo)
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
            link: None,
            children: AtomicUsize::new(0),
            cow_children: AtomicUsize::new(0),
            cow_root: None,
            pager: None,
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

    /// For a slice, the end of its window in its root's byte offsets; `None` for a
    /// VMO that is not a slice, or a reference (whose window ends where the root
    /// does).
    pub(crate) fn slice_end(&self) -> Option<usize> {
        self.slice
            .as_ref()
            .filter(|s| !s.reference)
            .map(|s| s.offset + s.size)
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
        self.slice.as_ref().is_some_and(|s| !s.reference)
    }

    /// Whether this VMO is a reference to another (`ZX_VMO_CHILD_REFERENCE`): the
    /// same pages, size and content size under another koid.
    pub fn is_reference(&self) -> bool {
        self.slice.as_ref().is_some_and(|s| s.reference)
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
}

impl Drop for VmObject {
    /// Frees the frames only this VMO holds; its `link` leaves its parent's child
    /// counts once no child of its own holds it; its pages leave its machine's
    /// reclaim queue.
    /// Takes no VMO lock (a slice may be dropped while its root's lock is held) and
    /// no lock but its family's share counts and the reclaim queue's.
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if !inner.evict.queued.is_empty() {
            if let Some(reclaimer) = crate::vm::reclaim::reclaimer_of(&*self.hal) {
                reclaimer.forget(&inner.evict.queued);
            }
        }
        let pages = core::mem::take(&mut inner.pages);
        if !inner.physical {
            let frames = inner.frames_to_free(pages);
            free_frames(&*self.hal, frames);
        }
        if let Some(root) = self.cow_root.as_ref().and_then(Weak::upgrade) {
            root.cow_children.fetch_sub(1, Ordering::AcqRel);
        }
        let attached = inner.pager.as_ref().is_some_and(|p| !p.detached);
        if let (Some(link), true) = (&self.pager, attached) {
            link.provider.detached(link.key);
        }
    }
}
