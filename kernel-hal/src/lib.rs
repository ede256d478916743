//! The hardware abstraction layer that the kernel objects talk to.
//!
//! This crate is `#![no_std]` and holds only types and traits: addresses and page
//! sizes, MMU flags and cache policies, the [`PageTable`] trait (one address space's
//! translations, worked on in ranges), the [`PhysMem`] trait (physical frames and the
//! bytes in them) and the [`Hal`] trait that ties them together and creates new
//! address spaces. It never touches hardware itself; two backends implement it:
//! `kernel-hal-bare` (real x86_64 page tables) and `kernel-hal-unix` (emulation on
//! Linux with a memfd and `mmap`).
//!
//! [`frame::FrameAllocator`] is the buddy frame allocator both backends use.
//!
//! A HAL reaches the object layer as a value (`Arc<dyn Hal>`), never through a
//! global or weak linkage, so one test binary can run many machines side by side.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod frame;
pub mod held;

use alloc::boxed::Box;
use alloc::sync::Weak;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicI64, AtomicU32, Ordering};

/// A physical address.
pub type PhysAddr = usize;
/// A virtual address.
pub type VirtAddr = usize;

/// The size of the smallest page, in bytes.
pub const PAGE_SIZE: usize = 4096;
/// `log2(PAGE_SIZE)`.
pub const PAGE_SHIFT: usize = 12;

/// Whether `value` is a multiple of [`PAGE_SIZE`].
#[inline]
pub const fn is_page_aligned(value: usize) -> bool {
    value & (PAGE_SIZE - 1) == 0
}

/// `value` rounded down to a multiple of [`PAGE_SIZE`].
#[inline]
pub const fn page_round_down(value: usize) -> usize {
    value & !(PAGE_SIZE - 1)
}

/// `value` rounded up to a multiple of [`PAGE_SIZE`], or `None` if that overflows.
#[inline]
pub const fn page_round_up(value: usize) -> Option<usize> {
    match value.checked_add(PAGE_SIZE - 1) {
        Some(v) => Some(v & !(PAGE_SIZE - 1)),
        None => None,
    }
}

/// The sizes a single translation can cover on x86_64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageSize {
    /// 4 KiB, a page-table entry at level 1.
    Size4K,
    /// 2 MiB, a huge entry in a page directory.
    Size2M,
    /// 1 GiB, a huge entry in a page-directory pointer table.
    Size1G,
}

impl PageSize {
    /// The size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            PageSize::Size4K => 1 << 12,
            PageSize::Size2M => 1 << 21,
            PageSize::Size1G => 1 << 30,
        }
    }
}

bitflags::bitflags! {
    /// Access permissions of a translation, and the kind of access in a fault.
    ///
    /// The low three bits have the values of `ZX_VM_PERM_READ/WRITE/EXECUTE`, so the
    /// object layer converts between them without a table.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MMUFlags: u32 {
        /// The page may be read.
        const READ = 1 << 0;
        /// The page may be written.
        const WRITE = 1 << 1;
        /// Instructions may be fetched from the page.
        const EXECUTE = 1 << 2;
        /// The page is reachable from user mode.
        const USER = 1 << 3;
    }
}

/// How the memory behind a translation is cached. The values are Zircon's
/// `ZX_CACHE_POLICY_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum CachePolicy {
    /// Normal write-back caching.
    #[default]
    Cached = 0,
    /// Uncached (strong uncacheable).
    Uncached = 1,
    /// Uncached device memory.
    UncachedDevice = 2,
    /// Write-combining.
    WriteCombining = 3,
}

impl CachePolicy {
    /// The policy with Zircon's numeric value `value`, if there is one.
    pub const fn from_raw(value: u32) -> Option<CachePolicy> {
        match value {
            0 => Some(CachePolicy::Cached),
            1 => Some(CachePolicy::Uncached),
            2 => Some(CachePolicy::UncachedDevice),
            3 => Some(CachePolicy::WriteCombining),
            _ => None,
        }
    }
}

