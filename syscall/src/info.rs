//! `zx_object_get_info` and `zx_object_get/set_property`.
//!
//! Records are built as the values of [`crate::records`] and written through their
//! one layout definition.

use crate::records::{info_record_size, HandleBasic, Layout, MapsEntry, MapsMapping};
use crate::records::{BtiInfo, ResourceInfo, VmarInfo, VmoInfo};
use crate::{status, Process};
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hal::{MMUFlags, PAGE_SIZE};
use zircon_object::abi::*;
use zircon_object::dev::{Bti, Resource};
use zircon_object::object::{Handle, KernelObjectExt};
use zircon_object::task;
use zircon_object::vm::{MapsEntryKind, VmAddressRegion, VmObject};
use zircon_object::ZxResult;

/// `record` as the `size`-byte prefix its topic version writes.
fn truncated<T: Layout>(record: &T, size: usize) -> Vec<u8> {
    let mut bytes = record.to_bytes();
    bytes.truncate(size);
    bytes
}

/// A `zx_info_vmo_t` of `size` bytes for `vmo`, seen through a handle with
/// `rights` (`Some`) or through a mapping (`None`).
fn vmo_record(vmo: &VmObject, rights: Option<zx_rights_t>, size: usize) -> Vec<u8> {
    let (mappings, spaces) = vmo.mapping_counts();
    let share_count = if mappings < 2 { 1 } else { spaces };
    let physical = vmo.is_physical();
    let mut flags = if physical {
        ZX_INFO_VMO_TYPE_PHYSICAL
    } else {
        ZX_INFO_VMO_TYPE_PAGED
    };
    if vmo.is_resizable() {
        flags |= ZX_INFO_VMO_RESIZABLE;
    }
    if vmo.is_discardable() {
        flags |= ZX_INFO_VMO_DISCARDABLE;
    }
    if vmo.is_contiguous() {
        flags |= ZX_INFO_VMO_CONTIGUOUS;
    }
    if vmo.is_cow_clone() {
        flags |= ZX_INFO_VMO_IS_COW_CLONE;
    }
    if vmo.is_immutable() {
        flags |= ZX_INFO_VMO_IMMUTABLE;
    }
    if vmo.is_pager_backed() {
        flags |= ZX_INFO_VMO_PAGER_BACKED;
    }
    flags |= if rights.is_some() {
        ZX_INFO_VMO_VIA_HANDLE
    } else {
        ZX_INFO_VMO_VIA_MAPPING
    };
    // Device frames are not memory the VMO holds: a physical VMO commits nothing.
    let committed = if physical {
        0
    } else {
        (vmo.committed_pages() * PAGE_SIZE) as u64
    };
    let record = VmoInfo {
        koid: vmo.koid(),
        name: vmo.name().bytes(),
        size_bytes: vmo.size() as u64,
        parent_koid: vmo.parent_koid(),
        num_children: vmo.num_children(),
        num_mappings: mappings,
        share_count,
        flags,
        committed_bytes: committed,
        handle_rights: rights.unwrap_or(0),
        cache_policy: vmo.cache_policy() as u32,
        metadata_bytes: 0,
        committed_change_events: 0,
        populated_bytes: committed,
    };
    truncated(&record, size)
}

