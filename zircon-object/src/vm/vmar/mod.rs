//! Virtual memory address regions: the tree of regions and mappings of one
//! address space.
//!
//! One [`AddressSpace`] holds the whole tree behind one lock. Each region keeps its
//! children (sub-regions and mappings) in a `BTreeMap` by base address, for
//! O(log n) lookup by address and O(log n) "is this range free". Free-space search
//! uses an index of the free gaps (an augmented AVL tree, `gaps`) with O(log n) first
//! fit. A compact region keeps that index from creation; a region with random
//! placement, which finds room by sampling and asking the B-tree, builds it (in one
//! O(n) pass) only the first time sampling fails because the region is crowded, and
//! keeps it from then on. A region's handle object, [`VmAddressRegion`], names the region
//! by id; a destroyed region is simply absent from the tree, so every operation on a
//! handle to it answers `ZX_ERR_BAD_STATE`.

mod copy_cache;
mod fault;
mod gaps;
mod info;
mod map;
mod place;
mod protect;
mod unmap;
mod walk;

pub use info::{MapsEntry, MapsEntryKind};

use super::mapping::VmMapping;
use super::request::{AllocateRequest, VmPerms};
use super::shootdown::{OwedFlush, Sweep};
use crate::abi::*;
use crate::error::{invariant, ZxResult};
use crate::object::{KObjectBase, KernelObject};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use copy_cache::{CopyPage, Tree};
use core::sync::atomic::{AtomicUsize, Ordering};
use gaps::GapTree;
use hashbrown::HashMap;
use kernel_hal::{Hal, MMUFlags, PageFaultHandler, PageTable, PhysAddr, VirtAddr, PAGE_SIZE};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Names a region within its address space.
pub(crate) type RegionId = u64;

/// The root region's flags.
const ROOT_FLAGS: u32 =
    ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE;

const ROOT_ID: RegionId = 1;

static NEXT_ASPACE_ID: AtomicUsize = AtomicUsize::new(1);

/// An address space: a page table and the tree of regions and mappings in it.
pub struct AddressSpace {
    id: usize,
    hal: Arc<dyn Hal>,
    page_table: Arc<dyn PageTable>,
    /// The same page table, with the shootdown that changes to it owe.
    owed: Arc<OwedFlush>,
    /// A frame of zeros that read faults on never-written pages map read-only, so
    /// that reading commits nothing. Freed when the address space goes.
    zero_frame: PhysAddr,
    base: VirtAddr,
    size: usize,
    /// The tree. Lock order: this lock, then any VMO's lock, then any mapping's.
    pub(crate) state: Tree,
}

/// The tree of one address space.
pub(crate) struct AspaceState {
    /// Every live region, by id. A destroyed region is removed.
    pub(crate) regions: HashMap<RegionId, Region>,
    next_id: u64,
    rng: Xoshiro256PlusPlus,
    /// The last page a user copy went through (see [`Tree`]).
    copy_page: Option<CopyPage>,
}

/// One live region.
pub(crate) struct Region {
    pub(crate) base: VirtAddr,
    pub(crate) size: usize,
    /// `ZX_VM_CAN_MAP_*` and `ZX_VM_COMPACT`.
    pub(crate) flags: u32,
    pub(crate) parent: Option<RegionId>,
    /// Sub-regions and mappings by base address; they never overlap.
    pub(crate) children: BTreeMap<VirtAddr, Child>,
    /// The free gaps between children, once built (see the module doc): always
    /// for a compact region, from the first crowded placement for the others.
    gaps: Option<GapTree>,
}

/// A child of a region.
#[derive(Clone)]
pub(crate) enum Child {
    /// A sub-region.
    Region { id: RegionId, size: usize },
    /// A mapping. `size` mirrors the mapping's own size.
    Mapping {
        size: usize,
        mapping: Arc<VmMapping>,
    },
}

impl Child {
    pub(crate) fn size(&self) -> usize {
        match self {
            Child::Region { size, .. } | Child::Mapping { size, .. } => *size,
        }
    }
}

impl Region {
    fn new(base: VirtAddr, size: usize, flags: u32, parent: Option<RegionId>) -> Region {
        Region {
            base,
            size,
            flags,
            parent,
            children: BTreeMap::new(),
            gaps: (flags & ZX_VM_COMPACT != 0).then(|| GapTree::new(base, size)),
        }
    }

    pub(crate) fn end(&self) -> VirtAddr {
        self.base + self.size
    }

    /// Whether `[start, start + len)` lies inside the region.
    pub(crate) fn contains_range(&self, start: usize, len: usize) -> bool {
        start >= self.base && start.checked_add(len).is_some_and(|end| end <= self.end())
    }

