//! Mappings: a range of a VMO shown at a range of an address space.

use super::pager::PagerWait;
use super::shootdown::{OwedFlush, Sweep};
use super::vmar::AddressSpace;
use super::vmo::VmObject;
use crate::abi::*;
use crate::error::{hal_error, ZxResult};
use crate::sync::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use kernel_hal::{MMUFlags, PageTable, PagingError, PAGE_SHIFT, PAGE_SIZE};

/// The permission bits a mapping can have.
pub const PERM_MASK: MMUFlags = MMUFlags::READ
    .union(MMUFlags::WRITE)
    .union(MMUFlags::EXECUTE);

/// A VMO range shown in an address space.
///
/// The mapping holds its VMO strongly: the VMO lives as long as any mapping of it.
/// Its geometry (`base`, `size`, `vmo_offset`) and protections change only while the
/// address space's tree lock is held *and* this mapping's own lock is held, so they
/// may be read under either: the VMAR code reads them under the tree lock, the VMO
/// code (shrink, decommit) under this lock.
pub struct VmMapping {
    id: u64,
    vmo: Arc<VmObject>,
    /// The address space's page table and owed shootdown.
    owed: Arc<OwedFlush>,
    aspace_id: usize,
    pub(crate) inner: Mutex<MappingInner>,
}

/// The geometry and protections of a mapping.
pub(crate) struct MappingInner {
    /// First address.
    pub(crate) base: usize,
    /// Length in bytes, a multiple of `PAGE_SIZE`.
    pub(crate) size: usize,
    /// VMO byte offset shown at `base`.
    pub(crate) vmo_offset: usize,
    /// The most a protect may grant (fixed at map time).
    pub(crate) max: MMUFlags,
    /// Current protection as runs: each key is the first address of a run whose
    /// pages all have the value's permissions; the first key is `base`; adjacent
    /// runs differ.
    pub(crate) perms: BTreeMap<usize, MMUFlags>,
    /// Set when the mapping has been removed from its address space.
    pub(crate) dead: bool,
}

impl MappingInner {
    pub(crate) fn end(&self) -> usize {
        self.base + self.size
    }

    /// The current permissions of the page at `vaddr` (inside the mapping).
    pub(crate) fn perms_at(&self, vaddr: usize) -> MMUFlags {
        self.perms
            .range(..=vaddr)
            .next_back()
            .map(|(_, &p)| p)
            .unwrap_or(MMUFlags::empty())
    }

    /// Sets the permissions of `[start, end)` (inside the mapping) to `perms`.
    pub(crate) fn set_perms(&mut self, start: usize, end: usize, perms: MMUFlags) {
        let after = if end < self.end() {
            Some(self.perms_at(end))
        } else {
            None
        };
        let keys: alloc::vec::Vec<usize> = self.perms.range(start..end).map(|(&k, _)| k).collect();
        for key in keys {
            self.perms.remove(&key);
        }
        self.perms.insert(start, perms);
        if let Some(after) = after {
            self.perms.insert(end, after);
        }
        self.normalize();
    }

    /// Merges adjacent runs with equal permissions.
    fn normalize(&mut self) {
        let mut last: Option<MMUFlags> = None;
        let mut redundant = alloc::vec::Vec::new();
        for (&k, &p) in &self.perms {
            if last == Some(p) {
                redundant.push(k);
            }
            last = Some(p);
        }
        for k in redundant {
            self.perms.remove(&k);
        }
    }

    /// The runs of the mapping as `(start, end, perms)`, in address order.
    pub(crate) fn runs(&self) -> alloc::vec::Vec<(usize, usize, MMUFlags)> {
        let mut out = alloc::vec::Vec::with_capacity(self.perms.len());
        let mut iter = self.perms.iter().peekable();
        while let Some((&start, &p)) = iter.next() {
            let end = iter.peek().map(|(&k, _)| k).unwrap_or(self.end());
            out.push((start, end, p));
        }
        out
    }

    /// Drops the part of the mapping below `new_base`.
    pub(crate) fn cut_front(&mut self, new_base: usize) {
        let first = self.perms_at(new_base);
        let mut rest = self.perms.split_off(&new_base);
        rest.entry(new_base).or_insert(first);
        self.perms = rest;
        self.vmo_offset += new_base - self.base;
        self.size -= new_base - self.base;
        self.base = new_base;
    }

    /// Drops the part of the mapping from `new_end` on.
    pub(crate) fn cut_back(&mut self, new_end: usize) {
        self.perms.split_off(&new_end);
        self.size = new_end - self.base;
    }
}

/// The MMU flags a page with permissions `perms` is mapped with.
pub(crate) fn mmu_flags(perms: MMUFlags) -> MMUFlags {
    perms | MMUFlags::USER
}

