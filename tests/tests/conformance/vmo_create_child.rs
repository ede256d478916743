//! `zx_vmo_create_child` (docs/ABI.md §7, 8.7, 8.5 and 8.10 for children, 9.1, 10.4).
//!
//! Snapshots (every kind is a true snapshot here) and slices; references and
//! snapshot-modified children have their own module (`vmo_reference`). Raw accesses go
//! through host pointers: on the unix backend user addresses are host addresses and
//! mappings are demand-paged, so a store to a page shared copy-on-write faults and
//! copies.

use crate::helpers::*;

const P: u64 = PAGE as u64;
const SNAP: u32 = ZX_VMO_CHILD_SNAPSHOT;
const SLICE: u32 = ZX_VMO_CHILD_SLICE;

/// The status of creating a child (a created child is closed again).
fn status_of(p: &TestProcess, h: u32, options: u32, offset: u64, size: u64) -> i32 {
    let (st, c) = child(p, h, options, offset, size);
    if let Some(c) = c {
        assert_eq!(p.zx_handle_close(c), ZX_OK);
    }
    st
}

fn close(p: &TestProcess, h: u32) {
    assert_eq!(p.zx_handle_close(h), ZX_OK);
}

// ---- the order of the checks (8.7) ----

#[test]
fn no_write_together_with_resizable_is_invalid_args_before_the_handle() {
    let p = new_process();
    let options = SNAP | ZX_VMO_CHILD_NO_WRITE | ZX_VMO_CHILD_RESIZABLE;
    assert_eq!(
        status_of(&p, ZX_HANDLE_INVALID, options, 0, P),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn bad_and_wrong_type_handles_fail() {
    let p = new_process();
    assert_eq!(
        status_of(&p, ZX_HANDLE_INVALID, SNAP, 0, P),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        status_of(&p, p.zx_vmar_root_self(), SNAP, 0, P),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        status_of(&p, closed_handle(&p), SLICE, 0, P),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn parent_handle_needs_duplicate_and_read() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let no_dup = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_DUPLICATE);
    let no_read = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_READ);
    for h in [no_dup, no_read] {
        assert_eq!(status_of(&p, h, SNAP, 0, P), ZX_ERR_ACCESS_DENIED);
        assert_eq!(status_of(&p, h, SLICE, 0, P), ZX_ERR_ACCESS_DENIED);
    }
    // The rights are checked before the option bits.
    assert_eq!(status_of(&p, no_read, 0, 0, P), ZX_ERR_ACCESS_DENIED);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_discardable_parent_is_not_supported_before_the_option_checks() {
    let p = new_process();
    let v = vmo_with(&p, P, ZX_VMO_DISCARDABLE);
    assert_eq!(status_of(&p, v, SNAP, 0, P), ZX_ERR_NOT_SUPPORTED);
    assert_eq!(status_of(&p, v, SLICE, 0, P), ZX_ERR_NOT_SUPPORTED);
    assert_eq!(status_of(&p, v, 0, 0, P), ZX_ERR_NOT_SUPPORTED);
    assert_eq!(status_of(&p, v, SNAP, 1, P), ZX_ERR_NOT_SUPPORTED);
    // ...but after the handle's rights.
    let no_dup = dup(&p, v, ZX_RIGHT_READ);
    assert_eq!(status_of(&p, no_dup, SNAP, 0, P), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn missing_or_double_child_type_or_unknown_bits_are_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for options in [
        0,
        ZX_VMO_CHILD_RESIZABLE,
        ZX_VMO_CHILD_NO_WRITE,
        SNAP | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
        SNAP | (1 << 12),
        ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | (1 << 1),
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
fn a_slice_with_any_other_type_bit_is_invalid_args_but_no_write_is_fine() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    for extra in [
        SNAP,
        ZX_VMO_CHILD_RESIZABLE,
        ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    ] {
        assert_eq!(status_of(&p, v, SLICE | extra, 0, P), ZX_ERR_INVALID_ARGS);
    }
    let c = make(&p, v, SLICE | ZX_VMO_CHILD_NO_WRITE, 0, P);
    assert_eq!(rights(&p, c) & ZX_RIGHT_WRITE, 0);
    assert_eq!(vmo_info(&p, c).flags & ZX_INFO_VMO_IMMUTABLE, 0);
}

#[test]
fn references_check_their_arguments_then_are_made() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let r = ZX_VMO_CHILD_REFERENCE;
    assert_eq!(status_of(&p, v, r, P, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, r, 0, P), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, r | SNAP, 0, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, r, 0, 0), ZX_OK);
    assert_eq!(
        status_of(&p, v, r | ZX_VMO_CHILD_RESIZABLE, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
}

#[test]
fn snapshot_with_unaligned_offset_or_overflowing_size_fails() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(status_of(&p, v, SNAP, 1, P), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, SNAP, 0, u64::MAX), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(status_of(&p, v, SNAP, !(P - 1), 2 * P), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(
        status_of(&p, v, SNAP, 0, (1 << 48) + P),
        ZX_ERR_OUT_OF_RANGE
    );
    // The cache policy is checked before the offset.
    let u = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(u, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    assert_eq!(status_of(&p, u, SNAP, 1, P), ZX_ERR_BAD_STATE);
}

#[test]
fn children_of_an_uncached_parent_are_bad_state() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    assert_eq!(status_of(&p, v, SNAP, 0, P), ZX_ERR_BAD_STATE);
    assert_eq!(
        status_of(&p, v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, P),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(status_of(&p, v, SLICE, 0, P), ZX_ERR_BAD_STATE);
    // The slice's range is checked first.
    assert_eq!(status_of(&p, v, SLICE, 0, 2 * P), ZX_ERR_INVALID_ARGS);
}

#[test]
fn failed_copy_out_of_the_child_handle_leaves_no_child() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"x");
    let handles = vmo_handle_count(&p);
    let frames = p.frames_in_use();
    for options in [SNAP, SLICE] {
        let st = p.zx_vmo_create_child(v, options, 0, P, UNMAPPED);
        assert_eq!(st, ZX_ERR_INVALID_ARGS);
    }
    assert_eq!(vmo_handle_count(&p), handles);
    assert_eq!(vmo_info(&p, v).num_children, 0);
    assert_eq!(p.frames_in_use(), frames);
    // The parent is no COW relative any more: decommit works.
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
}

// ---- rights and state of the new handle (8.7.3) ----

#[test]
fn snapshot_rights_follow_the_spec_examples() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let c = make(&p, v, SNAP, 0, P);
    assert_eq!(rights(&p, c), 0xD0EF);
    let c = make(&p, v, SNAP | ZX_VMO_CHILD_RESIZABLE, 0, P);
    assert_eq!(rights(&p, c), 0x40_D0EF);
    let c = make(&p, v, SNAP | ZX_VMO_CHILD_NO_WRITE, 0, P);
    assert_eq!(rights(&p, c), 0xD0E7);
    let c = make(&p, v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, P);
    assert_eq!(rights(&p, c), 0xD0EF);
    let reduced = dup(&p, v, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    let c = make(&p, reduced, SNAP, 0, P);
    assert_eq!(
        rights(&p, c),
        ZX_RIGHT_DUPLICATE
            | ZX_RIGHT_READ
            | ZX_RIGHT_WRITE
            | ZX_RIGHT_MAP
            | ZX_RIGHT_GET_PROPERTY
            | ZX_RIGHT_SET_PROPERTY
    );
}

#[test]
fn slices_keep_the_parent_handles_rights_and_snapshots_gain_write() {
    // Handles to paged VMOs never hold EXECUTE here (no replace_as_executable), so
    // what is left to see is WRITE: a slice does not gain it, a snapshot does.
    let p = new_process();
    let v = vmo(&p, PAGE);
    let reduced = dup(&p, v, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    let s = make(&p, reduced, SLICE, 0, P);
    assert_eq!(
        rights(&p, s),
        ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHTS_PROPERTY
    );
    let c = make(&p, reduced, SNAP, 0, P);
    assert_eq!(rights(&p, c) & ZX_RIGHT_EXECUTE, 0);
    assert_ne!(rights(&p, c) & ZX_RIGHT_WRITE, 0);
    assert_eq!(rights(&p, make(&p, v, SLICE, 0, P)), 0xD0EF);
    // A resizable parent's RESIZE does not pass to a non-resizable snapshot.
    let r = vmo_with(&p, P, ZX_VMO_RESIZABLE);
    let c = make(&p, r, SNAP, 0, P);
    assert_eq!(rights(&p, c) & ZX_RIGHT_RESIZE, 0);
    assert_eq!(p.zx_vmo_set_size(c, 2 * P), ZX_ERR_UNAVAILABLE);
}

#[test]
fn a_no_write_snapshot_is_immutable_and_refuses_writes() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"ro");
    let c = make(&p, v, SNAP | ZX_VMO_CHILD_NO_WRITE, 0, P);
    let info = vmo_info(&p, c);
    assert_ne!(info.flags & ZX_INFO_VMO_IMMUTABLE, 0);
    assert_ne!(info.flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
    assert_eq!(vmo_read(&p, c, 0, 2), b"ro");
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_write(c, b, 0, 1), ZX_ERR_ACCESS_DENIED);
    assert_eq!(
        p.zx_vmar_map(p.zx_vmar_root_self(), RW, 0, c, 0, PAGE, out(&p, OUT1)),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(vmo_info(&p, v).flags & ZX_INFO_VMO_IMMUTABLE, 0);
}

fn set_name(p: &TestProcess, h: u32, name: &[u8]) {
    let b = p.scratch() + BUF;
    p.write_memory(b, name).unwrap();
    assert_eq!(
        p.zx_object_set_property(h, ZX_PROP_NAME, b, name.len()),
        ZX_OK
    );
}

#[test]
fn the_name_is_copied_only_through_a_handle_with_get_property() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    set_name(&p, v, b"parent-name");
    let c = make(&p, v, SNAP, 0, P);
    assert_eq!(vmo_info(&p, c).name(), b"parent-name");
    let s = make(&p, v, SLICE, 0, P);
    assert_eq!(vmo_info(&p, s).name(), b"parent-name");
    let blind = dup(&p, v, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ);
    let c = make(&p, blind, SNAP, 0, P);
    assert_eq!(vmo_info(&p, c).name(), b"");
}

#[test]
fn the_content_size_is_the_size_asked_for() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let c = make(&p, v, SNAP, 0, 5000);
    assert_eq!(vmo_size(&p, c), 2 * P);
    let o = out(&p, OUT1);
    assert_eq!(
        p.zx_object_get_property(c, ZX_PROP_VMO_CONTENT_SIZE, o, 8),
        ZX_OK
    );
    assert_eq!(read_u64(&p, o), 5000);
}

#[test]
fn info_reports_parent_children_and_flags() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let parent_koid = basic(&p, v).koid;
    let c = make(&p, v, SNAP | ZX_VMO_CHILD_RESIZABLE, 0, P);
    let s = make(&p, v, SLICE, P, P);
    let ci = vmo_info(&p, c);
    let si = vmo_info(&p, s);
    assert_eq!((ci.parent_koid, si.parent_koid), (parent_koid, parent_koid));
    assert_ne!(ci.flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
    assert_ne!(ci.flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(
        si.flags & (ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_RESIZABLE),
        0
    );
    assert_ne!(si.flags & ZX_INFO_VMO_TYPE_PAGED, 0);
    let vi = vmo_info(&p, v);
    assert_eq!((vi.parent_koid, vi.num_children), (0, 2));
    assert_eq!(vi.flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
    assert_eq!(si.size_bytes, P);
}

#[test]
fn num_children_drops_when_the_last_handle_and_mapping_go() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let c = make(&p, v, SNAP, 0, P);
    let c2 = dup(&p, c, ZX_RIGHT_SAME_RIGHTS);
    let a = map_rw(&p, c, 1);
    close(&p, c);
    close(&p, c2);
    assert_eq!(
        vmo_info(&p, v).num_children,
        1,
        "a mapping keeps the child alive"
    );
    raw_write(a, 1);
    assert_eq!(p.zx_vmar_unmap(p.zx_vmar_root_self(), a, PAGE), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_children, 0);
    let s = make(&p, v, SLICE, 0, P);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    close(&p, s);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

// ---- snapshots: isolation (7, 8.7.2) ----

#[test]
fn snapshot_copies_contents_and_then_is_isolated_through_byte_io() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"before");
    let c = make(&p, v, SNAP, 0, 2 * P);
    assert_eq!(vmo_read(&p, c, 0, 6), b"before");
    vmo_write(&p, v, 0, b"parent");
    vmo_write(&p, c, 100, b"child");
    assert_eq!(vmo_read(&p, c, 0, 6), b"before");
    assert_eq!(vmo_read(&p, c, 100, 5), b"child");
    assert_eq!(vmo_read(&p, v, 0, 6), b"parent");
    assert_eq!(vmo_read(&p, v, 100, 5), [0; 5]);
}

#[test]
fn snapshot_at_least_on_write_isolates_written_pages() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, P, b"old");
    let c = make(&p, v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 2 * P);
    vmo_write(&p, c, 0, b"mine");
    vmo_write(&p, v, P, b"new");
    assert_eq!(vmo_read(&p, v, 0, 4), [0; 4]);
    assert_eq!(vmo_read(&p, c, 0, 4), b"mine");
    // Anonymous memory gets a true snapshot: the page the child never wrote keeps
    // what the parent held at creation.
    assert_eq!(vmo_read(&p, c, P, 3), b"old");
    assert_ne!(vmo_info(&p, c).flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
}

