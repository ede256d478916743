//! Helpers shared by the integration tests: a fault handler that records faults and
//! can resolve them by demand paging or by granting access.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, Weak};

use kernel_hal::{
    CachePolicy, MMUFlags, PageFaultHandler, PageTable, PhysAddr, PhysMem, VirtAddr, PAGE_SIZE,
};
use kernel_hal_unix::{UnixHal, UnixHalConfig, UnixPageTable};

/// What the recording handler does with a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Allocate a zeroed frame and map it read-write (demand paging); a fault on a
    /// page that is already mapped is resolved by granting `READ | WRITE | EXECUTE`
    /// as the access needs.
    Resolve,
    /// Record the fault and refuse it.
    Refuse,
}

/// An address space with a recording fault handler.
pub struct Space {
    pub hal: UnixHal,
    pub pt: UnixPageTable,
    pub policy: Mutex<Policy>,
    /// Every fault seen, in order: (address, access).
    pub faults: Mutex<Vec<(VirtAddr, MMUFlags)>>,
    /// Frames allocated by the handler.
    pub frames: Mutex<Vec<PhysAddr>>,
}

impl Space {
    /// A new address space on `hal` whose faults go to the returned value.
    pub fn new(hal: &UnixHal, policy: Policy) -> Arc<Space> {
        let space = Arc::new(Space {
            hal: hal.clone(),
            pt: hal.new_page_table().expect("address space"),
            policy: Mutex::new(policy),
            faults: Mutex::new(Vec::new()),
            frames: Mutex::new(Vec::new()),
        });
        let weak: Weak<dyn PageFaultHandler> = Arc::downgrade(&space) as Weak<dyn PageFaultHandler>;
        space.pt.set_fault_handler(Some(weak));
        space
    }

    pub fn base(&self) -> VirtAddr {
        self.pt.user_range().0
    }

    pub fn faults(&self) -> Vec<(VirtAddr, MMUFlags)> {
        self.faults.lock().unwrap().clone()
    }

    /// Clears every translation and frees the frames the handler allocated.
    pub fn release(&self) {
        let (base, size) = self.pt.user_range();
        self.pt.clear(base, size).unwrap();
        for frame in self.frames.lock().unwrap().drain(..) {
            self.hal.free_frames(frame, 1).unwrap();
        }
    }
}

impl PageFaultHandler for Space {
    fn handle_page_fault(&self, vaddr: VirtAddr, access: MMUFlags) -> bool {
        self.faults.lock().unwrap().push((vaddr, access));
        if *self.policy.lock().unwrap() == Policy::Refuse {
            return false;
        }
        let page = vaddr & !(PAGE_SIZE - 1);
        match self.pt.query(page) {
            Ok(translation) => self
                .pt
                .protect(page, PAGE_SIZE, translation.flags | access | MMUFlags::READ)
                .is_ok(),
            Err(_) => {
                let Ok(frame) = self.hal.alloc_frame() else {
                    return false;
                };
                self.hal.zero(frame, PAGE_SIZE).unwrap();
                let flags = MMUFlags::READ | MMUFlags::WRITE | MMUFlags::USER;
                if self
                    .pt
                    .map(page, frame, PAGE_SIZE, flags, CachePolicy::Cached)
                    .is_err()
                {
                    self.hal.free_frames(frame, 1).unwrap();
                    return false;
                }
                self.frames.lock().unwrap().push(frame);
                true
            }
        }
    }
}

/// A small machine for one test: 256 MiB of physical memory, 1 GiB windows.
pub fn small_hal() -> UnixHal {
    UnixHal::with_config(UnixHalConfig {
        phys_size: 256 << 20,
        window_size: 1 << 30,
    })
    .expect("machine")
}

/// Reads a byte of host memory (window memory: may fault into the handler).
pub fn peek(addr: VirtAddr) -> u8 {
    // SAFETY: the tests only pass addresses inside their own windows, whose faults
    // the registered handler resolves (or the test expects the process to die).
    unsafe { std::ptr::read_volatile(addr as *const u8) }
}

/// Writes a byte of host memory (window memory: may fault into the handler).
pub fn poke(addr: VirtAddr, value: u8) {
    // SAFETY: as for `peek`.
    unsafe { std::ptr::write_volatile(addr as *mut u8, value) }
}
