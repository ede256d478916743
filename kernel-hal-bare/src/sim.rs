//! A simulated machine for host tests: RAM is a host buffer, and a software MMU
//! with a TLB walks the real page tables.
//!
//! - [`SimRam`] is a zeroed, page-aligned host buffer standing in for physical
//!   memory `[0, bytes)`; its [`window`](SimRam::window) points at it.
//! - [`SimTlb`] is a [`TlbShootdown`] hook that is also a software TLB: a
//!   translation is cached the first time [`SimMachine`] uses it and dropped only by
//!   the flushes the page-table code issues, so a missing flush shows up as a stale
//!   translation. Kernel-half translations are cached once for all address spaces
//!   (as global pages would be) and dropped by a flush in any of them.
//! - [`SimMachine`] ties RAM, TLB and a [`BareHal`] together and reads and writes
//!   *virtual* addresses of an address space through the TLB, as a CPU would.
//!
//! [`BareHal::new_simulated`] is the short way to a `Hal` over simulated RAM, for
//! tests of other crates that only need the trait. Nothing here needs `std`; it is
//! compiled on every target and costs nothing unless used.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kernel_hal::{MMUFlags, PhysAddr, PhysMem, VirtAddr, PAGE_SIZE};
use x86_64::structures::paging::PageTableFlags as F;

use crate::flush::TlbShootdown;
use crate::hal::BareHal;
use crate::mem::BareMem;
use crate::table::X86PageTable;
use crate::window::PhysWindow;

/// A zeroed, page-aligned host buffer that stands in for physical memory.
///
/// The buffer is allocated with the allocator's zeroing path at its natural
/// alignment (so a large one comes straight from the host's lazily zeroed pages)
/// and one spare page, and used from its first page boundary on: the host commits
/// memory only when it is touched, so a machine with gigabytes of "RAM" costs
/// little until used.
#[derive(Debug)]
pub struct SimRam {
    allocation: NonNull<u8>,
    base: usize,
    bytes: usize,
}

// SAFETY: `SimRam` owns its buffer like a `Box<[u8]>`; all access to the bytes goes
// through windows, whose users follow the page-table code's own exclusion rules.
unsafe impl Send for SimRam {}
// SAFETY: as above; `&SimRam` gives out nothing but the buffer's address.
unsafe impl Sync for SimRam {}

impl SimRam {
    /// `bytes` (rounded up to a page) of zeroed simulated RAM.
    ///
    /// # Panics
    ///
    /// If `bytes` is zero or the host cannot allocate the buffer.
    pub fn new(bytes: usize) -> SimRam {
        let bytes = kernel_hal::page_round_up(bytes).expect("simulated RAM size overflows");
        assert!(bytes > 0, "simulated RAM must not be empty");
        let layout = Self::layout(bytes);
        // SAFETY: the layout has a non-zero size.
        let allocation = NonNull::new(unsafe { alloc_zeroed(layout) })
            .expect("host out of memory for simulated RAM");
        let base = kernel_hal::page_round_up(allocation.as_ptr() as usize)
            .expect("allocation at the top of memory");
        SimRam {
            allocation,
            base,
            bytes,
        }
    }

    fn layout(bytes: usize) -> Layout {
        let size = bytes
            .checked_add(PAGE_SIZE)
            .expect("simulated RAM size overflows");
        Layout::from_size_align(size, 16).expect("simulated RAM size too large")
    }

    /// The size of the simulated physical memory in bytes.
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// Always false: simulated RAM is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The window onto this RAM: physical `[0, len)` at the buffer.
    ///
    /// # Safety
    ///
    /// The window is a plain address: it must not be used once this RAM is dropped
    /// (a [`BareMem`] built by [`SimMachine`] keeps the RAM alive for its own copy),
    /// and whoever uses it takes on [`PhysWindow::new`]'s contract.
    ///
    /// ```compile_fail,E0133
    /// // A window that outlives its RAM can no longer be had without `unsafe`.
    /// let window = kernel_hal_bare::sim::SimRam::new(1 << 20).window();
    /// ```
    pub unsafe fn window(&self) -> PhysWindow {
        // SAFETY: `[base, base + bytes)` lies inside the allocation (which has a spare
        // page for the rounding), is page-aligned, readable and writable while `self`
        // lives, which the caller promises to respect; frames are handed out only by
        // the allocator built over it.
        unsafe { PhysWindow::new(self.base, self.bytes) }
    }
}

impl Drop for SimRam {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this very layout, and freed only here.
        unsafe { dealloc(self.allocation.as_ptr(), Self::layout(self.bytes)) };
    }
}

/// One cached translation: where the page starts in physical memory and what the
/// walk allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TlbEntry {
    frame: PhysAddr,
    writable: bool,
    user: bool,
    executable: bool,
}

