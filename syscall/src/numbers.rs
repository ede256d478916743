//! Syscall numbers (this project's own numbering) and dispatch by number, for trap
//! entry and fuzzing.
//!
//! Arguments arrive as eight machine words in the order of the call's signature.
//! A word passed where the call takes a `u32` (handle, options, rights, topic,
//! property, op) is truncated to its low 32 bits, as a 32-bit register read would
//! be; `u64` and `usize` arguments are taken whole. Unused words are ignored.

use crate::Process;
use fuchsia_zircon_types::*;

/// `zx_vmar_root_self`: returns the handle value as a non-negative status.
pub const SYS_VMAR_ROOT_SELF: u32 = 1;
/// `zx_process_self`: returns the handle value as a non-negative status.
pub const SYS_PROCESS_SELF: u32 = 2;
/// `zx_vmar_allocate(parent_vmar, options, offset, size, child_vmar, child_addr)`.
pub const SYS_VMAR_ALLOCATE: u32 = 3;
/// `zx_vmar_map(vmar, options, vmar_offset, vmo, vmo_offset, len, mapped_addr)`.
pub const SYS_VMAR_MAP: u32 = 4;
/// `zx_vmar_unmap(vmar, addr, len)`.
pub const SYS_VMAR_UNMAP: u32 = 5;
/// `zx_vmar_protect(vmar, options, addr, len)`.
pub const SYS_VMAR_PROTECT: u32 = 6;
/// `zx_vmar_destroy(vmar)`.
pub const SYS_VMAR_DESTROY: u32 = 7;
/// `zx_vmar_op_range(vmar, op, address, size, buffer, buffer_size)`.
pub const SYS_VMAR_OP_RANGE: u32 = 8;
/// `zx_vmo_create(size, options, out)`.
pub const SYS_VMO_CREATE: u32 = 9;
/// `zx_vmo_read(handle, buffer, offset, buffer_size)`.
pub const SYS_VMO_READ: u32 = 10;
/// `zx_vmo_write(handle, buffer, offset, buffer_size)`.
pub const SYS_VMO_WRITE: u32 = 11;
/// `zx_vmo_get_size(handle, size)`.
pub const SYS_VMO_GET_SIZE: u32 = 12;
/// `zx_vmo_set_size(handle, size)`.
pub const SYS_VMO_SET_SIZE: u32 = 13;
/// `zx_vmo_op_range(handle, op, offset, size, buffer, buffer_size)`.
pub const SYS_VMO_OP_RANGE: u32 = 14;
/// `zx_vmo_create_child(handle, options, offset, size, out)`.
pub const SYS_VMO_CREATE_CHILD: u32 = 15;
/// `zx_vmo_set_cache_policy(handle, cache_policy)`.
pub const SYS_VMO_SET_CACHE_POLICY: u32 = 16;
/// `zx_handle_close(handle)`.
pub const SYS_HANDLE_CLOSE: u32 = 17;
/// `zx_handle_duplicate(handle, rights, out)`.
pub const SYS_HANDLE_DUPLICATE: u32 = 18;
/// `zx_handle_replace(handle, rights, out)`.
pub const SYS_HANDLE_REPLACE: u32 = 19;
/// `zx_object_get_info(handle, topic, buffer, buffer_size, actual, avail)`.
pub const SYS_OBJECT_GET_INFO: u32 = 20;
/// `zx_object_get_property(handle, property, value, value_size)`.
pub const SYS_OBJECT_GET_PROPERTY: u32 = 21;
/// `zx_object_set_property(handle, property, value, value_size)`.
pub const SYS_OBJECT_SET_PROPERTY: u32 = 22;
/// `zx_process_read_memory(process, vaddr, buffer, buffer_size, actual)`.
pub const SYS_PROCESS_READ_MEMORY: u32 = 23;
/// `zx_process_write_memory(process, vaddr, buffer, buffer_size, actual)`.
pub const SYS_PROCESS_WRITE_MEMORY: u32 = 24;

impl Process {
    /// Calls syscall `number` with `args`, as a trap handler would. Returns the
    /// call's status (for `SYS_VMAR_ROOT_SELF` and `SYS_PROCESS_SELF`, the handle
    /// value, which is positive).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_SYSCALL` for a number that names no call; otherwise whatever the
    /// call returns.
    pub fn dispatch(&self, number: u32, args: [usize; 8]) -> zx_status_t {
        let [a0, a1, a2, a3, a4, a5, a6, _] = args;
        let u = |word: usize| word as u32;
        match number {
            SYS_VMAR_ROOT_SELF => self.zx_vmar_root_self() as i32,
            SYS_PROCESS_SELF => self.zx_process_self() as i32,
            SYS_VMAR_ALLOCATE => self.zx_vmar_allocate(u(a0), u(a1), a2, a3, a4, a5),
            SYS_VMAR_MAP => self.zx_vmar_map(u(a0), u(a1), a2, u(a3), a4 as u64, a5, a6),
            SYS_VMAR_UNMAP => self.zx_vmar_unmap(u(a0), a1, a2),
            SYS_VMAR_PROTECT => self.zx_vmar_protect(u(a0), u(a1), a2, a3),
            SYS_VMAR_DESTROY => self.zx_vmar_destroy(u(a0)),
            SYS_VMAR_OP_RANGE => self.zx_vmar_op_range(u(a0), u(a1), a2, a3, a4, a5),
            SYS_VMO_CREATE => self.zx_vmo_create(a0 as u64, u(a1), a2),
            SYS_VMO_READ => self.zx_vmo_read(u(a0), a1, a2 as u64, a3),
            SYS_VMO_WRITE => self.zx_vmo_write(u(a0), a1, a2 as u64, a3),
            SYS_VMO_GET_SIZE => self.zx_vmo_get_size(u(a0), a1),
            SYS_VMO_SET_SIZE => self.zx_vmo_set_size(u(a0), a1 as u64),
            SYS_VMO_OP_RANGE => self.zx_vmo_op_range(u(a0), u(a1), a2 as u64, a3 as u64, a4, a5),
            SYS_VMO_CREATE_CHILD => {
                self.zx_vmo_create_child(u(a0), u(a1), a2 as u64, a3 as u64, a4)
            }
            SYS_VMO_SET_CACHE_POLICY => self.zx_vmo_set_cache_policy(u(a0), u(a1)),
            SYS_HANDLE_CLOSE => self.zx_handle_close(u(a0)),
            SYS_HANDLE_DUPLICATE => self.zx_handle_duplicate(u(a0), u(a1), a2),
            SYS_HANDLE_REPLACE => self.zx_handle_replace(u(a0), u(a1), a2),
            SYS_OBJECT_GET_INFO => self.zx_object_get_info(u(a0), u(a1), a2, a3, a4, a5),
            SYS_OBJECT_GET_PROPERTY => self.zx_object_get_property(u(a0), u(a1), a2, a3),
            SYS_OBJECT_SET_PROPERTY => self.zx_object_set_property(u(a0), u(a1), a2, a3),
            SYS_PROCESS_READ_MEMORY => self.zx_process_read_memory(u(a0), a1, a2, a3, a4),
            SYS_PROCESS_WRITE_MEMORY => self.zx_process_write_memory(u(a0), a1, a2, a3, a4),
            _ => ZX_ERR_BAD_SYSCALL,
        }
    }
}
