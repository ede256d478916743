//! Page faults, the kernel's user-memory copies, and `op_range`.

use super::walk::Visit;
use super::AddressSpace;
use super::{range_len, RegionId, VmAddressRegion, ROOT_ID};
use crate::abi::*;
use crate::error::ZxResult;
use crate::vm::mapping::VmMapping;
use crate::vm::pager::PagerWait;
use crate::vm::reclaim::retry;
use crate::vm::request::VmarOp;
use crate::vm::vmo::EvictionHint;
use crate::vm::VmObject;
use alloc::sync::Arc;
use core::ops::ControlFlow;
use kernel_hal::{is_page_aligned, MMUFlags, VirtAddr, PAGE_SIZE};

impl AddressSpace {
    /// Resolves a page fault at `vaddr` for an access of kind `access` (READ, WRITE
    /// or EXECUTE): finds the mapping, checks its protection, commits the page and
    /// maps it.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_FOUND`: no mapping covers `vaddr`.
    /// - `ZX_ERR_ACCESS_DENIED`: the page's protection lacks `access`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the page lies past the end of the VMO.
    /// - `ZX_ERR_NO_MEMORY`: no frame to commit, or to copy a page shared
    ///   copy-on-write into.
    /// - A pager's failure status, or `ZX_ERR_BAD_STATE` from a detached VMO: a
    ///   pager-backed page is asked for, and the fault blocks (holding no lock)
    ///   until it comes, then resolves again from the start.
    pub fn fault(&self, vaddr: VirtAddr, access: MMUFlags) -> ZxResult {
        loop {
            let wait = {
                let state = self.state.lock();
                let mapping = state.lookup(ROOT_ID, vaddr).ok_or(ZX_ERR_NOT_FOUND)?;
                // Reclaim runs inside the tree lock but outside every VMO lock.
                retry(&**self.hal(), 1, || {
                    mapping.fault(self.page_table(), vaddr, access, self.zero_frame())
                })?
            };
            match wait {
                None => return Ok(()),
                Some(wait) => wait.wait()?,
            }
        }
    }

    /// Finds, for each page of `[vaddr, vaddr + len)`, the mapping and VMO offset,
    /// and checks `access`; calls `each(mapping, vmo_offset, offset_in_range, chunk_len)`
    /// once per mapping the range crosses, only once every page has passed.
    fn walk_user(
        &self,
        vaddr: VirtAddr,
        len: usize,
        access: MMUFlags,
        mut each: impl FnMut(&Arc<VmMapping>, u64, usize, usize) -> ZxResult,
    ) -> ZxResult {
        if len == 0 {
            return Ok(());
        }
        vaddr.checked_add(len).ok_or(ZX_ERR_NOT_FOUND)?;
        if vaddr % PAGE_SIZE + len <= PAGE_SIZE {
            return self.with_copy_page(vaddr, access, |mapping, offset| {
                each(mapping, offset, 0, len)
            });
        }
        let state = self.state.lock();
        // Most copies lie in one mapping: that chunk needs no allocation.
        let mut single = None;
        let mut chunks = alloc::vec::Vec::new();
        let mut done = 0;
        while done < len {
            // One lookup per mapping: the chunk runs to the mapping's end (or the
            // range's), each of its pages checked in address order.
            let addr = vaddr + done;
            let mapping = state
                .mapping_at(ROOT_ID, addr)
                .ok_or(ZX_ERR_NOT_FOUND)?
                .clone();
            let (offset, chunk) = {
                let inner = mapping.inner.lock();
                let offset = inner.vmo_offset + (addr - inner.base);
                let chunk = (vaddr + len).min(inner.end()) - addr;
                let first = addr & !(PAGE_SIZE - 1);
                let end = addr + chunk;
                // The first page lacking `access`: protection changes only where
                // `perms` has a key, so only those need looking at.
                let denied = core::iter::once((first, inner.perms_at(first)))
                    .chain(inner.perms.range(first + 1..end).map(|(&k, &p)| (k, p)))
                    .find(|(_, p)| !p.contains(access))
                    .map_or(end, |(k, _)| k);
                // The first page past the VMO's end. A copy in one mapping leaves
                // that check to the VMO (nothing is copied if it fails), unless
                // the order of the two failures matters.
                let past = if chunk == len && denied == end {
                    end
                } else {
                    let vmo_size = mapping.vmo().size();
                    (inner.base + vmo_size.saturating_sub(inner.vmo_offset)).max(first)
                };
                if denied < end && denied <= past {
                    return Err(ZX_ERR_ACCESS_DENIED);
                }
                if past < end {
                    return Err(ZX_ERR_OUT_OF_RANGE);
                }
                (offset as u64, chunk)
            };
            if single.is_none() && chunk == len {
                single = Some((mapping, offset, done, chunk));
            } else {
                chunks.push((mapping, offset, done, chunk));
            }
            done += chunk;
        }
        // The copies run with the tree lock released: a pager-backed page may
        // block them until another thread, which may need this address space,
        // supplies it.
        drop(state);
        for (mapping, offset, at, chunk) in single.iter().chain(&chunks) {
            each(mapping, *offset, *at, *chunk)?;
        }
        Ok(())
    }