    /// Whether `[start, start + len)` is free of children. Children never overlap,
    /// so their ends are ordered like their bases: the range is free exactly when the
    /// last child starting below its end also ends by its start (one B-tree lookup).
    pub(crate) fn is_free(&self, start: usize, len: usize) -> bool {
        let Some(end) = start.checked_add(len) else {
            return false;
        };
        self.children
            .range(..end)
            .next_back()
            .is_none_or(|(&b, c)| b + c.size() <= start)
    }

    /// The free range around `addr` as the children see it: from the end of the
    /// last child below `addr` (or the region's base) to the base of the first child
    /// above it (or the region's end). `addr` itself must not be inside a child.
    fn free_range_around(&self, addr: VirtAddr) -> (VirtAddr, VirtAddr) {
        let lo = self
            .children
            .range(..addr)
            .next_back()
            .map_or(self.base, |(&b, c)| b + c.size());
        let hi = self
            .children
            .range(addr..)
            .next()
            .map_or(self.end(), |(&b, _)| b);
        (lo, hi)
    }

    /// The child containing `addr`, as `(base, child)`.
    pub(crate) fn child_at(&self, addr: VirtAddr) -> Option<(VirtAddr, &Child)> {
        let (&base, child) = self.children.range(..=addr).next_back()?;
        (addr < base + child.size()).then_some((base, child))
    }

    /// The children that intersect `[start, end)`, in address order: walking down
    /// from the last child starting below `end` until one ends by `start` (ends are
    /// ordered like bases, since children never overlap).
    pub(crate) fn intersecting(&self, start: VirtAddr, end: VirtAddr) -> Vec<(VirtAddr, Child)> {
        let mut out: Vec<(VirtAddr, Child)> = self
            .children
            .range(..end)
            .rev()
            .take_while(|(&b, c)| b + c.size() > start)
            .map(|(&b, c)| (b, c.clone()))
            .collect();
        out.reverse();
        out
    }

    /// The gap index, built from the children if it was not kept yet.
    pub(crate) fn gaps(&mut self) -> &GapTree {
        if self.gaps.is_none() {
            let mut gaps = GapTree::new(0, 0);
            let mut cursor = self.base;
            for (&b, c) in &self.children {
                if b > cursor {
                    gaps.insert(cursor, b - cursor);
                }
                cursor = b + c.size();
            }
            if cursor < self.end() {
                gaps.insert(cursor, self.end() - cursor);
            }
            self.gaps = Some(gaps);
        }
        self.gaps.as_ref().expect("built above")
    }

    /// Adds a child over a free range, and updates the gap index (if kept) in two
    /// passes at most, with the gap found through the children's B-tree.
    pub(crate) fn insert_child(&mut self, base: VirtAddr, child: Child) {
        let size = child.size();
        if self.gaps.is_some() {
            let (g, g_end) = self.free_range_around(base);
            debug_assert!(
                g <= base && base + size <= g_end,
                "child inserted over a free range"
            );
            if let Some(gaps) = self.gaps.as_mut() {
                if base > g {
                    gaps.set_len(g, base - g);
                } else {
                    gaps.remove(g);
                }
                if base + size < g_end {
                    gaps.insert(base + size, g_end - (base + size));
                }
            }
        }
        self.children.insert(base, child);
    }

    /// Removes the child at `base`, and merges the freed range with the gaps around
    /// it in the gap index (if kept).
    pub(crate) fn remove_child(&mut self, base: VirtAddr) -> Option<Child> {
        let child = self.children.remove(&base)?;
        if self.gaps.is_some() {
            let end = base + child.size();
            let (lo, hi) = self.free_range_around(base);
            if let Some(gaps) = self.gaps.as_mut() {
                if hi > end {
                    gaps.remove(end);
                }
                if lo < base {
                    gaps.set_len(lo, hi - lo);
                } else {
                    gaps.insert(base, hi - base);
                }
            }
        }
        Some(child)
    }
}

impl AddressSpace {
    /// Creates an address space over a new page table from `hal`, with a root region
    /// covering the page table's whole user range, and registers itself as that page
    /// table's fault handler.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the HAL could not create another page table.
    pub fn new(hal: Arc<dyn Hal>) -> ZxResult<Arc<AddressSpace>> {
        let page_table: Arc<dyn PageTable> =
            Arc::from(hal.new_address_space().map_err(|_| ZX_ERR_NO_MEMORY)?);
        let zero_frame = hal.alloc_frame().map_err(|_| ZX_ERR_NO_MEMORY)?;
        if let Err(err) = hal.zero(zero_frame, PAGE_SIZE) {
            invariant(hal.free_frames(zero_frame, 1), "free the zero frame");
            return Err(err.into());
        }
        let seed = hal.placement_seed();
        let (base, size) = page_table.user_range();
        let id = NEXT_ASPACE_ID.fetch_add(1, Ordering::Relaxed);
        let mut regions = HashMap::new();
        regions.insert(ROOT_ID, Region::new(base, size, ROOT_FLAGS, None));
        let aspace = Arc::new(AddressSpace {
            id,
            hal,
            owed: OwedFlush::new(page_table.clone()),
            page_table,
            zero_frame,
            base,
            size,
            state: Tree::new(AspaceState {
                regions,
                next_id: ROOT_ID + 1,
                rng: Xoshiro256PlusPlus::seed_from_u64(placement_seed(seed, id)),
                copy_page: None,
            }),
        });
        let handler: alloc::sync::Weak<dyn PageFaultHandler> = Arc::downgrade(&aspace) as _;
        aspace.page_table.set_fault_handler(Some(handler));
        Ok(aspace)
    }

