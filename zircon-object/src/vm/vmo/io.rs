//! Byte access and size: `read`, `write`, `set_size`, the content size.

use super::*;
use crate::abi::*;
use crate::error::{hal_error, ZxResult};
use crate::vm::reclaim::{pages_for, retry};
use kernel_hal::{PAGE_SHIFT, PAGE_SIZE};

impl VmObject {
    /// Reads `buf.len()` bytes at byte offset `offset`. Uncommitted pages read as
    /// zeros and stay uncommitted; on a pager-backed VMO, absent pages are asked
    /// for and the read blocks until they come (see [`crate::vm::pager`]).
    ///
    /// # Errors
    ///
    /// - A pager's failure status, or `ZX_ERR_BAD_STATE` from a detached VMO.
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> ZxResult {
        self.read_bytes(offset, buf, true)
    }

    /// Reads through a mapping: as [`read`](Self::read), but any cache policy is
    /// fine (a mapping of an uncached VMO is how uncached memory is used).
    pub(crate) fn read_mapped(&self, offset: u64, buf: &mut [u8]) -> ZxResult {
        self.read_bytes(offset, buf, false)
    }

    pub(super) fn read_bytes(&self, offset: u64, buf: &mut [u8], byte_io: bool) -> ZxResult {
        if let Some(slice) = &self.slice {
            self.inner.lock().check_io(offset, buf.len(), byte_io)?;
            return slice
                .root
                .read_bytes(offset + slice.offset as u64, buf, byte_io);
        }
        let (inner, start) = loop {
            let mut inner = self.inner.lock();
            let start = inner.check_io(offset, buf.len(), byte_io)?;
            let (first, end) = (start >> PAGE_SHIFT, (start + buf.len()).div_ceil(PAGE_SIZE));
            match self.pager_prepare(&mut inner, first, end, false)? {
                None => break (inner, start),
                Some(wait) => {
                    drop(inner);
                    wait.wait()?;
                }
            }
        };
        inner.byte_runs(start, buf.len(), |at, frame, n| {
            let out = &mut buf[at..at + n];
            match frame {
                Some(frame) => self.hal.read(frame, out).map_err(hal_error),
                None => {
                    out.fill(0);
                    Ok(())
                }
            }
        })
    }

    /// Writes `buf` at byte offset `offset`, committing the pages it touches.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_STATE`: the cache policy is not `CACHED`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range overflows or runs past the end.
    /// - `ZX_ERR_NO_MEMORY`: no frames for the pages to commit (nothing is written
    ///   and nothing stays committed) or for the private copy of a page shared
    ///   copy-on-write (nothing is written; pages committed or copied before the
    ///   failure stay, with the same contents).
    /// - A pager's failure status, or `ZX_ERR_BAD_STATE` from a detached VMO:
    ///   a pager-backed VMO blocks until its pages are present (and, with
    ///   `TRAP_DIRTY`, dirty), as [`read`](Self::read).
    ///
    /// A page shared copy-on-write gets its private copy before it is written. A
    /// slice writes its root's pages.
    pub fn write(&self, offset: u64, buf: &[u8]) -> ZxResult {
        self.write_bytes(offset, buf, true)
    }

    /// Writes through a mapping: as [`write`](Self::write), but any cache policy
    /// is fine.
    pub(crate) fn write_mapped(&self, offset: u64, buf: &[u8]) -> ZxResult {
        self.write_bytes(offset, buf, false)
    }

    pub(super) fn write_bytes(&self, offset: u64, buf: &[u8], byte_io: bool) -> ZxResult {
        let pages = pages_for(buf.len() as u64);
        retry(&*self.hal, pages, || self.write_once(offset, buf, byte_io))
    }

    fn write_once(&self, offset: u64, buf: &[u8], byte_io: bool) -> ZxResult {
        if let Some(slice) = &self.slice {
            self.inner.lock().check_io(offset, buf.len(), byte_io)?;
            return slice
                .root
                .write_bytes(offset + slice.offset as u64, buf, byte_io);
        }
        let (mut inner, start, first, end) = loop {
            let mut inner = self.inner.lock();
            let start = inner.check_io(offset, buf.len(), byte_io)?;
            if buf.is_empty() {
                return Ok(());
            }
            // Most small writes (out-parameters) land in one page already committed;
            // a pager's pages go through its dirty tracking below instead.
            if inner.pager.is_none() {
                if let Some(frame) = inner.private_frame_at(start, buf.len()) {
                    return self.hal.write(frame, buf).map_err(hal_error);
                }
            }
            let first = start >> PAGE_SHIFT;
            let end = (start + buf.len()).div_ceil(PAGE_SIZE);
            match self.pager_prepare(&mut inner, first, end, true)? {
                None => break (inner, start, first, end),
                Some(wait) => {
                    drop(inner);
                    wait.wait()?;
                }
            }
        };
        // Pages the write covers whole need no zeroing when it commits them.
        let whole = start.div_ceil(PAGE_SIZE)..(start + buf.len()) >> PAGE_SHIFT;
        inner.commit_range(&*self.hal, first, end, true, whole)?;
        inner.byte_runs(start, buf.len(), |at, frame, n| {
            let frame = frame.ok_or(ZX_ERR_INTERNAL)?;
            self.hal.write(frame, &buf[at..at + n]).map_err(hal_error)
        })
    }

