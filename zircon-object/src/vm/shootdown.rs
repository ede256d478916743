//! The TLB shootdowns an address space owes, sent once per operation after the
//! tree and VMO locks are released.
//!
//! Taking translations away (unmap, destroy, protect, the copy-on-write clearing of
//! read-only pages) goes through the address space's [`OwedFlush`]: each page-table
//! change is made with the HAL's deferred form and its [`TlbFlush`] token is merged
//! into the one the address space owes, under a small lock of its own, in the same
//! critical section as the change. The operation sends the owed token (one
//! [`PageTable::flush`], so one shootdown) when it has dropped its locks, through a
//! [`Sweep`], which also keeps the mappings it removed alive and registered with
//! their VMOs until then.
//!
//! Why that is safe: a frame may be reused only once no CPU can still reach it
//! through a stale TLB entry. Frames leave a VMO only under the VMO's lock, after
//! the VMO has taken its pages out of every mapping registered with it, and that
//! step sends the owed token of each such mapping's address space first (once per
//! address space, in `VmoInner::unmap_from_mappings`). A translation taken away by an operation that has not
//! sent its shootdown yet is therefore either in an owed token that the VMO sends, or
//! belongs to a mapping still registered (a removed one stays registered until its
//! [`Sweep`] has flushed), so the VMO reaches it either way.

use super::mapping::VmMapping;
use crate::error::invariant;
use crate::sync::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hal::{MMUFlags, PageTable, TlbFlush};

/// One address space's page table and the invalidations its changes owe.
///
/// Lock order: the owed lock is taken after the tree, VMO and mapping locks, and
/// the page table's own lock is taken inside it.
pub(crate) struct OwedFlush {
    page_table: Arc<dyn PageTable>,
    owed: Mutex<TlbFlush>,
}

impl OwedFlush {
    pub(crate) fn new(page_table: Arc<dyn PageTable>) -> Arc<OwedFlush> {
        Arc::new(OwedFlush {
            page_table,
            owed: Mutex::new(TlbFlush::new()),
        })
    }

    /// Takes away every translation in `[vaddr, vaddr + len)` (a range inside the
    /// address space), owing the flush. Removing too many translations is always
    /// safe here, since every one of them is re-created on demand by a fault, and
    /// removing too few never is (a frame could be freed while still mapped). So if
    /// the page table cannot remove exactly this range (it would have to split a
    /// larger translation and has no memory to), everything in the surrounding
    /// 1 GiB-aligned range is removed instead, which never needs a split.
    pub(crate) fn clear(&self, vaddr: usize, len: usize) {
        const SPAN: usize = 1 << 30;
        let mut owed = self.owed.lock();
        let pt = &*self.page_table;
        match pt.clear_deferred(vaddr, len) {
            Ok((_, token)) => owed.merge(token),
            Err(_) => {
                let (base, size) = pt.user_range();
                let lo = (vaddr & !(SPAN - 1)).max(base);
                let hi = (vaddr + len).next_multiple_of(SPAN).min(base + size);
                // A clear of whole 1 GiB entries splits nothing, so cannot fail
                // for want of memory; the range lies inside the address space.
                match pt.clear_deferred(lo, hi - lo) {
                    Ok((_, token)) => owed.merge(token),
                    Err(err) => invariant(Err::<(), _>(err), "clear whole 1 GiB entries"),
                }
            }
        }
    }

    /// Sets the MMU flags of the translations in `[vaddr, vaddr + len)`, owing the
    /// flush; if the page table cannot (a split without memory), takes them away
    /// instead, so that every page faults in again with the new flags.
    pub(crate) fn protect(&self, vaddr: usize, len: usize, flags: MMUFlags) {
        let result = {
            let mut owed = self.owed.lock();
            self.page_table
                .protect_deferred(vaddr, len, flags)
                .map(|(_, token)| owed.merge(token))
        };
        if result.is_err() {
            self.clear(vaddr, len);
        }
    }

    /// Sends everything owed, as one shootdown, if anything is. Holds the owed
    /// lock while the flush runs, so that no other caller finds nothing owed and
    /// frees a frame while this flush is still on its way.
    pub(crate) fn send(&self) {
        let mut owed = self.owed.lock();
        if !owed.is_empty() {
            self.page_table.flush(core::mem::take(&mut *owed));
        }
    }
}

/// The end of one address-space operation: the shootdown it owes and the mappings
/// it removed, which stay alive (and registered with their VMOs) until it is sent.
#[must_use = "the owed shootdown is sent, and removed mappings released, only by `finish`"]
pub(crate) struct Sweep {
    owed: Arc<OwedFlush>,
    removed: Vec<Arc<VmMapping>>,
}

impl Sweep {
    pub(crate) fn new(owed: &Arc<OwedFlush>) -> Sweep {
        Sweep {
            owed: owed.clone(),
            removed: Vec::new(),
        }
    }

    /// Holds `mapping`, which the operation removed, until the shootdown is sent.
    pub(crate) fn removed(&mut self, mapping: Arc<VmMapping>) {
        self.removed.push(mapping);
    }

    /// Sends the shootdown (call with no lock held), then lets the VMOs of the
    /// removed mappings forget them.
    pub(crate) fn finish(self) {
        self.owed.send();
        for mapping in self.removed {
            mapping.retire();
        }
    }
}