    /// Reseeds the generator that places non-specific, non-compact allocations, so
    /// that a test can reproduce a placement. (A new address space seeds it from the
    /// HAL's [`placement_seed`](kernel_hal::Hal::placement_seed) and its id.)
    pub fn seed_placement(&self, seed: u64) {
        self.state.lock().rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    }

    /// A number naming this address space among the live ones.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The HAL this address space runs on.
    pub fn hal(&self) -> &Arc<dyn Hal> {
        &self.hal
    }

    /// The page table.
    pub fn page_table(&self) -> &dyn PageTable {
        &*self.page_table
    }

    /// The page table with the shootdown its changes owe (mappings hold it to
    /// clear their translations).
    pub(crate) fn owed(&self) -> &Arc<OwedFlush> {
        &self.owed
    }

    /// The frame of zeros mapped read-only for never-written pages.
    pub(crate) fn zero_frame(&self) -> PhysAddr {
        self.zero_frame
    }

    /// The user range `(base, size)`, which the root region covers.
    pub fn range(&self) -> (VirtAddr, usize) {
        (self.base, self.size)
    }

    /// The handle object of the root region.
    pub fn root_vmar(self: &Arc<Self>) -> Arc<VmAddressRegion> {
        Arc::new(VmAddressRegion {
            base: KObjectBase::new(),
            aspace: self.clone(),
            id: ROOT_ID,
            addr: self.base,
            size: self.size,
            flags: ROOT_FLAGS,
        })
    }

    /// How many mappings the whole tree holds (every depth).
    pub fn mapping_count(&self) -> usize {
        let state = self.state.lock();
        state
            .regions
            .values()
            .map(|r| {
                r.children
                    .values()
                    .filter(|c| matches!(c, Child::Mapping { .. }))
                    .count()
            })
            .sum()
    }
}

impl AspaceState {
    /// Region `id`, checked the way `unmap` and `protect` check their target: alive,
    /// and holding all of `[addr, addr + len)`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_STATE` (destroyed), then `ZX_ERR_INVALID_ARGS` (range not inside).
    pub(crate) fn live_region_covering(
        &self,
        id: RegionId,
        addr: VirtAddr,
        len: usize,
    ) -> ZxResult<&Region> {
        let region = self.regions.get(&id).ok_or(ZX_ERR_BAD_STATE)?;
        if region.contains_range(addr, len) {
            Ok(region)
        } else {
            Err(ZX_ERR_INVALID_ARGS)
        }
    }

    pub(crate) fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The deepest live region containing `addr`, starting from `from`, and the
    /// mapping containing `addr` if there is one.
    pub(crate) fn lookup(&self, from: RegionId, addr: VirtAddr) -> Option<Arc<VmMapping>> {
        self.mapping_at(from, addr).cloned()
    }

    /// As [`lookup`](Self::lookup), borrowing the mapping from the tree.
    pub(crate) fn mapping_at(&self, from: RegionId, addr: VirtAddr) -> Option<&Arc<VmMapping>> {
        let mut region = self.regions.get(&from)?;
        if addr < region.base || addr >= region.end() {
            return None;
        }
        loop {
            match region.child_at(addr)? {
                (_, Child::Mapping { mapping, .. }) => return Some(mapping),
                (_, Child::Region { id, .. }) => region = self.regions.get(id)?,
            }
        }
    }
}

/// The seed of an address space's placement generator: the embedder's entropy
/// mixed with the address space's id (a splitmix64 step), so that address spaces
/// made from one seed still place differently.
fn placement_seed(entropy: u64, id: usize) -> u64 {
    let mut z = entropy ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A handle's view of a region: the kernel object that VMAR handles refer to.
pub struct VmAddressRegion {
    base: KObjectBase,
    aspace: Arc<AddressSpace>,
    id: RegionId,
    addr: VirtAddr,
    size: usize,
    flags: u32,
}

impl KernelObject for VmAddressRegion {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_VMAR
    }
    fn has_name(&self) -> bool {
        false
    }
}

