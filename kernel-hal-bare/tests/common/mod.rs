//! Helpers shared by the host tests: an independent walker over simulated RAM.

#![allow(dead_code)]

use kernel_hal::{MMUFlags, PageSize, PhysAddr, VirtAddr};
use kernel_hal_bare::sim::SimMachine;
use x86_64::structures::paging::mapper::{MappedFrame, Translate, TranslateResult};
use x86_64::structures::paging::{OffsetPageTable, PageTable, PageTableFlags};

/// What the independent walker sees at one address: physical address, entry size
/// and the permissions the leaf grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walked {
    pub paddr: PhysAddr,
    pub size: PageSize,
    pub flags: MMUFlags,
}

/// Translates `vaddr` in the space rooted at `root` with the `x86_64` crate's own
/// `OffsetPageTable` walker over the machine's RAM. Entries the hardware would not
/// use (not present) count as unmapped.
pub fn walk(machine: &SimMachine, root: PhysAddr, vaddr: VirtAddr) -> Option<Walked> {
    // SAFETY: used only while `machine` (which owns the RAM) is borrowed.
    let window = unsafe { machine.ram().window() };
    let l4 = (window.offset() + root) as *mut PageTable;
    // SAFETY: `root` is a page-table frame inside the simulated RAM, which is
    // page-aligned host memory; the test is the only thread using the machine and
    // the reference is dropped before the page table is used again.
    let table =
        unsafe { OffsetPageTable::new(&mut *l4, x86_64::VirtAddr::new(window.offset() as u64)) };
    match table.translate(x86_64::VirtAddr::new(vaddr as u64)) {
        TranslateResult::Mapped {
            frame,
            offset,
            flags,
        } => {
            if !flags.contains(PageTableFlags::PRESENT) {
                return None;
            }
            let (base, size) = match frame {
                MappedFrame::Size4KiB(f) => (f.start_address().as_u64(), PageSize::Size4K),
                MappedFrame::Size2MiB(f) => (f.start_address().as_u64(), PageSize::Size2M),
                MappedFrame::Size1GiB(f) => (f.start_address().as_u64(), PageSize::Size1G),
            };
            let mut mmu = MMUFlags::READ;
            if flags.contains(PageTableFlags::WRITABLE) {
                mmu |= MMUFlags::WRITE;
            }
            if !flags.contains(PageTableFlags::NO_EXECUTE) {
                mmu |= MMUFlags::EXECUTE;
            }
            if flags.contains(PageTableFlags::USER_ACCESSIBLE) {
                mmu |= MMUFlags::USER;
            }
            Some(Walked {
                paddr: (base + offset) as PhysAddr,
                size,
                flags: mmu,
            })
        }
        TranslateResult::NotMapped => None,
        TranslateResult::InvalidFrameAddress(addr) => {
            panic!("walker found a bad frame address {addr:?}")
        }
    }
}
