//! Zircon's ABI constants and types: everything from `fuchsia-zircon-types`, plus the
//! few values that crate lacks, defined here once (and nowhere else in the project)
//! with the values of Zircon's headers.

pub use fuchsia_zircon_types::*;

use crate::error::ZxError;

/// Defines each error status as a [`ZxError`] (shadowing the crate's `i32` value of
/// the same name), and the table of their names.
macro_rules! errors {
    ($($name:ident = $value:literal;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "` as a [`ZxError`].")]
            pub const $name: ZxError = ZxError::from_const($value);
        )*
        /// Every error status with its name.
        pub(crate) const ERROR_NAMES: &[(ZxError, &str)] = &[$(($name, stringify!($name))),*];
    };
}

// --- Error statuses: typed, so that an `Err` can never hold ZX_OK. The `i32`
// values are `ZxError::raw`; the syscall layer re-exports the crate's originals.

errors! {
    ZX_ERR_INTERNAL = -1;
    ZX_ERR_NOT_SUPPORTED = -2;
    ZX_ERR_NO_RESOURCES = -3;
    ZX_ERR_NO_MEMORY = -4;
    ZX_ERR_INTERRUPTED_RETRY = -6;
    ZX_ERR_INVALID_ARGS = -10;
    ZX_ERR_BAD_HANDLE = -11;
    ZX_ERR_WRONG_TYPE = -12;
    ZX_ERR_BAD_SYSCALL = -13;
    ZX_ERR_OUT_OF_RANGE = -14;
    ZX_ERR_BUFFER_TOO_SMALL = -15;
    ZX_ERR_BAD_STATE = -20;
    ZX_ERR_TIMED_OUT = -21;
    ZX_ERR_SHOULD_WAIT = -22;
    ZX_ERR_CANCELED = -23;
    ZX_ERR_PEER_CLOSED = -24;
    ZX_ERR_NOT_FOUND = -25;
    ZX_ERR_ALREADY_EXISTS = -26;
    ZX_ERR_ALREADY_BOUND = -27;
    ZX_ERR_UNAVAILABLE = -28;
    ZX_ERR_ACCESS_DENIED = -30;
    ZX_ERR_IO = -40;
    ZX_ERR_IO_REFUSED = -41;
    ZX_ERR_IO_DATA_INTEGRITY = -42;
    ZX_ERR_IO_DATA_LOSS = -43;
    ZX_ERR_IO_NOT_PRESENT = -44;
    ZX_ERR_IO_OVERRUN = -45;
    ZX_ERR_IO_MISSED_DEADLINE = -46;
    ZX_ERR_IO_INVALID = -47;
    ZX_ERR_BAD_PATH = -50;
    ZX_ERR_NOT_DIR = -51;
    ZX_ERR_NOT_FILE = -52;
    ZX_ERR_FILE_BIG = -53;
    ZX_ERR_NO_SPACE = -54;
    ZX_ERR_NOT_EMPTY = -55;
    ZX_ERR_STOP = -60;
    ZX_ERR_NEXT = -61;
    ZX_ERR_ASYNC = -62;
    ZX_ERR_PROTOCOL_NOT_SUPPORTED = -70;
    ZX_ERR_ADDRESS_UNREACHABLE = -71;
    ZX_ERR_ADDRESS_IN_USE = -72;
    ZX_ERR_NOT_CONNECTED = -73;
    ZX_ERR_CONNECTION_REFUSED = -74;
    ZX_ERR_CONNECTION_RESET = -75;
    ZX_ERR_CONNECTION_ABORTED = -76;
}

// --- Alignment field of `zx_vm_option_t` (bits 24..=31 hold log2 of the alignment).

