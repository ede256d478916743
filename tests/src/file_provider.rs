//! A page provider that serves pager-backed VMOs from a host file, read-write: the
//! example of `zircon_object::vm::pager::PageProvider` for an embedder with no
//! user pager (a file system in a kernel would do the same with its block cache).
//!
//! A VMO made by [`FileProvider::create_vmo`] shows the file's bytes from offset 0
//! (bytes past the file's end read as zeros). A read request is answered with the
//! file's bytes ([`VmObject::supply_bytes`]); a failed host read fails the request
//! with `ZX_ERR_IO`, which the access that waits for it reports. Pages written
//! through the VMO become dirty; [`FileProvider::writeback`] writes every dirty run
//! back to the file, bracketed by `writeback_begin` / `writeback_end`, after which
//! the pages are clean and may be evicted under memory pressure (the provider is
//! told, and the next touch asks it again).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kernel_hal::Hal;
use zircon_object::abi::ZX_ERR_IO;
use zircon_object::vm::pager::{PageProvider, PageRequest, PageRequestKind};
use zircon_object::vm::{VmObject, VmoOptions};
use zircon_object::ZxResult;

/// Serves pager-backed VMOs from one host file (see the module doc).
pub struct FileProvider {
    file: File,
    /// Read requests answered.
    reads: AtomicUsize,
    /// Pages the VMOs were told to give up (evicted clean pages).
    evicted: AtomicUsize,
    /// Bytes written back to the file.
    written: AtomicUsize,
}

impl FileProvider {
    /// A provider over `file`, which must be open for reading and writing.
    pub fn new(file: File) -> Arc<FileProvider> {
        Arc::new(FileProvider {
            file,
            reads: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
            written: AtomicUsize::new(0),
        })
    }

    /// A pager-backed VMO of `size` bytes on `hal` whose pages are the file's.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_OUT_OF_RANGE`: `size` rounded up to pages is too large for a VMO.
    pub fn create_vmo(self: &Arc<Self>, hal: Arc<dyn Hal>, size: u64) -> ZxResult<Arc<VmObject>> {
        VmObject::new_paged(hal, size, VmoOptions::empty(), self.clone(), 0)
    }

    /// Writes every dirty page of `vmo` (made by this provider) back to the file,
    /// one run at a time; returns how many bytes were written. A page written
    /// again while its run is being written stays dirty.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_IO`: the host refused the write (the run stays dirty).
    /// - `ZX_ERR_INVALID_ARGS`: `vmo` is not pager-backed.
    pub fn writeback(&self, vmo: &VmObject) -> ZxResult<u64> {
        let size = vmo.size() as u64;
        let mut written = 0;
        for (offset, len) in vmo.dirty_ranges(0, size)? {
            vmo.writeback_begin(offset, len)?;
            let mut bytes = vec![0u8; len as usize];
            vmo.read(offset, &mut bytes)?;
            if self.file.write_all_at(&bytes, offset).is_err() {
                // Back to dirty: the next writeback tries the run again.
                vmo.dirty_pages(offset, len)?;
                return Err(ZX_ERR_IO);
            }
            vmo.writeback_end(offset, len)?;
            written += len;
        }
        self.written.fetch_add(written as usize, Ordering::Relaxed);
        Ok(written)
    }

    /// How many read requests were answered.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::Relaxed)
    }

    /// How many pages the provider was told were evicted.
    pub fn evicted_pages(&self) -> usize {
        self.evicted.load(Ordering::Relaxed)
    }

    /// How many bytes were written back in all.
    pub fn bytes_written(&self) -> usize {
        self.written.load(Ordering::Relaxed)
    }

    /// Reads `buf.len()` bytes at `offset`; bytes past the file's end are zeros.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf[done..].fill(0);
        Ok(())
    }
}

impl PageProvider for FileProvider {
    fn page_request(&self, vmo: &Arc<VmObject>, request: PageRequest) {
        let (offset, len) = (request.offset, request.len);
        match request.kind {
            PageRequestKind::Read => {
                let mut bytes = vec![0u8; len as usize];
                let answered = match self.read_at(&mut bytes, offset) {
                    Ok(()) => vmo.supply_bytes(offset, &bytes),
                    Err(_) => Err(ZX_ERR_IO),
                };
                self.reads.fetch_add(1, Ordering::Relaxed);
                if answered.is_err() {
                    // The waiting access reports the failure. A host read error,
                    // or a machine out of memory even after reclaim, is an I/O
                    // error: the closest status a pager may fail with. (A detached
                    // VMO refuses both answers; its waiters have been failed.)
                    let _ = vmo.fail_pages(offset, len, ZX_ERR_IO);
                }
            }
            // No dirty requests come without TRAP_DIRTY; grant any that do.
            PageRequestKind::Dirty => {
                let _ = vmo.dirty_pages(offset, len);
            }
        }
    }

    fn evicted(&self, _key: u64, _offset: u64, len: u64) {
        self.evicted
            .fetch_add((len as usize) / kernel_hal::PAGE_SIZE, Ordering::Relaxed);
    }
}