/// Why a HAL operation failed. Every failing operation changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PagingError {
    /// An address or length is not a multiple of the page size, or a length is zero.
    NotAligned,
    /// The range wraps around, lies (partly) outside the address space or outside
    /// physical memory, or the address is not canonical.
    OutOfRange,
    /// Some page of the range already has a translation.
    AlreadyMapped,
    /// The address (or some page of a range that must be fully mapped) has no
    /// translation.
    NotMapped,
    /// Out of frames, of page-table memory, or of a host resource (such as the
    /// Linux per-process mapping count).
    NoMemory,
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            PagingError::NotAligned => "address or length not page-aligned",
            PagingError::OutOfRange => "range outside the address space or physical memory",
            PagingError::AlreadyMapped => "page already mapped",
            PagingError::NotMapped => "page not mapped",
            PagingError::NoMemory => "out of memory",
        };
        f.write_str(text)
    }
}

/// The result of every fallible HAL call.
pub type PagingResult<T> = Result<T, PagingError>;

/// What one virtual address translates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The physical address the queried virtual address maps to (not the page base).
    pub paddr: PhysAddr,
    /// The permissions of the translation.
    pub flags: MMUFlags,
    /// The cache policy of the translation.
    pub cache: CachePolicy,
    /// The size of the entry that holds the translation.
    pub page_size: PageSize,
}

/// How many single pages a [`TlbFlush`] lists before it turns into a flush of the
/// whole address space.
pub const TLB_FLUSH_PAGE_LIMIT: usize = 32;

/// The TLB invalidations that one or more changes to one address space owe, and the
/// page-table frames to free once no CPU can walk them any more.
///
/// The deferred [`PageTable`] operations return one instead of flushing; the caller
/// gathers the tokens of one address space with [`merge`](Self::merge) and hands
/// them to [`PageTable::flush`] once, after it has dropped its own locks, so an
/// operation over N mappings sends one shootdown, not N. Until then a CPU may still
/// use a stale translation, so dropping a token unflushed is a bug: the type is
/// `#[must_use]`, and a forgotten token is a compile warning (an error under
/// `-D warnings`). A backend without a TLB to keep coherent (the unix emulation)
/// returns empty tokens, and its `flush` does nothing.
#[must_use = "stale translations stay cached until this is passed to `PageTable::flush`"]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TlbFlush {
    /// Addresses whose translations changed (at most `TLB_FLUSH_PAGE_LIMIT`);
    /// empty once `all` is set. A `Vec` rather than an inline array keeps the token
    /// small (it is returned through every deferred call) and allocates nothing
    /// while empty.
    pages: Vec<VirtAddr>,
    all: bool,
    freed_tables: Vec<PhysAddr>,
}

impl TlbFlush {
    /// A token that owes nothing.
    pub const fn new() -> TlbFlush {
        TlbFlush {
            pages: Vec::new(),
            all: false,
            freed_tables: Vec::new(),
        }
    }

    /// Whether the token owes nothing (flushing it sends no shootdown).
    pub fn is_empty(&self) -> bool {
        !self.all && self.pages.is_empty() && self.freed_tables.is_empty()
    }

    /// Whether the token flushes the whole address space.
    pub fn is_full_flush(&self) -> bool {
        self.all
    }

    /// The single pages to invalidate (empty once the token is a full flush).
    pub fn pages(&self) -> &[VirtAddr] {
        &self.pages
    }

    /// The page-table frames to free after the flush.
    pub fn freed_tables(&self) -> &[PhysAddr] {
        &self.freed_tables
    }

    /// Records that the translation of the page containing `addr` changed.
    pub fn add_page(&mut self, addr: VirtAddr) {
        if self.all {
            return;
        }
        if self.pages.len() == TLB_FLUSH_PAGE_LIMIT {
            self.set_full_flush();
        } else {
            self.pages.push(addr);
        }
    }

