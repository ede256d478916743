//! Creating sub-regions (`allocate`) and mappings (`map`).

use super::{
    flags_to_perms, rights_to_perms, AspaceState, Child, Region, RegionId, VmAddressRegion,
};
use crate::abi::*;
use crate::error::ZxResult;
use crate::object::KObjectBase;
use crate::vm::mapping::{MappingInner, VmMapping, PERM_MASK};
use crate::vm::vmo::VmObject;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use kernel_hal::{is_page_aligned, page_round_up, MMUFlags, VirtAddr, PAGE_SIZE};

/// The PERM bits of an option word.
const PERM_BITS: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE;

/// Every flag bit an option word may carry below the alignment field.
const KNOWN_BITS: u32 = PERM_BITS
    | ZX_VM_COMPACT
    | ZX_VM_SPECIFIC
    | ZX_VM_SPECIFIC_OVERWRITE
    | ZX_VM_CAN_MAP_SPECIFIC
    | ZX_VM_CAN_MAP_READ
    | ZX_VM_CAN_MAP_WRITE
    | ZX_VM_CAN_MAP_EXECUTE
    | ZX_VM_MAP_RANGE
    | ZX_VM_REQUIRE_NON_RESIZABLE
    | ZX_VM_ALLOW_FAULTS
    | ZX_VM_OFFSET_IS_UPPER_LIMIT
    | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED;

