//! VMO children: copy-on-write snapshots and slices.
//!
//! A **snapshot** is a VMO of its own. At creation it takes the parent's committed
//! frames in its range and holds them *shared*: both sides keep the frame, mark the
//! page shared and count the frame in their family's share counts (`ShareCounts`:
//! frame to number of holders). Shared pages are mapped read-only everywhere, so a
//! store through a mapping faults; any write (fault, `write`, `commit`, a partial
//! zero, the kernel's user copy) first gives the writer a private copy, or the frame
//! itself once no relative holds it. Creating a snapshot therefore costs one map
//! insertion per committed page of the range and never copies data. There is no
//! chain of parents to walk: a snapshot's uncommitted page reads as zeros, which is
//! what the parent's page was at creation (it was uncommitted then too), so parent
//! and child are fully independent apart from the frames they share.
//!
//! A **slice** owns no pages: it is a window onto its root (the first ancestor that
//! is not a slice), and every page operation on it goes to the root at the slice's
//! offset. The root keeps a weak list of its slices, so pages leaving the root leave
//! the slices' mappings too.
//!
//! A **reference** is a window onto the whole of its root, built the same way: the
//! same pages, size and content size under a koid, name and set of mappings of its
//! own. It follows the root's size (the root sets it, under its lock) and resizes by
//! resizing the root. A reference of a reference shares the first one's root.

use super::vmo::{vmo_size_for, ChildLink, SliceOf, VmObject, VmoInner};
use crate::abi::*;
use crate::error::ZxResult;
use crate::object::KernelObjectExt;
use crate::sync::Mutex;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use hashbrown::HashMap;
use kernel_hal::{CachePolicy, PAGE_SHIFT, PAGE_SIZE};

impl VmObject {
    /// Creates a copy-on-write snapshot of bytes `[offset, offset + size)` (size
    /// rounded up to pages) of this VMO. The snapshot reads what this VMO held there
    /// at creation; afterwards neither side sees the other's writes. The part of the
    /// range past this VMO's end reads as zeros and belongs to the snapshot alone.
    /// `immutable` only marks the child (its handle lacks WRITE).
    ///
    /// Costs one map insertion per committed page of the range; no data is copied.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: this VMO is discardable or physical.
    /// - `ZX_ERR_INVALID_ARGS`: this VMO is contiguous.
    /// - `ZX_ERR_BAD_STATE`: this VMO's cache policy is not `CACHED`, or a page of
    ///   it (or of a slice's root) is pinned.
    /// - `ZX_ERR_INVALID_ARGS`: `offset` is not page-aligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds the maximum VMO
    ///   size, or `offset + size` overflows.
    pub fn create_snapshot(
        self: &Arc<Self>,
        offset: u64,
        size: u64,
        resizable: bool,
        immutable: bool,
    ) -> ZxResult<Arc<VmObject>> {
        if self.is_discardable() || self.is_physical() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if self.is_contiguous() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if self.cache_policy() != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        if offset % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let rounded = vmo_size_for(size)?;
        let end = offset
            .checked_add(rounded as u64)
            .ok_or(ZX_ERR_OUT_OF_RANGE)?;

        let (root, shift) = self.backing();
        let mut guard = root.inner.lock();
        let r = &mut *guard;
        // The range in the root's byte offsets, cut at the end of this VMO.
        let limit = self.slice_end().unwrap_or(r.size) as u64;
        let lo = offset.saturating_add(shift as u64).min(limit);
        let hi = end.saturating_add(shift as u64).min(limit);
        let (first, last) = ((lo as usize) >> PAGE_SHIFT, (hi as usize) >> PAGE_SHIFT);
        // A pinned page must stay this VMO's own frame: sharing it would let the
        // next write move this VMO off the frame a device uses. Zircon refuses a
        // VMO with any page pinned, inside the range or not.
        if !r.pinned.is_empty() {
            return Err(ZX_ERR_BAD_STATE);
        }

        let family = r
            .family
            .get_or_insert_with(|| Arc::new(Mutex::new(HashMap::new())))
            .clone();
        // Both sides' page maps are built from sorted runs (bulk, linear); only the
        // share counts take one hash insertion per page.
        let taken: Vec<(usize, usize)> = r
            .pages
            .range(first..last)
            .map(|(&page, &frame)| (page, frame))
            .collect();
        let mut newly_shared = false;
        {
            let mut counts = family.lock();
            counts.reserve(taken.len());
            for &(page, frame) in &taken {
                if r.shared.contains(&page) {
                    *counts.entry(frame).or_insert(1) += 1;
                } else {
                    counts.insert(frame, 2);
                    newly_shared = true;
                }
            }
        }
        if newly_shared {
            if r.shared.is_empty() {
                r.shared = taken.iter().map(|&(page, _)| page).collect();
            } else {
                r.shared.extend(taken.iter().map(|&(page, _)| page));
            }
        }
        let pages: BTreeMap<usize, usize> = taken
            .iter()
            .map(|&(page, frame)| (page - first, frame))
            .collect();
        let shared: BTreeSet<usize> = pages.keys().copied().collect();
        if newly_shared {
            // Pages this VMO held privately may be mapped writable: take those
            // translations away, so the next store faults and copies.
            drop(r.unmap_from_mappings(first << PAGE_SHIFT, last << PAGE_SHIFT));
        }
        let mut inner = VmoInner::new(rounded, size);
        inner.pages = pages;
        inner.shared = shared;
        inner.family = Some(family);
        let mut child = VmObject::build(self.hal().clone(), resizable, false, inner);
        child.cow_clone = true;
        child.immutable = immutable;
        child.parent = Some((Arc::downgrade(self), self.koid()));
        child.link = Some(ChildLink::enter(self, Arc::downgrade(self), true));
        if let Some(slice) = &self.slice {
            slice.root.cow_children.fetch_add(1, Ordering::AcqRel);
            child.cow_root = Some(Arc::downgrade(&slice.root));
        }
        drop(guard);
        Ok(Arc::new(child))
    }

