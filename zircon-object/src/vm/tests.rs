//! Unit tests of VMOs and the VMAR tree, over the model HAL. Every test ends by
//! dropping its objects and checking that every frame is free again.

use super::*;
use crate::abi::*;
use crate::testing::{touch, ModelHal};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use kernel_hal::{Hal, MMUFlags, PhysMem, PAGE_SIZE};

const RW: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
const ALL: u32 = ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE | ZX_RIGHT_MAP;

/// Runs `f` over three fresh machines (the model HAL, the unix backend, and the
/// bare-metal backend's real x86_64 page tables over simulated RAM) and checks frame
/// accounting after each, so every behaviour is proven on every backend. Under Miri
/// the unix backend (host system calls) is left out.
pub(super) fn machine(f: impl Fn(&Arc<dyn Hal>, &Arc<AddressSpace>, &Arc<VmAddressRegion>)) {
    let bare = kernel_hal_bare::BareHal::new_simulated(32 << 20);
    #[cfg(not(miri))]
    let machines: [Arc<dyn Hal>; 3] = {
        let unix = kernel_hal_unix::UnixHal::with_config(kernel_hal_unix::UnixHalConfig {
            phys_size: 16 << 20,
            window_size: 1 << 30,
        })
        .expect("an emulated machine");
        [ModelHal::new(4096), Arc::new(unix), Arc::new(bare)]
    };
    #[cfg(miri)]
    let machines: [Arc<dyn Hal>; 2] = [ModelHal::new(4096), Arc::new(bare)];
    for hal in machines {
        let total = hal.total_count();
        {
            let aspace = AddressSpace::new(hal.clone()).unwrap();
            let root = aspace.root_vmar();
            f(&hal, &aspace, &root);
        }
        assert_eq!(hal.free_count(), total, "frames leaked");
    }
}

pub(super) fn vmo(hal: &Arc<dyn Hal>, pages: usize) -> Arc<VmObject> {
    VmObject::new(hal.clone(), (pages * PAGE_SIZE) as u64, 0).unwrap()
}

