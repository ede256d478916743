//! Changing the protection of a range: `protect`.

use super::map::{option_perms, parse_options};
use super::walk::Visit;
use super::{range_len, AspaceState, RegionId, VmAddressRegion};
use crate::abi::*;
use crate::error::ZxResult;
use crate::vm::mapping::{clear_translations, mmu_flags, protect_translations};
use core::ops::ControlFlow;
use kernel_hal::{is_page_aligned, MMUFlags, VirtAddr};

impl VmAddressRegion {
    /// Sets the current protection of every page in `[addr, addr + round_up(len))` to
    /// the PERM bits of `options`, splitting protection runs where needed. Every page
    /// of the range must be covered by a mapping (at any depth). A mapping directly
    /// in this region may be set to anything within its maximum protection; one in a
    /// sub-region only with `op_children`, and only reduced. The caller has checked
    /// that its handle holds the rights for the requested permissions. All or
    /// nothing.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: W or X without R, `addr` unaligned, a non-PERM option
    ///   bit or an alignment, `len` zero or overflowing when rounded, the range not
    ///   inside this region, or a mapping in a sub-region without `op_children`.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    /// - `ZX_ERR_NOT_FOUND`: some page of the range has no mapping.
    /// - `ZX_ERR_ACCESS_DENIED`: the protection exceeds a mapping's maximum, or
    ///   would raise a sub-region mapping's current protection.
    pub fn protect(&self, options: u32, addr: VirtAddr, len: usize, op_children: bool) -> ZxResult {
        let mut options = options;
        if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED != 0 {
            options = (options & !ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) | ZX_VM_PERM_READ;
        }
        let perms = option_perms(options);
        if !perms.is_empty() && !perms.contains(MMUFlags::READ) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !is_page_aligned(addr) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        parse_options(options)?;
        if options & !(ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE) != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let len = range_len(len)?;
        let state = self.aspace.state.lock();
        state.live_region_covering(self.id, addr, len)?;
        check(&state, self.id, addr, addr + len, perms, op_children)?;
        self.apply(&state, self.id, addr, addr + len, perms);
        Ok(())
    }

    /// Sets the protection of every mapping piece in `[start, end)` of region `id`,
    /// at any depth; `check` has passed.
    fn apply(
        &self,
        state: &AspaceState,
        id: RegionId,
        start: VirtAddr,
        end: VirtAddr,
        perms: MMUFlags,
    ) {
        let pt = self.aspace.page_table();
        let _: ControlFlow<()> = state.walk(id, start, end, |visit| {
            if let Visit::Mapping {
                mapping, lo, hi, ..
            } = visit
            {
                if perms.contains(MMUFlags::WRITE) {
                    mapping.clear_read_only_pages(lo, hi);
                }
                mapping.inner.lock().set_perms(lo, hi, perms);
                if perms.is_empty() {
                    clear_translations(pt, lo, hi - lo);
                } else {
                    protect_translations(pt, lo, hi - lo, mmu_flags(perms));
                }
            }
            ControlFlow::Continue(())
        });
    }
}

/// The validation walk of `protect` over `[start, end)` of region `id`: the first
/// problem met in address order.
fn check(
    state: &AspaceState,
    id: RegionId,
    start: VirtAddr,
    end: VirtAddr,
    perms: MMUFlags,
    op_children: bool,
) -> ZxResult {
    let outcome = state.walk(id, start, end, |visit| match visit {
        Visit::Gap => ControlFlow::Break(ZX_ERR_NOT_FOUND),
        Visit::Region { .. } => ControlFlow::Continue(()),
        Visit::Mapping {
            mapping,
            lo,
            hi,
            depth,
        } => {
            let inner = mapping.inner.lock();
            if !inner.max.contains(perms) {
                return ControlFlow::Break(ZX_ERR_ACCESS_DENIED);
            }
            if depth > 0 {
                if !op_children {
                    return ControlFlow::Break(ZX_ERR_INVALID_ARGS);
                }
                let raises = inner
                    .runs()
                    .into_iter()
                    .any(|(s, e, current)| s < hi && e > lo && !current.contains(perms));
                if raises {
                    return ControlFlow::Break(ZX_ERR_ACCESS_DENIED);
                }
            }
            ControlFlow::Continue(())
        }
    });
    match outcome {
        ControlFlow::Break(err) => Err(err),
        ControlFlow::Continue(()) => Ok(()),
    }
}
