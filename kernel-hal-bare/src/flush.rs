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
/// loaded into CR3). An embedder with several CPUs replaces [`LocalTlb`] with a hook
/// that runs the same invalidations on every CPU that may have the address space
/// loaded (a shootdown) before returning.
pub trait TlbShootdown: Send + Sync {
    /// Invalidates, for each address in `addrs`, the cached translation of the page
    /// (of whatever size) that contains it, together with any cached intermediate
    /// entries of the address space: the effect of `invlpg` on that address.
    fn flush_pages(&self, root: PhysAddr, addrs: &[VirtAddr]);

    /// Invalidates every cached translation of the address space.
    fn flush_all(&self, root: PhysAddr);
}

/// The default hook: invalidates on the current CPU only.
///
/// On `target_os = "none"` it issues `invlpg` per address and reloads CR3 for a full
/// flush; both act only on the address space loaded on this CPU, which is enough for
/// one CPU without PCIDs (switching CR3 drops everything else). Built for any other
/// target it does nothing, because no hardware walks the tables there: host tests
/// use [`crate::sim::SimTlb`] instead.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalTlb;

impl TlbShootdown for LocalTlb {
    fn flush_pages(&self, _root: PhysAddr, addrs: &[VirtAddr]) {
        #[cfg(all(target_arch = "x86_64", target_os = "none"))]
        for &addr in addrs {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(addr as u64));
        }
        #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
        let _ = addrs;
    }

    fn flush_all(&self, _root: PhysAddr) {
        #[cfg(all(target_arch = "x86_64", target_os = "none"))]
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
        if self.all {
            tlb.flush_all(self.root);
        } else if self.count > 0 {
            tlb.flush_pages(self.root, &self.addrs[..self.count]);
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