    /// Records that the whole address space must be flushed.
    pub fn set_full_flush(&mut self) {
        self.all = true;
        self.pages = Vec::new();
    }

    /// Records a page-table frame to return to the allocator after the flush.
    pub fn add_freed_table(&mut self, table: PhysAddr) {
        self.freed_tables.push(table);
    }

    /// Adds everything `other` owes to this token (both must come from the same
    /// address space).
    pub fn merge(&mut self, mut other: TlbFlush) {
        if other.all {
            self.set_full_flush();
        } else if self.pages.is_empty() && !self.all {
            self.pages = core::mem::take(&mut other.pages);
        } else {
            for &addr in &other.pages {
                self.add_page(addr);
            }
        }
        if self.freed_tables.is_empty() {
            self.freed_tables = core::mem::take(&mut other.freed_tables);
        } else {
            self.freed_tables.append(&mut other.freed_tables);
        }
    }

    /// Takes the page-table frames out of the token, for a backend's
    /// [`PageTable::flush`], which frees them once it has invalidated
    /// [`pages`](Self::pages) (or everything).
    pub fn take_freed_tables(&mut self) -> Vec<PhysAddr> {
        core::mem::take(&mut self.freed_tables)
    }
}

/// Receives the page faults of one address space.
///
/// On the unix backend a host `SIGSEGV`/`SIGBUS` inside an address space's window
/// calls this from the signal handler; on bare metal the embedder's trap handler
/// calls the object layer directly and the HAL never does.
///
/// # What an implementation may do
///
/// It runs in signal context on the faulting thread. It may take locks that the
/// faulting thread cannot hold at that moment (the object layer never touches user
/// memory through a raw pointer while holding its own locks, so its locks qualify),
/// allocate memory (the faulting access was to a window, which the allocator never
/// uses, so the thread is not inside the allocator), and call [`PageTable`] and
/// [`PhysMem`] methods. It must not unwind (a panic aborts the process) and must not
/// block on another thread that may itself be waiting for this one.
pub trait PageFaultHandler: Send + Sync {
    /// Tries to resolve a fault at `vaddr` for an access of kind `access` (exactly one
    /// of READ, WRITE or EXECUTE). Returns `true` if a translation now permits the
    /// access, so that it can be retried; `false` to let the fault go on as a crash.
    fn handle_page_fault(&self, vaddr: VirtAddr, access: MMUFlags) -> bool;
}

/// One address space's translations.
///
/// Every operation works on page-aligned ranges and checks its arguments first:
/// bad input returns an error and changes nothing. The operations that change
/// translations come in two forms: `*_deferred` returns a [`TlbFlush`] that the
/// caller sends later with [`flush`](Self::flush) (once for many changes), and the
/// plain form flushes before it returns. A failing deferred operation has flushed
/// whatever it owed itself. All methods take `&self`; an
/// implementation serialises its own updates, so the object layer may call it from
/// any thread (and, on the unix backend, from the fault handler).
// Each backend (kernel-hal-bare, kernel-hal-unix, zircon-object's test model) restates
// these method signatures in its impl, as Rust requires; those repeats are not code
// said twice.
pub trait PageTable: Send + Sync {
    /// The virtual range `[base, base + size)` this address space may use for user
    /// mappings. The root VMAR covers exactly this range. `base` is never 0.
    fn user_range(&self) -> (VirtAddr, usize);