#[test]
fn raw_stores_on_the_parent_after_the_snapshot_are_not_seen_by_the_child() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let a = map_rw(&p, v, 2);
    raw_write(a, 1);
    raw_write(a + PAGE, 2);
    let c = make(&p, v, SNAP, 0, 2 * P);
    // The parent's translations were made read-only: these stores fault and copy.
    raw_write(a, 10);
    raw_write(a + PAGE + 1, 20);
    assert_eq!(raw_read(a), 10);
    assert_eq!(vmo_read(&p, c, 0, 1), [1]);
    assert_eq!(vmo_read(&p, c, P, 2), [2, 0]);
    assert_eq!(vmo_read(&p, v, 0, 1), [10]);
}

#[test]
fn a_mapping_of_the_snapshot_is_demand_paged_and_private() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE);
    vmo_write(&p, v, 0, b"abc");
    vmo_write(&p, v, 2 * P, b"z");
    let c = make(&p, v, SNAP, 0, 3 * P);
    let ca = map_rw(&p, c, 3);
    assert_eq!((raw_read(ca), raw_read(ca + 1)), (b'a', b'b'));
    assert_eq!(raw_read(ca + PAGE), 0);
    raw_write(ca, b'X');
    raw_write(ca + PAGE, b'Y');
    assert_eq!(vmo_read(&p, c, 0, 3), b"Xbc");
    assert_eq!(vmo_read(&p, v, 0, 3), b"abc");
    assert_eq!(vmo_read(&p, v, P, 1), [0]);
    // The parent's later byte writes do not reach the child's mapping.
    vmo_write(&p, v, 2 * P, b"q");
    assert_eq!(raw_read(ca + 2 * PAGE), b'z');
}