    /// Whether a user copy of `len` bytes at `vaddr` needing `access` would
    /// succeed now, without copying or committing anything.
    ///
    /// # Errors
    ///
    /// As [`read_user`](Self::read_user) / [`write_user`](Self::write_user).
    pub fn check_user(&self, vaddr: VirtAddr, len: usize, access: MMUFlags) -> ZxResult {
        self.walk_user(vaddr, len, access, |_, _, _, _| Ok(()))
    }

    /// The kernel's copy from user memory: reads `buf.len()` bytes at `vaddr` through
    /// the mappings, honouring their protection. Reading never commits a page.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NOT_FOUND` (no mapping), `ZX_ERR_ACCESS_DENIED` (not readable),
    /// `ZX_ERR_OUT_OF_RANGE` (past the VMO's end), for the first bad page; nothing
    /// is copied then.
    pub fn read_user(&self, vaddr: VirtAddr, buf: &mut [u8]) -> ZxResult {
        self.walk_user(
            vaddr,
            buf.len(),
            MMUFlags::READ,
            |mapping, offset, at, chunk| {
                mapping.vmo().read_mapped(offset, &mut buf[at..at + chunk])
            },
        )
    }

    /// The kernel's copy to user memory: writes `buf` at `vaddr` through the
    /// mappings, honouring their protection and committing pages as needed. Every
    /// page is checked before any byte is written.
    ///
    /// # Errors
    ///
    /// As [`read_user`](Self::read_user), with WRITE instead of READ; also
    /// `ZX_ERR_NO_MEMORY` if a page cannot be committed.
    pub fn write_user(&self, vaddr: VirtAddr, buf: &[u8]) -> ZxResult {
        self.walk_user(
            vaddr,
            buf.len(),
            MMUFlags::WRITE,
            |mapping, offset, at, chunk| mapping.vmo().write_mapped(offset, &buf[at..at + chunk]),
        )
    }
}

impl AddressSpace {
    /// `zx_vmo_read`'s copy: `len` bytes of `vmo` at `offset` to user memory at
    /// `vaddr`, frame to frame, honouring the mappings' protection (WRITE) and
    /// committing pages as needed. Every page is checked before any byte moves.
    ///
    /// # Errors
    ///
    /// As [`write_user`](Self::write_user); `ZX_ERR_OUT_OF_RANGE` if the VMO range
    /// runs past its end.
    pub fn copy_to_user(
        &self,
        vaddr: VirtAddr,
        vmo: &VmObject,
        offset: u64,
        len: usize,
    ) -> ZxResult {
        self.walk_user(vaddr, len, MMUFlags::WRITE, |mapping, at_vmo, at, chunk| {
            mapping
                .vmo()
                .copy_from(at_vmo, vmo, offset + at as u64, chunk)
        })
    }

