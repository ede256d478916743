//! No operation's stack depth follows the depth of the region tree: 10,000 nested
//! regions, and every operation on them, on a thread whose whole stack is 16 KiB
//! (a kernel stack). Run in debug and in release builds (CI runs both).

use std::sync::Arc;

use kernel_hal::{Hal, MMUFlags, PAGE_SIZE};
use kernel_hal_unix::UnixHal;
use zircon_object::abi::*;
use zircon_object::object::KernelObjectExt;
use zircon_object::vm::{
    AddressSpace, AllocateRequest, MapRequest, MapsEntryKind, Placement, VmAddressRegion, VmObject,
    VmPerms, VmarOp, VmoOptions,
};

const DEPTH: usize = 10_000;
const SIZE: usize = 16 * PAGE_SIZE;

/// Runs `body` on a thread with a 16 KiB stack and fails if it fails.
fn on_small_stack(body: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(16 * 1024)
        .spawn(body)
        .expect("spawn a thread")
        .join()
        .expect("the body passes on a 16 KiB stack");
}

/// `DEPTH` regions, each the only child of the one above, all at the same
/// addresses; returns the outermost and the innermost.
fn nest(parent: &Arc<VmAddressRegion>) -> (Arc<VmAddressRegion>, Arc<VmAddressRegion>) {
    let request = AllocateRequest::new(SIZE, VmPerms::READ_WRITE);
    let outer = parent.allocate(&request).expect("outermost");
    let nested = AllocateRequest {
        placement: Placement::At(0),
        ..request
    };
    let mut inner = outer.clone();
    for _ in 1..DEPTH {
        inner = inner.allocate(&nested).expect("nested region");
    }
    (outer, inner)
}

#[test]
fn every_operation_on_10000_nested_regions_fits_a_16_kib_stack() {
    let hal: Arc<dyn Hal> = Arc::new(UnixHal::new().expect("a unix machine"));
    let free_before = hal.free_count();
    let aspace = AddressSpace::new(hal.clone()).expect("an address space");
    let probe = hal.clone();
    on_small_stack(move || {
        let root = aspace.root_vmar();
        let rw = VmPerms::READ_WRITE;
        let vmo =
            VmObject::new(aspace.hal().clone(), SIZE as u64, VmoOptions::empty()).expect("a VMO");
        let at_bottom = MapRequest {
            placement: Placement::At(0),
            ..MapRequest::new(0, SIZE, rw)
        };

        // Map at the bottom, and reach the mapping from the top.
        let (outer, inner) = nest(&root);
        let base = inner.map(&vmo, &at_bottom).expect("map at the bottom");
        assert_eq!(base, outer.addr());
        aspace
            .fault(base, MMUFlags::WRITE)
            .expect("a write fault through 10,000 regions");
        aspace.write_user(base + 8, b"deep").expect("user copy in");
        let mut back = [0u8; 4];
        aspace
            .read_user(base + 8, &mut back)
            .expect("user copy out");
        assert_eq!(&back, b"deep");

        // op_range, protect and the maps report walk the whole depth.
        outer
            .op_range(VmarOp::MapRange, base, SIZE, true)
            .expect("op_range from the top");
        assert_eq!(
            outer.op_range(VmarOp::Commit, base, SIZE, true),
            Err(ZX_ERR_INVALID_ARGS),
            "COMMIT refuses a nested mapping, after walking down to it"
        );
        inner
            .op_range(VmarOp::Commit, base, SIZE, false)
            .expect("op_range at the bottom");
        assert_eq!(
            outer.protect(VmPerms::READ, base, SIZE, false),
            Err(ZX_ERR_INVALID_ARGS),
            "a nested mapping needs op_children"
        );
        outer
            .protect(VmPerms::READ, base, SIZE, true)
            .expect("protect from the top");
        assert_eq!(
            aspace.write_user(base, b"x"),
            Err(ZX_ERR_ACCESS_DENIED),
            "the protection reached the bottom"
        );
        inner
            .protect(rw, base, SIZE, false)
            .expect("protect at the bottom");
        let maps = aspace.maps();
        let regions = maps
            .iter()
            .filter(|e| e.kind == MapsEntryKind::Vmar)
            .count();
        assert_eq!(regions, DEPTH + 1, "the root and every nested region");
        let deepest = maps.iter().map(|e| e.depth).max();
        assert_eq!(deepest, Some(DEPTH + 2));
        assert_eq!(aspace.mapping_count(), 1);

        // An unmap over the top destroys the whole chain.
        root.unmap(outer.addr(), SIZE, true)
            .expect("unmap with op_children");
        assert!(!inner.is_alive());
        assert_eq!(aspace.mapping_count(), 0);
        assert_eq!(aspace.fault(base, MMUFlags::READ), Err(ZX_ERR_NOT_FOUND));

        // So does a destroy of the top.
        let (outer, inner) = nest(&root);
        inner.map(&vmo, &at_bottom).expect("map at the bottom");
        outer.destroy().expect("destroy the top");
        assert!(!inner.is_alive());
        assert_eq!(
            inner.protect(VmPerms::READ, base, SIZE, false),
            Err(ZX_ERR_BAD_STATE)
        );

        // And dropping the address space takes a deep tree with it.
        let (_outer, inner) = nest(&root);
        inner.map(&vmo, &at_bottom).expect("map at the bottom");
        drop((root, inner, _outer, vmo));
        drop(aspace);
    });
    assert_eq!(probe.free_count(), free_before, "every frame came back");
}