#[test]
fn raw_stores_on_both_sides_through_both_mappings_stay_apart() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let pa = map_rw(&p, v, 1);
    raw_write(pa + 7, 7);
    let c = make(&p, v, SNAP, 0, P);
    let ca = map_rw(&p, c, 1);
    assert_eq!((raw_read(pa + 7), raw_read(ca + 7)), (7, 7));
    raw_write(ca + 7, 70);
    raw_write(pa + 8, 80);
    assert_eq!((raw_read(pa + 7), raw_read(pa + 8)), (7, 80));
    assert_eq!((raw_read(ca + 7), raw_read(ca + 8)), (70, 0));
}

#[test]
fn the_kernels_user_copy_into_a_snapshot_mapping_copies_on_write() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"orig");
    let c = make(&p, v, SNAP, 0, P);
    let ca = map_rw(&p, c, 1);
    // zx_vmo_read writes into user memory: here, the snapshot's shared page.
    let src = vmo(&p, PAGE);
    vmo_write(&p, src, 0, b"copy");
    assert_eq!(p.zx_vmo_read(src, ca, 0, 4), ZX_OK);
    assert_eq!(vmo_read(&p, c, 0, 4), b"copy");
    assert_eq!(vmo_read(&p, v, 0, 4), b"orig");
    assert_eq!(raw_read(ca), b'c');
}

