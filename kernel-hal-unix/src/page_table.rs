//! An address space: a reserved window of host virtual memory in which "mapping"
//! means `mmap` of memfd ranges.
//!
//! # Host state and record
//!
//! The window `[base, base + size)` is reserved at creation as anonymous
//! `PROT_NONE | MAP_NORESERVE` memory, so no other host mapping can land in it. The
//! record `runs` (a `BTreeMap` keyed by start address) holds every translation:
//! disjoint runs of pages mapped to contiguous physical memory with one set of flags.
//! Invariant, kept under the `runs` lock: each page of a *present* run is a
//! `MAP_SHARED` mapping of the memfd at offset `paddr + (page - start)` with the run's
//! protection, and every other page of the window (outside the runs, or in a run the
//! host mapping of which was dropped: see "Host limits") is reserved `PROT_NONE`.
//! Every operation does its host calls first and then changes the record; where the
//! host refuses a call, it falls back to dropping whole host mappings, which is
//! always possible.
//!
//! Each host call works on one address range: a map is one `mmap`, a clear one
//! `mmap` over the mapped span, a protect one `mprotect` per span of adjacent present
//! translations. Adjacent runs that continue each other (contiguous physical memory,
//! same flags, cache policy and presence) are merged in the record, as the host
//! merges their mappings.
//!
//! # Host limits: the host's mappings are a cache of the record
//!
//! Every separately mapped run costs the host a mapping, and Linux allows a process
//! `vm.max_map_count` of them (65,530 by default); at the cap it refuses every
//! `mmap` and `mprotect` that would split a mapping, even one that takes
//! translations away. So the record, not the host, is the truth: a run is either
//! *present* (the invariant above holds for it) or *dropped* (its pages are only
//! reserved `PROT_NONE` in the host, and the first touch faults). When the host
//! refuses a call:
//!
//! - `map` records the run dropped;
//! - `unmap`, `clear` and `protect` drop every present *span* they touch (a
//!   maximal address-contiguous group of present runs: its ends are host mapping
//!   boundaries, so putting it back to reserved never splits anything and is
//!   always possible) and then change the record alone;
//! - a fault on a dropped run maps the whole run back before the address space's
//!   fault handler is asked, dropping every other present span of the window
//!   first if the host refuses.
//!
//! So no operation fails for lack of host mappings, and no translation outlives
//! its record. [`crate::UnixHal::with_mapping_cap`] simulates the cap (per window,
//! counted in present runs) so that tests can run there without lowering the
//! host's.

use std::collections::BTreeMap;
use std::io;
use std::ops::Bound;
use std::sync::{Arc, Mutex, Weak};

use kernel_hal::{
    is_page_aligned, CachePolicy, MMUFlags, PageFaultHandler, PageSize, PageTable, PagingError,
    PagingResult, PhysAddr, Translation, VirtAddr, PAGE_SIZE,
};

use crate::fault::{HostCache, Marked, Refill, Registration};
use crate::phys::PhysicalMemory;

/// One recorded translation run: `len` bytes from its key map to `paddr..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    len: usize,
    paddr: PhysAddr,
    flags: MMUFlags,
    cache: CachePolicy,
    /// Whether the host holds the run's mapping now (see "Host limits").
    present: bool,
}

impl Run {
    /// Whether `next`, starting right after this run, continues it.
    fn continued_by(&self, next: &Run) -> bool {
        next.paddr == self.paddr + self.len
            && next.flags == self.flags
            && next.cache == self.cache
            && next.present == self.present
    }
}

/// The host protection for `flags`. `USER` has no host meaning; on x86_64 a writable
/// or executable page is also readable.
fn host_protection(flags: MMUFlags) -> libc::c_int {
    let mut prot = libc::PROT_NONE;
    if flags.contains(MMUFlags::READ) {
        prot |= libc::PROT_READ;
    }
    if flags.contains(MMUFlags::WRITE) {
        prot |= libc::PROT_WRITE;
    }
    if flags.contains(MMUFlags::EXECUTE) {
        prot |= libc::PROT_EXEC;
    }
    prot
}

