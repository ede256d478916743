//! SCAFFOLD ONLY (branch `scaffold`, never merged): the exact syscall surface with every
//! call answering ZX_ERR_NOT_SUPPORTED, so code written against the surface compiles
//! before the real layer lands on main.
#![allow(missing_docs, clippy::too_many_arguments, unused_variables)]

pub use zircon_object::abi::*;

pub const SYS_VMAR_ROOT_SELF: u32 = 1;
pub const SYS_PROCESS_SELF: u32 = 2;
pub const SYS_VMAR_ALLOCATE: u32 = 3;
pub const SYS_VMAR_MAP: u32 = 4;
pub const SYS_VMAR_UNMAP: u32 = 5;
pub const SYS_VMAR_PROTECT: u32 = 6;
pub const SYS_VMAR_DESTROY: u32 = 7;
pub const SYS_VMAR_OP_RANGE: u32 = 8;
pub const SYS_VMO_CREATE: u32 = 9;
pub const SYS_VMO_READ: u32 = 10;
pub const SYS_VMO_WRITE: u32 = 11;
pub const SYS_VMO_GET_SIZE: u32 = 12;
pub const SYS_VMO_SET_SIZE: u32 = 13;
pub const SYS_VMO_OP_RANGE: u32 = 14;
pub const SYS_VMO_CREATE_CHILD: u32 = 15;
pub const SYS_VMO_SET_CACHE_POLICY: u32 = 16;
pub const SYS_HANDLE_CLOSE: u32 = 17;
pub const SYS_HANDLE_DUPLICATE: u32 = 18;
pub const SYS_HANDLE_REPLACE: u32 = 19;
pub const SYS_OBJECT_GET_INFO: u32 = 20;
pub const SYS_OBJECT_GET_PROPERTY: u32 = 21;
pub const SYS_OBJECT_SET_PROPERTY: u32 = 22;
pub const SYS_PROCESS_READ_MEMORY: u32 = 23;
pub const SYS_PROCESS_WRITE_MEMORY: u32 = 24;

pub struct Process;

const NS: i32 = ZX_ERR_NOT_SUPPORTED;

impl Process {
    pub fn zx_vmar_root_self(&self) -> u32 {
        0
    }
    pub fn zx_process_self(&self) -> u32 {
        0
    }
    pub fn zx_vmar_allocate(
        &self,
        parent_vmar: u32,
        options: u32,
        offset: usize,
        size: usize,
        child_vmar: usize,
        child_addr: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_vmar_map(
        &self,
        vmar: u32,
        options: u32,
        vmar_offset: usize,
        vmo: u32,
        vmo_offset: u64,
        len: usize,
        mapped_addr: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_vmar_unmap(&self, vmar: u32, addr: usize, len: usize) -> i32 {
        NS
    }
    pub fn zx_vmar_protect(&self, vmar: u32, options: u32, addr: usize, len: usize) -> i32 {
        NS
    }
    pub fn zx_vmar_destroy(&self, vmar: u32) -> i32 {
        NS
    }
    pub fn zx_vmar_op_range(
        &self,
        vmar: u32,
        op: u32,
        address: usize,
        size: usize,
        buffer: usize,
        buffer_size: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_vmo_create(&self, size: u64, options: u32, out: usize) -> i32 {
        NS
    }
    pub fn zx_vmo_read(&self, handle: u32, buffer: usize, offset: u64, buffer_size: usize) -> i32 {
        NS
    }
    pub fn zx_vmo_write(&self, handle: u32, buffer: usize, offset: u64, buffer_size: usize) -> i32 {
        NS
    }
    pub fn zx_vmo_get_size(&self, handle: u32, size: usize) -> i32 {
        NS
    }
    pub fn zx_vmo_set_size(&self, handle: u32, size: u64) -> i32 {
        NS
    }
    pub fn zx_vmo_op_range(
        &self,
        handle: u32,
        op: u32,
        offset: u64,
        size: u64,
        buffer: usize,
        buffer_size: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_vmo_create_child(
        &self,
        handle: u32,
        options: u32,
        offset: u64,
        size: u64,
        out: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_vmo_set_cache_policy(&self, handle: u32, cache_policy: u32) -> i32 {
        NS
    }
    pub fn zx_handle_close(&self, handle: u32) -> i32 {
        NS
    }
    pub fn zx_handle_duplicate(&self, handle: u32, rights: u32, out: usize) -> i32 {
        NS
    }
    pub fn zx_handle_replace(&self, handle: u32, rights: u32, out: usize) -> i32 {
        NS
    }
    pub fn zx_object_get_info(
        &self,
        handle: u32,
        topic: u32,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
        avail: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_object_get_property(
        &self,
        handle: u32,
        property: u32,
        value: usize,
        value_size: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_object_set_property(
        &self,
        handle: u32,
        property: u32,
        value: usize,
        value_size: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_process_read_memory(
        &self,
        process: u32,
        vaddr: usize,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
    ) -> i32 {
        NS
    }
    pub fn zx_process_write_memory(
        &self,
        process: u32,
        vaddr: usize,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
    ) -> i32 {
        NS
    }
    pub fn read_memory(&self, vaddr: usize, buf: &mut [u8]) -> Result<(), i32> {
        Err(NS)
    }
    pub fn write_memory(&self, vaddr: usize, buf: &[u8]) -> Result<(), i32> {
        Err(NS)
    }
    pub fn dispatch(&self, number: u32, args: [usize; 8]) -> i32 {
        ZX_ERR_BAD_SYSCALL
    }
}