/// How many frames a simulated machine sets aside, above its RAM, for the kernel
/// space's top-level and level-3 tables.
pub const KERNEL_TABLE_FRAMES: usize = 257;

/// The key root of kernel-half translations, shared by all address spaces.
const GLOBAL: PhysAddr = PhysAddr::MAX;
/// The page sizes a cached translation can have, as `log2`.
const SHIFTS: [u32; 3] = [12, 21, 30];

/// A software TLB and the [`TlbShootdown`] hook that invalidates it.
///
/// Entries are keyed by address space, page size and page base, like a real TLB's
/// entries for pages of each size. See the [module documentation](self).
#[derive(Debug, Default)]
pub struct SimTlb {
    entries: spin::Mutex<BTreeMap<(PhysAddr, u32, VirtAddr), TlbEntry>>,
    withhold: AtomicBool,
    page_flushes: AtomicUsize,
    full_flushes: AtomicUsize,
    shootdowns: AtomicUsize,
}

impl SimTlb {
    /// An empty TLB.
    pub fn new() -> SimTlb {
        SimTlb::default()
    }

    /// Makes the TLB ignore (`true`) or obey (`false`) the flushes it is sent, to
    /// show what a missing flush does. Ignored flushes are still counted.
    pub fn withhold_flushes(&self, withhold: bool) {
        self.withhold.store(withhold, Ordering::SeqCst);
    }

    /// How many single-address invalidations have been received.
    pub fn page_flushes(&self) -> usize {
        self.page_flushes.load(Ordering::SeqCst)
    }

    /// How many full flushes have been received.
    pub fn full_flushes(&self) -> usize {
        self.full_flushes.load(Ordering::SeqCst)
    }

    /// How many times the hook has been called (one shootdown per call of either
    /// method, however many addresses it names).
    pub fn shootdowns(&self) -> usize {
        self.shootdowns.load(Ordering::SeqCst)
    }

    /// How many translations are cached.
    pub fn cached(&self) -> usize {
        self.entries.lock().len()
    }

    fn key_root(root: PhysAddr, vaddr: VirtAddr) -> PhysAddr {
        if vaddr >= crate::KERNEL_BASE {
            GLOBAL
        } else {
            root
        }
    }

    fn lookup(&self, root: PhysAddr, vaddr: VirtAddr) -> Option<(u32, TlbEntry)> {
        let entries = self.entries.lock();
        let root = Self::key_root(root, vaddr);
        SHIFTS.iter().find_map(|&shift| {
            entries
                .get(&(root, shift, vaddr >> shift << shift))
                .map(|e| (shift, *e))
        })
    }

    fn insert(&self, root: PhysAddr, vaddr: VirtAddr, shift: u32, entry: TlbEntry) {
        let root = Self::key_root(root, vaddr);
        self.entries
            .lock()
            .insert((root, shift, vaddr >> shift << shift), entry);
    }

    fn drop_address(&self, root: PhysAddr, vaddr: VirtAddr) {
        let root = Self::key_root(root, vaddr);
        let mut entries = self.entries.lock();
        for shift in SHIFTS {
            entries.remove(&(root, shift, vaddr >> shift << shift));
        }
    }
}

impl TlbShootdown for SimTlb {
    fn flush_pages(&self, root: PhysAddr, addrs: &[VirtAddr]) {
        self.shootdowns.fetch_add(1, Ordering::SeqCst);
        self.page_flushes.fetch_add(addrs.len(), Ordering::SeqCst);
        if self.withhold.load(Ordering::SeqCst) {
            return;
        }
        for &addr in addrs {
            self.drop_address(root, addr);
        }
    }

    fn flush_all(&self, root: PhysAddr) {
        self.shootdowns.fetch_add(1, Ordering::SeqCst);
        self.full_flushes.fetch_add(1, Ordering::SeqCst);
        if self.withhold.load(Ordering::SeqCst) {
            return;
        }
        self.entries
            .lock()
            .retain(|&(key_root, _, _), _| key_root != root && key_root != GLOBAL);
    }
}

/// Why a simulated access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimFault {
    /// No present translation covers the address.
    NotPresent(VirtAddr),
    /// A translation exists but does not allow the access.
    Protection(VirtAddr),
}

/// A simulated machine: [`SimRam`], a [`SimTlb`] and a [`BareHal`] over them, plus a
/// software MMU that reads and writes virtual addresses through the TLB.
pub struct SimMachine {
    ram: Arc<SimRam>,
    tlb: Arc<SimTlb>,
    hal: Arc<BareHal>,
}

impl core::fmt::Debug for SimMachine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimMachine")
            .field("ram", &self.ram.len())
            .field("hal", &self.hal)
            .finish()
    }
}

