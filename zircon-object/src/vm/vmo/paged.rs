//! The VMO side of pager-backed VMOs (see [`crate::vm::pager`]): creation, the
//! check every access makes before it touches pages, and the provider's answers.

use super::*;
use crate::error::{hal_error, ZxError};
use crate::sync::Signal;
use crate::vm::pager::{
    DirtyState, PageProvider, PageRequest, PageRequestKind, PagerLink, PagerPages, PagerParent,
    PagerWait,
};
use kernel_hal::{PAGE_SHIFT, PAGE_SIZE};

/// The failure statuses a provider may answer a request with
/// (`ZX_PAGER_OP_FAIL`).
pub const PAGER_FAILURE_STATUSES: [ZxError; 5] = [
    ZX_ERR_IO,
    ZX_ERR_IO_DATA_INTEGRITY,
    ZX_ERR_BAD_STATE,
    ZX_ERR_NO_SPACE,
    ZX_ERR_BUFFER_TOO_SMALL,
];

/// The state of one page of a pager-backed VMO ([`VmObject::page_state`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageState {
    /// Not supplied (or taken away): a touch asks the provider.
    Absent,
    /// Supplied and not written since it was supplied or cleaned.
    Clean,
    /// Written since.
    Dirty,
    /// Being written back.
    Writeback,
}

