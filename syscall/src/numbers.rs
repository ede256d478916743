//! The syscall surface, declared once: each call's number, name and parameters with
//! their kinds. From this one declaration come the `SYS_*` numbers, the
//! [`SYSCALLS`] table (which the fuzz generator and `zxvm` read), and
//! [`Process::dispatch`]. Adding a call is one entry here plus its `zx_*` method.
//!
//! Numbers are this project's own. Arguments arrive as eight machine words in the
//! order of the call's signature. A word passed where the call takes a 32-bit value
//! (handle, options, rights, topic, property, op) is truncated to its low 32 bits,
//! as a 32-bit register read would be; 64-bit arguments are taken whole. Unused
//! words are ignored.

use crate::signature::{Arg::*, Extent::*, IntoRegister, OptionWord::*, ValueKind::*, Word::*};
use crate::signature::{Param, Syscall};
use crate::Process;
use fuchsia_zircon_types::*;

/// Declares the syscalls: `number SYS_NAME zx_name(param: type = kind, ...)`, with
/// `-> zx_handle_t` for a call that answers a handle instead of a status.
macro_rules! syscalls {
    ($(
        $(#[$doc:meta])*
        $number:literal $sys:ident $name:ident ( $($param:ident : $ty:ty = $arg:expr),* $(,)? )
            $(-> $ret:ident)?;
    )*) => {
        $( $(#[$doc])* pub const $sys: u32 = $number; )*

        /// Every syscall, in the order of its number.
        pub const SYSCALLS: &[Syscall] = &[$(
            Syscall {
                number: $number,
                name: stringify!($name),
                params: &[$(Param {
                    name: stringify!($param),
                    arg: $arg,
                    bits: 8 * core::mem::size_of::<$ty>() as u32,
                }),*],
                returns_handle: syscalls!(@handle $($ret)?),
                returns_time: syscalls!(@time $($ret)?),
            },
        )*];

        impl Process {
            /// Calls syscall `number` with `args`, as a trap handler would, and
            /// answers the 64-bit register it would return: the call's status
            /// (sign-extended), the handle value for the calls that answer a
            /// handle, the time for `zx_clock_get_monotonic`.
            ///
            /// # Errors
            ///
            /// `ZX_ERR_BAD_SYSCALL` for a number that names no call; otherwise
            /// whatever the call returns.
            #[allow(clippy::unnecessary_cast)]
            pub fn dispatch_wide(&self, number: u32, args: [usize; 8]) -> i64 {
                // Function arguments are evaluated left to right, so each
                // parameter takes the next word.
                let mut words = args.into_iter();
                let mut next = move || words.next().unwrap_or(0);
                match number {
                    $($sys => self.$name($(next() as $ty),*).into_register(),)*
                    _ => ZX_ERR_BAD_SYSCALL as i64,
                }
            }

            /// [`dispatch_wide`](Self::dispatch_wide) as a status: the same value
            /// for every call that answers a status or a handle. The one answer
            /// that does not fit, `zx_clock_get_monotonic`'s time, is clamped to
            /// `i32::MAX` (take it from `dispatch_wide`).
            ///
            /// # Errors
            ///
            /// `ZX_ERR_BAD_SYSCALL` for a number that names no call; otherwise
            /// whatever the call returns.
            pub fn dispatch(&self, number: u32, args: [usize; 8]) -> zx_status_t {
                let wide = self.dispatch_wide(number, args);
                wide.clamp(i32::MIN as i64, i32::MAX as i64) as zx_status_t
            }
        }
    };
    (@handle) => { false };
    (@handle zx_handle_t) => { true };
    (@handle zx_time_t) => { false };
    (@time) => { false };
    (@time zx_handle_t) => { false };
    (@time zx_time_t) => { true };
}

// The entries below look alike by design: each is one call's declaration, the single
// place its number, name and parameter kinds are written.
syscalls! {
    /// `zx_vmar_root_self()`: answers the handle value.
    1 SYS_VMAR_ROOT_SELF zx_vmar_root_self() -> zx_handle_t;
    /// `zx_process_self()`: answers the handle value.
    2 SYS_PROCESS_SELF zx_process_self() -> zx_handle_t;
    /// `zx_vmar_allocate(parent_vmar, options, offset, size, child_vmar, child_addr)`.
    3 SYS_VMAR_ALLOCATE zx_vmar_allocate(
        parent_vmar: u32 = Handle(ZX_OBJ_TYPE_VMAR),
        options: u32 = Options(VmarAllocate),
        offset: usize = Offset,
        size: usize = Len,
        child_vmar: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMAR)),
        child_addr: usize = OutWord(Address),
    );
    /// `zx_vmar_map(vmar, options, vmar_offset, vmo, vmo_offset, len, mapped_addr)`.
    4 SYS_VMAR_MAP zx_vmar_map(
        vmar: u32 = Handle(ZX_OBJ_TYPE_VMAR),
        options: u32 = Options(VmarMap),
        vmar_offset: usize = Offset,
        vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        vmo_offset: u64 = Offset,
        len: usize = Len,
        mapped_addr: usize = OutWord(Address),
    );
    /// `zx_vmar_unmap(vmar, addr, len)`.
    5 SYS_VMAR_UNMAP zx_vmar_unmap(
        vmar: u32 = Handle(ZX_OBJ_TYPE_VMAR),
        addr: usize = Addr,
        len: usize = Len,
    );
    /// `zx_vmar_protect(vmar, options, addr, len)`.
    6 SYS_VMAR_PROTECT zx_vmar_protect(
        vmar: u32 = Handle(ZX_OBJ_TYPE_VMAR),
        options: u32 = Options(VmarProtect),
        addr: usize = Addr,
        len: usize = Len,
    );
    /// `zx_vmar_destroy(vmar)`.
    7 SYS_VMAR_DESTROY zx_vmar_destroy(vmar: u32 = Handle(ZX_OBJ_TYPE_VMAR));
    /// `zx_vmar_op_range(vmar, op, address, size, buffer, buffer_size)`.
    8 SYS_VMAR_OP_RANGE zx_vmar_op_range(
        vmar: u32 = Handle(ZX_OBJ_TYPE_VMAR),
        op: u32 = Value(VmarOp),
        address: usize = Addr,
        size: usize = Len,
        buffer: usize = InOut(SizedBy(5)),
        buffer_size: usize = Len,
    );
    /// `zx_vmo_create(size, options, out)`.
    9 SYS_VMO_CREATE zx_vmo_create(
        size: u64 = Len,
        options: u32 = Options(VmoCreate),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMO)),
    );
    /// `zx_vmo_read(handle, buffer, offset, buffer_size)`.
    10 SYS_VMO_READ zx_vmo_read(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        buffer: usize = Out(SizedBy(3)),
        offset: u64 = Offset,
        buffer_size: usize = Len,
    );
    /// `zx_vmo_write(handle, buffer, offset, buffer_size)`.
    11 SYS_VMO_WRITE zx_vmo_write(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        buffer: usize = In(SizedBy(3)),
        offset: u64 = Offset,
        buffer_size: usize = Len,
    );
    /// `zx_vmo_get_size(handle, size)`.
    12 SYS_VMO_GET_SIZE zx_vmo_get_size(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        size: usize = OutWord(Size),
    );
    /// `zx_vmo_set_size(handle, size)`.
    13 SYS_VMO_SET_SIZE zx_vmo_set_size(handle: u32 = Handle(ZX_OBJ_TYPE_VMO), size: u64 = Len);
    /// `zx_vmo_op_range(handle, op, offset, size, buffer, buffer_size)`.
    14 SYS_VMO_OP_RANGE zx_vmo_op_range(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        op: u32 = Value(VmoOp),
        offset: u64 = Offset,
        size: u64 = Len,
        buffer: usize = InOut(SizedBy(5)),
        buffer_size: usize = Len,
    );
    /// `zx_vmo_create_child(handle, options, offset, size, out)`.
    15 SYS_VMO_CREATE_CHILD zx_vmo_create_child(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        options: u32 = Options(VmoChild),
        offset: u64 = Offset,
        size: u64 = Len,
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMO)),
    );
    /// `zx_vmo_set_cache_policy(handle, cache_policy)`.
    16 SYS_VMO_SET_CACHE_POLICY zx_vmo_set_cache_policy(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        cache_policy: u32 = Value(CachePolicy),
    );
    /// `zx_handle_close(handle)`.
    17 SYS_HANDLE_CLOSE zx_handle_close(handle: u32 = Handle(ZX_OBJ_TYPE_NONE));
    /// `zx_handle_duplicate(handle, rights, out)`.
    18 SYS_HANDLE_DUPLICATE zx_handle_duplicate(
        handle: u32 = Handle(ZX_OBJ_TYPE_NONE),
        rights: u32 = Value(Rights),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_NONE)),
    );
    /// `zx_handle_replace(handle, rights, out)`.
    19 SYS_HANDLE_REPLACE zx_handle_replace(
        handle: u32 = Handle(ZX_OBJ_TYPE_NONE),
        rights: u32 = Value(Rights),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_NONE)),
    );
    /// `zx_object_get_info(handle, topic, buffer, buffer_size, actual, avail)`.
    20 SYS_OBJECT_GET_INFO zx_object_get_info(
        handle: u32 = Handle(ZX_OBJ_TYPE_NONE),
        topic: u32 = Value(Topic),
        buffer: usize = Out(SizedBy(3)),
        buffer_size: usize = Len,
        actual: usize = OutWord(Count),
        avail: usize = OutWord(Count),
    );
    /// `zx_object_get_property(handle, property, value, value_size)`.
    21 SYS_OBJECT_GET_PROPERTY zx_object_get_property(
        handle: u32 = Handle(ZX_OBJ_TYPE_NONE),
        property: u32 = Value(Property),
        value: usize = Out(SizedBy(3)),
        value_size: usize = Len,
    );
    /// `zx_object_set_property(handle, property, value, value_size)`.
    22 SYS_OBJECT_SET_PROPERTY zx_object_set_property(
        handle: u32 = Handle(ZX_OBJ_TYPE_NONE),
        property: u32 = Value(Property),
        value: usize = In(SizedBy(3)),
        value_size: usize = Len,
    );
    /// `zx_process_read_memory(process, vaddr, buffer, buffer_size, actual)`.
    23 SYS_PROCESS_READ_MEMORY zx_process_read_memory(
        process: u32 = Handle(ZX_OBJ_TYPE_PROCESS),
        vaddr: usize = Addr,
        buffer: usize = Out(SizedBy(3)),
        buffer_size: usize = Len,
        actual: usize = OutWord(Count),
    );
    /// `zx_process_write_memory(process, vaddr, buffer, buffer_size, actual)`.
    24 SYS_PROCESS_WRITE_MEMORY zx_process_write_memory(
        process: u32 = Handle(ZX_OBJ_TYPE_PROCESS),
        vaddr: usize = Addr,
        buffer: usize = In(SizedBy(3)),
        buffer_size: usize = Len,
        actual: usize = OutWord(Count),
    );
    /// `zx_resource_create(parent_rsrc, options, base, size, name, name_size, resource_out)`.
    25 SYS_RESOURCE_CREATE zx_resource_create(
        parent_rsrc: u32 = Handle(ZX_OBJ_TYPE_RESOURCE),
        options: u32 = Options(Resource),
        base: u64 = PhysAddr,
        size: usize = Len,
        name: usize = In(SizedBy(5)),
        name_size: usize = Len,
        resource_out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_RESOURCE)),
    );
    /// `zx_vmo_create_physical(resource, paddr, size, out)`.
    26 SYS_VMO_CREATE_PHYSICAL zx_vmo_create_physical(
        resource: u32 = Handle(ZX_OBJ_TYPE_RESOURCE),
        paddr: u64 = PhysAddr,
        size: usize = Len,
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMO)),
    );
    /// `zx_iommu_create(resource, type_, desc, desc_size, out)`.
    27 SYS_IOMMU_CREATE zx_iommu_create(
        resource: u32 = Handle(ZX_OBJ_TYPE_RESOURCE),
        type_: u32 = Value(IommuType),
        desc: usize = In(SizedBy(3)),
        desc_size: usize = Len,
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_IOMMU)),
    );
    /// `zx_bti_create(iommu, options, bti_id, out)`.
    28 SYS_BTI_CREATE zx_bti_create(
        iommu: u32 = Handle(ZX_OBJ_TYPE_IOMMU),
        options: u32 = Options(BtiCreate),
        bti_id: u64 = Plain,
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_BTI)),
    );
    /// `zx_bti_pin(bti, options, vmo, offset, size, addrs, num_addrs, pmt_out)`.
    29 SYS_BTI_PIN zx_bti_pin(
        bti: u32 = Handle(ZX_OBJ_TYPE_BTI),
        options: u32 = Options(BtiPin),
        vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        offset: u64 = Offset,
        size: u64 = Len,
        addrs: usize = Out(CountIn { arg: 6, element: 8 }),
        num_addrs: usize = Len,
        pmt_out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_PMT)),
    );
    /// `zx_pmt_unpin(handle)`.
    30 SYS_PMT_UNPIN zx_pmt_unpin(handle: u32 = Handle(ZX_OBJ_TYPE_PMT));
    /// `zx_bti_release_quarantine(bti)`.
    31 SYS_BTI_RELEASE_QUARANTINE zx_bti_release_quarantine(bti: u32 = Handle(ZX_OBJ_TYPE_BTI));
    /// `zx_vmo_create_contiguous(bti, size, alignment_log2, out)`.
    32 SYS_VMO_CREATE_CONTIGUOUS zx_vmo_create_contiguous(
        bti: u32 = Handle(ZX_OBJ_TYPE_BTI),
        size: usize = Len,
        alignment_log2: u32 = Value(AlignLog2),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMO)),
    );
    /// `zx_vmo_replace_as_executable(handle, vmex, out)`.
    33 SYS_VMO_REPLACE_AS_EXECUTABLE zx_vmo_replace_as_executable(
        handle: u32 = Handle(ZX_OBJ_TYPE_VMO),
        vmex: u32 = Handle(ZX_OBJ_TYPE_RESOURCE),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMO)),
    );
    /// `zx_port_create(options, out)`.
    34 SYS_PORT_CREATE zx_port_create(
        options: u32 = Options(PortCreate),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_PORT)),
    );
    /// `zx_port_wait(port, deadline, packet)`.
    35 SYS_PORT_WAIT zx_port_wait(
        port: u32 = Handle(ZX_OBJ_TYPE_PORT),
        deadline: i64 = Value(Deadline),
        packet: usize = Out(Fixed(core::mem::size_of::<zx_port_packet_t>())),
    );
    /// `zx_port_queue(port, packet)`.
    36 SYS_PORT_QUEUE zx_port_queue(
        port: u32 = Handle(ZX_OBJ_TYPE_PORT),
        packet: usize = In(Fixed(core::mem::size_of::<zx_port_packet_t>())),
    );
    /// `zx_clock_get_monotonic()`: answers the time in nanoseconds.
    37 SYS_CLOCK_GET_MONOTONIC zx_clock_get_monotonic() -> zx_time_t;
    /// `zx_pager_create(options, out)`.
    38 SYS_PAGER_CREATE zx_pager_create(
        options: u32 = Options(PagerCreate),
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_PAGER)),
    );
    /// `zx_pager_create_vmo(pager, options, port, key, size, out)`.
    39 SYS_PAGER_CREATE_VMO zx_pager_create_vmo(
        pager: u32 = Handle(ZX_OBJ_TYPE_PAGER),
        options: u32 = Options(PagerCreateVmo),
        port: u32 = Handle(ZX_OBJ_TYPE_PORT),
        key: u64 = Plain,
        size: u64 = Len,
        out: usize = OutWord(NewHandle(ZX_OBJ_TYPE_VMO)),
    );
    /// `zx_pager_detach_vmo(pager, vmo)`.
    40 SYS_PAGER_DETACH_VMO zx_pager_detach_vmo(
        pager: u32 = Handle(ZX_OBJ_TYPE_PAGER),
        vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
    );
    /// `zx_pager_supply_pages(pager, pager_vmo, offset, length, aux_vmo, aux_offset)`.
    41 SYS_PAGER_SUPPLY_PAGES zx_pager_supply_pages(
        pager: u32 = Handle(ZX_OBJ_TYPE_PAGER),
        pager_vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        offset: u64 = Offset,
        length: u64 = Len,
        aux_vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        aux_offset: u64 = Offset,
    );
    /// `zx_pager_op_range(pager, op, pager_vmo, offset, length, data)`.
    42 SYS_PAGER_OP_RANGE zx_pager_op_range(
        pager: u32 = Handle(ZX_OBJ_TYPE_PAGER),
        op: u32 = Value(PagerOp),
        pager_vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        offset: u64 = Offset,
        length: u64 = Len,
        data: u64 = Plain,
    );
    /// `zx_pager_query_dirty_ranges(pager, pager_vmo, offset, length, buffer,
    /// buffer_size, actual, avail)`.
    43 SYS_PAGER_QUERY_DIRTY_RANGES zx_pager_query_dirty_ranges(
        pager: u32 = Handle(ZX_OBJ_TYPE_PAGER),
        pager_vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        offset: u64 = Offset,
        length: u64 = Len,
        buffer: usize = Out(SizedBy(5)),
        buffer_size: usize = Len,
        actual: usize = OutWord(Count),
        avail: usize = OutWord(Count),
    );
    /// `zx_pager_query_vmo_stats(pager, pager_vmo, options, buffer, buffer_size)`.
    44 SYS_PAGER_QUERY_VMO_STATS zx_pager_query_vmo_stats(
        pager: u32 = Handle(ZX_OBJ_TYPE_PAGER),
        pager_vmo: u32 = Handle(ZX_OBJ_TYPE_VMO),
        options: u32 = Options(PagerStats),
        buffer: usize = Out(SizedBy(4)),
        buffer_size: usize = Len,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Arg, Extent};

    #[test]
    fn numbers_run_from_one_without_gaps_and_names_are_unique() {
        for (i, call) in SYSCALLS.iter().enumerate() {
            assert_eq!(call.number as usize, i + 1, "{}", call.name);
            assert!(call.name.starts_with("zx_"));
            assert_eq!(
                SYSCALLS.iter().filter(|c| c.name == call.name).count(),
                1,
                "{} twice",
                call.name
            );
        }
    }

    #[test]
    fn every_buffer_is_sized_by_a_length_argument_of_its_call() {
        for call in SYSCALLS {
            assert!(
                call.params.len() <= 8,
                "{} takes more than 8 words",
                call.name
            );
            for p in call.params {
                assert!(p.bits == 32 || p.bits == 64, "{}.{}", call.name, p.name);
                if let Arg::In(e) | Arg::Out(e) | Arg::InOut(e) = p.arg {
                    let sizer = match e {
                        Extent::Fixed(_) => continue,
                        Extent::SizedBy(i) | Extent::CountIn { arg: i, .. } => i,
                    };
                    assert_eq!(call.params[sizer].arg, Arg::Len, "{}.{}", call.name, p.name);
                }
            }
            assert_eq!(
                call.returns_handle || call.returns_time,
                call.params.is_empty(),
                "{}",
                call.name
            );
        }
    }
}
