//! One address space's x86_64 4-level page table, written in the hardware's format.
//!
//! # Invariants
//!
//! - Every frame of the tree below the root was allocated by this tree (from the
//!   `PhysMem` passed to its operations) and is reachable from exactly one entry,
//!   except the kernel half of a user space's root, whose entries point into the
//!   kernel's tree and are never followed by user-space operations.
//! - An entry is in use exactly when it is non-zero. An in-use entry at level 2 or 3
//!   with `HUGE_PAGE` set is a leaf (2 MiB or 1 GiB); any other in-use entry above
//!   level 1 points at a lower table and is present.
//! - No lower table is empty when an operation returns (tables emptied by an
//!   operation are unlinked and freed after its flush), except the permanent
//!   level-3 tables of a kernel space, which user spaces share.
//!
//! Internally addresses are *linear*: the low 48 bits of a virtual address, so a
//! range's end (up to `2^48`) never overflows; [`canonical`] turns them back.

use kernel_hal::{
    is_page_aligned, CachePolicy, MMUFlags, PageSize, PagingError, PagingResult, PhysAddr, PhysMem,
    Translation, VirtAddr, PAGE_SIZE,
};
use x86_64::structures::paging::PageTableFlags as F;
use x86_64::PhysAddr as HwPhysAddr;

use crate::entry::{cache_bits, cache_policy, mmu_flags, permission_bits, table_bits};
use crate::flush::Flush;
use crate::window::PhysWindow;

mod split;
mod walk;

use walk::MapRun;

/// One past the highest linear address.
const LINEAR_END: u64 = 1 << 48;
/// The first linear address of the kernel (upper) half.
const KERNEL_HALF: u64 = 1 << 47;
/// The first virtual address of the kernel half.
pub const KERNEL_BASE: VirtAddr = 0xffff_8000_0000_0000;
/// The lowest user address: the first 2 MiB stay unmapped so null-pointer
/// dereferences (with offsets) always fault.
pub const USER_BASE: VirtAddr = 0x20_0000;
/// One past the highest user address: the last page below `2^47` is left out, so no
/// user mapping ends at the canonical boundary.
pub const USER_END: VirtAddr = (1 << 47) - PAGE_SIZE;
/// One past the highest physical address x86_64 can express (`MAXPHYADDR` = 52).
const PHYS_LIMIT: usize = 1 << 52;

/// Bytes covered by one entry of a table at `level` (1 = page table, 4 = PML4).
const fn entry_bytes(level: u32) -> u64 {
    1 << (12 + 9 * (level - 1))
}

/// The index into a table at `level` of linear address `la`.
const fn index(la: u64, level: u32) -> usize {
    ((la >> (12 + 9 * (level - 1))) & 511) as usize
}

/// The linear address of a virtual address.
const fn linear(va: VirtAddr) -> u64 {
    va as u64 & (LINEAR_END - 1)
}

/// The canonical virtual address of a linear address (bit 47 sign-extended).
pub const fn canonical(la: u64) -> VirtAddr {
    (((la << 16) as i64) >> 16) as VirtAddr
}

/// Whether an in-use entry at `level` is a leaf.
fn is_leaf(bits: F, level: u32) -> bool {
    level == 1 || bits.contains(F::HUGE_PAGE)
}

/// Which half of the address space a page table manages, and so who owns the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A user space: lower half, owns its root and every table below it.
    User,
    /// The kernel space: upper half; its level-3 tables are permanent and shared
    /// with every user space, and the root belongs to the embedder.
    Kernel,
}

/// Allocates a frame for a page table, refusing (and returning) frames the window
/// cannot reach.
fn alloc_in_window<M: PhysMem + ?Sized>(mem: &M, window: &PhysWindow) -> PagingResult<PhysAddr> {
    let frame = mem.alloc_frame()?;
    if is_page_aligned(frame) && window.contains(frame, PAGE_SIZE) {
        Ok(frame)
    } else {
        let _ = mem.free_frames(frame, 1);
        Err(PagingError::NoMemory)
    }
}