#[test]
fn closing_the_parent_first_leaves_the_child_its_contents() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let pa = map_rw(&p, v, 2);
    raw_write(pa, 5);
    vmo_write(&p, v, P, b"kept");
    let c = make(&p, v, SNAP, 0, 2 * P);
    let koid = basic(&p, v).koid;
    assert_eq!(p.zx_vmar_unmap(p.zx_vmar_root_self(), pa, 2 * PAGE), ZX_OK);
    close(&p, v);
    assert_eq!(vmo_read(&p, c, 0, 1), [5]);
    assert_eq!(vmo_read(&p, c, P, 4), b"kept");
    vmo_write(&p, c, P, b"mine");
    assert_eq!(vmo_read(&p, c, P, 4), b"mine");
    assert_eq!(vmo_info(&p, c).parent_koid, koid);
}

#[test]
fn snapshots_of_snapshots_are_isolated_from_every_relative() {
    let p = new_process();
    let a = vmo(&p, PAGE);
    vmo_write(&p, a, 0, b"1");
    let b = make(&p, a, SNAP, 0, P);
    let c = make(&p, b, SNAP, 0, P);
    let d = make(&p, b, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, P);
    assert_eq!(vmo_info(&p, b).num_children, 2);
    assert_eq!(vmo_info(&p, c).parent_koid, basic(&p, b).koid);
    vmo_write(&p, b, 0, b"2");
    vmo_write(&p, c, 0, b"3");
    assert_eq!(vmo_read(&p, a, 0, 1), b"1");
    assert_eq!(vmo_read(&p, b, 0, 1), b"2");
    assert_eq!(vmo_read(&p, c, 0, 1), b"3");
    assert_eq!(vmo_read(&p, d, 0, 1), b"1");
    close(&p, b);
    close(&p, a);
    assert_eq!(vmo_read(&p, d, 0, 1), b"1");
    assert_eq!(vmo_read(&p, c, 0, 1), b"3");
}

