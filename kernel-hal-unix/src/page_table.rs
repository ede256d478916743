//! An address space: a reserved window of host virtual memory in which "mapping"
//! means `mmap` of memfd ranges.
//!
//! # Host state and record
//!
//! The window `[base, base + size)` is reserved at creation as anonymous
//! `PROT_NONE | MAP_NORESERVE` memory, so no other host mapping can land in it. The
//! record `runs` (a `BTreeMap` keyed by start address) holds every translation:
//! disjoint runs of pages mapped to contiguous physical memory with one set of flags.
//! Invariant, kept under the `runs` lock: each page of a run is a `MAP_SHARED` mapping
//! of the memfd at offset `paddr + (page - start)` with the run's protection, and every
//! page of the window outside the runs is reserved `PROT_NONE`. Every operation does
//! its host calls first and changes the record only once they succeeded; if a host
//! call fails part-way, the calls already done are undone.
//!
//! Each host call works on one address range: a map is one `mmap`, a clear one
//! `mmap` over the mapped span, a protect one `mprotect` per run of adjacent
//! translations. Adjacent runs that continue each other (contiguous physical memory,
//! same flags and cache policy) are merged in the record, as the host merges their
//! mappings.
//!
//! # Host limits
//!
//! Every separately mapped run costs the host a mapping, and Linux allows a process
//! `vm.max_map_count` of them (65,530 by default). A host `ENOMEM` (from that cap or
//! any other host shortage) becomes [`PagingError::NoMemory`] and changes nothing.
//! Splitting a run (unmapping or protecting part of it) also costs mappings, so
//! `unmap`, `clear` and `protect` can fail with `NoMemory` too at the cap.

use std::collections::BTreeMap;
use std::io;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use kernel_hal::{
    is_page_aligned, CachePolicy, MMUFlags, PageFaultHandler, PageSize, PageTable, PagingError,
    PagingResult, PhysAddr, TlbFlush, Translation, VirtAddr, PAGE_SIZE,
};

use crate::fault::Registration;
use crate::phys::PhysicalMemory;

/// One recorded translation run: `len` bytes from its key map to `paddr..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    len: usize,
    paddr: PhysAddr,
    flags: MMUFlags,
    cache: CachePolicy,
}

impl Run {
    /// Whether `next`, starting right after this run, continues it.
    fn continued_by(&self, next: &Run) -> bool {
        next.paddr == self.paddr + self.len && next.flags == self.flags && next.cache == self.cache
    }
}

/// The host protection for `flags`. `USER` has no host meaning; on x86_64 a writable
/// or executable page is also readable.
// One bit test per permission, like the bare backend's entry encoding and the test
// model: each maps MMU flags to its own target's bits.
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

/// The unix backend's page table: one reserved host window and the record of what
/// is mapped in it. Dropping it unmaps the window and unregisters it from the fault
/// handler's registry.
pub struct UnixPageTable {
    base: VirtAddr,
    size: usize,
    phys: Arc<PhysicalMemory>,
    /// The record; see the module docs for its invariant. Never held while touching
    /// window memory, so fault handlers may call every method.
    runs: Mutex<BTreeMap<VirtAddr, Run>>,
    /// The registered handler, as given (the registry holds its own copy).
    handler: Mutex<Option<Weak<dyn PageFaultHandler>>>,
    /// Drops before the window is unmapped (see `Drop`).
    registration: Option<Registration>,
}

impl std::fmt::Debug for UnixPageTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixPageTable")
            .field("base", &format_args!("{:#x}", self.base))
            .field("size", &format_args!("{:#x}", self.size))
            .field("runs", &self.runs().len())
            .finish()
    }
}