/// The alignment an option word asks for, in bytes (at least a page).
///
/// # Errors
///
/// `ZX_ERR_INVALID_ARGS`: an unknown bit below the alignment field, or an alignment
/// field outside `0` and `10..=32`.
pub(crate) fn parse_options(options: u32) -> ZxResult<usize> {
    if options & !ZX_VM_ALIGN_MASK & !KNOWN_BITS != 0 {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    match options >> ZX_VM_ALIGN_BASE {
        0 => Ok(PAGE_SIZE),
        n @ 10..=32 => Ok((1usize << n).max(PAGE_SIZE)),
        _ => Err(ZX_ERR_INVALID_ARGS),
    }
}

/// The permission bits of an option word as MMU flags.
pub(crate) fn option_perms(options: u32) -> MMUFlags {
    MMUFlags::from_bits_truncate(options & PERM_BITS) & PERM_MASK
}

/// Where a new child goes and what it may overlap.
struct Placement {
    specific: bool,
    overwrite: bool,
    upper_limit: bool,
    offset: usize,
    size: usize,
    align: usize,
}

impl AspaceState {
    /// The placement checks shared by `allocate` and `map`, in Zircon's order, and
    /// the chosen base. With `overwrite`, an overlap is allowed (the caller replaces
    /// what it covers).
    fn resolve_base(&mut self, id: RegionId, p: &Placement) -> ZxResult<VirtAddr> {
        let region: &Region = self.regions.get(&id).ok_or(ZX_ERR_BAD_STATE)?;
        let specific = p.specific || p.overwrite;
        if specific && p.upper_limit {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !specific && !p.upper_limit && p.offset != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !is_page_aligned(p.offset) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if (specific || p.upper_limit) && region.flags & ZX_VM_CAN_MAP_SPECIFIC == 0 {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        if p.upper_limit {
            if p.offset > region.size || p.size > region.size || p.size > p.offset {
                return Err(ZX_ERR_INVALID_ARGS);
            }
        } else if p.offset >= region.size || p.size > region.size - p.offset {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if specific {
            let base = region.base + p.offset;
            if base % p.align != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            if !p.overwrite && !region.is_free(base, p.size) {
                return Err(ZX_ERR_ALREADY_EXISTS);
            }
            return Ok(base);
        }
        let limit = if p.upper_limit {
            region.base + p.offset
        } else {
            region.end()
        };
        self.place(id, p.size, p.align, limit)
            .ok_or(ZX_ERR_NO_RESOURCES)
    }
}

impl VmAddressRegion {
    /// Creates a sub-region of `size` bytes. `options` hold the new region's
    /// `CAN_MAP_*` and `COMPACT` flags, and how to place it (`SPECIFIC` at `offset`
    /// from this region's base, `OFFSET_IS_UPPER_LIMIT`, an alignment). The caller
    /// has checked that its handle holds READ / WRITE / EXECUTE for each `CAN_MAP_*`
    /// asked for. Checks run in Zircon's order.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: an unknown option bit or bad alignment field, a PERM
    ///   bit, `size` unaligned or zero, a flag `allocate` does not take
    ///   (`SPECIFIC_OVERWRITE`, `MAP_RANGE`, `REQUIRE_NON_RESIZABLE`, `ALLOW_FAULTS`),
    ///   `SPECIFIC` with `OFFSET_IS_UPPER_LIMIT`, a non-zero `offset` without either,
    ///   an unaligned `offset`, a range outside this region, a specific base not
    ///   meeting the alignment.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    /// - `ZX_ERR_ACCESS_DENIED`: a `CAN_MAP_*` this region lacks, or a specific
    ///   placement in a region without `CAN_MAP_SPECIFIC`.
    /// - `ZX_ERR_ALREADY_EXISTS`: a specific range overlaps a child.
    /// - `ZX_ERR_NO_RESOURCES`: no free range fits.
    pub fn allocate(
        &self,
        options: u32,
        offset: usize,
        size: usize,
    ) -> ZxResult<Arc<VmAddressRegion>> {
        let align = parse_options(options)?;
        let options = options & !ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED;
        if options & PERM_BITS != 0 || !is_page_aligned(size) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let not_for_allocate = ZX_VM_SPECIFIC_OVERWRITE
            | ZX_VM_MAP_RANGE
            | ZX_VM_REQUIRE_NON_RESIZABLE
            | ZX_VM_ALLOW_FAULTS;
        if options & not_for_allocate != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let mut state = self.aspace.state.lock();
        let parent_flags = state.regions.get(&self.id).ok_or(ZX_ERR_BAD_STATE)?.flags;
        if size == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let can_map = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE;
        if options & can_map & !parent_flags != 0 {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let placement = Placement {
            specific: options & ZX_VM_SPECIFIC != 0,
            overwrite: false,
            upper_limit: options & ZX_VM_OFFSET_IS_UPPER_LIMIT != 0,
            offset,
            size,
            align,
        };
        let base = state.resolve_base(self.id, &placement)?;
        let id = state.new_id();
        let flags = options & super::VMAR_FLAGS_MASK;
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

    /// Maps `len` bytes (rounded up to pages) of `vmo` from `vmo_offset` into this
    /// region and returns the mapping's base. `vmo_rights` and `vmar_rights` are the
    /// rights of the handles the caller used. Checks run in Zircon's order.
    ///
    /// The mapping's maximum protection is everything both handles allow; its current
    /// protection is what `options` ask for. It may run past the VMO's end (access
    /// there faults as out of range until the VMO grows).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_ACCESS_DENIED`: the VMO handle lacks MAP, a requested permission is
    ///   not allowed by both handles and the region, or a specific placement in a
    ///   region without `CAN_MAP_SPECIFIC`.
    /// - `ZX_ERR_INVALID_ARGS`: W or X without R, `MAP_RANGE` with
    ///   `SPECIFIC_OVERWRITE`, a `CAN_MAP_*`, `COMPACT` or unknown bit, a bad
    ///   alignment field, an unaligned `vmo_offset` or `vmar_offset`, `len == 0`, a
    ///   range outside the region, a bad combination of placement flags, or
    ///   `SPECIFIC_OVERWRITE` over a sub-region.
    /// - `ZX_ERR_NOT_SUPPORTED`: `REQUIRE_NON_RESIZABLE` with a resizable VMO, or a
    ///   discardable VMO without `ALLOW_FAULTS`.
    /// - `ZX_ERR_OUT_OF_RANGE`: rounding `len` or `vmo_offset + len` overflows.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    /// - `ZX_ERR_ALREADY_EXISTS`: a `SPECIFIC` range overlaps a child.
    /// - `ZX_ERR_NO_RESOURCES`: no free range fits.
    /// - `ZX_ERR_NO_MEMORY`: `MAP_RANGE` could not create translations.
    #[allow(clippy::too_many_arguments)]
    pub fn map(
        &self,
        options: u32,
        vmar_offset: usize,
        vmo: &Arc<VmObject>,
        vmo_rights: zx_rights_t,
        vmar_rights: zx_rights_t,
        vmo_offset: u64,
        len: usize,
    ) -> ZxResult<VirtAddr> {
        self.map_impl(
            options,
            vmar_offset,
            vmo,
            vmo_rights,
            vmar_rights,
            vmo_offset,
            len,
            false,
        )
    }

    // `map` and `check_map` repeat one parameter list on purpose: both are thin names
    // for `map_impl`, which holds the logic once (only its dry-run flag differs).
    /// Runs every check of [`map`](Self::map), in the same order, and changes
    /// nothing. Returns the base a specific mapping would get (for a non-specific
    /// one, a base it could get). The syscall layer uses it to answer a request whose
    /// out-pointer is already known to be bad without replacing anything.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    #[allow(clippy::too_many_arguments)]
    pub fn check_map(
        &self,
        options: u32,
        vmar_offset: usize,
        vmo: &Arc<VmObject>,
        vmo_rights: zx_rights_t,
        vmar_rights: zx_rights_t,
        vmo_offset: u64,
        len: usize,
    ) -> ZxResult<VirtAddr> {
        self.map_impl(
            options,
            vmar_offset,
            vmo,
            vmo_rights,
            vmar_rights,
            vmo_offset,
            len,
            true,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn map_impl(
        &self,
        options: u32,
        vmar_offset: usize,
        vmo: &Arc<VmObject>,
        vmo_rights: zx_rights_t,
        vmar_rights: zx_rights_t,
        vmo_offset: u64,
        len: usize,
        dry_run: bool,
    ) -> ZxResult<VirtAddr> {
        if vmo_rights & ZX_RIGHT_MAP == 0 {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let mut options = options;
        if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED != 0 {
            options |= ZX_VM_PERM_READ;
        }
        let requested = option_perms(options);
        if !requested.is_empty() && !requested.contains(MMUFlags::READ) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if options & ZX_VM_MAP_RANGE != 0 && options & ZX_VM_SPECIFIC_OVERWRITE != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if options & (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE) != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let allowed = rights_to_perms(vmo_rights) & rights_to_perms(vmar_rights);
        if !allowed.contains(requested) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let align = parse_options(options)?;
        if options & ZX_VM_REQUIRE_NON_RESIZABLE != 0 && vmo.is_resizable() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if options & ZX_VM_ALLOW_FAULTS == 0 && vmo.is_discardable() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if options & (ZX_VM_COMPACT | ZX_VM_CAN_MAP_SPECIFIC) != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if vmo_offset % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let size = page_round_up(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        vmo_offset
            .checked_add(size as u64)
            .ok_or(ZX_ERR_OUT_OF_RANGE)?;

        let mut state = self.aspace.state.lock();
        let region_flags = state.regions.get(&self.id).ok_or(ZX_ERR_BAD_STATE)?.flags;
        if size == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !flags_to_perms(region_flags).contains(requested) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let overwrite = options & ZX_VM_SPECIFIC_OVERWRITE != 0;
        let placement = Placement {
            specific: options & ZX_VM_SPECIFIC != 0,
            overwrite,
            upper_limit: options & ZX_VM_OFFSET_IS_UPPER_LIMIT != 0,
            offset: vmar_offset,
            size,
            align,
        };
        let base = state.resolve_base(self.id, &placement)?;
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
                self.unmap_mappings_locked(&mut state, base, size);
            }
        }

        if dry_run {
            return Ok(base);
        }
        let max = allowed & flags_to_perms(region_flags);
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

        if options & ZX_VM_MAP_RANGE != 0 {
            let result = mapping.map_committed(self.aspace.page_table(), base, base + size);
            if let Err(err) = result {
                self.remove_mapping_locked(&mut state, self.id, base);
                return Err(err);
            }
        }
        Ok(base)
    }

    /// Removes the mapping at `base` in region `id` and takes its translations away.
    pub(crate) fn remove_mapping_locked(
        &self,
        state: &mut AspaceState,
        id: RegionId,
        base: VirtAddr,
    ) {
        if let Some(region) = state.regions.get_mut(&id) {
            if let Some(Child::Mapping { mapping, .. }) = region.remove_child(base) {
                mapping.destroy(self.aspace.page_table());
            }
        }
    }
}
