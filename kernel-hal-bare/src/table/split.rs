//! Splitting large entries that straddle the ends of a range, with the frames
//! for it reserved before anything changes.

use kernel_hal::{PagingResult, PhysAddr, PhysMem};
use x86_64::structures::paging::PageTableFlags as F;
use x86_64::PhysAddr as HwPhysAddr;

use super::{
    alloc_in_window, canonical, entry_bytes, index, X86PageTable, KERNEL_HALF, LINEAR_END,
};
use crate::entry::{table_bits, PERMISSION_BITS};
use crate::flush::Flush;
use crate::window::PhysWindow;

/// Frames set aside before a range operation splits large entries, so the split
/// cannot fail half-way. At most two boundaries, each splitting a 1 GiB and a 2 MiB
/// entry.
struct Reserve {
    frames: [PhysAddr; 4],
    len: usize,
}

impl Reserve {
    fn take<M: PhysMem + ?Sized>(
        mem: &M,
        window: &PhysWindow,
        count: usize,
    ) -> PagingResult<Reserve> {
        let mut reserve = Reserve {
            frames: [0; 4],
            len: 0,
        };
        while reserve.len < count {
            match alloc_in_window(mem, window) {
                Ok(frame) => {
                    reserve.frames[reserve.len] = frame;
                    reserve.len += 1;
                }
                Err(e) => {
                    reserve.release(mem);
                    return Err(e);
                }
            }
        }
        Ok(reserve)
    }

    fn pop(&mut self) -> PhysAddr {
        self.len -= 1;
        self.frames[self.len]
    }

    fn release<M: PhysMem + ?Sized>(self, mem: &M) {
        for &frame in &self.frames[..self.len] {
            let freed = mem.free_frames(frame, 1);
            debug_assert!(freed.is_ok());
        }
    }
}

/// Large entries that straddle one boundary and must be split: `(level, linear base)`.
#[derive(Default)]
struct Splits {
    items: [(u32, u64); 4],
    len: usize,
}

impl Splits {
    fn add(&mut self, item: (u32, u64)) {
        if !self.items[..self.len].contains(&item) {
            self.items[self.len] = item;
            self.len += 1;
        }
    }
}

impl X86PageTable {
    /// The large entries that straddle linear address `la` (and so must be split
    /// before a range starting or ending there is changed), skipping those whose
    /// permissions already are `keep`.
    fn straddling(&self, la: u64, keep: Option<F>, splits: &mut Splits) {
        if la == 0 || la >= LINEAR_END {
            return;
        }
        let mut table_pa = self.root;
        for level in (2..=4).rev() {
            // SAFETY: a page-table frame of this tree; `&self` keeps it unchanged.
            let entry = unsafe { self.window.table_ref(table_pa) }[index(la, level)].clone();
            if entry.is_unused() {
                return;
            }
            let bits = entry.flags();
            if bits.contains(F::HUGE_PAGE) {
                let size = entry_bytes(level);
                let unchanged = keep.is_some_and(|perms| bits & PERMISSION_BITS == perms);
                if la & (size - 1) == 0 || unchanged {
                    return;
                }
                splits.add((level, la & !(size - 1)));
                if level == 3 && la & (entry_bytes(2) - 1) != 0 {
                    splits.add((2, la & !(entry_bytes(2) - 1)));
                }
                return;
            }
            table_pa = entry.addr().as_u64() as PhysAddr;
        }
    }

    /// Splits the large entries that straddle `start` or `end` (see
    /// [`straddling`](Self::straddling)), reserving all frames needed first.
    pub(super) fn split_boundaries<M: PhysMem + ?Sized>(
        &mut self,
        start: u64,
        end: u64,
        keep: Option<F>,
        mem: &M,
        flush: &mut Flush,
    ) -> PagingResult<()> {
        let mut splits = Splits::default();
        self.straddling(start, keep, &mut splits);
        self.straddling(end, keep, &mut splits);
        if splits.len == 0 {
            return Ok(());
        }
        let mut reserve = Reserve::take(mem, &self.window, splits.len)?;
        self.split_at(start, keep, &mut reserve, flush);
        self.split_at(end, keep, &mut reserve, flush);
        debug_assert_eq!(reserve.len, 0);
        reserve.release(mem);
        Ok(())
    }

    /// Replaces each large entry straddling `la` by a table of entries one level
    /// smaller with the same frames, permissions and cache policy.
    // Walks the levels like the function above, but splits instead of reading: the
    // loops look alike, the work in them does not.
    fn split_at(&mut self, la: u64, keep: Option<F>, reserve: &mut Reserve, flush: &mut Flush) {
        if la == 0 || la >= LINEAR_END {
            return;
        }
        let mut table_pa = self.root;
        for level in (2..=4).rev() {
            // SAFETY: a page-table frame of this tree, exclusively ours via `&mut self`.
            let entry = &mut unsafe { self.window.table(table_pa) }[index(la, level)];
            if entry.is_unused() {
                return;
            }
            let bits = entry.flags();
            if bits.contains(F::HUGE_PAGE) {
                let size = entry_bytes(level);
                let unchanged = keep.is_some_and(|perms| bits & PERMISSION_BITS == perms);
                if la & (size - 1) == 0 || unchanged {
                    return;
                }
                let frame = reserve.pop();
                let base = entry.addr().as_u64() & !(size - 1);
                let small = entry_bytes(level - 1);
                let child_bits = if level == 2 {
                    bits - F::HUGE_PAGE
                } else {
                    bits
                };
                // SAFETY: a reserved frame inside the window, not yet linked anywhere.
                let child = unsafe { self.window.table(frame) };
                for (i, child_entry) in child.iter_mut().enumerate() {
                    child_entry.set_addr(HwPhysAddr::new(base + i as u64 * small), child_bits);
                }
                entry.set_addr(HwPhysAddr::new(frame as u64), table_bits(la < KERNEL_HALF));
                // The page size changed: drop the cached large translation.
                flush.page(canonical(la & !(size - 1)));
            }
            table_pa = entry.addr().as_u64() as PhysAddr;
        }
    }
}