/// An x86_64 page table: a PML4 tree in physical memory reached through a
/// [`PhysWindow`].
///
/// This is the inherent, lock-free API: every mutating method takes `&mut self`,
/// the frame allocator to use for page tables, and a [`Flush`] batch to record the
/// invalidations it owes; the caller applies the batch. [`crate::BarePageTable`]
/// wraps it in a lock and implements [`kernel_hal::PageTable`].
///
/// Argument checks come first and a failing call changes nothing (and records
/// nothing that needs flushing, except after a `map` that ran out of page-table
/// memory part-way and was rolled back).
#[derive(Debug)]
pub struct X86PageTable {
    root: PhysAddr,
    window: PhysWindow,
    kind: Kind,
    /// Whether 1 GiB entries may be used (CPUID `pdpe1gb`).
    huge_1g: bool,
}

impl X86PageTable {
    /// Creates the kernel half of a machine: a fresh top-level table whose 256
    /// upper-half entries all point at (empty) level-3 tables, so that every later
    /// kernel mapping is seen by every user space created from it.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: fewer than 257 free frames.
    ///
    /// # Safety
    ///
    /// The table reaches its frames through `window` and takes frames from `mem`
    /// (and from whatever `mem` is passed to its methods later), without being able
    /// to check either. For as long as the table (or a user space made from it)
    /// lives, `window` must stay valid ([`PhysWindow::new`]'s contract), and every
    /// such `mem` must be one allocator whose frames lie inside `window`, are used
    /// by nothing else, and are handed out at most once until freed. A `PhysMem`
    /// that gave a frame out twice would make two tables alias.
    ///
    /// ```compile_fail,E0133
    /// # use kernel_hal_bare::{BareMem, PhysWindow, X86PageTable};
    /// # fn f(mem: &BareMem, window: PhysWindow) {
    /// // Any window with any allocator: only an `unsafe` block can vouch for them.
    /// let table = X86PageTable::new_kernel(window, mem);
    /// # }
    /// ```
    pub unsafe fn new_kernel<M: PhysMem + ?Sized>(
        window: PhysWindow,
        mem: &M,
    ) -> PagingResult<X86PageTable> {
        let root = alloc_in_window(mem, &window)?;
        window.zero_frame(root);
        let table = X86PageTable {
            root,
            window,
            kind: Kind::Kernel,
            huge_1g: true,
        };
        if let Err(e) = table.populate_kernel_half(mem) {
            let mut flush = Flush::new(root);
            let mut table = table;
            table.free_subtrees(256..512, &mut flush);
            flush.free_table(root, 0);
            // Nothing was ever loaded, so there is nothing to invalidate.
            flush.finish(&NoTlb, mem);
            return Err(e);
        }
        Ok(table)
    }

    /// Takes over an existing top-level table (for instance the one the embedder
    /// booted on) as the kernel space, filling every empty upper-half entry with a
    /// fresh level-3 table. Its lower half is left alone.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: no frames for the missing level-3 tables (the ones
    /// already added stay; the table remains valid).
    ///
    /// # Safety
    ///
    /// `root` must be a valid PML4 inside `window`, and its upper-half tables must be
    /// changed only through the returned value from now on. Lower tables the
    /// embedder built itself must not be unmapped through it unless they came from
    /// the same frame allocator (freeing them would hand them to the allocator).
    pub unsafe fn adopt_kernel<M: PhysMem + ?Sized>(
        window: PhysWindow,
        root: PhysAddr,
        mem: &M,
    ) -> PagingResult<X86PageTable> {
        let table = X86PageTable {
            root,
            window,
            kind: Kind::Kernel,
            huge_1g: true,
        };
        table.populate_kernel_half(mem)?;
        Ok(table)
    }

