//! Zircon's virtual-memory syscalls, with Zircon's exact signatures.
//!
//! `#![no_std]` + `alloc`, over `zircon-object`. `use zircon_syscall::*;` brings
//! [`Process`], whose methods are the `zx_*` calls named, ordered and typed as in
//! Zircon: handle values are `u32`, every pointer argument is a user address (`usize`)
//! in the process's address space, every result an `i32` status. It also brings
//! every ABI constant and type ([`zircon_object::abi`]) and the syscall numbers that
//! [`Process::dispatch`] takes.
//!
//! Every read and write of user memory goes through the process's address space
//! ([`Process::read_memory`] / [`Process::write_memory`]), never through a host
//! pointer, so any argument, however wild, yields a status. Nothing here panics on
//! any input, and a failed call leaves every object as it was (Zircon's documented
//! exceptions aside: partial user copies and multi-piece range ops).

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod dev;
mod handle;
mod info;
mod numbers;
mod pager;
mod port;
mod process;
pub mod records;
pub mod signature;
mod vmar;
mod vmo;

pub use numbers::*;
pub use records::{
    BtiInfo, DirtyRange, HandleBasic, Layout, MapsEntry, MapsMapping, PageRequestRecord,
    PagerVmoStats, PortPacketRecord, ResourceInfo, VmarInfo, VmoInfo,
};
pub use signature::{Param, Syscall};
pub use zircon_object::abi::*;
// The statuses as the ABI's `i32` values (the object layer's `ZX_ERR_*` are typed
// `ZxError`s); named here, they take precedence over the glob above.
pub use fuchsia_zircon_types::{
    ZX_ERR_ACCESS_DENIED, ZX_ERR_ADDRESS_IN_USE, ZX_ERR_ADDRESS_UNREACHABLE, ZX_ERR_ALREADY_BOUND,
    ZX_ERR_ALREADY_EXISTS, ZX_ERR_ASYNC, ZX_ERR_BAD_HANDLE, ZX_ERR_BAD_PATH, ZX_ERR_BAD_STATE,
    ZX_ERR_BAD_SYSCALL, ZX_ERR_BUFFER_TOO_SMALL, ZX_ERR_CANCELED, ZX_ERR_CONNECTION_ABORTED,
    ZX_ERR_CONNECTION_REFUSED, ZX_ERR_CONNECTION_RESET, ZX_ERR_FILE_BIG, ZX_ERR_INTERNAL,
    ZX_ERR_INTERRUPTED_RETRY, ZX_ERR_INVALID_ARGS, ZX_ERR_IO, ZX_ERR_IO_DATA_INTEGRITY,
    ZX_ERR_IO_DATA_LOSS, ZX_ERR_IO_INVALID, ZX_ERR_IO_MISSED_DEADLINE, ZX_ERR_IO_NOT_PRESENT,
    ZX_ERR_IO_OVERRUN, ZX_ERR_IO_REFUSED, ZX_ERR_NEXT, ZX_ERR_NOT_CONNECTED, ZX_ERR_NOT_DIR,
    ZX_ERR_NOT_EMPTY, ZX_ERR_NOT_FILE, ZX_ERR_NOT_FOUND, ZX_ERR_NOT_SUPPORTED, ZX_ERR_NO_MEMORY,
    ZX_ERR_NO_RESOURCES, ZX_ERR_NO_SPACE, ZX_ERR_OUT_OF_RANGE, ZX_ERR_PEER_CLOSED,
    ZX_ERR_PROTOCOL_NOT_SUPPORTED, ZX_ERR_SHOULD_WAIT, ZX_ERR_STOP, ZX_ERR_TIMED_OUT,
    ZX_ERR_UNAVAILABLE, ZX_ERR_WRONG_TYPE,
};

use alloc::sync::Arc;
use kernel_hal::Hal;
use zircon_object::object::Handle;
use zircon_object::task;
use zircon_object::{ZxError, ZxResult};

/// A process as its own threads see it: the receiver of every syscall.
///
/// Dropping it closes every handle (the process exits); its memory goes once the
/// last handle or mapping holding each object is gone.
pub struct Process {
    inner: Arc<task::Process>,
    self_handle: zx_handle_t,
    root_vmar_handle: zx_handle_t,
}

// The threading contract: any number of threads may make calls into one process
// at once (each call locks what it touches; see docs/EMBEDDING.md).
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Process>();
};