#[test]
fn a_snapshot_past_the_parent_end_reads_zeros_there_and_keeps_it_private() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, P, b"tail");
    let c = make(&p, v, SNAP, P, 3 * P);
    assert_eq!(vmo_size(&p, c), 3 * P);
    assert_eq!(vmo_read(&p, c, 0, 4), b"tail");
    assert_eq!(vmo_read(&p, c, P, 4), [0; 4]);
    vmo_write(&p, c, 2 * P, b"past");
    assert_eq!(vmo_read(&p, c, 2 * P, 4), b"past");
    // Starting entirely past the end works too.
    let far = make(&p, v, SNAP, 16 * P, P);
    assert_eq!(vmo_read(&p, far, 0, 4), [0; 4]);
    let a = map_rw(&p, far, 1);
    raw_write(a, 1);
    assert_eq!(vmo_read(&p, far, 0, 1), [1]);
}

#[test]
fn a_resizable_snapshot_grows_and_shrinks_without_touching_the_parent() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &[9; 2 * PAGE]);
    let c = make(&p, v, SNAP | ZX_VMO_CHILD_RESIZABLE, 0, 2 * P);
    assert_ne!(vmo_info(&p, c).flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(p.zx_vmo_set_size(c, P), ZX_OK);
    assert_eq!(p.zx_vmo_set_size(c, 3 * P), ZX_OK);
    assert_eq!(vmo_read(&p, c, 0, 1), [9]);
    assert_eq!(vmo_read(&p, c, P, 1), [0]);
    assert_eq!(vmo_read(&p, v, P, 1), [9]);
    let fixed = make(&p, v, SNAP, 0, P);
    assert_eq!(p.zx_vmo_set_size(fixed, 2 * P), ZX_ERR_UNAVAILABLE);
}

#[test]
fn zero_on_a_snapshot_leaves_the_parent_alone() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &[3; 2 * PAGE]);
    let c = make(&p, v, SNAP, 0, 2 * P);
    assert_eq!(
        p.zx_vmo_op_range(c, ZX_VMO_OP_ZERO, 10, P + 10, 0, 0),
        ZX_OK
    );
    assert_eq!(vmo_read(&p, c, 9, 2), [3, 0]);
    assert_eq!(vmo_read(&p, c, P + 19, 2), [0, 3]);
    assert_eq!(vmo_read(&p, v, 10, 1), [3]);
    assert_eq!(vmo_read(&p, v, P + 19, 1), [3]);
}

// ---- frame accounting ----

#[test]
fn a_snapshot_costs_no_frames_until_written_and_frees_each_frame_once() {
    let p = new_process();
    let base = p.frames_in_use();
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 0, &[1; 4 * PAGE]);
    assert_eq!(p.frames_in_use(), base + 4);
    let c = make(&p, v, SNAP, 0, 4 * P);
    assert_eq!(p.frames_in_use(), base + 4, "a snapshot copied frames");
    vmo_write(&p, c, 0, b"c");
    vmo_write(&p, v, P, b"p");
    assert_eq!(p.frames_in_use(), base + 6);
    close(&p, v);
    // The child keeps its private page and the three it still shares.
    assert_eq!(p.frames_in_use(), base + 4);
    vmo_write(&p, c, 2 * P, b"now private without a copy");
    assert_eq!(p.frames_in_use(), base + 4);
    close(&p, c);
    assert_eq!(p.frames_in_use(), base);
}

