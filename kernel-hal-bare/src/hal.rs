//! The `kernel-hal` traits over [`X86PageTable`] and [`BareMem`].

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};

use kernel_hal::{
    CachePolicy, Hal, MMUFlags, PageFaultHandler, PageTable, PagingResult, PhysAddr, PhysMem,
    TlbFlush, Translation, VirtAddr,
};

use core::sync::atomic::{fence, AtomicU64, Ordering};

use crate::flush::{CpuSet, Flush, TlbShootdown};
use crate::mem::BareMem;
use crate::table::X86PageTable;

/// One address space behind a lock, implementing [`kernel_hal::PageTable`]: a
/// deferred operation that succeeds returns what it owes as a [`TlbFlush`] token,
/// which [`PageTable::flush`] later sends through the machine's [`TlbShootdown`]
/// hook (one call per token) and then frees the page-table frames the changes
/// emptied; one that fails flushes what it owes before it returns.
///
/// Lock order: the table lock, then (briefly, inside) the frame allocator's lock.
/// Dropping a user space flushes it and frees all its page-table frames; the
/// embedder must have switched every CPU away from it first.
///
/// It keeps the set of CPUs that have it loaded ([`activate`](Self::activate) adds
/// one, [`deactivate`](Self::deactivate) removes it), and passes that set to the
/// hook with every flush, so a shootdown interrupts only those CPUs. The kernel
/// space is loaded everywhere: its flushes name every CPU.
pub struct BarePageTable {
    table: spin::Mutex<X86PageTable>,
    root: PhysAddr,
    /// The CPUs that have this space loaded; `u64::MAX` for the kernel space.
    cpus: AtomicU64,
    mem: Arc<BareMem>,
    tlb: Arc<dyn TlbShootdown>,
    fault_handler: spin::Mutex<Option<Weak<dyn PageFaultHandler>>>,
}

impl core::fmt::Debug for BarePageTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BarePageTable")
            .field("root", &self.root)
            .finish()
    }
}

impl BarePageTable {
    /// Wraps `table`, whose tables come from `mem`, flushing through `tlb`.
    ///
    /// # Safety
    ///
    /// `table` must have been made (by [`X86PageTable::new_kernel`] or
    /// [`X86PageTable::new_user`]) with `mem` as its allocator, under those
    /// functions' contract: the wrapper passes `mem` to every operation and frees the
    /// table's frames to it.
    pub unsafe fn new(
        table: X86PageTable,
        mem: Arc<BareMem>,
        tlb: Arc<dyn TlbShootdown>,
    ) -> BarePageTable {
        let cpus = if table.range().0 >= crate::KERNEL_BASE {
            CpuSet::ALL.0
        } else {
            0
        };
        BarePageTable {
            root: table.root(),
            cpus: AtomicU64::new(cpus),
            table: spin::Mutex::new(table),
            mem,
            tlb,
            fault_handler: spin::Mutex::new(None),
        }
    }

    /// The physical address of the top-level table (what CR3 holds when this space
    /// runs).
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// The CPUs that have this space loaded now (every CPU for the kernel space).
    pub fn active_cpus(&self) -> CpuSet {
        CpuSet(self.cpus.load(Ordering::SeqCst))
    }

    /// Makes this space the one CPU number `cpu` (below 64; the caller's own)
    /// translates through: records `cpu` in [`active_cpus`](Self::active_cpus),
    /// then, on a bare-metal target, loads CR3 with [`root`](Self::root) (which
    /// drops this CPU's cached user translations). On a host it only records the
    /// CPU (simulated CPUs take the root as an argument).
    ///
    /// The CPU is recorded before CR3 is loaded, so a flush that races with this
    /// call either sees the CPU or finished its table change before the CPU could
    /// walk the table. Call [`deactivate`](Self::deactivate) on the space the CPU
    /// ran before, after this returns.
    ///
    /// # Safety
    ///
    /// `cpu` must be the number of the calling CPU, and the code, stack and data in
    /// use must be mapped at the same addresses in this space's kernel half (which
    /// every space of one [`BareHal`] shares) as in the table loaded now.
    pub unsafe fn activate(&self, cpu: usize) {
        if cpu < 64 {
            self.cpus.fetch_or(1 << cpu, Ordering::SeqCst);
        }
        #[cfg(all(target_arch = "x86_64", any(target_os = "none", target_os = "uefi")))]
        // SAFETY: forwarded to the caller.
        unsafe {
            crate::cpu::load_root(self.root)
        };
    }

