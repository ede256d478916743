//! The one walk over the region tree: depth first, in address order, with an
//! explicit stack on the heap.
//!
//! A user can nest regions as deep as the address space allows, so no walk over
//! the tree may use the call stack for its depth: `protect`'s check and apply,
//! `op_range`'s pieces and the maps report all go through [`AspaceState::walk`],
//! whose stack of frames lives on the heap, and `destroy` keeps its own list of
//! regions still to remove.

use super::{AspaceState, Child, Region, RegionId};
use crate::vm::mapping::VmMapping;
use alloc::collections::btree_map;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::ControlFlow;
use kernel_hal::VirtAddr;

/// What a walk meets, in address order. `depth` counts the sub-regions between the
/// region the walk started in and the thing met: the starting region's own children
/// are at depth 0.
pub(crate) enum Visit<'a> {
    /// A sub-region, met before its contents.
    Region { region: &'a Region, depth: usize },
    /// The part `[lo, hi)` of a mapping that lies inside the walked range.
    Mapping {
        mapping: &'a Arc<VmMapping>,
        lo: VirtAddr,
        hi: VirtAddr,
        depth: usize,
    },
    /// A part of the walked range that no child of the region it lies in covers.
    Gap,
}

/// One region being walked: its children from the first one that reaches into the
/// range, and how far the range is covered so far.
struct Frame<'a> {
    children: btree_map::Range<'a, VirtAddr, Child>,
    cursor: VirtAddr,
    end: VirtAddr,
    depth: usize,
}

impl<'a> Frame<'a> {
    fn new(region: &'a Region, start: VirtAddr, end: VirtAddr, depth: usize) -> Frame<'a> {
        let first = region.child_at(start).map_or(start, |(base, _)| base);
        Frame {
            children: region.children.range(first..end),
            cursor: start,
            end,
            depth,
        }
    }
}

impl AspaceState {
    /// Walks `[start, end)` of region `id` depth first in address order, calling
    /// `visit` for every sub-region, mapping piece and uncovered gap met, and stops
    /// at the first `Break`, which it returns. A missing region (the start, or a
    /// child id with no region, which the tree never holds) counts as a gap.
    ///
    /// Memory: one frame per level of nesting, on the heap; no recursion.
    pub(crate) fn walk<'a, B>(
        &'a self,
        id: RegionId,
        start: VirtAddr,
        end: VirtAddr,
        mut visit: impl FnMut(Visit<'a>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let Some(region) = self.regions.get(&id) else {
            return visit(Visit::Gap);
        };
        let mut stack: Vec<Frame<'a>> = Vec::new();
        stack.push(Frame::new(region, start, end, 0));
        while let Some(top) = stack.last_mut() {
            let Some((&base, child)) = top.children.next() else {
                if top.cursor < top.end {
                    visit(Visit::Gap)?;
                }
                stack.pop();
                continue;
            };
            if base > top.cursor {
                visit(Visit::Gap)?;
            }
            let lo = base.max(top.cursor);
            let hi = top.end.min(base + child.size());
            let depth = top.depth;
            top.cursor = hi;
            match child {
                Child::Mapping { mapping, .. } => visit(Visit::Mapping {
                    mapping,
                    lo,
                    hi,
                    depth,
                })?,
                Child::Region { id, .. } => match self.regions.get(id) {
                    Some(region) => {
                        visit(Visit::Region { region, depth })?;
                        stack.push(Frame::new(region, lo, hi, depth + 1));
                    }
                    None => visit(Visit::Gap)?,
                },
            }
        }
        ControlFlow::Continue(())
    }
}