#[test]
fn fresh_vmo_reads_zeros_and_commits_nothing() {
    machine(|hal, _, _| {
        let v = VmObject::new(hal.clone(), 10_000, 0).unwrap();
        assert_eq!(v.size(), 3 * PAGE_SIZE);
        assert_eq!(v.content_size(), 10_000);
        let mut buf = vec![0xffu8; 5000];
        v.read(100, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        assert_eq!(v.committed_pages(), 0);
    });
}

#[test]
fn write_commits_only_the_pages_it_touches() {
    machine(|hal, _, _| {
        let v = vmo(hal, 8);
        v.write((PAGE_SIZE - 2) as u64, &[1, 2, 3, 4]).unwrap();
        assert_eq!(v.committed_pages(), 2);
        let mut buf = [0u8; 6];
        v.read((PAGE_SIZE - 3) as u64, &mut buf).unwrap();
        assert_eq!(buf, [0, 1, 2, 3, 4, 0]);
        assert_eq!(
            v.write((8 * PAGE_SIZE - 1) as u64, &[1, 2]),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(v.write(u64::MAX, &[1]), Err(ZX_ERR_OUT_OF_RANGE));
        assert_eq!(v.committed_pages(), 2);
    });
}

#[test]
fn creation_rejects_unknown_options_and_huge_sizes() {
    machine(|hal, _, _| {
        assert_eq!(
            VmObject::new(hal.clone(), 0, 1).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            VmObject::new(hal.clone(), u64::MAX, 0).err(),
            Some(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(VmObject::new(hal.clone(), 0, 0).unwrap().size(), 0);
    });
}

#[test]
fn resize_shrinks_frees_and_grows_zeroed() {
    machine(|hal, _, _| {
        let fixed = vmo(hal, 1);
        assert_eq!(fixed.set_size(0), Err(ZX_ERR_UNAVAILABLE));
        let v = VmObject::new(hal.clone(), 4 * PAGE_SIZE as u64, ZX_VMO_RESIZABLE).unwrap();
        v.write(0, &[7u8; 4 * PAGE_SIZE]).unwrap();
        assert_eq!(v.committed_pages(), 4);
        v.set_size(PAGE_SIZE as u64 + 10).unwrap();
        assert_eq!(v.size(), 2 * PAGE_SIZE);
        assert_eq!(v.committed_pages(), 2);
        v.set_size(4 * PAGE_SIZE as u64).unwrap();
        let mut buf = [0xffu8; 16];
        v.read(PAGE_SIZE as u64 + 8, &mut buf).unwrap();
        assert_eq!(&buf[..2], &[7, 7]);
        assert!(buf[2..].iter().all(|&b| b == 0));
        v.read(3 * PAGE_SIZE as u64, &mut buf).unwrap();
        assert_eq!(buf, [0; 16]);
        assert_eq!(v.set_size(u64::MAX), Err(ZX_ERR_OUT_OF_RANGE));
    });
}

#[test]
fn commit_decommit_and_zero_work_on_ranges() {
    machine(|hal, _, _| {
        let v = vmo(hal, 16);
        v.commit(0, 16 * PAGE_SIZE as u64).unwrap();
        assert_eq!(v.committed_pages(), 16);
        assert_eq!(v.decommit(1, PAGE_SIZE as u64), Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(
            v.decommit(0, 17 * PAGE_SIZE as u64),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        v.decommit(4 * PAGE_SIZE as u64, 4 * PAGE_SIZE as u64)
            .unwrap();
        assert_eq!(v.committed_pages(), 12);
        assert_eq!(v.committed_pages_in(0, 8 * PAGE_SIZE), 4);
        v.write(0, &[9u8; 3 * PAGE_SIZE]).unwrap();
        // Zero the tail of page 0, all of page 1, the head of page 2.
        v.zero(100, (2 * PAGE_SIZE) as u64).unwrap();
        assert_eq!(v.committed_pages(), 11);
        let mut buf = vec![0u8; 3 * PAGE_SIZE];
        v.read(0, &mut buf).unwrap();
        assert!(buf[..100].iter().all(|&b| b == 9));
        assert!(buf[100..2 * PAGE_SIZE + 100].iter().all(|&b| b == 0));
        assert!(buf[2 * PAGE_SIZE + 100..].iter().all(|&b| b == 9));
        v.commit(0, 0).unwrap();
        assert_eq!(v.commit(u64::MAX, 2), Err(ZX_ERR_OUT_OF_RANGE));
    });
}

#[test]
fn allocate_places_specific_compact_and_random_regions() {
    machine(|_, _, root| {
        let flags = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
        let a = root
            .allocate(flags | ZX_VM_SPECIFIC, 0x10_0000, 0x4000)
            .unwrap();
        assert_eq!(a.addr(), root.addr() + 0x10_0000);
        assert_eq!(
            root.allocate(flags | ZX_VM_SPECIFIC, 0x10_2000, 0x4000)
                .err(),
            Some(ZX_ERR_ALREADY_EXISTS)
        );
        assert_eq!(
            root.allocate(flags, 0, 0x1001).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.allocate(flags, 0x1000, 0x1000).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.allocate(flags, 0, root.size() + PAGE_SIZE).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        let compact = root.allocate(flags | ZX_VM_COMPACT, 0, 0x10_0000).unwrap();
        let c1 = compact.allocate(ZX_VM_CAN_MAP_READ, 0, 0x1000).unwrap();
        let c2 = compact.allocate(ZX_VM_CAN_MAP_READ, 0, 0x1000).unwrap();
        assert_eq!(c1.addr(), compact.addr());
        assert_eq!(c2.addr(), compact.addr() + 0x1000);
        assert_eq!(
            compact.allocate(ZX_VM_CAN_MAP_EXECUTE, 0, 0x1000).err(),
            Some(ZX_ERR_ACCESS_DENIED)
        );
        let aligned = root.allocate(flags | ZX_VM_ALIGN_1MB, 0, 0x1000).unwrap();
        assert_eq!(aligned.addr() % (1 << 20), 0);
        let limited = root
            .allocate(flags | ZX_VM_OFFSET_IS_UPPER_LIMIT, 0x20_0000, 0x1000)
            .unwrap();
        assert!(limited.addr() + 0x1000 <= root.addr() + 0x20_0000);
        // Random placements never overlap.
        let mut regions: Vec<Arc<VmAddressRegion>> = Vec::new();
        for _ in 0..200 {
            regions.push(root.allocate(flags, 0, 0x3000).unwrap());
        }
        let mut spans: Vec<(usize, usize)> = regions.iter().map(|r| (r.addr(), r.size())).collect();
        spans.sort();
        assert!(spans.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0));
    });
}

#[test]
fn a_full_region_answers_no_resources() {
    machine(|_, _, root| {
        let r = root.allocate(ZX_VM_CAN_MAP_READ, 0, 0x4000).unwrap();
        for _ in 0..4 {
            r.allocate(ZX_VM_CAN_MAP_READ, 0, 0x1000).unwrap();
        }
        assert_eq!(
            r.allocate(ZX_VM_CAN_MAP_READ, 0, 0x1000).err(),
            Some(ZX_ERR_NO_RESOURCES)
        );
    });
}

#[test]
fn mapped_pages_fault_in_with_the_mapping_permissions() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 4);
        v.write(0, b"hello").unwrap();
        let addr = root
            .map(ZX_VM_PERM_READ, 0, &v, ALL, ALL, 0, 6 * PAGE_SIZE)
            .unwrap();
        let pt = aspace.page_table();
        assert!(touch(pt, addr, MMUFlags::READ));
        assert!(!touch(pt, addr, MMUFlags::WRITE));
        let mut buf = [0u8; 5];
        aspace.read_user(addr, &mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        assert_eq!(aspace.write_user(addr, b"x"), Err(ZX_ERR_ACCESS_DENIED));
        // Past the VMO's end the mapping exists but faults out of range.
        assert_eq!(
            aspace.fault(addr + 5 * PAGE_SIZE, MMUFlags::READ),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(
            aspace.fault(addr + 6 * PAGE_SIZE, MMUFlags::READ),
            Err(ZX_ERR_NOT_FOUND)
        );
        // Raising to the maximum the handles allowed is fine.
        root.protect(RW, addr, PAGE_SIZE, true).unwrap();
        assert!(touch(pt, addr, MMUFlags::WRITE));
        assert_eq!(
            root.protect(RW | ZX_VM_PERM_EXECUTE, addr, PAGE_SIZE, true),
            Ok(())
        );
        let v2 = vmo(hal, 1);
        let ro = root
            .map(
                ZX_VM_PERM_READ,
                0,
                &v2,
                ZX_RIGHT_READ | ZX_RIGHT_MAP,
                ALL,
                0,
                PAGE_SIZE,
            )
            .unwrap();
        assert_eq!(
            root.protect(RW, ro, PAGE_SIZE, true),
            Err(ZX_ERR_ACCESS_DENIED)
        );
    });
}

#[test]
fn map_checks_rights_and_options() {
    machine(|hal, _, root| {
        let v = vmo(hal, 1);
        assert_eq!(
            root.map(RW, 0, &v, ZX_RIGHT_READ | ZX_RIGHT_WRITE, ALL, 0, PAGE_SIZE),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        assert_eq!(
            root.map(ZX_VM_PERM_WRITE, 0, &v, ALL, ALL, 0, PAGE_SIZE),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(RW, 0, &v, ZX_RIGHT_READ | ZX_RIGHT_MAP, ALL, 0, PAGE_SIZE),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        assert_eq!(
            root.map(RW, 0, &v, ALL, ALL, 0, 0),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(RW, 0, &v, ALL, ALL, 1, PAGE_SIZE),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(RW, 0, &v, ALL, ALL, 0, usize::MAX),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(
            root.map(RW | 1 << 16, 0, &v, ALL, ALL, 0, PAGE_SIZE),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(RW | ZX_VM_COMPACT, 0, &v, ALL, ALL, 0, PAGE_SIZE),
            Err(ZX_ERR_INVALID_ARGS)
        );
        let r = VmObject::new(hal.clone(), 4096, ZX_VMO_RESIZABLE).unwrap();
        assert_eq!(
            root.map(
                RW | ZX_VM_REQUIRE_NON_RESIZABLE,
                0,
                &r,
                ALL,
                ALL,
                0,
                PAGE_SIZE
            ),
            Err(ZX_ERR_NOT_SUPPORTED)
        );
        assert_eq!(v.mapping_counts().0, 0);
    });
}

#[test]
fn unmap_trims_splits_and_refuses_to_cut_regions() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 8);
        let addr = root
            .map(
                RW | ZX_VM_SPECIFIC,
                0x10_0000,
                &v,
                ALL,
                ALL,
                0,
                8 * PAGE_SIZE,
            )
            .unwrap();
        for i in 0..8 {
            assert!(touch(
                aspace.page_table(),
                addr + i * PAGE_SIZE,
                MMUFlags::WRITE
            ));
        }
        root.unmap(addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE, true)
            .unwrap();
        assert_eq!(v.mapping_counts().0, 2);
        assert!(aspace.page_table().query(addr + 2 * PAGE_SIZE).is_err());
        assert!(aspace.page_table().query(addr + 4 * PAGE_SIZE).is_ok());
        assert_eq!(
            aspace.fault(addr + 3 * PAGE_SIZE, MMUFlags::READ),
            Err(ZX_ERR_NOT_FOUND)
        );
        // The upper half still shows VMO page 4 at its base.
        v.write(4 * PAGE_SIZE as u64, b"four").unwrap();
        let mut buf = [0u8; 4];
        aspace.read_user(addr + 4 * PAGE_SIZE, &mut buf).unwrap();
        assert_eq!(&buf, b"four");
        let sub = root
            .allocate(
                ZX_VM_CAN_MAP_READ | ZX_VM_SPECIFIC,
                0x20_0000,
                4 * PAGE_SIZE,
            )
            .unwrap();
        assert_eq!(
            root.unmap(root.addr() + 0x20_1000, PAGE_SIZE, true),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.unmap(root.addr() + 0x20_0000, 4 * PAGE_SIZE, false),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert!(sub.is_alive());
        root.unmap(root.addr() + 0x10_0000, 0x20_0000, true)
            .unwrap();
        assert!(!sub.is_alive());
        assert_eq!(v.mapping_counts().0, 0);
        assert_eq!(
            sub.allocate(ZX_VM_CAN_MAP_READ, 0, PAGE_SIZE).err(),
            Some(ZX_ERR_BAD_STATE)
        );
        assert_eq!(root.unmap(1, PAGE_SIZE, true), Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(root.unmap(root.addr(), 0, true), Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(
            root.unmap(root.addr() + root.size() - PAGE_SIZE, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_INVALID_ARGS)
        );
    });
}

#[test]
fn protect_splits_runs_and_is_all_or_nothing() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 4);
        let a = root
            .map(
                RW | ZX_VM_SPECIFIC,
                0x10_0000,
                &v,
                ALL,
                ALL,
                0,
                4 * PAGE_SIZE,
            )
            .unwrap();
        let b = root
            .map(RW | ZX_VM_SPECIFIC, 0x10_5000, &v, ALL, ALL, 0, PAGE_SIZE)
            .unwrap();
        // A hole between the two mappings: nothing changes.
        assert_eq!(
            root.protect(ZX_VM_PERM_READ, a, b + PAGE_SIZE - a, true),
            Err(ZX_ERR_NOT_FOUND)
        );
        assert!(touch(
            aspace.page_table(),
            a + 3 * PAGE_SIZE,
            MMUFlags::WRITE
        ));
        root.protect(ZX_VM_PERM_READ, a + PAGE_SIZE, PAGE_SIZE, true)
            .unwrap();
        assert!(touch(aspace.page_table(), a, MMUFlags::WRITE));
        assert!(!touch(aspace.page_table(), a + PAGE_SIZE, MMUFlags::WRITE));
        assert!(touch(
            aspace.page_table(),
            a + 2 * PAGE_SIZE,
            MMUFlags::WRITE
        ));
        let maps = aspace.maps();
        let runs: Vec<_> = maps
            .iter()
            .filter(|e| matches!(e.kind, MapsEntryKind::Mapping { .. }))
            .collect();
        assert_eq!(
            runs.len(),
            4,
            "three runs of the first mapping and the second mapping"
        );
        assert_eq!(v.mapping_counts().0, 2);
        root.protect(0, a, PAGE_SIZE, true).unwrap();
        assert!(aspace.page_table().query(a).is_err());
        assert_eq!(aspace.fault(a, MMUFlags::READ), Err(ZX_ERR_ACCESS_DENIED));
    });
}

#[test]
fn shrinking_a_vmo_removes_its_pages_from_mappings() {
    machine(|hal, aspace, root| {
        let v = VmObject::new(hal.clone(), 4 * PAGE_SIZE as u64, ZX_VMO_RESIZABLE).unwrap();
        let addr = root.map(RW, 0, &v, ALL, ALL, 0, 4 * PAGE_SIZE).unwrap();
        for i in 0..4 {
            assert!(touch(
                aspace.page_table(),
                addr + i * PAGE_SIZE,
                MMUFlags::WRITE
            ));
        }
        v.set_size(PAGE_SIZE as u64).unwrap();
        assert!(aspace.page_table().query(addr + PAGE_SIZE).is_err());
        assert_eq!(
            aspace.fault(addr + PAGE_SIZE, MMUFlags::READ),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        v.set_size(2 * PAGE_SIZE as u64).unwrap();
        assert!(touch(aspace.page_table(), addr + PAGE_SIZE, MMUFlags::READ));
        v.decommit(0, 2 * PAGE_SIZE as u64).unwrap();
        assert!(aspace.page_table().query(addr).is_err());
        assert_eq!(v.committed_pages(), 0);
    });
}

#[test]
fn destroy_kills_the_subtree_and_frees_its_range() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 1);
        let sub = root
            .allocate(
                ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_SPECIFIC,
                0x10_0000,
                0x10_0000,
            )
            .unwrap();
        let inner = sub.allocate(ZX_VM_CAN_MAP_READ, 0, 0x1000).unwrap();
        let addr = sub
            .map(RW, 0, &v, ALL, ZX_RIGHT_READ | ZX_RIGHT_WRITE, 0, PAGE_SIZE)
            .unwrap();
        assert!(touch(aspace.page_table(), addr, MMUFlags::WRITE));
        sub.destroy().unwrap();
        assert_eq!(sub.destroy(), Err(ZX_ERR_BAD_STATE));
        assert!(!inner.is_alive());
        assert!(aspace.page_table().query(addr).is_err());
        assert_eq!(v.mapping_counts().0, 0);
        assert_eq!(root.destroy(), Err(ZX_ERR_NOT_SUPPORTED));
        // The range is free again.
        root.allocate(ZX_VM_CAN_MAP_READ | ZX_VM_SPECIFIC, 0x10_0000, 0x10_0000)
            .unwrap();
    });
}

