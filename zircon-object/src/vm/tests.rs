//! Unit tests of VMOs and the VMAR tree, over the model HAL. Every test ends by
//! dropping its objects and checking that every frame is free again. With the
//! `guest-tests` feature the HAL-generic ones are built into the library too, for
//! an embedder to run on its own machine (`crate::guest`).
#![cfg_attr(not(test), allow(dead_code, unused_imports))]

use super::*;
use crate::abi::*;
use crate::testing::{touch, ModelHal};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use kernel_hal::{Hal, MMUFlags, PhysMem, PAGE_SIZE};

const RW: VmPerms = VmPerms::READ_WRITE;

#[cfg(test)]
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

/// Runs `f` once over the machine the embedder passed to `crate::guest::run`, and
/// checks that every frame it took is free again afterwards.
#[cfg(not(test))]
pub(super) fn machine(f: impl Fn(&Arc<dyn Hal>, &Arc<AddressSpace>, &Arc<VmAddressRegion>)) {
    let hal = crate::guest::hal();
    let free = hal.free_count();
    {
        let aspace = AddressSpace::new(hal.clone()).unwrap();
        let root = aspace.root_vmar();
        f(&hal, &aspace, &root);
    }
    assert_eq!(hal.free_count(), free, "frames leaked");
}

pub(super) fn vmo(hal: &Arc<dyn Hal>, pages: usize) -> Arc<VmObject> {
    VmObject::new(hal.clone(), (pages * PAGE_SIZE) as u64, VmoOptions::empty()).unwrap()
}

#[cfg_attr(test, test)]
fn fresh_vmo_reads_zeros_and_commits_nothing() {
    machine(|hal, _, _| {
        let v = VmObject::new(hal.clone(), 10_000, VmoOptions::empty()).unwrap();
        assert_eq!(v.size(), 3 * PAGE_SIZE);
        assert_eq!(v.content_size(), 10_000);
        let mut buf = vec![0xffu8; 5000];
        v.read(100, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        assert_eq!(v.committed_pages(), 0);
    });
}

#[cfg_attr(test, test)]
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

#[cfg_attr(test, test)]
fn creation_rejects_unknown_options_and_huge_sizes() {
    machine(|hal, _, _| {
        assert_eq!(
            VmObject::new(hal.clone(), u64::MAX, VmoOptions::empty()).err(),
            Some(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(
            VmObject::new(hal.clone(), 0, VmoOptions::empty())
                .unwrap()
                .size(),
            0
        );
    });
}

#[cfg_attr(test, test)]
fn resize_shrinks_frees_and_grows_zeroed() {
    machine(|hal, _, _| {
        let fixed = vmo(hal, 1);
        assert_eq!(fixed.set_size(0), Err(ZX_ERR_UNAVAILABLE));
        let v = VmObject::new(hal.clone(), 4 * PAGE_SIZE as u64, VmoOptions::RESIZABLE).unwrap();
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

#[cfg_attr(test, test)]
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

#[cfg_attr(test, test)]
fn allocate_places_specific_compact_and_random_regions() {
    machine(|_, _, root| {
        let a = root
            .allocate(&AllocateRequest {
                placement: Placement::At(0x10_0000),
                ..AllocateRequest::new(0x4000, VmPerms::READ_WRITE)
            })
            .unwrap();
        assert_eq!(a.addr(), root.addr() + 0x10_0000);
        assert_eq!(
            root.allocate(&AllocateRequest {
                placement: Placement::At(0x10_2000),
                ..AllocateRequest::new(0x4000, VmPerms::READ_WRITE)
            })
            .err(),
            Some(ZX_ERR_ALREADY_EXISTS)
        );
        assert_eq!(
            root.allocate(&AllocateRequest::new(0x1001, VmPerms::READ_WRITE))
                .err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.allocate(&AllocateRequest {
                placement: Placement::At(0x1800),
                ..AllocateRequest::new(0x1000, VmPerms::READ_WRITE)
            })
            .err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.allocate(&AllocateRequest::new(
                root.size() + PAGE_SIZE,
                VmPerms::READ_WRITE
            ))
            .err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        let compact = root
            .allocate(&AllocateRequest {
                compact: true,
                ..AllocateRequest::new(0x10_0000, VmPerms::READ_WRITE)
            })
            .unwrap();
        let c1 = compact
            .allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(0x1000, VmPerms::READ)
            })
            .unwrap();
        let c2 = compact
            .allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(0x1000, VmPerms::READ)
            })
            .unwrap();
        assert_eq!(c1.addr(), compact.addr());
        assert_eq!(c2.addr(), compact.addr() + 0x1000);
        assert_eq!(
            compact
                .allocate(&AllocateRequest {
                    can_map_specific: false,
                    ..AllocateRequest::new(0x1000, VmPerms::EXECUTE)
                })
                .err(),
            Some(ZX_ERR_ACCESS_DENIED)
        );
        let aligned = root
            .allocate(&AllocateRequest {
                align: 1 << 20,
                ..AllocateRequest::new(0x1000, VmPerms::READ_WRITE)
            })
            .unwrap();
        assert_eq!(aligned.addr() % (1 << 20), 0);
        let limited = root
            .allocate(&AllocateRequest {
                placement: Placement::Below(0x20_0000),
                ..AllocateRequest::new(0x1000, VmPerms::READ_WRITE)
            })
            .unwrap();
        assert!(limited.addr() + 0x1000 <= root.addr() + 0x20_0000);
        // Random placements never overlap.
        let mut regions: Vec<Arc<VmAddressRegion>> = Vec::new();
        for _ in 0..200 {
            regions.push(
                root.allocate(&AllocateRequest::new(0x3000, VmPerms::READ_WRITE))
                    .unwrap(),
            );
        }
        let mut spans: Vec<(usize, usize)> = regions.iter().map(|r| (r.addr(), r.size())).collect();
        spans.sort();
        assert!(spans.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0));
    });
}

#[cfg_attr(test, test)]
fn a_full_region_answers_no_resources() {
    machine(|_, _, root| {
        let r = root
            .allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(0x4000, VmPerms::READ)
            })
            .unwrap();
        for _ in 0..4 {
            r.allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(0x1000, VmPerms::READ)
            })
            .unwrap();
        }
        assert_eq!(
            r.allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(0x1000, VmPerms::READ)
            })
            .err(),
            Some(ZX_ERR_NO_RESOURCES)
        );
    });
}