    /// Creates an empty user space whose kernel half shares `kernel`'s level-3 tables.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: no frame for the top-level table.
    ///
    /// # Safety
    ///
    /// As for [`new_kernel`](Self::new_kernel): `mem` (and every `mem` passed to the
    /// new table's methods) must be the allocator the kernel space was made with,
    /// and its window must outlive the new table.
    pub unsafe fn new_user<M: PhysMem + ?Sized>(
        kernel: &X86PageTable,
        mem: &M,
    ) -> PagingResult<X86PageTable> {
        let window = kernel.window;
        let root = alloc_in_window(mem, &window)?;
        window.zero_frame(root);
        // SAFETY: `kernel.root` and `root` are distinct page-table frames inside the
        // window; `&X86PageTable` keeps the kernel table from changing meanwhile and
        // the new root is ours alone.
        let (from, to) = unsafe { (window.table_ref(kernel.root), window.table(root)) };
        for i in 256..512 {
            to[i] = from[i].clone();
        }
        Ok(X86PageTable {
            root,
            window,
            kind: Kind::User,
            huge_1g: kernel.huge_1g,
        })
    }

    /// Forbids (or allows again) 1 GiB entries, for CPUs without `pdpe1gb`. User
    /// spaces inherit the setting of the kernel space they are created from.
    pub fn set_huge_1g(&mut self, allowed: bool) {
        self.huge_1g = allowed;
    }

    /// The physical address of the top-level table (what CR3 holds).
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// The window through which the tables are reached.
    pub fn window(&self) -> PhysWindow {
        self.window
    }

    /// The virtual range this table manages, as `(base, size)`: the user range for
    /// a user space, the upper half for the kernel space.
    pub fn range(&self) -> (VirtAddr, usize) {
        match self.kind {
            Kind::User => (USER_BASE, USER_END - USER_BASE),
            Kind::Kernel => (KERNEL_BASE, 1 << 47),
        }
    }

    fn populate_kernel_half<M: PhysMem + ?Sized>(&self, mem: &M) -> PagingResult<()> {
        for i in 256..512 {
            // SAFETY: the root is a page-table frame inside the window owned by this
            // table, and no other reference to it is live.
            let root = unsafe { self.window.table(self.root) };
            if root[i].is_unused() {
                let frame = alloc_in_window(mem, &self.window)?;
                self.window.zero_frame(frame);
                root[i].set_addr(HwPhysAddr::new(frame as u64), table_bits(false));
            }
        }
        Ok(())
    }

    /// Checks a range and returns it as linear `[start, end)`.
    fn check_range(&self, vaddr: VirtAddr, len: usize) -> PagingResult<(u64, u64)> {
        if !is_page_aligned(vaddr) || !is_page_aligned(len) || len == 0 {
            return Err(PagingError::NotAligned);
        }
        let last = vaddr.checked_add(len - 1).ok_or(PagingError::OutOfRange)?;
        let (base, size) = self.range();
        if vaddr < base || last > base + (size - 1) {
            return Err(PagingError::OutOfRange);
        }
        Ok((linear(vaddr), linear(last) + 1))
    }