impl SimMachine {
    /// A machine with `bytes` of simulated RAM, all of it usable except the first
    /// frame (so physical address 0 is never handed out, as on real machines).
    ///
    /// The kernel space's tables (257 frames) live just above `bytes`, outside the
    /// frame allocator, so a fresh machine has every frame free:
    /// `free_count() == total_count()`, and stays so once every object is dropped.
    ///
    /// # Panics
    ///
    /// If the host cannot allocate the RAM.
    pub fn new(bytes: usize) -> SimMachine {
        SimMachine::with_memory_map(bytes, &[(PAGE_SIZE, bytes)])
    }

    /// A machine with `bytes` of simulated RAM of which only the physical byte
    /// ranges `usable` are given to the frame allocator, as a bootloader's memory map
    /// would; the rest is still reachable (and mappable) as physical memory. Tests
    /// that need large physical addresses but few frames use it to keep the
    /// allocator small. As with [`new`](Self::new), the kernel space's tables lie
    /// in [`KERNEL_TABLE_FRAMES`] extra frames from `bytes` on.
    ///
    /// # Panics
    ///
    /// As [`new`](Self::new).
    pub fn with_memory_map(bytes: usize, usable: &[(PhysAddr, PhysAddr)]) -> SimMachine {
        let bytes = kernel_hal::page_round_up(bytes).expect("simulated RAM size overflows");
        let tables = KERNEL_TABLE_FRAMES * PAGE_SIZE;
        let ram = Arc::new(SimRam::new(bytes + tables));
        let tlb = Arc::new(SimTlb::new());
        let usable: alloc::vec::Vec<_> = usable
            .iter()
            .map(|&(start, end)| (start, end.min(bytes)))
            .collect();
        // SAFETY: the simulated RAM is used by nothing but this machine and lives as
        // long as it (`mem` keeps it alive); the two allocators manage disjoint parts
        // of it; the kernel space's tables come from `table_mem`, whose frames the
        // table never frees, and its later tables from `mem` (see `from_parts`).
        let (mem, kernel) = unsafe {
            let window = ram.window();
            let table_mem = BareMem::new(window, &[(bytes, bytes + tables)]);
            let kernel = X86PageTable::new_kernel(window, &table_mem)
                .expect("the reserved frames hold the kernel space");
            (BareMem::new(window, &usable), kernel)
        };
        let mem = Arc::new(mem.with_backing(ram.clone()));
        let hal = BareHal::from_parts(mem, tlb.clone(), kernel);
        SimMachine {
            ram,
            tlb,
            hal: Arc::new(hal),
        }
    }

    /// The machine's HAL.
    pub fn hal(&self) -> &Arc<BareHal> {
        &self.hal
    }

    /// The software TLB (also the machine's flush hook).
    pub fn tlb(&self) -> &Arc<SimTlb> {
        &self.tlb
    }

    /// The simulated RAM.
    pub fn ram(&self) -> &Arc<SimRam> {
        &self.ram
    }

    /// Translates `vaddr` in the address space rooted at `root` for an `access`
    /// (READ, WRITE or EXECUTE, plus USER for a user-mode access) as the CPU would:
    /// from the TLB if it holds the page, else by walking the tables and caching the
    /// result. A cached translation that forbids the access is dropped and the walk
    /// retried, as the hardware does before it reports a fault.
    ///
    /// # Errors
    ///
    /// The [`SimFault`] the access raises.
    pub fn translate(
        &self,
        root: PhysAddr,
        vaddr: VirtAddr,
        access: MMUFlags,
    ) -> Result<PhysAddr, SimFault> {
        if let Some((shift, entry)) = self.tlb.lookup(root, vaddr) {
            if allows(&entry, access) {
                return Ok(entry.frame + (vaddr & ((1 << shift) - 1)));
            }
            self.tlb.drop_address(root, vaddr);
        }
        let (shift, entry) = self.walk(root, vaddr).ok_or(SimFault::NotPresent(vaddr))?;
        self.tlb.insert(root, vaddr, shift, entry);
        if allows(&entry, access) {
            Ok(entry.frame + (vaddr & ((1 << shift) - 1)))
        } else {
            Err(SimFault::Protection(vaddr))
        }
    }

