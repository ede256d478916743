//! Decoders for the `zx_object_get_info` records zxvm reads back from user memory:
//! `zx_info_maps_t`, `zx_info_vmo_t`, `zx_info_vmar_t` and `zx_info_handle_basic_t`.
//! Records are decoded field by field from little-endian bytes at the offsets of the
//! ABI (section 10 of the ABI contract), so no `unsafe` reinterpretation is needed.

use zircon_syscall::*;

/// Size of one `ZX_INFO_PROCESS_MAPS` (v2) record.
pub const MAPS_RECORD_SIZE: usize = 104;
/// Size of one `ZX_INFO_PROCESS_MAPS_V1` record.
pub const MAPS_V1_RECORD_SIZE: usize = 96;
/// Size of a `ZX_INFO_VMO` (v3) record; v1 and v2 are prefixes of it.
pub const VMO_RECORD_SIZE: usize = 128;
/// Size of a `ZX_INFO_VMO_V1` record, the part every version shares.
pub const VMO_V1_RECORD_SIZE: usize = 104;
/// Size of a `zx_info_vmar_t`.
pub const VMAR_RECORD_SIZE: usize = 16;
/// Size of a `zx_info_handle_basic_t`.
pub const HANDLE_BASIC_RECORD_SIZE: usize = 32;

/// Field offsets of `zx_info_maps_t`.
mod maps_off {
    pub const NAME: usize = 0;
    pub const BASE: usize = 32;
    pub const SIZE: usize = 40;
    pub const DEPTH: usize = 48;
    pub const TYPE: usize = 56;
    pub const MMU_FLAGS: usize = 64;
    pub const VMO_KOID: usize = 72;
    pub const VMO_OFFSET: usize = 80;
    pub const COMMITTED_PAGES: usize = 88;
    #[cfg(test)]
    pub const POPULATED_PAGES: usize = 96;
}

/// Field offsets of `zx_info_vmo_t`.
mod vmo_off {
    pub const KOID: usize = 0;
    pub const NAME: usize = 8;
    pub const SIZE_BYTES: usize = 40;
    pub const PARENT_KOID: usize = 48;
    pub const NUM_CHILDREN: usize = 56;
    pub const NUM_MAPPINGS: usize = 64;
    pub const SHARE_COUNT: usize = 72;
    pub const FLAGS: usize = 80;
    pub const COMMITTED_BYTES: usize = 88;
    pub const HANDLE_RIGHTS: usize = 96;
    pub const CACHE_POLICY: usize = 100;
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(raw)
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(raw)
}

/// A NUL-terminated name field, decoded leniently (bad UTF-8 becomes U+FFFD).
fn name_at(bytes: &[u8], offset: usize) -> String {
    let field = &bytes[offset..offset + ZX_MAX_NAME_LEN];
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// What a `ZX_INFO_PROCESS_MAPS` entry describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// The address space itself (depth 0).
    Aspace,
    /// A VMAR: the root region or a sub-region.
    Vmar,
    /// A mapping of a VMO.
    Mapping,
    /// A type value zxvm does not know (shown, never interpreted).
    Other(u32),
}

impl EntryKind {
    /// The short word used in listings and in the SVG's class attribute.
    pub fn word(self) -> &'static str {
        match self {
            EntryKind::Aspace => "aspace",
            EntryKind::Vmar => "vmar",
            EntryKind::Mapping => "map",
            EntryKind::Other(_) => "other",
        }
    }
}

/// The mapping-only fields of a `ZX_INFO_PROCESS_MAPS` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingInfo {
    /// Current protection, as `ZX_VM_PERM_*` bits.
    pub mmu_flags: u32,
    /// Koid of the mapped VMO.
    pub vmo_koid: u64,
    /// VMO offset of the mapping's first byte.
    pub vmo_offset: u64,
    /// Committed pages of the VMO inside the mapped range.
    pub committed_pages: u64,
}

/// One decoded `zx_info_maps_t` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// Name of the address space, region or mapped VMO.
    pub name: String,
    /// First address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// 0 for the address space, 1 for the root VMAR, one more per level below.
    pub depth: usize,
    /// What the entry is.
    pub kind: EntryKind,
    /// The mapping fields, for mappings only.
    pub mapping: Option<MappingInfo>,
}

