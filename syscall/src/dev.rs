//! Device memory: `zx_resource_create` and `zx_vmo_create_physical`.

use crate::{status, Process};
use alloc::sync::Arc;
use zircon_object::abi::*;
use zircon_object::dev::{Resource, ResourceKind};
use zircon_object::object::Handle;
use zircon_object::vm::VmObject;
use zircon_object::ZxError;

/// The kind part of a `zx_resource_create` option word.
const KIND_MASK: u32 = 0xffff;

impl Process {
    /// Installs a handle to `resource` with `ZX_DEFAULT_RESOURCE_RIGHTS` and returns
    /// its value: how an embedder hands the root resource (from
    /// [`Resource::new_root`]) to a trusted process.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn grant_resource(&self, resource: Arc<Resource>) -> Result<zx_handle_t, zx_status_t> {
        self.inner
            .add_handle(Handle::new(resource, ZX_DEFAULT_RESOURCE_RIGHTS))
            .map_err(ZxError::raw)
    }

    /// Creates a resource of the kind in the low 16 bits of `options` over
    /// `[base, base + size)`, named by the `name_size` bytes at `name` (at most 31
    /// are taken), out of `parent_rsrc`, and writes its handle
    /// (`ZX_DEFAULT_RESOURCE_RIGHTS`) to `resource_out`. The parent must be the root
    /// resource, or a resource of the same kind whose range covers the new one.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` (not a resource),
    ///   `ZX_ERR_ACCESS_DENIED` (no WRITE), in that order.
    /// - `ZX_ERR_INVALID_ARGS`: a bad `name`; an unknown kind or flag; a ranged kind
    ///   with size 0 or an overflowing range; a root kind with a range; a bad
    ///   `resource_out`.
    /// - `ZX_ERR_ACCESS_DENIED`: the parent does not cover the new resource.
    /// - `ZX_ERR_NOT_SUPPORTED`: `ZX_RSRC_FLAG_EXCLUSIVE`.
    #[allow(clippy::too_many_arguments)]
    pub fn zx_resource_create(
        &self,
        parent_rsrc: zx_handle_t,
        options: u32,
        base: u64,
        size: usize,
        name: usize,
        name_size: usize,
        resource_out: usize,
    ) -> zx_status_t {
        status((|| {
            let (parent, _) = self
                .inner
                .get_object::<Resource>(parent_rsrc, ZX_RIGHT_WRITE)?;
            let mut buf = [0u8; ZX_MAX_NAME_LEN - 1];
            let len = name_size.min(buf.len());
            if len > 0 {
                self.copy_in(name, &mut buf[..len])?;
            }
            let kind = ResourceKind::from_raw(options & KIND_MASK)?;
            let child = parent.create_child(kind, options & !KIND_MASK, base, size, &buf[..len])?;
            self.install_handle(Handle::new(child, ZX_DEFAULT_RESOURCE_RIGHTS), resource_out)
                .map(|_| ())
        })())
    }

    /// Creates a VMO over the physical range `[paddr, paddr + size)` of device
    /// memory and writes its handle (`ZX_DEFAULT_VMO_RIGHTS`) to `out`. The VMO is
    /// `UNCACHED`, never resizable, and always has all its pages: nothing commits,
    /// decommits or frees them, byte I/O and snapshots are `ZX_ERR_NOT_SUPPORTED`,
    /// slices and mappings show the device memory itself.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` (`resource` is not a resource).
    /// - `ZX_ERR_ACCESS_DENIED`: `resource` is neither the root resource nor an MMIO
    ///   resource covering the range.
    /// - `ZX_ERR_INVALID_ARGS`: `paddr` or `size` unaligned, `size` 0, an
    ///   overflowing range, a range not inside the machine's device memory (for
    ///   instance one overlapping RAM the frame allocator owns), or a bad `out`.
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_vmo_create_physical(
        &self,
        resource: zx_handle_t,
        paddr: u64,
        size: usize,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            let (rsrc, _) = self.inner.get_object::<Resource>(resource, 0)?;
            rsrc.check_mmio(paddr, size as u64)?;
            let vmo =
                VmObject::new_physical(self.inner.aspace().hal().clone(), paddr, size as u64)?;
            self.install_handle(Handle::new(vmo, ZX_DEFAULT_VMO_RIGHTS), out)
                .map(|_| ())
        })())
    }
}