    /// Maps the physically contiguous run `[paddr, paddr + len)` at
    /// `[vaddr, vaddr + len)` with `flags` and `cache`, and returns the invalidations
    /// owed (none on most hardware: the pages were not mapped before).
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`]: `vaddr`, `paddr` or `len` unaligned, or `len == 0`.
    /// - [`PagingError::OutOfRange`]: the virtual range leaves [`user_range`](Self::user_range)
    ///   or wraps, or the physical run lies outside physical memory.
    /// - [`PagingError::AlreadyMapped`]: some page of the range is already mapped.
    /// - [`PagingError::NoMemory`]: no memory for page tables or host mappings.
    fn map_deferred(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
    ) -> PagingResult<TlbFlush>;

    /// Removes every translation in `[vaddr, vaddr + len)`; every page of the range
    /// must be mapped. Returns the invalidations owed.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`], [`PagingError::OutOfRange`]: as for
    ///   [`map_deferred`](Self::map_deferred).
    /// - [`PagingError::NotMapped`]: some page of the range has no translation.
    /// - [`PagingError::NoMemory`]: splitting a larger translation needs memory (page
    ///   tables, or host mappings on the unix backend) that is not there.
    fn unmap_deferred(&self, vaddr: VirtAddr, len: usize) -> PagingResult<TlbFlush>;

    /// Removes whatever translations exist in `[vaddr, vaddr + len)`, skipping pages
    /// that have none, and returns how many pages were unmapped and the
    /// invalidations owed. This is what the object layer uses: it maps pages lazily
    /// and so does not know which of a mapping's pages have translations.
    ///
    /// When removing part of a larger translation would need memory that is not
    /// there, this fails with `NoMemory`; a caller that can re-create translations
    /// on demand (the object layer can) may then clear a wider range whose
    /// boundaries split nothing.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`], [`PagingError::OutOfRange`]: as for
    ///   [`map_deferred`](Self::map_deferred).
    /// - [`PagingError::NoMemory`]: as for [`unmap_deferred`](Self::unmap_deferred).
    fn clear_deferred(&self, vaddr: VirtAddr, len: usize) -> PagingResult<(usize, TlbFlush)>;

    /// Sets the permissions of every translation in `[vaddr, vaddr + len)` to
    /// `flags`, skipping pages that have none, and returns how many pages changed and
    /// the invalidations owed.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`], [`PagingError::OutOfRange`]: as for
    ///   [`map_deferred`](Self::map_deferred).
    /// - [`PagingError::NoMemory`]: as for [`unmap_deferred`](Self::unmap_deferred).
    fn protect_deferred(
        &self,
        vaddr: VirtAddr,
        len: usize,
        flags: MMUFlags,
    ) -> PagingResult<(usize, TlbFlush)>;

    /// Sends what `flush` owes: invalidates the listed pages (or everything) on
    /// every CPU that may have cached this address space's translations, then frees
    /// the page-table frames it carries. The one place a backend shoots down; a
    /// caller makes one call per address space per operation, with no lock of its
    /// own held. An empty token sends nothing.
    fn flush(&self, flush: TlbFlush);

    /// [`map_deferred`](Self::map_deferred), flushed before it returns.
    ///
    /// # Errors
    ///
    /// As [`map_deferred`](Self::map_deferred).
    fn map(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
    ) -> PagingResult<()> {
        let flush = self.map_deferred(vaddr, paddr, len, flags, cache)?;
        self.flush(flush);
        Ok(())
    }

    /// [`unmap_deferred`](Self::unmap_deferred), flushed before it returns.
    ///
    /// # Errors
    ///
    /// As [`unmap_deferred`](Self::unmap_deferred).
    fn unmap(&self, vaddr: VirtAddr, len: usize) -> PagingResult<()> {
        let flush = self.unmap_deferred(vaddr, len)?;
        self.flush(flush);
        Ok(())
    }

    /// [`clear_deferred`](Self::clear_deferred), flushed before it returns.
    ///
    /// # Errors
    ///
    /// As [`clear_deferred`](Self::clear_deferred).
    fn clear(&self, vaddr: VirtAddr, len: usize) -> PagingResult<usize> {
        let (count, flush) = self.clear_deferred(vaddr, len)?;
        self.flush(flush);
        Ok(count)
    }

    /// [`protect_deferred`](Self::protect_deferred), flushed before it returns.
    ///
    /// # Errors
    ///
    /// As [`protect_deferred`](Self::protect_deferred).
    fn protect(&self, vaddr: VirtAddr, len: usize, flags: MMUFlags) -> PagingResult<usize> {
        let (count, flush) = self.protect_deferred(vaddr, len, flags)?;
        self.flush(flush);
        Ok(count)
    }

    /// What `vaddr` translates to.
    ///
    /// # Errors
    ///
    /// - [`PagingError::OutOfRange`]: `vaddr` lies outside the address space.
    /// - [`PagingError::NotMapped`]: no translation covers `vaddr`.
    fn query(&self, vaddr: VirtAddr) -> PagingResult<Translation>;

    /// Registers the receiver of this address space's page faults, replacing any
    /// earlier one; `None` removes it. The handler is held weakly so that it can own
    /// the page table without a cycle. Backends whose faults reach the kernel through
    /// the embedder's trap handler (bare metal) keep it only for
    /// [`fault_handler`](Self::fault_handler).
    fn set_fault_handler(&self, handler: Option<Weak<dyn PageFaultHandler>>);

    /// The registered fault handler, if any is registered and still alive.
    fn fault_handler(&self) -> Option<alloc::sync::Arc<dyn PageFaultHandler>>;

    /// The physical address of the top-level table, for a backend whose tables a
    /// CPU walks (what CR3 holds while this space runs); `None` for emulation.
    fn root(&self) -> Option<PhysAddr> {
        None
    }

    /// Makes this address space the one that CPU number `cpu` (the caller's own)
    /// translates through, and records that the CPU has it loaded, so that TLB
    /// shootdowns for this space reach it. The caller must run in the kernel half,
    /// which every address space of one machine shares. Emulated backends, whose
    /// spaces need no loading, do nothing.
    fn activate(&self, cpu: usize) {
        let _ = cpu;
    }

    /// Records that CPU `cpu` has switched to another address space, so that
    /// shootdowns for this one skip it. Emulated backends do nothing.
    fn deactivate(&self, cpu: usize) {
        let _ = cpu;
    }
}