#[test]
fn specific_overwrite_replaces_mappings_but_never_regions() {
    machine(|hal, _, root| {
        let v = vmo(hal, 4);
        let w = vmo(hal, 1);
        let a = root
            .map(
                RW | ZX_VM_SPECIFIC,
                0x10_0000,
                &v,
                ALL,
                ALL,
                0,
                4 * PAGE_SIZE,
            )
            .unwrap();
        let b = root
            .map(
                RW | ZX_VM_SPECIFIC_OVERWRITE,
                0x10_1000,
                &w,
                ALL,
                ALL,
                0,
                PAGE_SIZE,
            )
            .unwrap();
        assert_eq!(b, a + PAGE_SIZE);
        assert_eq!(v.mapping_counts().0, 2);
        root.allocate(ZX_VM_CAN_MAP_READ | ZX_VM_SPECIFIC, 0x20_0000, PAGE_SIZE)
            .unwrap();
        assert_eq!(
            root.map(
                RW | ZX_VM_SPECIFIC_OVERWRITE,
                0x20_0000,
                &w,
                ALL,
                ALL,
                0,
                PAGE_SIZE
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
    });
}

#[test]
fn op_range_commits_maps_and_decommits() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 4);
        let addr = root.map(RW, 0, &v, ALL, ALL, 0, 4 * PAGE_SIZE).unwrap();
        root.op_range(ZX_VMAR_OP_COMMIT, addr, 4 * PAGE_SIZE, true)
            .unwrap();
        assert_eq!(v.committed_pages(), 4);
        assert!(aspace.page_table().query(addr + 3 * PAGE_SIZE).is_ok());
        root.op_range(ZX_VMAR_OP_DECOMMIT, addr, 2 * PAGE_SIZE, true)
            .unwrap();
        assert_eq!(v.committed_pages(), 2);
        assert!(aspace.page_table().query(addr).is_err());
        assert_eq!(
            root.op_range(ZX_VMAR_OP_COMMIT, addr, 5 * PAGE_SIZE, true),
            Err(ZX_ERR_BAD_STATE)
        );
        assert_eq!(
            root.op_range(ZX_VMAR_OP_ZERO, addr, PAGE_SIZE, true),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.op_range(ZX_VMAR_OP_COMMIT, 0, PAGE_SIZE, true),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
    });
}