    /// Creates a slice: a window onto bytes `[offset, offset + size)` (size rounded
    /// up to pages) of this VMO's pages. Reads and writes through either side, by
    /// byte I/O or through mappings, reach the same pages. A slice of a slice is a
    /// slice of the root with the offsets added.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: this VMO is discardable or resizable.
    /// - `ZX_ERR_INVALID_ARGS`: `offset` is not page-aligned, or the range does not
    ///   lie inside this VMO.
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size or `offset + size` overflows.
    /// - `ZX_ERR_BAD_STATE`: this VMO's cache policy is not `CACHED` (any policy is
    ///   fine for a physical VMO).
    // Starts with the same argument checks as `create_snapshot` (the ABI gives both
    // the same rules, docs/ABI.md §8.7.1-8.7.2), then builds a different object.
    pub fn create_slice(self: &Arc<Self>, offset: u64, size: u64) -> ZxResult<Arc<VmObject>> {
        if self.is_discardable() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if offset % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let rounded = vmo_size_for(size)?;
        let end = offset
            .checked_add(rounded as u64)
            .ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > self.size() as u64 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if self.is_resizable() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let physical = self.is_physical();
        if !physical && !self.is_contiguous() && self.cache_policy() != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        let (root, shift) = match &self.slice {
            Some(s) => (s.root.clone(), s.offset),
            None => (self.clone(), 0),
        };
        let mut inner = VmoInner::new(rounded, size);
        if physical || self.is_contiguous() {
            // A window onto device memory or a contiguous run: same policy, and
            // (device memory) the same refusals.
            inner.physical = physical;
            inner.cache = self.cache_policy();
        }
        let mut child = VmObject::build(self.hal().clone(), false, false, inner);
        child.slice = Some(SliceOf {
            root: root.clone(),
            offset: shift + offset as usize,
            size: rounded,
            reference: false,
        });
        child.parent = Some((Arc::downgrade(self), self.koid()));
        child.link = Some(ChildLink::enter(self, Arc::downgrade(self), false));
        let child = Arc::new(child);
        let mut inner = root.inner.lock();
        let len = inner.slices.len();
        if len >= 16 && len.is_power_of_two() {
            inner.slices.retain(|s| s.strong_count() > 0);
        }
        inner.slices.push(Arc::downgrade(&child));
        drop(inner);
        Ok(child)
    }

    /// Creates a reference: another VMO over all of this VMO's pages, with the same
    /// size and content size, now and after any resize of either (a reference of a
    /// resizable VMO is resizable, and resizing it resizes both). Writes through
    /// either, by byte I/O or through mappings, are seen by both; decommitting or
    /// pinning through the reference acts on the shared pages. Its pages count as
    /// this VMO's, not its own (its committed size is 0). `resizable` asks for a
    /// resizable reference, which only a resizable VMO can give.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: this VMO is discardable, physical, a slice or
    ///   contiguous; or `resizable` and this VMO is not resizable.
    /// - `ZX_ERR_BAD_STATE`: this VMO's cache policy is not `CACHED`.
    pub fn create_reference(self: &Arc<Self>, resizable: bool) -> ZxResult<Arc<VmObject>> {
        if self.is_discardable() || self.is_physical() || self.is_slice() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if self.is_contiguous() || (resizable && !self.is_resizable()) {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let root = match &self.slice {
            Some(window) => window.root.clone(),
            None => self.clone(),
        };
        let mut inner = root.inner.lock();
        if inner.cache != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        let mut state = VmoInner::new(inner.size, inner.content_size);
        state.cache = inner.cache;
        let mut child = VmObject::build(self.hal().clone(), self.is_resizable(), false, state);
        child.slice = Some(SliceOf {
            root: root.clone(),
            offset: 0,
            size: inner.size,
            reference: true,
        });
        child.parent = Some((Arc::downgrade(self), self.koid()));
        child.link = Some(ChildLink::enter(self, Arc::downgrade(self), false));
        let child = Arc::new(child);
        let len = inner.slices.len();
        if len >= 16 && len.is_power_of_two() {
            inner.slices.retain(|s| s.strong_count() > 0);
        }
        inner.slices.push(Arc::downgrade(&child));
        drop(inner);
        Ok(child)
    }
}
