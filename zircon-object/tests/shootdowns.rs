//! Shootdowns per call: one `unmap`, `protect` or `destroy` over many mappings, and
//! a `protect` that grants WRITE over pages mapped read-only for a reason other
//! than their protection (the copy-on-write path), each send exactly one
//! shootdown, and the software TLB shows that nothing stale survives the call.
//!
//! Runs on the bare-metal backend over simulated RAM: every translation the CPU
//! would use is read through [`SimMachine::translate`], which caches it in the
//! software TLB until a shootdown drops it.

use std::sync::{Arc, Mutex};

use kernel_hal::{Hal, MMUFlags, PageTable, PagingResult, PhysAddr, PhysMem, PAGE_SIZE};
use kernel_hal_bare::sim::{SimFault, SimMachine};
use zircon_object::vm::{
    AddressSpace, AllocateRequest, MapRequest, Placement, VmAddressRegion, VmObject, VmPerms,
    VmoOptions,
};

const N: usize = 64;
const USER_READ: MMUFlags = MMUFlags::READ.union(MMUFlags::USER);
const USER_WRITE: MMUFlags = MMUFlags::WRITE.union(MMUFlags::USER);

/// A simulated machine that remembers the root of each address space it makes,
/// so the test can translate through it as the CPU would.
struct Machine {
    sim: SimMachine,
    roots: Mutex<Vec<PhysAddr>>,
}

impl PhysMem for Machine {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        self.sim.hal().alloc_frame()
    }
    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        self.sim.hal().alloc_contiguous(count, align_log2)
    }
    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.sim.hal().free_frames(paddr, count)
    }
    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        self.sim.hal().read(paddr, buf)
    }
    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        self.sim.hal().write(paddr, buf)
    }
    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        self.sim.hal().zero(paddr, len)
    }
    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        self.sim.hal().copy(dst, src, len)
    }
    fn free_count(&self) -> usize {
        self.sim.hal().free_count()
    }
    fn total_count(&self) -> usize {
        self.sim.hal().total_count()
    }
}

impl Hal for Machine {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        let space = self.sim.hal().new_bare_address_space()?;
        self.roots.lock().unwrap().push(space.root());
        Ok(Box::new(space))
    }
}

/// A machine, an address space on it, and a region of `N` adjacent one-page
/// mappings of one VMO with protection `perms` (maximum READ | WRITE).
struct Setup {
    machine: Arc<Machine>,
    aspace: Arc<AddressSpace>,
    root: PhysAddr,
    region: Arc<VmAddressRegion>,
    vmo: Arc<VmObject>,
}

impl Setup {
    fn new(perms: VmPerms) -> Setup {
        let machine = Arc::new(Machine {
            sim: SimMachine::new(32 << 20),
            roots: Mutex::new(Vec::new()),
        });
        let hal: Arc<dyn Hal> = machine.clone();
        let aspace = AddressSpace::new(hal.clone()).expect("address space");
        let root = *machine.roots.lock().unwrap().last().expect("a root");
        let region = aspace
            .root_vmar()
            .allocate(&AllocateRequest::new(N * PAGE_SIZE, VmPerms::READ_WRITE))
            .expect("region");
        let vmo = VmObject::new(hal, (N * PAGE_SIZE) as u64, VmoOptions::empty()).expect("vmo");
        for i in 0..N {
            let offset = i * PAGE_SIZE;
            let request = MapRequest {
                max_perms: VmPerms::READ_WRITE,
                placement: Placement::At(offset),
                ..MapRequest::new(offset as u64, PAGE_SIZE, perms)
            };
            region.map(&vmo, &request).expect("map");
        }
        Setup {
            machine,
            aspace,
            root,
            region,
            vmo,
        }
    }

    fn page(&self, i: usize) -> usize {
        self.region.addr() + i * PAGE_SIZE
    }

    /// Faults every page in for `access` and loads its translation into the TLB.
    fn touch_all(&self, access: MMUFlags) {
        for i in 0..N {
            self.aspace.fault(self.page(i), access).expect("fault");
            self.machine
                .sim
                .translate(self.root, self.page(i), access | MMUFlags::USER)
                .expect("the CPU reaches the page");
        }
    }

