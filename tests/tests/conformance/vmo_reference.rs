//! Reference children (`ZX_VMO_CHILD_REFERENCE`) and `ZX_VMO_CHILD_SNAPSHOT_MODIFIED`
//! children of `zx_vmo_create_child` (docs/ABI.md §8.7, 8.7.4 and 8.7.5).
//!
//! A reference is another VMO over the same pages, size and content size; a
//! snapshot-modified child of a VMO without a pager is a full snapshot. Raw accesses
//! go through host pointers (user addresses are host addresses on the unix backend).

use crate::helpers::*;

const P: u64 = PAGE as u64;
const REF: u32 = ZX_VMO_CHILD_REFERENCE;
const MODIFIED: u32 = ZX_VMO_CHILD_SNAPSHOT_MODIFIED;

/// A reference of `h`, asserting success.
#[track_caller]
fn reference(p: &TestProcess, h: u32) -> u32 {
    make(p, h, REF, 0, 0)
}

/// The status of creating a child (a created child is closed again).
fn status_of(p: &TestProcess, h: u32, options: u32, offset: u64, size: u64) -> i32 {
    let (st, c) = child(p, h, options, offset, size);
    if let Some(c) = c {
        assert_eq!(p.zx_handle_close(c), ZX_OK);
    }
    st
}

/// The content size of `h` (`ZX_PROP_VMO_CONTENT_SIZE`).
fn content_size(p: &TestProcess, h: u32) -> u64 {
    let b = out(p, OUT1);
    assert_eq!(
        p.zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    read_u64(p, b)
}

// ---- references: contents, identity, counts ----

#[test]
fn a_reference_and_its_parent_see_each_others_writes() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let r = reference(&p, v);
    vmo_write(&p, v, 0, b"from parent");
    assert_eq!(vmo_read(&p, r, 0, 11), b"from parent");
    vmo_write(&p, r, 5, b"REF");
    assert_eq!(vmo_read(&p, v, 0, 11), b"from REFent");
}

#[test]
fn a_reference_is_a_vmo_of_its_own_whose_parent_is_the_vmo() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let r = reference(&p, v);
    let (vi, ri) = (vmo_info(&p, v), vmo_info(&p, r));
    assert_eq!(basic(&p, r).obj_type, ZX_OBJ_TYPE_VMO);
    assert_ne!(ri.koid, vi.koid);
    assert_eq!(ri.parent_koid, vi.koid);
    assert_eq!(ri.flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
    assert_eq!(ri.flags & ZX_INFO_VMO_TYPE_PAGED, ZX_INFO_VMO_TYPE_PAGED);
    assert_eq!(ri.size_bytes, 2 * P);
}

#[test]
fn a_reference_counts_as_a_child_until_its_last_handle_closes() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let r = reference(&p, v);
    let r2 = dup(&p, r, ZX_RIGHT_SAME_RIGHTS);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    assert_eq!(p.zx_handle_close(r), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    assert_eq!(p.zx_handle_close(r2), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_reference_shares_the_content_size_both_ways() {
    let p = new_process();
    let v = vmo_with(&p, 3 * P - 100, 0);
    let r = reference(&p, v);
    assert_eq!(content_size(&p, r), 3 * P - 100);
    let b = out(&p, OUT2);
    write_u64(&p, b, P + 7);
    assert_eq!(
        p.zx_object_set_property(r, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(content_size(&p, v), P + 7);
    write_u64(&p, b, 2 * P);
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(content_size(&p, r), 2 * P);
}

#[test]
fn a_reference_keeps_execute_and_gains_the_property_rights() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let o = out(&p, OUT1);
    assert_eq!(p.zx_vmo_replace_as_executable(v, 0, o), ZX_OK);
    let x = read_u32(&p, o);
    let narrow = dup(&p, x, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_EXECUTE);
    let r = reference(&p, narrow);
    assert_eq!(
        rights(&p, r),
        ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_EXECUTE | ZX_RIGHTS_PROPERTY
    );
    assert_eq!(rights(&p, reference(&p, x)), rights(&p, x));
}

#[test]
fn a_no_write_reference_cannot_write_and_is_not_immutable() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let r = make(&p, v, REF | ZX_VMO_CHILD_NO_WRITE, 0, 0);
    assert_eq!(rights(&p, r) & ZX_RIGHT_WRITE, 0);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_write(r, b, 0, 1), ZX_ERR_ACCESS_DENIED);
    assert_eq!(vmo_info(&p, r).flags & ZX_INFO_VMO_IMMUTABLE, 0);
    vmo_write(&p, v, 0, b"w");
    assert_eq!(vmo_read(&p, r, 0, 1), b"w");
}

#[test]
fn a_reference_takes_the_parents_name() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    p.write_memory(b, b"ring").unwrap();
    assert_eq!(p.zx_object_set_property(v, ZX_PROP_NAME, b, 4), ZX_OK);
    let r = reference(&p, v);
    assert_eq!(vmo_info(&p, r).name(), b"ring");
}

