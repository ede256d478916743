//! TLB invalidation: the embedder's hook and the per-operation batch.
//!
//! Every change to a page table that the hardware may have cached is recorded in a
//! [`Flush`] batch; the batch is applied once, at the end of the operation, through
//! a [`TlbShootdown`] hook: one invalidation per changed entry up to
//! [`FLUSH_PAGE_LIMIT`], a full flush beyond. Page-table frames that an operation
//! empties are parked in the batch and go back to the allocator only after the
//! flush, so no CPU can still walk through a frame once it has a new owner.

use alloc::vec::Vec;

use kernel_hal::{PhysAddr, PhysMem, TlbFlush, VirtAddr};

/// How many single-address invalidations one batch issues before it gives up and
/// flushes the whole address space instead (the same limit as a [`TlbFlush`]'s).
pub const FLUSH_PAGE_LIMIT: usize = kernel_hal::TLB_FLUSH_PAGE_LIMIT;

/// How the embedder invalidates cached translations.
///
/// `root` names the address space (the physical address of its top-level table, as
/// loaded into CR3). An embedder with several CPUs replaces `LocalTlb` (the
/// one-CPU hook of bare-metal targets) with a hook that runs the same invalidations
/// on every CPU that may have the address space loaded (a shootdown) before
/// returning; the `_on` methods tell it which CPUs those are.
pub trait TlbShootdown: Send + Sync {
    /// Invalidates, for each address in `addrs`, the cached translation of the page
    /// (of whatever size) that contains it, together with any cached intermediate
    /// entries of the address space: the effect of `invlpg` on that address.
    fn flush_pages(&self, root: PhysAddr, addrs: &[VirtAddr]);

    /// Invalidates every cached translation of the address space.
    fn flush_all(&self, root: PhysAddr);

    /// As [`flush_pages`](Self::flush_pages), knowing that only the CPUs in `cpus`
    /// may hold translations of the address space (those that have activated it
    /// and not switched away since); a shootdown need interrupt no other CPU.
    /// The default ignores `cpus`.
    fn flush_pages_on(&self, root: PhysAddr, cpus: CpuSet, addrs: &[VirtAddr]) {
        let _ = cpus;
        self.flush_pages(root, addrs);
    }

    /// As [`flush_all`](Self::flush_all), for the CPUs in `cpus` only. The default
    /// ignores `cpus`.
    fn flush_all_on(&self, root: PhysAddr, cpus: CpuSet) {
        let _ = cpus;
        self.flush_all(root);
    }
}

/// A set of CPU numbers below 64: the CPUs that may cache an address space's
/// translations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuSet(pub u64);

impl CpuSet {
    /// Every CPU (the kernel space is loaded everywhere).
    pub const ALL: CpuSet = CpuSet(u64::MAX);

    /// Whether CPU `cpu` is in the set.
    pub const fn contains(&self, cpu: usize) -> bool {
        cpu < 64 && self.0 & (1 << cpu) != 0
    }

    /// The set without CPU `cpu`.
    pub const fn without(self, cpu: usize) -> CpuSet {
        if cpu < 64 {
            CpuSet(self.0 & !(1 << cpu))
        } else {
            self
        }
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// The default hook on a bare-metal CPU: invalidates on the current CPU only.
///
/// It issues `invlpg` per address and reloads CR3 for a full flush; both act only
/// on the address space loaded on this CPU, which is enough for one CPU without
/// PCIDs (switching CR3 drops everything else). It exists only where a CPU walks
/// these tables (x86_64 with `target_os = "none"` or `"uefi"`); built for a host,
/// where it could only do nothing, it does not compile: host tests use
/// `sim::SimTlb` (the `sim` feature).
#[cfg(all(target_arch = "x86_64", any(target_os = "none", target_os = "uefi")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalTlb;

#[cfg(all(target_arch = "x86_64", any(target_os = "none", target_os = "uefi")))]
impl TlbShootdown for LocalTlb {
    fn flush_pages(&self, _root: PhysAddr, addrs: &[VirtAddr]) {
        for &addr in addrs {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(addr as u64));
        }
    }

    fn flush_all(&self, _root: PhysAddr) {
        x86_64::instructions::tlb::flush_all();
    }
}

/// The invalidations and page-table frame releases that one or more page-table
/// operations owe.
///
/// Mutating operations of [`crate::X86PageTable`] record into a `Flush` instead of
/// touching the TLB; [`finish`](Flush::finish) then flushes once and frees the
/// page-table frames the operations emptied. A batch dropped without `finish` leaks
/// those frames (safely) and leaves stale translations cached, hence `#[must_use]`.
#[must_use = "the TLB must be flushed and the freed page-table frames returned with `finish`"]
#[derive(Debug)]
pub struct Flush {
    root: PhysAddr,
    addrs: [VirtAddr; FLUSH_PAGE_LIMIT],
    count: usize,
    all: bool,
    freed_tables: Vec<PhysAddr>,
}

impl Flush {
    /// An empty batch for the address space whose top-level table is at `root`.
    pub fn new(root: PhysAddr) -> Flush {
        Flush {
            root,
            addrs: [0; FLUSH_PAGE_LIMIT],
            count: 0,
            all: false,
            freed_tables: Vec::new(),
        }
    }

