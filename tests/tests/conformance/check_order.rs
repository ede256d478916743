//! The order in which calls check their arguments, where the spec pins it and two
//! faults at once make it observable (docs/ABI.md §1.3, 6.x, 8.x).

use crate::helpers::*;

#[test]
fn map_reports_a_missing_vmo_right_before_an_unaligned_offset() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    let st = p.zx_vmar_map(p.zx_vmar_root_self(), RW, 0, ro, 1, PAGE, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_ACCESS_DENIED);
}

#[test]
fn map_reports_require_non_resizable_before_an_unaligned_offset() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    let st = p.zx_vmar_map(
        p.zx_vmar_root_self(),
        R | ZX_VM_REQUIRE_NON_RESIZABLE,
        0,
        v,
        1,
        PAGE,
        out(&p, OUT2),
    );
    assert_eq!(st, ZX_ERR_NOT_SUPPORTED);
}

#[test]
fn map_reports_an_unaligned_offset_before_a_dead_region() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(
        p.zx_vmar_map(r, R, 0, v, 1, PAGE, out(&p, OUT2)),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmar_map(r, R, 0, v, 0, 0, out(&p, OUT2)),
        ZX_ERR_BAD_STATE
    );
}

#[test]
fn map_with_xom_flag_still_needs_execute_on_the_vmo() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let st = p.zx_vmar_map(
        p.zx_vmar_root_self(),
        ZX_VM_PERM_EXECUTE | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED,
        0,
        v,
        0,
        PAGE,
        out(&p, OUT2),
    );
    assert_eq!(st, ZX_ERR_ACCESS_DENIED);
}

#[test]
fn allocate_reports_a_dead_parent_before_a_bad_offset() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    let st = p.zx_vmar_allocate(r, RW_CAN, PAGE, PAGE, out(&p, OUT0), out(&p, OUT1));
    assert_eq!(st, ZX_ERR_BAD_STATE);
}

#[test]
fn allocate_reports_a_missing_right_before_a_zero_size() {
    let p = new_process();
    let (r, _) = allocate(&p, p.zx_vmar_root_self(), ZX_VM_CAN_MAP_READ, 0, 2 * PAGE);
    let st = p.zx_vmar_allocate(r, RW_CAN, 0, 0, out(&p, OUT0), out(&p, OUT1));
    assert_eq!(st, ZX_ERR_ACCESS_DENIED);
}

#[test]
fn protect_walk_reports_whichever_fault_comes_first() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    // Page 0: maximum R; page 1: hole; page 2: maximum RW.
    map(&p, r, R | ZX_VM_SPECIFIC, 0, ro, 0, PAGE);
    map_at(&p, r, 2, v, 1);
    assert_eq!(
        p.zx_vmar_protect(r, RW, base, 3 * PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_vmar_protect(r, RW, base + PAGE, 2 * PAGE),
        ZX_ERR_NOT_FOUND
    );
    // Page 3 is a hole after a good mapping.
    assert_eq!(
        p.zx_vmar_protect(r, R, base + 2 * PAGE, 2 * PAGE),
        ZX_ERR_NOT_FOUND
    );
    assert!(writable(&p, base + 2 * PAGE));
}

#[test]
fn protect_reports_a_dead_region_before_a_range_outside_it() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(p.zx_vmar_protect(r, R, base, 8 * PAGE), ZX_ERR_BAD_STATE);
}

#[test]
fn unmap_reports_a_dead_region_before_a_range_outside_it() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(p.zx_vmar_unmap(r, base, 8 * PAGE), ZX_ERR_BAD_STATE);
}

#[test]
fn op_range_reports_rights_then_buffer_then_range_then_state() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let ro = dup(&p, r, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_vmar_op_range(ro, ZX_VMAR_OP_COMMIT, base + 1, 0, b, 8),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base + 1, 0, b, 8),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    // Outside the (dead) region: the range check comes before the state check.
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, 2 * PAGE, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, PAGE, 0, 0),
        ZX_ERR_BAD_STATE
    );
}

#[test]
fn op_range_rejects_an_unknown_op_before_checking_rights() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let none = dup(&p, r, 0);
    assert_eq!(
        p.zx_vmar_op_range(none, 4, base, PAGE, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn vmo_op_range_checks_the_right_before_the_range_and_rejects_unknown_ops_first() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let none = dup(&p, v, 0);
    assert_eq!(p.zx_vmo_op_range(none, 77, 0, 1, 0, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmo_op_range(none, ZX_VMO_OP_COMMIT, 0, u64::MAX, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn wrong_type_wins_over_missing_rights() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let none = dup(&p, v, 0);
    let (r, _) = region(&p, 1);
    let bare = dup(&p, r, 0);
    assert_eq!(p.zx_vmar_unmap(none, 0, PAGE), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_vmar_destroy(none), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_vmo_read(bare, p.scratch() + BUF, 0, 1),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(p.zx_vmo_set_size(bare, 0), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_vmo_set_cache_policy(bare, 0), ZX_ERR_WRONG_TYPE);
}

#[test]
fn set_size_checks_write_then_resize_then_overflow() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    let no_resize = dup(&p, v, rights(&p, v) & !ZX_RIGHT_RESIZE);
    assert_eq!(p.zx_vmo_set_size(no_resize, u64::MAX), ZX_ERR_ACCESS_DENIED);
    let no_write = dup(&p, v, rights(&p, v) & !ZX_RIGHT_WRITE);
    assert_eq!(p.zx_vmo_set_size(no_write, u64::MAX), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn property_rights_are_checked_before_the_property_number() {
    let p = new_process();
    let b = p.scratch() + BUF;
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_object_get_property(root, 9999, b, 64),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_object_get_property(root, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn duplicate_checks_the_right_before_the_requested_rights() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let nodup = dup(&p, v, ZX_RIGHT_READ);
    let st = p.zx_handle_duplicate(nodup, ZX_RIGHT_WRITE, out(&p, OUT0));
    assert_eq!(st, ZX_ERR_ACCESS_DENIED);
}

#[test]
fn op_range_reports_whichever_of_a_piece_failure_and_a_gap_comes_first() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    // Page 0: a mapping whose maximum lacks WRITE; page 1: a gap; page 2: the same again.
    map(&p, r, R | ZX_VM_SPECIFIC, 0, ro, 0, PAGE);
    map(&p, r, R | ZX_VM_SPECIFIC, 2 * PAGE, ro, 0, PAGE);
    let op = |addr: usize, len: usize| p.zx_vmar_op_range(r, ZX_VMAR_OP_DECOMMIT, addr, len, 0, 0);
    assert_eq!(op(base, 2 * PAGE), ZX_ERR_ACCESS_DENIED);
    assert_eq!(op(base + PAGE, 2 * PAGE), ZX_ERR_BAD_STATE);
}
