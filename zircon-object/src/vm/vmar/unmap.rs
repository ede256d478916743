//! Removing mappings and sub-regions: `unmap` and `destroy`.

use super::{range_len, AspaceState, Child, RegionId, VmAddressRegion};
use crate::abi::*;
use crate::error::ZxResult;
use crate::vm::mapping::{MappingInner, VmMapping};
use crate::vm::shootdown::Sweep;
use alloc::sync::Arc;
use kernel_hal::{is_page_aligned, VirtAddr};

impl VmAddressRegion {
    /// Removes every mapping, and (with `op_children`) every fully covered
    /// sub-region, in `[addr, addr + round_up(len))`. Mappings partly inside are
    /// trimmed, or split in two when the range lies strictly inside one. Gaps are
    /// fine. Nothing changes unless every check passes.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `addr` unaligned, `len` zero or overflowing when
    ///   rounded, the range not inside this region, a sub-region only partly covered,
    ///   or any sub-region in the range without `op_children`.
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed.
    pub fn unmap(&self, addr: VirtAddr, len: usize, op_children: bool) -> ZxResult {
        if !is_page_aligned(addr) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let len = range_len(len)?;
        let mut sweep = Sweep::new(self.aspace.owed());
        let result = self.unmap_locked(&mut sweep, addr, len, op_children);
        sweep.finish();
        result
    }

    /// `unmap` under the tree lock, owing its shootdown to `sweep`.
    fn unmap_locked(
        &self,
        sweep: &mut Sweep,
        addr: VirtAddr,
        len: usize,
        op_children: bool,
    ) -> ZxResult {
        let mut state = self.aspace.state.lock();
        let region = state.live_region_covering(self.id, addr, len)?;
        if region.children.is_empty() {
            return Ok(());
        }
        let end = addr + len;
        let covered = region.intersecting(addr, end);
        for (base, child) in &covered {
            if let Child::Region { size, .. } = child {
                if !op_children || *base < addr || base + size > end {
                    return Err(ZX_ERR_INVALID_ARGS);
                }
            }
        }
        for (base, child) in covered {
            match child {
                Child::Mapping { size, mapping } => self.cut_mapping_locked(
                    &mut state, sweep, self.id, base, size, &mapping, addr, end,
                ),
                Child::Region { id, .. } => {
                    self.destroy_region_locked(&mut state, sweep, id);
                    if let Some(region) = state.regions.get_mut(&self.id) {
                        region.remove_child(base);
                    }
                }
            }
        }
        Ok(())
    }

    /// Unmaps the mappings (only mappings: the caller checked there is no
    /// sub-region) of this region in `[addr, addr + len)`.
    pub(crate) fn unmap_mappings_locked(
        &self,
        state: &mut AspaceState,
        sweep: &mut Sweep,
        addr: VirtAddr,
        len: usize,
    ) {
        let Some(region) = state.regions.get(&self.id) else {
            return;
        };
        for (base, child) in region.intersecting(addr, addr + len) {
            if let Child::Mapping { size, mapping } = child {
                let end = addr + len;
                self.cut_mapping_locked(state, sweep, self.id, base, size, &mapping, addr, end);
            }
        }
    }

    /// Removes `[start, end)` from the mapping at `base` (of `size` bytes) in region
    /// `id`: removes it whole, trims it, or splits it in two.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn cut_mapping_locked(
        &self,
        state: &mut AspaceState,
        sweep: &mut Sweep,
        id: RegionId,
        base: VirtAddr,
        size: usize,
        mapping: &Arc<VmMapping>,
        start: VirtAddr,
        end: VirtAddr,
    ) {
        let mapping_end = base + size;
        let lo = start.max(base);
        let hi = end.min(mapping_end);
        if lo >= hi {
            return;
        }
        if lo == base && hi == mapping_end {
            self.remove_mapping_locked(state, sweep, id, base);
            return;
        }
        let new_id = state.new_id();
        let Some(region) = state.regions.get_mut(&id) else {
            return;
        };
        region.remove_child(base);
        self.aspace.owed().clear(lo, hi - lo);
        if lo == base {
            mapping.inner.lock().cut_front(hi);
            region.insert_child(
                hi,
                Child::Mapping {
                    size: mapping_end - hi,
                    mapping: mapping.clone(),
                },
            );
        } else if hi == mapping_end {
            mapping.inner.lock().cut_back(lo);
            region.insert_child(
                base,
                Child::Mapping {
                    size: lo - base,
                    mapping: mapping.clone(),
                },
            );
        } else {
            let upper = {
                let mut inner = mapping.inner.lock();
                let first = inner.perms_at(hi);
                let mut perms = inner.perms.split_off(&hi);
                perms.entry(hi).or_insert(first);
                let upper = MappingInner {
                    base: hi,
                    size: mapping_end - hi,
                    vmo_offset: inner.vmo_offset + (hi - base),
                    max: inner.max,
                    perms,
                    dead: false,
                };
                inner.cut_back(lo);
                upper
            };
            region.insert_child(
                base,
                Child::Mapping {
                    size: lo - base,
                    mapping: mapping.clone(),
                },
            );
            let upper = VmMapping::new(new_id, mapping.vmo().clone(), &self.aspace, upper);
            region.insert_child(
                hi,
                Child::Mapping {
                    size: mapping_end - hi,
                    mapping: upper,
                },
            );
        }
    }

    /// Destroys region `id` and everything below it. The caller removes it from its
    /// parent's children. The regions still to remove wait in a list on the heap,
    /// however deep the nesting.
    pub(crate) fn destroy_region_locked(
        &self,
        state: &mut AspaceState,
        sweep: &mut Sweep,
        id: RegionId,
    ) {
        let mut pending = alloc::vec![id];
        while let Some(id) = pending.pop() {
            let Some(region) = state.regions.remove(&id) else {
                continue;
            };
            for (_, child) in region.children {
                match child {
                    Child::Mapping { mapping, .. } => mapping.destroy(sweep),
                    Child::Region { id, .. } => pending.push(id),
                }
            }
        }
    }

    /// Unmaps everything in this region and below, destroys every sub-region and the
    /// region itself, and frees its range in the parent. Handles to it and to its
    /// descendants stay valid but every region operation on them then gives
    /// `ZX_ERR_BAD_STATE`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: this is the root region.
    /// - `ZX_ERR_BAD_STATE`: already destroyed.
    pub fn destroy(&self) -> ZxResult {
        if self.is_root() {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let mut sweep = Sweep::new(self.aspace.owed());
        let result = {
            let mut state = self.aspace.state.lock();
            let parent = state.regions.get(&self.id).map(|r| r.parent);
            parent.map(|parent| {
                self.destroy_region_locked(&mut state, &mut sweep, self.id);
                if let Some(parent) = parent.and_then(|p| state.regions.get_mut(&p)) {
                    parent.remove_child(self.addr);
                }
            })
        };
        sweep.finish();
        result.ok_or(ZX_ERR_BAD_STATE)
    }
}