/// The bit where the alignment field of a VM option word starts.
pub const ZX_VM_ALIGN_BASE: u32 = 24;
/// Mask of the alignment field of a VM option word.
pub const ZX_VM_ALIGN_MASK: u32 = 0xff << ZX_VM_ALIGN_BASE;
/// Base aligned to 1 KiB.
pub const ZX_VM_ALIGN_1KB: u32 = 10 << ZX_VM_ALIGN_BASE;
/// Base aligned to 2 KiB.
pub const ZX_VM_ALIGN_2KB: u32 = 11 << ZX_VM_ALIGN_BASE;
/// Base aligned to 4 KiB.
pub const ZX_VM_ALIGN_4KB: u32 = 12 << ZX_VM_ALIGN_BASE;
/// Base aligned to 8 KiB.
pub const ZX_VM_ALIGN_8KB: u32 = 13 << ZX_VM_ALIGN_BASE;
/// Base aligned to 16 KiB.
pub const ZX_VM_ALIGN_16KB: u32 = 14 << ZX_VM_ALIGN_BASE;
/// Base aligned to 32 KiB.
pub const ZX_VM_ALIGN_32KB: u32 = 15 << ZX_VM_ALIGN_BASE;
/// Base aligned to 64 KiB.
pub const ZX_VM_ALIGN_64KB: u32 = 16 << ZX_VM_ALIGN_BASE;
/// Base aligned to 128 KiB.
pub const ZX_VM_ALIGN_128KB: u32 = 17 << ZX_VM_ALIGN_BASE;
/// Base aligned to 256 KiB.
pub const ZX_VM_ALIGN_256KB: u32 = 18 << ZX_VM_ALIGN_BASE;
/// Base aligned to 512 KiB.
pub const ZX_VM_ALIGN_512KB: u32 = 19 << ZX_VM_ALIGN_BASE;
/// Base aligned to 1 MiB.
pub const ZX_VM_ALIGN_1MB: u32 = 20 << ZX_VM_ALIGN_BASE;
/// Base aligned to 2 MiB.
pub const ZX_VM_ALIGN_2MB: u32 = 21 << ZX_VM_ALIGN_BASE;
/// Base aligned to 4 MiB.
pub const ZX_VM_ALIGN_4MB: u32 = 22 << ZX_VM_ALIGN_BASE;
/// Base aligned to 8 MiB.
pub const ZX_VM_ALIGN_8MB: u32 = 23 << ZX_VM_ALIGN_BASE;
/// Base aligned to 16 MiB.
pub const ZX_VM_ALIGN_16MB: u32 = 24 << ZX_VM_ALIGN_BASE;
/// Base aligned to 32 MiB.
pub const ZX_VM_ALIGN_32MB: u32 = 25 << ZX_VM_ALIGN_BASE;
/// Base aligned to 64 MiB.
pub const ZX_VM_ALIGN_64MB: u32 = 26 << ZX_VM_ALIGN_BASE;
/// Base aligned to 128 MiB.
pub const ZX_VM_ALIGN_128MB: u32 = 27 << ZX_VM_ALIGN_BASE;
/// Base aligned to 256 MiB.
pub const ZX_VM_ALIGN_256MB: u32 = 28 << ZX_VM_ALIGN_BASE;
/// Base aligned to 512 MiB.
pub const ZX_VM_ALIGN_512MB: u32 = 29 << ZX_VM_ALIGN_BASE;
/// Base aligned to 1 GiB.
pub const ZX_VM_ALIGN_1GB: u32 = 30 << ZX_VM_ALIGN_BASE;
/// Base aligned to 2 GiB.
pub const ZX_VM_ALIGN_2GB: u32 = 31 << ZX_VM_ALIGN_BASE;
/// Base aligned to 4 GiB.
pub const ZX_VM_ALIGN_4GB: u32 = 32 << ZX_VM_ALIGN_BASE;

// --- `zx_vmar_op_range` op codes.

/// Commit the VMO pages behind the range and map them.
pub const ZX_VMAR_OP_COMMIT: u32 = 1;
/// Decommit the VMO pages behind the range.
pub const ZX_VMAR_OP_DECOMMIT: u32 = 2;
/// Map the already-committed VMO pages behind the range.
pub const ZX_VMAR_OP_MAP_RANGE: u32 = 3;
/// Zero the range (newer kernels; not built here, rejected as unknown).
pub const ZX_VMAR_OP_ZERO: u32 = 10;
/// Hint: the pages will not be needed soon.
pub const ZX_VMAR_OP_DONT_NEED: u32 = 12;
/// Hint: the pages will always be needed.
pub const ZX_VMAR_OP_ALWAYS_NEED: u32 = 13;
/// Prefetch the range: map the pages a read would find, committing nothing (newer kernels).
pub const ZX_VMAR_OP_PREFETCH: u32 = 14;

/// `zx_vmo_create_child`: a snapshot of the pages the parent modified (newer kernels).
/// Without a pager every page of a VMO is "modified", so it is a full snapshot.
pub const ZX_VMO_CHILD_SNAPSHOT_MODIFIED: u32 = 1 << 7;

// --- `zx_info_vmo_t.flags` values the crate lacks.

/// The VMO is physical (the type field is zero).
pub const ZX_INFO_VMO_TYPE_PHYSICAL: u32 = 0;
/// The VMO is paged.
pub const ZX_INFO_VMO_TYPE_PAGED: u32 = 1 << 0;
/// The entry was found through a handle.
pub const ZX_INFO_VMO_VIA_HANDLE: u32 = 1 << 3;
/// The entry was found through a mapping.
pub const ZX_INFO_VMO_VIA_MAPPING: u32 = 1 << 4;
/// The VMO is discardable.
pub const ZX_INFO_VMO_DISCARDABLE: u32 = 1 << 7;
/// The VMO is immutable.
pub const ZX_INFO_VMO_IMMUTABLE: u32 = 1 << 8;