// ---- references: sizes ----

#[test]
fn a_reference_of_a_resizable_vmo_follows_its_resizes() {
    let p = new_process();
    let v = vmo_with(&p, 4 * P, ZX_VMO_RESIZABLE);
    let r = make(&p, v, REF | ZX_VMO_CHILD_RESIZABLE, 0, 0);
    assert_eq!(p.zx_vmo_set_size(v, 2 * P - 8), ZX_OK);
    assert_eq!((vmo_size(&p, r), content_size(&p, r)), (2 * P, 2 * P - 8));
    assert_eq!(p.zx_vmo_set_size(r, 3 * P - 8), ZX_OK);
    assert_eq!((vmo_size(&p, v), content_size(&p, v)), (3 * P, 3 * P - 8));
    assert_eq!(vmo_size(&p, r), 3 * P);
}

#[test]
fn a_reference_without_resize_right_cannot_resize_but_follows() {
    let p = new_process();
    let v = vmo_with(&p, 4 * P, ZX_VMO_RESIZABLE);
    let r = reference(&p, v);
    assert_eq!(rights(&p, r) & ZX_RIGHT_RESIZE, 0);
    assert_ne!(vmo_info(&p, r).flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(p.zx_vmo_set_size(r, P), ZX_ERR_ACCESS_DENIED);
    assert_eq!(vmo_size(&p, v), 4 * P);
    assert_eq!(p.zx_vmo_set_size(v, 2 * P), ZX_OK);
    assert_eq!(vmo_size(&p, r), 2 * P);
}

#[test]
fn a_resizable_reference_of_a_fixed_size_vmo_is_not_supported() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        status_of(&p, v, REF | ZX_VMO_CHILD_RESIZABLE, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    let r = reference(&p, v);
    assert_eq!(vmo_info(&p, r).flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(p.zx_vmo_set_size(r, 2 * P), ZX_ERR_UNAVAILABLE);
    assert_eq!(vmo_info(&p, v).num_children, 1);
}

#[test]
fn shrinking_the_parent_takes_the_tail_out_of_a_references_mapping() {
    let p = new_process();
    let v = vmo_with(&p, 2 * P, ZX_VMO_RESIZABLE);
    let r = reference(&p, v);
    let a = map(
        &p,
        p.zx_vmar_root_self(),
        RW | ZX_VM_ALLOW_FAULTS,
        0,
        r,
        0,
        2 * PAGE,
    );
    raw_write(a + PAGE, 9);
    assert_eq!(vmo_read(&p, v, P, 1), [9]);
    assert_eq!(p.zx_vmo_set_size(v, P), ZX_OK);
    assert!(readable(&p, a));
    assert!(!readable(&p, a + PAGE), "the cut page left the mapping");
    assert_eq!(p.zx_vmo_set_size(v, 2 * P), ZX_OK);
    assert_eq!(raw_read(a + PAGE), 0);
}

// ---- references: argument checks and refused parents ----

#[test]
fn reference_options_offset_and_size_are_checked() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(status_of(&p, v, REF, P, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, REF, 0, P), ZX_ERR_INVALID_ARGS);
    for extra in [ZX_VMO_CHILD_SNAPSHOT, MODIFIED, 1 << 1, 1 << 12] {
        assert_eq!(status_of(&p, v, REF | extra, 0, 0), ZX_ERR_INVALID_ARGS);
    }
    assert_eq!(
        status_of(&p, v, REF | ZX_VMO_CHILD_SLICE, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_reference_needs_duplicate_and_read_on_a_vmo_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let no_dup = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    let no_read = dup(&p, v, ZX_RIGHT_DUPLICATE | ZX_RIGHT_WRITE);
    assert_eq!(status_of(&p, no_dup, REF, 0, 0), ZX_ERR_ACCESS_DENIED);
    assert_eq!(status_of(&p, no_read, REF, 0, 0), ZX_ERR_ACCESS_DENIED);
    let root = p.zx_vmar_root_self();
    assert_eq!(status_of(&p, root, REF, 0, 0), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        status_of(&p, closed_handle(&p), REF, 0, 0),
        ZX_ERR_BAD_HANDLE
    );
    // The option pair checked before the handle still applies.
    assert_eq!(
        status_of(
            &p,
            closed_handle(&p),
            REF | ZX_VMO_CHILD_RESIZABLE | ZX_VMO_CHILD_NO_WRITE,
            0,
            0
        ),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn references_of_slices_and_discardable_vmos_are_not_supported() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let s = make(&p, v, ZX_VMO_CHILD_SLICE, 0, P);
    assert_eq!(status_of(&p, s, REF, 0, 0), ZX_ERR_NOT_SUPPORTED);
    let d = vmo_with(&p, P, ZX_VMO_DISCARDABLE);
    assert_eq!(status_of(&p, d, REF, 0, 0), ZX_ERR_NOT_SUPPORTED);
    assert_eq!(vmo_info(&p, s).num_children, 0);
}

#[test]
fn a_reference_of_an_uncached_vmo_is_bad_state() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_WRITE_COMBINING),
        ZX_OK
    );
    assert_eq!(status_of(&p, v, REF, 0, 0), ZX_ERR_BAD_STATE);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_reference_is_a_child_so_its_cache_policy_is_fixed() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let r = reference(&p, v);
    assert_eq!(
        p.zx_vmo_set_cache_policy(r, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(vmo_info(&p, r).cache_policy, ZX_CACHE_POLICY_CACHED);
}

// ---- references: pages, frames, mappings ----

#[test]
fn committed_pages_are_the_parents_not_the_references() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let r = reference(&p, v);
    let before = p.frames_in_use();
    vmo_write(&p, r, 0, b"x");
    assert_eq!(p.frames_in_use(), before + 1, "one page, committed once");
    assert_eq!(committed(&p, r), 0);
    assert_eq!(committed(&p, v), P);
    assert_eq!(p.zx_vmo_op_range(r, ZX_VMO_OP_COMMIT, P, P, 0, 0), ZX_OK);
    assert_eq!((committed(&p, v), committed(&p, r)), (2 * P, 0));
}

#[test]
fn a_reference_outlives_the_parents_handle_with_the_pages() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"kept");
    let r = reference(&p, v);
    let frames = p.frames_in_use();
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.frames_in_use(), frames);
    assert_eq!(vmo_read(&p, r, 0, 4), b"kept");
    assert_eq!(committed(&p, r), 0);
    assert_eq!(p.zx_handle_close(r), ZX_OK);
    assert_eq!(
        p.frames_in_use(),
        frames - 1,
        "the page goes with the last holder"
    );
}