impl VmMapping {
    pub(crate) fn new(
        id: u64,
        vmo: Arc<VmObject>,
        aspace: &Arc<AddressSpace>,
        inner: MappingInner,
    ) -> Arc<VmMapping> {
        let mapping = Arc::new(VmMapping {
            id,
            vmo,
            owed: aspace.owed().clone(),
            aspace_id: aspace.id(),
            inner: Mutex::new(inner),
        });
        mapping.vmo.add_mapping(id, Arc::downgrade(&mapping));
        mapping
    }

    /// The mapped VMO.
    pub fn vmo(&self) -> &Arc<VmObject> {
        &self.vmo
    }

    /// An identifier of the address space this mapping is in (unique among live
    /// address spaces).
    pub fn aspace_id(&self) -> usize {
        self.aspace_id
    }

    /// `(base, size, vmo_offset)` of the mapping now.
    pub fn geometry(&self) -> (usize, usize, usize) {
        let inner = self.inner.lock();
        (inner.base, inner.size, inner.vmo_offset)
    }

    /// Removes the translations of VMO bytes `[start, end)` from this mapping,
    /// owing the flush, and returns its address space's owed shootdown, which the
    /// caller sends (once per address space) before the VMO frees any frame (see
    /// [`shootdown`](super::shootdown)). Called by the VMO, with its lock held, when
    /// pages leave it. A destroyed mapping still registered has nothing to clear,
    /// but its address space may still owe the flush of its translations.
    pub(crate) fn clear_vmo_range(&self, start: usize, end: usize) -> Arc<OwedFlush> {
        let inner = self.inner.lock();
        let lo = start.max(inner.vmo_offset);
        let hi = end.min(inner.vmo_offset.saturating_add(inner.size));
        if !inner.dead && lo < hi {
            let vaddr = inner.base + (lo - inner.vmo_offset);
            self.owed.clear(vaddr, hi - lo);
        }
        self.owed.clone()
    }

    /// Maps the VMO pages behind `[start, end)` (inside the mapping) that are
    /// already committed, with each page's current permissions (without WRITE for
    /// pages shared copy-on-write and pager-backed pages that are not dirty). Commits nothing. The caller holds the tree lock;
    /// this takes the lock of the VMO whose pages back the mapping (a slice's root),
    /// then the mapping's.
    pub(crate) fn map_committed(&self, pt: &dyn PageTable, start: usize, end: usize) -> ZxResult {
        let (owner, shift) = self.vmo.backing();
        let vmo = owner.inner.lock();
        let limit = self.vmo.slice_end().unwrap_or(vmo.size);
        let inner = self.inner.lock();
        for (run_start, run_end, perms) in inner.runs() {
            let lo = run_start.max(start);
            let hi = run_end.min(end);
            if lo >= hi || perms.is_empty() {
                continue;
            }
            // Page indices in the owner's pages.
            let first = (shift + inner.vmo_offset + (lo - inner.base)) >> PAGE_SHIFT;
            let last = ((shift + inner.vmo_offset + (hi - inner.base)) >> PAGE_SHIFT)
                .min(limit >> PAGE_SHIFT);
            if first >= last {
                continue;
            }
            let mut pages = vmo.pages.range(first..last).peekable();
            while let Some((&page, &frame)) = pages.next() {
                let shared = vmo.write_protected(page);
                let mut count = 1;
                while let Some(&(&p, &f)) = pages.peek() {
                    if p != page + count
                        || f != frame + count * PAGE_SIZE
                        || vmo.write_protected(p) != shared
                    {
                        break;
                    }
                    count += 1;
                    pages.next();
                }
                let vaddr = inner.base + ((page << PAGE_SHIFT) - shift - inner.vmo_offset);
                let flags = if shared {
                    perms - MMUFlags::WRITE
                } else {
                    perms
                };
                map_tolerant(pt, vaddr, frame, count, mmu_flags(flags), vmo.cache)?;
            }
        }
        Ok(())
    }