impl VmAddressRegion {
    /// The first address of the region.
    pub fn addr(&self) -> VirtAddr {
        self.addr
    }

    /// The size of the region in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// What the region lets its mappings (and sub-regions) have.
    pub fn perms(&self) -> VmPerms {
        VmPerms::from_bits_truncate(flags_to_perms(self.flags).bits())
    }

    /// Whether the region allows placements other than [`Placement::Anywhere`]
    /// inside it.
    ///
    /// [`Placement::Anywhere`]: crate::vm::Placement::Anywhere
    pub fn can_map_specific(&self) -> bool {
        self.flags & ZX_VM_CAN_MAP_SPECIFIC != 0
    }

    /// Whether the region places its children at the lowest free address.
    pub fn is_compact(&self) -> bool {
        self.flags & ZX_VM_COMPACT != 0
    }

    /// The address space the region belongs to.
    pub fn aspace(&self) -> &Arc<AddressSpace> {
        &self.aspace
    }

    /// Whether the region is still alive (not destroyed).
    pub fn is_alive(&self) -> bool {
        self.aspace.state.lock().regions.contains_key(&self.id)
    }

    /// Whether this is the root region of its address space.
    pub fn is_root(&self) -> bool {
        self.id == ROOT_ID
    }
}

/// A region's internal flags (`ZX_VM_CAN_MAP_*`, `ZX_VM_COMPACT`) for a request.
pub(crate) fn region_flags(request: &AllocateRequest) -> u32 {
    let mut flags = 0;
    for (perm, bit) in [
        (VmPerms::READ, ZX_VM_CAN_MAP_READ),
        (VmPerms::WRITE, ZX_VM_CAN_MAP_WRITE),
        (VmPerms::EXECUTE, ZX_VM_CAN_MAP_EXECUTE),
    ] {
        if request.perms.contains(perm) {
            flags |= bit;
        }
    }
    if request.can_map_specific {
        flags |= ZX_VM_CAN_MAP_SPECIFIC;
    }
    if request.compact {
        flags |= ZX_VM_COMPACT;
    }
    flags
}

/// The length of a range operation (`unmap`, `protect`, `op_range`): `len`
/// rounded up to whole pages.
///
/// # Errors
///
/// `ZX_ERR_INVALID_ARGS`: the rounded length is zero (`len == 0`, or rounding
/// overflows).
pub(crate) fn range_len(len: usize) -> ZxResult<usize> {
    match kernel_hal::page_round_up(len) {
        Some(len) if len > 0 => Ok(len),
        _ => Err(ZX_ERR_INVALID_ARGS),
    }
}

// This and `rights_to_perms` above translate three bits each, from two different
// families (`CAN_MAP_*` flags and `ZX_RIGHT_*` rights).
/// The permissions a region's `CAN_MAP_*` flags allow.
pub(crate) fn flags_to_perms(flags: u32) -> MMUFlags {
    let mut perms = MMUFlags::empty();
    if flags & ZX_VM_CAN_MAP_READ != 0 {
        perms |= MMUFlags::READ;
    }
    if flags & ZX_VM_CAN_MAP_WRITE != 0 {
        perms |= MMUFlags::WRITE;
    }
    if flags & ZX_VM_CAN_MAP_EXECUTE != 0 {
        perms |= MMUFlags::EXECUTE;
    }
    perms
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // Take every translation down before the zero frame goes back: the tree and
        // its mappings go with the fields, and the page table with its last holder.
        let mut sweep = Sweep::new(&self.owed);
        let mappings: Vec<Arc<VmMapping>> = self
            .state
            .get_mut()
            .regions
            .values()
            .flat_map(|r| r.children.values())
            .filter_map(|c| match c {
                Child::Mapping { mapping, .. } => Some(mapping.clone()),
                Child::Region { .. } => None,
            })
            .collect();
        for mapping in mappings {
            mapping.destroy(&mut sweep);
        }
        sweep.finish();
        invariant(
            self.hal.free_frames(self.zero_frame, 1),
            "free the zero frame",
        );
    }
}

impl PageFaultHandler for AddressSpace {
    fn handle_page_fault(&self, vaddr: VirtAddr, access: MMUFlags) -> bool {
        self.fault(vaddr, access).is_ok()
    }
}

#[cfg(test)]
mod seed_tests {
    use super::placement_seed;

    #[test]
    fn the_embedders_entropy_and_the_id_both_change_the_seed() {
        assert_eq!(placement_seed(7, 3), placement_seed(7, 3));
        assert_ne!(placement_seed(7, 3), placement_seed(8, 3));
        assert_ne!(placement_seed(7, 3), placement_seed(7, 4));
    }
}