#[test]
fn a_chain_of_snapshots_closed_in_any_order_frees_everything() {
    let p = new_process();
    let base = p.frames_in_use();
    let mut handles = vec![vmo(&p, 2 * PAGE)];
    vmo_write(&p, handles[0], 0, &[1; 2 * PAGE]);
    for i in 0..6u8 {
        let last = *handles.last().unwrap();
        let c = make(&p, last, SNAP, 0, 2 * P);
        vmo_write(&p, c, u64::from(i % 2) * P, &[i]);
        handles.push(c);
    }
    for (i, &h) in handles.iter().enumerate() {
        let expect = if i == 0 { 1 } else { i as u8 - 1 };
        let at = if i == 0 {
            0
        } else {
            u64::from((i as u8 - 1) % 2) * P
        };
        assert_eq!(vmo_read(&p, h, at, 1), [expect], "handle {i}");
    }
    for &i in &[3usize, 0, 6, 1, 5, 2, 4] {
        close(&p, handles[i]);
    }
    assert_eq!(p.frames_in_use(), base);
}

// ---- slices (8.7.1) ----

#[test]
fn slice_shares_pages_with_its_parent_both_ways() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 2 * P, b"shared");
    let c = make(&p, v, SLICE, 2 * P, 2 * P);
    assert_eq!(vmo_read(&p, c, 0, 6), b"shared");
    vmo_write(&p, c, 10, b"back");
    assert_eq!(vmo_read(&p, v, 2 * P + 10, 4), b"back");
    vmo_write(&p, v, 3 * P, b"fwd");
    assert_eq!(vmo_read(&p, c, P, 3), b"fwd");
    assert_eq!(vmo_info(&p, c).flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
}

#[test]
fn slice_writes_through_mappings_reach_the_parent_and_back() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    let s = make(&p, v, SLICE, P, 2 * P);
    let sa = map_rw(&p, s, 2);
    let va = map_rw(&p, v, 4);
    raw_write(sa + 3, 33);
    assert_eq!(raw_read(va + PAGE + 3), 33);
    raw_write(va + 2 * PAGE, 44);
    assert_eq!(raw_read(sa + PAGE), 44);
    assert_eq!(vmo_read(&p, v, P + 3, 1), [33]);
    assert_eq!(vmo_read(&p, s, P, 1), [44]);
    // The slice's pages are the parent's.
    assert_eq!(committed(&p, v), 2 * P);
}

#[test]
fn a_slice_of_a_slice_is_a_window_onto_the_root() {
    let p = new_process();
    let v = vmo(&p, 8 * PAGE);
    vmo_write(&p, v, 5 * P, b"five");
    let s = make(&p, v, SLICE, 2 * P, 5 * P);
    let ss = make(&p, s, SLICE, 3 * P, 2 * P);
    assert_eq!(vmo_read(&p, ss, 0, 4), b"five");
    vmo_write(&p, ss, P, b"six");
    assert_eq!(vmo_read(&p, v, 6 * P, 3), b"six");
    assert_eq!(vmo_info(&p, ss).parent_koid, basic(&p, s).koid);
    assert_eq!(vmo_info(&p, s).num_children, 1);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    // Bounds are the slice's own.
    assert_eq!(status_of(&p, s, SLICE, 4 * P, 2 * P), ZX_ERR_INVALID_ARGS);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(ss, b, 2 * P, 1), ZX_ERR_OUT_OF_RANGE);
    // The root outlives its handle while a slice shows it.
    close(&p, v);
    close(&p, s);
    assert_eq!(vmo_read(&p, ss, P, 3), b"six");
}

#[test]
fn slice_bounds_and_size_zero() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    assert_eq!(status_of(&p, v, SLICE, P, 2 * P), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, SLICE, 1, P), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, SLICE, 3 * P, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(status_of(&p, v, SLICE, 0, u64::MAX), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(
        status_of(&p, v, SLICE, !(P - 1), 2 * P),
        ZX_ERR_OUT_OF_RANGE
    );
    // A slice's size is rounded up to pages.
    let s = make(&p, v, SLICE, P, 1);
    assert_eq!(vmo_size(&p, s), P);
    let z = make(&p, v, SLICE, 2 * P, 0);
    assert_eq!(vmo_size(&p, z), 0);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(z, b, 0, 1), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(p.zx_vmo_write(z, b, 0, 1), ZX_ERR_OUT_OF_RANGE);
}

