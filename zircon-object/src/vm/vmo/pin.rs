//! Pinning, and contiguous VMOs (one physical run, committed from creation).

use super::*;
use crate::error::{hal_error, ZxResult};
use crate::vm::reclaim::{pages_for, retry};

impl VmObject {
    /// Creates a VMO of `size` bytes (page-aligned, not 0) backed by one physically
    /// contiguous run of frames whose first address is a multiple of
    /// `2^align_log2`, all committed and zeroed. It is never resizable, its pages
    /// are never decommitted, and ZERO zeroes them in place.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `size` 0 or not page-aligned.
    /// - `ZX_ERR_OUT_OF_RANGE`: `size` above [`MAX_VMO_SIZE`].
    /// - `ZX_ERR_NO_MEMORY`: no free run of that length and alignment.
    pub fn new_contiguous(
        hal: Arc<dyn Hal>,
        size: u64,
        align_log2: u32,
    ) -> ZxResult<Arc<VmObject>> {
        if size == 0 || size % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let size = vmo_size_for(size)?;
        let count = size >> PAGE_SHIFT;
        let start = retry(&*hal, count, || {
            hal.alloc_contiguous(count, align_log2 as usize)
                .map_err(|_| ZX_ERR_NO_MEMORY)
        })?;
        if let Err(err) = hal.zero(start, size) {
            invariant(hal.free_frames(start, count), "free a fresh run");
            return Err(hal_error(err));
        }
        let mut inner = VmoInner::new(size, size as u64);
        inner.pages = (0..count)
            .map(|page| (page, start + (page << PAGE_SHIFT)))
            .collect();
        inner.contiguous = true;
        Ok(Arc::new(VmObject::build(hal, false, false, inner)))
    }

    /// Whether this VMO (or a slice's root) is contiguous.
    pub fn is_contiguous(&self) -> bool {
        let (root, _) = self.backing();
        root.inner.lock().contiguous
    }

    /// Commits and pins the pages of `[offset, offset + len)` (page-aligned, not
    /// empty) and returns their frames in order. A page shared copy-on-write gets
    /// its private copy first, so the frame returned is this VMO's alone. Pinned
    /// pages stay committed and in place until [`unpin`](Self::unpin); a slice pins
    /// its root's pages.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `offset` or `len` unaligned, or `len` 0.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames for the commit; nothing is pinned.
    /// - A pager's failure status, or `ZX_ERR_BAD_STATE` from a detached VMO: a
    ///   pager-backed VMO's absent pages are asked for, and the pin blocks.
    pub fn pin(&self, offset: u64, len: u64) -> ZxResult<Vec<PhysAddr>> {
        retry(&*self.hal, pages_for(len), || self.pin_once(offset, len))
    }

    fn pin_once(&self, offset: u64, len: u64) -> ZxResult<Vec<PhysAddr>> {
        let page = PAGE_SIZE as u64;
        if offset % page != 0 || len % page != 0 || len == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let end = offset.checked_add(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        if end > self.size() as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        if let Some(slice) = &self.slice {
            return slice.root.pin(offset + slice.offset as u64, len);
        }
        let (first, last) = (
            (offset as usize) >> PAGE_SHIFT,
            (end as usize) >> PAGE_SHIFT,
        );
        let mut inner = loop {
            let mut inner = self.inner.lock();
            match self.pager_prepare(&mut inner, first, last, false)? {
                None => break inner,
                Some(wait) => {
                    drop(inner);
                    wait.wait()?;
                }
            }
        };
        if (last << PAGE_SHIFT) > inner.size {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        inner.commit_pages(&*self.hal, first, last)?;
        inner.make_private(&*self.hal, first, last)?;
        let mut frames = Vec::with_capacity(last - first);
        for page in first..last {
            *inner.pinned.entry(page).or_insert(0) += 1;
            frames.push(inner.pages.get(&page).copied().unwrap_or_default());
        }
        Ok(frames)
    }

    /// Releases one pin of each page of `[offset, offset + len)`, as taken by
    /// [`pin`](Self::pin) with the same range.
    pub fn unpin(&self, offset: u64, len: u64) {
        if let Some(slice) = &self.slice {
            return slice.root.unpin(offset + slice.offset as u64, len);
        }
        let first = (offset as usize) >> PAGE_SHIFT;
        let last = first + ((len as usize) >> PAGE_SHIFT);
        let mut inner = self.inner.lock();
        for page in first..last {
            if let Some(count) = inner.pinned.get_mut(&page) {
                *count -= 1;
                if *count == 0 {
                    inner.pinned.remove(&page);
                }
            }
        }
    }

    /// How many pages of this VMO (or a slice's root) are pinned.
    pub fn pinned_pages(&self) -> usize {
        let (root, _) = self.backing();
        root.inner.lock().pinned.len()
    }
}
