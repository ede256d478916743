//! A model HAL for the object layer's unit tests: physical memory is a vector,
//! a page table is a map from page to translation. It implements the `kernel-hal`
//! contract exactly (strict `map`/`unmap`, tolerant `clear`/`protect`) without
//! touching the host's memory management, so the tests see every translation the
//! objects make. Faults are delivered by calling [`touch`] (which, in an embedder's
//! run of the tests, is the embedder's real access through the MMU).
#![cfg_attr(not(test), allow(dead_code))]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use kernel_hal::frame::FrameAllocator;
use kernel_hal::*;
use spin::Mutex;

/// Physical memory of `frames` frames starting at physical address 0x10_0000.
pub(crate) struct ModelHal {
    /// Passed to every page table made after it is set (see
    /// [`ModelPageTable::refuse_splits`]).
    pub(crate) refuse_splits: core::sync::atomic::AtomicBool,
    base: PhysAddr,
    ram: Mutex<Vec<u8>>,
    frames: Mutex<FrameAllocator>,
}

impl ModelHal {
    pub(crate) fn new(frames: usize) -> Arc<ModelHal> {
        let base = 0x10_0000;
        Arc::new(ModelHal {
            refuse_splits: core::sync::atomic::AtomicBool::new(false),
            base,
            ram: Mutex::new(vec![0u8; frames * PAGE_SIZE]),
            frames: Mutex::new(FrameAllocator::new(&[(base, base + frames * PAGE_SIZE)])),
        })
    }

    fn range(&self, paddr: PhysAddr, len: usize) -> PagingResult<core::ops::Range<usize>> {
        let start = paddr
            .checked_sub(self.base)
            .ok_or(PagingError::OutOfRange)?;
        let end = start.checked_add(len).ok_or(PagingError::OutOfRange)?;
        if end > self.ram.lock().len() {
            return Err(PagingError::OutOfRange);
        }
        Ok(start..end)
    }
}

impl PhysMem for ModelHal {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        self.frames.lock().alloc(1, 0).ok_or(PagingError::NoMemory)
    }
    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        if count == 0 {
            return Err(PagingError::NotAligned);
        }
        self.frames
            .lock()
            .alloc(count, align_log2)
            .ok_or(PagingError::NoMemory)
    }
    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.frames.lock().free(paddr, count)
    }
    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        let r = self.range(paddr, buf.len())?;
        buf.copy_from_slice(&self.ram.lock()[r]);
        Ok(())
    }
    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        let r = self.range(paddr, buf.len())?;
        self.ram.lock()[r].copy_from_slice(buf);
        Ok(())
    }
    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        let r = self.range(paddr, len)?;
        self.ram.lock()[r].fill(0);
        Ok(())
    }
    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        let d = self.range(dst, len)?;
        let s = self.range(src, len)?;
        self.ram.lock().copy_within(s, d.start);
        Ok(())
    }
    fn free_count(&self) -> usize {
        self.frames.lock().free_count()
    }
    fn total_count(&self) -> usize {
        self.frames.lock().total_count()
    }
}

impl Hal for ModelHal {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        let table = ModelPageTable::default();
        table.refuse_splits.store(
            self.refuse_splits
                .load(core::sync::atomic::Ordering::Relaxed),
            core::sync::atomic::Ordering::Relaxed,
        );
        Ok(Box::new(table))
    }
}

/// Translations by page address.
#[derive(Default)]
pub(crate) struct ModelPageTable {
    entries: Mutex<BTreeMap<VirtAddr, (PhysAddr, MMUFlags)>>,
    handler: Mutex<Option<Weak<dyn PageFaultHandler>>>,
    /// When set, `clear` and `protect` of anything but 1 GiB-aligned ranges fail
    /// with `NoMemory`, as a table that must split a huge entry without a free frame.
    pub(crate) refuse_splits: core::sync::atomic::AtomicBool,
}

/// The model's user range: 1 GiB at 1 GiB.
pub(crate) const USER_BASE: VirtAddr = 1 << 30;
pub(crate) const USER_SIZE: usize = 1 << 30;

impl ModelPageTable {
    fn split_refused(&self, vaddr: VirtAddr, len: usize) -> bool {
        const GIB: usize = 1 << 30;
        self.refuse_splits
            .load(core::sync::atomic::Ordering::Relaxed)
            && (vaddr % GIB != 0 || len % GIB != 0)
    }