impl MapEntry {
    /// Decodes one record of `ZX_INFO_PROCESS_MAPS` (104 bytes) or of its first
    /// version (96 bytes, no populated count). Returns `None` for a slice of
    /// another length.
    pub fn decode(record: &[u8]) -> Option<MapEntry> {
        if record.len() != MAPS_RECORD_SIZE && record.len() != MAPS_V1_RECORD_SIZE {
            return None;
        }
        let kind = match u32_at(record, maps_off::TYPE) {
            ZX_INFO_MAPS_TYPE_ASPACE => EntryKind::Aspace,
            ZX_INFO_MAPS_TYPE_VMAR => EntryKind::Vmar,
            ZX_INFO_MAPS_TYPE_MAPPING => EntryKind::Mapping,
            other => EntryKind::Other(other),
        };
        let mapping = (kind == EntryKind::Mapping).then(|| MappingInfo {
            mmu_flags: u32_at(record, maps_off::MMU_FLAGS),
            vmo_koid: u64_at(record, maps_off::VMO_KOID),
            vmo_offset: u64_at(record, maps_off::VMO_OFFSET),
            committed_pages: u64_at(record, maps_off::COMMITTED_PAGES),
        });
        Some(MapEntry {
            name: name_at(record, maps_off::NAME),
            base: u64_at(record, maps_off::BASE),
            size: u64_at(record, maps_off::SIZE),
            depth: usize::try_from(u64_at(record, maps_off::DEPTH)).unwrap_or(usize::MAX),
            kind,
            mapping,
        })
    }

    /// Decodes a buffer of whole records of `record_size` bytes each.
    pub fn decode_all(bytes: &[u8], record_size: usize) -> Vec<MapEntry> {
        bytes
            .chunks_exact(record_size)
            .filter_map(MapEntry::decode)
            .collect()
    }

    /// One past the last address (saturating at `u64::MAX`).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Pages the entry spans (rounded up).
    pub fn pages(&self) -> u64 {
        self.size.div_ceil(PAGE_SIZE)
    }

    /// Committed pages over spanned pages, in `0.0..=1.0`; 0 for non-mappings.
    pub fn committed_fraction(&self) -> f64 {
        match &self.mapping {
            Some(m) if self.pages() > 0 => {
                (m.committed_pages as f64 / self.pages() as f64).clamp(0.0, 1.0)
            }
            _ => 0.0,
        }
    }

    /// Encodes the record the way the kernel writes it (used by tests to build
    /// sample trees).
    #[cfg(test)]
    pub fn encode(&self) -> [u8; MAPS_RECORD_SIZE] {
        let mut r = [0u8; MAPS_RECORD_SIZE];
        let name = self.name.as_bytes();
        let n = name.len().min(ZX_MAX_NAME_LEN - 1);
        r[..n].copy_from_slice(&name[..n]);
        r[maps_off::BASE..][..8].copy_from_slice(&self.base.to_le_bytes());
        r[maps_off::SIZE..][..8].copy_from_slice(&self.size.to_le_bytes());
        r[maps_off::DEPTH..][..8].copy_from_slice(&(self.depth as u64).to_le_bytes());
        let kind = match self.kind {
            EntryKind::Aspace => ZX_INFO_MAPS_TYPE_ASPACE,
            EntryKind::Vmar => ZX_INFO_MAPS_TYPE_VMAR,
            EntryKind::Mapping => ZX_INFO_MAPS_TYPE_MAPPING,
            EntryKind::Other(t) => t,
        };
        r[maps_off::TYPE..][..4].copy_from_slice(&kind.to_le_bytes());
        if let Some(m) = &self.mapping {
            r[maps_off::MMU_FLAGS..][..4].copy_from_slice(&m.mmu_flags.to_le_bytes());
            r[maps_off::VMO_KOID..][..8].copy_from_slice(&m.vmo_koid.to_le_bytes());
            r[maps_off::VMO_OFFSET..][..8].copy_from_slice(&m.vmo_offset.to_le_bytes());
            r[maps_off::COMMITTED_PAGES..][..8].copy_from_slice(&m.committed_pages.to_le_bytes());
            r[maps_off::POPULATED_PAGES..][..8].copy_from_slice(&m.committed_pages.to_le_bytes());
        }
        r
    }
}

/// The page size of the ABI.
pub const PAGE_SIZE: u64 = 4096;

