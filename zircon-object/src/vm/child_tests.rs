//! Unit tests of VMO children (snapshots, slices and references), over the three machines of
//! [`machine`]. Each machine checks at the end that every frame is free again, so
//! every test also proves that shared frames are freed exactly once.
#![cfg_attr(not(test), allow(dead_code, unused_imports))]

use super::tests::{machine, vmo};
use super::*;
use crate::abi::*;
use crate::testing::touch;
use alloc::sync::Arc;
use kernel_hal::{Hal, MMUFlags, PagingError, PAGE_SIZE};

const P: u64 = PAGE_SIZE as u64;

/// A load through the page table, as the CPU would do it: faults the page in if
/// needed, then reads the frame the translation names.
fn load(hal: &Arc<dyn Hal>, aspace: &AddressSpace, addr: usize) -> u8 {
    let pt = aspace.page_table();
    assert!(touch(pt, addr, MMUFlags::READ), "load at {addr:#x} faulted");
    let t = pt.query(addr).unwrap();
    let mut b = [0u8];
    hal.read(t.paddr, &mut b).unwrap();
    b[0]
}

/// A store through the page table: faults until the translation is writable, then
/// writes the frame it names.
fn store(hal: &Arc<dyn Hal>, aspace: &AddressSpace, addr: usize, value: u8) {
    let pt = aspace.page_table();
    assert!(
        touch(pt, addr, MMUFlags::WRITE),
        "store at {addr:#x} faulted"
    );
    let t = pt.query(addr).unwrap();
    assert!(t.flags.contains(MMUFlags::WRITE));
    hal.write(t.paddr, &[value]).unwrap();
}

fn byte(v: &VmObject, offset: u64) -> u8 {
    let mut b = [0u8];
    v.read(offset, &mut b).unwrap();
    b[0]
}

#[cfg_attr(test, test)]
fn snapshot_shares_frames_and_copies_only_what_is_written() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 4);
        for i in 0..3u8 {
            parent.write(i as u64 * P, &[i + 1]).unwrap();
        }
        let free = hal.free_count();
        let child = parent.create_snapshot(0, 4 * P, false, false).unwrap();
        assert_eq!(hal.free_count(), free, "creating a snapshot copied frames");
        assert_eq!(child.committed_pages(), 3);
        assert_eq!(
            (byte(&child, 0), byte(&child, P), byte(&child, 2 * P)),
            (1, 2, 3)
        );
        child.write(0, &[10]).unwrap();
        assert_eq!(hal.free_count(), free - 1);
        parent.write(P, &[20]).unwrap();
        assert_eq!(hal.free_count(), free - 2);
        assert_eq!((byte(&parent, 0), byte(&parent, P)), (1, 20));
        assert_eq!((byte(&child, 0), byte(&child, P)), (10, 2));
        // A page uncommitted in the parent at creation stays independent.
        parent.write(3 * P, &[7]).unwrap();
        assert_eq!(byte(&child, 3 * P), 0);
        // Closing the parent first leaves the child whole.
        drop(parent);
        assert_eq!(
            (byte(&child, 0), byte(&child, P), byte(&child, 2 * P)),
            (10, 2, 3)
        );
    });
}

#[cfg_attr(test, test)]
fn the_last_holder_of_a_shared_frame_takes_it_without_a_copy() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 2);
        parent.write(0, b"ab").unwrap();
        let child = parent.create_snapshot(0, 2 * P, false, false).unwrap();
        drop(child);
        let free = hal.free_count();
        parent.write(1, b"z").unwrap();
        assert_eq!(
            hal.free_count(),
            free,
            "the sole holder copied its own frame"
        );
        let mut buf = [0u8; 2];
        parent.read(0, &mut buf).unwrap();
        assert_eq!(&buf, b"az");
    });
}

#[cfg_attr(test, test)]
fn snapshot_past_the_parent_end_reads_zeros_and_is_private() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 2);
        parent.write(P, &[5]).unwrap();
        let child = parent.create_snapshot(P, 3 * P, false, false).unwrap();
        assert_eq!(child.size(), 3 * PAGE_SIZE);
        assert_eq!((byte(&child, 0), byte(&child, P)), (5, 0));
        child.write(2 * P, &[9]).unwrap();
        assert_eq!(byte(&child, 2 * P), 9);
        // Entirely past the end: nothing shared at all.
        let far = parent.create_snapshot(8 * P, P, false, false).unwrap();
        assert_eq!(far.committed_pages(), 0);
        assert_eq!(byte(&far, 0), 0);
    });
}

