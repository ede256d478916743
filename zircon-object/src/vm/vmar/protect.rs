//! Changing the protection of a range: `protect`.

use super::walk::Visit;
use super::{range_len, AspaceState, RegionId, VmAddressRegion};
use crate::abi::*;
use crate::error::ZxResult;
use crate::vm::mapping::mmu_flags;
use crate::vm::request::VmPerms;
use core::ops::ControlFlow;
use kernel_hal::{is_page_aligned, MMUFlags, VirtAddr};

impl VmAddressRegion {
    /// Sets the current protection of every page in `[addr, addr + round_up(len))` to
    /// `perms`, splitting protection runs where needed. Every page of the range must
    /// be covered by a mapping (at any depth). A mapping directly in this region may
    /// be set to anything within its maximum protection; one in a sub-region only
    /// with `op_children`, and only reduced. All or nothing.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: W or X without R, `addr` unaligned, `len` zero or
    ///   overflowing when rounded, the range not inside this region, or a mapping
    ///   in a sub-region without `op_children`.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    /// - `ZX_ERR_NOT_FOUND`: some page of the range has no mapping.
    /// - `ZX_ERR_ACCESS_DENIED`: the protection exceeds a mapping's maximum, or
    ///   would raise a sub-region mapping's current protection.
    pub fn protect(
        &self,
        perms: VmPerms,
        addr: VirtAddr,
        len: usize,
        op_children: bool,
    ) -> ZxResult {
        if !perms.is_valid() || !is_page_aligned(addr) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let perms = perms.mmu();
        let len = range_len(len)?;
        {
            let state = self.aspace.state.lock();
            state.live_region_covering(self.id, addr, len)?;
            check(&state, self.id, addr, addr + len, perms, op_children)?;
            self.apply(&state, self.id, addr, addr + len, perms);
        }
        // One shootdown for every mapping changed, with the tree lock dropped.
        self.aspace.owed().send();
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
        let owed = self.aspace.owed();
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
                    owed.clear(lo, hi - lo);
                } else {
                    owed.protect(lo, hi - lo, mmu_flags(perms));
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
