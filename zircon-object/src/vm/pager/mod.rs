//! Pager-backed VMOs: VMOs whose pages come from someone else.
//!
//! A pager-backed VMO is created over a [`PageProvider`]. Its pages are never
//! zero-filled: a page is *absent* until the provider supplies it, then *clean*
//! (supplied, unchanged), *dirty* (written since it was supplied or cleaned), or
//! *under writeback* (the provider is writing it out; a write moves it back to
//! dirty). Whatever touches an absent page (a read, a write, a commit, a pin, a
//! fault through a mapping) sends the provider one request for the missing run
//! and blocks, holding no lock, until the run is supplied or failed; a request
//! already outstanding for the same pages is waited on, never sent twice. On a VMO
//! created with [`VmoOptions::TRAP_DIRTY`](crate::vm::VmoOptions::TRAP_DIRTY), a
//! write to a page that is not dirty first sends a dirty request and blocks the
//! same way.
//!
//! The provider answers through the VMO: [`VmObject::supply_pages`] (or
//! [`VmObject::supply_bytes`]), [`VmObject::fail_pages`], [`VmObject::dirty_pages`],
//! and tracks writeback with [`VmObject::writeback_begin`] /
//! [`VmObject::writeback_end`] and [`VmObject::dirty_ranges`]. It hears of the end
//! of the VMO's life (a detach, or the VMO's drop) through
//! [`PageProvider::detached`].
//!
//! A snapshot made with `ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE` of a
//! pager-backed VMO ([`VmObject::create_pager_snapshot`]) reads the parent's
//! pages, sending the parent's provider requests for absent ones; its first touch
//! of a page gives it a private copy, so its writes are its own.

#[cfg(test)]
mod tests;
mod user;

pub use user::{Pager, PortProvider};

use super::vmo::VmObject;
use crate::abi::*;
use crate::error::{ZxError, ZxResult};
use crate::sync::Signal;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering};
use kernel_hal::{Hal, PhysAddr, DEADLINE_INFINITE, PAGE_SHIFT};

/// Where a pager-backed VMO's pages come from: an embedder's file system, or the
/// user pager object that turns requests into port packets.
///
/// Every method is called with no lock held, from the thread that needs the pages
/// (a fault handler's thread, too): it must not block waiting for that thread, and
/// it may answer at once, from the same call, or later, from any thread.
pub trait PageProvider: Send + Sync {
    /// `request` names pages of `vmo` that a thread waits for: a read request
    /// for absent pages (answer with [`VmObject::supply_pages`] or
    /// [`VmObject::fail_pages`]) or a dirty request for pages about to be written
    /// (answer with [`VmObject::dirty_pages`] or [`VmObject::fail_pages`]). Hold
    /// the VMO weakly if it is kept: the VMO holds its provider.
    fn page_request(&self, vmo: &Arc<VmObject>, request: PageRequest);

    /// The VMO with key `key` was detached or dropped: no request for it will come
    /// any more, and the ones outstanding have been failed.
    fn detached(&self, key: u64) {
        let _ = key;
    }

    /// `request`, sent earlier, was answered (supplied, dirtied, failed, or ended
    /// by a detach or a shrink) before or after the provider saw it. A provider
    /// that queues requests may take it back if nobody has read it yet.
    fn answered(&self, request: PageRequest) {
        let _ = request;
    }

    /// Clean pages `[offset, offset + len)` of the VMO with key `key` were taken
    /// away to free memory; the next touch asks for them again.
    fn evicted(&self, key: u64, offset: u64, len: u64) {
        let _ = (key, offset, len);
    }
}

/// What a request asks of the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PageRequestKind {
    /// Supply the absent pages of the range (`ZX_PAGER_VMO_READ`).
    Read,
    /// Allow the clean pages of the range to be written (`ZX_PAGER_VMO_DIRTY`).
    Dirty,
}

/// A page request: the VMO's key, the kind, and the byte range (page-aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// The key the VMO was created with.
    pub key: u64,
    /// What is asked.
    pub kind: PageRequestKind,
    /// First byte of the range.
    pub offset: u64,
    /// Length of the range in bytes.
    pub len: u64,
}