    fn check(&self, vaddr: VirtAddr, len: usize) -> PagingResult<()> {
        if !is_page_aligned(vaddr) || !is_page_aligned(len) || len == 0 {
            return Err(PagingError::NotAligned);
        }
        let end = vaddr.checked_add(len).ok_or(PagingError::OutOfRange)?;
        if vaddr < USER_BASE || end > USER_BASE + USER_SIZE {
            return Err(PagingError::OutOfRange);
        }
        Ok(())
    }
}

/// Like the unix backend, the model changes take effect at once: its tokens are
/// empty.
impl PageTable for ModelPageTable {
    fn user_range(&self) -> (VirtAddr, usize) {
        (USER_BASE, USER_SIZE)
    }
    kernel_hal::immediate_page_table_changes!();
    fn map(
        &self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        len: usize,
        flags: MMUFlags,
        _: CachePolicy,
    ) -> PagingResult<()> {
        self.check(vaddr, len)?;
        let mut e = self.entries.lock();
        if e.range(vaddr..vaddr + len).next().is_some() {
            return Err(PagingError::AlreadyMapped);
        }
        for i in (0..len).step_by(PAGE_SIZE) {
            e.insert(vaddr + i, (paddr + i, flags));
        }
        Ok(())
    }
    fn unmap(&self, vaddr: VirtAddr, len: usize) -> PagingResult<()> {
        self.check(vaddr, len)?;
        let mut e = self.entries.lock();
        if e.range(vaddr..vaddr + len).count() != len / PAGE_SIZE {
            return Err(PagingError::NotMapped);
        }
        for i in (0..len).step_by(PAGE_SIZE) {
            e.remove(&(vaddr + i));
        }
        Ok(())
    }
    fn clear(&self, vaddr: VirtAddr, len: usize) -> PagingResult<usize> {
        self.check(vaddr, len)?;
        if self.split_refused(vaddr, len) {
            return Err(PagingError::NoMemory);
        }
        let mut e = self.entries.lock();
        let keys: Vec<VirtAddr> = e.range(vaddr..vaddr + len).map(|(&k, _)| k).collect();
        for k in &keys {
            e.remove(k);
        }
        Ok(keys.len())
    }
    fn protect(&self, vaddr: VirtAddr, len: usize, flags: MMUFlags) -> PagingResult<usize> {
        self.check(vaddr, len)?;
        if self.split_refused(vaddr, len) {
            return Err(PagingError::NoMemory);
        }
        let mut e = self.entries.lock();
        let mut n = 0;
        for (_, v) in e.range_mut(vaddr..vaddr + len) {
            v.1 = flags;
            n += 1;
        }
        Ok(n)
    }
    fn query(&self, vaddr: VirtAddr) -> PagingResult<Translation> {
        if !(USER_BASE..USER_BASE + USER_SIZE).contains(&vaddr) {
            return Err(PagingError::OutOfRange);
        }
        let e = self.entries.lock();
        let &(paddr, flags) = e
            .get(&page_round_down(vaddr))
            .ok_or(PagingError::NotMapped)?;
        Ok(Translation {
            paddr: paddr + vaddr % PAGE_SIZE,
            flags,
            cache: CachePolicy::Cached,
            page_size: PageSize::Size4K,
        })
    }
    fn set_fault_handler(&self, handler: Option<Weak<dyn PageFaultHandler>>) {
        *self.handler.lock() = handler;
    }
    fn fault_handler(&self) -> Option<Arc<dyn PageFaultHandler>> {
        self.handler.lock().as_ref().and_then(Weak::upgrade)
    }
}

/// Performs a user access of kind `access` at `vaddr` the way a CPU would: if the
/// translation does not permit it, raise a fault through the registered handler and
/// retry once. Returns whether the access succeeded.
pub(crate) fn touch(pt: &dyn PageTable, vaddr: VirtAddr, access: MMUFlags) -> bool {
    #[cfg(all(feature = "guest-tests", not(test)))]
    if let Some(touch) = crate::guest::touch_hook() {
        return touch(pt, vaddr, access);
    }
    let permitted = |pt: &dyn PageTable| pt.query(vaddr).is_ok_and(|t| t.flags.contains(access));
    if permitted(pt) {
        return true;
    }
    match pt.fault_handler() {
        Some(h) => h.handle_page_fault(vaddr, access) && permitted(pt),
        None => false,
    }
}
