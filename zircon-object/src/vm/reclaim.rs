//! Reclaim: what frees frames when a commit finds the frame allocator empty.
//!
//! A machine that wants reclaim has one [`Reclaimer`], reached through its HAL
//! ([`Hal::reclaimer`]); [`ReclaimingHal`] wraps any HAL to give it one. It knows
//! two kinds of memory that may go:
//!
//! - the clean pages of pager-backed VMOs, in one least-recently-used queue per
//!   machine. A page enters at the young end when it is supplied and each time an
//!   access (a fault, a read or write, a commit or pin) finds it present, and at the
//!   old end on `ZX_VMO_OP_DONT_NEED`. Hardware accessed bits are not consulted (the
//!   unix backend cannot see them): a page mapped once and then read only through
//!   its translation stays as old as its fault made it. An evicted page's provider
//!   is told, and the next touch asks it for the page again.
//! - discardable VMOs, which enter the registry (weakly) when they are created
//!   and are discarded whole while unlocked, least recently unlocked first.
//!
//! Reclaim takes clean pages first, oldest first, then discards VMOs. When a
//! commit, write, fault, pin or copy fails with `ZX_ERR_NO_MEMORY`, the operation
//! has already undone itself and released the VMO's lock; `retry` then asks the
//! reclaimer for the frames it lacks and runs the operation again, as long as
//! something was freed. Only when nothing could be freed does the caller see
//! `ZX_ERR_NO_MEMORY`.
//!
//! Lock order: reclaim runs with no VMO lock held (it may run inside an address
//! space's tree lock, during a fault). It takes the queue's and the registry's
//! locks only to take entries out, never while holding a VMO lock, and then each
//! candidate VMO's lock in turn, one at a time, as any operation on that VMO
//! would. The queue's lock is a leaf: a VMO takes it under its own lock to queue
//! pages. So a VMO that is committing cannot deadlock against its own reclaim: its
//! lock is not held while reclaim runs, and it may be reclaimed from like any other.

use super::VmObject;
use crate::abi::*;
use crate::error::ZxResult;
use crate::sync::Mutex;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use kernel_hal::{Hal, PageTable, PagingResult, PhysAddr, PhysMem, WaitOutcome};

/// One machine's registry of memory that may be freed under pressure, and the
/// policy that frees it.
///
/// Discardable VMOs are discarded whole, least recently unlocked first; a locked
/// one is never discarded, nor one with pinned pages. Entries are weak: a VMO
/// leaves the registry by being dropped, and dead entries are pruned on each
/// reclaim and from time to time on registration.
pub struct Reclaimer {
    /// Clean candidates for eviction: the present pages of pager-backed VMOs.
    lru: Mutex<Lru>,
    /// The discardable VMOs created on this machine.
    discardable: Mutex<Vec<Weak<VmObject>>>,
    /// A clock for "least recently unlocked": each unlock takes the next tick.
    ticks: AtomicU64,
    /// How many VMOs have been discarded.
    discards: AtomicUsize,
    /// How many pages have been evicted.
    evictions: AtomicUsize,
    /// How many frames reclaim has freed.
    freed: AtomicUsize,
}

impl Default for Reclaimer {
    fn default() -> Reclaimer {
        Reclaimer::new()
    }
}

impl Reclaimer {
    /// An empty registry.
    pub fn new() -> Reclaimer {
        Reclaimer {
            lru: Mutex::new(Lru {
                queue: BTreeMap::new(),
                young: MIDDLE,
                old: MIDDLE,
            }),
            discardable: Mutex::new(Vec::new()),
            ticks: AtomicU64::new(1),
            discards: AtomicUsize::new(0),
            evictions: AtomicUsize::new(0),
            freed: AtomicUsize::new(0),
        }
    }

    /// Frees at least `frames` frames if it can, and returns how many it freed
    /// (0: nothing left to reclaim). Takes no lock the caller may hold: the caller
    /// holds no VMO lock (see the module's lock order).
    pub fn reclaim(&self, frames: usize) -> usize {
        let mut freed = self.evict_oldest(frames);
        if freed < frames {
            freed += self.discard_oldest(frames - freed);
        }
        self.freed.fetch_add(freed, Ordering::Relaxed);
        freed
    }