    /// Resolves a fault at `vaddr` (inside the mapping) for an access of kind
    /// `access`. A read or execute of a never-written page maps `zero_frame`
    /// read-only and commits nothing; a read of a page shared copy-on-write maps it
    /// read-only; a write (or any access to a committed page) commits the page in the
    /// VMO, makes it private, and maps it. The caller holds the address space's tree
    /// lock.
    ///
    /// A pager-backed page that is absent (or, for a write with `TRAP_DIRTY`, not
    /// dirty) is not mapped: the requests to wait for come back, and the caller
    /// waits for them with every lock released, then faults again. A page of a
    /// pager-backed VMO is mapped writable only once it is dirty.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_ACCESS_DENIED`: the page's current protection lacks `access`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the page lies past the end of the VMO.
    /// - `ZX_ERR_NO_MEMORY`: no frame to commit or copy into.
    /// - `ZX_ERR_BAD_STATE`: the VMO is detached from its pager and the page
    ///   needs it.
    pub(crate) fn fault(
        &self,
        pt: &dyn PageTable,
        vaddr: usize,
        access: MMUFlags,
        zero_frame: usize,
    ) -> ZxResult<Option<PagerWait>> {
        let (page_vaddr, offset, perms) = {
            let inner = self.inner.lock();
            let page_vaddr = vaddr & !(PAGE_SIZE - 1);
            (
                page_vaddr,
                inner.vmo_offset + (page_vaddr - inner.base),
                inner.perms_at(page_vaddr),
            )
        };
        if !perms.contains(access & PERM_MASK) || perms.is_empty() {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let hal = self.vmo.hal().clone();
        let (owner, shift) = self.vmo.backing();
        let mut vmo = owner.inner.lock();
        let size = self.vmo.slice_end().map_or(vmo.size, |end| end - shift);
        if offset >= size {
            return Err(ZX_ERR_OUT_OF_RANGE);
        }
        let page = (offset + shift) >> PAGE_SHIFT;
        let write = access.contains(MMUFlags::WRITE);
        if let Some(wait) = owner.pager_prepare(&mut vmo, page, page + 1, write)? {
            return Ok(Some(wait));
        }
        if !write && !vmo.pages.contains_key(&page) {
            vmo.zero_mapped.insert(page);
            let flags = mmu_flags(perms - MMUFlags::WRITE);
            return map_tolerant(pt, page_vaddr, zero_frame, 1, flags, vmo.cache).map(|()| None);
        }
        vmo.commit_pages(&*hal, page, page + 1)?;
        let flags = if write {
            vmo.make_private(&*hal, page, page + 1)?;
            perms
        } else if vmo.write_protected(page) {
            perms - MMUFlags::WRITE
        } else {
            perms
        };
        let frame = vmo.pages[&page];
        map_tolerant(pt, page_vaddr, frame, 1, mmu_flags(flags), vmo.cache).map(|()| None)
    }

    /// Takes away the translations of pages in `[start, end)` (inside the mapping)
    /// that are mapped read-only for a reason other than their protection (the
    /// shared zero frame, a frame shared copy-on-write, or a pager-backed page
    /// that is not dirty), so that they fault
    /// again. Called before write permission is granted to them.
    pub(crate) fn clear_read_only_pages(&self, start: usize, end: usize) {
        let (owner, shift) = self.vmo.backing();
        let vmo = owner.inner.lock();
        if vmo.zero_mapped.is_empty() && vmo.shared.is_empty() && vmo.pager.is_none() {
            return;
        }
        let inner = self.inner.lock();
        let first = (shift + inner.vmo_offset + (start - inner.base)) >> PAGE_SHIFT;
        let last = (shift + inner.vmo_offset + (end - inner.base)) >> PAGE_SHIFT;
        let pager_clean = vmo.pager.as_ref().map(|state| {
            vmo.pages
                .range(first..last)
                .map(|(p, _)| p)
                .filter(move |&&p| !state.is_dirty(p))
        });
        let pages = vmo
            .zero_mapped
            .range(first..last)
            .chain(vmo.shared.range(first..last))
            .chain(pager_clean.into_iter().flatten());
        for &page in pages {
            let vaddr = inner.base + ((page << PAGE_SHIFT) - shift - inner.vmo_offset);
            self.owed.clear(vaddr, PAGE_SIZE);
        }
    }

    /// Marks the mapping removed and takes its translations away, owing the
    /// flush, and hands it to `sweep`, which flushes and then unregisters it from
    /// its VMO ([`retire`](Self::retire)). The caller holds the tree lock and has
    /// already taken the mapping out of the tree.
    pub(crate) fn destroy(self: &Arc<Self>, sweep: &mut Sweep) {
        let mut inner = self.inner.lock();
        if inner.dead {
            return;
        }
        inner.dead = true;
        self.owed.clear(inner.base, inner.size);
        drop(inner);
        sweep.removed(self.clone());
    }

    /// Unregisters a destroyed mapping from its VMO, once the shootdown for its
    /// translations has been sent.
    pub(crate) fn retire(&self) {
        self.vmo.remove_mapping(self.id);
    }
}

/// Maps `count` frames from `frame` at `vaddr`, skipping pages that another path
/// (a concurrent fault) mapped first.
fn map_tolerant(
    pt: &dyn PageTable,
    vaddr: usize,
    frame: usize,
    count: usize,
    flags: MMUFlags,
    cache: kernel_hal::CachePolicy,
) -> ZxResult {
    match pt.map(vaddr, frame, count * PAGE_SIZE, flags, cache) {
        Ok(()) => Ok(()),
        Err(PagingError::AlreadyMapped) => {
            for i in 0..count {
                match pt.map(
                    vaddr + i * PAGE_SIZE,
                    frame + i * PAGE_SIZE,
                    PAGE_SIZE,
                    flags,
                    cache,
                ) {
                    Ok(()) | Err(PagingError::AlreadyMapped) => {}
                    Err(e) => return Err(hal_error(e)),
                }
            }
            Ok(())
        }
        Err(e) => Err(hal_error(e)),
    }
}