/// Physical memory: the frame allocator and access to the bytes in frames.
///
/// Frames are [`PAGE_SIZE`] bytes. Freshly allocated frames hold unspecified bytes;
/// callers zero them when they need zeros.
pub trait PhysMem: Send + Sync {
    /// Allocates one frame.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: no free frame.
    fn alloc_frame(&self) -> PagingResult<PhysAddr>;

    /// Allocates `count` physically contiguous frames whose first address is a
    /// multiple of `2^align_log2` (values below [`PAGE_SHIFT`] mean page alignment).
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`]: `count == 0`.
    /// - [`PagingError::NoMemory`]: no free run of that length and alignment.
    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr>;

    /// Returns the `count` frames starting at `paddr` to the allocator. A run freed
    /// here need not have been allocated as one run, and may be part of a larger run.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`]: `paddr` unaligned or `count == 0`.
    /// - [`PagingError::OutOfRange`]: the run lies outside physical memory.
    /// - [`PagingError::NotMapped`]: some frame of the run is already free (a double
    ///   free); nothing is freed.
    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()>;

    /// Copies `buf.len()` bytes from physical memory at `paddr` into `buf`.
    ///
    /// # Errors
    ///
    /// [`PagingError::OutOfRange`]: the bytes lie outside physical memory.
    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()>;

    /// Copies `buf` into physical memory at `paddr`.
    ///
    /// # Errors
    ///
    /// [`PagingError::OutOfRange`]: the bytes lie outside physical memory.
    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()>;

    /// Sets `len` bytes at `paddr` to zero.
    ///
    /// # Errors
    ///
    /// [`PagingError::OutOfRange`]: the bytes lie outside physical memory.
    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()>;

    /// Copies `len` bytes from `src` to `dst` (the ranges may not overlap).
    ///
    /// # Errors
    ///
    /// [`PagingError::OutOfRange`]: either range lies outside physical memory.
    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()>;

    /// How many frames are free now.
    fn free_count(&self) -> usize;

    /// How many frames the allocator manages in all.
    fn total_count(&self) -> usize;

    /// The machine's device memory: a page-aligned physical range `(paddr, len)` that
    /// the frame allocator never owns, reachable through [`read`](Self::read) and
    /// mappable like RAM. Physical VMOs may only cover it. `None` (the default):
    /// the machine exposes no device memory.
    fn device_memory(&self) -> Option<(PhysAddr, usize)> {
        None
    }
}