    /// Records that CPU `cpu` no longer has this space loaded (it has loaded
    /// another one). A no-op for the kernel space, which every CPU keeps.
    pub fn deactivate(&self, cpu: usize) {
        if cpu < 64 && self.cpus.load(Ordering::SeqCst) != CpuSet::ALL.0 {
            self.cpus.fetch_and(!(1 << cpu), Ordering::SeqCst);
        }
    }

    /// Runs `op` on the table under the lock with a fresh batch, and returns the
    /// batch as a token; if `op` fails, applies the batch at once instead.
    fn deferred<R>(
        &self,
        op: impl FnOnce(&mut X86PageTable, &BareMem, &mut Flush) -> PagingResult<R>,
    ) -> PagingResult<(R, TlbFlush)> {
        let mut table = self.table.lock();
        let mut flush = Flush::new(self.root);
        match op(&mut table, &self.mem, &mut flush) {
            Ok(value) => Ok((value, flush.into_token())),
            Err(err) => {
                drop(table);
                self.send(flush);
                Err(err)
            }
        }
    }

    /// Applies `flush` on the CPUs that have the space loaded, then frees the
    /// page-table frames it carries.
    fn send(&self, flush: Flush) {
        // The entries are written; only now read who may cache them (pairs with
        // the SeqCst update in `activate`).
        fence(Ordering::SeqCst);
        flush.finish_on(&*self.tlb, &*self.mem, self.active_cpus());
    }
}

impl Drop for BarePageTable {
    fn drop(&mut self) {
        let mut flush = Flush::new(self.root);
        self.table.get_mut().release_tables(&mut flush);
        flush.finish(&*self.tlb, &*self.mem);
    }
}

impl PageTable for BarePageTable {
    fn user_range(&self) -> (VirtAddr, usize) {
        self.table.lock().range()
    }

    fn map_deferred(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        cache: CachePolicy,
    ) -> PagingResult<TlbFlush> {
        self.deferred(|table, mem, flush| table.map(vaddr, paddr, len, flags, cache, mem, flush))
            .map(|((), token)| token)
    }

    fn unmap_deferred(&self, vaddr: VirtAddr, len: usize) -> PagingResult<TlbFlush> {
        self.deferred(|table, mem, flush| table.unmap(vaddr, len, mem, flush))
            .map(|((), token)| token)
    }

    fn clear_deferred(&self, vaddr: VirtAddr, len: usize) -> PagingResult<(usize, TlbFlush)> {
        self.deferred(|table, mem, flush| table.clear(vaddr, len, mem, flush))
    }

    fn protect_deferred(
        &self,
        vaddr: VirtAddr,
        len: usize,
        flags: MMUFlags,
    ) -> PagingResult<(usize, TlbFlush)> {
        self.deferred(|table, mem, flush| table.protect(vaddr, len, flags, mem, flush))
    }

    fn flush(&self, flush: TlbFlush) {
        if !flush.is_empty() {
            self.send(Flush::from_token(self.root, flush));
        }
    }

    fn query(&self, vaddr: VirtAddr) -> PagingResult<Translation> {
        self.table.lock().query(vaddr)
    }

    fn set_fault_handler(&self, handler: Option<Weak<dyn PageFaultHandler>>) {
        *self.fault_handler.lock() = handler;
    }

    fn fault_handler(&self) -> Option<Arc<dyn PageFaultHandler>> {
        self.fault_handler.lock().as_ref()?.upgrade()
    }

    fn root(&self) -> Option<PhysAddr> {
        Some(self.root)
    }

    fn activate(&self, cpu: usize) {
        // SAFETY: every space of a machine shares the kernel space's upper half, in
        // which the embedder runs (the `PageTable::activate` contract), so the
        // running code, stack and data stay mapped where they are.
        unsafe { BarePageTable::activate(self, cpu) }
    }

    fn deactivate(&self, cpu: usize) {
        BarePageTable::deactivate(self, cpu);
    }
}

/// A bare-metal machine: physical memory, the kernel address space, and the TLB
/// hook; implements [`kernel_hal::Hal`].
///
/// Every user address space it creates shares the kernel space's upper half.
pub struct BareHal {
    mem: Arc<BareMem>,
    tlb: Arc<dyn TlbShootdown>,
    kernel: BarePageTable,
    placement_seed: AtomicU64,
    /// The device memory declared by [`set_device_memory`](Self::set_device_memory).
    device_memory: spin::Mutex<Option<(PhysAddr, usize)>>,
}

