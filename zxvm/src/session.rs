//! A process to work in, and how zxvm divides its 64 KiB scratch area.
//!
//! The scratch area is user memory that `zircon_tests::new_process` maps read-write
//! and commits. Syscalls take user addresses for their out-parameters and buffers;
//! zxvm keeps them there, in four parts whose offsets and sizes are the constants
//! below: out-parameter slots, string literals of the current line, a part free
//! for scripts (`$scratch`), and the info and property buffer.
//!
//! Nothing else of the process is touched, except for a temporary buffer mapping
//! while listing a map too long for the info buffer.

use crate::info::MapEntry;
use std::sync::Arc;
use zircon_object::object::KernelObjectExt;
use zircon_object::vm::{PageState, VmObject};
use zircon_syscall::*;
use zircon_tests::TestProcess;

/// The page size, for walking a mapping's pages.
const PAGE: u64 = 4096;

/// Offset of the out-parameter slots in the scratch area.
const OUT_OFFSET: usize = 0;
/// Number of 8-byte out-parameter slots.
pub const OUT_SLOTS: usize = 32;
/// Offset of the staging area for string literals.
const STAGE_OFFSET: usize = 4096;
/// Size of the staging area.
pub const STAGE_SIZE: usize = 4096;
/// Offset of the part scripts may use freely.
const SCRIPT_OFFSET: usize = 8192;
/// Offset of the info buffer.
const INFO_OFFSET: usize = 32 * 1024;
/// Size of the info buffer.
pub const INFO_SIZE: usize = 32 * 1024;

/// The address-space tree as `ZX_INFO_PROCESS_MAPS` reported it.
#[derive(Clone, Debug)]
pub struct MapsReport {
    /// The records that fit in the buffer, in the kernel's order.
    pub entries: Vec<MapEntry>,
    /// How many records the kernel had in total.
    pub avail: usize,
}

/// A fresh process on the unix backend, with the helpers zxvm needs around it.
pub struct Session {
    process: TestProcess,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// Creates a fresh process.
    pub fn new() -> Session {
        Session {
            process: zircon_tests::new_process(),
        }
    }

    /// The process, for its `zx_*` calls.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// A handle to the root resource (installed on first use).
    pub fn root_resource(&self) -> u32 {
        self.process.root_resource()
    }

    /// The machine's device memory `(paddr, len)`, which physical VMOs may cover.
    pub fn device_memory(&self) -> (usize, usize) {
        self.process.device_memory()
    }

    /// The address of out-parameter slot `slot` (`slot < OUT_SLOTS`).
    pub fn out_addr(&self, slot: usize) -> usize {
        assert!(slot < OUT_SLOTS, "out slot {slot} out of range");
        self.process.scratch() + OUT_OFFSET + 8 * slot
    }

    /// The start of the string staging area.
    pub fn stage_addr(&self) -> usize {
        self.process.scratch() + STAGE_OFFSET
    }

    /// The start of the part of scratch memory scripts may use.
    pub fn script_area(&self) -> usize {
        self.process.scratch() + SCRIPT_OFFSET
    }

    /// The start of the info buffer.
    pub fn info_addr(&self) -> usize {
        self.process.scratch() + INFO_OFFSET
    }

    /// Zeroes an out-parameter slot, so a call that fails leaves a recognisable 0.
    ///
    /// # Errors
    /// The status of the user copy (the scratch area is gone only if a script
    /// unmapped it).
    pub fn clear_out(&self, slot: usize) -> Result<(), i32> {
        self.process.write_memory(self.out_addr(slot), &[0u8; 8])
    }

    /// Reads `len` bytes of user memory through the kernel's copy path.
    ///
    /// # Errors
    /// `ZX_ERR_INVALID_ARGS` (from the syscall layer) when a byte is not readable.
    pub fn read_bytes(&self, addr: usize, len: usize) -> Result<Vec<u8>, i32> {
        let mut buf = vec![0u8; len];
        self.process.read_memory(addr, &mut buf)?;
        Ok(buf)
    }

    /// Reads a little-endian value of `width` bytes (at most 8) at `addr`.
    ///
    /// # Errors
    /// As [`Session::read_bytes`].
    pub fn read_word(&self, addr: usize, width: usize) -> Result<u64, i32> {
        let mut raw = [0u8; 8];
        self.process.read_memory(addr, &mut raw[..width.min(8)])?;
        Ok(u64::from_le_bytes(raw))
    }