impl Process {
    /// Copies `records` to the user buffer under the single- or multi-record rules
    /// and writes `actual` / `avail` (each optional: 0 means absent).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_records(
        &self,
        records: &[Vec<u8>],
        record_size: usize,
        single: bool,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
        avail: usize,
    ) -> ZxResult {
        let put_counts = |a: usize, v: usize| -> ZxResult {
            if actual != 0 {
                self.out_usize(actual, a)?;
            }
            if avail != 0 {
                self.out_usize(avail, v)?;
            }
            Ok(())
        };
        if single && buffer_size < record_size {
            put_counts(0, 1)?;
            return Err(ZX_ERR_BUFFER_TOO_SMALL);
        }
        let fit = (buffer_size / record_size).min(records.len());
        if fit > 0 {
            let bytes: Vec<u8> = records[..fit].concat();
            self.copy_out(buffer, &bytes)?;
        }
        put_counts(fit, records.len())
    }

    /// Writes information about the object behind `handle` to `buffer`.
    ///
    /// Topics: `ZX_INFO_HANDLE_VALID`, `ZX_INFO_HANDLE_BASIC`, `ZX_INFO_VMAR`,
    /// `ZX_INFO_RESOURCE` and `ZX_INFO_BTI` (need INSPECT), `ZX_INFO_VMO` (all three versions), `ZX_INFO_PROCESS_MAPS` (both
    /// versions, needs INSPECT), `ZX_INFO_PROCESS_VMOS` (all three versions, needs
    /// INSPECT). Single-record topics need room for one record; multi-record topics
    /// write as many whole records as fit and report `actual` (written) and `avail`
    /// (total), both optional.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`: not a live handle.
    /// - `ZX_ERR_NOT_SUPPORTED`: an unknown topic.
    /// - `ZX_ERR_WRONG_TYPE`: the topic does not apply to the object.
    /// - `ZX_ERR_ACCESS_DENIED`: the handle lacks INSPECT where needed.
    /// - `ZX_ERR_BUFFER_TOO_SMALL`: a single-record topic with a buffer smaller than
    ///   its record (`actual` = 0 and `avail` = 1 are written).
    /// - `ZX_ERR_INVALID_ARGS`: a bad buffer, `actual` or `avail` pointer.
    pub fn zx_object_get_info(
        &self,
        handle: zx_handle_t,
        topic: u32,
        buffer: usize,
        buffer_size: usize,
        actual: usize,
        avail: usize,
    ) -> zx_status_t {
        status((|| {
            let h: Handle = self.inner.handles().get(handle)?;
            let inspect = || {
                if h.rights & ZX_RIGHT_INSPECT != 0 {
                    Ok(())
                } else {
                    Err(ZX_ERR_ACCESS_DENIED)
                }
            };
            match topic {
                ZX_INFO_HANDLE_VALID => Ok(()),
                ZX_INFO_HANDLE_BASIC => {
                    let r = HandleBasic {
                        koid: h.object.koid(),
                        rights: h.rights,
                        obj_type: h.object.obj_type(),
                        related_koid: h.object.related_koid(),
                        reserved: 0,
                    };
                    let size = HandleBasic::SIZE;
                    let records = [r.to_bytes()];
                    self.write_records(&records, size, true, buffer, buffer_size, actual, avail)
                }
                ZX_INFO_VMAR => {
                    let vmar = h
                        .object
                        .clone()
                        .downcast::<VmAddressRegion>()
                        .ok_or(ZX_ERR_WRONG_TYPE)?;
                    inspect()?;
                    let r = VmarInfo {
                        base: vmar.addr(),
                        len: vmar.size(),
                    };
                    let size = VmarInfo::SIZE;
                    let records = [r.to_bytes()];
                    self.write_records(&records, size, true, buffer, buffer_size, actual, avail)
                }
                ZX_INFO_RESOURCE => {
                    let rsrc = h
                        .object
                        .clone()
                        .downcast::<Resource>()
                        .ok_or(ZX_ERR_WRONG_TYPE)?;
                    inspect()?;
                    let r = ResourceInfo {
                        kind: rsrc.kind().raw(),
                        flags: rsrc.flags(),
                        base: rsrc.range_base(),
                        size: rsrc.range_size(),
                        name: rsrc.name().bytes(),
                    };
                    let records = [r.to_bytes()];
                    let size = ResourceInfo::SIZE;
                    self.write_records(&records, size, true, buffer, buffer_size, actual, avail)
                }
                ZX_INFO_BTI => {
                    let bti = h
                        .object
                        .clone()
                        .downcast::<Bti>()
                        .ok_or(ZX_ERR_WRONG_TYPE)?;
                    inspect()?;
                    let r = BtiInfo {
                        minimum_contiguity: bti.minimum_contiguity(),
                        aspace_size: bti.aspace_size(),
                        pmo_count: bti.pmo_count(),
                        quarantine_count: bti.quarantine_count(),
                    };
                    let records = [r.to_bytes()];
                    let size = BtiInfo::SIZE;
                    self.write_records(&records, size, true, buffer, buffer_size, actual, avail)
                }
                ZX_INFO_VMO_V1 | ZX_INFO_VMO_V2 | ZX_INFO_VMO_V3 => {
                    let vmo = h
                        .object
                        .clone()
                        .downcast::<VmObject>()
                        .ok_or(ZX_ERR_WRONG_TYPE)?;
                    let size = record_size(topic);
                    let r = vmo_record(&vmo, Some(h.rights), size);
                    self.write_records(&[r], size, true, buffer, buffer_size, actual, avail)
                }
                ZX_INFO_PROCESS_MAPS_V1
                | ZX_INFO_PROCESS_MAPS_V2
                | ZX_INFO_PROCESS_VMOS_V1
                | ZX_INFO_PROCESS_VMOS_V2
                | ZX_INFO_PROCESS_VMOS_V3 => {
                    let process = h
                        .object
                        .clone()
                        .downcast::<task::Process>()
                        .ok_or(ZX_ERR_WRONG_TYPE)?;
                    inspect()?;
                    let size = record_size(topic);
                    let records =
                        if matches!(topic, ZX_INFO_PROCESS_MAPS_V1 | ZX_INFO_PROCESS_MAPS_V2) {
                            maps_records(&process, size)
                        } else {
                            vmos_records(&process, size)
                        };
                    self.write_records(&records, size, false, buffer, buffer_size, actual, avail)
                }
                _ => Err(ZX_ERR_NOT_SUPPORTED),
            }
        })())
    }

    /// Reads a property of the object behind `handle` into `value`:
    /// `ZX_PROP_NAME` (32 bytes, NUL-padded; VMOs and processes) or
    /// `ZX_PROP_VMO_CONTENT_SIZE` (a `u64`; VMOs).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `value` is null (checked first), an unknown property,
    ///   or a bad `value` pointer.
    /// - `ZX_ERR_BAD_HANDLE`; `ZX_ERR_ACCESS_DENIED` without `ZX_RIGHT_GET_PROPERTY`.
    /// - `ZX_ERR_BUFFER_TOO_SMALL`: `value_size` below the property's size.
    /// - `ZX_ERR_WRONG_TYPE`: the property does not apply to the object.
    pub fn zx_object_get_property(
        &self,
        handle: zx_handle_t,
        property: u32,
        value: usize,
        value_size: usize,
    ) -> zx_status_t {
        status((|| {
            let h = self.property_handle(handle, value, ZX_RIGHT_GET_PROPERTY)?;
            match property {
                ZX_PROP_NAME => {
                    if value_size < ZX_MAX_NAME_LEN {
                        return Err(ZX_ERR_BUFFER_TOO_SMALL);
                    }
                    if !h.object.has_name() {
                        return Err(ZX_ERR_WRONG_TYPE);
                    }
                    self.copy_out(value, &h.object.name().bytes())
                }
                ZX_PROP_VMO_CONTENT_SIZE => {
                    if value_size < 8 {
                        return Err(ZX_ERR_BUFFER_TOO_SMALL);
                    }
                    let vmo = h.object.downcast::<VmObject>().ok_or(ZX_ERR_WRONG_TYPE)?;
                    self.out_u64(value, vmo.content_size())
                }
                _ => Err(ZX_ERR_INVALID_ARGS),
            }
        })())
    }

    /// Sets a property of the object behind `handle` from `value`: `ZX_PROP_NAME`
    /// (up to 31 bytes are taken, stopping at a NUL; size 0 clears the name) or
    /// `ZX_PROP_VMO_CONTENT_SIZE` (a `u64`; bytes past it are zeroed).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `value` is null (checked first), an unknown property,
    ///   or a bad `value` pointer.
    /// - `ZX_ERR_BAD_HANDLE`; `ZX_ERR_ACCESS_DENIED` without `ZX_RIGHT_SET_PROPERTY`.
    /// - `ZX_ERR_BUFFER_TOO_SMALL`: `value_size` below 8 for the content size.
    /// - `ZX_ERR_WRONG_TYPE`: the property does not apply to the object.
    // get_property and set_property share their signature and first checks
    // (`property_handle`); the bodies differ per direction.
    pub fn zx_object_set_property(
        &self,
        handle: zx_handle_t,
        property: u32,
        value: usize,
        value_size: usize,
    ) -> zx_status_t {
        status((|| {
            let h = self.property_handle(handle, value, ZX_RIGHT_SET_PROPERTY)?;
            match property {
                ZX_PROP_NAME => {
                    if !h.object.has_name() {
                        return Err(ZX_ERR_WRONG_TYPE);
                    }
                    let mut name = [0u8; ZX_MAX_NAME_LEN - 1];
                    let len = value_size.min(name.len());
                    self.copy_in(value, &mut name[..len])?;
                    h.object.set_name(&name[..len]);
                    Ok(())
                }
                ZX_PROP_VMO_CONTENT_SIZE => {
                    if value_size < 8 {
                        return Err(ZX_ERR_BUFFER_TOO_SMALL);
                    }
                    let vmo = h.object.downcast::<VmObject>().ok_or(ZX_ERR_WRONG_TYPE)?;
                    let mut bytes = [0u8; 8];
                    self.copy_in(value, &mut bytes)?;
                    vmo.set_content_size(u64::from_le_bytes(bytes))
                }
                _ => Err(ZX_ERR_INVALID_ARGS),
            }
        })())
    }

    /// The first checks of both property calls: a non-null value, a live handle
    /// holding `right`.
    fn property_handle(
        &self,
        handle: zx_handle_t,
        value: usize,
        right: zx_rights_t,
    ) -> ZxResult<Handle> {
        if value == 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        let h = self.inner.handles().get(handle)?;
        if h.rights & right == 0 {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        Ok(h)
    }
}

