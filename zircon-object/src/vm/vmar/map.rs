//! Creating sub-regions (`allocate`) and mappings (`map`).

use super::{flags_to_perms, AspaceState, Child, Region, RegionId, VmAddressRegion};
use crate::abi::*;
use crate::error::ZxResult;
use crate::object::KObjectBase;
use crate::vm::mapping::{MappingInner, VmMapping};
use crate::vm::request::{AllocateRequest, MapRequest, Placement};
use crate::vm::shootdown::Sweep;
use crate::vm::vmo::VmObject;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use kernel_hal::{is_page_aligned, page_round_up, VirtAddr, PAGE_SIZE};

/// Whether `align` is a power of two of at least a page.
fn valid_align(align: usize) -> bool {
    align.is_power_of_two() && align >= PAGE_SIZE
}

impl AspaceState {
    /// The placement checks shared by `allocate` and `map`, in Zircon's order, and
    /// the chosen base. A [`Placement::Replace`] is refused unless `replace_ok`;
    /// with it an overlap is allowed (the caller replaces what it covers).
    fn resolve_base(
        &mut self,
        id: RegionId,
        placement: Placement,
        size: usize,
        align: usize,
        replace_ok: bool,
    ) -> ZxResult<VirtAddr> {
        let region: &Region = self.regions.get(&id).ok_or(ZX_ERR_BAD_STATE)?;
        let (offset, specific, overwrite, upper_limit) = match placement {
            Placement::Anywhere => (0, false, false, false),
            Placement::At(offset) => (offset, true, false, false),
            Placement::Replace(offset) if replace_ok => (offset, true, true, false),
            Placement::Replace(_) => return Err(ZX_ERR_INVALID_ARGS),
            Placement::Below(offset) => (offset, false, false, true),
        };
        if !is_page_aligned(offset) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if (specific || upper_limit) && region.flags & ZX_VM_CAN_MAP_SPECIFIC == 0 {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        if upper_limit {
            if offset > region.size || size > region.size || size > offset {
                return Err(ZX_ERR_INVALID_ARGS);
            }
        } else if offset >= region.size || size > region.size - offset {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if specific {
            let base = region.base + offset;
            if base % align != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            if !overwrite && !region.is_free(base, size) {
                return Err(ZX_ERR_ALREADY_EXISTS);
            }
            return Ok(base);
        }
        let limit = if upper_limit {
            region.base + offset
        } else {
            region.end()
        };
        self.place(id, size, align, limit)
            .ok_or(ZX_ERR_NO_RESOURCES)
    }
}

impl VmAddressRegion {
    /// Creates a sub-region as `request` says. Checks run in Zircon's order.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `size` unaligned or zero, an alignment that is not a
    ///   power of two of at least a page, a [`Placement::Replace`], an unaligned
    ///   offset, a range outside this region, a specific base not meeting the
    ///   alignment.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    /// - `ZX_ERR_ACCESS_DENIED`: a permission this region does not allow, or a
    ///   placement other than [`Placement::Anywhere`] in a region that does not
    ///   allow specific placement.
    /// - `ZX_ERR_ALREADY_EXISTS`: a specific range overlaps a child.
    /// - `ZX_ERR_NO_RESOURCES`: no free range fits.
    pub fn allocate(&self, request: &AllocateRequest) -> ZxResult<Arc<VmAddressRegion>> {
        let size = request.size;
        if !is_page_aligned(size) || !valid_align(request.align) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let mut state = self.aspace.state.lock();
        let parent_flags = state.regions.get(&self.id).ok_or(ZX_ERR_BAD_STATE)?.flags;
        if size == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !flags_to_perms(parent_flags).contains(request.perms.mmu()) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let base = state.resolve_base(self.id, request.placement, size, request.align, false)?;
        let id = state.new_id();
        let flags = super::region_flags(request);
        state
            .regions
            .insert(id, Region::new(base, size, flags, Some(self.id)));
        state
            .regions
            .get_mut(&self.id)
            .ok_or(ZX_ERR_BAD_STATE)?
            .insert_child(base, Child::Region { id, size });
        Ok(Arc::new(VmAddressRegion {
            base: KObjectBase::new(),
            aspace: self.aspace.clone(),
            id,
            addr: base,
            size,
            flags,
        }))
    }

    /// Maps part of `vmo` into this region as `request` says and returns the
    /// mapping's base. Checks run in Zircon's order.
    ///
    /// The mapping's maximum protection is `request.max_perms` limited to what this
    /// region allows; its current protection is `request.perms`. It may run past the
    /// VMO's end (access there faults as out of range until the VMO grows).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: W or X without R, `populate` with
    ///   [`Placement::Replace`], a bad alignment, an unaligned `vmo_offset` or
    ///   placement offset, `len == 0`, a range outside the region, or a
    ///   replacement over a sub-region.
    /// - `ZX_ERR_ACCESS_DENIED`: `perms` beyond `max_perms` or beyond what the
    ///   region allows, or a placement other than [`Placement::Anywhere`] in a
    ///   region that does not allow specific placement.
    /// - `ZX_ERR_OUT_OF_RANGE`: rounding `len` or `vmo_offset + len` overflows, or
    ///   passes the end of a physical VMO.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    /// - `ZX_ERR_ALREADY_EXISTS`: a specific range overlaps a child.
    /// - `ZX_ERR_NO_RESOURCES`: no free range fits.
    /// - `ZX_ERR_NO_MEMORY`: `populate` could not create translations.
    pub fn map(&self, vmo: &Arc<VmObject>, request: &MapRequest) -> ZxResult<VirtAddr> {
        self.map_impl(vmo, request, false)
    }

    // `map` and `check_map` repeat one parameter list on purpose: both are thin names
    // for `map_impl`, which holds the logic once (only its dry-run flag differs).
    /// Runs every check of [`map`](Self::map), in the same order, and changes
    /// nothing. Returns the base a specific mapping would get (for a non-specific
    /// one, a base it could get): a caller that must know whether a replacing map
    /// will succeed before it replaces anything asks this first.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    pub fn check_map(&self, vmo: &Arc<VmObject>, request: &MapRequest) -> ZxResult<VirtAddr> {
        self.map_impl(vmo, request, true)
    }

    fn map_impl(
        &self,
        vmo: &Arc<VmObject>,
        request: &MapRequest,
        dry_run: bool,
    ) -> ZxResult<VirtAddr> {
        let mut sweep = Sweep::new(self.aspace.owed());
        let result = self.map_swept(&mut sweep, vmo, request, dry_run);
        sweep.finish();
        result
    }

    /// `map_impl`, owing the shootdown of anything it replaces to `sweep`.
    fn map_swept(
        &self,
        sweep: &mut Sweep,
        vmo: &Arc<VmObject>,
        request: &MapRequest,
        dry_run: bool,
    ) -> ZxResult<VirtAddr> {
        let requested = request.perms.mmu();
        let overwrite = matches!(request.placement, Placement::Replace(_));
        if !request.perms.is_valid() || (request.populate && overwrite) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !request.max_perms.contains(request.perms) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        if !valid_align(request.align) || request.vmo_offset % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let vmo_offset = request.vmo_offset;
        let size = page_round_up(request.len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        let vmo_end = vmo_offset
            .checked_add(size as u64)
            .ok_or(ZX_ERR_OUT_OF_RANGE)?;
        // Device memory has no "past the end" to fault on: a physical VMO's
        // mapping stays inside it.
        if vmo.is_physical() && vmo_end > vmo.size() as u64 {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }

        let mut state = self.aspace.state.lock();
        let region_flags = state.regions.get(&self.id).ok_or(ZX_ERR_BAD_STATE)?.flags;
        if size == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !flags_to_perms(region_flags).contains(requested) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let base = state.resolve_base(self.id, request.placement, size, request.align, true)?;
        if overwrite {
            let region = state.regions.get(&self.id).ok_or(ZX_ERR_BAD_STATE)?;
            let covered = region.intersecting(base, base + size);
            if covered
                .iter()
                .any(|(_, c)| matches!(c, Child::Region { .. }))
            {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            if !covered.is_empty() && !dry_run {
                self.unmap_mappings_locked(&mut state, sweep, base, size);
            }
        }

        if dry_run {
            return Ok(base);
        }
        let max = request.max_perms.mmu() & flags_to_perms(region_flags);
        let mut perms = BTreeMap::new();
        perms.insert(base, requested);
        let inner = MappingInner {
            base,
            size,
            vmo_offset: vmo_offset as usize,
            max,
            perms,
            dead: false,
        };
        let id = state.new_id();
        let mapping = VmMapping::new(id, vmo.clone(), &self.aspace, inner);
        state
            .regions
            .get_mut(&self.id)
            .ok_or(ZX_ERR_BAD_STATE)?
            .insert_child(
                base,
                Child::Mapping {
                    size,
                    mapping: mapping.clone(),
                },
            );

        if request.populate {
            let result = mapping.map_committed(self.aspace.page_table(), base, base + size);
            if let Err(err) = result {
                self.remove_mapping_locked(&mut state, sweep, self.id, base);
                return Err(err);
            }
        }
        Ok(base)
    }

    /// Removes the mapping at `base` in region `id` and takes its translations away.
    pub(crate) fn remove_mapping_locked(
        &self,
        state: &mut AspaceState,
        sweep: &mut Sweep,
        id: RegionId,
        base: VirtAddr,
    ) {
        if let Some(region) = state.regions.get_mut(&id) {
            if let Some(Child::Mapping { mapping, .. }) = region.remove_child(base) {
                mapping.destroy(sweep);
            }
        }
    }
}