    /// Reads `buf.len()` bytes at `vaddr` as a user-mode (`user`) or kernel access.
    ///
    /// # Errors
    ///
    /// The [`SimFault`] of the first page that faults; bytes before it were read.
    pub fn read(
        &self,
        root: PhysAddr,
        vaddr: VirtAddr,
        buf: &mut [u8],
        user: bool,
    ) -> Result<(), SimFault> {
        let access = if user {
            MMUFlags::READ | MMUFlags::USER
        } else {
            MMUFlags::READ
        };
        let mut done = 0;
        while done < buf.len() {
            let va = vaddr + done;
            let n = (PAGE_SIZE - va % PAGE_SIZE).min(buf.len() - done);
            let pa = self.translate(root, va, access)?;
            self.hal
                .mem()
                .read(pa, &mut buf[done..done + n])
                .map_err(|_| SimFault::NotPresent(va))?;
            done += n;
        }
        Ok(())
    }

    // `read` and `write` walk pages alike but differ in access kind, buffer mutability
    // and the memory call they make; one generic walker would need a closure per page
    // and read worse than the two loops.
    /// Writes `buf` at `vaddr` as a user-mode (`user`) or kernel access.
    ///
    /// # Errors
    ///
    /// The [`SimFault`] of the first page that faults; bytes before it were written.
    pub fn write(
        &self,
        root: PhysAddr,
        vaddr: VirtAddr,
        buf: &[u8],
        user: bool,
    ) -> Result<(), SimFault> {
        let access = if user {
            MMUFlags::WRITE | MMUFlags::USER
        } else {
            MMUFlags::WRITE
        };
        let mut done = 0;
        while done < buf.len() {
            let va = vaddr + done;
            let n = (PAGE_SIZE - va % PAGE_SIZE).min(buf.len() - done);
            let pa = self.translate(root, va, access)?;
            self.hal
                .mem()
                .write(pa, &buf[done..done + n])
                .map_err(|_| SimFault::NotPresent(va))?;
            done += n;
        }
        Ok(())
    }

    /// The hardware's walk: follows present entries from the root, combining their
    /// rights (writable and user only if every level says so, executable unless some
    /// level says NX). Written apart from the page-table code on purpose.
    fn walk(&self, root: PhysAddr, vaddr: VirtAddr) -> Option<(u32, TlbEntry)> {
        let mem = self.hal.mem();
        let mut table = root;
        let mut rights = TlbEntry {
            frame: 0,
            writable: true,
            user: true,
            executable: true,
        };
        for shift in [39u32, 30, 21, 12] {
            let mut raw = [0u8; 8];
            let slot = (vaddr >> shift) & 511;
            mem.read(table + slot * 8, &mut raw).ok()?;
            let bits = F::from_bits_retain(u64::from_le_bytes(raw));
            if !bits.contains(F::PRESENT) {
                return None;
            }
            rights.writable &= bits.contains(F::WRITABLE);
            rights.user &= bits.contains(F::USER_ACCESSIBLE);
            rights.executable &= !bits.contains(F::NO_EXECUTE);
            let addr = (u64::from_le_bytes(raw) & 0x000f_ffff_ffff_f000) as PhysAddr;
            if shift == 12 || (shift < 39 && bits.contains(F::HUGE_PAGE)) {
                rights.frame = addr & !((1 << shift) - 1);
                return Some((shift, rights));
            }
            table = addr;
        }
        None
    }
}

fn allows(entry: &TlbEntry, access: MMUFlags) -> bool {
    (!access.contains(MMUFlags::WRITE) || entry.writable)
        && (!access.contains(MMUFlags::USER) || entry.user)
        && (!access.contains(MMUFlags::EXECUTE) || entry.executable)
}

impl BareHal {
    /// A complete HAL over `bytes` of simulated RAM (a host buffer), with a software
    /// TLB as its flush hook: what other crates' tests use to run over this backend.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kernel_hal::{Hal, MMUFlags, CachePolicy};
    ///
    /// let hal: Arc<dyn Hal> = Arc::new(kernel_hal_bare::BareHal::new_simulated(64 << 20));
    /// let space = hal.new_address_space().unwrap();
    /// let frame = hal.alloc_frame().unwrap();
    /// let (base, _) = space.user_range();
    /// space.map(base, frame, 4096, MMUFlags::READ | MMUFlags::USER, CachePolicy::Cached).unwrap();
    /// assert_eq!(space.query(base + 8).unwrap().paddr, frame + 8);
    /// ```
    ///
    /// As with [`SimMachine::new`], the kernel space's tables lie outside the
    /// allocator, so `free_count() == total_count()` until something is allocated:
    /// a test can check that dropping its objects gave every frame back. Use
    /// [`SimMachine`] instead to also read and write virtual addresses through the
    /// TLB.
    ///
    /// # Panics
    ///
    /// As [`SimMachine::new`].
    pub fn new_simulated(bytes: usize) -> BareHal {
        let machine = SimMachine::new(bytes);
        Arc::try_unwrap(machine.hal)
            .unwrap_or_else(|_| unreachable!("the machine holds the only reference"))
    }
}