/// The record size of `topic`, one of those `zx_object_get_info` writes records for.
fn record_size(topic: u32) -> usize {
    info_record_size(topic).unwrap_or(0)
}

/// `zx_info_maps_t` records of `size` bytes (96 for v1, 104 for v2).
fn maps_records(process: &Arc<task::Process>, size: usize) -> Vec<Vec<u8>> {
    process
        .aspace()
        .maps()
        .into_iter()
        .map(|entry| {
            let mut r = MapsEntry {
                name: entry.name.bytes(),
                base: entry.base,
                size: entry.size,
                depth: entry.depth,
                ..MapsEntry::default()
            };
            match entry.kind {
                MapsEntryKind::Aspace => r.kind = ZX_INFO_MAPS_TYPE_ASPACE,
                MapsEntryKind::Vmar => r.kind = ZX_INFO_MAPS_TYPE_VMAR,
                MapsEntryKind::Mapping {
                    perms,
                    vmo_koid,
                    vmo_offset,
                    committed_pages,
                } => {
                    let perms = perms & (MMUFlags::READ | MMUFlags::WRITE | MMUFlags::EXECUTE);
                    r.kind = ZX_INFO_MAPS_TYPE_MAPPING;
                    r.mapping = MapsMapping {
                        mmu_flags: perms.bits(),
                        vmo_koid,
                        vmo_offset,
                        committed_pages,
                        populated_pages: committed_pages,
                    };
                }
            }
            truncated(&r, size)
        })
        .collect()
}

/// `zx_info_vmo_t` records: one per VMO handle in the table, one per mapping.
fn vmos_records(process: &Arc<task::Process>, size: usize) -> Vec<Vec<u8>> {
    let via_handles: Vec<(Arc<VmObject>, zx_rights_t)> = process
        .handles()
        .handles()
        .filter_map(|(_, h)| {
            h.object
                .clone()
                .downcast::<VmObject>()
                .map(|v| (v, h.rights))
        })
        .collect();
    let mut out: Vec<Vec<u8>> = via_handles
        .iter()
        .map(|(v, rights)| vmo_record(v, Some(*rights), size))
        .collect();
    out.extend(
        process
            .aspace()
            .mapped_vmos()
            .iter()
            .map(|v| vmo_record(v, None, size)),
    );
    out
}