// --- Versioned info topics other than the ones the crate picks.

/// `ZX_INFO_PROCESS_MAPS`, first version (96-byte records).
pub const ZX_INFO_PROCESS_MAPS_V1: u32 = 13;
/// `ZX_INFO_PROCESS_MAPS`, second version (104-byte records; the crate's value).
pub const ZX_INFO_PROCESS_MAPS_V2: u32 = (1 << 28) | 13;
/// `ZX_INFO_PROCESS_VMOS`, first version (104-byte records).
pub const ZX_INFO_PROCESS_VMOS_V1: u32 = 14;
/// `ZX_INFO_PROCESS_VMOS`, second version (120-byte records).
pub const ZX_INFO_PROCESS_VMOS_V2: u32 = (1 << 28) | 14;
/// `ZX_INFO_PROCESS_VMOS`, third version (128-byte records; the crate's value).
pub const ZX_INFO_PROCESS_VMOS_V3: u32 = (2 << 28) | 14;
/// `ZX_INFO_VMO`, first version (104 bytes).
pub const ZX_INFO_VMO_V1: u32 = 23;
/// `ZX_INFO_VMO`, second version (120 bytes).
pub const ZX_INFO_VMO_V2: u32 = (1 << 28) | 23;
/// `ZX_INFO_VMO`, third version (128 bytes; the crate's value).
pub const ZX_INFO_VMO_V3: u32 = (2 << 28) | 23;

// --- Right groups and default rights.

/// Rights every object's handle starts with: transfer, duplicate, wait, inspect.
pub const ZX_RIGHTS_BASIC: u32 =
    ZX_RIGHT_TRANSFER | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WAIT | ZX_RIGHT_INSPECT;
/// Read and write.
pub const ZX_RIGHTS_IO: u32 = ZX_RIGHT_READ | ZX_RIGHT_WRITE;
/// Get and set properties.
pub const ZX_RIGHTS_PROPERTY: u32 = ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
/// Rights of a handle from `zx_vmo_create` (`0xD0EF`).
pub const ZX_DEFAULT_VMO_RIGHTS: u32 =
    ZX_RIGHTS_BASIC | ZX_RIGHTS_IO | ZX_RIGHTS_PROPERTY | ZX_RIGHT_MAP | ZX_RIGHT_SIGNAL;
/// Rights of every VMAR handle before the per-`CAN_MAP_*` READ/WRITE/EXECUTE
/// (`0x0020_8003`).
pub const ZX_DEFAULT_VMAR_RIGHTS: u32 = (ZX_RIGHTS_BASIC & !ZX_RIGHT_WAIT) | ZX_RIGHT_OP_CHILDREN;
/// Rights of a new resource handle.
pub const ZX_DEFAULT_RESOURCE_RIGHTS: u32 = ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE | ZX_RIGHT_INSPECT;
/// Rights of a new IOMMU handle.
pub const ZX_DEFAULT_IOMMU_RIGHTS: u32 = ZX_RIGHTS_BASIC;
/// Rights of a new BTI handle.
pub const ZX_DEFAULT_BTI_RIGHTS: u32 =
    (ZX_RIGHTS_BASIC & !ZX_RIGHT_WAIT) | ZX_RIGHTS_IO | ZX_RIGHT_MAP;
/// Rights of a new PMT handle.
pub const ZX_DEFAULT_PMT_RIGHTS: u32 = ZX_RIGHT_INSPECT;
/// Rights of a process handle.
pub const ZX_DEFAULT_PROCESS_RIGHTS: u32 = ZX_RIGHTS_BASIC
    | ZX_RIGHTS_IO
    | ZX_RIGHTS_PROPERTY
    | ZX_RIGHT_ENUMERATE
    | ZX_RIGHT_DESTROY
    | ZX_RIGHT_SIGNAL
    | ZX_RIGHT_MANAGE_PROCESS
    | ZX_RIGHT_MANAGE_THREAD;

/// The state a `ZX_VMO_OP_LOCK` writes back (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zx_vmo_lock_state_t {
    /// Start of the locked range.
    pub offset: u64,
    /// Size of the locked range.
    pub size: u64,
    /// Start of the range found discarded when the lock was taken.
    pub discarded_offset: u64,
    /// Size of the range found discarded when the lock was taken.
    pub discarded_size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defined_constants_have_zircon_values() {
        assert_eq!(ZX_RIGHTS_BASIC, 0xC003);
        assert_eq!(ZX_DEFAULT_VMO_RIGHTS, 0xD0EF);
        assert_eq!(ZX_DEFAULT_VMAR_RIGHTS, 0x0020_8003);
        assert_eq!(ZX_RIGHT_OP_CHILDREN, 1 << 21);
        assert_eq!(ZX_RIGHT_RESIZE, 1 << 22);
        assert_eq!(ZX_VM_ALIGN_4GB, 32 << 24);
        assert_eq!(ZX_INFO_VMO, ZX_INFO_VMO_V3);
        assert_eq!(ZX_INFO_PROCESS_VMOS, ZX_INFO_PROCESS_VMOS_V3);
        assert_eq!(ZX_INFO_PROCESS_MAPS, ZX_INFO_PROCESS_MAPS_V2);
        assert_eq!(core::mem::size_of::<zx_vmo_lock_state_t>(), 32);
    }
}