#[test]
fn chains_of_10000_snapshots_and_of_10000_slices_fit_a_16_kib_stack() {
    let hal: Arc<dyn Hal> = Arc::new(UnixHal::new().expect("a unix machine"));
    let free_before = hal.free_count();
    let probe = hal.clone();
    on_small_stack(move || {
        let pages = 2 * PAGE_SIZE as u64;
        let root = VmObject::new(hal.clone(), pages, VmoOptions::empty()).expect("a VMO");
        root.write(0, b"root").expect("write the root");

        // Each snapshot is a snapshot of the one before: a parent chain a user can
        // build one call at a time. No operation walks the chain.
        let mut snapshots = vec![root.clone()];
        for _ in 1..DEPTH {
            let last = snapshots.last().expect("the root at least");
            let next = last
                .create_snapshot(0, pages, false, false)
                .expect("a snapshot of the last snapshot");
            snapshots.push(next);
        }
        let deepest = snapshots.last().expect("a chain").clone();
        assert_eq!(deepest.parent_koid(), snapshots[DEPTH - 2].koid());
        let mut back = [0u8; 4];
        deepest.read(0, &mut back).expect("read the deepest");
        assert_eq!(&back, b"root", "the page was shared down the chain");
        deepest.write(0, b"deep").expect("write the deepest");
        root.read(0, &mut back).expect("read the root");
        assert_eq!(&back, b"root", "the write copied the page");
        snapshots[DEPTH / 2]
            .read(0, &mut back)
            .expect("read the middle");
        assert_eq!(&back, b"root");
        // A mapping of the deepest snapshot faults through it.
        let aspace = AddressSpace::new(hal.clone()).expect("an address space");
        let at = aspace
            .root_vmar()
            .map(
                &deepest,
                &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE),
            )
            .expect("map the deepest snapshot");
        aspace.read_user(at, &mut back).expect("user copy out");
        assert_eq!(&back, b"deep");

        // Slices of slices: each one's pages are the root's.
        let mut slices = vec![root.clone()];
        for _ in 1..DEPTH {
            let last = slices.last().expect("the root at least");
            let next = last
                .create_slice(0, pages)
                .expect("a slice of the last slice");
            slices.push(next);
        }
        let innermost = slices.last().expect("a chain").clone();
        innermost
            .write(PAGE_SIZE as u64, b"thin")
            .expect("write through");
        root.read(PAGE_SIZE as u64, &mut back)
            .expect("read the root");
        assert_eq!(&back, b"thin");

        // Everything dropped at once: the snapshots from the root down, the slices
        // from the innermost up.
        drop((deepest, innermost, aspace));
        drop(snapshots);
        while slices.pop().is_some() {}
        drop(root);
    });
    assert_eq!(probe.free_count(), free_before, "every frame came back");
}

#[test]
fn a_chain_of_10000_snapshots_drops_on_a_16_kib_stack() {
    let hal: Arc<dyn Hal> = Arc::new(UnixHal::new().expect("a unix machine"));
    let free_before = hal.free_count();
    let probe = hal.clone();
    on_small_stack(move || {
        let first = VmObject::new(hal, PAGE_SIZE as u64, VmoOptions::empty()).expect("a VMO");
        first.write(0, &[1]).expect("a write");
        let mut last = first.clone();
        for _ in 0..DEPTH {
            last = last
                .create_snapshot(0, PAGE_SIZE as u64, false, false)
                .expect("a snapshot");
        }
        // Every snapshot but the last has no handle left: each lives only because
        // its child holds it, and the last one's drop lets go of them all.
        assert_eq!(first.num_children(), 1);
        drop(last);
        assert_eq!(first.num_children(), 0);
    });
    assert_eq!(probe.free_count(), free_before);
}
