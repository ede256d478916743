//! Physical VMOs on the bare x86_64 backend: the cache policy reaches the leaf
//! entries (PCD/PWT bits, read back by walking the tables), and a 2 MiB-aligned
//! physical range mapped at a 2 MiB-aligned address takes 2 MiB entries.

use std::sync::Arc;

use kernel_hal::{CachePolicy, Hal, PageSize, PAGE_SIZE};
use kernel_hal_bare::sim::SimMachine;
use zircon_object::abi::*;
use zircon_object::vm::{AddressSpace, MapRequest, VmObject, VmPerms};

const MIB: usize = 1 << 20;
/// RAM the allocator owns: [4 KiB, 16 MiB); device memory: [16 MiB, 20 MiB).
const RAM_END: usize = 16 * MIB;
const DEVICE: (usize, usize) = (RAM_END, 4 * MIB);

/// A simulated bare machine with device memory after its RAM.
fn machine() -> SimMachine {
    let m = SimMachine::with_memory_map(DEVICE.0 + DEVICE.1, &[(PAGE_SIZE, RAM_END)]);
    // SAFETY: the allocator was given only [4 KiB, 16 MiB); nothing uses the
    // simulated bytes after it.
    unsafe { m.hal().set_device_memory(DEVICE.0, DEVICE.1) };
    m
}

#[test]
fn every_cache_policy_reaches_the_page_table_entries() {
    let m = machine();
    let hal: Arc<dyn Hal> = m.hal().clone();
    let free = hal.free_count();
    {
        let aspace = AddressSpace::new(hal.clone()).unwrap();
        let root = aspace.root_vmar();
        for policy in [
            CachePolicy::Cached,
            CachePolicy::Uncached,
            CachePolicy::UncachedDevice,
            CachePolicy::WriteCombining,
        ] {
            let vmo =
                VmObject::new_physical(hal.clone(), DEVICE.0 as u64, 2 * PAGE_SIZE as u64).unwrap();
            vmo.set_cache_policy(policy).unwrap();
            let request = MapRequest {
                populate: true,
                ..MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)
            };
            let addr = root.map(&vmo, &request).unwrap();
            let t = aspace.page_table().query(addr + PAGE_SIZE).unwrap();
            assert_eq!(t.cache, policy);
            assert_eq!(t.paddr, DEVICE.0 + PAGE_SIZE);
            root.unmap(addr, 2 * PAGE_SIZE, false).unwrap();
        }
    }
    assert_eq!(hal.free_count(), free, "device memory or tables leaked");
}

#[test]
fn an_aligned_physical_range_maps_with_2_mib_entries() {
    let m = machine();
    let hal: Arc<dyn Hal> = m.hal().clone();
    let free = hal.free_count();
    {
        let aspace = AddressSpace::new(hal.clone()).unwrap();
        let root = aspace.root_vmar();
        let vmo = VmObject::new_physical(hal.clone(), DEVICE.0 as u64, 4 * MIB as u64).unwrap();
        let request = MapRequest {
            populate: true,
            align: 2 * MIB,
            ..MapRequest::new(0, 4 * MIB, VmPerms::READ_WRITE)
        };
        let addr = root.map(&vmo, &request).unwrap();
        for offset in [0, 2 * MIB + 5 * PAGE_SIZE] {
            let t = aspace.page_table().query(addr + offset).unwrap();
            assert_eq!(t.page_size, PageSize::Size2M, "offset {offset:#x}");
            assert_eq!(t.paddr, DEVICE.0 + offset);
            assert_eq!(t.cache, CachePolicy::Uncached);
        }
    }
    assert_eq!(hal.free_count(), free);
}

#[test]
fn a_physical_vmo_over_ram_is_refused() {
    let m = machine();
    let hal: Arc<dyn Hal> = m.hal().clone();
    for (paddr, len) in [(PAGE_SIZE, PAGE_SIZE), (RAM_END - PAGE_SIZE, 2 * PAGE_SIZE)] {
        assert_eq!(
            VmObject::new_physical(hal.clone(), paddr as u64, len as u64).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
    }
    assert_eq!(hal.device_memory(), Some(DEVICE));
}