/// A machine: physical memory plus the ability to create address spaces.
///
/// The object layer holds one as `Arc<dyn Hal>`; each process asks it for its own
/// page table.
pub trait Hal: PhysMem {
    /// Creates a new, empty user address space.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: no memory (frames for the top-level table, or host
    /// address space for the window) for another address space.
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>>;

    /// Entropy for the random placement of regions and mappings (Zircon's ASLR):
    /// the object layer seeds each new address space's generator from this value
    /// and the address space's id. The default, 0, makes placements depend on the
    /// id alone (reproducible, and guessable); an embedder that wants unguessable
    /// placements returns a fresh random value from a hardware source on each call.
    fn placement_seed(&self) -> u64 {
        0
    }

    /// The monotonic clock, in nanoseconds since an arbitrary start: the time base
    /// of every deadline the object layer is given (`zx_clock_get_monotonic`).
    ///
    /// The default is for a platform without a timer: a machine-wide counter that
    /// advances by one microsecond at each reading, so that a finite deadline still
    /// passes after a bounded number of readings. An embedder with a timer returns
    /// its time.
    fn monotonic_ns(&self) -> i64 {
        static READINGS: AtomicI64 = AtomicI64::new(0);
        READINGS.fetch_add(1_000, Ordering::Relaxed) + 1_000
    }

    /// Blocks the calling thread while `word` holds `expected`, until
    /// [`wake_word`](Self::wake_word) is called on it or the monotonic clock
    /// reaches `deadline_ns` ([`DEADLINE_INFINITE`] never passes). It may also
    /// return early for no reason, so a caller checks its condition again after
    /// each return; [`WaitOutcome::TimedOut`] is returned only once the deadline
    /// has passed. The caller must hold no kernel lock.
    ///
    /// The default spins, reading `word` and the clock; an embedder with a
    /// scheduler puts the thread to sleep on the word's address (as a futex does).
    fn wait_word(&self, word: &AtomicU32, expected: u32, deadline_ns: i64) -> WaitOutcome {
        loop {
            if word.load(Ordering::Acquire) != expected {
                return WaitOutcome::Woken;
            }
            if deadline_ns != DEADLINE_INFINITE && self.monotonic_ns() >= deadline_ns {
                return WaitOutcome::TimedOut;
            }
            core::hint::spin_loop();
        }
    }

    /// Wakes every thread blocked in [`wait_word`](Self::wait_word) on `word`. The
    /// caller changes `word` first (with release ordering), so that a thread about
    /// to wait sees the change and does not sleep. The default does nothing: the
    /// default `wait_word` spins and sees the change by itself.
    fn wake_word(&self, word: &AtomicU32) {
        let _ = word;
    }

    /// The machine's reclaimer: what the object layer asks to free frames when a
    /// commit finds none (zircon-object's `Reclaimer`, whose type this crate does
    /// not know, hence `Any`). One per machine, so that VMOs on one machine never
    /// give up pages for another. The default, `None`: nothing is reclaimed, and a
    /// commit without a free frame fails.
    fn reclaimer(&self) -> Option<&(dyn Any + Send + Sync)> {
        None
    }
}

/// The deadline that never passes (`ZX_TIME_INFINITE`), for [`Hal::wait_word`].
pub const DEADLINE_INFINITE: i64 = i64::MAX;

/// How a [`Hal::wait_word`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The word changed, a wake came, or the wait ended early for no reason: the
    /// caller looks at its condition again.
    Woken,
    /// The deadline passed.
    TimedOut,
}

