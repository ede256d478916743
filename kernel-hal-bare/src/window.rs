//! The phys-to-virt window: how this crate reaches physical memory.

use kernel_hal::{PagingError, PagingResult, PhysAddr, PAGE_SIZE};
use x86_64::structures::paging::PageTable as HwTable;

/// A linear window onto physical memory: the byte at physical address `pa` (for
/// `pa < end`) is readable and writable at virtual address `offset + pa`.
///
/// On bare metal the embedder maps all of physical memory at some kernel address
/// (a "direct map") and passes that address as the offset; in host tests the offset
/// points at a large host buffer that stands in for RAM (the `sim` feature).
/// Everything this crate does to physical memory, page tables included, goes
/// through a window; it is `Copy` and carries no ownership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysWindow {
    offset: usize,
    end: PhysAddr,
}

impl PhysWindow {
    /// The window mapping physical `[0, end)` at virtual `[offset, offset + end)`.
    ///
    /// # Safety
    ///
    /// For as long as this window or any copy of it is used: every physical address
    /// in `[0, end)` must be mapped readable and writable at `offset + pa` (with `offset`
    /// a multiple of [`PAGE_SIZE`] and `offset + end` not overflowing), and the frames
    /// that the crate is given (through a frame allocator's usable ranges or as a
    /// page-table root) must not be used by anything else behind its back.
    pub const unsafe fn new(offset: usize, end: PhysAddr) -> PhysWindow {
        PhysWindow { offset, end }
    }

    /// The virtual address at which physical address 0 appears.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The first physical address the window does not cover: the machine's
    /// physical memory (RAM and whatever device memory may be mapped) lies below it.
    pub const fn end(&self) -> PhysAddr {
        self.end
    }

    /// Whether the `len` bytes at `pa` lie inside the window (without wrapping).
    pub const fn contains(&self, pa: PhysAddr, len: usize) -> bool {
        match pa.checked_add(len) {
            Some(last) => last <= self.end,
            None => false,
        }
    }

    /// Checks that the `len` bytes at `pa` lie inside the window.
    ///
    /// # Errors
    ///
    /// [`PagingError::OutOfRange`] if they do not.
    pub fn check(&self, pa: PhysAddr, len: usize) -> PagingResult<()> {
        if self.contains(pa, len) {
            Ok(())
        } else {
            Err(PagingError::OutOfRange)
        }
    }

    /// A pointer to the byte at physical address `pa`. Dereferencing it is sound only
    /// for bytes inside the window; the pointer itself is always safe to form.
    pub fn ptr(&self, pa: PhysAddr) -> *mut u8 {
        self.offset.wrapping_add(pa) as *mut u8
    }

    /// A pointer to the page table in the frame at `pa` (checked in debug builds to
    /// be a page-aligned frame inside the window).
    fn table_ptr(&self, pa: PhysAddr) -> *mut HwTable {
        debug_assert!(pa % PAGE_SIZE == 0 && self.contains(pa, PAGE_SIZE));
        self.ptr(pa).cast::<HwTable>()
    }

    /// The hardware page table stored in the frame at `pa`.
    ///
    /// # Safety
    ///
    /// `pa` must be a page-aligned frame inside the window that holds a page table,
    /// and the caller must have exclusive use of that table for the lifetime `'a`
    /// (the page-table code has it through `&mut` on the tree that owns the frame).
    pub(crate) unsafe fn table<'a>(&self, pa: PhysAddr) -> &'a mut HwTable {
        // SAFETY: the frame lies inside the window, so it is mapped readable and
        // writable (`new`'s contract); the window offset and `pa` are page-aligned, so
        // the pointer is non-null and meets `HwTable`'s 4096-byte alignment; every bit
        // pattern is a valid `HwTable`; and the caller promises exclusive use for `'a`.
        unsafe { &mut *self.table_ptr(pa) }
    }

    /// The hardware page table stored in the frame at `pa`, for reading.
    ///
    /// # Safety
    ///
    /// As for [`table`](Self::table), except that the caller needs only to know that
    /// nothing changes the table during `'a`.
    pub(crate) unsafe fn table_ref<'a>(&self, pa: PhysAddr) -> &'a HwTable {
        // SAFETY: as in `table`, for shared use; the caller promises no change.
        unsafe { &*self.table_ptr(pa) }
    }

    /// Sets the frame at `pa` to zero.
    pub(crate) fn zero_frame(&self, pa: PhysAddr) {
        assert!(pa % PAGE_SIZE == 0 && self.contains(pa, PAGE_SIZE));
        // SAFETY: the frame is inside the window (checked above), so it is mapped
        // writable; it belongs to whoever allocated it, who asked for this write.
        unsafe { core::ptr::write_bytes(self.ptr(pa), 0, PAGE_SIZE) };
    }
}