impl core::fmt::Debug for BareHal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BareHal")
            .field("mem", &self.mem)
            .field("kernel_root", &self.kernel.root())
            .finish()
    }
}

impl BareHal {
    /// A machine over `mem` with a fresh kernel space (a new top-level table whose
    /// upper half is populated with empty level-3 tables), flushing through `tlb`.
    ///
    /// # Errors
    ///
    /// [`kernel_hal::PagingError::NoMemory`]: fewer than 257 free frames.
    pub fn new(mem: Arc<BareMem>, tlb: Arc<dyn TlbShootdown>) -> PagingResult<BareHal> {
        // SAFETY: `mem` was built (unsafely) over its window with frames nothing
        // else uses, and it lives as long as the machine (the tables hold an `Arc`).
        let kernel = unsafe { X86PageTable::new_kernel(mem.window(), &*mem) }?;
        Ok(Self::from_parts(mem, tlb, kernel))
    }

    /// A machine over `mem` whose kernel space is an existing top-level table
    /// (typically the one the embedder runs on, as read from CR3).
    ///
    /// # Errors
    ///
    /// [`kernel_hal::PagingError::NoMemory`]: no frames to fill the empty upper-half
    /// entries.
    ///
    /// # Safety
    ///
    /// As for [`X86PageTable::adopt_kernel`].
    pub unsafe fn with_kernel_root(
        mem: Arc<BareMem>,
        tlb: Arc<dyn TlbShootdown>,
        root: PhysAddr,
    ) -> PagingResult<BareHal> {
        // SAFETY: forwarded to the caller.
        let kernel = unsafe { X86PageTable::adopt_kernel(mem.window(), root, &*mem) }?;
        Ok(Self::from_parts(mem, tlb, kernel))
    }

    /// A machine over `mem` whose kernel space is `kernel` (its tables may come from
    /// elsewhere than `mem`, as long as nothing frees them).
    pub(crate) fn from_parts(
        mem: Arc<BareMem>,
        tlb: Arc<dyn TlbShootdown>,
        kernel: X86PageTable,
    ) -> BareHal {
        // SAFETY: the callers made `kernel` over `mem`'s window, with `mem` as its
        // allocator or (for a simulated machine) with its top two levels in frames
        // outside `mem` that are never freed: a kernel space frees no table at drop
        // and never empties its level-3 tables.
        let kernel = unsafe { BarePageTable::new(kernel, mem.clone(), tlb.clone()) };
        BareHal {
            mem,
            tlb,
            kernel,
            placement_seed: AtomicU64::new(0),
            device_memory: spin::Mutex::new(None),
        }
    }

    /// Declares `[paddr, paddr + len)` (page-aligned) as the machine's device memory
    /// ([`PhysMem::device_memory`]): the range physical VMOs may cover and map.
    ///
    /// # Safety
    ///
    /// The range must be device memory (or memory set aside for it) that the frame
    /// allocator never hands out and nothing else in the kernel uses: user mappings
    /// of it are made at will.
    pub unsafe fn set_device_memory(&self, paddr: PhysAddr, len: usize) {
        *self.device_memory.lock() = Some((paddr, len));
    }

    /// Sets the entropy that seeds the random placement of regions and mappings in
    /// address spaces created afterwards ([`Hal::placement_seed`]; 0 until set).
    /// An embedder passes a value from a hardware source (RDRAND, a boot-time seed).
    pub fn set_placement_seed(&self, seed: u64) {
        self.placement_seed.store(seed, Ordering::Relaxed);
    }

    /// Allows or forbids 1 GiB entries (allowed by default) in the kernel space and
    /// in user spaces created afterwards; CPUs without `pdpe1gb` need `false`.
    pub fn set_huge_1g(&self, allowed: bool) {
        self.kernel.table.lock().set_huge_1g(allowed);
    }

    /// The machine's physical memory.
    pub fn mem(&self) -> &Arc<BareMem> {
        &self.mem
    }

    /// The kernel address space: its [`PageTable::user_range`] is the upper half,
    /// and mappings made there appear in every user space.
    pub fn kernel_space(&self) -> &BarePageTable {
        &self.kernel
    }

