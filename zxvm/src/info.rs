//! The address-space entries zxvm lists and draws, made from the
//! `ZX_INFO_PROCESS_MAPS` records it reads back. The records themselves (and the
//! other `zx_info_*` records zxvm shows) are the syscall crate's
//! ([`zircon_syscall::records`]), whose one layout definition writes and reads them.

use zircon_syscall::records::info_record_size;
use zircon_syscall::*;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingInfo {
    /// Current protection, as `ZX_VM_PERM_*` bits.
    pub mmu_flags: u32,
    /// Koid of the mapped VMO.
    pub vmo_koid: u64,
    /// VMO offset of the mapping's first byte.
    pub vmo_offset: u64,
    /// Committed pages of the VMO inside the mapped range.
    pub committed_pages: u64,
    /// For a pager-backed VMO whose handle the process holds: one character per
    /// mapped page, `c` supplied and clean, `d` dirty, `w` under writeback, `e`
    /// evicted, `.` never supplied (filled in by `Session::maps`; the record
    /// itself does not say).
    pub pager: Option<String>,
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
    /// The entry a `zx_info_maps_t` record describes.
    pub fn from_record(record: &MapsEntry) -> MapEntry {
        let kind = match record.kind {
            ZX_INFO_MAPS_TYPE_ASPACE => EntryKind::Aspace,
            ZX_INFO_MAPS_TYPE_VMAR => EntryKind::Vmar,
            ZX_INFO_MAPS_TYPE_MAPPING => EntryKind::Mapping,
            other => EntryKind::Other(other),
        };
        let m = &record.mapping;
        let mapping = (kind == EntryKind::Mapping).then_some(MappingInfo {
            mmu_flags: m.mmu_flags,
            vmo_koid: m.vmo_koid,
            vmo_offset: m.vmo_offset,
            committed_pages: m.committed_pages as u64,
            pager: None,
        });
        MapEntry {
            name: String::from_utf8_lossy(record.name()).into_owned(),
            base: record.base as u64,
            size: record.size as u64,
            depth: record.depth,
            kind,
            mapping,
        }
    }

    /// Decodes a buffer of whole records of a `ZX_INFO_PROCESS_MAPS` topic version;
    /// a partial record at the end is ignored.
    pub fn decode_all(bytes: &[u8], topic: u32) -> Vec<MapEntry> {
        let size = info_record_size(topic).unwrap_or(MapsEntry::SIZE);
        bytes
            .chunks_exact(size)
            .map(|r| MapEntry::from_record(&MapsEntry::read_from(r)))
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
}

/// The page size of the ABI.
pub const PAGE_SIZE: u64 = 4096;

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

    #[test]
    fn maps_records_of_both_versions_become_entries() {
        let mut heap = MapsEntry {
            base: 0x2000_0000,
            size: 0x30_0000,
            depth: 2,
            kind: ZX_INFO_MAPS_TYPE_MAPPING,
            ..MapsEntry::default()
        };
        heap.name[..4].copy_from_slice(b"heap");
        heap.mapping.mmu_flags = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
        heap.mapping.vmo_koid = 1031;
        heap.mapping.vmo_offset = 0x1000;
        heap.mapping.committed_pages = 3;
        let aspace = MapsEntry {
            base: 0x100_0000,
            size: 0x7fff_feff_f000,
            kind: ZX_INFO_MAPS_TYPE_ASPACE,
            ..MapsEntry::default()
        };
        let mut bytes = aspace.to_bytes();
        bytes.extend_from_slice(&heap.to_bytes());
        bytes.extend_from_slice(&[0u8; 10]); // a partial record is ignored
        let entries = MapEntry::decode_all(&bytes, ZX_INFO_PROCESS_MAPS);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].kind, entries[0].mapping.clone()),
            (EntryKind::Aspace, None)
        );
        let e = &entries[1];
        assert_eq!((e.name.as_str(), e.base, e.depth), ("heap", 0x2000_0000, 2));
        assert_eq!(
            e.mapping,
            Some(MappingInfo {
                mmu_flags: ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                vmo_koid: 1031,
                vmo_offset: 0x1000,
                committed_pages: 3,
                pager: None,
            })
        );
        assert_eq!(e.pages(), 0x300);
        assert!((e.committed_fraction() - 3.0 / 768.0).abs() < 1e-12);
        assert_eq!(entries[0].committed_fraction(), 0.0);

        let v1: Vec<u8> = heap.to_bytes()[..96].to_vec();
        assert_eq!(MapEntry::decode_all(&v1, ZX_INFO_PROCESS_MAPS_V1)[0], *e);
    }

    #[test]
    fn an_unknown_type_is_shown_not_interpreted() {
        let odd = MapsEntry {
            kind: u32::MAX,
            base: usize::MAX,
            size: 1,
            ..MapsEntry::default()
        };
        let e = MapEntry::from_record(&odd);
        assert_eq!(e.kind, EntryKind::Other(u32::MAX));
        assert_eq!(e.end(), u64::MAX);
    }
}