/// Turns a failed host call into a paging error: the host ran out of something.
fn host_failure(_error: io::Error) -> PagingError {
    PagingError::NoMemory
}

/// Reserves `[addr, addr + len)`, replacing whatever is mapped there.
///
/// # Safety
///
/// The range must lie inside a window owned by the caller, whose record says what
/// is replaced.
unsafe fn reserve_fixed(addr: usize, len: usize) -> io::Result<()> {
    // SAFETY: the caller owns the range; replacing it affects nothing else.
    let result = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    if result == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Windows of address spaces that are gone, kept reserved for a machine's next
/// address spaces: reserving a window, and unmapping one (which frees the host's
/// page tables under it), were most of what making and dropping an address space
/// cost the host. A kept window is reserved `PROT_NONE` from end to end, as a fresh
/// one is, so the next address space cannot tell it from a fresh one. A window
/// serves at most [`WINDOW_USES`] address spaces before it is unmapped, so that the
/// host page tables earlier ones left under it stay few.
#[derive(Debug, Default)]
pub(crate) struct IdleWindows(Mutex<Vec<IdleWindow>>);

/// A kept window: `(base, size)` and how many address spaces it has served.
#[derive(Debug)]
struct IdleWindow {
    base: VirtAddr,
    size: usize,
    uses: usize,
}

/// How many address spaces one window serves.
const WINDOW_USES: usize = 64;

/// How many idle windows a machine keeps.
const IDLE_WINDOWS: usize = 2;

impl IdleWindows {
    /// A kept window of `size` bytes, if there is one.
    fn take(&self, size: usize) -> Option<IdleWindow> {
        let mut idle = Marked::lock(&self.0);
        let at = idle.iter().position(|w| w.size == size)?;
        Some(idle.swap_remove(at))
    }

    /// Keeps `window` (reserved `PROT_NONE` throughout) if it may serve again and
    /// there is room, and unmaps it otherwise.
    fn put(&self, window: IdleWindow) {
        if window.uses < WINDOW_USES {
            let mut idle = Marked::lock(&self.0);
            if idle.len() < IDLE_WINDOWS {
                idle.push(window);
                return;
            }
        }
        // SAFETY: the window is ours and nothing refers to its addresses.
        unsafe { libc::munmap(window.base as *mut libc::c_void, window.size) };
    }
}

impl Drop for IdleWindows {
    fn drop(&mut self) {
        for window in Marked::lock(&self.0).drain(..) {
            // SAFETY: a kept window is ours and nothing refers to its addresses.
            unsafe { libc::munmap(window.base as *mut libc::c_void, window.size) };
        }
    }
}

/// The unix backend's page table: one reserved host window and the record of what
/// is mapped in it. Dropping it puts the window back to reserved (kept for the
/// machine's next address space, or unmapped) and unregisters it from the fault
/// handler's registry.
pub struct UnixPageTable {
    core: Arc<Core>,
    /// Where the window goes when the table does, and how many address spaces it
    /// has served (this one included).
    idle: Arc<IdleWindows>,
    uses: usize,
    /// The registered handler, as given (the registry holds its own copy).
    handler: Mutex<Option<Weak<dyn PageFaultHandler>>>,
    /// Drops before the window is unmapped (see `Drop`).
    registration: Option<Registration>,
}

/// The window and its record, shared with the fault registry (which refills
/// dropped runs through it).
struct Core {
    base: VirtAddr,
    size: usize,
    phys: Arc<PhysicalMemory>,
    /// The record; see the module docs for its invariant. Never held while touching
    /// window memory, so fault handlers may call every method.
    runs: Mutex<BTreeMap<VirtAddr, Run>>,
    /// A simulated host cap: at most this many present runs.
    cap: Option<usize>,
}

type Runs = BTreeMap<VirtAddr, Run>;

impl std::fmt::Debug for UnixPageTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixPageTable")
            .field("base", &format_args!("{:#x}", self.core.base))
            .field("size", &format_args!("{:#x}", self.core.size))
            .field("runs", &self.core.runs().len())
            .finish()
    }
}