    /// Creates a user address space, as [`Hal::new_address_space`] does, but returns
    /// the concrete type (whose [`BarePageTable::root`] a CPU or simulator needs).
    ///
    /// # Errors
    ///
    /// [`kernel_hal::PagingError::NoMemory`]: no frame for the top-level table.
    pub fn new_bare_address_space(&self) -> PagingResult<BarePageTable> {
        let table = {
            let kernel = self.kernel.table.lock();
            // SAFETY: the kernel space was made over `self.mem`'s window, which the
            // new table's `Arc` keeps alive; `self.mem` is its allocator.
            unsafe { X86PageTable::new_user(&kernel, &*self.mem) }?
        };
        // SAFETY: `table` was just made with `self.mem` as its allocator.
        Ok(unsafe { BarePageTable::new(table, self.mem.clone(), self.tlb.clone()) })
    }
}

// Delegates to `BareMem` method by method, as `UnixHal` delegates to its memfd: the
// impls look alike because the trait is the same, not because logic repeats.
impl PhysMem for BareHal {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        self.mem.alloc_frame()
    }

    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        self.mem.alloc_contiguous(count, align_log2)
    }

    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.mem.free_frames(paddr, count)
    }

    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        self.mem.read(paddr, buf)
    }

    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        self.mem.write(paddr, buf)
    }

    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        self.mem.zero(paddr, len)
    }

    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        self.mem.copy(dst, src, len)
    }

    fn free_count(&self) -> usize {
        self.mem.free_count()
    }

    fn total_count(&self) -> usize {
        self.mem.total_count()
    }

    fn device_memory(&self) -> Option<(PhysAddr, usize)> {
        *self.device_memory.lock()
    }
}

impl Hal for BareHal {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        Ok(Box::new(self.new_bare_address_space()?))
    }

    fn placement_seed(&self) -> u64 {
        self.placement_seed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimMachine;
    use alloc::vec::Vec;
    use kernel_hal::{MMUFlags, PageTable, PAGE_SIZE};

    /// Remembers the CPU set of every flush.
    #[derive(Default)]
    struct Recorder(spin::Mutex<Vec<(PhysAddr, CpuSet)>>);

    impl TlbShootdown for Recorder {
        fn flush_pages(&self, _: PhysAddr, _: &[VirtAddr]) {}
        fn flush_all(&self, _: PhysAddr) {}
        fn flush_pages_on(&self, root: PhysAddr, cpus: CpuSet, _: &[VirtAddr]) {
            self.0.lock().push((root, cpus));
        }
        fn flush_all_on(&self, root: PhysAddr, cpus: CpuSet) {
            self.0.lock().push((root, cpus));
        }
    }

    #[test]
    fn flushes_name_exactly_the_cpus_that_have_the_space_loaded() {
        let machine = SimMachine::new(8 << 20);
        let recorder = Arc::new(Recorder::default());
        let hal = BareHal::new(machine.hal().mem().clone(), recorder.clone()).unwrap();
        let space = hal.new_bare_address_space().unwrap();
        assert_eq!(space.active_cpus(), CpuSet(0));
        assert_eq!(hal.kernel_space().active_cpus(), CpuSet::ALL);
        // SAFETY: on a host `activate` only records the CPU; nothing is loaded.
        unsafe { space.activate(1) };
        PageTable::activate(&space, 3);
        let rw = MMUFlags::READ | MMUFlags::WRITE | MMUFlags::USER;
        let frame = hal.alloc_frame().unwrap();
        space
            .map(0x40_0000, frame, PAGE_SIZE, rw, CachePolicy::Cached)
            .unwrap();
        space.unmap(0x40_0000, PAGE_SIZE).unwrap();
        assert_eq!(
            recorder.0.lock().last(),
            Some(&(space.root(), CpuSet(0b1010)))
        );
        space.deactivate(1);
        space
            .map(0x40_0000, frame, PAGE_SIZE, rw, CachePolicy::Cached)
            .unwrap();
        space.unmap(0x40_0000, PAGE_SIZE).unwrap();
        let last = *recorder.0.lock().last().unwrap();
        assert!(last.1.contains(3) && !last.1.contains(1));
        assert_eq!(PageTable::root(&space), Some(space.root()));
        hal.kernel_space().deactivate(2);
        assert_eq!(hal.kernel_space().active_cpus(), CpuSet::ALL);
        hal.free_frames(frame, 1).unwrap();
    }
}