    /// Reads an out-parameter slot as a value of `width` bytes (4 or 8).
    ///
    /// # Errors
    /// As [`Session::read_bytes`].
    pub fn read_out(&self, slot: usize, width: usize) -> Result<u64, i32> {
        self.read_word(self.out_addr(slot), width)
    }

    /// `zx_object_get_info` of `handle` into `size` bytes at `buffer`: the records
    /// it wrote and the records it had (`actual`, `avail`).
    fn get_info(
        &self,
        handle: u32,
        topic: u32,
        buffer: usize,
        size: usize,
    ) -> Result<(usize, usize), i32> {
        let (actual, avail) = (OUT_SLOTS - 2, OUT_SLOTS - 1);
        let (actual_addr, avail_addr) = (self.out_addr(actual), self.out_addr(avail));
        match self
            .process
            .zx_object_get_info(handle, topic, buffer, size, actual_addr, avail_addr)
        {
            ZX_OK => Ok((
                self.read_out(actual, 8)? as usize,
                self.read_out(avail, 8)? as usize,
            )),
            status => Err(status),
        }
    }

    /// The one record of `topic` about `handle` (`ZX_INFO_VMO` as a [`VmoInfo`],
    /// `ZX_INFO_VMAR` as a [`VmarInfo`], `ZX_INFO_HANDLE_BASIC` as a [`HandleBasic`]).
    ///
    /// # Errors
    /// The status of `zx_object_get_info` or of reading the record back.
    pub fn info<R: Layout>(&self, handle: u32, topic: u32) -> Result<R, i32> {
        self.get_info(handle, topic, self.info_addr(), R::SIZE)?;
        Ok(R::read_from(&self.read_bytes(self.info_addr(), R::SIZE)?))
    }

    /// The address-space tree: `ZX_INFO_PROCESS_MAPS` on the process itself.
    ///
    /// The info buffer holds 315 records. When the kernel has more, zxvm maps a
    /// temporary buffer big enough for all of them, asks again, and leaves that
    /// buffer's own mapping out of the report; if that fails, the report holds the
    /// first 315 and says how many there were.
    ///
    /// # Errors
    /// The status of `zx_object_get_info` or of reading the records back.
    pub fn maps(&self) -> Result<MapsReport, i32> {
        let (entries, avail) = self.maps_into(self.info_addr(), INFO_SIZE)?;
        let mut report = if avail <= entries.len() {
            MapsReport { entries, avail }
        } else {
            self.maps_in_temporary_buffer(avail)
                .unwrap_or(MapsReport { entries, avail })
        };
        self.describe_pager_pages(&mut report.entries);
        Ok(report)
    }

    /// Fills in [`MappingInfo::pager`](crate::info::MappingInfo::pager) for the mappings of pager-backed VMOs the
    /// process holds a handle to. This looks at the VMO objects themselves (a
    /// tool's privilege): no syscall reports a page's pager state.
    fn describe_pager_pages(&self, entries: &mut [MapEntry]) {
        let vmos: Vec<Arc<VmObject>> = self
            .process
            .object()
            .handles()
            .handles()
            .filter_map(|(_, handle)| handle.object.clone().downcast::<VmObject>())
            .filter(|vmo| vmo.is_pager_backed())
            .collect();
        if vmos.is_empty() {
            return;
        }
        for mapping in entries.iter_mut().filter_map(|e| {
            let size = e.size;
            e.mapping.as_mut().map(|m| (m, size))
        }) {
            let (info, size) = mapping;
            let Some(vmo) = vmos.iter().find(|v| v.koid() == info.vmo_koid) else {
                continue;
            };
            let pages = (0..size / PAGE)
                .map(|i| {
                    let offset = info.vmo_offset + i * PAGE;
                    match vmo.page_state(offset) {
                        Some(PageState::Clean) => 'c',
                        Some(PageState::Dirty) => 'd',
                        Some(PageState::Writeback) => 'w',
                        _ if vmo.is_evicted(offset) => 'e',
                        _ => '.',
                    }
                })
                .collect();
            info.pager = Some(pages);
        }
    }