    /// Maps the physically contiguous run at `paddr` at `[vaddr, vaddr + len)`,
    /// using 2 MiB and 1 GiB entries wherever the virtual range and the physical run
    /// are both aligned and long enough.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`]: `vaddr`, `paddr` or `len` unaligned, or `len == 0`.
    /// - [`PagingError::OutOfRange`]: the virtual range leaves [`range`](Self::range)
    ///   or wraps, or the physical run leaves the window.
    /// - [`PagingError::AlreadyMapped`]: some page of the range is in use.
    /// - [`PagingError::NoMemory`]: no frames for page tables; whatever was built is
    ///   rolled back (the batch then holds the invalidations for it).
    #[allow(clippy::too_many_arguments)]
    pub fn map<M: PhysMem + ?Sized>(
        &mut self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
        mem: &M,
        flush: &mut Flush,
    ) -> PagingResult<()> {
        debug_assert_eq!(flush.root(), self.root);
        let (start, end) = self.check_range(vaddr, len)?;
        if !is_page_aligned(paddr) {
            return Err(PagingError::NotAligned);
        }
        if !self.window.contains(paddr, len) || paddr + len > PHYS_LIMIT {
            return Err(PagingError::OutOfRange);
        }
        if self.count_in_use(self.root, 4, start, end) != 0 {
            return Err(PagingError::AlreadyMapped);
        }
        let leaf = permission_bits(flags) | cache_bits(cache);
        let map = MapRun {
            delta: (paddr as u64).wrapping_sub(start),
            leaf,
            mem,
        };
        match self.map_in(&map, self.root, 4, start, end, flush) {
            Ok(()) => Ok(()),
            Err(e) => {
                // The range was empty before, so clearing it removes exactly what this
                // call built, and prunes the tables it created.
                self.clear_in(self.root, 4, start, end, flush);
                Err(e)
            }
        }
    }

    /// Removes every translation in `[vaddr, vaddr + len)`, all of which must exist.
    /// Large entries that straddle the range's ends are split first.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`], [`PagingError::OutOfRange`]: as for [`map`](Self::map).
    /// - [`PagingError::NotMapped`]: some page of the range has no translation.
    /// - [`PagingError::NoMemory`]: no frames to split a straddling large entry.
    pub fn unmap<M: PhysMem + ?Sized>(
        &mut self,
        vaddr: VirtAddr,
        len: usize,
        mem: &M,
        flush: &mut Flush,
    ) -> PagingResult<()> {
        let (start, end) = self.check_range(vaddr, len)?;
        if self.count_in_use(self.root, 4, start, end) != (end - start) / PAGE_SIZE as u64 {
            return Err(PagingError::NotMapped);
        }
        self.split_boundaries(start, end, None, mem, flush)?;
        self.clear_in(self.root, 4, start, end, flush);
        Ok(())
    }

    /// Removes whatever translations exist in `[vaddr, vaddr + len)` and returns how
    /// many pages they covered. Large entries that straddle the range's ends are split
    /// first.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`], [`PagingError::OutOfRange`]: as for [`map`](Self::map).
    /// - [`PagingError::NoMemory`]: no frames to split a straddling large entry.
    pub fn clear<M: PhysMem + ?Sized>(
        &mut self,
        vaddr: VirtAddr,
        len: usize,
        mem: &M,
        flush: &mut Flush,
    ) -> PagingResult<usize> {
        let (start, end) = self.check_range(vaddr, len)?;
        self.split_boundaries(start, end, None, mem, flush)?;
        Ok(self.clear_in(self.root, 4, start, end, flush) as usize)
    }

    /// Sets the permissions of every translation in `[vaddr, vaddr + len)` to `flags`
    /// (frames and cache policy stay) and returns how many pages have a translation
    /// there. Large entries that straddle the range's ends are split first, unless
    /// they already have `flags`.
    ///
    /// # Errors
    ///
    /// - [`PagingError::NotAligned`], [`PagingError::OutOfRange`]: as for [`map`](Self::map).
    /// - [`PagingError::NoMemory`]: no frames to split a straddling large entry.
    // Same parameter list and range checks as `map` and `unmap`: the three entry points
    // of the table, each with its own walk.
    pub fn protect<M: PhysMem + ?Sized>(
        &mut self,
        vaddr: VirtAddr,
        len: usize,
        flags: MMUFlags,
        mem: &M,
        flush: &mut Flush,
    ) -> PagingResult<usize> {
        let (start, end) = self.check_range(vaddr, len)?;
        let perms = permission_bits(flags);
        self.split_boundaries(start, end, Some(perms), mem, flush)?;
        Ok(self.protect_in(self.root, 4, start, end, perms, flush) as usize)
    }

