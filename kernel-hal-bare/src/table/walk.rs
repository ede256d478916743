//! The recursive walks over a range: counting, mapping, clearing, protecting.

use kernel_hal::{PagingResult, PhysAddr, PhysMem, PAGE_SIZE};
use x86_64::structures::paging::PageTableFlags as F;
use x86_64::PhysAddr as HwPhysAddr;

use super::{alloc_in_window, canonical, entry_bytes, index, is_leaf, X86PageTable, KERNEL_HALF};
use crate::entry::{table_bits, PERMISSION_BITS};
use crate::flush::Flush;

/// What `map_in` needs besides the range: the physical run and the allocator.
pub(super) struct MapRun<'a, M: ?Sized> {
    /// `paddr - vaddr` (wrapping), so the frame for linear address `la` is `la + delta`.
    pub(super) delta: u64,
    pub(super) leaf: F,
    pub(super) mem: &'a M,
}

impl X86PageTable {
    /// How many pages of `[la, end)` have a translation, below the table at `level`.
    pub(super) fn count_in_use(
        &self,
        table_pa: PhysAddr,
        level: u32,
        mut la: u64,
        end: u64,
    ) -> u64 {
        // SAFETY: a page-table frame of this tree inside the window; callers hold
        // `&self` or `&mut self`, so nothing changes it meanwhile.
        let table = unsafe { self.window.table_ref(table_pa) };
        if level == 1 {
            let first = index(la, 1);
            let n = ((end - la) / PAGE_SIZE as u64) as usize;
            return table
                .iter()
                .skip(first)
                .take(n)
                .filter(|e| !e.is_unused())
                .count() as u64;
        }
        let size = entry_bytes(level);
        let mut count = 0;
        while la < end {
            let chunk_end = ((la & !(size - 1)) + size).min(end);
            let entry = &table[index(la, level)];
            if !entry.is_unused() {
                if is_leaf(entry.flags(), level) {
                    count += (chunk_end - la) / PAGE_SIZE as u64;
                } else {
                    count += self.count_in_use(
                        entry.addr().as_u64() as PhysAddr,
                        level - 1,
                        la,
                        chunk_end,
                    );
                }
            }
            la = chunk_end;
        }
        count
    }

    /// Maps `[la, end)` below the table at `level`; the range holds no translation.
    pub(super) fn map_in<M: PhysMem + ?Sized>(
        &self,
        run: &MapRun<'_, M>,
        table_pa: PhysAddr,
        level: u32,
        mut la: u64,
        end: u64,
        flush: &mut Flush,
    ) -> PagingResult<()> {
        // SAFETY: a page-table frame of this tree inside the window; the caller holds
        // `&mut self` (map's), and no other reference to this frame is live.
        let table = unsafe { self.window.table(table_pa) };
        if level == 1 {
            let first = index(la, 1);
            let n = ((end - la) / PAGE_SIZE as u64) as usize;
            let mut pa = la.wrapping_add(run.delta);
            for entry in table.iter_mut().skip(first).take(n) {
                entry.set_addr(HwPhysAddr::new(pa), run.leaf);
                pa += PAGE_SIZE as u64;
            }
            flush.pages(canonical(la), n, PAGE_SIZE);
            return Ok(());
        }
        let size = entry_bytes(level);
        let huge_allowed = level == 2 || (level == 3 && self.huge_1g);
        while la < end {
            let slot_end = (la & !(size - 1)) + size;
            let chunk_end = slot_end.min(end);
            let pa = la.wrapping_add(run.delta);
            let entry = &mut table[index(la, level)];
            if huge_allowed && la & (size - 1) == 0 && chunk_end == slot_end && pa & (size - 1) == 0
            {
                debug_assert!(entry.is_unused());
                entry.set_addr(HwPhysAddr::new(pa), run.leaf | F::HUGE_PAGE);
                flush.page(canonical(la));
            } else {
                let child = if entry.is_unused() {
                    let frame = alloc_in_window(run.mem, &self.window)?;
                    self.window.zero_frame(frame);
                    entry.set_addr(HwPhysAddr::new(frame as u64), table_bits(la < KERNEL_HALF));
                    frame
                } else {
                    entry.addr().as_u64() as PhysAddr
                };
                self.map_in(run, child, level - 1, la, chunk_end, flush)?;
            }
            la = chunk_end;
        }
        Ok(())
    }