/// The fields of `zx_info_vmo_t` that every record version has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmoInfo {
    /// The VMO's koid.
    pub koid: u64,
    /// Its name.
    pub name: String,
    /// Its page-rounded size.
    pub size_bytes: u64,
    /// The parent's koid for a child, else 0.
    pub parent_koid: u64,
    /// Live direct children.
    pub num_children: u64,
    /// Live mappings.
    pub num_mappings: u64,
    /// Address spaces mapping it.
    pub share_count: u64,
    /// `ZX_INFO_VMO_*` flags.
    pub flags: u32,
    /// Committed bytes.
    pub committed_bytes: u64,
    /// Rights of the handle queried.
    pub handle_rights: u32,
    /// `ZX_CACHE_POLICY_*`.
    pub cache_policy: u32,
}

impl VmoInfo {
    /// Decodes the first 104 bytes (the v1 part) of a `zx_info_vmo_t` record; `None`
    /// when the slice is shorter.
    pub fn decode(record: &[u8]) -> Option<VmoInfo> {
        if record.len() < VMO_V1_RECORD_SIZE {
            return None;
        }
        Some(VmoInfo {
            koid: u64_at(record, vmo_off::KOID),
            name: name_at(record, vmo_off::NAME),
            size_bytes: u64_at(record, vmo_off::SIZE_BYTES),
            parent_koid: u64_at(record, vmo_off::PARENT_KOID),
            num_children: u64_at(record, vmo_off::NUM_CHILDREN),
            num_mappings: u64_at(record, vmo_off::NUM_MAPPINGS),
            share_count: u64_at(record, vmo_off::SHARE_COUNT),
            flags: u32_at(record, vmo_off::FLAGS),
            committed_bytes: u64_at(record, vmo_off::COMMITTED_BYTES),
            handle_rights: u32_at(record, vmo_off::HANDLE_RIGHTS),
            cache_policy: u32_at(record, vmo_off::CACHE_POLICY),
        })
    }
}

/// A decoded `zx_info_vmar_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmarInfo {
    /// Absolute base address.
    pub base: u64,
    /// Size in bytes.
    pub len: u64,
}

impl VmarInfo {
    /// Decodes a 16-byte record; `None` when the slice is shorter.
    pub fn decode(record: &[u8]) -> Option<VmarInfo> {
        (record.len() >= VMAR_RECORD_SIZE).then(|| VmarInfo {
            base: u64_at(record, 0),
            len: u64_at(record, 8),
        })
    }
}

/// A decoded `zx_info_handle_basic_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandleBasic {
    /// The object's koid.
    pub koid: u64,
    /// The handle's rights.
    pub rights: u32,
    /// `ZX_OBJ_TYPE_*`.
    pub obj_type: u32,
    /// The related object's koid (0 for VMOs and VMARs).
    pub related_koid: u64,
}

impl HandleBasic {
    /// Decodes a 32-byte record; `None` when the slice is shorter.
    pub fn decode(record: &[u8]) -> Option<HandleBasic> {
        (record.len() >= HANDLE_BASIC_RECORD_SIZE).then(|| HandleBasic {
            koid: u64_at(record, 0),
            rights: u32_at(record, 8),
            obj_type: u32_at(record, 12),
            related_koid: u64_at(record, 16),
        })
    }
}