#[test]
fn slices_are_never_resizable_and_need_a_fixed_size_parent() {
    let p = new_process();
    let r = vmo_with(&p, P, ZX_VMO_RESIZABLE);
    assert_eq!(status_of(&p, r, SLICE, 0, P), ZX_ERR_NOT_SUPPORTED);
    // A resizable snapshot cannot be sliced either, a fixed one can.
    let v = vmo(&p, PAGE);
    let rc = make(&p, v, SNAP | ZX_VMO_CHILD_RESIZABLE, 0, P);
    assert_eq!(status_of(&p, rc, SLICE, 0, P), ZX_ERR_NOT_SUPPORTED);
    let fc = make(&p, v, SNAP, 0, P);
    let s = make(&p, fc, SLICE, 0, P);
    assert_eq!(rights(&p, s) & ZX_RIGHT_RESIZE, 0);
    assert_eq!(p.zx_vmo_set_size(s, 2 * P), ZX_ERR_UNAVAILABLE);
    vmo_write(&p, s, 0, b"s");
    assert_eq!(vmo_read(&p, fc, 0, 1), b"s");
    assert_eq!(vmo_read(&p, v, 0, 1), [0]);
}

#[test]
fn decommit_through_a_slice_or_the_root_empties_every_mapping() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    let s = make(&p, v, SLICE, P, 2 * P);
    let sa = map_rw(&p, s, 2);
    raw_write(sa, 1);
    raw_write(sa + PAGE, 2);
    assert_eq!(committed(&p, v), 2 * P);
    assert_eq!(p.zx_vmo_op_range(s, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
    assert_eq!(committed(&p, v), P);
    assert_eq!(raw_read(sa), 0);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 2 * P, P, 0, 0),
        ZX_OK
    );
    assert_eq!(raw_read(sa + PAGE), 0);
    assert_eq!(committed(&p, v), 0);
    // ZERO on the root reaches the slice's mapping too.
    raw_write(sa + 5, 5);
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, P, P, 0, 0), ZX_OK);
    assert_eq!(raw_read(sa + 5), 0);
    // Out of the slice's range.
    assert_eq!(
        p.zx_vmo_op_range(s, ZX_VMO_OP_DECOMMIT, 2 * P, P, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
}

// ---- decommit and cache policy (8.5, 8.10) ----

#[test]
fn decommit_is_not_supported_for_a_snapshot_or_a_parent_of_one() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &[1; 2 * PAGE]);
    let c = make(&p, v, SNAP, 0, 2 * P);
    assert_eq!(
        p.zx_vmo_op_range(c, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    // Through a mapping, too.
    let a = map_rw(&p, c, 2);
    assert_eq!(
        p.zx_vmar_op_range(p.zx_vmar_root_self(), ZX_VMAR_OP_DECOMMIT, a, PAGE, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    // A slice of a parent of a snapshot forwards to a root that refuses.
    let s = make(&p, v, SLICE, 0, P);
    assert_eq!(
        p.zx_vmo_op_range(s, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(p.zx_vmar_unmap(p.zx_vmar_root_self(), a, 2 * PAGE), ZX_OK);
    close(&p, c);
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 1), [0]);
    assert_eq!(vmo_read(&p, v, P, 1), [1]);
}

#[test]
fn cache_policy_is_bad_state_for_a_parent_with_children_and_for_a_child() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let c = make(&p, v, SNAP, 0, P);
    let s = make(&p, v, SLICE, 0, P);
    for h in [v, c, s] {
        assert_eq!(
            p.zx_vmo_set_cache_policy(h, ZX_CACHE_POLICY_UNCACHED),
            ZX_ERR_BAD_STATE
        );
        assert_eq!(
            p.zx_vmo_set_cache_policy(h, ZX_CACHE_POLICY_CACHED),
            ZX_ERR_BAD_STATE
        );
    }
    close(&p, c);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_BAD_STATE
    );
    close(&p, s);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
}

#[test]
fn disjoint_snapshots_closed_in_every_order_keep_their_pages() {
    // Four one-page snapshots, two through an intermediate snapshot; the parents
    // go first, then the leaves in each of the 24 orders.
    let orders = permutations(4);
    assert_eq!(orders.len(), 24);
    let p = new_process();
    let base = p.frames_in_use();
    for order in orders {
        let v = vmo(&p, 4 * PAGE);
        for i in 0..4u8 {
            vmo_write(&p, v, u64::from(i) * P, &[i + 1]);
        }
        let mid = make(&p, v, SNAP, P, 2 * P);
        let leaves = [
            make(&p, v, SNAP, 0, P),
            make(&p, mid, SNAP, 0, P),
            make(&p, mid, SNAP, P, P),
            make(&p, v, SNAP, 3 * P, P),
        ];
        close(&p, v);
        close(&p, mid);
        let mut open = [true; 4];
        for i in order {
            close(&p, leaves[i]);
            open[i] = false;
            for (j, &h) in leaves.iter().enumerate() {
                if open[j] {
                    assert_eq!(vmo_read(&p, h, 0, 1), [j as u8 + 1]);
                }
            }
        }
        assert_eq!(p.frames_in_use(), base);
    }
}

/// Every order of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut order = rest.clone();
            order.insert(at, n - 1);
            out.push(order);
        }
    }
    out
}