impl UnixPageTable {
    /// Reserves a window of `size` bytes and registers it for fault dispatch.
    pub(crate) fn new(phys: Arc<PhysicalMemory>, size: usize) -> PagingResult<UnixPageTable> {
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
        let base = base as usize;
        let registration = match Registration::register(base, size) {
            Ok(registration) => registration,
            Err(error) => {
                // SAFETY: the reservation we just made; nothing else uses it.
                unsafe { libc::munmap(base as *mut libc::c_void, size) };
                return Err(error);
            }
        };
        Ok(UnixPageTable {
            base,
            size,
            phys,
            runs: Mutex::new(BTreeMap::new()),
            handler: Mutex::new(None),
            registration: Some(registration),
        })
    }

    /// How many separate runs the record holds (each is at least one host mapping).
    pub fn run_count(&self) -> usize {
        self.runs().len()
    }

    /// How many pages have translations.
    pub fn mapped_pages(&self) -> usize {
        self.runs().values().map(|r| r.len / PAGE_SIZE).sum()
    }

    fn runs(&self) -> MutexGuard<'_, BTreeMap<VirtAddr, Run>> {
        // Every update of the record happens after the host calls and cannot panic
        // half-way, so a poisoned lock still guards a consistent record.
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
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
        runs: &BTreeMap<VirtAddr, Run>,
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

