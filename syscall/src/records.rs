//! The records the calls copy to and from user memory, each defined once: a Rust
//! value type whose fields sit at the offsets of Zircon's C struct (taken with
//! `core::mem::offset_of!` from the `fuchsia-zircon-types` definitions), written and
//! read little-endian without any `unsafe` reinterpretation. The syscalls write them
//! with [`Layout::write_to`]; tests and `zxvm` read them back with
//! [`Layout::read_from`].
//!
//! Older topic versions are prefixes of the newest record ([`info_record_size`]):
//! writing into a shorter buffer drops the fields past its end, reading a shorter
//! slice leaves them zero.

use alloc::vec;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};
use zircon_object::abi::*;
use zircon_object::ipc::{PacketPayload, PortPacket};

/// A value with a fixed little-endian byte layout.
pub trait Layout: Sized {
    /// Bytes of the full record.
    const SIZE: usize;

    /// Writes the value's fields at the start of `bytes` (padding is left as it
    /// is, so start from zeros); fields that do not fit whole are left out.
    fn write_to(&self, bytes: &mut [u8]);

    /// Reads a value from the start of `bytes`; fields that do not fit whole read
    /// as zero.
    fn read_from(bytes: &[u8]) -> Self;

    /// The full record as bytes.
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; Self::SIZE];
        self.write_to(&mut bytes);
        bytes
    }
}

macro_rules! le_field {
    ($($t:ty),*) => {$(
        impl Layout for $t {
            const SIZE: usize = size_of::<$t>();
            fn write_to(&self, bytes: &mut [u8]) {
                if let Some(dst) = bytes.get_mut(..Self::SIZE) {
                    dst.copy_from_slice(&self.to_le_bytes());
                }
            }
            fn read_from(bytes: &[u8]) -> Self {
                let mut raw = [0u8; size_of::<$t>()];
                if let Some(src) = bytes.get(..Self::SIZE) {
                    raw.copy_from_slice(src);
                }
                <$t>::from_le_bytes(raw)
            }
        }
    )*};
}

le_field!(u16, u32, i32, u64, usize);

/// A NUL-padded object name.
impl Layout for [u8; ZX_MAX_NAME_LEN] {
    const SIZE: usize = ZX_MAX_NAME_LEN;
    fn write_to(&self, bytes: &mut [u8]) {
        if let Some(dst) = bytes.get_mut(..Self::SIZE) {
            dst.copy_from_slice(self);
        }
    }
    fn read_from(bytes: &[u8]) -> Self {
        let mut name = [0u8; ZX_MAX_NAME_LEN];
        if let Some(src) = bytes.get(..Self::SIZE) {
            name.copy_from_slice(src);
        }
        name
    }
}

/// The tail of `bytes` from `offset` (empty past the end).
fn from(bytes: &[u8], offset: usize) -> &[u8] {
    bytes.get(offset..).unwrap_or(&[])
}

/// The tail of `bytes` from `offset` (empty past the end), for writing.
fn from_mut(bytes: &mut [u8], offset: usize) -> &mut [u8] {
    if offset > bytes.len() {
        return &mut [];
    }
    &mut bytes[offset..]
}