/// How a page of a pager-backed VMO differs from clean. A present page with no
/// entry is clean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirtyState {
    /// Written since it was supplied or last cleaned.
    Dirty,
    /// Being written back (`WRITEBACK_BEGIN`); `WRITEBACK_END` cleans it unless a
    /// write made it dirty again.
    Writeback,
}

/// A pager-backed VMO's tie to its provider; fixed at creation.
pub(crate) struct PagerLink {
    pub(crate) provider: Arc<dyn PageProvider>,
    pub(crate) key: u64,
    pub(crate) trap_dirty: bool,
    /// Where threads wait for this VMO's requests to be answered.
    pub(crate) signal: Signal,
    /// The VMO itself, for the provider's calls.
    pub(crate) me: Weak<VmObject>,
}

/// The answer of a request not yet answered.
const PENDING: i32 = 1;
/// The answer that sends the waiter to look again (its pages came, or changed).
pub(crate) const LOOK_AGAIN: i32 = 0;

/// A request sent to the provider: the pages `[first, end)` and its answer
/// (`PENDING`, `LOOK_AGAIN`, or the raw failure status to report).
pub(crate) struct Request {
    first: usize,
    end: usize,
    answer: AtomicI32,
    /// What the provider was sent.
    sent: PageRequest,
}

impl Request {
    fn answer(&self, status: i32) {
        self.answer.store(status, Ordering::Release);
    }
}

/// The pager state of a pager-backed VMO, under the VMO's lock.
///
/// Invariants: `dirty` has entries only for committed pages; the requests of one
/// kind never overlap and each is keyed by its first page; a request leaves its
/// map when it is answered.
#[derive(Default)]
pub(crate) struct PagerPages {
    pub(crate) dirty: BTreeMap<usize, DirtyState>,
    reads: BTreeMap<usize, Arc<Request>>,
    dirties: BTreeMap<usize, Arc<Request>>,
    pub(crate) detached: bool,
    /// Set by a write or a resize; cleared by a stats query that resets it.
    pub(crate) modified: bool,
}

/// For a snapshot of a pager-backed VMO: where its pages come from.
pub(crate) struct PagerParent {
    /// The pager-backed VMO (never a slice).
    pub(crate) vmo: Arc<VmObject>,
    /// This snapshot's page 0 in the parent's pages.
    pub(crate) first: usize,
    /// Pages of this snapshot at and past this index were past the parent's end
    /// at creation: they start as zeros.
    pub(crate) end: usize,
}

impl PagerPages {
    /// Whether page `page` (committed) may be written without a dirty request.
    pub(crate) fn is_dirty(&self, page: usize) -> bool {
        self.dirty.get(&page) == Some(&DirtyState::Dirty)
    }

    /// Answers every request of `map` overlapping `[first, end)` for which
    /// `done(request)` says so, with `status`. Returns what those requests sent,
    /// for the provider to hear they are answered.
    fn answer_where(
        map: &mut BTreeMap<usize, Arc<Request>>,
        first: usize,
        end: usize,
        status: i32,
        mut done: impl FnMut(&Request) -> bool,
    ) -> Vec<PageRequest> {
        let keys: Vec<usize> = map
            .range(..end)
            .filter(|(_, r)| r.end > first && done(r))
            .map(|(&k, _)| k)
            .collect();
        let mut answered = Vec::with_capacity(keys.len());
        for key in &keys {
            if let Some(request) = map.remove(key) {
                request.answer(status);
                answered.push(request.sent);
            }
        }
        answered
    }

    /// Answers the read requests overlapping `[first, end)` whose pages are all
    /// in `pages` now.
    pub(crate) fn answer_supplied(
        &mut self,
        pages: &BTreeMap<usize, PhysAddr>,
        first: usize,
        end: usize,
    ) -> Vec<PageRequest> {
        Self::answer_where(&mut self.reads, first, end, LOOK_AGAIN, |r| {
            pages.range(r.first..r.end).count() == r.end - r.first
        })
    }

    /// Answers the dirty requests overlapping `[first, end)` whose pages are all
    /// dirty now.
    pub(crate) fn answer_dirtied(&mut self, first: usize, end: usize) -> Vec<PageRequest> {
        let dirty = &self.dirty;
        Self::answer_where(&mut self.dirties, first, end, LOOK_AGAIN, |r| {
            (r.first..r.end).all(|p| dirty.get(&p) == Some(&DirtyState::Dirty))
        })
    }