#[test]
fn decommit_through_a_reference_empties_both_and_their_mappings() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, &[0xaa]);
    let r = reference(&p, v);
    let a = map_rw(&p, r, 1);
    let b = map_rw(&p, v, 1);
    assert_eq!((raw_read(a), raw_read(b)), (0xaa, 0xaa));
    assert_eq!(p.zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
    assert_eq!((committed(&p, v), committed(&p, r)), (0, 0));
    assert_eq!((raw_read(a), raw_read(b)), (0, 0));
}

#[test]
fn zero_through_a_reference_zeroes_the_shared_bytes() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"abcdef");
    let r = reference(&p, v);
    assert_eq!(p.zx_vmo_op_range(r, ZX_VMO_OP_ZERO, 1, 3, 0, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 6), b"a\0\0\0ef");
}

#[test]
fn a_mapping_of_a_reference_shows_the_parents_pages_both_ways() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let r = reference(&p, v);
    let a = map_rw(&p, r, 2);
    vmo_write(&p, v, P, b"Q");
    assert_eq!(raw_read(a + PAGE), b'Q');
    raw_write(a, b'Z');
    assert_eq!(vmo_read(&p, v, 0, 1), b"Z");
    assert_eq!(vmo_info(&p, r).num_mappings, 1);
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn nested_references_share_the_pages_and_chain_parent_koids() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let r1 = reference(&p, v);
    let r2 = reference(&p, r1);
    assert_eq!(vmo_info(&p, r2).parent_koid, vmo_info(&p, r1).koid);
    assert_eq!(vmo_info(&p, r1).num_children, 1);
    vmo_write(&p, r2, 0, b"deep");
    assert_eq!(vmo_read(&p, v, 0, 4), b"deep");
    // The nested reference holds the first: the root still counts one child.
    assert_eq!(p.zx_handle_close(r1), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    assert_eq!(p.zx_handle_close(r2), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_snapshot_of_a_reference_copies_the_shared_pages() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, &[0xaa]);
    let r = reference(&p, v);
    let s = make(&p, r, ZX_VMO_CHILD_SNAPSHOT, 0, P);
    assert_eq!(vmo_info(&p, s).parent_koid, vmo_info(&p, r).koid);
    vmo_write(&p, v, 0, &[0xbb]);
    assert_eq!(vmo_read(&p, s, 0, 1), [0xaa]);
    vmo_write(&p, s, 0, &[0xcc]);
    assert_eq!(vmo_read(&p, r, 0, 1), [0xbb]);
    // The shared pages now have a snapshot: decommit refuses through either side.
    assert_eq!(
        p.zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
}

#[test]
fn a_slice_of_a_reference_is_a_window_onto_the_parent() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let r = reference(&p, v);
    let s = make(&p, r, ZX_VMO_CHILD_SLICE, P, P);
    assert_eq!(vmo_info(&p, s).parent_koid, vmo_info(&p, r).koid);
    vmo_write(&p, v, P, b"tail");
    assert_eq!(vmo_read(&p, s, 0, 4), b"tail");
    vmo_write(&p, s, 0, b"T");
    assert_eq!(vmo_read(&p, r, P, 1), b"T");
}

