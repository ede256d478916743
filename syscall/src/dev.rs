//! Device memory: resources, IOMMUs, BTIs and pinning, physical and contiguous
//! VMOs.

use crate::{status, Process};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use zircon_object::abi::*;
use zircon_object::dev::{Bti, Iommu, PinAddrs, Pmt, Resource, ResourceKind};
use zircon_object::object::Handle;
use zircon_object::vm::VmObject;
use zircon_object::{ZxError, ZxResult};

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

    /// Creates an IOMMU of `type_` from the `desc_size`-byte descriptor at `desc`
    /// and writes its handle (`ZX_DEFAULT_IOMMU_RIGHTS`) to `out`. Only the dummy
    /// IOMMU exists: device addresses are physical addresses.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `desc_size` above `ZX_IOMMU_MAX_DESC_LEN` (checked
    ///   first); a bad `desc` or `out`; a dummy descriptor of another size than
    ///   `zx_iommu_desc_dummy_t`.
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` (`resource` is not a resource),
    ///   `ZX_ERR_ACCESS_DENIED` (neither the root resource nor the system IOMMU
    ///   resource).
    /// - `ZX_ERR_NOT_SUPPORTED`: a type other than `ZX_IOMMU_TYPE_DUMMY`.
    pub fn zx_iommu_create(
        &self,
        resource: zx_handle_t,
        type_: u32,
        desc: usize,
        desc_size: usize,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            if desc_size > ZX_IOMMU_MAX_DESC_LEN {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let (rsrc, _) = self.inner.get_object::<Resource>(resource, 0)?;
            if !rsrc.grants_system(ZX_RSRC_SYSTEM_IOMMU_BASE) {
                return Err(ZX_ERR_ACCESS_DENIED);
            }
            let mut bytes = vec![0u8; desc_size];
            self.copy_in(desc, &mut bytes)?;
            let iommu = Iommu::new(type_, &bytes)?;
            self.install_handle(Handle::new(iommu, ZX_DEFAULT_IOMMU_RIGHTS), out)
                .map(|_| ())
        })())
    }

    /// Creates a BTI for device `bti_id` behind `iommu` and writes its handle
    /// (`ZX_DEFAULT_BTI_RIGHTS`) to `out`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `options` not 0 (checked first), or a bad `out`.
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` (`iommu` is not an IOMMU).
    pub fn zx_bti_create(
        &self,
        iommu: zx_handle_t,
        options: u32,
        bti_id: u64,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            if options != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let (iommu, _) = self.inner.get_object::<Iommu>(iommu, 0)?;
            let bti = Bti::new(iommu, bti_id);
            self.install_handle(Handle::new(bti, ZX_DEFAULT_BTI_RIGHTS), out)
                .map(|_| ())
        })())
    }

    /// Pins `[offset, offset + size)` of `vmo` for the device behind `bti`, writes
    /// the device addresses (`num_addrs` of them, as `u64`s) to `addrs` and the new
    /// PMT's handle (`ZX_DEFAULT_PMT_RIGHTS`) to `pmt_out`. `options`: any of
    /// `ZX_BTI_PERM_READ` / `WRITE` / `EXECUTE` (the VMO handle needs READ, WRITE,
    /// READ), and at most one of `ZX_BTI_COMPRESS` (one address per minimum
    /// contiguity, a page) and `ZX_BTI_CONTIGUOUS` (one address; the VMO must be
    /// contiguous or physical). Pinning commits the pages, gives a copy-on-write
    /// page its private copy first, and keeps them in place until `zx_pmt_unpin`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `offset` or `size` unaligned (checked first); both
    ///   COMPRESS and CONTIGUOUS, or an unknown option; CONTIGUOUS on a VMO that is
    ///   neither contiguous nor physical; `num_addrs` not the number of addresses
    ///   the pin hands out; `size` 0; a bad `addrs` or `pmt_out` (nothing stays
    ///   pinned then).
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED`: `bti`
    ///   then `vmo`, each needing MAP; then the permissions against the VMO
    ///   handle's rights.
    /// - `ZX_ERR_OUT_OF_RANGE`: the range passes the VMO's end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames for the commit, or the table is full.
    #[allow(clippy::too_many_arguments)]
    pub fn zx_bti_pin(
        &self,
        bti: zx_handle_t,
        options: u32,
        vmo: zx_handle_t,
        offset: u64,
        size: u64,
        addrs: usize,
        num_addrs: usize,
        pmt_out: usize,
    ) -> zx_status_t {
        status((|| {
            let page = kernel_hal::PAGE_SIZE as u64;
            if offset % page != 0 || size % page != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let (bti, _) = self.inner.get_object::<Bti>(bti, ZX_RIGHT_MAP)?;
            let (vmo, rights) = self.inner.get_object::<VmObject>(vmo, ZX_RIGHT_MAP)?;
            for (perm, right) in [
                (ZX_BTI_PERM_READ, ZX_RIGHT_READ),
                (ZX_BTI_PERM_WRITE, ZX_RIGHT_WRITE),
                // The device's execute permission, not the CPU's: READ suffices.
                (ZX_BTI_PERM_EXECUTE, ZX_RIGHT_READ),
            ] {
                if options & perm != 0 && rights & right == 0 {
                    return Err(ZX_ERR_ACCESS_DENIED);
                }
            }
            let perms = ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | ZX_BTI_PERM_EXECUTE;
            let shape = options & !perms;
            let how = match shape {
                0 => PinAddrs::PerPage,
                ZX_BTI_COMPRESS => PinAddrs::Compressed,
                ZX_BTI_CONTIGUOUS if vmo.is_contiguous() || vmo.is_physical() => {
                    PinAddrs::Contiguous
                }
                _ => return Err(ZX_ERR_INVALID_ARGS),
            };
            if size == 0 || num_addrs != bti.addr_count(size, how) {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let (pmt, frames) = bti.pin(&vmo, offset, size, how)?;
            let bytes: Vec<u8> = frames
                .iter()
                .flat_map(|&f| (f as u64).to_le_bytes())
                .collect();
            // A failure from here on must leave nothing pinned, not a quarantined pin.
            let installed: ZxResult = (|| {
                self.copy_out(addrs, &bytes)?;
                let value = self
                    .inner
                    .add_handle(Handle::new(pmt.clone(), ZX_DEFAULT_PMT_RIGHTS))?;
                if let Err(err) = self.out_u32(pmt_out, value) {
                    drop(self.inner.remove_handle(value));
                    return Err(err);
                }
                Ok(())
            })();
            if installed.is_err() {
                pmt.unpin();
            }
            installed
        })())
    }

    /// Releases the pin of the PMT behind `handle`, which is consumed.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`: not a live handle (an unpinned PMT's handle is gone,
    ///   so unpinning twice answers this).
    /// - `ZX_ERR_WRONG_TYPE`: not a PMT; the handle is consumed all the same.
    pub fn zx_pmt_unpin(&self, handle: zx_handle_t) -> zx_status_t {
        status((|| {
            let removed = self.inner.remove_handle(handle)?;
            let pmt = removed.object.downcast::<Pmt>().ok_or(ZX_ERR_WRONG_TYPE)?;
            pmt.unpin();
            Ok(())
        })())
    }

    /// Releases every pin quarantined in `bti` (those of PMTs closed without an
    /// unpin).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (no WRITE).
    pub fn zx_bti_release_quarantine(&self, bti: zx_handle_t) -> zx_status_t {
        status((|| {
            let (bti, _) = self.inner.get_object::<Bti>(bti, ZX_RIGHT_WRITE)?;
            bti.release_quarantine();
            Ok(())
        })())
    }

    /// Creates a VMO of `size` bytes backed by one physically contiguous run
    /// aligned to `2^alignment_log2` bytes (0: a page), committed and zeroed, and
    /// writes its handle (`ZX_DEFAULT_VMO_RIGHTS`) to `out`. It is not resizable;
    /// DECOMMIT is `ZX_ERR_NOT_SUPPORTED` and ZERO zeroes in place.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `size` 0, or `alignment_log2` not 0 and below 12 or
    ///   from 64 on (checked before the handle); `size` not page-aligned; a bad
    ///   `out`.
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED` (`bti`
    ///   needs MAP).
    /// - `ZX_ERR_OUT_OF_RANGE`: `size` above the largest VMO.
    /// - `ZX_ERR_NO_MEMORY`: no free run of that length and alignment.
    pub fn zx_vmo_create_contiguous(
        &self,
        bti: zx_handle_t,
        size: usize,
        alignment_log2: u32,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            if size == 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let align = if alignment_log2 == 0 {
                kernel_hal::PAGE_SHIFT as u32
            } else {
                alignment_log2
            };
            if !(kernel_hal::PAGE_SHIFT as u32..64).contains(&align) {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            self.inner.get_object::<Bti>(bti, ZX_RIGHT_MAP)?;
            let vmo =
                VmObject::new_contiguous(self.inner.aspace().hal().clone(), size as u64, align)?;
            self.install_handle(Handle::new(vmo, ZX_DEFAULT_VMO_RIGHTS), out)
                .map(|_| ())
        })())
    }

    /// Replaces the VMO handle `handle` by one with the same rights plus EXECUTE,
    /// written to `out`, given a VMEX resource `vmex` (the root resource, or the
    /// SYSTEM resource at `ZX_RSRC_SYSTEM_VMEX_BASE`). `vmex` may be
    /// `ZX_HANDLE_INVALID`: there is no job policy here to forbid that.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`: `handle` is not a live handle, or not a VMO (it is
    ///   consumed all the same).
    /// - The status of a bad `vmex`, after `handle` is consumed: `ZX_ERR_BAD_HANDLE`,
    ///   `ZX_ERR_WRONG_TYPE` (not a resource), `ZX_ERR_ACCESS_DENIED` (not a VMEX
    ///   resource).
    /// - `ZX_ERR_INVALID_ARGS`: a bad `out` (the new handle is dropped).
    pub fn zx_vmo_replace_as_executable(
        &self,
        handle: zx_handle_t,
        vmex: zx_handle_t,
        out: usize,
    ) -> zx_status_t {
        status((|| {
            let granted = if vmex == ZX_HANDLE_INVALID {
                Ok(())
            } else {
                self.inner
                    .get_object::<Resource>(vmex, 0)
                    .and_then(|(rsrc, _)| {
                        if rsrc.grants_system(ZX_RSRC_SYSTEM_VMEX_BASE) {
                            Ok(())
                        } else {
                            Err(ZX_ERR_ACCESS_DENIED)
                        }
                    })
            };
            let old = self.inner.remove_handle(handle)?;
            let rights = old.rights;
            let vmo = old
                .object
                .clone()
                .downcast::<VmObject>()
                .ok_or(ZX_ERR_BAD_HANDLE)?;
            drop(old);
            granted?;
            self.install_handle(Handle::new(vmo, rights | ZX_RIGHT_EXECUTE), out)
                .map(|_| ())
        })())
    }
}