    fn shootdowns(&self) -> usize {
        self.machine.sim.tlb().shootdowns()
    }

    fn translate(&self, i: usize, access: MMUFlags) -> Result<PhysAddr, SimFault> {
        self.machine.sim.translate(self.root, self.page(i), access)
    }
}

#[test]
fn one_unmap_over_many_mappings_sends_one_shootdown() {
    let s = Setup::new(VmPerms::READ_WRITE);
    s.touch_all(MMUFlags::WRITE);
    let before = s.shootdowns();
    s.region
        .unmap(s.region.addr(), N * PAGE_SIZE, false)
        .expect("unmap");
    assert_eq!(s.shootdowns() - before, 1);
    for i in 0..N {
        assert_eq!(
            s.translate(i, USER_READ),
            Err(SimFault::NotPresent(s.page(i))),
            "page {i} is gone from the TLB too"
        );
    }
}

#[test]
fn one_protect_over_many_mappings_sends_one_shootdown() {
    let s = Setup::new(VmPerms::READ_WRITE);
    s.touch_all(MMUFlags::WRITE);
    let before = s.shootdowns();
    s.region
        .protect(VmPerms::READ, s.region.addr(), N * PAGE_SIZE, false)
        .expect("protect");
    assert_eq!(s.shootdowns() - before, 1);
    for i in 0..N {
        assert_eq!(
            s.translate(i, USER_WRITE),
            Err(SimFault::Protection(s.page(i))),
            "no writable translation of page {i} is left in the TLB"
        );
        assert!(s.translate(i, USER_READ).is_ok());
    }
}

#[test]
fn granting_write_over_read_only_zero_pages_sends_one_shootdown() {
    let s = Setup::new(VmPerms::READ_WRITE);
    s.region
        .protect(VmPerms::READ, s.region.addr(), N * PAGE_SIZE, false)
        .expect("read-only");
    // Reads map the shared zero frame, read-only, into every page.
    s.touch_all(MMUFlags::READ);
    let zero = s.translate(0, USER_READ).expect("mapped");
    let before = s.shootdowns();
    s.region
        .protect(VmPerms::READ_WRITE, s.region.addr(), N * PAGE_SIZE, false)
        .expect("protect");
    assert_eq!(s.shootdowns() - before, 1);
    for i in 0..N {
        assert_eq!(
            s.translate(i, USER_READ),
            Err(SimFault::NotPresent(s.page(i))),
            "the zero frame {zero:#x} is no longer reachable at page {i}"
        );
    }
    s.aspace
        .fault(s.page(0), MMUFlags::WRITE)
        .expect("a write now commits a page");
    assert_ne!(s.translate(0, USER_WRITE), Ok(zero));
}

#[test]
fn a_snapshot_of_a_vmo_behind_many_mappings_sends_one_shootdown() {
    let s = Setup::new(VmPerms::READ_WRITE);
    s.touch_all(MMUFlags::WRITE);
    let before = s.shootdowns();
    let snapshot = s
        .vmo
        .create_snapshot(0, (N * PAGE_SIZE) as u64, false, false)
        .expect("snapshot");
    assert_eq!(s.shootdowns() - before, 1);
    for i in 0..N {
        assert_eq!(
            s.translate(i, USER_WRITE),
            Err(SimFault::NotPresent(s.page(i))),
            "no writable translation of shared page {i} is left in the TLB"
        );
    }
    drop(snapshot);
}

#[test]
fn destroying_a_region_of_many_mappings_sends_one_shootdown() {
    let s = Setup::new(VmPerms::READ_WRITE);
    s.touch_all(MMUFlags::WRITE);
    let before = s.shootdowns();
    s.region.destroy().expect("destroy");
    assert_eq!(s.shootdowns() - before, 1);
    for i in 0..N {
        assert!(s.translate(i, USER_READ).is_err());
    }
}

#[test]
fn frames_come_back_once_everything_is_dropped() {
    let s = Setup::new(VmPerms::READ_WRITE);
    s.touch_all(MMUFlags::WRITE);
    let machine = s.machine.clone();
    drop(s);
    assert_eq!(machine.free_count(), machine.total_count());
}