#[cfg_attr(test, test)]
fn mapped_pages_fault_in_with_the_mapping_permissions() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 4);
        v.write(0, b"hello").unwrap();
        let addr = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 6 * PAGE_SIZE, VmPerms::READ)
                },
            )
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
        root.protect(VmPerms::READ_WRITE, addr, PAGE_SIZE, true)
            .unwrap();
        assert!(touch(pt, addr, MMUFlags::WRITE));
        assert_eq!(
            root.protect(
                VmPerms::READ | VmPerms::WRITE | VmPerms::EXECUTE,
                addr,
                PAGE_SIZE,
                true
            ),
            Ok(())
        );
        let v2 = vmo(hal, 1);
        let ro = root
            .map(&v2, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ))
            .unwrap();
        assert_eq!(
            root.protect(VmPerms::READ_WRITE, ro, PAGE_SIZE, true),
            Err(ZX_ERR_ACCESS_DENIED)
        );
    });
}

#[cfg_attr(test, test)]
fn map_checks_rights_and_options() {
    machine(|hal, _, root| {
        let v = vmo(hal, 1);
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::READ | VmPerms::EXECUTE,
                    ..MapRequest::new(0, PAGE_SIZE, RW)
                }
            ),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::WRITE)
                }
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::READ,
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
                }
            ),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 0, VmPerms::READ_WRITE)
                }
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(1, PAGE_SIZE, VmPerms::READ_WRITE)
                }
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, usize::MAX, VmPerms::READ_WRITE)
                }
            ),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    align: 3 * PAGE_SIZE,
                    ..MapRequest::new(0, PAGE_SIZE, RW)
                }
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            root.map(
                &v,
                &MapRequest {
                    populate: true,
                    placement: Placement::Replace(0),
                    ..MapRequest::new(0, PAGE_SIZE, RW)
                }
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(v.mapping_counts().0, 0);
    });
}

#[cfg_attr(test, test)]
fn unmap_trims_splits_and_refuses_to_cut_regions() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 8);
        let addr = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::At(0x10_0000),
                    ..MapRequest::new(0, 8 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
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
            .allocate(&AllocateRequest {
                can_map_specific: false,
                placement: Placement::At(0x20_0000),
                ..AllocateRequest::new(4 * PAGE_SIZE, VmPerms::READ)
            })
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
            sub.allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(PAGE_SIZE, VmPerms::READ)
            })
            .err(),
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