    /// `zx_vmo_write`'s copy: `len` bytes of user memory at `vaddr` into `vmo` at
    /// `offset`, frame to frame, honouring the mappings' protection (READ) and
    /// committing the VMO's pages as needed. Every page is checked before any byte
    /// moves.
    ///
    /// # Errors
    ///
    /// As [`read_user`](Self::read_user); `ZX_ERR_OUT_OF_RANGE` if the VMO range
    /// runs past its end, `ZX_ERR_NO_MEMORY` if a page cannot be committed.
    pub fn copy_from_user(
        &self,
        vaddr: VirtAddr,
        vmo: &VmObject,
        offset: u64,
        len: usize,
    ) -> ZxResult {
        self.walk_user(vaddr, len, MMUFlags::READ, |mapping, at_vmo, at, chunk| {
            vmo.copy_from(offset + at as u64, mapping.vmo(), at_vmo, chunk)
        })
    }

    /// A debugger's read (`zx_process_read_memory`): as [`read_user`](Self::read_user)
    /// but ignoring the mappings' protection.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NOT_FOUND` (no mapping), `ZX_ERR_OUT_OF_RANGE` (past the VMO's end).
    // The user-copy entry points all go through `walk_user`; what repeats is only
    // the call shape, each passes its own access kind and per-chunk work.
    pub fn read_debug(&self, vaddr: VirtAddr, buf: &mut [u8]) -> ZxResult {
        self.walk_user(
            vaddr,
            buf.len(),
            MMUFlags::empty(),
            |mapping, offset, at, chunk| {
                mapping.vmo().read_mapped(offset, &mut buf[at..at + chunk])
            },
        )
    }

    /// A debugger's write (`zx_process_write_memory`): as
    /// [`write_user`](Self::write_user) but ignoring the mappings' protection.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NOT_FOUND` (no mapping), `ZX_ERR_OUT_OF_RANGE` (past the VMO's end),
    /// `ZX_ERR_NO_MEMORY`.
    pub fn write_debug(&self, vaddr: VirtAddr, buf: &[u8]) -> ZxResult {
        self.walk_user(
            vaddr,
            buf.len(),
            MMUFlags::empty(),
            |mapping, offset, at, chunk| mapping.vmo().write_mapped(offset, &buf[at..at + chunk]),
        )
    }
}