    /// Removes the translations in `[la, end)` below the table at `level` and
    /// returns how many pages they covered; no large entry straddles the range's ends.
    pub(super) fn clear_in(
        &self,
        table_pa: PhysAddr,
        level: u32,
        mut la: u64,
        end: u64,
        flush: &mut Flush,
    ) -> u64 {
        // SAFETY: as in `map_in`: our frame, exclusively ours through `&mut self`.
        let table = unsafe { self.window.table(table_pa) };
        if level == 1 {
            let first = index(la, 1);
            let n = ((end - la) / PAGE_SIZE as u64) as usize;
            let mut count = 0;
            for (i, entry) in table.iter_mut().skip(first).take(n).enumerate() {
                if !entry.is_unused() {
                    entry.set_unused();
                    flush.page(canonical(la + (i * PAGE_SIZE) as u64));
                    count += 1;
                }
            }
            return count;
        }
        let size = entry_bytes(level);
        let mut count = 0;
        while la < end {
            let slot_start = la & !(size - 1);
            let chunk_end = (slot_start + size).min(end);
            let whole_slot = la == slot_start && chunk_end == slot_start + size;
            let entry = &mut table[index(la, level)];
            if !entry.is_unused() {
                if is_leaf(entry.flags(), level) {
                    debug_assert!(whole_slot, "a large entry straddles {la:#x}..{end:#x}");
                    entry.set_unused();
                    flush.page(canonical(slot_start));
                    count += size / PAGE_SIZE as u64;
                } else {
                    let child = entry.addr().as_u64() as PhysAddr;
                    count += self.clear_in(child, level - 1, la, chunk_end, flush);
                    if self.may_free_child(level) && (whole_slot || self.is_empty(child)) {
                        entry.set_unused();
                        flush.free_table(child, canonical(slot_start));
                    }
                }
            }
            la = chunk_end;
        }
        count
    }

    /// Sets the permission bits of the translations in `[la, end)` below the table at
    /// `level`; returns how many pages have a translation there. A large entry
    /// straddles the range's ends only if it already has `perms`.
    pub(super) fn protect_in(
        &self,
        table_pa: PhysAddr,
        level: u32,
        mut la: u64,
        end: u64,
        perms: F,
        flush: &mut Flush,
    ) -> u64 {
        // SAFETY: as in `map_in`: our frame, exclusively ours through `&mut self`.
        let table = unsafe { self.window.table(table_pa) };
        let size = entry_bytes(level);
        let mut count = 0;
        while la < end {
            let slot_start = la & !(size - 1);
            let chunk_end = (slot_start + size).min(end);
            let entry = &mut table[index(la, level)];
            if !entry.is_unused() {
                let old = entry.flags();
                if is_leaf(old, level) {
                    let new = (old - PERMISSION_BITS) | perms;
                    if new != old {
                        debug_assert!(la == slot_start && chunk_end == slot_start + size);
                        entry.set_flags(new);
                        flush.page(canonical(slot_start));
                    }
                    count += (chunk_end - la) / PAGE_SIZE as u64;
                } else {
                    let child = entry.addr().as_u64() as PhysAddr;
                    count += self.protect_in(child, level - 1, la, chunk_end, perms, flush);
                }
            }
            la = chunk_end;
        }
        count
    }

    fn is_empty(&self, table_pa: PhysAddr) -> bool {
        // SAFETY: a page-table frame of this tree; `&self` keeps it unchanged.
        unsafe { self.window.table_ref(table_pa) }
            .iter()
            .all(|e| e.is_unused())
    }
}