/// `ZX_OK` for `Ok`, the error status otherwise.
fn status(result: ZxResult) -> zx_status_t {
    match result {
        Ok(()) => ZX_OK,
        Err(err) => err.raw(),
    }
}

impl Process {
    /// A new process on `hal` with a fresh address space, holding a handle to itself
    /// (`zx_process_self`) and one to its root region (`zx_vmar_root_self`).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the HAL could not create an address space.
    pub fn new(hal: Arc<dyn Hal>) -> Result<Process, zx_status_t> {
        let inner = task::Process::new(hal).map_err(ZxError::raw)?;
        let self_handle = inner
            .add_handle(Handle::new(inner.clone(), ZX_DEFAULT_PROCESS_RIGHTS))
            .map_err(ZxError::raw)?;
        let root = inner.root_vmar().clone();
        let root_rights = vmar::vmar_default_rights(&root);
        let root_vmar_handle = inner
            .add_handle(Handle::new(root, root_rights))
            .map_err(ZxError::raw)?;
        Ok(Process {
            inner,
            self_handle,
            root_vmar_handle,
        })
    }

    /// The process object: handle table and address space.
    pub fn object(&self) -> &Arc<task::Process> {
        &self.inner
    }

    /// The handle to the process's root region, installed at creation.
    pub fn zx_vmar_root_self(&self) -> zx_handle_t {
        self.root_vmar_handle
    }

    /// The handle to the process itself, installed at creation.
    pub fn zx_process_self(&self) -> zx_handle_t {
        self.self_handle
    }

    /// The kernel's copy from user memory: reads `buf.len()` bytes at `vaddr`
    /// through the address space, honouring each mapping's protection (reading needs
    /// READ). Never commits a page.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_INVALID_ARGS`: some byte is unmapped, unreadable, or past its VMO's
    /// end (nothing is copied then).
    pub fn read_memory(&self, vaddr: usize, buf: &mut [u8]) -> Result<(), zx_status_t> {
        self.copy_in(vaddr, buf).map_err(ZxError::raw)
    }

    /// [`read_memory`](Self::read_memory) with the object layer's error type.
    fn copy_in(&self, vaddr: usize, buf: &mut [u8]) -> ZxResult {
        self.inner
            .aspace()
            .read_user(vaddr, buf)
            .map_err(|_| zircon_object::abi::ZX_ERR_INVALID_ARGS)
    }

    /// The kernel's copy to user memory: writes `buf` at `vaddr` through the address
    /// space, honouring each mapping's protection (writing needs WRITE) and
    /// committing pages as needed.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_INVALID_ARGS`: some byte is unmapped, not writable, or past its VMO's
    /// end; nothing is written then. Also when no frame can be had for a page: the
    /// pages before it stay written then (as in Zircon, a user copy is not atomic).
    pub fn write_memory(&self, vaddr: usize, buf: &[u8]) -> Result<(), zx_status_t> {
        self.copy_out(vaddr, buf).map_err(ZxError::raw)
    }

    /// [`write_memory`](Self::write_memory) with the object layer's error type.
    fn copy_out(&self, vaddr: usize, buf: &[u8]) -> ZxResult {
        self.inner
            .aspace()
            .write_user(vaddr, buf)
            .map_err(|_| zircon_object::abi::ZX_ERR_INVALID_ARGS)
    }

    /// Writes a `u32` out-parameter.
    fn out_u32(&self, addr: usize, value: u32) -> ZxResult {
        self.copy_out(addr, &value.to_le_bytes())
    }

    /// Writes a `usize` out-parameter.
    fn out_usize(&self, addr: usize, value: usize) -> ZxResult {
        self.copy_out(addr, &value.to_le_bytes())
    }

    /// Writes a `u64` out-parameter.
    fn out_u64(&self, addr: usize, value: u64) -> ZxResult {
        self.copy_out(addr, &value.to_le_bytes())
    }

    /// Installs `handle` and writes its value to `out`; if the copy fails the handle
    /// is removed again, as if never made.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY` (table full), `ZX_ERR_INVALID_ARGS` (bad `out`).
    fn install_handle(&self, handle: Handle, out: usize) -> ZxResult<zx_handle_t> {
        let value = self.inner.add_handle(handle)?;
        if let Err(err) = self.out_u32(out, value) {
            let removed = self.inner.remove_handle(value);
            drop(removed);
            return Err(err);
        }
        Ok(value)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.inner.exit();
    }
}