/// The name of an object type value, for listings.
pub fn obj_type_name(obj_type: u32) -> &'static str {
    match obj_type {
        ZX_OBJ_TYPE_PROCESS => "process",
        ZX_OBJ_TYPE_VMO => "vmo",
        ZX_OBJ_TYPE_VMAR => "vmar",
        ZX_OBJ_TYPE_THREAD => "thread",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn offsets_match_the_abi_crate_layouts() {
        assert_eq!(size_of::<zx_info_maps_t>(), MAPS_RECORD_SIZE);
        assert_eq!(offset_of!(zx_info_maps_t, name), maps_off::NAME);
        assert_eq!(offset_of!(zx_info_maps_t, base), maps_off::BASE);
        assert_eq!(offset_of!(zx_info_maps_t, size), maps_off::SIZE);
        assert_eq!(offset_of!(zx_info_maps_t, depth), maps_off::DEPTH);
        assert_eq!(offset_of!(zx_info_maps_t, r#type), maps_off::TYPE);
        let u = offset_of!(zx_info_maps_t, u);
        assert_eq!(
            u + offset_of!(zx_info_maps_mapping_t, mmu_flags),
            maps_off::MMU_FLAGS
        );
        assert_eq!(
            u + offset_of!(zx_info_maps_mapping_t, vmo_koid),
            maps_off::VMO_KOID
        );
        assert_eq!(
            u + offset_of!(zx_info_maps_mapping_t, vmo_offset),
            maps_off::VMO_OFFSET
        );
        assert_eq!(
            u + offset_of!(zx_info_maps_mapping_t, committed_pages),
            maps_off::COMMITTED_PAGES
        );
        assert_eq!(
            u + offset_of!(zx_info_maps_mapping_t, populated_pages),
            maps_off::POPULATED_PAGES
        );

        assert_eq!(size_of::<zx_info_vmo_t>(), VMO_RECORD_SIZE);
        assert_eq!(offset_of!(zx_info_vmo_t, koid), vmo_off::KOID);
        assert_eq!(offset_of!(zx_info_vmo_t, name), vmo_off::NAME);
        assert_eq!(offset_of!(zx_info_vmo_t, size_bytes), vmo_off::SIZE_BYTES);
        assert_eq!(offset_of!(zx_info_vmo_t, parent_koid), vmo_off::PARENT_KOID);
        assert_eq!(
            offset_of!(zx_info_vmo_t, num_children),
            vmo_off::NUM_CHILDREN
        );
        assert_eq!(
            offset_of!(zx_info_vmo_t, num_mappings),
            vmo_off::NUM_MAPPINGS
        );
        assert_eq!(offset_of!(zx_info_vmo_t, share_count), vmo_off::SHARE_COUNT);
        assert_eq!(offset_of!(zx_info_vmo_t, flags), vmo_off::FLAGS);
        assert_eq!(
            offset_of!(zx_info_vmo_t, committed_bytes),
            vmo_off::COMMITTED_BYTES
        );
        assert_eq!(
            offset_of!(zx_info_vmo_t, handle_rights),
            vmo_off::HANDLE_RIGHTS
        );
        assert_eq!(
            offset_of!(zx_info_vmo_t, cache_policy),
            vmo_off::CACHE_POLICY
        );

        assert_eq!(size_of::<zx_info_vmar_t>(), VMAR_RECORD_SIZE);
        assert_eq!(
            size_of::<zx_info_handle_basic_t>(),
            HANDLE_BASIC_RECORD_SIZE
        );
        assert_eq!(offset_of!(zx_info_handle_basic_t, rights), 8);
        assert_eq!(offset_of!(zx_info_handle_basic_t, type_), 12);
        assert_eq!(offset_of!(zx_info_handle_basic_t, related_koid), 16);
    }

    #[test]
    fn maps_records_round_trip() {
        let entries = [
            MapEntry {
                name: "proc".into(),
                base: 0x100_0000,
                size: 0x7fff_feff_f000,
                depth: 0,
                kind: EntryKind::Aspace,
                mapping: None,
            },
            MapEntry {
                name: "heap".into(),
                base: 0x2000_0000,
                size: 0x30_0000,
                depth: 2,
                kind: EntryKind::Mapping,
                mapping: Some(MappingInfo {
                    mmu_flags: ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                    vmo_koid: 1031,
                    vmo_offset: 0x1000,
                    committed_pages: 3,
                }),
            },
        ];
        let mut bytes = Vec::new();
        for e in &entries {
            bytes.extend_from_slice(&e.encode());
        }
        bytes.extend_from_slice(&[0u8; 10]); // a partial record is ignored
        assert_eq!(MapEntry::decode_all(&bytes, MAPS_RECORD_SIZE), entries);
        assert_eq!(entries[1].pages(), 0x300);
        assert!((entries[1].committed_fraction() - 3.0 / 768.0).abs() < 1e-12);
        assert_eq!(entries[0].committed_fraction(), 0.0);
    }

    #[test]
    fn short_or_odd_records_are_refused() {
        assert_eq!(MapEntry::decode(&[0u8; 50]), None);
        assert_eq!(VmoInfo::decode(&[0u8; 100]), None);
        assert_eq!(VmarInfo::decode(&[0u8; 15]), None);
        assert_eq!(HandleBasic::decode(&[0u8; 31]), None);
        let odd = MapEntry::decode(&[0xffu8; MAPS_V1_RECORD_SIZE]).unwrap();
        assert_eq!(odd.kind, EntryKind::Other(u32::MAX));
        assert_eq!(odd.end(), u64::MAX);
    }
}