#[test]
fn snapshots_of_an_empty_vmo_commit_only_what_each_writes() {
    let p = new_process();
    let base = p.frames_in_use();
    let a = vmo(&p, PAGE);
    let b = make(&p, a, SNAP, 0, P);
    let c = make(&p, a, SNAP, 0, P);
    let d = make(&p, b, SNAP, 0, P);
    let all = [a, b, c, d];
    for (i, &h) in all.iter().enumerate() {
        vmo_write(&p, h, 0, &[i as u8 + 1]);
        for (j, &g) in all.iter().enumerate() {
            let expect = if j <= i { j as u8 + 1 } else { 0 };
            assert_eq!(vmo_read(&p, g, 0, 1), [expect]);
            assert_eq!(committed(&p, g), if j <= i { P } else { 0 });
        }
        assert_eq!(p.frames_in_use(), base + i + 1);
    }
}

#[test]
fn parent_and_snapshot_written_from_two_threads_at_once_stay_apart() {
    const PAGES: usize = 64;
    let p = new_process();
    let v = vmo(&p, PAGES * PAGE);
    let pa = map_rw(&p, v, PAGES);
    for i in 0..PAGES {
        raw_write(pa + i * PAGE, 1);
    }
    let c = make(&p, v, SNAP, 0, (PAGES * PAGE) as u64);
    let ca = map_rw(&p, c, PAGES);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..PAGES {
                raw_write(pa + i * PAGE + 1, 2);
            }
        });
        s.spawn(|| {
            for i in (0..PAGES).rev() {
                raw_write(ca + i * PAGE + 2, 3);
            }
        });
    });
    for i in 0..PAGES {
        let at = i * PAGE;
        assert_eq!(
            (
                raw_read(pa + at),
                raw_read(pa + at + 1),
                raw_read(pa + at + 2)
            ),
            (1, 2, 0)
        );
        assert_eq!(
            (
                raw_read(ca + at),
                raw_read(ca + at + 1),
                raw_read(ca + at + 2)
            ),
            (1, 0, 3)
        );
    }
}

#[test]
fn a_snapshot_of_a_slice_is_isolated_and_holds_off_the_roots_decommit() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, P, b"root");
    let s = make(&p, v, SLICE, P, P);
    let c = make(&p, s, SNAP, 0, 2 * P);
    assert_eq!(vmo_info(&p, c).parent_koid, basic(&p, s).koid);
    assert_eq!(vmo_read(&p, c, 0, 4), b"root");
    vmo_write(&p, s, 0, b"SLCE");
    assert_eq!(vmo_read(&p, c, 0, 4), b"root");
    assert_eq!(vmo_read(&p, v, P, 4), b"SLCE");
    for h in [v, s, c] {
        assert_eq!(
            p.zx_vmo_op_range(h, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
            ZX_ERR_NOT_SUPPORTED
        );
    }
    close(&p, c);
    assert_eq!(p.zx_vmo_op_range(s, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, P, 4), [0; 4]);
}

// ---- a child holds its parent ----

#[test]
fn closing_a_snapshot_that_has_children_leaves_its_parent_counting_it() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"v");
    let s = make(&p, v, SNAP, 0, 2 * P);
    let g = make(&p, s, SNAP, 0, P);
    close(&p, s);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    assert_eq!(vmo_read(&p, g, 0, 1), b"v");
    close(&p, g);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn an_empty_decommit_of_a_snapshot_or_its_parent_is_ok() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &[1; 2 * PAGE]);
    let s = make(&p, v, SNAP, 0, 2 * P);
    for h in [v, s] {
        assert_eq!(p.zx_vmo_op_range(h, ZX_VMO_OP_DECOMMIT, P, 0, 0, 0), ZX_OK);
        assert_eq!(
            p.zx_vmo_op_range(h, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
            ZX_ERR_NOT_SUPPORTED
        );
    }
    assert_eq!(vmo_read(&p, s, 0, 1), [1]);
}
