//! The tree's lock, and the translation of the last page a user copy went through.
//!
//! Most user copies are out-parameters of a few bytes, written again and again to
//! the same page; finding that page's mapping and protection in the tree each time
//! was most of a small syscall's cost. The tree remembers the last such page.

use super::{AddressSpace, AspaceState, ROOT_ID};
use crate::abi::*;
use crate::error::ZxResult;
use crate::sync::{TreeMutex, TreeMutexGuard};
use crate::vm::mapping::VmMapping;
use alloc::sync::Arc;
use kernel_hal::{MMUFlags, VirtAddr, PAGE_SIZE};

/// An address space's tree behind its lock.
///
/// Whoever takes the lock with [`lock`](Tree::lock) may change the tree, or a
/// mapping's geometry or protection (those change only under this lock), so that
/// forgets the cached [`CopyPage`]. A user copy changes none of them and takes the
/// lock through [`AddressSpace::with_copy_page`], which keeps it. So a cached page
/// always says what a lookup in the tree would say now, and its mapping is in the
/// tree (the cache never holds the last reference to a mapping).
pub(crate) struct Tree(TreeMutex<AspaceState>);

/// A page of user memory as the last user copy found it.
pub(super) struct CopyPage {
    /// The page's first address.
    page: VirtAddr,
    /// The mapping covering it.
    mapping: Arc<VmMapping>,
    /// The VMO offset the mapping shows at `page`.
    vmo_offset: usize,
    /// The page's current protection.
    perms: MMUFlags,
}

impl Tree {
    /// The tree `state`, unlocked.
    pub(super) fn new(state: AspaceState) -> Tree {
        Tree(TreeMutex::new(state))
    }

    /// Locks the tree for any use, forgetting the cached page.
    pub(crate) fn lock(&self) -> TreeMutexGuard<'_, AspaceState> {
        let mut state = self.0.lock();
        state.copy_page = None;
        state
    }

    /// The tree, when nobody else can hold it.
    pub(super) fn get_mut(&mut self) -> &mut AspaceState {
        let state = self.0.get_mut();
        state.copy_page = None;
        state
    }
}

impl AddressSpace {
    /// For a user copy inside the page of `vaddr` that needs `access` (READ, WRITE,
    /// or nothing for a debugger's access): finds the mapping and the VMO offset
    /// behind `vaddr`, checks the page's protection, and calls `copy(mapping,
    /// vmo_offset)` with the tree unlocked again. From the cached page when it is
    /// the same page: no walk of the tree, no mapping's lock.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NOT_FOUND` (no mapping), `ZX_ERR_ACCESS_DENIED` (the protection
    /// lacks `access`), or what `copy` returns.
    pub(super) fn with_copy_page(
        &self,
        vaddr: VirtAddr,
        access: MMUFlags,
        copy: impl FnOnce(&Arc<VmMapping>, u64) -> ZxResult,
    ) -> ZxResult {
        let page = vaddr & !(PAGE_SIZE - 1);
        let mut state = self.state.0.lock();
        if state.copy_page.as_ref().is_none_or(|c| c.page != page) {
            let mapping = state
                .mapping_at(ROOT_ID, page)
                .ok_or(ZX_ERR_NOT_FOUND)?
                .clone();
            let inner = mapping.inner.lock();
            let (vmo_offset, perms) =
                (inner.vmo_offset + (page - inner.base), inner.perms_at(page));
            drop(inner);
            state.copy_page = Some(CopyPage {
                page,
                mapping,
                vmo_offset,
                perms,
            });
        }
        let cached = state.copy_page.as_ref().ok_or(ZX_ERR_INTERNAL)?;
        if !cached.perms.contains(access) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        let offset = (cached.vmo_offset + vaddr % PAGE_SIZE) as u64;
        // The copy may wait for a pager (for this mapping's VMO, or for the other
        // VMO of a `zx_vmo_read` / `zx_vmo_write`), whose thread may need this
        // address space: it runs with the tree unlocked.
        let mapping = cached.mapping.clone();
        drop(state);
        copy(&mapping, offset)
    }
}