#[test]
fn maps_report_is_depth_first_in_address_order() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 2);
        crate::object::KernelObjectExt::set_name(&*v, b"data");
        let sub = root
            .allocate(ZX_VM_CAN_MAP_READ | ZX_VM_SPECIFIC, 0x10_0000, 0x10_0000)
            .unwrap();
        sub.map(ZX_VM_PERM_READ, 0, &v, ALL, ZX_RIGHT_READ, 0, 2 * PAGE_SIZE)
            .unwrap();
        root.map(
            ZX_VM_PERM_READ | ZX_VM_SPECIFIC,
            0x1000,
            &v,
            ALL,
            ALL,
            0,
            PAGE_SIZE,
        )
        .unwrap();
        v.commit(0, PAGE_SIZE as u64).unwrap();
        let maps = aspace.maps();
        let depths: Vec<usize> = maps.iter().map(|e| e.depth).collect();
        assert_eq!(depths, vec![0, 1, 2, 2, 3]);
        assert_eq!(maps[2].base, root.addr() + 0x1000);
        assert_eq!(maps[4].name.as_bytes(), b"data");
        assert!(matches!(
            maps[4].kind,
            MapsEntryKind::Mapping {
                committed_pages: 1,
                ..
            }
        ));
        assert_eq!(aspace.mapped_vmos().len(), 2);
    });
}