/// `offset` and `len` as the page range they cover exactly, inside a VMO of
/// `size` bytes.
fn exact_pages(offset: u64, len: u64, size: usize) -> ZxResult<(usize, usize)> {
    if offset % PAGE_SIZE as u64 != 0 || len % PAGE_SIZE as u64 != 0 {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
    if end > size as u64 {
        return Err(ZX_ERR_OUT_OF_RANGE);
    }
    Ok((
        (offset as usize) >> PAGE_SHIFT,
        (end as usize) >> PAGE_SHIFT,
    ))
}

impl VmObject {
    /// Creates a pager-backed VMO of `size` bytes (rounded up to pages) whose
    /// pages come from `provider`, every request naming `key`. Nothing is
    /// present at first. `options` may hold `RESIZABLE` and `TRAP_DIRTY`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `options` holds `DISCARDABLE`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds [`MAX_VMO_SIZE`].
    pub fn new_paged(
        hal: Arc<dyn Hal>,
        size: u64,
        options: VmoOptions,
        provider: Arc<dyn PageProvider>,
        key: u64,
    ) -> ZxResult<Arc<VmObject>> {
        if options.contains(VmoOptions::DISCARDABLE) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let rounded = vmo_size_for(size)?;
        Ok(Arc::new_cyclic(|me| {
            let mut inner = VmoInner::new(rounded, size);
            inner.pager = Some(PagerPages::default());
            let mut vmo =
                VmObject::build(hal, options.contains(VmoOptions::RESIZABLE), false, inner);
            vmo.pager = Some(Arc::new(PagerLink {
                provider,
                key,
                trap_dirty: options.contains(VmoOptions::TRAP_DIRTY),
                signal: Signal::new(),
                me: me.clone(),
            }));
            vmo
        }))
    }

    /// Whether this VMO is pager-backed (a slice: whether its root is).
    pub fn is_pager_backed(&self) -> bool {
        self.backing().0.pager.is_some()
    }

    /// The key a pager-backed VMO was created with.
    pub fn pager_key(&self) -> Option<u64> {
        self.pager.as_ref().map(|link| link.key)
    }

    /// Whether this VMO was created with `TRAP_DIRTY`.
    pub fn traps_dirty(&self) -> bool {
        self.pager.as_ref().is_some_and(|link| link.trap_dirty)
    }

    /// Whether this VMO is a snapshot whose pages come from a pager-backed parent.
    pub fn is_pager_snapshot(&self) -> bool {
        self.inner.lock().pager_parent.is_some()
    }

    /// Whether this pager-backed VMO has been detached from its provider.
    pub fn is_detached(&self) -> bool {
        self.inner.lock().pager.as_ref().is_some_and(|p| p.detached)
    }

    /// The state of the page holding byte `offset` of a pager-backed VMO, or
    /// `None` for a VMO that is not pager-backed or an offset past its end.
    pub fn page_state(&self, offset: u64) -> Option<PageState> {
        let inner = self.inner.lock();
        let state = inner.pager.as_ref()?;
        if offset >= inner.size as u64 {
            return None;
        }
        let page = (offset as usize) >> PAGE_SHIFT;
        Some(
            match (inner.pages.contains_key(&page), state.dirty.get(&page)) {
                (false, _) => PageState::Absent,
                (true, None) => PageState::Clean,
                (true, Some(DirtyState::Dirty)) => PageState::Dirty,
                (true, Some(DirtyState::Writeback)) => PageState::Writeback,
            },
        )
    }

    /// Makes pages `[first, end)` of this VMO (not a slice; the caller holds its
    /// lock as `inner` and has checked the range) ready for an access: for a
    /// pager-backed VMO, all present and, for a `write`, dirty; for a snapshot of
    /// one, all present. Returns `None` when they are, or the requests to wait
    /// for: the caller then releases every lock, waits, and tries again.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_STATE`: the VMO is detached and a page is absent (or, with
    ///   `TRAP_DIRTY`, must be dirtied).
    /// - `ZX_ERR_NO_MEMORY`: no frame for a snapshot's copy of a parent's page.
    pub(crate) fn pager_prepare(
        &self,
        inner: &mut VmoInner,
        first: usize,
        end: usize,
        write: bool,
    ) -> ZxResult<Option<PagerWait>> {
        if let Some(link) = &self.pager {
            let wait = self.prepare_own(link, inner, first, end, write)?;
            if wait.is_none() {
                self.touch_pages(inner, first, end);
            }
            return Ok(wait);
        }
        if inner.pager_parent.is_some() {
            return self.prepare_from_parent(inner, first, end);
        }
        Ok(None)
    }

    fn prepare_own(
        &self,
        link: &Arc<PagerLink>,
        inner: &mut VmoInner,
        first: usize,
        end: usize,
        write: bool,
    ) -> ZxResult<Option<PagerWait>> {
        let VmoInner { pages, pager, .. } = &mut *inner;
        let Some(state) = pager.as_mut() else {
            return Ok(None);
        };
        if first >= end {
            return Ok(None);
        }
        if pages.range(first..end).count() < end - first {
            if state.detached {
                return Err(ZX_ERR_BAD_STATE);
            }
            let mut wait = PagerWait::new(link.clone(), self.hal.clone());
            state.cover(
                PageRequestKind::Read,
                link.key,
                first,
                end,
                |p| !pages.contains_key(&p),
                &mut wait,
            );
            return Ok(Some(wait));
        }
        if !write {
            return Ok(None);
        }
        let clean: BTreeSet<usize> = (first..end).filter(|&p| !state.is_dirty(p)).collect();
        if clean.is_empty() {
            state.modified = true;
            return Ok(None);
        }
        if link.trap_dirty {
            if state.detached {
                return Err(ZX_ERR_BAD_STATE);
            }
            let mut wait = PagerWait::new(link.clone(), self.hal.clone());
            state.cover(
                PageRequestKind::Dirty,
                link.key,
                first,
                end,
                |p| clean.contains(&p),
                &mut wait,
            );
            return Ok(Some(wait));
        }
        state.modified = true;
        for &page in &clean {
            state.dirty.insert(page, DirtyState::Dirty);
        }
        inner.unprotect(clean);
        Ok(None)
    }

    /// A pager snapshot's half of [`pager_prepare`](Self::pager_prepare): its
    /// absent pages that lie over its parent get a copy of the parent's page,
    /// once the parent has it.
    fn prepare_from_parent(
        &self,
        inner: &mut VmoInner,
        first: usize,
        end: usize,
    ) -> ZxResult<Option<PagerWait>> {
        let Some(PagerParent {
            vmo: parent,
            first: shift,
            end: over,
        }) = &inner.pager_parent
        else {
            return Ok(None);
        };
        let limit = end.min(*over);
        let missing: Vec<usize> = (first..limit)
            .filter(|p| !inner.pages.contains_key(p))
            .collect();
        let (Some(&lo), Some(&hi)) = (missing.first(), missing.last()) else {
            return Ok(None);
        };
        let (parent, shift) = (parent.clone(), *shift);
        let mut theirs = parent.inner.lock();
        let parent_pages = theirs.size >> PAGE_SHIFT;
        let (plo, phi) = (
            (lo + shift).min(parent_pages),
            (hi + 1 + shift).min(parent_pages),
        );
        if let Some(wait) = parent.pager_prepare(&mut theirs, plo, phi, false)? {
            return Ok(Some(wait));
        }
        let mut copied: Vec<(usize, PhysAddr)> = Vec::with_capacity(missing.len());
        for &page in &missing {
            let Ok(frame) = self.hal.alloc_frame() else {
                free_frames(&*self.hal, copied.into_iter().map(|(_, f)| f).collect());
                return Err(ZX_ERR_NO_MEMORY);
            };
            let filled = match theirs.pages.get(&(page + shift)) {
                Some(&from) => self.hal.copy(frame, from, PAGE_SIZE),
                None => self.hal.zero(frame, PAGE_SIZE),
            };
            copied.push((page, frame));
            if let Err(err) = filled {
                free_frames(&*self.hal, copied.into_iter().map(|(_, f)| f).collect());
                return Err(hal_error(err));
            }
        }
        drop(theirs);
        for (page, frame) in copied {
            inner.pages.insert(page, frame);
            if inner.zero_mapped.remove(&page) {
                drop(inner.unmap_from_mappings(page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT));
            }
        }
        Ok(None)
    }

    /// For a caller that holds a lock it must not wait under (the VMAR's COMMIT
    /// holds its tree lock): the requests to wait for before the pages of
    /// `[offset, offset + len)` are all present, or `None` when they are (or the
    /// range is bad, which the operation itself then reports).
    ///
    /// # Errors
    ///
    /// As [`pager_prepare`](Self::pager_prepare).
    pub(crate) fn pager_wait_for(&self, offset: u64, len: u64) -> ZxResult<Option<PagerWait>> {
        let (root, shift) = self.backing();
        if root.pager.is_none() && !self.is_pager_snapshot() {
            return Ok(None);
        }
        let Ok((first, end)) = self.inner.lock().page_span(offset, len) else {
            return Ok(None);
        };
        let shift = shift >> PAGE_SHIFT;
        let mut inner = root.inner.lock();
        root.pager_prepare(&mut inner, first + shift, end + shift, false)
    }

    /// Wakes the threads waiting for this VMO's requests.
    fn pager_notify(&self) {
        if let Some(link) = &self.pager {
            link.signal.notify_all(&*self.hal);
        }
    }

    /// The provider's answer to read requests: moves the pages of `aux` in
    /// `[aux_offset, aux_offset + len)` into this VMO at `[offset, offset +
    /// len)`. Only absent pages are filled; the aux pages meant for pages already
    /// present are freed. An uncommitted aux page supplies a zero page. The aux
    /// range is left decommitted. Threads waiting for the supplied pages go on.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed; `offset`, `len` or
    ///   `aux_offset` not page-aligned.
    /// - `ZX_ERR_NOT_SUPPORTED`: `aux` is physical.
    /// - `ZX_ERR_BAD_STATE`: `aux` is pager-backed, a slice, contiguous, has
    ///   children or is a snapshot.
    /// - `ZX_ERR_OUT_OF_RANGE`: the aux range runs past its end.
    /// - `ZX_ERR_BAD_STATE`: a page of the aux range is pinned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past this VMO's end.
    /// - `ZX_ERR_BAD_STATE`: this VMO is detached.
    /// - `ZX_ERR_NO_MEMORY`: no frame for a zero page; nothing changed.
    ///
    /// On failure nothing has moved.
    pub fn supply_pages(&self, offset: u64, len: u64, aux: &VmObject, aux_offset: u64) -> ZxResult {
        crate::vm::reclaim::retry(&*self.hal, crate::vm::reclaim::pages_for(len), || {
            self.supply_once(offset, len, aux, aux_offset)
        })
    }

    fn supply_once(&self, offset: u64, len: u64, aux: &VmObject, aux_offset: u64) -> ZxResult {
        if self.pager.is_none() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let page = PAGE_SIZE as u64;
        if offset % page != 0 || len % page != 0 || aux_offset % page != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if aux.is_physical() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if aux.pager.is_some()
            || aux.is_slice()
            || aux.is_contiguous()
            || aux.in_cow_family()
            || aux.num_children() > 0
            || aux.is_pager_snapshot()
        {
            return Err(ZX_ERR_BAD_STATE);
        }
        // Two VMO locks at once, always taken in address order.
        let mine_first = (self as *const VmObject) < (aux as *const VmObject);
        let (mut mine, mut theirs) = if mine_first {
            let m = self.inner.lock();
            (m, aux.inner.lock())
        } else {
            let a = aux.inner.lock();
            (self.inner.lock(), a)
        };
        let (afirst, aend) = exact_pages(aux_offset, len, theirs.size)?;
        if theirs.any_pinned(afirst, aend) {
            return Err(ZX_ERR_BAD_STATE);
        }
        let (first, end) = exact_pages(offset, len, mine.size)?;
        if mine.pager.as_ref().is_some_and(|p| p.detached) {
            return Err(ZX_ERR_BAD_STATE);
        }
        if first == end {
            return Ok(());
        }
        // Zero frames for the absent pages whose aux page is uncommitted, first:
        // running out of them changes nothing.
        let zeros_needed = (0..end - first)
            .filter(|i| {
                !mine.pages.contains_key(&(first + i)) && !theirs.pages.contains_key(&(afirst + i))
            })
            .count();
        let mut zeros: Vec<PhysAddr> = Vec::with_capacity(zeros_needed);
        for _ in 0..zeros_needed {
            match self.hal.alloc_frame() {
                Ok(frame) => zeros.push(frame),
                Err(_) => {
                    free_frames(&*self.hal, zeros);
                    return Err(ZX_ERR_NO_MEMORY);
                }
            }
            let last = zeros[zeros.len() - 1];
            if self.hal.zero(last, PAGE_SIZE).is_err() {
                free_frames(&*self.hal, zeros);
                return Err(ZX_ERR_INTERNAL);
            }
        }
        // The aux range's pages leave it (and its mappings).
        let mut taken = theirs.pages.split_off(&afirst);
        let mut rest = taken.split_off(&aend);
        theirs.pages.append(&mut rest);
        let aux_mappings = if taken.is_empty() {
            Vec::new()
        } else {
            theirs.unmap_from_mappings(afirst << PAGE_SHIFT, aend << PAGE_SHIFT)
        };
        let mut unused: Vec<PhysAddr> = Vec::new();
        for i in 0..end - first {
            let from = taken.remove(&(afirst + i));
            if mine.pages.contains_key(&(first + i)) {
                unused.extend(from);
                continue;
            }
            let frame = match from {
                Some(frame) => frame,
                None => zeros.pop().ok_or(ZX_ERR_INTERNAL)?,
            };
            mine.pages.insert(first + i, frame);
        }
        self.touch_pages(&mut mine, first, end);
        let VmoInner { pages, pager, .. } = &mut *mine;
        let answered = match pager.as_mut() {
            Some(state) => state.answer_supplied(pages, first, end),
            None => Vec::new(),
        };
        drop(theirs);
        drop(mine);
        drop(aux_mappings);
        free_frames(&*self.hal, unused);
        self.pager_answered(answered);
        Ok(())
    }

    /// Supplies `data` (a whole number of pages) at `offset`, as
    /// [`supply_pages`](Self::supply_pages) from a fresh aux VMO holding it: for
    /// embedders whose data is in a buffer.
    ///
    /// # Errors
    ///
    /// As [`supply_pages`](Self::supply_pages); `ZX_ERR_INVALID_ARGS` if `data`
    /// is not a whole number of pages.
    pub fn supply_bytes(&self, offset: u64, data: &[u8]) -> ZxResult {
        if data.len() % PAGE_SIZE != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let aux = VmObject::new(self.hal.clone(), data.len() as u64, VmoOptions::empty())?;
        aux.write(0, data)?;
        self.supply_pages(offset, data.len() as u64, &aux, 0)
    }

    /// The provider's failure answer (`ZX_PAGER_OP_FAIL`): every outstanding
    /// request overlapping `[offset, offset + len)` fails with `status`, which
    /// the waiting access reports (a fault, as its error).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed; `status` is not one
    ///   of [`PAGER_FAILURE_STATUSES`]; `offset` or `len` not page-aligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past the end.
    pub fn fail_pages(&self, offset: u64, len: u64, status: ZxError) -> ZxResult {
        if self.pager.is_none() || !PAGER_FAILURE_STATUSES.contains(&status) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let mut inner = self.inner.lock();
        let (first, end) = exact_pages(offset, len, inner.size)?;
        let answered = match inner.pager.as_mut() {
            Some(state) => state.answer_all(first, end, status.raw()),
            None => Vec::new(),
        };
        drop(inner);
        self.pager_answered(answered);
        Ok(())
    }

    /// The provider's answer to dirty requests (`ZX_PAGER_OP_DIRTY`): the pages
    /// of `[offset, offset + len)` become dirty, and writes waiting for them go
    /// on.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed; `offset` or `len`
    ///   not page-aligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past the end.
    /// - `ZX_ERR_BAD_STATE`: the VMO is detached.
    /// - `ZX_ERR_NOT_FOUND`: a page of the range is absent; nothing changes.
    pub fn dirty_pages(&self, offset: u64, len: u64) -> ZxResult {
        if self.pager.is_none() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let mut inner = self.inner.lock();
        let (first, end) = exact_pages(offset, len, inner.size)?;
        let VmoInner { pages, pager, .. } = &mut *inner;
        let Some(state) = pager.as_mut() else {
            return Err(ZX_ERR_INVALID_ARGS);
        };
        if state.detached {
            return Err(ZX_ERR_BAD_STATE);
        }
        if pages.range(first..end).count() < end - first {
            return Err(ZX_ERR_NOT_FOUND);
        }
        let newly: BTreeSet<usize> = (first..end).filter(|&p| !state.is_dirty(p)).collect();
        for &page in &newly {
            state.dirty.insert(page, DirtyState::Dirty);
        }
        let answered = state.answer_dirtied(first, end);
        inner.unprotect(newly);
        drop(inner);
        self.pager_answered(answered);
        Ok(())
    }

    /// `ZX_PAGER_OP_WRITEBACK_BEGIN`: the dirty pages of `[offset, offset + len)`
    /// are being written back. A write to one of them before
    /// [`writeback_end`](Self::writeback_end) makes it dirty again (so it stays
    /// dirty after the end).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed; `offset` or `len`
    ///   not page-aligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past the end.
    pub fn writeback_begin(&self, offset: u64, len: u64) -> ZxResult {
        self.change_dirty(offset, len, DirtyState::Dirty, Some(DirtyState::Writeback))
    }

    /// `ZX_PAGER_OP_WRITEBACK_END`: the pages of `[offset, offset + len)` still
    /// under writeback are clean.
    ///
    /// # Errors
    ///
    /// As [`writeback_begin`](Self::writeback_begin).
    pub fn writeback_end(&self, offset: u64, len: u64) -> ZxResult {
        self.change_dirty(offset, len, DirtyState::Writeback, None)
    }

    fn change_dirty(
        &self,
        offset: u64,
        len: u64,
        from: DirtyState,
        to: Option<DirtyState>,
    ) -> ZxResult {
        if self.pager.is_none() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let mut inner = self.inner.lock();
        let (first, end) = exact_pages(offset, len, inner.size)?;
        let Some(state) = inner.pager.as_mut() else {
            return Err(ZX_ERR_INVALID_ARGS);
        };
        let changed: Vec<usize> = state
            .dirty
            .range(first..end)
            .filter(|(_, &s)| s == from)
            .map(|(&p, _)| p)
            .collect();
        for &page in &changed {
            match to {
                Some(to) => state.dirty.insert(page, to),
                None => state.dirty.remove(&page),
            };
        }
        // Pages made clean may be evicted again: back at the young end.
        if to.is_none() {
            for &page in &changed {
                self.touch_pages(&mut inner, page, page + 1);
            }
        }
        // Pages leaving Dirty lose their writable translations, so that the next
        // write is seen.
        if from == DirtyState::Dirty {
            for page in changed {
                drop(inner.unmap_from_mappings(page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT));
            }
        }
        Ok(())
    }

    /// The runs of dirty pages (dirty or under writeback) in `[offset, offset +
    /// len)`, as `(offset, len)` byte ranges in order.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed; `offset` or `len`
    ///   not page-aligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range runs past the end.
    pub fn dirty_ranges(&self, offset: u64, len: u64) -> ZxResult<Vec<(u64, u64)>> {
        if self.pager.is_none() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let inner = self.inner.lock();
        let (first, end) = exact_pages(offset, len, inner.size)?;
        let mut runs: Vec<(u64, u64)> = Vec::new();
        if let Some(state) = &inner.pager {
            for &page in state.dirty.range(first..end).map(|(p, _)| p) {
                let at = (page << PAGE_SHIFT) as u64;
                match runs.last_mut() {
                    Some((o, l)) if *o + *l == at => *l += PAGE_SIZE as u64,
                    _ => runs.push((at, PAGE_SIZE as u64)),
                }
            }
        }
        Ok(runs)
    }

    /// Whether the VMO was modified (written, or resized) since the last call
    /// with `reset` (`zx_pager_query_vmo_stats`).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed.
    pub fn pager_modified(&self, reset: bool) -> ZxResult<bool> {
        let mut inner = self.inner.lock();
        let state = inner.pager.as_mut().ok_or(ZX_ERR_INVALID_ARGS)?;
        let modified = state.modified;
        if reset {
            state.modified = false;
        }
        Ok(modified)
    }

    /// Detaches this VMO from its provider (`zx_pager_detach_vmo`): outstanding
    /// requests fail with `ZX_ERR_BAD_STATE`, and so does every later access that
    /// would need one; present pages stay readable and writable (a `TRAP_DIRTY`
    /// VMO's clean pages become read-only). The provider hears of it once
    /// ([`PageProvider::detached`]); a second detach does nothing.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_INVALID_ARGS`: this VMO is not pager-backed.
    pub fn detach_pager(&self) -> ZxResult {
        let link = self.pager.as_ref().ok_or(ZX_ERR_INVALID_ARGS)?;
        let mut inner = self.inner.lock();
        let Some(state) = inner.pager.as_mut() else {
            return Err(ZX_ERR_INVALID_ARGS);
        };
        if state.detached {
            return Ok(());
        }
        state.detached = true;
        let answered = state.answer_all(0, usize::MAX, ZX_ERR_BAD_STATE.raw());
        drop(inner);
        self.pager_notify();
        self.pager_answered(answered);
        link.provider.detached(link.key);
        Ok(())
    }

    /// Creates a `SNAPSHOT_AT_LEAST_ON_WRITE` child of this pager-backed VMO over
    /// `[offset, offset + size)`: it reads this VMO's pages (absent ones through
    /// this VMO's provider, blocking as any access does) and its writes are its
    /// own. Its first touch of a page takes a private copy of this VMO's page.
    /// `immutable` only marks the child, as for [`create_snapshot`](Self::create_snapshot).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: this VMO is not pager-backed, or is a slice.
    /// - As [`create_snapshot`](Self::create_snapshot) otherwise.
    pub fn create_pager_snapshot(
        self: &Arc<Self>,
        offset: u64,
        size: u64,
        resizable: bool,
        immutable: bool,
    ) -> ZxResult<Arc<VmObject>> {
        if self.pager.is_none() || self.is_slice() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let child = self.create_snapshot(offset, size, resizable, immutable)?;
        let first = (offset as usize) >> PAGE_SHIFT;
        let parent_pages = self.size() >> PAGE_SHIFT;
        let mut inner = child.inner.lock();
        let over = parent_pages
            .saturating_sub(first)
            .min(inner.size >> PAGE_SHIFT);
        inner.pager_parent = Some(PagerParent {
            vmo: self.clone(),
            first,
            end: over,
        });
        drop(inner);
        Ok(child)
    }

    /// After a resize of a pager-backed VMO from `old` to `new` bytes (under its
    /// lock as `inner`): the dirty states past the end go, requests past it are
    /// answered (their waiters look again), and the VMO counts as modified.
    /// Returns the requests answered, for
    /// [`pager_answered`](Self::pager_answered) once the lock is released.
    pub(super) fn pager_resized(inner: &mut VmoInner, old: usize, new: usize) -> Vec<PageRequest> {
        let Some(state) = inner.pager.as_mut() else {
            return Vec::new();
        };
        state.modified = true;
        if new >= old {
            return Vec::new();
        }
        let end = new >> PAGE_SHIFT;
        state.dirty.split_off(&end);
        state.answer_all(end, usize::MAX, crate::vm::pager::LOOK_AGAIN)
    }

    /// With no lock held, after requests were answered: wakes their waiters and
    /// tells the provider of each.
    pub(super) fn pager_answered(&self, answered: Vec<PageRequest>) {
        let Some(link) = &self.pager else {
            return;
        };
        if answered.is_empty() {
            return;
        }
        self.pager_notify();
        for request in answered {
            link.provider.answered(request);
        }
    }
}

impl VmoInner {
    /// Whether a committed page must be mapped without WRITE whatever its
    /// protection: shared copy-on-write, or a pager-backed page that is not
    /// dirty (its first write must be seen).
    pub(crate) fn write_protected(&self, page: usize) -> bool {
        self.shared.contains(&page) || self.pager.as_ref().is_some_and(|p| !p.is_dirty(page))
    }

    /// Takes the translations of `pages` (just made writable) away, so that
    /// the next access maps them with WRITE.
    fn unprotect(&mut self, pages: BTreeSet<usize>) {
        let mut iter = pages.into_iter().peekable();
        while let Some(lo) = iter.next() {
            let mut hi = lo + 1;
            while iter.peek() == Some(&hi) {
                iter.next();
                hi += 1;
            }
            drop(self.unmap_from_mappings(lo << PAGE_SHIFT, hi << PAGE_SHIFT));
        }
    }
}