#[cfg_attr(test, test)]
fn protect_splits_runs_and_is_all_or_nothing() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 4);
        let a = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::At(0x10_0000),
                    ..MapRequest::new(0, 4 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        let b = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::At(0x10_5000),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        // A hole between the two mappings: nothing changes.
        assert_eq!(
            root.protect(VmPerms::READ, a, b + PAGE_SIZE - a, true),
            Err(ZX_ERR_NOT_FOUND)
        );
        assert!(touch(
            aspace.page_table(),
            a + 3 * PAGE_SIZE,
            MMUFlags::WRITE
        ));
        root.protect(VmPerms::READ, a + PAGE_SIZE, PAGE_SIZE, true)
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
        root.protect(VmPerms::empty(), a, PAGE_SIZE, true).unwrap();
        assert!(aspace.page_table().query(a).is_err());
        assert_eq!(aspace.fault(a, MMUFlags::READ), Err(ZX_ERR_ACCESS_DENIED));
    });
}

#[cfg_attr(test, test)]
fn shrinking_a_vmo_removes_its_pages_from_mappings() {
    machine(|hal, aspace, root| {
        let v = VmObject::new(hal.clone(), 4 * PAGE_SIZE as u64, VmoOptions::RESIZABLE).unwrap();
        let addr = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 4 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
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

#[cfg_attr(test, test)]
fn destroy_kills_the_subtree_and_frees_its_range() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 1);
        let sub = root
            .allocate(&AllocateRequest {
                can_map_specific: false,
                placement: Placement::At(0x10_0000),
                ..AllocateRequest::new(0x10_0000, VmPerms::READ_WRITE)
            })
            .unwrap();
        let inner = sub
            .allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(0x1000, VmPerms::READ)
            })
            .unwrap();
        let addr = sub
            .map(&v, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
            .unwrap();
        assert!(touch(aspace.page_table(), addr, MMUFlags::WRITE));
        sub.destroy().unwrap();
        assert_eq!(sub.destroy(), Err(ZX_ERR_BAD_STATE));
        assert!(!inner.is_alive());
        assert!(aspace.page_table().query(addr).is_err());
        assert_eq!(v.mapping_counts().0, 0);
        assert_eq!(root.destroy(), Err(ZX_ERR_NOT_SUPPORTED));
        // The range is free again.
        root.allocate(&AllocateRequest {
            can_map_specific: false,
            placement: Placement::At(0x10_0000),
            ..AllocateRequest::new(0x10_0000, VmPerms::READ)
        })
        .unwrap();
    });
}

#[cfg_attr(test, test)]
fn specific_overwrite_replaces_mappings_but_never_regions() {
    machine(|hal, _, root| {
        let v = vmo(hal, 4);
        let w = vmo(hal, 1);
        let a = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::At(0x10_0000),
                    ..MapRequest::new(0, 4 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        let b = root
            .map(
                &w,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::Replace(0x10_1000),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        assert_eq!(b, a + PAGE_SIZE);
        assert_eq!(v.mapping_counts().0, 2);
        root.allocate(&AllocateRequest {
            can_map_specific: false,
            placement: Placement::At(0x20_0000),
            ..AllocateRequest::new(PAGE_SIZE, VmPerms::READ)
        })
        .unwrap();
        assert_eq!(
            root.map(
                &w,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::Replace(0x20_0000),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
                }
            ),
            Err(ZX_ERR_INVALID_ARGS)
        );
    });
}

#[cfg_attr(test, test)]
fn op_range_commits_maps_and_decommits() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 4);
        let addr = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 4 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        root.op_range(VmarOp::Commit, addr, 4 * PAGE_SIZE, true)
            .unwrap();
        assert_eq!(v.committed_pages(), 4);
        assert!(aspace.page_table().query(addr + 3 * PAGE_SIZE).is_ok());
        root.op_range(VmarOp::Decommit, addr, 2 * PAGE_SIZE, true)
            .unwrap();
        assert_eq!(v.committed_pages(), 2);
        assert!(aspace.page_table().query(addr).is_err());
        assert_eq!(
            root.op_range(VmarOp::Commit, addr, 5 * PAGE_SIZE, true),
            Err(ZX_ERR_BAD_STATE)
        );
        assert_eq!(
            root.op_range(VmarOp::Commit, 0, PAGE_SIZE, true),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
    });
}

#[cfg_attr(test, test)]
fn maps_report_is_depth_first_in_address_order() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 2);
        crate::object::KernelObjectExt::set_name(&*v, b"data");
        let sub = root
            .allocate(&AllocateRequest {
                can_map_specific: false,
                placement: Placement::At(0x10_0000),
                ..AllocateRequest::new(0x10_0000, VmPerms::READ)
            })
            .unwrap();
        sub.map(&v, &MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ))
            .unwrap();
        root.map(
            &v,
            &MapRequest {
                max_perms: VmPerms::all(),
                placement: Placement::At(0x1000),
                ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ)
            },
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