#[test]
fn a_slice_of_a_reference_of_a_resizable_vmo_is_not_supported() {
    let p = new_process();
    let v = vmo_with(&p, 2 * P, ZX_VMO_RESIZABLE);
    let r = reference(&p, v);
    assert_eq!(
        status_of(&p, r, ZX_VMO_CHILD_SLICE, 0, P),
        ZX_ERR_NOT_SUPPORTED
    );
}

#[test]
fn a_reference_of_a_snapshot_writes_the_snapshots_pages() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"orig");
    let s = make(&p, v, ZX_VMO_CHILD_SNAPSHOT, 0, P);
    let r = reference(&p, s);
    vmo_write(&p, r, 0, b"snap");
    assert_eq!(vmo_read(&p, s, 0, 4), b"snap");
    assert_eq!(vmo_read(&p, v, 0, 4), b"orig");
    assert_eq!(
        p.zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
}

// ---- SNAPSHOT_MODIFIED ----

#[test]
fn snapshot_modified_of_an_anonymous_vmo_is_a_full_snapshot() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"before");
    let c = make(&p, v, MODIFIED, 0, 2 * P);
    vmo_write(&p, v, 0, b"parent");
    vmo_write(&p, v, P, b"later");
    assert_eq!(vmo_read(&p, c, 0, 6), b"before");
    assert_eq!(vmo_read(&p, c, P, 5), [0; 5], "unwritten then, zero now");
    vmo_write(&p, c, 0, b"child!");
    assert_eq!(vmo_read(&p, v, 0, 6), b"parent");
    let info = vmo_info(&p, c);
    assert_ne!(info.flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
    assert_eq!(info.parent_koid, vmo_info(&p, v).koid);
    assert_eq!(vmo_info(&p, v).num_children, 1);
}

