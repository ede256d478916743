//! A pager-backed VMO's side of reclaim: its clean pages in its machine's
//! least-recently-used queue, their eviction, and the `DONT_NEED` /
//! `ALWAYS_NEED` hints that steer it.

use super::*;
use crate::vm::reclaim::{reclaimer_of, Age};

/// What reclaim knows of a pager-backed VMO's pages, under its lock.
///
/// Invariant: `queued` holds exactly the pages this VMO has in its machine's
/// queue, each with its key there; every one of them was present when queued
/// (eviction checks again before it takes one).
#[derive(Default)]
pub(crate) struct EvictState {
    /// Pages in the machine's queue, with their key there.
    pub(crate) queued: BTreeMap<usize, u64>,
    /// Pages `ALWAYS_NEED` keeps from eviction (present pages only).
    pub(crate) always: BTreeSet<usize>,
    /// Pages evicted and not supplied again since.
    pub(crate) evicted: BTreeSet<usize>,
}

/// How an eviction hint steers reclaim (`ZX_VMO_OP_DONT_NEED`, `ALWAYS_NEED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionHint {
    /// Evict these pages before any other (`DONT_NEED`); undoes `ALWAYS_NEED`.
    DontNeed,
    /// Never evict these pages (`ALWAYS_NEED`), until a `DONT_NEED` of them.
    AlwaysNeed,
}

impl VmObject {
    /// Moves the present pages of `[first, end)` of this pager-backed VMO to the
    /// young end of its machine's queue: called when they are supplied and each
    /// time an access finds them present. The caller holds this VMO's lock as
    /// `inner`; the queue's lock is taken inside it.
    pub(crate) fn touch_pages(&self, inner: &mut VmoInner, first: usize, end: usize) {
        self.queue_pages(inner, first, end, Age::Young);
    }

    fn queue_pages(&self, inner: &mut VmoInner, first: usize, end: usize, age: Age) {
        let (Some(link), Some(reclaimer)) = (&self.pager, reclaimer_of(&*self.hal)) else {
            return;
        };
        if first >= end {
            return;
        }
        let VmoInner { pages, evict, .. } = &mut *inner;
        let present: Vec<usize> = pages.range(first..end).map(|(&p, _)| p).collect();
        if present.is_empty() {
            return;
        }
        reclaimer.queue(&link.me, age, &present, &mut evict.queued);
        if !evict.evicted.is_empty() {
            for page in &present {
                evict.evicted.remove(page);
            }
        }
    }

    /// Evicts those of `candidates` (pages with the key they had when the
    /// reclaimer took them from the queue) that are still that old and clean:
    /// supplied, not dirty or under writeback, not pinned, not shared
    /// copy-on-write, not kept by `ALWAYS_NEED`, and the VMO not detached. Their
    /// translations go, their frames go back to the HAL, and the provider hears
    /// of each run. Returns how many frames were freed. Takes this VMO's lock (the
    /// caller holds no VMO lock).
    pub(crate) fn evict(&self, candidates: &[(u64, usize)]) -> usize {
        let Some(link) = &self.pager else {
            return 0;
        };
        let mut inner = self.inner.lock();
        let mut gone: Vec<usize> = Vec::new();
        for &(key, page) in candidates {
            if inner.evict.queued.get(&page) != Some(&key) {
                continue;
            }
            inner.evict.queued.remove(&page);
            let clean = inner
                .pager
                .as_ref()
                .is_some_and(|p| !p.detached && !p.dirty.contains_key(&page));
            if clean
                && inner.pages.contains_key(&page)
                && !inner.pinned.contains_key(&page)
                && !inner.shared.contains(&page)
                && !inner.evict.always.contains(&page)
            {
                gone.push(page);
            }
        }
        if gone.is_empty() {
            return 0;
        }
        gone.sort_unstable();
        let frames: Vec<PhysAddr> = gone.iter().filter_map(|p| inner.pages.remove(p)).collect();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &page in &gone {
            match runs.last_mut() {
                Some((_, end)) if *end == page => *end += 1,
                _ => runs.push((page, page + 1)),
            }
        }
        let mut mappings = Vec::new();
        for &(lo, hi) in &runs {
            mappings.extend(inner.unmap_from_mappings(lo << PAGE_SHIFT, hi << PAGE_SHIFT));
        }
        inner.evict.evicted.extend(gone.iter().copied());
        drop(inner);
        let count = frames.len();
        Removed { frames, mappings }.release(&*self.hal);
        for (lo, hi) in runs {
            link.provider.evicted(
                link.key,
                (lo << PAGE_SHIFT) as u64,
                ((hi - lo) << PAGE_SHIFT) as u64,
            );
        }
        count
    }

    /// `ZX_VMO_OP_DONT_NEED` / `ZX_VMO_OP_ALWAYS_NEED` over the pages overlapping
    /// `[offset, offset + len)`. On a pager-backed VMO (a slice: its root's), `DontNeed`
    /// moves the present pages to the old end of the machine's queue, to be
    /// evicted first, and lifts `AlwaysNeed` from them; `AlwaysNeed` keeps the present
    /// pages from eviction (absent pages are not fetched). On other VMOs, which
    /// are never evicted, the hints only check the range.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    pub fn hint(&self, offset: u64, len: u64, hint: EvictionHint) -> ZxResult {
        let (first, end) = self.inner.lock().page_span(offset, len)?;
        let (root, shift) = self.backing();
        let (first, end) = (first + (shift >> PAGE_SHIFT), end + (shift >> PAGE_SHIFT));
        if root.pager.is_none() {
            return Ok(());
        }
        let mut inner = root.inner.lock();
        let end = end.min(inner.size >> PAGE_SHIFT);
        match hint {
            EvictionHint::DontNeed => {
                let always = &mut inner.evict.always;
                let lifted: Vec<usize> = always.range(first..end).copied().collect();
                for page in lifted {
                    always.remove(&page);
                }
                root.queue_pages(&mut inner, first, end, Age::Old);
            }
            EvictionHint::AlwaysNeed => {
                let present: Vec<usize> = inner.pages.range(first..end).map(|(&p, _)| p).collect();
                inner.evict.always.extend(present);
            }
        }
        Ok(())
    }

    /// Whether the page holding byte `offset` was evicted and has not been
    /// supplied again since (for tools that show a VMO's pages).
    pub fn is_evicted(&self, offset: u64) -> bool {
        let (root, shift) = self.backing();
        let page = (offset as usize + shift) >> PAGE_SHIFT;
        root.inner.lock().evict.evicted.contains(&page)
    }
}