// --- Device memory: BTI pin options, IOMMU limits, the BTI info record.

/// `zx_bti_pin`: the device may read the pages.
pub const ZX_BTI_PERM_READ: u32 = 1 << 0;
/// `zx_bti_pin`: the device may write the pages.
pub const ZX_BTI_PERM_WRITE: u32 = 1 << 1;
/// `zx_bti_pin`: the device may execute from the pages.
pub const ZX_BTI_PERM_EXECUTE: u32 = 1 << 2;
/// `zx_bti_pin`: one address per run of the BTI's minimum contiguity.
pub const ZX_BTI_COMPRESS: u32 = 1 << 3;
/// `zx_bti_pin`: one address for the whole (contiguous) range.
pub const ZX_BTI_CONTIGUOUS: u32 = 1 << 4;
/// The largest IOMMU descriptor `zx_iommu_create` takes.
pub const ZX_IOMMU_MAX_DESC_LEN: usize = 4096;

/// `zx_info_bti_t` (`ZX_INFO_BTI`), as in Zircon's `syscalls/object.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct zx_info_bti_t {
    /// The smallest run of device addresses a pin hands out contiguously.
    pub minimum_contiguity: u64,
    /// The size of the device address space.
    pub aspace_size: u64,
    /// Live pinned-memory tokens not yet unpinned.
    pub pmo_count: u64,
    /// Pins held in quarantine.
    pub quarantine_count: u64,
}

// --- Ports and the packets they carry (`zircon/syscalls/port.h`; the crate has the
// packet types and page-request commands only as Rust enums).

/// `zx_port_create` option: the port may be bound to interrupts.
pub const ZX_PORT_BIND_TO_INTERRUPT: u32 = 1 << 0;
/// Rights of a new port handle: basic and I/O (`0xC00F`).
pub const ZX_DEFAULT_PORT_RIGHTS: u32 = ZX_RIGHTS_BASIC | ZX_RIGHTS_IO;
/// `zx_port_packet_t.type` of a packet queued by `zx_port_queue`.
pub const ZX_PKT_TYPE_USER: u32 = 0;
/// `zx_port_packet_t.type` of a pager's page request.
pub const ZX_PKT_TYPE_PAGE_REQUEST: u32 = 9;
/// Page request command: supply the range.
pub const ZX_PAGER_VMO_READ: u16 = 0;
/// Page request command: the VMO is detached; no more requests will come.
pub const ZX_PAGER_VMO_COMPLETE: u16 = 1;
/// Page request command: allow the range to become dirty.
pub const ZX_PAGER_VMO_DIRTY: u16 = 2;

// --- Pagers (`zircon/syscalls/pager.h`, `zircon/rights.h`; the crate has the op
// codes, the packet commands and `ZX_VMO_DIRTY_RANGE_IS_ZERO`).

/// Rights of a new pager handle: basic, INSPECT, ATTACH_VMO (create and detach
/// VMOs) and MANAGE_VMO (supply, op_range, queries).
pub const ZX_DEFAULT_PAGER_RIGHTS: u32 =
    ZX_RIGHTS_BASIC | ZX_RIGHT_INSPECT | ZX_RIGHT_ATTACH_VMO | ZX_RIGHT_MANAGE_VMO;
/// `zx_pager_query_vmo_stats` option: reset the stats after reading them.
pub const ZX_PAGER_RESET_VMO_STATS: u32 = 1;
/// `zx_pager_vmo_stats_t.modified`: the VMO was modified.
pub const ZX_PAGER_VMO_STATS_MODIFIED: u32 = 1;

/// `zx_vmo_dirty_range_t` (`zx_pager_query_dirty_ranges`), as in Zircon's
/// `syscalls/pager.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct zx_vmo_dirty_range_t {
    /// First byte of the range.
    pub offset: u64,
    /// Length of the range in bytes.
    pub length: u64,
    /// `ZX_VMO_DIRTY_RANGE_IS_ZERO` if the range reads as zeros.
    pub options: u64,
}

/// `zx_pager_vmo_stats_t` (`zx_pager_query_vmo_stats`), as in Zircon's
/// `syscalls/pager.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct zx_pager_vmo_stats_t {
    /// `ZX_PAGER_VMO_STATS_MODIFIED` or 0.
    pub modified: u32,
}