#[test]
fn snapshot_modified_rights_are_a_snapshots() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let o = out(&p, OUT1);
    assert_eq!(p.zx_vmo_replace_as_executable(v, 0, o), ZX_OK);
    let x = read_u32(&p, o);
    let ro = dup(&p, x, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_EXECUTE);
    let c = make(&p, ro, MODIFIED, 0, P);
    assert_eq!(
        rights(&p, c),
        ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHTS_PROPERTY
    );
    let r = make(&p, x, MODIFIED | ZX_VMO_CHILD_RESIZABLE, 0, P);
    assert_ne!(rights(&p, r) & ZX_RIGHT_RESIZE, 0);
    assert_eq!(p.zx_vmo_set_size(r, 3 * P), ZX_OK);
    assert_eq!(vmo_size(&p, x), P);
}

#[test]
fn snapshot_modified_with_no_write_is_immutable() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let c = make(&p, v, MODIFIED | ZX_VMO_CHILD_NO_WRITE, 0, P);
    assert_eq!(rights(&p, c) & ZX_RIGHT_WRITE, 0);
    assert_ne!(vmo_info(&p, c).flags & ZX_INFO_VMO_IMMUTABLE, 0);
}

#[test]
fn snapshot_modified_of_a_snapshot_keeps_the_modified_pages() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"root");
    let c = make(&p, v, MODIFIED, 0, P);
    vmo_write(&p, c, 0, b"mine");
    let s = make(&p, c, MODIFIED, 0, P);
    vmo_write(&p, c, 0, b"next");
    assert_eq!(vmo_read(&p, s, 0, 4), b"mine");
    assert_eq!(vmo_read(&p, v, 0, 4), b"root");
    assert_eq!(vmo_info(&p, s).parent_koid, vmo_info(&p, c).koid);
}

#[test]
fn the_first_snapshot_kind_wins_and_a_second_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for options in [
        ZX_VMO_CHILD_SNAPSHOT | MODIFIED,
        ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | MODIFIED,
        MODIFIED | ZX_VMO_CHILD_SLICE,
        MODIFIED | (1 << 8),
    ] {
        assert_eq!(
            status_of(&p, v, options, 0, P),
            ZX_ERR_INVALID_ARGS,
            "{options:#x}"
        );
    }
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn snapshot_modified_checks_range_and_cache_policy_as_a_snapshot() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(status_of(&p, v, MODIFIED, 1, P), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, MODIFIED, 0, u64::MAX), ZX_ERR_OUT_OF_RANGE);
    // Past the parent's end is fine: zeros, the child's own.
    let c = make(&p, v, MODIFIED, P, 2 * P);
    assert_eq!(vmo_read(&p, c, 0, 2), [0, 0]);
    let u = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(u, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    assert_eq!(status_of(&p, u, MODIFIED, 0, P), ZX_ERR_BAD_STATE);
}

#[test]
fn snapshot_modified_of_a_discardable_vmo_is_not_supported() {
    let p = new_process();
    let d = vmo_with(&p, P, ZX_VMO_DISCARDABLE);
    assert_eq!(status_of(&p, d, MODIFIED, 0, P), ZX_ERR_NOT_SUPPORTED);
}

#[test]
fn a_snapshot_modified_child_frees_its_private_pages_on_close() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"x");
    let before = p.frames_in_use();
    let c = make(&p, v, MODIFIED, 0, 2 * P);
    assert_eq!(p.frames_in_use(), before, "creating it copies nothing");
    vmo_write(&p, c, 0, b"y");
    vmo_write(&p, c, P, b"z");
    assert_eq!(p.frames_in_use(), before + 2);
    assert_eq!(p.zx_handle_close(c), ZX_OK);
    assert_eq!(p.frames_in_use(), before);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}