/// Declares a record: its Rust fields and, for each, the field of the C struct
/// whose offset it takes. `struct Name: c_type { ... }` declares the value type;
/// `impl c_type { ... }` gives the layout to a type that already exists.
macro_rules! record {
    (
        $(#[$doc:meta])*
        struct $name:ident : $c:ty {
            $($(#[$fdoc:meta])* $field:ident : $ty:ty = $cfield:ident,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }
        record!(impl $name : $c { $($field : $ty = $cfield,)* });
    };
    (impl $name:ty : $c:ty { $($field:ident : $ty:ty = $cfield:ident,)* }) => {
        impl Layout for $name {
            const SIZE: usize = size_of::<$c>();
            fn write_to(&self, bytes: &mut [u8]) {
                $(self.$field.write_to(from_mut(bytes, offset_of!($c, $cfield)));)*
            }
            fn read_from(bytes: &[u8]) -> Self {
                Self { $($field: <$ty>::read_from(from(bytes, offset_of!($c, $cfield))),)* }
            }
        }
    };
}

// The `record!` entries below look alike by design: each is one record's field list,
// the single definition its layout has.
record! {
    /// `zx_info_handle_basic_t` (`ZX_INFO_HANDLE_BASIC`): what a handle names.
    struct HandleBasic: zx_info_handle_basic_t {
        /// The object's koid.
        koid: u64 = koid,
        /// The handle's rights.
        rights: u32 = rights,
        /// `ZX_OBJ_TYPE_*`.
        obj_type: u32 = type_,
        /// The related object's koid (0 for VMOs and VMARs).
        related_koid: u64 = related_koid,
        /// Reserved, zero.
        reserved: u32 = reserved,
    }
}

record! {
    /// `zx_info_resource_t` (`ZX_INFO_RESOURCE`): what a resource grants.
    struct ResourceInfo: zx_info_resource_t {
        /// `ZX_RSRC_KIND_*`.
        kind: u32 = kind,
        /// `ZX_RSRC_FLAG_*`.
        flags: u32 = flags,
        /// Start of its range.
        base: u64 = base,
        /// Size of its range.
        size: usize = size,
        /// Its name, NUL-padded.
        name: [u8; ZX_MAX_NAME_LEN] = name,
    }
}

record! {
    /// `zx_info_bti_t` (`ZX_INFO_BTI`): a BTI's device view and its pins.
    struct BtiInfo: zx_info_bti_t {
        /// The smallest run of device addresses handed out contiguously.
        minimum_contiguity: u64 = minimum_contiguity,
        /// The size of the device address space.
        aspace_size: u64 = aspace_size,
        /// Live PMTs not yet unpinned.
        pmo_count: u64 = pmo_count,
        /// Pins in quarantine.
        quarantine_count: u64 = quarantine_count,
    }
}

record! {
    /// `zx_info_vmar_t` (`ZX_INFO_VMAR`): where a region lies.
    struct VmarInfo: zx_info_vmar_t {
        /// Absolute base address.
        base: usize = base,
        /// Size in bytes.
        len: usize = len,
    }
}

record! {
    /// `zx_info_vmo_t` (`ZX_INFO_VMO`, `ZX_INFO_PROCESS_VMOS`), version 3; versions 1
    /// and 2 are its first 104 and 120 bytes.
    struct VmoInfo: zx_info_vmo_t {
        /// The VMO's koid.
        koid: u64 = koid,
        /// Its name, NUL-padded.
        name: [u8; ZX_MAX_NAME_LEN] = name,
        /// Its page-rounded size.
        size_bytes: u64 = size_bytes,
        /// The parent's koid for a child, else 0.
        parent_koid: u64 = parent_koid,
        /// Live direct children.
        num_children: usize = num_children,
        /// Live mappings.
        num_mappings: usize = num_mappings,
        /// Address spaces mapping it (1 when mapped at most once).
        share_count: usize = share_count,
        /// `ZX_INFO_VMO_*` flags.
        flags: u32 = flags,
        /// Committed bytes.
        committed_bytes: u64 = committed_bytes,
        /// Rights of the handle queried (0 for a record seen through a mapping).
        handle_rights: u32 = handle_rights,
        /// `ZX_CACHE_POLICY_*`.
        cache_policy: u32 = cache_policy,
        /// Bytes of kernel metadata (version 2 on).
        metadata_bytes: u64 = metadata_bytes,
        /// Times the committed size changed (version 2 on).
        committed_change_events: u64 = committed_change_events,
        /// Populated bytes (version 3).
        populated_bytes: u64 = populated_bytes,
    }
}

record! {
    /// The mapping part of a `zx_info_maps_t` (the `u.mapping` member of the C
    /// union), zero for entries that are not mappings.
    struct MapsMapping: zx_info_maps_mapping_t {
        /// Current protection, as `ZX_VM_PERM_*` bits.
        mmu_flags: u32 = mmu_flags,
        /// Koid of the mapped VMO.
        vmo_koid: u64 = vmo_koid,
        /// VMO offset of the mapping's first byte.
        vmo_offset: u64 = vmo_offset,
        /// Committed pages of the VMO inside the mapped range.
        committed_pages: usize = committed_pages,
        /// Populated pages (version 2).
        populated_pages: usize = populated_pages,
    }
}

record! {
    /// `zx_info_maps_t` (`ZX_INFO_PROCESS_MAPS`), version 2; version 1 is its first
    /// 96 bytes.
    struct MapsEntry: zx_info_maps_t {
        /// Name of the address space, region or mapped VMO, NUL-padded.
        name: [u8; ZX_MAX_NAME_LEN] = name,
        /// First address.
        base: usize = base,
        /// Size in bytes.
        size: usize = size,
        /// 0 for the address space, 1 for the root VMAR, one more per level below.
        depth: usize = depth,
        /// `ZX_INFO_MAPS_TYPE_*`.
        kind: u32 = r#type,
        /// The mapping fields (mappings only).
        mapping: MapsMapping = u,
    }
}

record! {
    impl zx_vmo_lock_state_t: zx_vmo_lock_state_t {
        offset: u64 = offset,
        size: u64 = size,
        discarded_offset: u64 = discarded_offset,
        discarded_size: u64 = discarded_size,
    }
}

record! {
    /// `zx_port_packet_t` (48 bytes): what `zx_port_queue` reads and `zx_port_wait`
    /// writes. `payload` is the 32-byte union; a page request's fields in it are
    /// [`PageRequestRecord`].
    struct PortPacketRecord: zx_port_packet_t {
        /// The sender's key.
        key: u64 = key,
        /// `ZX_PKT_TYPE_*`.
        packet_type: u32 = packet_type,
        /// The sender's status.
        status: i32 = status,
        /// The union, raw.
        payload: [u8; 32] = union,
    }
}

record! {
    /// `zx_packet_page_request_t`: the union of a `ZX_PKT_TYPE_PAGE_REQUEST` packet.
    struct PageRequestRecord: zx_packet_page_request_t {
        /// `ZX_PAGER_VMO_*`.
        command: u16 = command,
        /// Always 0.
        flags: u16 = flags,
        /// Start of the range in bytes.
        offset: u64 = offset,
        /// Length of the range in bytes.
        length: u64 = length,
    }
}

impl PortPacketRecord {
    /// The record of `packet`, as `zx_port_wait` hands it out.
    pub fn from_packet(packet: &PortPacket) -> PortPacketRecord {
        let mut payload = [0u8; 32];
        match packet.payload {
            PacketPayload::User(bytes) => payload = bytes,
            PacketPayload::PageRequest(request) => PageRequestRecord {
                command: request.command as u16,
                flags: 0,
                offset: request.offset,
                length: request.length,
            }
            .write_to(&mut payload),
        }
        PortPacketRecord {
            key: packet.key,
            packet_type: packet.payload.packet_type(),
            status: packet.status,
            payload,
        }
    }

    /// The user packet `zx_port_queue` makes of this record: its key, status and
    /// union, whatever its type field says (Zircon overwrites the type).
    pub fn to_user_packet(&self) -> PortPacket {
        PortPacket {
            key: self.key,
            status: self.status,
            payload: PacketPayload::User(self.payload),
        }
    }

    /// The page request in the union, if the type says there is one.
    pub fn page_request(&self) -> Option<PageRequestRecord> {
        (self.packet_type == ZX_PKT_TYPE_PAGE_REQUEST)
            .then(|| PageRequestRecord::read_from(&self.payload))
    }
}

record! {
    /// `zx_vmo_dirty_range_t`: one run of dirty pages, as
    /// `zx_pager_query_dirty_ranges` writes it.
    struct DirtyRange: zx_vmo_dirty_range_t {
        /// First byte of the run.
        offset: u64 = offset,
        /// Length of the run in bytes.
        length: u64 = length,
        /// `ZX_VMO_DIRTY_RANGE_IS_ZERO` or 0.
        options: u64 = options,
    }
}

record! {
    /// `zx_pager_vmo_stats_t`: what `zx_pager_query_vmo_stats` writes.
    struct PagerVmoStats: zx_pager_vmo_stats_t {
        /// `ZX_PAGER_VMO_STATS_MODIFIED` or 0.
        modified: u32 = modified,
    }
}

/// The record size of an info topic (its version's prefix of the newest record),
/// or `None` for a topic that writes no records.
pub const fn info_record_size(topic: u32) -> Option<usize> {
    let maps_mapping = offset_of!(zx_info_maps_t, u);
    Some(match topic {
        ZX_INFO_HANDLE_BASIC => size_of::<zx_info_handle_basic_t>(),
        ZX_INFO_VMAR => size_of::<zx_info_vmar_t>(),
        ZX_INFO_RESOURCE => size_of::<zx_info_resource_t>(),
        ZX_INFO_BTI => size_of::<zx_info_bti_t>(),
        ZX_INFO_VMO_V1 | ZX_INFO_PROCESS_VMOS_V1 => offset_of!(zx_info_vmo_t, metadata_bytes),
        ZX_INFO_VMO_V2 | ZX_INFO_PROCESS_VMOS_V2 => offset_of!(zx_info_vmo_t, populated_bytes),
        ZX_INFO_VMO_V3 | ZX_INFO_PROCESS_VMOS_V3 => size_of::<zx_info_vmo_t>(),
        ZX_INFO_PROCESS_MAPS_V1 => {
            maps_mapping + offset_of!(zx_info_maps_mapping_t, populated_pages)
        }
        ZX_INFO_PROCESS_MAPS_V2 => size_of::<zx_info_maps_t>(),
        _ => return None,
    })
}

/// The text of a NUL-padded name field: the bytes before the first NUL.
fn name_bytes(name: &[u8]) -> &[u8] {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    &name[..end]
}

impl VmoInfo {
    /// The name without its NUL padding.
    pub fn name(&self) -> &[u8] {
        name_bytes(&self.name)
    }
}

impl MapsEntry {
    /// The name without its NUL padding.
    pub fn name(&self) -> &[u8] {
        name_bytes(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_versions_are_zircons() {
        assert_eq!(HandleBasic::SIZE, 32);
        assert_eq!(VmarInfo::SIZE, 16);
        assert_eq!(VmoInfo::SIZE, 128);
        assert_eq!(MapsEntry::SIZE, 104);
        assert_eq!(<zx_vmo_lock_state_t as Layout>::SIZE, 32);
        assert_eq!(PortPacketRecord::SIZE, 48);
        assert_eq!(PageRequestRecord::SIZE, 32);
        assert_eq!(DirtyRange::SIZE, 24);
        assert_eq!(PagerVmoStats::SIZE, 4);
        assert_eq!(info_record_size(ZX_INFO_VMO_V1), Some(104));
        assert_eq!(info_record_size(ZX_INFO_PROCESS_VMOS_V2), Some(120));
        assert_eq!(info_record_size(ZX_INFO_PROCESS_MAPS_V1), Some(96));
        assert_eq!(info_record_size(ZX_INFO_HANDLE_VALID), None);
    }

    #[test]
    fn a_record_reads_back_as_written_and_a_prefix_drops_the_tail() {
        let entry = MapsEntry {
            name: *b"heap\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            base: 0x2000_0000,
            size: 0x30_0000,
            depth: 2,
            kind: ZX_INFO_MAPS_TYPE_MAPPING,
            mapping: MapsMapping {
                mmu_flags: ZX_VM_PERM_READ,
                vmo_koid: 1031,
                vmo_offset: 0x1000,
                committed_pages: 3,
                populated_pages: 3,
            },
        };
        let bytes = entry.to_bytes();
        assert_eq!(&bytes[32..40], &0x2000_0000usize.to_le_bytes());
        assert_eq!(&bytes[56..60], &ZX_INFO_MAPS_TYPE_MAPPING.to_le_bytes());
        assert_eq!(&bytes[88..96], &3usize.to_le_bytes());
        assert_eq!(MapsEntry::read_from(&bytes), entry);
        assert_eq!(entry.name(), b"heap");

        let v1 = &bytes[..96];
        let read = MapsEntry::read_from(v1);
        assert_eq!(read.mapping.committed_pages, 3);
        assert_eq!(read.mapping.populated_pages, 0);
        let mut short = [0u8; 96];
        entry.write_to(&mut short);
        assert_eq!(short[..], bytes[..96]);
    }

    #[test]
    fn a_page_request_packet_has_zircons_byte_layout() {
        use zircon_object::ipc::{PageRequestCommand, PageRequestPacket};
        let packet = PortPacket {
            key: 0x1122_3344_5566_7788,
            status: 0,
            payload: PacketPayload::PageRequest(PageRequestPacket {
                command: PageRequestCommand::Dirty,
                offset: 0x3000,
                length: 0x2000,
            }),
        };
        let record = PortPacketRecord::from_packet(&packet);
        let bytes = record.to_bytes();
        assert_eq!(&bytes[0..8], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&bytes[8..12], &ZX_PKT_TYPE_PAGE_REQUEST.to_le_bytes());
        assert_eq!(&bytes[12..16], &0i32.to_le_bytes());
        assert_eq!(&bytes[16..18], &ZX_PAGER_VMO_DIRTY.to_le_bytes());
        assert_eq!(&bytes[18..24], &[0u8; 6]);
        assert_eq!(&bytes[24..32], &0x3000u64.to_le_bytes());
        assert_eq!(&bytes[32..40], &0x2000u64.to_le_bytes());
        assert_eq!(&bytes[40..48], &[0u8; 8]);
        let back = PortPacketRecord::read_from(&bytes);
        assert_eq!(back.page_request().map(|r| r.offset), Some(0x3000));
    }

    #[test]
    fn a_queued_record_becomes_a_user_packet_whatever_its_type() {
        let record = PortPacketRecord {
            key: 5,
            packet_type: ZX_PKT_TYPE_PAGE_REQUEST,
            status: -3,
            payload: [9; 32],
        };
        let packet = record.to_user_packet();
        assert_eq!(packet.payload, PacketPayload::User([9; 32]));
        let out = PortPacketRecord::from_packet(&packet);
        assert_eq!(out.packet_type, ZX_PKT_TYPE_USER);
        assert_eq!((out.key, out.status), (5, -3));
        assert_eq!(out.page_request(), None);
    }
}