    /// Answers every request of both kinds overlapping `[first, end)` with
    /// `status`.
    pub(crate) fn answer_all(&mut self, first: usize, end: usize, status: i32) -> Vec<PageRequest> {
        let mut answered = Self::answer_where(&mut self.reads, first, end, status, |_| true);
        answered.extend(Self::answer_where(
            &mut self.dirties,
            first,
            end,
            status,
            |_| true,
        ));
        answered
    }

    /// Finds or makes the requests of kind `kind` covering the pages of
    /// `[first, end)` for which `missing` holds; new ones go to `send`, every one
    /// to `wait_on`.
    pub(crate) fn cover(
        &mut self,
        kind: PageRequestKind,
        key: u64,
        first: usize,
        end: usize,
        missing: impl Fn(usize) -> bool,
        wait: &mut PagerWait,
    ) {
        let map = match kind {
            PageRequestKind::Read => &mut self.reads,
            PageRequestKind::Dirty => &mut self.dirties,
        };
        let mut page = first;
        while page < end {
            if !missing(page) {
                page += 1;
                continue;
            }
            if let Some((_, request)) = map.range(..=page).next_back() {
                if request.end > page {
                    page = request.end;
                    wait.wait_on.push(request.clone());
                    continue;
                }
            }
            // A new request for the run of missing pages from here, up to the
            // next request of this kind.
            let next = map.range(page..).next().map_or(end, |(&k, _)| k.min(end));
            let mut last = page + 1;
            while last < next && missing(last) {
                last += 1;
            }
            let sent = PageRequest {
                key,
                kind,
                offset: (page << PAGE_SHIFT) as u64,
                len: ((last - page) << PAGE_SHIFT) as u64,
            };
            let request = Arc::new(Request {
                first: page,
                end: last,
                answer: AtomicI32::new(PENDING),
                sent,
            });
            map.insert(page, request.clone());
            wait.wait_on.push(request);
            wait.send.push(sent);
            page = last;
        }
    }
}

/// Requests to send and wait for, found under a VMO's lock and carried out after
/// every lock is released ([`wait`](Self::wait)).
#[must_use = "a pager wait must be waited for, with no lock held, before the access is tried again"]
pub(crate) struct PagerWait {
    link: Arc<PagerLink>,
    hal: Arc<dyn Hal>,
    send: Vec<PageRequest>,
    wait_on: Vec<Arc<Request>>,
}

impl PagerWait {
    pub(crate) fn new(link: Arc<PagerLink>, hal: Arc<dyn Hal>) -> PagerWait {
        PagerWait {
            link,
            hal,
            send: Vec::new(),
            wait_on: Vec::new(),
        }
    }

    /// Sends the new requests to the provider and blocks until every request
    /// waited on is answered. The caller holds no lock and then tries its access
    /// again from the start.
    ///
    /// # Errors
    ///
    /// The status a request was failed with: the provider's (`ZX_ERR_IO`,
    /// `ZX_ERR_IO_DATA_INTEGRITY`, `ZX_ERR_BAD_STATE`, `ZX_ERR_NO_SPACE`), or
    /// `ZX_ERR_BAD_STATE` when the VMO was detached while the request was out.
    pub(crate) fn wait(self) -> ZxResult {
        if !self.send.is_empty() {
            match self.link.me.upgrade() {
                Some(vmo) => {
                    for request in &self.send {
                        self.link.provider.page_request(&vmo, *request);
                    }
                }
                None => return Err(ZX_ERR_BAD_STATE),
            }
        }
        let requests = self.wait_on;
        self.link
            .signal
            .wait_until(&*self.hal, DEADLINE_INFINITE, || {
                let mut all = true;
                for request in &requests {
                    match request.answer.load(Ordering::Acquire) {
                        PENDING => all = false,
                        LOOK_AGAIN => {}
                        failed => {
                            return Some(Err(ZxError::from_raw(failed).unwrap_or(ZX_ERR_INTERNAL)))
                        }
                    }
                }
                all.then_some(Ok(()))
            })?
    }
}
