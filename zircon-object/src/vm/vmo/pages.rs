//! The page set under the VMO's lock: committing runs, taking pages out,
//! copy-on-write sharing, and taking pages away from mappings.

use super::*;
use crate::abi::*;
use crate::error::{hal_error, ZxResult};
use crate::vm::shootdown::OwedFlush;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::ops::Range;
use kernel_hal::{CachePolicy, Hal, PhysAddr, PAGE_SHIFT, PAGE_SIZE};

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
            discard: Default::default(),
            evict: Default::default(),
            shared: BTreeSet::new(),
            family: None,
            slices: Vec::new(),
            physical: false,
            contiguous: false,
            pinned: BTreeMap::new(),
            pager: None,
            pager_parent: None,
        }
    }

    /// Gives this VMO private frames for the committed pages in `[first, end)`
    /// that are shared copy-on-write: a copy when a relative still holds the frame,
    /// the frame itself when none does. The pages' old translations leave every
    /// mapping, so that the next access maps the private frame.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: no frame for a copy. All copies are made before anything
    /// changes, so a failure changes nothing.
    pub(crate) fn make_private(&mut self, hal: &dyn Hal, first: usize, end: usize) -> ZxResult {
        if first >= end || self.shared.range(first..end).next().is_none() {
            return Ok(());
        }
        let todo: Vec<usize> = self.shared.range(first..end).copied().collect();
        let family = self.family.clone().ok_or(ZX_ERR_INTERNAL)?;
        let mut counts = family.lock();
        // The copies first: each page either gets a copy (a relative holds its
        // frame) or keeps its frame.
        let mut plan: Vec<(usize, PhysAddr, Option<PhysAddr>)> = Vec::with_capacity(todo.len());
        let mut failure = None;
        for page in todo {
            let frame = self.pages[&page];
            let Some(&count) = counts.get(&frame) else {
                failure = Some(ZX_ERR_INTERNAL);
                break;
            };
            if count == 1 {
                plan.push((page, frame, None));
                continue;
            }
            let Ok(copy) = hal.alloc_frame() else {
                failure = Some(ZX_ERR_NO_MEMORY);
                break;
            };
            plan.push((page, frame, Some(copy)));
            if hal.copy(copy, frame, PAGE_SIZE).is_err() {
                failure = Some(ZX_ERR_INTERNAL);
                break;
            }
        }
        if let Some(err) = failure {
            drop(counts);
            free_frames(hal, plan.iter().filter_map(|p| p.2).collect());
            return Err(err);
        }
        for &(page, frame, copy) in &plan {
            match copy {
                Some(copy) => {
                    if let Some(count) = counts.get_mut(&frame) {
                        *count -= 1;
                    }
                    self.pages.insert(page, copy);
                }
                None => {
                    counts.remove(&frame);
                }
            }
            self.shared.remove(&page);
        }
        drop(counts);
        for (page, _, _) in plan {
            drop(self.unmap_from_mappings(page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT));
        }
        Ok(())
    }

    /// Removes the pages in `pages` from this VMO's bookkeeping of shared pages and
    /// returns the frames that nobody holds any more. Takes the family's share
    /// counts once, only if a page was shared.
    pub(super) fn frames_to_free(&mut self, pages: BTreeMap<usize, PhysAddr>) -> Vec<PhysAddr> {
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
    pub(super) fn check_io(&self, offset: u64, len: usize, byte_io: bool) -> ZxResult<usize> {
        if byte_io && self.physical {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if byte_io && self.cache != CachePolicy::Cached {
            return Err(ZX_ERR_BAD_STATE);
        }
        let end = offset.checked_add(len as u64).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > self.size as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        Ok(offset as usize)
    }

    /// The physical address of byte `start` when `[start, start + len)` lies in
    /// one committed page that is this VMO's own (not shared copy-on-write): a
    /// write there needs nothing committed or copied first.
    pub(super) fn private_frame_at(&self, start: usize, len: usize) -> Option<PhysAddr> {
        let in_page = start % PAGE_SIZE;
        if in_page + len > PAGE_SIZE {
            return None;
        }
        let page = start >> PAGE_SHIFT;
        let frame = *self.pages.get(&page)?;
        if !self.shared.is_empty() && self.shared.contains(&page) {
            return None;
        }
        Some(frame + in_page)
    }

    /// Whether any page in `[first, end)` is pinned.
    pub(crate) fn any_pinned(&self, first: usize, end: usize) -> bool {
        first < end && self.pinned.range(first..end).next().is_some()
    }

    /// The pages overlapping `[offset, offset + len)`, which must lie in the VMO.
    pub(super) fn page_span(&self, offset: u64, len: u64) -> ZxResult<(usize, usize)> {
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

    /// Calls `each(at, frame, len)` for the bytes `[start, start + len)` of this
    /// VMO, in order, one call per run: `at` is the run's offset from `start`,
    /// `frame` the physical address of its first byte (the run is physically
    /// contiguous) or `None` for a run of uncommitted pages. One walk of the page
    /// map, however long the range. Stops at the first error.
    pub(crate) fn byte_runs(
        &self,
        start: usize,
        len: usize,
        mut each: impl FnMut(usize, Option<PhysAddr>, usize) -> ZxResult,
    ) -> ZxResult {
        let end = start + len;
        // Bytes before `covered` have been passed to `each` or are in `run`.
        let mut covered = start;
        let mut run: Option<(usize, PhysAddr, usize)> = None;
        for (&page, &frame) in self
            .pages
            .range(start >> PAGE_SHIFT..end.div_ceil(PAGE_SIZE))
        {
            let lo = (page << PAGE_SHIFT).max(start);
            let hi = ((page + 1) << PAGE_SHIFT).min(end);
            let paddr = frame + lo % PAGE_SIZE;
            match run {
                Some((at, p, n)) if at + n == lo && p + n == paddr => {
                    run = Some((at, p, n + hi - lo))
                }
                _ => {
                    if let Some((at, p, n)) = run.take() {
                        each(at - start, Some(p), n)?;
                    }
                    if lo > covered {
                        each(covered - start, None, lo - covered)?;
                    }
                    run = Some((lo, paddr, hi - lo));
                }
            }
            covered = hi;
        }
        if let Some((at, p, n)) = run {
            each(at - start, Some(p), n)?;
        }
        if end > covered {
            each(covered - start, None, end - covered)?;
        }
        Ok(())
    }

    /// Commits every missing page in `[first, end)`, zeroed. Gaps are filled with
    /// contiguous runs when the HAL has them, so they map with few translations.
    /// On failure, the pages this call committed are freed again.
    pub(crate) fn commit_pages(&mut self, hal: &dyn Hal, first: usize, end: usize) -> ZxResult {
        self.commit_range(hal, first, end, false, 0..0)
    }

    /// Commits every missing page in `[first, end)` as [`commit_pages`] does and,
    /// with `private`, makes every shared page of the range private as
    /// [`make_private`] does: all or nothing, so that running out of frames part-way
    /// changes nothing. The new pages inside `overwritten` are not zeroed: the
    /// caller writes every byte of them before it releases this VMO's lock, so
    /// nobody sees what they held before (on failure they are freed unseen).
    ///
    /// [`commit_pages`]: Self::commit_pages
    /// [`make_private`]: Self::make_private
    pub(crate) fn commit_range(
        &mut self,
        hal: &dyn Hal,
        first: usize,
        end: usize,
        private: bool,
        overwritten: Range<usize>,
    ) -> ZxResult {
        let mut added: Vec<usize> = Vec::new();
        // The gaps first, in one walk of the page map (a range with nothing
        // committed, such as a fault's page, is one gap and needs no list).
        let mut gaps: Vec<(usize, usize)> = Vec::new();
        let mut page = first;
        for &next in self.pages.range(first..end).map(|(p, _)| p) {
            if next > page {
                gaps.push((page, next));
            }
            page = next + 1;
        }
        let last = (page < end).then_some((page, end));
        for (lo, hi) in gaps.into_iter().chain(last) {
            if let Err(err) = self.fill_gap(hal, lo, hi, &overwritten, &mut added) {
                let frames = added.iter().filter_map(|p| self.pages.remove(p)).collect();
                free_frames(hal, frames);
                return Err(err);
            }
        }
        if private {
            if let Err(err) = self.make_private(hal, first, end) {
                let frames = added.iter().filter_map(|p| self.pages.remove(p)).collect();
                free_frames(hal, frames);
                return Err(err);
            }
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

    pub(super) fn fill_gap(
        &mut self,
        hal: &dyn Hal,
        first: usize,
        end: usize,
        overwritten: &Range<usize>,
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
            // Zero the run's pages before and after the part that will be overwritten.
            let keep_lo = overwritten.start.clamp(page, page + run);
            let keep_hi = overwritten.end.clamp(keep_lo, page + run);
            let head = (keep_lo - page) * PAGE_SIZE;
            let tail_at = (keep_hi - page) * PAGE_SIZE;
            let zero = |at: usize, len: usize| match len {
                0 => Ok(()),
                _ => hal.zero(at, len),
            };
            let zeroed =
                zero(base, head).and_then(|()| zero(base + tail_at, run * PAGE_SIZE - tail_at));
            if zeroed.is_err() {
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
    /// including the mappings of the slices and references whose root this is
    /// (taking each one's lock after this one), and sends one shootdown per address space touched
    /// before it returns, so that the caller may free frames. Returns the mappings
    /// it looked at, to be dropped after this lock is released.
    pub(crate) fn unmap_from_mappings(&self, start: usize, end: usize) -> Vec<Arc<VmMapping>> {
        let mut live: Vec<Arc<VmMapping>> =
            self.mappings.values().filter_map(Weak::upgrade).collect();
        let mut owed: Vec<Arc<OwedFlush>> = Vec::new();
        let mut note = |debt: Arc<OwedFlush>| {
            if !owed.iter().any(|o| Arc::ptr_eq(o, &debt)) {
                owed.push(debt);
            }
        };
        for mapping in &live {
            note(mapping.clear_vmo_range(start, end));
        }
        for slice in self.slices.iter().filter_map(Weak::upgrade) {
            let Some(window) = &slice.slice else {
                continue;
            };
            let lo = start.max(window.offset);
            let hi = match window.reference {
                true => end,
                false => end.min(window.offset + window.size),
            };
            if lo >= hi {
                continue;
            }
            let inner = slice.inner.lock();
            for mapping in inner.mappings.values().filter_map(Weak::upgrade) {
                note(mapping.clear_vmo_range(lo - window.offset, hi - window.offset));
                live.push(mapping);
            }
        }
        for debt in owed {
            debt.send();
        }
        live
    }

    /// Gives every live reference whose root is this VMO this VMO's size and
    /// content size (taking each reference's lock after this one).
    pub(crate) fn sync_references(&self) {
        for window in self.slices.iter().filter_map(Weak::upgrade) {
            if window.is_reference() {
                let mut inner = window.inner.lock();
                inner.size = self.size;
                inner.content_size = self.content_size;
            }
        }
    }

    /// Zeroes bytes `[start, end)`: whole pages are taken out (and their frames
    /// returned for freeing), except pinned pages and a contiguous VMO's, which
    /// are zeroed in place; partial pages are zeroed in place.
    /// `ZX_ERR_NOT_SUPPORTED` for a physical VMO, before anything changes.
    pub(super) fn zero_bytes(
        &mut self,
        hal: &dyn Hal,
        start: usize,
        end: usize,
    ) -> ZxResult<Removed> {
        if start >= end {
            return Ok(Removed::default());
        }
        let first_full = start.div_ceil(PAGE_SIZE);
        let end_full = end >> PAGE_SHIFT;
        // Device frames are never freed, and a pager's pages would come back from
        // the pager, not as zeros.
        if self.physical || self.pager.is_some() || self.pager_parent.is_some() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
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
        if self.contiguous {
            // A contiguous VMO keeps its run: whole pages are zeroed in place.
            for (_, &frame) in self.pages.range(first_full..end_full) {
                hal.zero(frame, PAGE_SIZE).map_err(hal_error)?;
            }
            return Ok(Removed::default());
        }
        // Pinned pages never leave (a device may be using them): zeroed in place,
        // and the runs between them taken out.
        let pinned: Vec<usize> = self
            .pinned
            .range(first_full..end_full)
            .map(|(&p, _)| p)
            .collect();
        for &page in &pinned {
            if let Some(&frame) = self.pages.get(&page) {
                hal.zero(frame, PAGE_SIZE).map_err(hal_error)?;
            }
        }
        let mut frames = Vec::new();
        let mut from = first_full;
        for page in pinned {
            frames.extend(self.take_pages(from, page));
            from = page + 1;
        }
        frames.extend(self.take_pages(from, end_full));
        let mappings = if frames.is_empty() {
            Vec::new()
        } else {
            self.unmap_from_mappings(first_full << PAGE_SHIFT, end_full << PAGE_SHIFT)
        };
        Ok(Removed { frames, mappings })
    }
}
