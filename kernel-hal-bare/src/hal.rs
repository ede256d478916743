//! The `kernel-hal` traits over [`X86PageTable`] and [`BareMem`].

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};

use kernel_hal::{
    CachePolicy, Hal, MMUFlags, PageFaultHandler, PageTable, PagingResult, PhysAddr, PhysMem,
    TlbFlush, Translation, VirtAddr,
};

use crate::flush::{Flush, TlbShootdown};
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
pub struct BarePageTable {
    table: spin::Mutex<X86PageTable>,
    root: PhysAddr,
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
    pub fn new(
        table: X86PageTable,
        mem: Arc<BareMem>,
        tlb: Arc<dyn TlbShootdown>,
    ) -> BarePageTable {
        BarePageTable {
            root: table.root(),
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
                flush.finish(&*self.tlb, &*self.mem);
                Err(err)
            }
        }
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
            Flush::from_token(self.root, flush).finish(&*self.tlb, &*self.mem);
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
}

/// A bare-metal machine: physical memory, the kernel address space, and the TLB
/// hook; implements [`kernel_hal::Hal`].
///
/// Every user address space it creates shares the kernel space's upper half.
pub struct BareHal {
    mem: Arc<BareMem>,
    tlb: Arc<dyn TlbShootdown>,
    kernel: BarePageTable,
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
        let kernel = X86PageTable::new_kernel(mem.window(), &*mem)?;
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
        let kernel = BarePageTable::new(kernel, mem.clone(), tlb.clone());
        BareHal { mem, tlb, kernel }
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
            X86PageTable::new_user(&kernel, &*self.mem)?
        };
        Ok(BarePageTable::new(
            table,
            self.mem.clone(),
            self.tlb.clone(),
        ))
    }
}

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
}

impl Hal for BareHal {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        Ok(Box::new(self.new_bare_address_space()?))
    }
}