#[test]
fn read_faults_show_zeros_without_committing_and_stay_coherent() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 2);
        let addr = root.map(RW, 0, &v, ALL, ALL, 0, 2 * PAGE_SIZE).unwrap();
        let pt = aspace.page_table();
        assert!(touch(pt, addr, MMUFlags::READ));
        assert_eq!(v.committed_pages(), 0);
        assert!(!pt.query(addr).unwrap().flags.contains(MMUFlags::WRITE));
        // A write through the VMO takes the zero translation away...
        v.write(0, b"abc").unwrap();
        assert!(pt.query(addr).is_err());
        // ...so the next access maps the real page.
        assert!(touch(pt, addr, MMUFlags::READ));
        let mut bytes = [0u8; 3];
        hal.read(pt.query(addr).unwrap().paddr, &mut bytes).unwrap();
        assert_eq!(&bytes, b"abc");
        // Raising a zero-mapped page to writable never makes the zero frame writable.
        assert!(touch(pt, addr + PAGE_SIZE, MMUFlags::READ));
        let zero = pt.query(addr + PAGE_SIZE).unwrap().paddr;
        root.protect(RW, addr + PAGE_SIZE, PAGE_SIZE, true).unwrap();
        assert!(pt.query(addr + PAGE_SIZE).is_err());
        assert!(touch(pt, addr + PAGE_SIZE, MMUFlags::WRITE));
        assert_ne!(pt.query(addr + PAGE_SIZE).unwrap().paddr, zero);
        assert_eq!(v.committed_pages(), 2);
        let mut z = [0xffu8; 8];
        hal.read(zero, &mut z).unwrap();
        assert_eq!(z, [0; 8]);
    });
}

