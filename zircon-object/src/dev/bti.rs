//! Bus transaction initiators (a device's view of memory through an IOMMU) and
//! pinned memory tokens.
//!
//! Pinning a range of a VMO through a BTI commits it, keeps it in place and hands
//! the device its addresses; the [`Pmt`] stands for the pin. Unpinning releases
//! it. A PMT closed without an unpin does not release its pages, since the device
//! may still be using them: the pin moves to its BTI's quarantine, where it stays
//! until `zx_bti_release_quarantine` or until the BTI itself goes.

use super::Iommu;
use crate::abi::*;
use crate::error::ZxResult;
use crate::object::{KObjectBase, KernelObject};
use crate::sync::Mutex;
use crate::vm::VmObject;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_hal::{PhysAddr, PAGE_SIZE};

/// One pinned range of a VMO: while it exists, the pages stay pinned.
struct Pin {
    vmo: Arc<VmObject>,
    offset: u64,
    len: u64,
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.vmo.unpin(self.offset, self.len);
    }
}

/// A bus transaction initiator: pins memory for one device behind an IOMMU.
pub struct Bti {
    base: KObjectBase,
    _iommu: Arc<Iommu>,
    bti_id: u64,
    /// Live PMTs not yet unpinned (`pmo_count`).
    pinned: AtomicU64,
    /// Pins whose PMT was closed without an unpin.
    quarantine: Mutex<Vec<Pin>>,
}

impl KernelObject for Bti {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_BTI
    }
    fn has_name(&self) -> bool {
        false
    }
}

/// How a pin hands out device addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinAddrs {
    /// One address per page.
    PerPage,
    /// One address per run of the BTI's minimum contiguity (`ZX_BTI_COMPRESS`).
    Compressed,
    /// One address for the whole range, which must be physically contiguous
    /// (`ZX_BTI_CONTIGUOUS`).
    Contiguous,
}

impl Bti {
    /// Creates a BTI for device `bti_id` behind `iommu`.
    pub fn new(iommu: Arc<Iommu>, bti_id: u64) -> Arc<Bti> {
        Arc::new(Bti {
            base: KObjectBase::new(),
            _iommu: iommu,
            bti_id,
            pinned: AtomicU64::new(0),
            quarantine: Mutex::new(Vec::new()),
        })
    }

    /// The device id it was created for.
    pub fn bti_id(&self) -> u64 {
        self.bti_id
    }

    /// The smallest run of device addresses handed out contiguously: a page.
    pub fn minimum_contiguity(&self) -> u64 {
        PAGE_SIZE as u64
    }

    /// The size of the device address space: all of it (the dummy IOMMU).
    pub fn aspace_size(&self) -> u64 {
        u64::MAX
    }

    /// Live PMTs not yet unpinned.
    pub fn pmo_count(&self) -> u64 {
        self.pinned.load(Ordering::Acquire)
    }

    /// Pins held in quarantine.
    pub fn quarantine_count(&self) -> u64 {
        self.quarantine.lock().len() as u64
    }

    /// How many addresses a pin of `len` bytes hands out as `addrs` says.
    pub fn addr_count(&self, len: u64, addrs: PinAddrs) -> usize {
        match addrs {
            PinAddrs::PerPage => (len / PAGE_SIZE as u64) as usize,
            PinAddrs::Compressed => (len / self.minimum_contiguity()) as usize,
            PinAddrs::Contiguous => 1,
        }
    }

    /// Pins `[offset, offset + len)` of `vmo` (see [`VmObject::pin`]) and returns
    /// the token with the device addresses, shaped as `addrs` says.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: unaligned or empty range; `Contiguous` over pages
    ///   that are not one physical run (nothing stays pinned then).
    /// - `ZX_ERR_OUT_OF_RANGE`: the range passes the VMO's end.
    /// - `ZX_ERR_NO_MEMORY`: out of frames for the commit.
    pub fn pin(
        self: &Arc<Self>,
        vmo: &Arc<VmObject>,
        offset: u64,
        len: u64,
        addrs: PinAddrs,
    ) -> ZxResult<(Arc<Pmt>, Vec<PhysAddr>)> {
        let frames = vmo.pin(offset, len)?;
        let pin = Pin {
            vmo: vmo.clone(),
            offset,
            len,
        };
        let out = match addrs {
            PinAddrs::PerPage | PinAddrs::Compressed => frames,
            PinAddrs::Contiguous => {
                let run = frames.windows(2).all(|w| w[1] == w[0] + PAGE_SIZE);
                if !run {
                    drop(pin);
                    return Err(ZX_ERR_INVALID_ARGS);
                }
                alloc::vec![frames[0]]
            }
        };
        self.pinned.fetch_add(1, Ordering::AcqRel);
        let pmt = Arc::new(Pmt {
            base: KObjectBase::new(),
            bti: self.clone(),
            pin: Mutex::new(Some(pin)),
        });
        Ok((pmt, out))
    }

    /// Releases every quarantined pin.
    pub fn release_quarantine(&self) {
        let released = core::mem::take(&mut *self.quarantine.lock());
        drop(released);
    }
}

/// A pinned memory token: one pin through a BTI, released by [`Pmt::unpin`] or,
/// if the token goes first, quarantined in its BTI.
pub struct Pmt {
    base: KObjectBase,
    bti: Arc<Bti>,
    pin: Mutex<Option<Pin>>,
}

impl KernelObject for Pmt {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_PMT
    }
    fn has_name(&self) -> bool {
        false
    }
}

impl Pmt {
    /// Releases the pin (a second call does nothing).
    pub fn unpin(&self) {
        let pin = self.pin.lock().take();
        if pin.is_some() {
            self.bti.pinned.fetch_sub(1, Ordering::AcqRel);
        }
        drop(pin);
    }
}

impl Drop for Pmt {
    /// A token dropped while still pinned puts its pin in quarantine.
    fn drop(&mut self) {
        if let Some(pin) = self.pin.get_mut().take() {
            self.bti.pinned.fetch_sub(1, Ordering::AcqRel);
            self.bti.quarantine.lock().push(pin);
        }
    }
}