    /// Changes the size to `size` rounded up to pages, and the content size to
    /// `size`. Shrinking frees the pages past the new end and removes them from every
    /// mapping (accesses there then fault as out of range), and zeroes the bytes
    /// between `size` and the end of its page. Growing adds zero pages. Mappings keep
    /// their size.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_OUT_OF_RANGE`: the rounded size overflows or exceeds [`MAX_VMO_SIZE`].
    /// - `ZX_ERR_UNAVAILABLE`: the VMO is not resizable.
    /// - `ZX_ERR_BAD_STATE`: a page past the new end is pinned.
    /// - `ZX_ERR_NO_MEMORY`: the page holding the new end is shared copy-on-write,
    ///   its tail must be zeroed, and no frame is free for the copy; nothing changes.
    ///
    /// A reference resizes its root, and every reference of the root follows.
    pub fn set_size(&self, size: u64) -> ZxResult {
        let rounded = vmo_size_for(size)?;
        if !self.resizable {
            return Err(ZX_ERR_UNAVAILABLE);
        }
        if let Some(window) = self.slice.as_ref().filter(|s| s.reference) {
            return window.root.set_size(size);
        }
        let mut inner = self.inner.lock();
        // The tail of the last page is zeroed below, so that growing again shows
        // zeros; a shared page gets its private copy first, before anything changes.
        let tail = size as usize % PAGE_SIZE;
        let tail_page = size as usize >> PAGE_SHIFT;
        if inner.any_pinned(rounded >> PAGE_SHIFT, usize::MAX) {
            return Err(ZX_ERR_BAD_STATE);
        }
        if tail != 0 {
            inner.make_private(&*self.hal, tail_page, tail_page + 1)?;
        }
        let old = inner.size;
        inner.size = rounded;
        inner.content_size = size;
        inner.sync_references();
        let mut removed = Removed::default();
        if rounded < old {
            removed.frames = inner.take_pages(rounded >> PAGE_SHIFT, usize::MAX);
            removed.mappings = inner.unmap_from_mappings(rounded, old);
        }
        if tail != 0 {
            if let Some(&frame) = inner.pages.get(&tail_page) {
                self.hal
                    .zero(frame + tail, PAGE_SIZE - tail)
                    .map_err(hal_error)?;
            }
        }
        let answered = VmObject::pager_resized(&mut inner, old, rounded);
        drop(inner);
        removed.release(&*self.hal);
        self.pager_answered(answered);
        Ok(())
    }

    /// Sets the content size (`ZX_PROP_VMO_CONTENT_SIZE`). Bytes between the new
    /// content size and the VMO's size are zeroed.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NO_MEMORY`: a partial page to zero is shared copy-on-write and no
    ///   frame is free for its private copy.
    /// - `ZX_ERR_INTERNAL`: the HAL refuses to zero a frame it handed out.
    pub fn set_content_size(&self, content_size: u64) -> ZxResult {
        if let Some(window) = self.slice.as_ref().filter(|s| s.reference) {
            return window.root.set_content_size(content_size);
        }
        if let Some(slice) = &self.slice {
            // The bytes past the new content size are the root's.
            let size = {
                let mut inner = self.inner.lock();
                inner.content_size = content_size;
                inner.size as u64
            };
            if content_size < size {
                let start = slice.offset as u64 + content_size;
                return slice.root.zero_in_place(start, slice.offset as u64 + size);
            }
            return Ok(());
        }
        let mut inner = self.inner.lock();
        inner.content_size = content_size;
        inner.sync_references();
        let size = inner.size as u64;
        let removed = if content_size < size {
            inner.zero_bytes(&*self.hal, content_size as usize, size as usize)?
        } else {
            Removed::default()
        };
        drop(inner);
        removed.release(&*self.hal);
        Ok(())
    }
}