#[cfg_attr(test, test)]
fn snapshots_of_snapshots_stay_isolated_whatever_closes_first() {
    machine(|hal, _, _| {
        let a = vmo(hal, 2);
        a.write(0, &[1]).unwrap();
        let b = a.create_snapshot(0, 2 * P, false, false).unwrap();
        let c = b.create_snapshot(0, 2 * P, false, false).unwrap();
        assert_eq!(b.num_children(), 1);
        assert_eq!(c.parent_koid(), crate::object::KernelObjectExt::koid(&*b));
        b.write(0, &[2]).unwrap();
        assert_eq!((byte(&a, 0), byte(&b, 0), byte(&c, 0)), (1, 2, 1));
        drop(b);
        c.write(1, &[3]).unwrap();
        assert_eq!(
            (byte(&a, 0), byte(&a, 1), byte(&c, 0), byte(&c, 1)),
            (1, 0, 1, 3)
        );
        drop(a);
        assert_eq!(byte(&c, 0), 1);
    });
}

#[cfg_attr(test, test)]
fn stores_through_mappings_copy_on_write_on_both_sides() {
    machine(|hal, aspace, root| {
        let parent = vmo(hal, 2);
        let pa = root
            .map(
                &parent,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        store(hal, aspace, pa, 1);
        store(hal, aspace, pa + PAGE_SIZE, 2);
        let child = parent.create_snapshot(0, 2 * P, false, false).unwrap();
        // The parent's writable translations were taken away: a store faults again.
        let pt = aspace.page_table();
        assert!(pt
            .query(pa)
            .map_or(true, |t| !t.flags.contains(MMUFlags::WRITE)));
        let ca = root
            .map(
                &child,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        // A load of a shared page maps the shared frame read-only.
        assert_eq!(load(hal, aspace, ca), 1);
        let shared = pt.query(ca).unwrap();
        assert!(!shared.flags.contains(MMUFlags::WRITE));
        assert_eq!(load(hal, aspace, pa), 1);
        assert_eq!(pt.query(pa).unwrap().paddr, shared.paddr);
        // Stores now go to private copies.
        store(hal, aspace, pa, 11);
        store(hal, aspace, ca + PAGE_SIZE, 22);
        assert_ne!(pt.query(pa).unwrap().paddr, shared.paddr);
        assert_eq!((load(hal, aspace, pa), load(hal, aspace, ca)), (11, 1));
        assert_eq!(
            (
                load(hal, aspace, pa + PAGE_SIZE),
                load(hal, aspace, ca + PAGE_SIZE)
            ),
            (2, 22)
        );
        assert_eq!((byte(&parent, 0), byte(&child, 0)), (11, 1));
        // The child is now the only holder of the old frame; a snapshot of it shares
        // the frame again, and a byte write then fixes the writer's translations.
        let keep = child.create_snapshot(0, P, false, false).unwrap();
        let before = pt.query(ca).unwrap().paddr;
        child.write(0, &[33]).unwrap();
        assert_eq!(load(hal, aspace, ca), 33);
        assert_ne!(pt.query(ca).unwrap().paddr, before);
        assert_eq!((load(hal, aspace, pa), byte(&keep, 0)), (11, 1));
    });
}

#[cfg_attr(test, test)]
fn protect_cannot_open_a_shared_frame_for_writing() {
    machine(|hal, aspace, root| {
        let parent = vmo(hal, 1);
        parent.write(0, &[4]).unwrap();
        let child = parent.create_snapshot(0, P, false, false).unwrap();
        let ca = root
            .map(
                &child,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ)
                },
            )
            .unwrap();
        assert_eq!(load(hal, aspace, ca), 4);
        root.protect(VmPerms::READ_WRITE, ca, PAGE_SIZE, true)
            .unwrap();
        store(hal, aspace, ca, 5);
        assert_eq!((byte(&parent, 0), byte(&child, 0)), (4, 5));
        // MAP_RANGE maps shared pages read-only too.
        let parent_map = root
            .map(
                &parent,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    populate: true,
                    ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        let grandchild = parent.create_snapshot(0, P, false, false).unwrap();
        let pt = aspace.page_table();
        root.op_range(VmarOp::MapRange, parent_map, PAGE_SIZE, false)
            .unwrap();
        assert!(!pt
            .query(parent_map)
            .unwrap()
            .flags
            .contains(MMUFlags::WRITE));
        store(hal, aspace, parent_map, 6);
        assert_eq!((byte(&parent, 0), byte(&grandchild, 0)), (6, 4));
    });
}

#[cfg_attr(test, test)]
fn commit_zero_and_shrink_respect_sharing() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 3);
        parent.write(0, &[1; 3 * PAGE_SIZE]).unwrap();
        let child = parent.create_snapshot(0, 3 * P, true, false).unwrap();
        let free = hal.free_count();
        child.commit(0, P).unwrap();
        assert_eq!(
            hal.free_count(),
            free - 1,
            "commit did not make the page private"
        );
        // Zeroing part of a shared page zeroes a private copy.
        child.zero(P, 10).unwrap();
        assert_eq!((byte(&child, P), byte(&parent, P)), (0, 1));
        assert_eq!(hal.free_count(), free - 2);
        // Zeroing a whole shared page only lets go of it.
        child.zero(2 * P, P).unwrap();
        assert_eq!((byte(&child, 2 * P), byte(&parent, 2 * P)), (0, 1));
        assert_eq!(hal.free_count(), free - 2);
        // Shrinking a resizable snapshot lets go of its shared pages; the parent keeps them.
        child.set_size(0).unwrap();
        child.set_size(3 * P).unwrap();
        assert_eq!(byte(&child, 0), 0);
        assert_eq!(byte(&parent, 0), 1);
    });
}

