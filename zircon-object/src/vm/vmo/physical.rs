//! Physical VMOs: a fixed window onto device memory.
//!
//! A physical VMO's pages are the device frames of its range, all present from
//! creation: nothing commits, decommits, copies or frees them, and byte I/O is not
//! supported (the memory is reached through mappings). Its frames are never the
//! frame allocator's, so creating, mapping and dropping one changes no frame count.

use super::*;
use crate::error::ZxResult;

impl VmObject {
    /// Creates a VMO over the physical range `[paddr, paddr + size)`, which must lie
    /// in the machine's device memory ([`kernel_hal::PhysMem::device_memory`]). It
    /// is not resizable and starts `UNCACHED`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `paddr` or `size` is not page-aligned, `size` is 0,
    ///   the range overflows, or it is not inside the machine's device memory (it
    ///   overlaps RAM the frame allocator owns, or nothing at all).
    pub fn new_physical(hal: Arc<dyn Hal>, paddr: u64, size: u64) -> ZxResult<Arc<VmObject>> {
        let page = PAGE_SIZE as u64;
        if paddr % page != 0 || size % page != 0 || size == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let end = paddr.checked_add(size).ok_or(ZX_ERR_INVALID_ARGS)?;
        let (dev, dev_len) = hal.device_memory().ok_or(ZX_ERR_INVALID_ARGS)?;
        if paddr < dev as u64 || end > (dev + dev_len) as u64 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let (paddr, size) = (paddr as usize, size as usize);
        let mut inner = VmoInner::new(size, size as u64);
        inner.pages = (0..size >> PAGE_SHIFT)
            .map(|page| (page, paddr + (page << PAGE_SHIFT)))
            .collect();
        inner.cache = CachePolicy::Uncached;
        inner.physical = true;
        Ok(Arc::new(VmObject::build(hal, false, false, inner)))
    }

    /// Whether this VMO (or the root of this slice) is a physical VMO.
    pub fn is_physical(&self) -> bool {
        self.inner.lock().physical
    }
}