#[test]
fn uncached_vmos_are_reached_through_mappings_but_not_byte_io() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 1);
        v.set_cache_policy(kernel_hal::CachePolicy::Uncached)
            .unwrap();
        assert_eq!(v.write(0, b"x"), Err(ZX_ERR_BAD_STATE));
        let addr = root.map(RW, 0, &v, ALL, ALL, 0, PAGE_SIZE).unwrap();
        aspace.write_user(addr, b"dev").unwrap();
        let mut b = [0u8; 3];
        aspace.read_user(addr, &mut b).unwrap();
        assert_eq!(&b, b"dev");
        assert_eq!(
            v.set_cache_policy(kernel_hal::CachePolicy::Cached),
            Err(ZX_ERR_BAD_STATE)
        );
    });
}

#[test]
fn crowded_random_regions_still_find_their_last_holes() {
    machine(|hal, _, root| {
        let r = root
            .allocate(ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, 0, 64 * PAGE_SIZE)
            .unwrap();
        let rights = r.default_rights();
        let v = vmo(hal, 2);
        let mut addrs: Vec<usize> = (0..64)
            .map(|_| r.map(RW, 0, &v, ALL, rights, 0, PAGE_SIZE).unwrap())
            .collect();
        assert_eq!(
            r.map(RW, 0, &v, ALL, rights, 0, PAGE_SIZE),
            Err(ZX_ERR_NO_RESOURCES)
        );
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(addrs.len(), 64);
        assert!(addrs
            .iter()
            .all(|&a| a >= r.addr() && a < r.addr() + r.size()));
        // Free every other page: one-page requests fit again, two-page ones never.
        for &a in addrs.iter().step_by(2) {
            r.unmap(a, PAGE_SIZE, false).unwrap();
        }
        assert_eq!(
            r.map(RW, 0, &v, ALL, rights, 0, 2 * PAGE_SIZE),
            Err(ZX_ERR_NO_RESOURCES)
        );
        for _ in 0..32 {
            r.map(RW, 0, &v, ALL, rights, 0, PAGE_SIZE).unwrap();
        }
        assert_eq!(
            r.map(RW, 0, &v, ALL, rights, 0, PAGE_SIZE),
            Err(ZX_ERR_NO_RESOURCES)
        );
        // Freeing two neighbours makes room for exactly one two-page mapping.
        r.unmap(addrs[10], 2 * PAGE_SIZE, false).unwrap();
        assert_eq!(
            r.map(RW, 0, &v, ALL, rights, 0, 2 * PAGE_SIZE),
            Ok(addrs[10])
        );
    });
}