    /// Evicts clean pager-backed pages, oldest first, until `frames` are freed or
    /// the queue is empty. Entries that turn out not to be evictable (dirty,
    /// pinned, protected, gone) leave the queue; a later touch puts them back.
    fn evict_oldest(&self, frames: usize) -> usize {
        let mut freed = 0;
        while freed < frames {
            let batch: Vec<(u64, Weak<VmObject>, usize)> = {
                let mut lru = self.lru.lock();
                let take = (frames - freed).max(EVICT_BATCH);
                let mut batch = Vec::with_capacity(take.min(lru.queue.len()));
                while batch.len() < take {
                    let Some((key, (vmo, page))) = lru.queue.pop_first() else {
                        break;
                    };
                    batch.push((key, vmo, page));
                }
                batch
            };
            if batch.is_empty() {
                break;
            }
            // One VMO lock per run of entries of the same VMO.
            let mut i = 0;
            while i < batch.len() {
                let mut j = i + 1;
                while j < batch.len() && Weak::ptr_eq(&batch[j].1, &batch[i].1) {
                    j += 1;
                }
                if let Some(vmo) = batch[i].1.upgrade() {
                    let pages: Vec<(u64, usize)> =
                        batch[i..j].iter().map(|(k, _, p)| (*k, *p)).collect();
                    let n = vmo.evict(&pages);
                    self.evictions.fetch_add(n, Ordering::Relaxed);
                    freed += n;
                }
                i = j;
            }
        }
        freed
    }

    /// Discards unlocked discardable VMOs, least recently unlocked first, until
    /// `frames` are freed or none is left.
    fn discard_oldest(&self, frames: usize) -> usize {
        let mut candidates: Vec<(u64, Arc<VmObject>)> = {
            let mut list = self.discardable.lock();
            list.retain(|v| v.strong_count() > 0);
            list.iter()
                .filter_map(Weak::upgrade)
                .map(|v| (0, v))
                .collect()
        };
        for (when, vmo) in &mut candidates {
            *when = vmo.unlocked_at();
        }
        candidates.sort_by_key(|(when, _)| *when);
        let mut freed = 0;
        for (_, vmo) in candidates {
            if freed >= frames {
                break;
            }
            let n = vmo.discard();
            if n > 0 {
                self.discards.fetch_add(1, Ordering::Relaxed);
                freed += n;
            }
        }
        freed
    }

    /// How many pager-backed pages reclaim has evicted so far.
    pub fn evictions(&self) -> usize {
        self.evictions.load(Ordering::Relaxed)
    }

    /// How many pages wait in the eviction queue.
    pub fn queued_pages(&self) -> usize {
        self.lru.lock().queue.len()
    }

    /// Puts `pages` of the VMO `vmo` at the `age` end of the queue; `queued` is
    /// that VMO's record of its entries (its lock is held), whose old entries for
    /// these pages are taken out.
    pub(crate) fn queue(
        &self,
        vmo: &Weak<VmObject>,
        age: Age,
        pages: &[usize],
        queued: &mut BTreeMap<usize, u64>,
    ) {
        let mut lru = self.lru.lock();
        for &page in pages {
            let key = match age {
                Age::Young => {
                    lru.young += 1;
                    lru.young
                }
                Age::Old => {
                    lru.old -= 1;
                    lru.old
                }
            };
            if let Some(old) = queued.insert(page, key) {
                lru.queue.remove(&old);
            }
            lru.queue.insert(key, (vmo.clone(), page));
        }
    }

    /// Takes a dropped VMO's entries out of the queue.
    pub(crate) fn forget(&self, queued: &BTreeMap<usize, u64>) {
        let mut lru = self.lru.lock();
        for key in queued.values() {
            lru.queue.remove(key);
        }
    }

    /// How many VMOs reclaim has discarded so far.
    pub fn discards(&self) -> usize {
        self.discards.load(Ordering::Relaxed)
    }

