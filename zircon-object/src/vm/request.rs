//! The typed requests of the kernel API: what a caller asks of a region, as values
//! rather than the ABI's option words.
//!
//! The syscall layer decodes `zx_vmar_map`'s and `zx_vmar_allocate`'s option words
//! into these (checking the bits the ABI defines, and the handles' rights); a kernel
//! builds them directly, for example to map an ELF segment, a vDSO or a kernel
//! stack into an address space of its own.

use kernel_hal::{MMUFlags, PAGE_SIZE};

bitflags::bitflags! {
    /// Access permissions: of a mapping's pages, or what a region lets its
    /// mappings have.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct VmPerms: u32 {
        /// The pages may be read.
        const READ = 1 << 0;
        /// The pages may be written.
        const WRITE = 1 << 1;
        /// Instructions may be fetched from the pages.
        const EXECUTE = 1 << 2;
    }
}

impl VmPerms {
    /// READ and WRITE.
    pub const READ_WRITE: VmPerms = VmPerms::READ.union(VmPerms::WRITE);

    /// The same permissions as MMU flags (without USER).
    pub(crate) fn mmu(self) -> MMUFlags {
        MMUFlags::from_bits_truncate(self.bits())
    }

    /// Whether the permissions can be given to a page: WRITE or EXECUTE need READ.
    pub(crate) fn is_valid(self) -> bool {
        self.is_empty() || self.contains(VmPerms::READ)
    }
}

/// Where a new sub-region or mapping goes in its parent region. Offsets are in
/// bytes from the parent's base and must be page-aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Placement {
    /// Wherever the region places things: at random, or at the lowest free address
    /// in a compact region.
    #[default]
    Anywhere,
    /// Exactly at this offset; the range must be free. Needs a region that allows
    /// specific placement.
    At(usize),
    /// Exactly at this offset, replacing the mappings there (not sub-regions). For
    /// mappings only; needs a region that allows specific placement.
    Replace(usize),
    /// Anywhere the whole range ends at or below this offset. Needs a region that
    /// allows specific placement.
    Below(usize),
}

/// A request to map part of a VMO into a region
/// ([`VmAddressRegion::map`](super::VmAddressRegion::map)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRequest {
    /// The protection the pages start with.
    pub perms: VmPerms,
    /// The most a later `protect` may grant (further limited by what the region
    /// allows); must contain `perms`. A syscall passes what both handles' rights
    /// allow; a kernel usually `VmPerms::all()`.
    pub max_perms: VmPerms,
    /// Where the mapping goes.
    pub placement: Placement,
    /// The alignment of the base, a power of two of at least a page.
    pub align: usize,
    /// The VMO offset shown at the base; page-aligned.
    pub vmo_offset: u64,
    /// The length in bytes, rounded up to pages; may run past the VMO's end.
    pub len: usize,
    /// Map the pages the VMO has committed now, rather than on first access.
    pub populate: bool,
}

impl MapRequest {
    /// A request for `len` bytes from VMO offset `vmo_offset` with protection
    /// `perms` (which is also the maximum), placed anywhere, page-aligned, faulted in
    /// on demand.
    pub fn new(vmo_offset: u64, len: usize, perms: VmPerms) -> MapRequest {
        MapRequest {
            perms,
            max_perms: perms,
            placement: Placement::Anywhere,
            align: PAGE_SIZE,
            vmo_offset,
            len,
            populate: false,
        }
    }
}

/// A request to carve a sub-region out of a region
/// ([`VmAddressRegion::allocate`](super::VmAddressRegion::allocate)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocateRequest {
    /// What the new region lets its mappings have; the parent must allow all of it.
    pub perms: VmPerms,
    /// Whether the new region allows specific placement inside it.
    pub can_map_specific: bool,
    /// Whether the new region places its children at the lowest free address
    /// instead of at random.
    pub compact: bool,
    /// Where the region goes ([`Placement::Replace`] is refused).
    pub placement: Placement,
    /// The alignment of the base, a power of two of at least a page.
    pub align: usize,
    /// The size in bytes; page-aligned, non-zero.
    pub size: usize,
}

impl AllocateRequest {
    /// A request for `size` bytes whose mappings may have up to `perms`, placed
    /// anywhere, page-aligned, allowing specific placement inside it.
    pub fn new(size: usize, perms: VmPerms) -> AllocateRequest {
        AllocateRequest {
            perms,
            can_map_specific: true,
            compact: false,
            placement: Placement::Anywhere,
            align: PAGE_SIZE,
            size,
        }
    }
}

/// An operation on the VMO pages behind a range of a region
/// ([`VmAddressRegion::op_range`](super::VmAddressRegion::op_range)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmarOp {
    /// Commit the pages (mappings directly in the region, with WRITE in their
    /// maximum) and map them.
    Commit,
    /// Decommit the pages (same conditions as `Commit`).
    Decommit,
    /// Map the pages already committed.
    MapRange,
    /// A hint that the pages are not needed soon: does nothing.
    DontNeed,
    /// A hint that the pages are needed: maps the ones committed.
    AlwaysNeed,
    /// Zero the pages (mappings with WRITE in their maximum), as the VMO's ZERO.
    Zero,
    /// Map the pages a read would find (mappings directly in the region, with READ
    /// in their maximum): the committed ones; a read never commits.
    Prefetch,
}