#[cfg_attr(test, test)]
fn decommit_is_refused_in_a_copy_on_write_family() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 2);
        parent.commit(0, 2 * P).unwrap();
        let child = parent.create_snapshot(0, 2 * P, false, false).unwrap();
        assert_eq!(parent.decommit(0, P), Err(ZX_ERR_NOT_SUPPORTED));
        assert_eq!(child.decommit(0, P), Err(ZX_ERR_NOT_SUPPORTED));
        assert_eq!(parent.num_children(), 1);
        drop(child);
        assert_eq!(parent.num_children(), 0);
        assert_eq!(parent.decommit(0, P), Ok(()));
        assert_eq!(parent.committed_pages(), 1);
    });
}

#[cfg_attr(test, test)]
fn a_child_keeps_its_parent_alive_and_counted() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 2);
        parent.write(0, &[5]).unwrap();
        let snap = parent.create_snapshot(0, 2 * P, false, false).unwrap();
        let grandchild = snap.create_snapshot(0, P, false, false).unwrap();
        drop(snap);
        // The grandchild still holds the snapshot, so the parent still counts it.
        assert_eq!(parent.num_children(), 1);
        assert_eq!(byte(&grandchild, 0), 5);
        drop(grandchild);
        assert_eq!(parent.num_children(), 0);
    });
}

// Twenty thousand snapshots are minutes under Miri; the chain's drop is checked
// there by the shorter tests, and on a small stack by `tests/deep_nesting.rs`.
#[cfg_attr(test, test)]
#[cfg_attr(miri, ignore)]
fn a_long_chain_of_snapshots_drops_without_recursion() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 1);
        parent.write(0, &[1]).unwrap();
        let mut last = parent.create_snapshot(0, P, false, false).unwrap();
        for _ in 0..20_000 {
            last = last.create_snapshot(0, P, false, false).unwrap();
        }
        assert_eq!(parent.num_children(), 1);
        drop(last);
        assert_eq!(parent.num_children(), 0);
    });
}

#[cfg_attr(test, test)]
fn empty_decommit_in_a_copy_on_write_family_succeeds() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 2);
        parent.commit(0, 2 * P).unwrap();
        let child = parent.create_snapshot(0, 2 * P, false, false).unwrap();
        assert_eq!(child.decommit(P, 0), Ok(()));
        assert_eq!(parent.decommit(2 * P, 0), Ok(()));
        assert!(
            child.decommit(3 * P, 0).is_err(),
            "an empty range past the end"
        );
        assert_eq!(parent.committed_pages(), 2);
    });
}

#[cfg_attr(test, test)]
fn empty_zero_of_an_uncached_vmo_succeeds() {
    machine(|hal, _, _| {
        let v = vmo(hal, 1);
        v.set_cache_policy(kernel_hal::CachePolicy::Uncached)
            .unwrap();
        assert_eq!(v.zero(P, 0), Ok(()));
        assert_eq!(v.zero(0, 1), Err(ZX_ERR_BAD_STATE));
        assert_eq!(v.zero(2 * P, 0), Err(ZX_ERR_OUT_OF_RANGE));
    });
}