impl UnixPageTable {
    /// Reserves a window of `size` bytes and registers it for fault dispatch; with
    /// `cap`, the host is taken to refuse more than `cap` present runs.
    pub(crate) fn new(
        phys: Arc<PhysicalMemory>,
        idle: Arc<IdleWindows>,
        size: usize,
        cap: Option<usize>,
    ) -> PagingResult<UnixPageTable> {
        let window = match idle.take(size) {
            Some(window) => window,
            None => {
                // SAFETY: a fresh reservation placed by the kernel; it overlaps nothing.
                let base = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        size,
                        libc::PROT_NONE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                        -1,
                        0,
                    )
                };
                if base == libc::MAP_FAILED {
                    return Err(PagingError::NoMemory);
                }
                IdleWindow {
                    base: base as usize,
                    size,
                    uses: 0,
                }
            }
        };
        let base = window.base;
        let core = Arc::new(Core {
            base,
            size,
            phys,
            runs: Mutex::new(BTreeMap::new()),
            cap,
        });
        let cache = Arc::downgrade(&core) as Weak<dyn HostCache>;
        let registration = match Registration::register(base, size, cache) {
            Ok(registration) => registration,
            Err(error) => {
                idle.put(window);
                return Err(error);
            }
        };
        Ok(UnixPageTable {
            core,
            idle,
            uses: window.uses + 1,
            handler: Mutex::new(None),
            registration: Some(registration),
        })
    }

    /// How many separate runs the record holds (each is at least one host mapping
    /// while present).
    pub fn run_count(&self) -> usize {
        self.core.runs().len()
    }

    /// How many of those runs the host holds now (the others were dropped at the
    /// host's mapping cap and come back when touched).
    pub fn present_run_count(&self) -> usize {
        self.core.runs().values().filter(|r| r.present).count()
    }

    /// How many pages have translations.
    pub fn mapped_pages(&self) -> usize {
        self.core.runs().values().map(|r| r.len / PAGE_SIZE).sum()
    }
}