    /// How many frames reclaim has freed so far.
    pub fn frames_freed(&self) -> usize {
        self.freed.load(Ordering::Relaxed)
    }

    /// Enters a discardable VMO in the registry.
    pub(crate) fn register_discardable(&self, vmo: Weak<VmObject>) {
        let mut list = self.discardable.lock();
        let len = list.len();
        if len >= 64 && len.is_power_of_two() {
            list.retain(|v| v.strong_count() > 0);
        }
        list.push(vmo);
    }

    /// The next tick of the unlock clock.
    pub(crate) fn tick(&self) -> u64 {
        self.ticks.fetch_add(1, Ordering::Relaxed)
    }
}

/// Which end of the eviction queue pages go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Age {
    /// Evicted last: just supplied or touched.
    Young,
    /// Evicted first (`DONT_NEED`).
    Old,
}

/// Keys start here: young ones count up from it, old ones down, so every old
/// entry comes before every young one.
const MIDDLE: u64 = 1 << 63;

/// How many queue entries reclaim takes at a time, at least.
const EVICT_BATCH: usize = 8;

/// The eviction queue: entries by key, oldest first; each names a VMO (weakly)
/// and one of its pages, which that VMO's `EvictState::queued` maps back to the key.
struct Lru {
    queue: BTreeMap<u64, (Weak<VmObject>, usize)>,
    /// The last young key given out.
    young: u64,
    /// The last old key given out.
    old: u64,
}

/// The reclaimer of the machine `hal` runs, if it has one.
pub fn reclaimer_of(hal: &dyn Hal) -> Option<&Reclaimer> {
    hal.reclaimer()?.downcast_ref::<Reclaimer>()
}

/// How many pages `len` bytes span at most (for [`retry`]'s estimate).
pub(crate) fn pages_for(len: u64) -> usize {
    usize::try_from(len.div_ceil(kernel_hal::PAGE_SIZE as u64) + 1).unwrap_or(usize::MAX)
}

/// How many frames to reclaim for an operation that needs `pages`.
fn want(hal: &dyn Hal, pages: usize) -> usize {
    pages.saturating_sub(hal.free_count()).max(1)
}

/// Runs `op`, an operation that needs about `pages` new frames and undoes itself
/// (and releases its VMO's lock) when it fails; while it fails with
/// `ZX_ERR_NO_MEMORY` and the machine's reclaimer frees something, runs it again.
///
/// # Errors
///
/// `op`'s errors; `ZX_ERR_NO_MEMORY` once nothing more can be reclaimed.
pub(crate) fn retry<T>(
    hal: &dyn Hal,
    pages: usize,
    mut op: impl FnMut() -> ZxResult<T>,
) -> ZxResult<T> {
    loop {
        match op() {
            Err(ZX_ERR_NO_MEMORY) => match reclaimer_of(hal) {
                // Ask for what is missing; if that was not enough (the pages
                // were not contiguous, or others took them), the next round asks again.
                Some(reclaimer) if reclaimer.reclaim(want(hal, pages)) > 0 => continue,
                _ => return Err(ZX_ERR_NO_MEMORY),
            },
            result => return result,
        }
    }
}

/// A HAL with a [`Reclaimer`]: every call goes to the wrapped HAL, and
/// [`Hal::reclaimer`] answers with this machine's reclaimer. An embedder that
/// wants reclaim builds its objects on one of these (one per machine) instead of
/// its bare HAL.
pub struct ReclaimingHal {
    inner: Arc<dyn Hal>,
    reclaimer: Reclaimer,
}

impl ReclaimingHal {
    /// `inner` with a fresh, empty reclaimer.
    pub fn new(inner: Arc<dyn Hal>) -> ReclaimingHal {
        ReclaimingHal {
            inner,
            reclaimer: Reclaimer::new(),
        }
    }

    /// This machine's reclaimer.
    pub fn registry(&self) -> &Reclaimer {
        &self.reclaimer
    }
}

