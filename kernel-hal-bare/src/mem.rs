//! Physical memory: the shared buddy frame allocator plus byte access through the
//! window.

use alloc::sync::Arc;
use core::any::Any;

use kernel_hal::frame::FrameAllocator;
use kernel_hal::{PagingError, PagingResult, PhysAddr, PhysMem};

use crate::window::PhysWindow;

/// A machine's physical memory: the frames of the usable ranges of its memory map,
/// handed out by a [`FrameAllocator`] behind a spin lock, and every byte below the
/// window's end readable and writable through the window.
pub struct BareMem {
    window: PhysWindow,
    /// Guards the allocator only; held for one allocation or free at a time, never
    /// while another lock is taken.
    frames: spin::Mutex<FrameAllocator>,
    /// Whatever backs the window and must live as long as this value (the host
    /// buffer of a simulated machine); `None` on bare metal.
    _backing: Option<Arc<dyn Any + Send + Sync>>,
}

impl core::fmt::Debug for BareMem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BareMem")
            .field("window", &self.window)
            .field("free", &self.free_count())
            .field("total", &self.total_count())
            .finish()
    }
}

impl BareMem {
    /// Physical memory reached through `window`, whose free frames are those of the
    /// physical byte ranges `usable` (`(start, end)` pairs, as a bootloader's memory
    /// map lists its usable RAM; clipped to the window, rounded inwards to pages).
    ///
    /// # Safety
    ///
    /// Nothing else may use the frames of `usable` (the kernel image, boot page
    /// tables and the like must be left out): they are handed to whoever allocates.
    pub unsafe fn new(window: PhysWindow, usable: &[(PhysAddr, PhysAddr)]) -> BareMem {
        let mut clipped = alloc::vec::Vec::with_capacity(usable.len());
        for &(start, end) in usable {
            let end = end.min(window.end());
            if start < end {
                clipped.push((start, end));
            }
        }
        BareMem {
            window,
            frames: spin::Mutex::new(FrameAllocator::new(&clipped)),
            _backing: None,
        }
    }

    /// Keeps `backing` alive as long as this value (for windows onto host memory).
    #[cfg(feature = "sim")]
    pub(crate) fn with_backing(mut self, backing: Arc<dyn Any + Send + Sync>) -> BareMem {
        self._backing = Some(backing);
        self
    }

    /// The window through which this memory is reached.
    pub fn window(&self) -> PhysWindow {
        self.window
    }
}

impl PhysMem for BareMem {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        self.frames.lock().alloc(1, 0).ok_or(PagingError::NoMemory)
    }

    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        if count == 0 {
            return Err(PagingError::NotAligned);
        }
        self.frames
            .lock()
            .alloc(count, align_log2)
            .ok_or(PagingError::NoMemory)
    }

    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.frames.lock().free(paddr, count)
    }

    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        self.window.check(paddr, buf.len())?;
        // SAFETY: the bytes lie inside the window (checked), so they are mapped
        // readable; `buf` is a distinct Rust buffer of the same length.
        unsafe {
            core::ptr::copy_nonoverlapping(self.window.ptr(paddr), buf.as_mut_ptr(), buf.len())
        };
        Ok(())
    }

    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        self.window.check(paddr, buf.len())?;
        // SAFETY: the bytes lie inside the window (checked), so they are mapped
        // writable; `buf` is a distinct Rust buffer of the same length.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), self.window.ptr(paddr), buf.len()) };
        Ok(())
    }

    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        self.window.check(paddr, len)?;
        // SAFETY: the bytes lie inside the window (checked), so they are mapped writable.
        unsafe { core::ptr::write_bytes(self.window.ptr(paddr), 0, len) };
        Ok(())
    }

    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        self.window.check(dst, len)?;
        self.window.check(src, len)?;
        // SAFETY: both ranges lie inside the window (checked), so they are mapped
        // readable and writable; `copy` allows overlap, so a caller breaking the
        // no-overlap rule gets memmove semantics rather than undefined behaviour.
        unsafe { core::ptr::copy(self.window.ptr(src), self.window.ptr(dst), len) };
        Ok(())
    }

    fn free_count(&self) -> usize {
        self.frames.lock().free_count()
    }

    fn total_count(&self) -> usize {
        self.frames.lock().total_count()
    }
}