#[test]
fn translations_go_even_when_the_page_table_cannot_split() {
    let model = ModelHal::new(256);
    model
        .refuse_splits
        .store(true, core::sync::atomic::Ordering::Relaxed);
    let hal: Arc<dyn Hal> = model.clone();
    {
        let aspace = AddressSpace::new(hal.clone()).unwrap();
        let root = aspace.root_vmar();
        let pt = aspace.page_table();
        let v = vmo(&hal, 4);
        let a = root.map(RW, 0, &v, ALL, ALL, 0, 4 * PAGE_SIZE).unwrap();
        for i in 0..4 {
            assert!(touch(pt, a + i * PAGE_SIZE, MMUFlags::WRITE));
        }
        // Protecting one page read-only cannot be done exactly: the translations go
        // instead, and the page faults back in read-only.
        root.protect(ZX_VM_PERM_READ, a + PAGE_SIZE, PAGE_SIZE, true)
            .unwrap();
        assert!(!touch(pt, a + PAGE_SIZE, MMUFlags::WRITE));
        assert!(touch(pt, a + PAGE_SIZE, MMUFlags::READ));
        // Unmapping one page removes its translation, whatever else goes with it.
        root.unmap(a + 2 * PAGE_SIZE, PAGE_SIZE, true).unwrap();
        assert!(pt.query(a + 2 * PAGE_SIZE).is_err());
        assert!(!touch(pt, a + 2 * PAGE_SIZE, MMUFlags::READ));
        // The rest of the mapping faults back in with its own data.
        v.write(3 * PAGE_SIZE as u64, b"kept").unwrap();
        let mut b = [0u8; 4];
        assert!(touch(pt, a + 3 * PAGE_SIZE, MMUFlags::READ));
        hal.read(pt.query(a + 3 * PAGE_SIZE).unwrap().paddr, &mut b)
            .unwrap();
        assert_eq!(&b, b"kept");
    }
    assert_eq!(model.free_count(), model.total_count());
}

#[test]
fn op_range_reports_the_first_failure_in_address_order() {
    machine(|hal, _, root| {
        let v = vmo(hal, 2);
        let ro = ZX_RIGHT_READ | ZX_RIGHT_MAP;
        let a = root
            .map(
                ZX_VM_PERM_READ | ZX_VM_SPECIFIC,
                0x10_0000,
                &v,
                ro,
                ALL,
                0,
                PAGE_SIZE,
            )
            .unwrap();
        // [read-only mapping][gap]: the mapping's refusal comes before the gap.
        assert_eq!(
            root.op_range(ZX_VMAR_OP_COMMIT, a, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        // [gap][read-only mapping]: the gap comes first.
        assert_eq!(
            root.op_range(ZX_VMAR_OP_COMMIT, a - PAGE_SIZE, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_BAD_STATE)
        );
        // [writable mapping][gap]: the first piece is committed before the gap is met.
        let w = root
            .map(
                RW | ZX_VM_SPECIFIC,
                0x20_0000,
                &v,
                ALL,
                ALL,
                PAGE_SIZE as u64,
                PAGE_SIZE,
            )
            .unwrap();
        assert_eq!(
            root.op_range(ZX_VMAR_OP_COMMIT, w, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_BAD_STATE)
        );
        assert_eq!(v.committed_pages(), 1);
    });
}