/// Writes the deferred forms of [`PageTable`]'s changes (`map_deferred`,
/// `unmap_deferred`, `clear_deferred`, `protect_deferred`) and `flush` for a
/// backend whose changes take effect at once, so that it owes no invalidation:
/// each deferred form calls the backend's own `map`, `unmap`, `clear` or `protect`
/// (which the backend writes) and returns an empty [`TlbFlush`]; `flush` checks,
/// in debug builds, that the token it is given is empty. Use it inside the
/// backend's `impl PageTable` block.
#[macro_export]
macro_rules! immediate_page_table_changes {
    () => {
        fn map_deferred(
            &self,
            vaddr: $crate::VirtAddr,
            paddr: $crate::PhysAddr,
            len: usize,
            flags: $crate::MMUFlags,
            cache: $crate::CachePolicy,
        ) -> $crate::PagingResult<$crate::TlbFlush> {
            self.map(vaddr, paddr, len, flags, cache)?;
            Ok($crate::TlbFlush::new())
        }

        fn unmap_deferred(
            &self,
            vaddr: $crate::VirtAddr,
            len: usize,
        ) -> $crate::PagingResult<$crate::TlbFlush> {
            self.unmap(vaddr, len)?;
            Ok($crate::TlbFlush::new())
        }

        fn clear_deferred(
            &self,
            vaddr: $crate::VirtAddr,
            len: usize,
        ) -> $crate::PagingResult<(usize, $crate::TlbFlush)> {
            Ok((self.clear(vaddr, len)?, $crate::TlbFlush::new()))
        }

        fn protect_deferred(
            &self,
            vaddr: $crate::VirtAddr,
            len: usize,
            flags: $crate::MMUFlags,
        ) -> $crate::PagingResult<(usize, $crate::TlbFlush)> {
            Ok((self.protect(vaddr, len, flags)?, $crate::TlbFlush::new()))
        }

        fn flush(&self, flush: $crate::TlbFlush) {
            debug_assert!(flush.is_empty(), "this backend owes no invalidations");
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_works_and_detects_overflow() {
        assert_eq!(page_round_up(0), Some(0));
        assert_eq!(page_round_up(1), Some(PAGE_SIZE));
        assert_eq!(page_round_up(PAGE_SIZE), Some(PAGE_SIZE));
        assert_eq!(page_round_up(usize::MAX), None);
        assert_eq!(page_round_up(usize::MAX - PAGE_SIZE + 2), None);
        assert_eq!(page_round_down(PAGE_SIZE + 5), PAGE_SIZE);
        assert!(is_page_aligned(0));
        assert!(!is_page_aligned(12));
    }

    #[test]
    fn page_sizes_and_policies_have_hardware_values() {
        assert_eq!(PageSize::Size4K.bytes(), 4096);
        assert_eq!(PageSize::Size2M.bytes(), 2 << 20);
        assert_eq!(PageSize::Size1G.bytes(), 1 << 30);
        assert_eq!(CachePolicy::from_raw(3), Some(CachePolicy::WriteCombining));
        assert_eq!(CachePolicy::from_raw(4), None);
        assert_eq!(MMUFlags::READ.bits(), 1);
        assert_eq!(MMUFlags::EXECUTE.bits(), 4);
    }

    #[test]
    fn flush_tokens_merge_and_turn_into_a_full_flush_past_the_limit() {
        let mut a = TlbFlush::new();
        assert!(a.is_empty());
        a.add_page(0x1000);
        let mut b = TlbFlush::new();
        b.add_page(0x2000);
        b.add_freed_table(0x9000);
        a.merge(b);
        assert_eq!(a.pages(), &[0x1000, 0x2000]);
        assert_eq!(a.freed_tables(), &[0x9000]);
        for i in 0..TLB_FLUSH_PAGE_LIMIT {
            a.add_page(0x10_0000 + i * PAGE_SIZE);
        }
        assert!(a.is_full_flush());
        assert!(a.pages().is_empty());
        assert_eq!(a.take_freed_tables(), alloc::vec![0x9000]);
        assert!(!a.is_empty(), "a full flush is still owed");
    }
}