    /// The address space this batch flushes.
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0 && !self.all && self.freed_tables.is_empty()
    }

    /// Whether the batch has grown past [`FLUSH_PAGE_LIMIT`] and will flush everything.
    pub fn is_full_flush(&self) -> bool {
        self.all
    }

    /// The single addresses recorded so far (empty once the batch is a full flush).
    pub fn addresses(&self) -> &[VirtAddr] {
        if self.all {
            &[]
        } else {
            &self.addrs[..self.count]
        }
    }

    /// How many page-table frames wait to be freed.
    pub fn freed_table_count(&self) -> usize {
        self.freed_tables.len()
    }

    /// Records that the entry translating `addr` changed.
    #[inline]
    pub(crate) fn page(&mut self, addr: VirtAddr) {
        if self.all {
            return;
        }
        if self.count == FLUSH_PAGE_LIMIT {
            self.all = true;
        } else {
            self.addrs[self.count] = addr;
            self.count += 1;
        }
    }

    /// Records that `count` entries translating `addr`, `addr + stride`, ... changed.
    #[inline]
    pub(crate) fn pages(&mut self, addr: VirtAddr, count: usize, stride: usize) {
        if self.all {
            return;
        }
        if self.count + count > FLUSH_PAGE_LIMIT {
            self.all = true;
            return;
        }
        for i in 0..count {
            self.addrs[self.count + i] = addr.wrapping_add(i * stride);
        }
        self.count += count;
    }

    /// Turns the batch into a full flush.
    pub(crate) fn flush_everything(&mut self) {
        self.all = true;
    }

    /// Records that the page-table frame `table`, which translated addresses from
    /// `addr` on, was unlinked: it is freed after the flush.
    pub(crate) fn free_table(&mut self, table: PhysAddr, addr: VirtAddr) {
        self.page(addr);
        self.freed_tables.push(table);
    }

    /// What the batch owes, as the HAL's token (for [`kernel_hal::PageTable::flush`]).
    pub fn into_token(self) -> TlbFlush {
        let mut token = TlbFlush::new();
        if self.all {
            token.set_full_flush();
        } else {
            for &addr in &self.addrs[..self.count] {
                token.add_page(addr);
            }
        }
        for table in self.freed_tables {
            token.add_freed_table(table);
        }
        token
    }

    /// The batch a token owes, for the address space whose top-level table is at
    /// `root`.
    pub fn from_token(root: PhysAddr, mut token: TlbFlush) -> Flush {
        let mut flush = Flush::new(root);
        if token.is_full_flush() {
            flush.flush_everything();
        } else {
            for &addr in token.pages() {
                flush.page(addr);
            }
        }
        flush.freed_tables = token.take_freed_tables();
        flush
    }

    /// Flushes everything recorded through `tlb`, then returns the unlinked page-table
    /// frames to `frames`.
    pub fn finish<F: PhysMem + ?Sized>(self, tlb: &dyn TlbShootdown, frames: &F) {
        self.finish_on(tlb, frames, CpuSet::ALL);
    }

    /// As [`finish`](Self::finish), telling the hook that only the CPUs in `cpus`
    /// may cache the address space.
    pub fn finish_on<F: PhysMem + ?Sized>(self, tlb: &dyn TlbShootdown, frames: &F, cpus: CpuSet) {
        if self.all {
            tlb.flush_all_on(self.root, cpus);
        } else if self.count > 0 {
            tlb.flush_pages_on(self.root, cpus, &self.addrs[..self.count]);
        }
        for &table in &self.freed_tables {
            let freed = frames.free_frames(table, 1);
            debug_assert!(freed.is_ok(), "page-table frame {table:#x}: {freed:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_turns_into_a_full_flush_past_the_limit() {
        let mut flush = Flush::new(0x1000);
        flush.pages(0x4000, FLUSH_PAGE_LIMIT - 1, 0x1000);
        assert!(!flush.is_full_flush());
        assert_eq!(flush.addresses().len(), FLUSH_PAGE_LIMIT - 1);
        assert_eq!(flush.addresses()[1], 0x5000);
        flush.page(0x9000_0000);
        assert_eq!(flush.addresses().len(), FLUSH_PAGE_LIMIT);
        flush.page(0xa000_0000);
        assert!(flush.is_full_flush());
        assert!(flush.addresses().is_empty());
        core::mem::forget(flush);
    }
}