#[cfg_attr(test, test)]
fn read_faults_show_zeros_without_committing_and_stay_coherent() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 2);
        let addr = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
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
        root.protect(VmPerms::READ_WRITE, addr + PAGE_SIZE, PAGE_SIZE, true)
            .unwrap();
        assert!(pt.query(addr + PAGE_SIZE).is_err());
        assert!(touch(pt, addr + PAGE_SIZE, MMUFlags::WRITE));
        assert_ne!(pt.query(addr + PAGE_SIZE).unwrap().paddr, zero);
        assert_eq!(v.committed_pages(), 2);
        let mut z = [0xffu8; 8];
        hal.read(zero, &mut z).unwrap();
        assert_eq!(z, [0; 8]);
    });
}

#[cfg_attr(test, test)]
fn uncached_vmos_are_reached_through_mappings_but_not_byte_io() {
    machine(|hal, aspace, root| {
        let v = vmo(hal, 1);
        v.set_cache_policy(kernel_hal::CachePolicy::Uncached)
            .unwrap();
        assert_eq!(v.write(0, b"x"), Err(ZX_ERR_BAD_STATE));
        let addr = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
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

#[cfg_attr(test, test)]
fn crowded_random_regions_still_find_their_last_holes() {
    machine(|hal, _, root| {
        let r = root
            .allocate(&AllocateRequest {
                can_map_specific: false,
                ..AllocateRequest::new(64 * PAGE_SIZE, VmPerms::READ_WRITE)
            })
            .unwrap();
        let v = vmo(hal, 2);
        let mut addrs: Vec<usize> = (0..64)
            .map(|_| r.map(&v, &MapRequest::new(0, PAGE_SIZE, RW)).unwrap())
            .collect();
        assert_eq!(
            r.map(&v, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)),
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
            r.map(&v, &MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)),
            Err(ZX_ERR_NO_RESOURCES)
        );
        for _ in 0..32 {
            r.map(&v, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
                .unwrap();
        }
        assert_eq!(
            r.map(&v, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)),
            Err(ZX_ERR_NO_RESOURCES)
        );
        // Freeing two neighbours makes room for exactly one two-page mapping.
        r.unmap(addrs[10], 2 * PAGE_SIZE, false).unwrap();
        assert_eq!(
            r.map(&v, &MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)),
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
        let a = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 4 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        for i in 0..4 {
            assert!(touch(pt, a + i * PAGE_SIZE, MMUFlags::WRITE));
        }
        // Protecting one page read-only cannot be done exactly: the translations go
        // instead, and the page faults back in read-only.
        root.protect(VmPerms::READ, a + PAGE_SIZE, PAGE_SIZE, true)
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

#[cfg_attr(test, test)]
fn op_range_reports_the_first_failure_in_address_order() {
    machine(|hal, _, root| {
        let v = vmo(hal, 2);
        let a = root
            .map(
                &v,
                &MapRequest {
                    placement: Placement::At(0x10_0000),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ)
                },
            )
            .unwrap();
        // [read-only mapping][gap]: the mapping's refusal comes before the gap.
        assert_eq!(
            root.op_range(VmarOp::Commit, a, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        // [gap][read-only mapping]: the gap comes first.
        assert_eq!(
            root.op_range(VmarOp::Commit, a - PAGE_SIZE, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_BAD_STATE)
        );
        // [writable mapping][gap]: the first piece is committed before the gap is met.
        let w = root
            .map(
                &v,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    placement: Placement::At(0x20_0000),
                    ..MapRequest::new(PAGE_SIZE as u64, PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        assert_eq!(
            root.op_range(VmarOp::Commit, w, 2 * PAGE_SIZE, true),
            Err(ZX_ERR_BAD_STATE)
        );
        assert_eq!(v.committed_pages(), 1);
    });
}

#[cfg_attr(test, test)]
fn a_lock_is_kept_only_once_reported_and_a_dropped_one_undoes_only_itself() {
    machine(|hal, _, _| {
        let v = VmObject::new(hal.clone(), PAGE_SIZE as u64, VmoOptions::DISCARDABLE).unwrap();
        let size = PAGE_SIZE as u64;
        let taken = v.lock_range(0, size).unwrap();
        assert_eq!((taken.state().offset, taken.state().size), (0, size));
        drop(taken);
        assert_eq!(v.unlock_range(0, size), Err(ZX_ERR_BAD_STATE), "undone");
        v.lock_range(0, size).unwrap().keep();
        // A second lock whose report is lost leaves the first one in place.
        drop(v.lock_range(0, size).unwrap());
        assert_eq!(v.unlock_range(0, size), Ok(()));
        assert_eq!(v.unlock_range(0, size), Err(ZX_ERR_BAD_STATE));
    });
}

/// The tests above that run on any HAL, by name, for an embedder to run on its own
/// machine (`crate::guest`).
#[cfg(all(feature = "guest-tests", not(test)))]
pub(crate) const HAL_GENERIC_TESTS: &[(&str, fn())] = &crate::named_tests![
    fresh_vmo_reads_zeros_and_commits_nothing,
    write_commits_only_the_pages_it_touches,
    creation_rejects_unknown_options_and_huge_sizes,
    resize_shrinks_frees_and_grows_zeroed,
    commit_decommit_and_zero_work_on_ranges,
    allocate_places_specific_compact_and_random_regions,
    a_full_region_answers_no_resources,
    mapped_pages_fault_in_with_the_mapping_permissions,
    map_checks_rights_and_options,
    unmap_trims_splits_and_refuses_to_cut_regions,
    protect_splits_runs_and_is_all_or_nothing,
    shrinking_a_vmo_removes_its_pages_from_mappings,
    destroy_kills_the_subtree_and_frees_its_range,
    specific_overwrite_replaces_mappings_but_never_regions,
    op_range_commits_maps_and_decommits,
    maps_report_is_depth_first_in_address_order,
    read_faults_show_zeros_without_committing_and_stay_coherent,
    uncached_vmos_are_reached_through_mappings_but_not_byte_io,
    crowded_random_regions_still_find_their_last_holes,
    op_range_reports_the_first_failure_in_address_order,
];

#[test]
fn a_write_into_recycled_frames_shows_zeros_around_it_and_its_bytes_whole() {
    machine(|hal, _, _| {
        // Dirty frames go back to the HAL, then a fresh VMO gets them again.
        let dirty = VmObject::new(hal.clone(), 8 * PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
        dirty.write(0, &vec![0xee; 8 * PAGE_SIZE]).unwrap();
        drop(dirty);
        let vmo = VmObject::new(hal.clone(), 8 * PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
        let (at, len) = (PAGE_SIZE / 2 + 3, 5 * PAGE_SIZE);
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
        vmo.write(at as u64, &data).unwrap();
        let mut back = vec![0xffu8; 8 * PAGE_SIZE];
        vmo.read(0, &mut back).unwrap();
        assert!(back[..at].iter().all(|&b| b == 0), "zeros before the write");
        assert_eq!(&back[at..at + len], &data[..]);
        assert!(
            back[at + len..].iter().all(|&b| b == 0),
            "zeros after the write"
        );
    });
}

#[test]
fn a_read_across_committed_and_uncommitted_runs_sees_each_in_place() {
    machine(|hal, _, _| {
        let vmo = VmObject::new(hal.clone(), 6 * PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
        vmo.write(PAGE_SIZE as u64, &[1; PAGE_SIZE]).unwrap();
        vmo.write(4 * PAGE_SIZE as u64 - 1, &[2, 2]).unwrap();
        let mut back = vec![0xffu8; 6 * PAGE_SIZE - 10];
        vmo.read(5, &mut back).unwrap();
        let expect = |i: usize| match i + 5 {
            x if (PAGE_SIZE..2 * PAGE_SIZE).contains(&x) => 1,
            x if x == 4 * PAGE_SIZE - 1 || x == 4 * PAGE_SIZE => 2,
            _ => 0,
        };
        assert!(back.iter().enumerate().all(|(i, &b)| b == expect(i)));
        assert_eq!(vmo.committed_pages(), 3);
    });
}

#[test]
fn copies_between_a_vmo_and_user_memory_move_holes_as_zeros_and_work_within_one_vmo() {
    machine(|hal, aspace, root| {
        let len = 6 * PAGE_SIZE;
        let user = VmObject::new(hal.clone(), len as u64, VmoOptions::empty()).unwrap();
        let addr = root
            .map(&user, &MapRequest::new(0, len, VmPerms::READ_WRITE))
            .unwrap();
        user.write(0, &vec![0xaa; len]).unwrap();
        // A source with a committed page between holes, read at an odd offset.
        let src = VmObject::new(hal.clone(), len as u64, VmoOptions::empty()).unwrap();
        src.write(2 * PAGE_SIZE as u64, &[7; PAGE_SIZE]).unwrap();
        aspace.copy_to_user(addr + 5, &src, 3, len - 8).unwrap();
        let mut back = vec![0u8; len];
        aspace.read_user(addr, &mut back).unwrap();
        let expect = |i: usize| match i {
            i if i < 5 || i >= len - 3 => 0xaa,
            i if (2 * PAGE_SIZE..3 * PAGE_SIZE).contains(&(i - 5 + 3)) => 7,
            _ => 0,
        };
        assert!(back.iter().enumerate().all(|(i, &b)| b == expect(i)));
        assert_eq!(src.committed_pages(), 1, "reading commits nothing");
        // User memory back into a fresh VMO, and within the mapped VMO itself.
        let dst = VmObject::new(hal.clone(), len as u64, VmoOptions::empty()).unwrap();
        aspace.copy_from_user(addr, &dst, 0, len).unwrap();
        let mut again = vec![0u8; len];
        dst.read(0, &mut again).unwrap();
        assert_eq!(again, back);
        aspace
            .copy_from_user(addr + 2 * PAGE_SIZE + 5, &user, 0, 10)
            .unwrap();
        let mut head = [0u8; 10];
        user.read(0, &mut head).unwrap();
        assert_eq!(head, [7; 10]);
        // A range past the user mapping's end copies nothing.
        assert_eq!(
            aspace.copy_to_user(addr + PAGE_SIZE, &src, 0, len),
            Err(ZX_ERR_NOT_FOUND)
        );
        root.unmap(addr, len, false).unwrap();
    });
}

#[cfg_attr(test, test)]
fn small_user_copies_see_every_change_to_the_page_behind_them() {
    machine(|hal, aspace, root| {
        let (a, b) = (vmo(hal, 1), vmo(hal, 1));
        let addr = root.map(&a, &MapRequest::new(0, PAGE_SIZE, RW)).unwrap();
        let offset = addr - root.addr();
        let mut word = [0u8; 4];
        aspace.write_user(addr + 8, &[1; 4]).unwrap();
        // Protection taken away: the next write is refused, a read still works.
        root.protect(VmPerms::READ, addr, PAGE_SIZE, false).unwrap();
        assert_eq!(
            aspace.write_user(addr + 8, &[9; 4]),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        aspace.read_user(addr + 8, &mut word).unwrap();
        assert_eq!(word, [1; 4]);
        // Unmapped: nothing there.
        root.unmap(addr, PAGE_SIZE, false).unwrap();
        assert_eq!(aspace.write_user(addr + 8, &[9; 4]), Err(ZX_ERR_NOT_FOUND));
        assert_eq!(aspace.read_user(addr + 8, &mut word), Err(ZX_ERR_NOT_FOUND));
        // Another VMO at the same address gets the next write.
        let request = MapRequest {
            placement: Placement::At(offset),
            ..MapRequest::new(0, PAGE_SIZE, RW)
        };
        assert_eq!(root.map(&b, &request), Ok(addr));
        aspace.write_user(addr + 8, &[2; 4]).unwrap();
        b.read(8, &mut word).unwrap();
        assert_eq!(word, [2; 4]);
        a.read(8, &mut word).unwrap();
        assert_eq!(word, [1; 4]);
        // A snapshot shares the page: the next write goes to a private copy.
        let child = b
            .create_snapshot(0, PAGE_SIZE as u64, false, false)
            .unwrap();
        aspace.write_user(addr + 8, &[3; 4]).unwrap();
        child.read(8, &mut word).unwrap();
        assert_eq!(word, [2; 4]);
        b.read(8, &mut word).unwrap();
        assert_eq!(word, [3; 4]);
        // Decommitted behind the mapping's back: the write commits a fresh page.
        drop(child);
        b.decommit(0, PAGE_SIZE as u64).unwrap();
        aspace.write_user(addr + 8, &[4; 4]).unwrap();
        b.read(0, &mut word).unwrap();
        assert_eq!(word, [0; 4]);
        b.read(8, &mut word).unwrap();
        assert_eq!(word, [4; 4]);
        // Once unmapped, nothing keeps the VMO: its last holder frees its page.
        root.unmap(addr, PAGE_SIZE, false).unwrap();
        let free = hal.free_count();
        drop(b);
        assert_eq!(hal.free_count(), free + 1);
    });
}