    /// The maximal address-contiguous spans of translations in `[start, end)`, in
    /// address order: each is one host range for `mprotect`.
    fn spans(
        runs: &BTreeMap<VirtAddr, Run>,
        start: VirtAddr,
        end: VirtAddr,
    ) -> impl Iterator<Item = (VirtAddr, VirtAddr)> + '_ {
        let mut pieces = Self::clipped(runs, start, end).peekable();
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
    fn split_at(runs: &mut BTreeMap<VirtAddr, Run>, addr: VirtAddr) {
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
    fn merge_at(runs: &mut BTreeMap<VirtAddr, Run>, addr: VirtAddr) {
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

    /// After a failed `MAP_FIXED` mapping, makes sure the range is still reserved:
    /// if the host left a hole, it is reserved again (`MAP_FIXED_NOREPLACE` fails
    /// harmlessly where the old reservation is still in place).
    // The same `mmap` call as `reserve_fixed` but with `MAP_FIXED_NOREPLACE`: it must
    // never replace what is there, so it cannot share that function.
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

    /// Removes the translations in `[vaddr, end)` from the host and the record, and
    /// returns how many pages had one.
    fn remove_range(
        &self,
        runs: &mut BTreeMap<VirtAddr, Run>,
        vaddr: VirtAddr,
        end: VirtAddr,
    ) -> PagingResult<usize> {
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
        // are reserved already).
        // SAFETY: the span lies inside our window (checked by the caller).
        unsafe { reserve_fixed(span_start, span_end - span_start) }.map_err(host_failure)?;
        Self::split_at(runs, vaddr);
        Self::split_at(runs, end);
        while let Some((&start, _)) = runs.range(vaddr..end).next() {
            runs.remove(&start);
        }
        Ok(bytes / PAGE_SIZE)
    }
}

impl Drop for UnixPageTable {
    fn drop(&mut self) {
        // Unregister first, so that no fault is dispatched to this table once the
        // host may reuse its addresses.
        drop(self.registration.take());
        // SAFETY: the window is ours; with it unregistered and the table going away,
        // nothing refers to its addresses any more.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}

/// The host kernel keeps its own TLBs coherent across `mmap`, `munmap` and
/// `mprotect`, so every operation here takes effect before it returns: the deferred
/// forms return empty tokens and `flush` has nothing to send.
impl PageTable for UnixPageTable {
    fn user_range(&self) -> (VirtAddr, usize) {
        (self.base, self.size)
    }

    fn map_deferred(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
    ) -> PagingResult<TlbFlush> {
        self.map(vaddr, paddr, len, flags, cache)?;
        Ok(TlbFlush::new())
    }

    fn unmap_deferred(&self, vaddr: VirtAddr, len: usize) -> PagingResult<TlbFlush> {
        self.unmap(vaddr, len)?;
        Ok(TlbFlush::new())
    }

    fn clear_deferred(&self, vaddr: VirtAddr, len: usize) -> PagingResult<(usize, TlbFlush)> {
        Ok((self.clear(vaddr, len)?, TlbFlush::new()))
    }

    fn protect_deferred(
        &self,
        vaddr: VirtAddr,
        len: usize,
        flags: MMUFlags,
    ) -> PagingResult<(usize, TlbFlush)> {
        Ok((self.protect(vaddr, len, flags)?, TlbFlush::new()))
    }

    fn flush(&self, flush: TlbFlush) {
        debug_assert!(flush.is_empty(), "this backend owes no invalidations");
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
        let offset = libc::off_t::try_from(paddr).map_err(|_| PagingError::OutOfRange)?;
        let mut runs = self.runs();
        if let Some((&start, run)) = runs.range(..end).next_back() {
            if start + run.len > vaddr {
                return Err(PagingError::AlreadyMapped);
            }
        }
        // SAFETY: the range lies inside our window and the record says it is only
        // reserved, so replacing it affects nothing else; the file range lies inside
        // the memfd (checked above).
        let result = unsafe {
            libc::mmap(
                vaddr as *mut libc::c_void,
                len,
                host_protection(flags),
                libc::MAP_SHARED | libc::MAP_FIXED,
                self.phys.raw_fd(),
                offset,
            )
        };
        if result == libc::MAP_FAILED {
            self.repair_reservation(vaddr, len);
            return Err(PagingError::NoMemory);
        }
        runs.insert(
            vaddr,
            Run {
                len,
                paddr,
                flags,
                cache,
            },
        );
        Self::merge_at(&mut runs, end);
        Self::merge_at(&mut runs, vaddr);
        Ok(())
    }

    fn unmap(&self, vaddr: VirtAddr, len: usize) -> PagingResult<()> {
        let end = self.check_range(vaddr, len)?;
        let mut runs = self.runs();
        let covered: usize = Self::clipped(&runs, vaddr, end).map(|(_, r)| r.len).sum();
        if covered != len {
            return Err(PagingError::NotMapped);
        }
        self.remove_range(&mut runs, vaddr, end)?;
        Ok(())
    }

    fn clear(&self, vaddr: VirtAddr, len: usize) -> PagingResult<usize> {
        let end = self.check_range(vaddr, len)?;
        let mut runs = self.runs();
        self.remove_range(&mut runs, vaddr, end)
    }

    fn protect(&self, vaddr: VirtAddr, len: usize, flags: MMUFlags) -> PagingResult<usize> {
        let end = self.check_range(vaddr, len)?;
        let mut runs = self.runs();
        let prot = host_protection(flags);
        let failed_span = Self::spans(&runs, vaddr, end).find(|&(start, span_end)| {
            // SAFETY: the span lies inside our window and is mapped memfd memory (the
            // record says so); only its protection changes.
            let result =
                unsafe { libc::mprotect(start as *mut libc::c_void, span_end - start, prot) };
            result != 0
        });
        if let Some((failed_at, _)) = failed_span {
            // Put back the protection of the spans already changed, as the record
            // (still unchanged) says.
            for (start, run) in Self::clipped(&runs, vaddr, failed_at) {
                // SAFETY: as above.
                unsafe {
                    libc::mprotect(
                        start as *mut libc::c_void,
                        run.len,
                        host_protection(run.flags),
                    )
                };
            }
            return Err(PagingError::NoMemory);
        }
        Self::split_at(&mut runs, vaddr);
        Self::split_at(&mut runs, end);
        let mut pages = 0;
        for run in runs.range_mut(vaddr..end).map(|(_, run)| run) {
            run.flags = flags;
            pages += run.len / PAGE_SIZE;
        }
        // Merge what now continues its neighbour, from the run at `vaddr` to the one
        // at `end`.
        let mut cursor = vaddr;
        loop {
            Self::merge_at(&mut runs, cursor);
            if cursor >= end {
                break;
            }
            match runs.range(cursor + 1..=end).next() {
                Some((&next, _)) => cursor = next,
                None => break,
            }
        }
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
