//! Reports on the tree: `ZX_INFO_PROCESS_MAPS` entries and the VMOs it maps.

use super::walk::Visit;
use super::{AddressSpace, AspaceState, Child, ROOT_ID};
use crate::object::{KernelObjectExt, Name};
use crate::vm::vmo::VmObject;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::ControlFlow;
use kernel_hal::{MMUFlags, VirtAddr};

/// What a [`MapsEntry`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapsEntryKind {
    /// The address space itself (depth 0).
    Aspace,
    /// A region.
    Vmar,
    /// A run of a mapping with one protection.
    Mapping {
        /// Current protection.
        perms: MMUFlags,
        /// Koid of the mapped VMO.
        vmo_koid: u64,
        /// VMO offset shown at the entry's base.
        vmo_offset: u64,
        /// Committed VMO pages behind the entry.
        committed_pages: usize,
    },
}

/// One entry of the depth-first report of an address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapsEntry {
    /// The entry's name: `"aspace"`, `"root"`, `"useralloc"` or the VMO's name.
    pub name: Name,
    /// First address.
    pub base: VirtAddr,
    /// Size in bytes.
    pub size: usize,
    /// 0 for the address space, 1 for the root region, one more per level below.
    pub depth: usize,
    /// What the entry is.
    pub kind: MapsEntryKind,
}

impl AddressSpace {
    /// The tree in depth-first pre-order, children in address order: the address
    /// space, the root region, then each child region followed by its contents, with
    /// one entry per protection run of each mapping.
    pub fn maps(&self) -> Vec<MapsEntry> {
        let state = self.state.lock();
        let mut out = Vec::new();
        out.push(MapsEntry {
            name: Name::new(b"aspace"),
            base: self.base,
            size: self.size,
            depth: 0,
            kind: MapsEntryKind::Aspace,
        });
        walk(&state, &mut out);
        out
    }

    /// The VMO of every mapping in the tree, one entry per mapping.
    pub fn mapped_vmos(&self) -> Vec<Arc<VmObject>> {
        let state = self.state.lock();
        let mut out = Vec::new();
        for region in state.regions.values() {
            for child in region.children.values() {
                if let Child::Mapping { mapping, .. } = child {
                    out.push(mapping.vmo().clone());
                }
            }
        }
        out
    }
}

/// The entry of a region at `depth`.
fn region_entry(base: VirtAddr, size: usize, depth: usize, root: bool) -> MapsEntry {
    let name: &[u8] = if root { b"root" } else { b"useralloc" };
    MapsEntry {
        name: Name::new(name),
        base,
        size,
        depth,
        kind: MapsEntryKind::Vmar,
    }
}

/// The entries of the root region and everything below it; the root is at depth 1.
fn walk(state: &AspaceState, out: &mut Vec<MapsEntry>) {
    let Some(root) = state.regions.get(&ROOT_ID) else {
        return;
    };
    out.push(region_entry(root.base, root.size, 1, true));
    let _: ControlFlow<()> = state.walk(ROOT_ID, root.base, root.end(), |visit| {
        match visit {
            Visit::Region { region, depth } => {
                out.push(region_entry(region.base, region.size, depth + 2, false))
            }
            Visit::Mapping { mapping, depth, .. } => {
                let vmo = mapping.vmo();
                let inner = mapping.inner.lock();
                for (start, end, perms) in inner.runs() {
                    let vmo_offset = inner.vmo_offset + (start - inner.base);
                    out.push(MapsEntry {
                        name: vmo.name(),
                        base: start,
                        size: end - start,
                        depth: depth + 2,
                        kind: MapsEntryKind::Mapping {
                            perms,
                            vmo_koid: vmo.koid(),
                            vmo_offset: vmo_offset as u64,
                            committed_pages: vmo.committed_pages_in(vmo_offset, end - start),
                        },
                    });
                }
            }
            Visit::Gap => {}
        }
        ControlFlow::Continue(())
    });
}