impl Core {
    fn runs(&self) -> Marked<'_, Runs> {
        // Every update of the record happens after the host calls and cannot panic
        // half-way, so a poisoned lock still guards a consistent record.
        Marked::lock(&self.runs)
    }

    /// Checks that `[vaddr, vaddr + len)` is a non-empty page-aligned range inside
    /// the window, and returns its end.
    fn check_range(&self, vaddr: VirtAddr, len: usize) -> PagingResult<VirtAddr> {
        if !is_page_aligned(vaddr) || !is_page_aligned(len) || len == 0 {
            return Err(PagingError::NotAligned);
        }
        let end = vaddr.checked_add(len).ok_or(PagingError::OutOfRange)?;
        if vaddr < self.base || end > self.base + self.size {
            return Err(PagingError::OutOfRange);
        }
        Ok(end)
    }

    /// The runs overlapping `[start, end)`, clipped to it, in address order, as
    /// `(start, run)` pairs. Allocates nothing: at the host's mapping cap even a
    /// large allocation (which takes a new host mapping) would fail.
    fn clipped(
        runs: &Runs,
        start: VirtAddr,
        end: VirtAddr,
    ) -> impl Iterator<Item = (VirtAddr, Run)> + '_ {
        let first = runs
            .range(..=start)
            .next_back()
            .filter(|(&s, r)| s + r.len > start)
            .map_or(start, |(&s, _)| s);
        runs.range(first..end).map(move |(&s, r)| {
            let from = s.max(start);
            let to = (s + r.len).min(end);
            let run = Run {
                len: to - from,
                paddr: r.paddr + (from - s),
                ..*r
            };
            (from, run)
        })
    }

    /// The maximal address-contiguous spans of present translations in
    /// `[start, end)`, in address order: each is one host range for `mprotect`.
    fn present_spans(
        runs: &Runs,
        start: VirtAddr,
        end: VirtAddr,
    ) -> impl Iterator<Item = (VirtAddr, VirtAddr)> + '_ {
        let mut pieces = Self::clipped(runs, start, end)
            .filter(|(_, r)| r.present)
            .peekable();
        std::iter::from_fn(move || {
            let (span_start, first) = pieces.next()?;
            let mut span_end = span_start + first.len;
            while let Some((_, next)) = pieces.next_if(|(s, _)| *s == span_end) {
                span_end += next.len;
            }
            Some((span_start, span_end))
        })
    }

    /// Splits the run containing `addr` (if any starts before it) so that no run
    /// straddles `addr`.
    fn split_at(runs: &mut Runs, addr: VirtAddr) {
        let Some((&start, run)) = runs.range_mut(..addr).next_back() else {
            return;
        };
        if start + run.len <= addr {
            return;
        }
        let head = addr - start;
        let tail = Run {
            len: run.len - head,
            paddr: run.paddr + head,
            ..*run
        };
        run.len = head;
        runs.insert(addr, tail);
    }

    /// Merges the run ending at `addr` with the run starting there, if one continues
    /// the other.
    fn merge_at(runs: &mut Runs, addr: VirtAddr) {
        let Some(next) = runs.get(&addr).copied() else {
            return;
        };
        let Some((&start, prev)) = runs.range_mut(..addr).next_back() else {
            return;
        };
        if start + prev.len == addr && prev.continued_by(&next) {
            prev.len += next.len;
            runs.remove(&addr);
        }
    }

    /// Merges what now continues its neighbour, from the run at `from` to the one
    /// at `to`.
    fn merge_range(runs: &mut Runs, from: VirtAddr, to: VirtAddr) {
        let mut cursor = from;
        loop {
            Self::merge_at(runs, cursor);
            if cursor >= to {
                break;
            }
            match runs.range(cursor + 1..=to).next() {
                Some((&next, _)) => cursor = next,
                None => break,
            }
        }
    }

    /// Whether the simulated cap forbids `extra` more present runs.
    fn cap_refuses(&self, runs: &Runs, extra: usize) -> bool {
        self.cap
            .is_some_and(|cap| runs.values().filter(|r| r.present).count() + extra > cap)
    }

    /// How many present runs cutting `[start, end)` out of the record splits (each
    /// split costs the host a mapping).
    fn splits(runs: &Runs, start: VirtAddr, end: VirtAddr) -> usize {
        let cuts = |addr: VirtAddr| {
            runs.range(..addr)
                .next_back()
                .is_some_and(|(&s, r)| r.present && s + r.len > addr)
        };
        usize::from(cuts(start)) + usize::from(cuts(end))
    }

    /// After a failed `MAP_FIXED` mapping, makes sure the range is still reserved:
    /// if the host left a hole, it is reserved again (`MAP_FIXED_NOREPLACE` fails
    /// harmlessly where the old reservation is still in place).
    fn repair_reservation(&self, vaddr: VirtAddr, len: usize) {
        // SAFETY: `MAP_FIXED_NOREPLACE` never replaces an existing mapping; where the
        // range is a hole in our own window, reserving it is what the record says.
        let result = unsafe {
            libc::mmap(
                vaddr as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE
                    | libc::MAP_ANONYMOUS
                    | libc::MAP_NORESERVE
                    | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if result != libc::MAP_FAILED && result as usize != vaddr {
            // A kernel without MAP_FIXED_NOREPLACE took it as a hint; undo.
            // SAFETY: the mapping we just made elsewhere; nothing else uses it.
            unsafe { libc::munmap(result, len) };
        }
    }

    /// Maps the run recorded at `start` in the host.
    fn map_in_host(&self, start: VirtAddr, run: &Run) -> PagingResult<()> {
        let offset = libc::off_t::try_from(run.paddr).map_err(|_| PagingError::OutOfRange)?;
        // SAFETY: the range lies inside our window and the record says nothing of it
        // is present in the host, so replacing it affects nothing else; the file
        // range lies inside the memfd (checked when the run was recorded).
        let result = unsafe {
            libc::mmap(
                start as *mut libc::c_void,
                run.len,
                host_protection(run.flags),
                libc::MAP_SHARED | libc::MAP_FIXED,
                self.phys.raw_fd(),
                offset,
            )
        };
        if result == libc::MAP_FAILED {
            self.repair_reservation(start, run.len);
            return Err(PagingError::NoMemory);
        }
        Ok(())
    }

    /// The maximal present span around the present run at `start`.
    fn span_around(runs: &Runs, start: VirtAddr) -> (VirtAddr, VirtAddr) {
        let mut from = start;
        while let Some((&s, r)) = runs.range(..from).next_back() {
            if !r.present || s + r.len != from {
                break;
            }
            from = s;
        }
        let mut to = start;
        while let Some(r) = runs.get(&to).filter(|r| r.present) {
            to += r.len;
        }
        (from, to)
    }

    /// Drops the present span around the present run at `start` from the host
    /// (back to reserved; its ends are host mapping boundaries, so nothing splits)
    /// and marks its runs dropped.
    fn drop_span(&self, runs: &mut Runs, start: VirtAddr) -> PagingResult<()> {
        let (from, to) = Self::span_around(runs, start);
        // SAFETY: the span lies inside our window; its translations leave the host
        // here and the record says so below.
        unsafe { reserve_fixed(from, to - from) }.map_err(host_failure)?;
        for (_, run) in runs.range_mut(from..to) {
            run.present = false;
        }
        Self::merge_range(runs, from, to);
        Ok(())
    }

    /// Drops every present span that overlaps `[start, end)`.
    fn drop_spans_in(&self, runs: &mut Runs, start: VirtAddr, end: VirtAddr) -> PagingResult<()> {
        loop {
            let found = Self::clipped(runs, start, end).find(|(_, r)| r.present);
            let Some((s, _)) = found else {
                return Ok(());
            };
            let key = runs.range(..=s).next_back().map_or(s, |(&k, _)| k);
            self.drop_span(runs, key)?;
        }
    }

    /// Drops every present span except the one holding `keep`.
    fn drop_others(&self, runs: &mut Runs, keep: VirtAddr) -> PagingResult<()> {
        // Spans are dropped in address order, so the search goes on from the last.
        let mut cursor = 0;
        loop {
            let victim = runs
                .range(cursor..)
                .find(|(&s, r)| r.present && !(s <= keep && keep < s + r.len))
                .map(|(&s, _)| s);
            let Some(start) = victim else {
                return Ok(());
            };
            let (from, _) = Self::span_around(runs, start);
            self.drop_span(runs, start)?;
            cursor = from;
        }
    }

    /// Removes the translations in `[vaddr, end)` from the host and the record, and
    /// returns how many pages had one.
    fn remove_range(&self, runs: &mut Runs, vaddr: VirtAddr, end: VirtAddr) -> PagingResult<usize> {
        let mut pieces = Self::clipped(runs, vaddr, end);
        let Some((span_start, first)) = pieces.next() else {
            return Ok(0);
        };
        let (mut span_end, mut bytes) = (span_start + first.len, first.len);
        for (start, run) in pieces {
            span_end = start + run.len;
            bytes += run.len;
        }
        // One call puts the whole mapped span back to reserved, holes included (they
        // are reserved already). Where the host refuses (the split it needs costs a
        // mapping), the present spans touched leave the host whole instead.
        let refused = self.cap_refuses(runs, Self::splits(runs, vaddr, end))
            // SAFETY: the span lies inside our window (checked by the caller).
            || unsafe { reserve_fixed(span_start, span_end - span_start) }.is_err();
        if refused {
            self.drop_spans_in(runs, vaddr, end)?;
        }
        Self::split_at(runs, vaddr);
        Self::split_at(runs, end);
        while let Some((&start, _)) = runs.range(vaddr..end).next() {
            runs.remove(&start);
        }
        Ok(bytes / PAGE_SIZE)
    }

    fn map(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
    ) -> PagingResult<()> {
        let end = self.check_range(vaddr, len)?;
        if !is_page_aligned(paddr) {
            return Err(PagingError::NotAligned);
        }
        match paddr.checked_add(len) {
            Some(pend) if pend <= self.phys.end() => {}
            _ => return Err(PagingError::OutOfRange),
        }
        libc::off_t::try_from(paddr).map_err(|_| PagingError::OutOfRange)?;
        let mut runs = self.runs();
        if let Some((&start, run)) = runs.range(..end).next_back() {
            if start + run.len > vaddr {
                return Err(PagingError::AlreadyMapped);
            }
        }
        let mut run = Run {
            len,
            paddr,
            flags,
            cache,
            present: true,
        };
        // Where the host refuses, the run starts dropped: the first touch maps it.
        if self.cap_refuses(&runs, 1) || self.map_in_host(vaddr, &run).is_err() {
            run.present = false;
        }
        runs.insert(vaddr, run);
        Self::merge_at(&mut runs, end);
        Self::merge_at(&mut runs, vaddr);
        Ok(())
    }

    fn protect(&self, vaddr: VirtAddr, len: usize, flags: MMUFlags) -> PagingResult<usize> {
        let end = self.check_range(vaddr, len)?;
        let mut runs = self.runs();
        let prot = host_protection(flags);
        let refused = self.cap_refuses(&runs, Self::splits(&runs, vaddr, end))
            || Self::present_spans(&runs, vaddr, end).any(|(start, span_end)| {
                // SAFETY: the span lies inside our window and is mapped memfd memory
                // (the record says so); only its protection changes.
                let result =
                    unsafe { libc::mprotect(start as *mut libc::c_void, span_end - start, prot) };
                result != 0
            });
        if refused {
            // Spans already changed and spans not yet changed alike leave the host
            // whole; the record (updated below) is what they come back as.
            self.drop_spans_in(&mut runs, vaddr, end)?;
        }
        Self::split_at(&mut runs, vaddr);
        Self::split_at(&mut runs, end);
        let mut pages = 0;
        for run in runs.range_mut(vaddr..end).map(|(_, run)| run) {
            run.flags = flags;
            pages += run.len / PAGE_SIZE;
        }
        Self::merge_range(&mut runs, vaddr, end);
        Ok(pages)
    }

    fn query(&self, vaddr: VirtAddr) -> PagingResult<Translation> {
        if vaddr < self.base || vaddr - self.base >= self.size {
            return Err(PagingError::OutOfRange);
        }
        let runs = self.runs();
        let (&start, run) = runs
            .range((Bound::Unbounded, Bound::Included(vaddr)))
            .next_back()
            .filter(|(&s, r)| vaddr < s + r.len)
            .ok_or(PagingError::NotMapped)?;
        Ok(Translation {
            paddr: run.paddr + (vaddr - start),
            flags: run.flags,
            cache: run.cache,
            page_size: PageSize::Size4K,
        })
    }
}

/// The run holding `addr`, as `(start, run)`.
fn run_at(runs: &Runs, addr: VirtAddr) -> Option<(VirtAddr, Run)> {
    runs.range(..=addr)
        .next_back()
        .filter(|(&s, r)| addr < s + r.len)
        .map(|(&s, &r)| (s, r))
}

impl HostCache for Core {
    fn refill(&self, addr: VirtAddr) -> Refill {
        let mut runs = self.runs();
        let Some((mut start, mut run)) = run_at(&runs, addr).filter(|(_, r)| !r.present) else {
            return Refill::NotDropped;
        };
        let mut mapped = !self.cap_refuses(&runs, 1) && self.map_in_host(start, &run).is_ok();
        if !mapped {
            // Make room: every other present span leaves the host (the dropped run
            // may merge with a neighbour meanwhile, so look it up again).
            if self.drop_others(&mut runs, addr).is_err() {
                return Refill::HostRefused;
            }
            let Some(again) = run_at(&runs, addr) else {
                return Refill::HostRefused;
            };
            (start, run) = again;
            mapped = !self.cap_refuses(&runs, 1) && self.map_in_host(start, &run).is_ok();
        }
        if !mapped {
            return Refill::HostRefused;
        }
        if let Some(r) = runs.get_mut(&start) {
            r.present = true;
        }
        Self::merge_at(&mut runs, start + run.len);
        Self::merge_at(&mut runs, start);
        Refill::Refilled
    }
}

impl Drop for UnixPageTable {
    fn drop(&mut self) {
        // Unregister first, so that no fault is dispatched to this table once the
        // host may reuse its addresses.
        drop(self.registration.take());
        let (base, size) = (self.core.base, self.core.size);
        // Back to reserved from end to end: what the record says is present (usually
        // nothing, once the address space has taken its mappings down) is put back.
        let present: Vec<(VirtAddr, usize)> = self
            .core
            .runs()
            .iter()
            .filter(|(_, run)| run.present)
            .map(|(&start, run)| (start, run.len))
            .collect();
        // SAFETY: each run lies inside our window, which nothing refers to any more.
        let reset = present
            .into_iter()
            .all(|(start, len)| unsafe { reserve_fixed(start, len) }.is_ok());
        let uses = if reset { self.uses } else { WINDOW_USES };
        self.idle.put(IdleWindow { base, size, uses });
    }
}

/// The host kernel keeps its own TLBs coherent across `mmap`, `munmap` and
/// `mprotect`, so every operation here takes effect before it returns: the deferred
/// forms return empty tokens and `flush` has nothing to send.
impl PageTable for UnixPageTable {
    fn user_range(&self) -> (VirtAddr, usize) {
        (self.core.base, self.core.size)
    }

    kernel_hal::immediate_page_table_changes!();

    fn map(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
    ) -> PagingResult<()> {
        self.core.map(vaddr, paddr, len, flags, cache)
    }

    fn unmap(&self, vaddr: VirtAddr, len: usize) -> PagingResult<()> {
        let end = self.core.check_range(vaddr, len)?;
        let mut runs = self.core.runs();
        let covered: usize = Core::clipped(&runs, vaddr, end).map(|(_, r)| r.len).sum();
        if covered != len {
            return Err(PagingError::NotMapped);
        }
        self.core.remove_range(&mut runs, vaddr, end)?;
        Ok(())
    }

    fn clear(&self, vaddr: VirtAddr, len: usize) -> PagingResult<usize> {
        let end = self.core.check_range(vaddr, len)?;
        let mut runs = self.core.runs();
        self.core.remove_range(&mut runs, vaddr, end)
    }

    fn protect(&self, vaddr: VirtAddr, len: usize, flags: MMUFlags) -> PagingResult<usize> {
        self.core.protect(vaddr, len, flags)
    }

    fn query(&self, vaddr: VirtAddr) -> PagingResult<Translation> {
        self.core.query(vaddr)
    }

    fn set_fault_handler(&self, handler: Option<Weak<dyn PageFaultHandler>>) {
        let mut current = self.handler.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(registration) = &self.registration {
            registration.set_handler(handler.clone());
        }
        *current = handler;
    }

    fn fault_handler(&self) -> Option<Arc<dyn PageFaultHandler>> {
        let current = self.handler.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().and_then(Weak::upgrade)
    }
}
