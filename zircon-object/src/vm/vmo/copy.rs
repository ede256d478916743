//! Copies between two VMOs' frames, with no buffer in between: how the kernel
//! moves `zx_vmo_read` / `zx_vmo_write` data to and from the VMO behind a user
//! mapping.

use super::*;
use crate::error::hal_error;
use crate::vm::reclaim::{pages_for, retry};
use kernel_hal::{PAGE_SHIFT, PAGE_SIZE};

/// A run of bytes of one VMO: `(offset from the copy's start, first frame byte or
/// None for uncommitted pages, length)`.
type Run = (usize, Option<PhysAddr>, usize);

impl VmObject {
    /// The VMO that holds this one's pages (itself, or a slice's root) and the
    /// byte offset there of byte `offset` here.
    fn page_holder(&self, offset: u64) -> (&VmObject, u64) {
        match &self.slice {
            Some(slice) => (&slice.root, offset + slice.offset as u64),
            None => (self, offset),
        }
    }

    /// Copies `len` bytes of `src` at `src_offset` into this VMO at `offset`, frame
    /// to frame, committing the pages written (whole pages without zeroing them
    /// first) and giving shared pages their private copy. Both VMOs are used as
    /// through a mapping: neither's cache policy is checked (a syscall checks the
    /// VMO it names with [`check_io`](Self::check_io) first).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_OUT_OF_RANGE` (either range past its VMO's end), `ZX_ERR_NO_MEMORY`
    /// (no frame to commit or copy into), a pager's failure, as
    /// [`write`](Self::write) and [`read`](Self::read).
    pub(crate) fn copy_from(
        &self,
        offset: u64,
        src: &VmObject,
        src_offset: u64,
        len: usize,
    ) -> ZxResult {
        let pages = pages_for(len as u64);
        retry(&*self.hal, pages, || {
            self.copy_once(offset, src, src_offset, len)
        })
    }

    fn copy_once(&self, offset: u64, src: &VmObject, src_offset: u64, len: usize) -> ZxResult {
        self.inner.lock().check_io(offset, len, false)?;
        src.inner.lock().check_io(src_offset, len, false)?;
        let (dst, offset) = self.page_holder(offset);
        let (src, src_offset) = src.page_holder(src_offset);
        if len == 0 {
            return Ok(());
        }
        if core::ptr::eq(dst, src) {
            // One lock over both ends: through a buffer, a page at a time.
            let mut page = [0u8; PAGE_SIZE];
            let mut done = 0;
            while done < len {
                let n = (len - done).min(PAGE_SIZE);
                src.read_bytes(src_offset + done as u64, &mut page[..n], false)?;
                dst.write_bytes(offset + done as u64, &page[..n], false)?;
                done += n;
            }
            return Ok(());
        }
        let pages_of = |at: u64| {
            let at = at as usize;
            (at >> PAGE_SHIFT, (at + len).div_ceil(PAGE_SIZE))
        };
        let (first, end) = pages_of(offset);
        let (src_first, src_end) = pages_of(src_offset);
        // A pager snapshot fetches its parent's pages under its own lock alone
        // (it takes the parent's); those pages then stay.
        src.prepare_alone(src_first, src_end, false)?;
        dst.prepare_alone(first, end, true)?;
        // Two VMO locks at once, always taken in address order; a pager-backed
        // VMO checks its pages again under them, and if one must wait, both
        // locks go first.
        let dst_first = (dst as *const VmObject) < (src as *const VmObject);
        let (mut dst_inner, src_inner) = loop {
            let (mut d, mut s) = if dst_first {
                let d = dst.inner.lock();
                (d, src.inner.lock())
            } else {
                let s = src.inner.lock();
                (dst.inner.lock(), s)
            };
            d.check_io(offset, len, false)?;
            s.check_io(src_offset, len, false)?;
            let mut wait = None;
            if src.pager.is_some() {
                wait = src.pager_prepare(&mut s, src_first, src_end, false)?;
            }
            if wait.is_none() && dst.pager.is_some() {
                wait = dst.pager_prepare(&mut d, first, end, true)?;
            }
            match wait {
                None => break (d, s),
                Some(wait) => {
                    drop(d);
                    drop(s);
                    wait.wait()?;
                }
            }
        };
        let start = offset as usize;
        let src_start = src_offset as usize;
        let whole = start.div_ceil(PAGE_SIZE)..(start + len) >> PAGE_SHIFT;
        dst_inner.commit_range(&*dst.hal, first, end, true, whole)?;
        let mut from: Vec<Run> = Vec::new();
        src_inner.byte_runs(src_start, len, |at, frame, n| {
            from.push((at, frame, n));
            Ok(())
        })?;
        let mut runs = from.into_iter().peekable();
        dst_inner.byte_runs(start, len, |at, frame, n| {
            let to = frame.ok_or(ZX_ERR_INTERNAL)?;
            // Copy the parts of the source runs that overlap `[at, at + n)`.
            let mut pos = at;
            while pos < at + n {
                let &(s_at, s_frame, s_n) = runs.peek().ok_or(ZX_ERR_INTERNAL)?;
                let piece = (s_at + s_n).min(at + n) - pos;
                let dst_paddr = to + (pos - at);
                match s_frame {
                    Some(s) => dst.hal.copy(dst_paddr, s + (pos - s_at), piece),
                    None => dst.hal.zero(dst_paddr, piece),
                }
                .map_err(hal_error)?;
                pos += piece;
                if pos == s_at + s_n {
                    runs.next();
                }
            }
            Ok(())
        })
    }

    /// Runs [`pager_prepare`](Self::pager_prepare) over pages `[first, end)`
    /// under this VMO's lock alone, waiting as often as it asks. A range past
    /// the end is left for the caller's own check.
    fn prepare_alone(&self, first: usize, end: usize, write: bool) -> ZxResult {
        loop {
            let mut inner = self.inner.lock();
            if end > inner.size >> PAGE_SHIFT {
                return Ok(());
            }
            match self.pager_prepare(&mut inner, first, end, write)? {
                None => return Ok(()),
                Some(wait) => {
                    drop(inner);
                    wait.wait()?;
                }
            }
        }
    }
}
