//! `zx_vmar_*`: sub-regions, mappings, unmap, protect, destroy, op_range.

use crate::{status, Process};
use kernel_hal::{is_page_aligned, page_round_up, PAGE_SIZE};
use zircon_object::abi::*;
use zircon_object::object::Handle;
use zircon_object::vm::{
    AllocateRequest, MapRequest, Placement, VmAddressRegion, VmObject, VmPerms, VmarOp,
};
use zircon_object::{ZxError, ZxResult};

/// The PERM bits of an option word.
const PERM_BITS: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE;

/// The `CAN_MAP_*` permission bits of an option word.
const CAN_MAP_BITS: u32 = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE;

/// Every flag bit an option word may carry below the alignment field.
const KNOWN_BITS: u32 = PERM_BITS
    | CAN_MAP_BITS
    | ZX_VM_COMPACT
    | ZX_VM_SPECIFIC
    | ZX_VM_SPECIFIC_OVERWRITE
    | ZX_VM_CAN_MAP_SPECIFIC
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
fn parse_align(options: u32) -> ZxResult<usize> {
    if options & !ZX_VM_ALIGN_MASK & !KNOWN_BITS != 0 {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    match options >> ZX_VM_ALIGN_BASE {
        0 => Ok(PAGE_SIZE),
        n @ 10..=32 => Ok((1usize << n).max(PAGE_SIZE)),
        _ => Err(ZX_ERR_INVALID_ARGS),
    }
}

/// The permissions that option bits ask for: `bits` names the option bit standing
/// for READ, WRITE and EXECUTE, in that order (the PERM or the CAN_MAP bits).
fn perms_for(options: u32, bits: [u32; 3]) -> VmPerms {
    let perms = [VmPerms::READ, VmPerms::WRITE, VmPerms::EXECUTE];
    bits.iter()
        .zip(perms)
        .filter(|(&bit, _)| options & bit != 0)
        .fold(VmPerms::empty(), |acc, (_, perm)| acc | perm)
}

/// The PERM bits of an option word.
fn option_perms(options: u32) -> VmPerms {
    perms_for(
        options,
        [ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_PERM_EXECUTE],
    )
}

/// The permissions a handle's rights allow: R, W, X for READ, WRITE, EXECUTE.
fn rights_to_perms(rights: zx_rights_t) -> VmPerms {
    perms_for(rights, [ZX_RIGHT_READ, ZX_RIGHT_WRITE, ZX_RIGHT_EXECUTE])
}

/// The rights a new handle to `region` gets: `ZX_DEFAULT_VMAR_RIGHTS` plus READ /
/// WRITE / EXECUTE for each permission the region allows.
pub(crate) fn vmar_default_rights(region: &VmAddressRegion) -> zx_rights_t {
    let perms = region.perms();
    [
        (VmPerms::READ, ZX_RIGHT_READ),
        (VmPerms::WRITE, ZX_RIGHT_WRITE),
        (VmPerms::EXECUTE, ZX_RIGHT_EXECUTE),
    ]
    .iter()
    .filter(|(perm, _)| perms.contains(*perm))
    .fold(ZX_DEFAULT_VMAR_RIGHTS, |acc, (_, right)| acc | right)
}

/// The placement that an option word's `SPECIFIC`, `SPECIFIC_OVERWRITE` and
/// `OFFSET_IS_UPPER_LIMIT` bits and `offset` ask for, or `None` for a contradiction
/// (a specific placement with an upper limit, or an offset with neither).
fn placement(options: u32, offset: usize) -> Option<Placement> {
    let specific = options & ZX_VM_SPECIFIC != 0;
    let overwrite = options & ZX_VM_SPECIFIC_OVERWRITE != 0;
    let upper_limit = options & ZX_VM_OFFSET_IS_UPPER_LIMIT != 0;
    match (specific || overwrite, upper_limit) {
        (true, true) => None,
        (true, false) if overwrite => Some(Placement::Replace(offset)),
        (true, false) => Some(Placement::At(offset)),
        (false, true) => Some(Placement::Below(offset)),
        (false, false) if offset != 0 => None,
        (false, false) => Some(Placement::Anywhere),
    }
}

/// The status of a request whose placement bits contradict each other. Zircon
/// looks at placement only after the region's state, a zero size and the region's
/// permissions, so those come first.
fn contradictory_placement(region: &VmAddressRegion, size: usize, perms: VmPerms) -> ZxError {
    if !region.is_alive() {
        ZX_ERR_BAD_STATE
    } else if size != 0 && !region.perms().contains(perms) {
        ZX_ERR_ACCESS_DENIED
    } else {
        ZX_ERR_INVALID_ARGS
    }
}

/// The operation an `op` number names and the handle right it needs.
///
/// # Errors
///
/// `ZX_ERR_INVALID_ARGS`: `op` is not a `ZX_VMAR_OP_*` code.
fn vmar_op(op: u32) -> ZxResult<(VmarOp, zx_rights_t)> {
    match op {
        ZX_VMAR_OP_COMMIT => Ok((VmarOp::Commit, ZX_RIGHT_WRITE)),
        ZX_VMAR_OP_DECOMMIT => Ok((VmarOp::Decommit, ZX_RIGHT_WRITE)),
        ZX_VMAR_OP_MAP_RANGE => Ok((VmarOp::MapRange, ZX_RIGHT_READ)),
        ZX_VMAR_OP_DONT_NEED => Ok((VmarOp::DontNeed, ZX_RIGHT_NONE)),
        ZX_VMAR_OP_ALWAYS_NEED => Ok((VmarOp::AlwaysNeed, ZX_RIGHT_NONE)),
        ZX_VMAR_OP_ZERO => Ok((VmarOp::Zero, ZX_RIGHT_WRITE)),
        ZX_VMAR_OP_PREFETCH => Ok((VmarOp::Prefetch, ZX_RIGHT_READ)),
        _ => Err(ZX_ERR_INVALID_ARGS),
    }
}

/// Decodes `zx_vmar_allocate`'s arguments, in Zircon's order of checks up to the
/// ones the region makes itself.
///
/// # Errors
///
/// `ZX_ERR_INVALID_ARGS` for bad bits, alignment or size; a contradictory
/// placement as [`contradictory_placement`] says.
fn allocate_request(
    parent: &VmAddressRegion,
    options: u32,
    offset: usize,
    size: usize,
) -> ZxResult<AllocateRequest> {
    let align = parse_align(options)?;
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
    let perms = perms_for(
        options,
        [
            ZX_VM_CAN_MAP_READ,
            ZX_VM_CAN_MAP_WRITE,
            ZX_VM_CAN_MAP_EXECUTE,
        ],
    );
    let placement =
        placement(options, offset).ok_or_else(|| contradictory_placement(parent, size, perms))?;
    Ok(AllocateRequest {
        perms,
        can_map_specific: options & ZX_VM_CAN_MAP_SPECIFIC != 0,
        compact: options & ZX_VM_COMPACT != 0,
        placement,
        align,
        size,
    })
}

/// Decodes `zx_vmar_map`'s arguments and the two handles' rights, in Zircon's order
/// of checks up to the ones the region makes itself.
///
/// # Errors
///
/// As [`Process::zx_vmar_map`], for the checks made before the region's.
#[allow(clippy::too_many_arguments)]
fn map_request(
    region: &VmAddressRegion,
    vmo: &VmObject,
    vmo_rights: zx_rights_t,
    vmar_rights: zx_rights_t,
    options: u32,
    vmar_offset: usize,
    vmo_offset: u64,
    len: usize,
) -> ZxResult<MapRequest> {
    if vmo_rights & ZX_RIGHT_MAP == 0 {
        return Err(ZX_ERR_ACCESS_DENIED);
    }
    let mut options = options;
    if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED != 0 {
        options |= ZX_VM_PERM_READ;
    }
    let requested = option_perms(options);
    if !requested.is_empty() && !requested.contains(VmPerms::READ) {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    if options & ZX_VM_MAP_RANGE != 0 && options & ZX_VM_SPECIFIC_OVERWRITE != 0 {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    if options & CAN_MAP_BITS != 0 {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    let allowed = rights_to_perms(vmo_rights) & rights_to_perms(vmar_rights);
    if !allowed.contains(requested) {
        return Err(ZX_ERR_ACCESS_DENIED);
    }
    let align = parse_align(options)?;
    if options & ZX_VM_REQUIRE_NON_RESIZABLE != 0 && vmo.is_resizable() {
        return Err(ZX_ERR_NOT_SUPPORTED);
    }
    if options & ZX_VM_ALLOW_FAULTS == 0 && vmo.is_discardable() {
        return Err(ZX_ERR_NOT_SUPPORTED);
    }
    if options & (ZX_VM_COMPACT | ZX_VM_CAN_MAP_SPECIFIC) != 0 {
        return Err(ZX_ERR_INVALID_ARGS);
    }
    let Some(placement) = placement(options, vmar_offset) else {
        // The region's own checks that come before placement, then the verdict.
        if vmo_offset % PAGE_SIZE as u64 != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let size = page_round_up(len).ok_or(ZX_ERR_OUT_OF_RANGE)?;
        vmo_offset
            .checked_add(size as u64)
            .ok_or(ZX_ERR_OUT_OF_RANGE)?;
        return Err(contradictory_placement(region, size, requested));
    };
    Ok(MapRequest {
        perms: requested,
        max_perms: allowed,
        placement,
        align,
        vmo_offset,
        len,
        populate: options & ZX_VM_MAP_RANGE != 0,
    })
}

/// The handle rights READ, WRITE, EXECUTE that option bits ask for: `bits` names
/// the option bit standing for each of the three, in that order.
fn rights_for(options: u32, bits: [u32; 3]) -> zx_rights_t {
    let rights = [ZX_RIGHT_READ, ZX_RIGHT_WRITE, ZX_RIGHT_EXECUTE];
    bits.iter()
        .zip(rights)
        .filter(|(&bit, _)| options & bit != 0)
        .fold(0, |acc, (_, right)| acc | right)
}

impl Process {
    /// Creates a sub-region of `size` bytes in `parent_vmar` and writes the new
    /// region's handle to `child_vmar` and its base address to `child_addr`.
    ///
    /// `options`: the new region's `ZX_VM_CAN_MAP_*` and `ZX_VM_COMPACT` flags,
    /// `ZX_VM_SPECIFIC` (place at `offset` from the parent's base; needs the parent's
    /// `CAN_MAP_SPECIFIC`), `ZX_VM_OFFSET_IS_UPPER_LIMIT`, a `ZX_VM_ALIGN_*`. The new
    /// handle has `ZX_DEFAULT_VMAR_RIGHTS` plus READ/WRITE/EXECUTE per `CAN_MAP_*`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`: `parent_vmar` is not a VMAR handle.
    /// - `ZX_ERR_ACCESS_DENIED`: the handle lacks READ/WRITE/EXECUTE for a requested
    ///   `CAN_MAP_*`, the parent lacks a requested `CAN_MAP_*`, or a specific
    ///   placement in a parent without `CAN_MAP_SPECIFIC`.
    /// - `ZX_ERR_INVALID_ARGS`: unknown option bit or alignment, a PERM bit or a flag
    ///   `allocate` does not take, `size` zero or unaligned, bad `offset`, a range
    ///   outside the parent, or a bad out-pointer (nothing is created then).
    /// - `ZX_ERR_BAD_STATE`: the parent is destroyed.
    /// - `ZX_ERR_ALREADY_EXISTS`: the specific range overlaps a child.
    /// - `ZX_ERR_NO_RESOURCES`: no free range fits.
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_vmar_allocate(
        &self,
        parent_vmar: zx_handle_t,
        options: zx_vm_option_t,
        offset: usize,
        size: usize,
        child_vmar: usize,
        child_addr: usize,
    ) -> zx_status_t {
        status(self.vmar_allocate(parent_vmar, options, offset, size, child_vmar, child_addr))
    }

    fn vmar_allocate(
        &self,
        parent_vmar: zx_handle_t,
        options: u32,
        offset: usize,
        size: usize,
        child_vmar: usize,
        child_addr: usize,
    ) -> ZxResult {
        let rights = rights_for(
            options,
            [
                ZX_VM_CAN_MAP_READ,
                ZX_VM_CAN_MAP_WRITE,
                ZX_VM_CAN_MAP_EXECUTE,
            ],
        );
        let (parent, _) = self
            .inner
            .get_object::<VmAddressRegion>(parent_vmar, rights)?;
        let request = allocate_request(&parent, options, offset, size)?;
        let child = parent.allocate(&request)?;
        let addr = child.addr();
        let rights = vmar_default_rights(&child);
        let undo = |err| {
            // Only a racing destroy of the new region (BAD_STATE) can beat this
            // one, and the outcome is the same.
            if let Err(destroyed) = child.destroy() {
                debug_assert_eq!(destroyed, ZX_ERR_BAD_STATE);
            }
            Err(err)
        };
        let value = match self.install_handle(Handle::new(child.clone(), rights), child_vmar) {
            Ok(value) => value,
            Err(err) => return undo(err),
        };
        if let Err(err) = self.out_usize(child_addr, addr) {
            // The handle goes with the region; if another thread closed it first,
            // there is nothing left to remove.
            if let Ok(handle) = self.inner.remove_handle(value) {
                drop(handle);
            }
            return undo(err);
        }
        Ok(())
    }

    /// Maps `len` bytes (rounded up to pages) of `vmo` from `vmo_offset` into `vmar`
    /// and writes the mapping's base address to `mapped_addr`.
    ///
    /// The mapping's maximum protection is what both handles' READ/WRITE/EXECUTE
    /// rights allow; its protection is the `ZX_VM_PERM_*` bits asked for. Other
    /// options: `ZX_VM_SPECIFIC`, `ZX_VM_SPECIFIC_OVERWRITE`, `ZX_VM_OFFSET_IS_UPPER_LIMIT`,
    /// `ZX_VM_MAP_RANGE`, `ZX_VM_REQUIRE_NON_RESIZABLE`, `ZX_VM_ALLOW_FAULTS`,
    /// `ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED`, a `ZX_VM_ALIGN_*`. The range may run past
    /// the VMO's end; access there faults until the VMO grows.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`: `vmar` then `vmo` looked up.
    /// - `ZX_ERR_ACCESS_DENIED`: the VMO handle lacks MAP, a requested permission is
    ///   not allowed by both handles, or a specific placement without
    ///   `CAN_MAP_SPECIFIC`.
    /// - `ZX_ERR_INVALID_ARGS`: W or X without R, bad option bits or combinations,
    ///   unaligned offsets, `len == 0`, a range outside the region,
    ///   `SPECIFIC_OVERWRITE` over a sub-region, a bad `mapped_addr` (the mapping is
    ///   removed again).
    /// - `ZX_ERR_NOT_SUPPORTED`: `REQUIRE_NON_RESIZABLE` on a resizable VMO, a
    ///   discardable VMO without `ALLOW_FAULTS`.
    /// - `ZX_ERR_OUT_OF_RANGE`: rounding `len`, or `vmo_offset + len`, overflows.
    /// - `ZX_ERR_BAD_STATE`: the region is destroyed.
    /// - `ZX_ERR_ALREADY_EXISTS`: a `SPECIFIC` range overlaps a child.
    /// - `ZX_ERR_NO_RESOURCES`: no free range fits.
    #[allow(clippy::too_many_arguments)]
    pub fn zx_vmar_map(
        &self,
        vmar: zx_handle_t,
        options: zx_vm_option_t,
        vmar_offset: usize,
        vmo: zx_handle_t,
        vmo_offset: u64,
        len: usize,
        mapped_addr: usize,
    ) -> zx_status_t {
        status(self.vmar_map(
            vmar,
            options,
            vmar_offset,
            vmo,
            vmo_offset,
            len,
            mapped_addr,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn vmar_map(
        &self,
        vmar: zx_handle_t,
        options: u32,
        vmar_offset: usize,
        vmo: zx_handle_t,
        vmo_offset: u64,
        len: usize,
        mapped_addr: usize,
    ) -> ZxResult {
        let (region, vmar_rights) = self.inner.get_object::<VmAddressRegion>(vmar, 0)?;
        let (vmo, vmo_rights) = self.inner.get_object::<VmObject>(vmo, 0)?;
        let request = map_request(
            &region,
            &vmo,
            vmo_rights,
            vmar_rights,
            options,
            vmar_offset,
            vmo_offset,
            len,
        )?;
        // An overwrite cannot be undone once it has replaced mappings, so a copy-out
        // that would fail is found first, and the request answered as if it had been
        // tried last (every other check still comes before it).
        if options & ZX_VM_SPECIFIC_OVERWRITE != 0
            && !self.overwrite_out_ok(
                &region,
                &vmo,
                options,
                vmar_offset,
                vmo_offset,
                len,
                mapped_addr,
            )
        {
            region.check_map(&vmo, &request)?;
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let addr = region.map(&vmo, &request)?;
        if let Err(err) = self.out_usize(mapped_addr, addr) {
            // The mapping was just made in this region, so unmapping its exact range
            // removes it and nothing else.
            // It fails only if another thread destroyed the region first, which
            // took the mapping with it.
            let size = kernel_hal::page_round_up(len).unwrap_or(len);
            if let Err(unmapped) = region.unmap(addr, size, false) {
                debug_assert_eq!(unmapped, ZX_ERR_BAD_STATE);
            }
            return Err(err);
        }
        Ok(())
    }

    /// Whether writing the base address to `out` will succeed after an overwrite of
    /// `[region + vmar_offset, + round_up(len))`: the bytes outside that range must
    /// be writable now, and the bytes inside it land in the new mapping, which must
    /// be writable and backed by the VMO there.
    #[allow(clippy::too_many_arguments)]
    fn overwrite_out_ok(
        &self,
        region: &VmAddressRegion,
        vmo: &VmObject,
        options: u32,
        vmar_offset: usize,
        vmo_offset: u64,
        len: usize,
        out: usize,
    ) -> bool {
        let word = core::mem::size_of::<usize>();
        let (Some(size), Some(base), Some(out_end)) = (
            kernel_hal::page_round_up(len),
            region.addr().checked_add(vmar_offset),
            out.checked_add(word),
        ) else {
            return false;
        };
        let Some(end) = base.checked_add(size) else {
            return false;
        };
        let writable_now = |from: usize, to: usize| {
            from >= to
                || self
                    .inner
                    .aspace()
                    .check_user(from, to - from, kernel_hal::MMUFlags::WRITE)
                    .is_ok()
        };
        let (inside_lo, inside_hi) = (out.max(base), out_end.min(end));
        let inside_ok = inside_lo >= inside_hi
            || (options & ZX_VM_PERM_WRITE != 0
                && vmo_offset
                    .checked_add((inside_hi - base) as u64)
                    .is_some_and(|e| e <= vmo.size() as u64));
        inside_ok && writable_now(out, out_end.min(base)) && writable_now(out.max(end), out_end)
    }

    /// Removes every mapping, and with `ZX_RIGHT_OP_CHILDREN` every fully covered
    /// sub-region, in `[addr, addr + round_up(len))`; partly covered mappings are
    /// trimmed or split. Atomic: a failure changes nothing.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`: `vmar` is not a VMAR handle.
    /// - `ZX_ERR_INVALID_ARGS`: `addr` unaligned, `len` zero or overflowing, the
    ///   range not inside the region, a sub-region only partly covered or any
    ///   sub-region without OP_CHILDREN.
    /// - `ZX_ERR_BAD_STATE`: the region is destroyed.
    pub fn zx_vmar_unmap(&self, vmar: zx_handle_t, addr: usize, len: usize) -> zx_status_t {
        status(
            self.inner
                .get_object::<VmAddressRegion>(vmar, 0)
                .and_then(|(region, rights)| {
                    region.unmap(addr, len, rights & ZX_RIGHT_OP_CHILDREN != 0)
                }),
        )
    }

    /// Sets the protection of every page in `[addr, addr + round_up(len))` to the
    /// `ZX_VM_PERM_*` bits of `options`. All or nothing.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`: `vmar` is not a VMAR handle.
    /// - `ZX_ERR_ACCESS_DENIED`: the handle lacks READ/WRITE/EXECUTE for a requested
    ///   permission, it exceeds a mapping's maximum, or it would raise a sub-region
    ///   mapping's protection.
    /// - `ZX_ERR_INVALID_ARGS`: W or X without R, `addr` unaligned, a non-PERM bit,
    ///   `len` zero or overflowing, the range outside the region, a sub-region's
    ///   mapping without OP_CHILDREN.
    /// - `ZX_ERR_BAD_STATE`: the region is destroyed.
    /// - `ZX_ERR_NOT_FOUND`: part of the range is not mapped.
    pub fn zx_vmar_protect(
        &self,
        vmar: zx_handle_t,
        options: zx_vm_option_t,
        addr: usize,
        len: usize,
    ) -> zx_status_t {
        let mut options = options;
        if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED != 0 {
            options = (options & !ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) | ZX_VM_PERM_READ;
        }
        let rights = rights_for(
            options,
            [ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_PERM_EXECUTE],
        );
        status(
            self.inner
                .get_object::<VmAddressRegion>(vmar, rights)
                .and_then(|(region, rights)| {
                    let perms = option_perms(options);
                    if !perms.is_empty() && !perms.contains(VmPerms::READ) {
                        return Err(ZX_ERR_INVALID_ARGS);
                    }
                    if !is_page_aligned(addr) {
                        return Err(ZX_ERR_INVALID_ARGS);
                    }
                    parse_align(options)?;
                    if options & !PERM_BITS != 0 {
                        return Err(ZX_ERR_INVALID_ARGS);
                    }
                    region.protect(perms, addr, len, rights & ZX_RIGHT_OP_CHILDREN != 0)
                }),
        )
    }

    /// Unmaps everything in the region and below, destroys it and its sub-regions,
    /// and frees its range in the parent. Its handles stay valid; region calls on
    /// them then give `ZX_ERR_BAD_STATE`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`: `vmar` is not a VMAR handle.
    /// - `ZX_ERR_ACCESS_DENIED`: the handle lacks `ZX_RIGHT_OP_CHILDREN`.
    /// - `ZX_ERR_NOT_SUPPORTED`: the root region.
    /// - `ZX_ERR_BAD_STATE`: already destroyed.
    pub fn zx_vmar_destroy(&self, vmar: zx_handle_t) -> zx_status_t {
        status(
            self.inner
                .get_object::<VmAddressRegion>(vmar, ZX_RIGHT_OP_CHILDREN)
                .and_then(|(region, _)| region.destroy()),
        )
    }

    /// Applies `op` (`ZX_VMAR_OP_COMMIT`, `DECOMMIT`, `MAP_RANGE`, `ZERO`,
    /// `DONT_NEED`, `ALWAYS_NEED`, `PREFETCH`) to the VMO pages behind every mapping in
    /// `[address, address + round_up(size))`. No op takes a buffer.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`: `vmar` is not a VMAR handle.
    /// - `ZX_ERR_INVALID_ARGS`: unknown op, a buffer given, `size` zero or
    ///   overflowing, `address` unaligned, a sub-region's mapping for
    ///   COMMIT/DECOMMIT/PREFETCH or without OP_CHILDREN.
    /// - `ZX_ERR_ACCESS_DENIED`: the handle lacks WRITE (COMMIT, DECOMMIT, ZERO) or
    ///   READ (MAP_RANGE, PREFETCH), or a mapping's maximum protection lacks WRITE
    ///   (COMMIT, DECOMMIT, ZERO) or READ (PREFETCH).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range is not inside the region, or runs past a
    ///   VMO's end.
    /// - `ZX_ERR_BAD_STATE`: the region is destroyed, or part of the range is unmapped.
    /// - `ZX_ERR_NOT_SUPPORTED`: DECOMMIT of a mapping of a snapshot, of a VMO with
    ///   live snapshots, or of a slice whose root is either.
    /// - `ZX_ERR_NO_MEMORY`: out of frames (earlier pieces stay committed).
    pub fn zx_vmar_op_range(
        &self,
        vmar: zx_handle_t,
        op: u32,
        address: usize,
        size: usize,
        buffer: usize,
        buffer_size: usize,
    ) -> zx_status_t {
        status((|| {
            let (region, rights) = self.inner.get_object::<VmAddressRegion>(vmar, 0)?;
            let (op, needed) = vmar_op(op)?;
            if rights & needed != needed {
                return Err(ZX_ERR_ACCESS_DENIED);
            }
            if buffer != 0 || buffer_size != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            region.op_range(op, address, size, rights & ZX_RIGHT_OP_CHILDREN != 0)
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_vmar_ops_are_invalid_args_and_each_known_op_needs_its_right() {
        for op in [0, 4, 11, 15, 99, u32::MAX] {
            assert_eq!(vmar_op(op).err(), Some(ZX_ERR_INVALID_ARGS), "op {op}");
        }
        assert_eq!(
            vmar_op(ZX_VMAR_OP_ZERO).ok(),
            Some((VmarOp::Zero, ZX_RIGHT_WRITE))
        );
        assert_eq!(
            vmar_op(ZX_VMAR_OP_MAP_RANGE).ok(),
            Some((VmarOp::MapRange, ZX_RIGHT_READ))
        );
    }
}