    /// One `ZX_INFO_PROCESS_MAPS` query into `size` bytes at `buffer`: the records
    /// that fit, and how many the kernel had.
    fn maps_into(&self, buffer: usize, size: usize) -> Result<(Vec<MapEntry>, usize), i32> {
        let p = &self.process;
        let (actual, avail) =
            self.get_info(p.zx_process_self(), ZX_INFO_PROCESS_MAPS, buffer, size)?;
        let fits = actual.min(size / MapsEntry::SIZE);
        let bytes = self.read_bytes(buffer, fits * MapsEntry::SIZE)?;
        Ok((MapEntry::decode_all(&bytes, ZX_INFO_PROCESS_MAPS), avail))
    }

    /// The whole tree through a temporary buffer for `avail` records and some more
    /// (the buffer's own mapping is one of them, and is left out of the report).
    fn maps_in_temporary_buffer(&self, avail: usize) -> Option<MapsReport> {
        let p = &self.process;
        let size = (avail + 64)
            .checked_mul(MapsEntry::SIZE)?
            .checked_next_multiple_of(4096)?;
        if p.zx_vmo_create(size as u64, 0, self.out_addr(0)) != ZX_OK {
            return None;
        }
        let vmo = self.read_out(0, 4).ok()? as u32;
        let koid = self
            .info::<HandleBasic>(vmo, ZX_INFO_HANDLE_BASIC)
            .map(|b| b.koid);
        let root = p.zx_vmar_root_self();
        let perms = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
        let mapped = p.zx_vmar_map(root, perms, 0, vmo, 0, size, self.out_addr(0));
        let addr = self.read_out(0, 8).ok().filter(|_| mapped == ZX_OK);
        let report = match (addr, koid) {
            (Some(addr), Ok(koid)) => self.maps_into(addr as usize, size).ok().map(|(all, _)| {
                let entries: Vec<MapEntry> = all
                    .into_iter()
                    .filter(|e| e.mapping.as_ref().is_none_or(|m| m.vmo_koid != koid))
                    .collect();
                MapsReport {
                    avail: entries.len(),
                    entries,
                }
            }),
            _ => None,
        };
        if let Some(addr) = addr {
            p.zx_vmar_unmap(root, addr as usize, size);
        }
        p.zx_handle_close(vmo);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zircon_object::object::Handle;
    use zircon_object::vm::pager::{PageProvider, PageRequest, PageRequestKind};
    use zircon_object::vm::VmoOptions;

    /// Supplies zeros at once, from the request's own call.
    struct Zeros;

    impl PageProvider for Zeros {
        fn page_request(&self, vmo: &Arc<VmObject>, request: PageRequest) {
            let (offset, len) = (request.offset, request.len);
            match request.kind {
                PageRequestKind::Read => vmo.supply_bytes(offset, &vec![0; len as usize]),
                PageRequestKind::Dirty => vmo.dirty_pages(offset, len),
            }
            .unwrap();
        }
    }

    #[test]
    fn maps_shows_which_pages_of_a_pager_backed_vmo_are_supplied_and_dirty() {
        let session = Session::new();
        let p = session.process();
        let hal = p.object().aspace().hal().clone();
        let vmo =
            VmObject::new_paged(hal, 4 * PAGE, VmoOptions::empty(), Arc::new(Zeros), 7).unwrap();
        let rights = ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_MAP;
        let handle = p
            .object()
            .add_handle(Handle::new(vmo.clone(), rights))
            .unwrap();
        let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_ALLOW_FAULTS;
        let out = session.out_addr(0);
        let root = p.zx_vmar_root_self();
        assert_eq!(
            p.zx_vmar_map(root, rw, 0, handle, 0, 4 * PAGE as usize, out),
            ZX_OK
        );
        let at = session.read_out(0, 8).unwrap() as usize;
        p.read_memory(at + PAGE as usize, &mut [0u8; 1]).unwrap();
        p.write_memory(at + 2 * PAGE as usize, &[1]).unwrap();

        let report = session.maps().unwrap();
        let entry = report
            .entries
            .iter()
            .find(|e| e.mapping.as_ref().is_some_and(|m| m.vmo_koid == vmo.koid()))
            .unwrap();
        assert_eq!(
            entry.mapping.as_ref().unwrap().pager.as_deref(),
            Some(".cd.")
        );
        let text = crate::maps::render(&report);
        assert!(text.contains(
            "pager pages .cd.  (1 clean, 1 dirty, 0 writeback, 0 evicted, 2 never supplied)"
        ));
        // Other mappings (the scratch area) get no pager line.
        assert_eq!(text.matches("pager pages").count(), 1);
    }
}