impl PhysMem for ReclaimingHal {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        self.inner.alloc_frame()
    }
    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        self.inner.alloc_contiguous(count, align_log2)
    }
    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.inner.free_frames(paddr, count)
    }
    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        self.inner.read(paddr, buf)
    }
    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        self.inner.write(paddr, buf)
    }
    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        self.inner.zero(paddr, len)
    }
    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        self.inner.copy(dst, src, len)
    }
    fn free_count(&self) -> usize {
        self.inner.free_count()
    }
    fn total_count(&self) -> usize {
        self.inner.total_count()
    }
    fn device_memory(&self) -> Option<(PhysAddr, usize)> {
        self.inner.device_memory()
    }
}

impl Hal for ReclaimingHal {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        self.inner.new_address_space()
    }
    fn placement_seed(&self) -> u64 {
        self.inner.placement_seed()
    }
    fn monotonic_ns(&self) -> i64 {
        self.inner.monotonic_ns()
    }
    fn wait_word(&self, word: &AtomicU32, expected: u32, deadline_ns: i64) -> WaitOutcome {
        self.inner.wait_word(word, expected, deadline_ns)
    }
    fn wake_word(&self, word: &AtomicU32) {
        self.inner.wake_word(word)
    }
    fn reclaimer(&self) -> Option<&(dyn Any + Send + Sync)> {
        Some(&self.reclaimer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{touch, ModelHal};
    use crate::vm::pager::{PageProvider, PageRequest, PageRequestKind};
    use crate::vm::{AddressSpace, EvictionHint, MapRequest, PageState, VmPerms, VmoOptions};
    use alloc::vec;
    use kernel_hal::{MMUFlags, PAGE_SIZE};

    /// A machine of `frames` frames with a reclaimer.
    fn small_machine(frames: usize) -> Arc<ReclaimingHal> {
        Arc::new(ReclaimingHal::new(ModelHal::new(frames)))
    }

    fn filled(hal: &Arc<dyn Hal>, pages: usize, byte: u8, options: VmoOptions) -> Arc<VmObject> {
        let vmo = VmObject::new(hal.clone(), (pages * PAGE_SIZE) as u64, options).unwrap();
        vmo.write(0, &vec![byte; pages * PAGE_SIZE]).unwrap();
        vmo
    }

    fn holds(vmo: &VmObject, byte: u8) -> bool {
        let mut buf = vec![0u8; vmo.size()];
        vmo.read(0, &mut buf).unwrap();
        buf.iter().all(|&b| b == byte)
    }

    #[test]
    fn a_commit_without_frames_discards_unlocked_vmos_and_never_locked_ones() {
        let machine = small_machine(64);
        let hal: Arc<dyn Hal> = machine.clone();
        let total = hal.total_count();
        {
            let size = (16 * PAGE_SIZE) as u64;
            let unlocked = filled(&hal, 16, 0xaa, VmoOptions::DISCARDABLE);
            let locked = filled(&hal, 16, 0xbb, VmoOptions::DISCARDABLE);
            locked.lock_range(0, size).unwrap().keep();
            let plain = filled(&hal, 16, 0xcc, VmoOptions::empty());
            assert_eq!(hal.free_count(), total - 48);

            // 32 pages need the unlocked VMO's 16 frames.
            let big =
                VmObject::new(hal.clone(), (32 * PAGE_SIZE) as u64, VmoOptions::empty()).unwrap();
            assert_eq!(big.commit(0, (32 * PAGE_SIZE) as u64), Ok(()));
            assert_eq!(machine.registry().discards(), 1);
            assert!(unlocked.is_discarded());
            assert_eq!(unlocked.committed_pages(), 0);
            assert!(holds(&unlocked, 0), "a discarded VMO reads as zeros");
            assert!(holds(&locked, 0xbb), "a locked VMO keeps its data");
            assert!(holds(&plain, 0xcc));

            // Nothing left to reclaim: the locked VMO stays whole and the commit fails.
            let more = VmObject::new(hal.clone(), size, VmoOptions::empty()).unwrap();
            assert_eq!(more.commit(0, size), Err(ZX_ERR_NO_MEMORY));
            assert_eq!(more.committed_pages(), 0);
            assert!(holds(&locked, 0xbb));
            assert_eq!(machine.registry().discards(), 1);

            // TRY_LOCK refuses a discarded VMO and leaves it unlocked; LOCK reports
            // the discard once.
            assert_eq!(
                unlocked.try_lock_range(0, size).err(),
                Some(ZX_ERR_UNAVAILABLE)
            );
            assert!(!unlocked.is_locked());
            let taken = unlocked.lock_range(0, size).unwrap();
            assert_eq!(taken.state().discarded_offset, 0);
            assert_eq!(taken.state().discarded_size, size);
            taken.keep();
            assert!(!unlocked.is_discarded());
            unlocked.unlock_range(0, size).unwrap();
            let taken = unlocked.try_lock_range(0, size).unwrap();
            assert_eq!(taken.state().discarded_size, 0);
        }
        assert_eq!(hal.free_count(), total, "frames leaked");
    }

    #[test]
    fn an_undelivered_lock_report_keeps_the_discard_mark() {
        let machine = small_machine(16);
        let hal: Arc<dyn Hal> = machine.clone();
        let v = filled(&hal, 8, 1, VmoOptions::DISCARDABLE);
        assert_eq!(machine.registry().reclaim(1), 8);
        drop(v.lock_range(0, (8 * PAGE_SIZE) as u64).unwrap());
        assert!(v.is_discarded() && !v.is_locked());
    }

    #[test]
    fn the_least_recently_unlocked_vmo_goes_first() {
        let machine = small_machine(64);
        let hal: Arc<dyn Hal> = machine.clone();
        let size = (8 * PAGE_SIZE) as u64;
        let first = filled(&hal, 8, 1, VmoOptions::DISCARDABLE);
        let second = filled(&hal, 8, 2, VmoOptions::DISCARDABLE);
        // Relocking and unlocking `first` makes it the younger.
        first.lock_range(0, size).unwrap().keep();
        first.unlock_range(0, size).unwrap();
        assert_eq!(machine.registry().reclaim(1), 8);
        assert!(second.is_discarded());
        assert!(!first.is_discarded() && holds(&first, 1));
    }

    #[test]
    fn a_fault_discards_a_mapped_vmo_whose_mapping_then_reads_zeros() {
        let machine = small_machine(40);
        let hal: Arc<dyn Hal> = machine.clone();
        let total = hal.total_count();
        {
            let aspace = AddressSpace::new(hal.clone()).unwrap();
            let root = aspace.root_vmar();
            let cache = filled(&hal, 16, 7, VmoOptions::DISCARDABLE);
            let at = root
                .map(
                    &cache,
                    &MapRequest::new(0, 16 * PAGE_SIZE, VmPerms::READ_WRITE),
                )
                .unwrap();
            let pt = aspace.page_table();
            assert!(touch(pt, at, MMUFlags::READ));
            let mut byte = [0u8];
            aspace.read_user(at, &mut byte).unwrap();
            assert_eq!(byte, [7]);

            let work =
                VmObject::new(hal.clone(), (32 * PAGE_SIZE) as u64, VmoOptions::empty()).unwrap();
            let wat = root
                .map(
                    &work,
                    &MapRequest::new(0, 32 * PAGE_SIZE, VmPerms::READ_WRITE),
                )
                .unwrap();
            for page in 0..32 {
                assert!(
                    touch(pt, wat + page * PAGE_SIZE, MMUFlags::WRITE),
                    "page {page}"
                );
            }
            assert!(cache.is_discarded());
            assert!(pt.query(at).is_err(), "the discarded page left the mapping");
            aspace.read_user(at, &mut byte).unwrap();
            assert_eq!(byte, [0]);
        }
        assert_eq!(hal.free_count(), total, "frames leaked");
    }

    #[test]
    fn a_machine_without_a_reclaimer_fails_the_commit() {
        let hal: Arc<dyn Hal> = ModelHal::new(16);
        let _cache = filled(&hal, 8, 1, VmoOptions::DISCARDABLE);
        let v = VmObject::new(hal.clone(), (16 * PAGE_SIZE) as u64, VmoOptions::empty()).unwrap();
        assert_eq!(v.commit(0, (16 * PAGE_SIZE) as u64), Err(ZX_ERR_NO_MEMORY));
        assert!(reclaimer_of(&*hal).is_none());
    }

    /// A provider that answers every read request at once, from the same call,
    /// with a pattern, and counts requests and evictions.
    #[derive(Default)]
    struct Pattern {
        requests: AtomicUsize,
        evicted: AtomicUsize,
    }

    fn pattern(offset: usize) -> u8 {
        (offset / PAGE_SIZE * 13 + offset % 241) as u8
    }

    impl PageProvider for Pattern {
        fn page_request(&self, vmo: &Arc<VmObject>, request: PageRequest) {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let (offset, len) = (request.offset as usize, request.len as usize);
            match request.kind {
                PageRequestKind::Read => {
                    let data: Vec<u8> = (offset..offset + len).map(pattern).collect();
                    vmo.supply_bytes(offset as u64, &data).unwrap();
                }
                PageRequestKind::Dirty => vmo.dirty_pages(offset as u64, len as u64).unwrap(),
            }
        }
        fn evicted(&self, _key: u64, _offset: u64, len: u64) {
            self.evicted
                .fetch_add(len as usize / PAGE_SIZE, Ordering::Relaxed);
        }
    }

    fn paged(hal: &Arc<dyn Hal>, pages: usize) -> (Arc<VmObject>, Arc<Pattern>) {
        let provider = Arc::new(Pattern::default());
        let vmo = VmObject::new_paged(
            hal.clone(),
            (pages * PAGE_SIZE) as u64,
            VmoOptions::empty(),
            provider.clone(),
            1,
        )
        .unwrap();
        (vmo, provider)
    }

    fn reads_right(vmo: &VmObject, page: usize) -> bool {
        let mut buf = vec![0u8; PAGE_SIZE];
        vmo.read((page * PAGE_SIZE) as u64, &mut buf).unwrap();
        buf.iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(page * PAGE_SIZE + i))
    }

    fn state(vmo: &VmObject, page: usize) -> PageState {
        vmo.page_state((page * PAGE_SIZE) as u64).unwrap()
    }

    #[test]
    fn clean_pages_are_evicted_oldest_first_and_come_back_through_the_provider() {
        let machine = small_machine(48);
        let hal: Arc<dyn Hal> = machine.clone();
        let total = hal.total_count();
        {
            let (vmo, provider) = paged(&hal, 32);
            for page in 0..32 {
                assert!(reads_right(&vmo, page));
            }
            assert_eq!(hal.free_count(), total - 32);
            assert_eq!(machine.registry().queued_pages(), 32);
            // 24 pages need 8 of the pager's.
            let plain = filled(&hal, 24, 9, VmoOptions::empty());
            assert!(machine.registry().evictions() >= 8);
            let evicted = machine.registry().evictions();
            assert_eq!(provider.evicted.load(Ordering::Relaxed), evicted);
            for page in 0..evicted {
                assert_eq!(state(&vmo, page), PageState::Absent, "page {page}");
                assert!(vmo.is_evicted((page * PAGE_SIZE) as u64));
            }
            for page in evicted..32 {
                assert_eq!(state(&vmo, page), PageState::Clean, "page {page}");
            }
            // The next touch asks the provider again, and finds the same bytes.
            drop(plain);
            let asked = provider.requests.load(Ordering::Relaxed);
            assert!(reads_right(&vmo, 0));
            assert_eq!(provider.requests.load(Ordering::Relaxed), asked + 1);
            assert!(!vmo.is_evicted(0));
        }
        assert_eq!(hal.free_count(), total, "frames leaked");
        assert_eq!(machine.registry().queued_pages(), 0);
    }

    #[test]
    fn dirty_pinned_and_always_needed_pages_stay() {
        let machine = small_machine(64);
        let hal: Arc<dyn Hal> = machine.clone();
        let total = hal.total_count();
        {
            let (vmo, _provider) = paged(&hal, 16);
            for page in 0..16 {
                assert!(reads_right(&vmo, page));
            }
            vmo.write(PAGE_SIZE as u64 + 5, b"dirty").unwrap();
            let pinned = vmo.pin(2 * PAGE_SIZE as u64, PAGE_SIZE as u64).unwrap();
            assert_eq!(pinned.len(), 1);
            vmo.hint(3 * PAGE_SIZE as u64, 1, EvictionHint::AlwaysNeed)
                .unwrap();
            assert_eq!(machine.registry().reclaim(64), 13);
            assert_eq!(state(&vmo, 0), PageState::Absent);
            assert_eq!(state(&vmo, 1), PageState::Dirty);
            assert_eq!(state(&vmo, 2), PageState::Clean);
            assert_eq!(state(&vmo, 3), PageState::Clean);
            let mut word = [0u8; 5];
            vmo.read(PAGE_SIZE as u64 + 5, &mut word).unwrap();
            assert_eq!(&word, b"dirty");

            // Written back, the dirty page is clean and may go; unpinned, so may
            // the pinned one; DONT_NEED lifts ALWAYS_NEED.
            vmo.writeback_begin(PAGE_SIZE as u64, PAGE_SIZE as u64)
                .unwrap();
            vmo.writeback_end(PAGE_SIZE as u64, PAGE_SIZE as u64)
                .unwrap();
            vmo.unpin(2 * PAGE_SIZE as u64, PAGE_SIZE as u64);
            vmo.hint(
                2 * PAGE_SIZE as u64,
                2 * PAGE_SIZE as u64,
                EvictionHint::DontNeed,
            )
            .unwrap();
            assert_eq!(machine.registry().reclaim(64), 3);
            for page in 1..4 {
                assert_eq!(state(&vmo, page), PageState::Absent, "page {page}");
            }
        }
        assert_eq!(hal.free_count(), total, "frames leaked");
    }

    #[test]
    fn dont_need_pages_go_before_older_ones() {
        let machine = small_machine(64);
        let hal: Arc<dyn Hal> = machine.clone();
        let (vmo, _provider) = paged(&hal, 24);
        for page in 0..24 {
            assert!(reads_right(&vmo, page));
        }
        vmo.hint(
            20 * PAGE_SIZE as u64,
            2 * PAGE_SIZE as u64,
            EvictionHint::DontNeed,
        )
        .unwrap();
        // At least a batch goes: the two hinted pages, then the oldest.
        let freed = machine.registry().reclaim(1);
        assert_eq!(freed, EVICT_BATCH);
        assert_eq!(state(&vmo, 20), PageState::Absent);
        assert_eq!(state(&vmo, 21), PageState::Absent);
        for page in 0..EVICT_BATCH - 2 {
            assert_eq!(state(&vmo, page), PageState::Absent, "page {page}");
        }
        assert_eq!(state(&vmo, EVICT_BATCH - 2), PageState::Clean);
        assert_eq!(state(&vmo, 23), PageState::Clean);
    }

    #[test]
    fn a_touch_makes_a_page_young_again() {
        let machine = small_machine(64);
        let hal: Arc<dyn Hal> = machine.clone();
        let (vmo, _provider) = paged(&hal, 16);
        for page in 0..16 {
            assert!(reads_right(&vmo, page));
        }
        assert!(reads_right(&vmo, 0));
        assert_eq!(machine.registry().reclaim(EVICT_BATCH), EVICT_BATCH);
        assert_eq!(state(&vmo, 0), PageState::Clean);
        assert_eq!(state(&vmo, 1), PageState::Absent);
        assert_eq!(state(&vmo, EVICT_BATCH), PageState::Absent);
        assert_eq!(state(&vmo, EVICT_BATCH + 1), PageState::Clean);
    }

    #[test]
    fn pages_of_a_dropped_vmo_leave_the_queue() {
        let machine = small_machine(32);
        let hal: Arc<dyn Hal> = machine.clone();
        let (vmo, _provider) = paged(&hal, 8);
        let mut buf = vec![0u8; 8 * PAGE_SIZE];
        vmo.read(0, &mut buf).unwrap();
        assert_eq!(machine.registry().queued_pages(), 8);
        drop(vmo);
        assert_eq!(machine.registry().queued_pages(), 0);
        assert_eq!(machine.registry().reclaim(1), 0);
    }
}