/// A snapshot created while a decommit waits for the VMO's lock must stop it: the
/// decommit checks for copy-on-write relatives under the lock, not only before.
#[test]
fn decommit_racing_a_snapshot_is_refused_once_it_holds_the_lock() {
    extern crate std;
    let hal: Arc<dyn Hal> = crate::testing::ModelHal::new(64);
    let parent = vmo(&hal, 1);
    parent.commit(0, P).unwrap();
    let guard = parent.inner.lock();
    let racer = {
        let parent = parent.clone();
        std::thread::spawn(move || parent.decommit(0, P))
    };
    // Let the decommit pass its early check and wait for the lock, then do what
    // `create_snapshot` does under that lock: count a snapshot.
    std::thread::sleep(std::time::Duration::from_millis(100));
    parent
        .cow_children
        .fetch_add(1, core::sync::atomic::Ordering::AcqRel);
    drop(guard);
    assert_eq!(racer.join().unwrap(), Err(ZX_ERR_NOT_SUPPORTED));
    assert_eq!(parent.committed_pages(), 1, "the page of the snapshot went");
    parent
        .cow_children
        .fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
}

#[cfg_attr(test, test)]
fn slices_share_pages_both_ways_and_through_mappings() {
    machine(|hal, aspace, root| {
        let parent = vmo(hal, 4);
        parent.write(2 * P, &[8]).unwrap();
        let slice = parent.create_slice(P, 2 * P).unwrap();
        assert!(slice.is_slice() && !slice.is_cow_clone());
        assert_eq!(byte(&slice, P), 8);
        slice.write(0, &[3]).unwrap();
        assert_eq!(byte(&parent, P), 3);
        assert_eq!(slice.committed_pages(), 0);
        // A slice of the slice is a window onto the root.
        let inner = slice.create_slice(P, P).unwrap();
        assert_eq!(byte(&inner, 0), 8);
        assert_eq!(slice.num_children(), 1);
        assert_eq!(parent.num_children(), 1);
        // Mappings of the slice show the root's pages, and stores reach the root.
        let sa = root
            .map(
                &slice,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        assert_eq!(load(hal, aspace, sa), 3);
        store(hal, aspace, sa + PAGE_SIZE + 1, 9);
        assert_eq!(byte(&parent, 2 * P + 1), 9);
        assert_eq!(byte(&inner, 1), 9);
        // A root decommit takes the page away from the slice's mapping.
        parent.decommit(P, P).unwrap();
        let pt = aspace.page_table();
        assert_eq!(pt.query(sa).err(), Some(PagingError::NotMapped));
        assert_eq!(load(hal, aspace, sa), 0);
        // A decommit through the slice forwards to the root.
        inner.decommit(0, P).unwrap();
        assert_eq!(parent.committed_pages(), 0);
        assert_eq!(load(hal, aspace, sa + PAGE_SIZE), 0);
        // A write through the root after a read fault of the zero page reaches the
        // slice's mapping.
        parent.write(2 * P, &[6]).unwrap();
        assert_eq!(load(hal, aspace, sa + PAGE_SIZE), 6);
    });
}

#[cfg_attr(test, test)]
fn references_share_pages_size_and_mappings_with_their_root() {
    machine(|hal, aspace, root| {
        let parent = VmObject::new(hal.clone(), 2 * P, VmoOptions::RESIZABLE).unwrap();
        parent.write(P, &[5]).unwrap();
        let r = parent.create_reference(false).unwrap();
        assert!(r.is_reference() && !r.is_slice() && !r.is_cow_clone());
        assert!(r.is_resizable(), "a reference inherits resizability");
        assert_eq!((byte(&r, P), r.committed_pages()), (5, 0));
        let nested = r.create_reference(true).unwrap();
        let ra = root
            .map(
                &nested,
                &MapRequest {
                    max_perms: VmPerms::all(),
                    ..MapRequest::new(0, 2 * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .unwrap();
        store(hal, aspace, ra + PAGE_SIZE + 2, 7);
        assert_eq!(byte(&parent, P + 2), 7);
        // Resizing through the nested reference resizes the root and both
        // references, and takes the cut page out of the mapping.
        nested.set_size(P).unwrap();
        assert_eq!(
            (parent.size(), r.size(), nested.size()),
            (PAGE_SIZE, PAGE_SIZE, PAGE_SIZE)
        );
        assert_eq!(parent.committed_pages(), 0);
        let pt = aspace.page_table();
        assert_eq!(pt.query(ra + PAGE_SIZE).err(), Some(PagingError::NotMapped));
        parent.set_content_size(100).unwrap();
        assert_eq!(nested.content_size(), 100);
        let fixed = vmo(hal, 1);
        assert_eq!(
            fixed.create_reference(true).err(),
            Some(ZX_ERR_NOT_SUPPORTED)
        );
        let slice = fixed.create_slice(0, P).unwrap();
        assert_eq!(
            slice.create_reference(false).err(),
            Some(ZX_ERR_NOT_SUPPORTED)
        );
    });
}

#[cfg_attr(test, test)]
fn slice_rules_and_a_snapshot_of_a_slice() {
    machine(|hal, _, _| {
        let parent = vmo(hal, 2);
        assert_eq!(parent.create_slice(1, P).err(), Some(ZX_ERR_INVALID_ARGS));
        assert_eq!(
            parent.create_slice(P, 2 * P).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            parent.create_slice(0, u64::MAX).err(),
            Some(ZX_ERR_OUT_OF_RANGE)
        );
        let resizable = VmObject::new(hal.clone(), P, VmoOptions::RESIZABLE).unwrap();
        assert_eq!(
            resizable.create_slice(0, P).err(),
            Some(ZX_ERR_NOT_SUPPORTED)
        );
        let slice = parent.create_slice(P, P).unwrap();
        slice.write(0, &[1]).unwrap();
        let snap = slice.create_snapshot(0, 2 * P, false, false).unwrap();
        assert_eq!(
            snap.parent_koid(),
            crate::object::KernelObjectExt::koid(&*slice)
        );
        slice.write(0, &[2]).unwrap();
        assert_eq!((byte(&snap, 0), byte(&parent, P)), (1, 2));
        // The root shares pages with a snapshot (through its slice): it refuses
        // decommit like any parent of a snapshot, until the snapshot goes.
        assert_eq!(parent.decommit(0, P), Err(ZX_ERR_NOT_SUPPORTED));
        assert_eq!(parent.num_children(), 1);
        assert_eq!(
            parent.set_cache_policy(kernel_hal::CachePolicy::Uncached),
            Err(ZX_ERR_BAD_STATE)
        );
        assert_eq!(
            slice.set_cache_policy(kernel_hal::CachePolicy::Uncached),
            Err(ZX_ERR_BAD_STATE)
        );
        drop(snap);
        assert_eq!(parent.decommit(0, P), Ok(()));
        drop(parent);
        // The slice keeps its root alive.
        assert_eq!(byte(&slice, 0), 2);
    });
}

#[test]
fn a_copy_on_write_without_free_frames_fails_cleanly() {
    let model = crate::testing::ModelHal::new(4);
    let hal: Arc<dyn Hal> = model;
    let total = hal.total_count();
    {
        let parent = vmo(&hal, 2);
        parent.write(0, &[1; 2 * PAGE_SIZE]).unwrap();
        let child = parent.create_snapshot(0, 2 * P, true, false).unwrap();
        let filler = vmo(&hal, 2);
        filler.commit(0, 2 * P).unwrap();
        assert_eq!(hal.free_count(), 0);
        assert_eq!(child.write(5, &[9]), Err(ZX_ERR_NO_MEMORY));
        assert_eq!(child.commit(0, P), Err(ZX_ERR_NO_MEMORY));
        assert_eq!(child.zero(1, 1), Err(ZX_ERR_NO_MEMORY));
        assert_eq!(child.set_size(P + 1), Err(ZX_ERR_NO_MEMORY));
        assert_eq!(
            child.size(),
            2 * PAGE_SIZE,
            "a failed resize changed the size"
        );
        assert_eq!((byte(&child, 5), byte(&child, P + 1)), (1, 1));
        // With one frame back, the copy happens.
        drop(filler);
        child.write(5, &[9]).unwrap();
        assert_eq!((byte(&child, 5), byte(&parent, 5)), (9, 1));
    }
    assert_eq!(hal.free_count(), total, "frames leaked");
}

/// The tests above that run on any HAL, by name, for an embedder to run on its own
/// machine (`crate::guest`).
#[cfg(all(feature = "guest-tests", not(test)))]
pub(crate) const HAL_GENERIC_TESTS: &[(&str, fn())] = &crate::named_tests![
    snapshot_shares_frames_and_copies_only_what_is_written,
    the_last_holder_of_a_shared_frame_takes_it_without_a_copy,
    snapshot_past_the_parent_end_reads_zeros_and_is_private,
    snapshots_of_snapshots_stay_isolated_whatever_closes_first,
    stores_through_mappings_copy_on_write_on_both_sides,
    protect_cannot_open_a_shared_frame_for_writing,
    commit_zero_and_shrink_respect_sharing,
    decommit_is_refused_in_a_copy_on_write_family,
    a_child_keeps_its_parent_alive_and_counted,
    empty_decommit_in_a_copy_on_write_family_succeeds,
    empty_zero_of_an_uncached_vmo_succeeds,
    slices_share_pages_both_ways_and_through_mappings,
    slice_rules_and_a_snapshot_of_a_slice,
];