    /// What `vaddr` translates to.
    ///
    /// # Errors
    ///
    /// - [`PagingError::OutOfRange`]: `vaddr` lies outside [`range`](Self::range).
    /// - [`PagingError::NotMapped`]: no translation covers `vaddr`.
    pub fn query(&self, vaddr: VirtAddr) -> PagingResult<Translation> {
        let (base, size) = self.range();
        if vaddr < base || vaddr - base >= size {
            return Err(PagingError::OutOfRange);
        }
        let la = linear(vaddr);
        let mut table_pa = self.root;
        for level in (1..=4).rev() {
            // SAFETY: `table_pa` is a page-table frame of this tree inside the window;
            // `&self` keeps it from being changed while the reference lives.
            let entry = unsafe { self.window.table_ref(table_pa) }[index(la, level)].clone();
            if entry.is_unused() {
                return Err(PagingError::NotMapped);
            }
            let bits = entry.flags();
            if is_leaf(bits, level) {
                let size = entry_bytes(level);
                let base = entry.addr().as_u64() & !(size - 1);
                return Ok(Translation {
                    paddr: (base + (la & (size - 1))) as PhysAddr,
                    flags: mmu_flags(bits),
                    cache: cache_policy(bits),
                    page_size: match level {
                        1 => PageSize::Size4K,
                        2 => PageSize::Size2M,
                        _ => PageSize::Size1G,
                    },
                });
            }
            table_pa = entry.addr().as_u64() as PhysAddr;
        }
        unreachable!("a level-1 entry in use is always a leaf")
    }

    /// Tears the user space down: invalidates it through the batch and queues every
    /// table below the root, and the root itself, for freeing after the flush. The
    /// kernel half is shared and left alone. Does nothing for the kernel space, whose
    /// tables live as long as the machine.
    pub fn destroy(mut self, flush: &mut Flush) {
        self.release_tables(flush);
    }

    pub(crate) fn release_tables(&mut self, flush: &mut Flush) {
        if self.kind == Kind::User {
            self.free_subtrees(0..256, flush);
            flush.flush_everything();
            flush.free_table(self.root, 0);
            self.kind = Kind::Kernel; // nothing is left to free a second time
        }
    }

    /// Queues every table below the root entries `slots` for freeing.
    fn free_subtrees(&mut self, slots: core::ops::Range<usize>, flush: &mut Flush) {
        fn free_below(window: &PhysWindow, table_pa: PhysAddr, level: u32, flush: &mut Flush) {
            // SAFETY: a page-table frame of this tree, exclusively ours through `&mut`.
            let table = unsafe { window.table(table_pa) };
            for entry in table.iter_mut() {
                if level > 1 && !entry.is_unused() && !entry.flags().contains(F::HUGE_PAGE) {
                    let child = entry.addr().as_u64() as PhysAddr;
                    free_below(window, child, level - 1, flush);
                    flush.free_table(child, 0);
                }
            }
        }
        // SAFETY: the root frame of this tree, exclusively ours through `&mut self`.
        let root = unsafe { self.window.table(self.root) };
        for i in slots {
            if !root[i].is_unused() {
                let child = root[i].addr().as_u64() as PhysAddr;
                free_below(&self.window, child, 3, flush);
                flush.free_table(child, 0);
                root[i].set_unused();
            }
        }
    }

    /// Whether an emptied table below a table at `parent_level` may be freed: all
    /// but the kernel space's shared level-3 tables.
    fn may_free_child(&self, parent_level: u32) -> bool {
        !(parent_level == 4 && self.kind == Kind::Kernel)
    }
}

/// A hook for tables no CPU has ever loaded.
struct NoTlb;

impl crate::flush::TlbShootdown for NoTlb {
    fn flush_pages(&self, _root: PhysAddr, _addrs: &[VirtAddr]) {}
    fn flush_all(&self, _root: PhysAddr) {}
}
