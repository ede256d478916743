//! `zx_process_read_memory` / `zx_process_write_memory`: a debugger's access to a
//! process's memory, which ignores the mappings' protection.

use crate::{status, Process};
use alloc::vec;
use kernel_hal::PAGE_SIZE;
use zircon_object::abi::*;
use zircon_object::task;
use zircon_object::ZxResult;

/// The largest transfer one call accepts (64 MiB, as Zircon).
const MAX_TRANSFER: usize = 64 << 20;

impl Process {
    /// Reads up to `buffer_size` bytes of `process`'s memory at `vaddr` into this
    /// process's memory at `buffer`, page by page, stopping at the first page that
    /// is not mapped; writes the count to `actual` (optional). Mapping protection is
    /// ignored, as for a debugger.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (the
    ///   handle needs READ and WRITE).
    /// - `ZX_ERR_INVALID_ARGS`: `buffer_size` zero or above 64 MiB, or a bad
    ///   `buffer` / `actual`.
    /// - `ZX_ERR_NO_MEMORY`: not even the first byte at `vaddr` is mapped.
    pub fn zx_process_read_memory(
        &self,
        process: zx_handle_t,
        vaddr: usize,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
    ) -> zx_status_t {
        status((|| {
            let target = self.debug_target(process, buffer_size)?;
            let mut chunk = vec![0u8; PAGE_SIZE];
            let done = self.transfer(vaddr, buffer_size, |addr, n, at| {
                target
                    .aspace()
                    .read_debug(addr, &mut chunk[..n])
                    .map_err(|_| ZX_ERR_NO_MEMORY)?;
                self.copy_out(buffer.wrapping_add(at), &chunk[..n])
            })?;
            if actual != 0 {
                self.out_usize(actual, done)?;
            }
            Ok(())
        })())
    }

    // The read and write calls mirror each other; their shared steps are helpers
    // (`debug_target`, `transfer`), what is left is the direction of the copy.
    /// Writes up to `buffer_size` bytes from this process's memory at `buffer` into
    /// `process`'s memory at `vaddr`, page by page, stopping at the first page that
    /// is not mapped; writes the count to `actual` (optional). Mapping protection is
    /// ignored, as for a debugger.
    ///
    /// # Errors
    ///
    /// As [`zx_process_read_memory`](Self::zx_process_read_memory).
    pub fn zx_process_write_memory(
        &self,
        process: zx_handle_t,
        vaddr: usize,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
    ) -> zx_status_t {
        status((|| {
            let target = self.debug_target(process, buffer_size)?;
            let mut chunk = vec![0u8; PAGE_SIZE];
            let done = self.transfer(vaddr, buffer_size, |addr, n, at| {
                self.copy_in(buffer.wrapping_add(at), &mut chunk[..n])?;
                target
                    .aspace()
                    .write_debug(addr, &chunk[..n])
                    .map_err(|_| ZX_ERR_NO_MEMORY)
            })?;
            if actual != 0 {
                self.out_usize(actual, done)?;
            }
            Ok(())
        })())
    }

    fn debug_target(
        &self,
        process: zx_handle_t,
        buffer_size: usize,
    ) -> ZxResult<alloc::sync::Arc<task::Process>> {
        let (target, _) = self
            .inner
            .get_object::<task::Process>(process, ZX_RIGHT_READ | ZX_RIGHT_WRITE)?;
        if buffer_size == 0 || buffer_size > MAX_TRANSFER {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        Ok(target)
    }

    /// Runs `step(target_addr, len, offset)` over `[vaddr, vaddr + len)` in page
    /// pieces; a failing first piece fails the call, a later one ends it early.
    /// Returns how many bytes moved.
    fn transfer(
        &self,
        vaddr: usize,
        len: usize,
        mut step: impl FnMut(usize, usize, usize) -> ZxResult,
    ) -> ZxResult<usize> {
        let mut done = 0;
        while done < len {
            let addr = vaddr.checked_add(done).ok_or(ZX_ERR_NO_MEMORY)?;
            let n = (PAGE_SIZE - addr % PAGE_SIZE).min(len - done);
            match step(addr, n, done) {
                Ok(()) => done += n,
                Err(err) if done == 0 => return Err(err),
                Err(_) => break,
            }
        }
        Ok(done)
    }
}