impl VmAddressRegion {
    /// Applies `op` to the VMO pages behind every mapping in
    /// `[addr, addr + round_up(len))`. Pieces before a failing one stay done.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `len` zero or overflowing when rounded, `addr`
    ///   unaligned, COMMIT / DECOMMIT / PREFETCH over a sub-region's mapping, or
    ///   another op there without `op_children`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range is not inside this region, or a piece lies
    ///   past its VMO's end (COMMIT, DECOMMIT).
    /// - `ZX_ERR_BAD_STATE`: this region is destroyed, or part of the range is not
    ///   mapped.
    /// - `ZX_ERR_ACCESS_DENIED`: COMMIT / DECOMMIT / ZERO on a mapping whose maximum
    ///   protection lacks WRITE, PREFETCH on one whose maximum lacks READ.
    /// - `ZX_ERR_NOT_SUPPORTED`: DECOMMIT of a mapping of a VMO in a copy-on-write
    ///   family (see [`VmObject::decommit`](crate::vm::VmObject::decommit)).
    /// - `ZX_ERR_NO_MEMORY`: out of frames.
    /// - A pager's failure status, or `ZX_ERR_BAD_STATE` from a detached VMO: a
    ///   COMMIT over a pager-backed VMO asks for its absent pages and waits for
    ///   them with the tree lock released, then goes over the range again.
    pub fn op_range(&self, op: VmarOp, addr: VirtAddr, len: usize, op_children: bool) -> ZxResult {
        let len = range_len(len)?;
        if !is_page_aligned(addr) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if addr < self.addr
            || addr
                .checked_add(len)
                .is_none_or(|end| end > self.addr + self.size)
        {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        // A COMMIT that needs pages from a pager waits for them with the tree
        // lock released, then starts again (the pieces done stay done).
        loop {
            let wait = {
                let state = self.aspace.state.lock();
                if !state.regions.contains_key(&self.id) {
                    return Err(ZX_ERR_BAD_STATE);
                }
                let mut wait = None;
                for piece in collect_pieces(&state, self.id, addr, addr + len) {
                    let Some((mapping, lo, hi, nested)) = piece else {
                        return Err(ZX_ERR_BAD_STATE);
                    };
                    let never_nested =
                        matches!(op, VmarOp::Commit | VmarOp::Decommit | VmarOp::Prefetch);
                    if nested && (never_nested || !op_children) {
                        return Err(ZX_ERR_INVALID_ARGS);
                    }
                    wait = self.op_on_piece(op, &mapping, lo, hi)?;
                    if wait.is_some() {
                        break;
                    }
                }
                wait
            };
            match wait {
                None => return Ok(()),
                Some(wait) => wait.wait()?,
            }
        }
    }

    /// Applies `op` to one piece; for a COMMIT whose pages must first come from
    /// a pager, returns the requests to wait for instead.
    fn op_on_piece(
        &self,
        op: VmarOp,
        mapping: &Arc<VmMapping>,
        lo: VirtAddr,
        hi: VirtAddr,
    ) -> ZxResult<Option<PagerWait>> {
        let (offset, max) = {
            let inner = mapping.inner.lock();
            ((inner.vmo_offset + (lo - inner.base)) as u64, inner.max)
        };
        let len = (hi - lo) as u64;
        let pt = self.aspace.page_table();
        let done = match op {
            VmarOp::Commit | VmarOp::Decommit | VmarOp::Zero if !max.contains(MMUFlags::WRITE) => {
                Err(ZX_ERR_ACCESS_DENIED)
            }
            VmarOp::Prefetch if !max.contains(MMUFlags::READ) => Err(ZX_ERR_ACCESS_DENIED),
            VmarOp::Zero => mapping.vmo().zero(offset, len),
            VmarOp::Commit => {
                if let Some(wait) = mapping.vmo().pager_wait_for(offset, len)? {
                    return Ok(Some(wait));
                }
                mapping.vmo().commit(offset, len)?;
                mapping.map_committed(pt, lo, hi)
            }
            VmarOp::Decommit => mapping.vmo().decommit(offset, len),
            VmarOp::AlwaysNeed => {
                hint_inside(mapping.vmo(), offset, len, EvictionHint::AlwaysNeed)?;
                mapping.map_committed(pt, lo, hi)
            }
            VmarOp::MapRange | VmarOp::Prefetch => mapping.map_committed(pt, lo, hi),
            VmarOp::DontNeed => hint_inside(mapping.vmo(), offset, len, EvictionHint::DontNeed),
        };
        done.map(|()| None)
    }
}

/// Gives `vmo` an eviction hint for the part of `[offset, offset + len)` inside
/// it: a mapping may run past its VMO's end, and the hint is no error there.
fn hint_inside(vmo: &VmObject, offset: u64, len: u64, hint: EvictionHint) -> ZxResult {
    let inside = len.min((vmo.size() as u64).saturating_sub(offset));
    if inside == 0 {
        return Ok(());
    }
    vmo.hint(offset, inside, hint)
}

/// A piece of an op range: `(mapping, lo, hi, nested)`, or `None` for a part of
/// the range no mapping covers.
type Piece = Option<(Arc<VmMapping>, VirtAddr, VirtAddr, bool)>;

// Collects the pieces with the same walk `protect` validates with; each closure
// keeps its own outcome, so the walks cannot be one function.
/// The pieces covering `[start, end)` of region `id`, at any depth, in address
/// order, up to and including the first gap (`None`): the op walks them in this
/// order and stops at the first failure, so a gap is reported only once the pieces
/// before it have been worked.
fn collect_pieces(
    state: &super::AspaceState,
    id: RegionId,
    start: VirtAddr,
    end: VirtAddr,
) -> alloc::vec::Vec<Piece> {
    let mut out = alloc::vec::Vec::new();
    let _: ControlFlow<()> = state.walk(id, start, end, |visit| match visit {
        Visit::Mapping {
            mapping,
            lo,
            hi,
            depth,
        } => {
            out.push(Some((mapping.clone(), lo, hi, depth > 0)));
            ControlFlow::Continue(())
        }
        Visit::Region { .. } => ControlFlow::Continue(()),
        Visit::Gap => {
            out.push(None);
            ControlFlow::Break(())
        }
    });
    out
}
