//! `zx_vmar_op_range` (docs/ABI.md §6.6).

use crate::helpers::*;

fn op(p: &TestProcess, vmar: u32, op: u32, addr: usize, size: usize) -> i32 {
    p.zx_vmar_op_range(vmar, op, addr, size, 0, 0)
}

#[test]
fn commit_commits_the_pages_behind_the_range() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 4 * PAGE);
    map_at(&p, r, 0, v, 4);
    assert_eq!(op(&p, r, ZX_VMAR_OP_COMMIT, base + PAGE, 2 * PAGE), ZX_OK);
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
    assert_eq!(read_vec(&p, base + PAGE, 2), [0, 0]);
}

#[test]
fn commit_length_is_rounded_up() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 4 * PAGE);
    map_at(&p, r, 0, v, 4);
    assert_eq!(op(&p, r, ZX_VMAR_OP_COMMIT, base, PAGE + 1), ZX_OK);
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
}

#[test]
fn decommit_frees_pages_and_they_read_as_zero() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    p.write_memory(base, &[9u8; 2 * PAGE]).unwrap();
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
    assert_eq!(op(&p, r, ZX_VMAR_OP_DECOMMIT, base, PAGE), ZX_OK);
    assert_eq!(committed(&p, v), PAGE as u64);
    assert_eq!(read_vec(&p, base, 4), [0; 4]);
    assert_eq!(read_vec(&p, base + PAGE, 4), [9; 4]);
}

#[test]
fn unknown_ops_are_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    for code in [0u32, 4, 5, 9, 11, 15, 100, u32::MAX] {
        assert_eq!(
            op(&p, r, code, base, PAGE),
            ZX_ERR_INVALID_ARGS,
            "op {code}"
        );
    }
}

#[test]
fn commit_and_decommit_need_the_write_right() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    let ro = dup(&p, r, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    assert_eq!(
        op(&p, ro, ZX_VMAR_OP_COMMIT, base, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        op(&p, ro, ZX_VMAR_OP_DECOMMIT, base, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn map_range_needs_the_read_right_and_hints_need_none() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    let none = dup(&p, r, ZX_DEFAULT_VMAR_RIGHTS);
    assert_eq!(
        op(&p, none, ZX_VMAR_OP_MAP_RANGE, base, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(op(&p, none, ZX_VMAR_OP_DONT_NEED, base, PAGE), ZX_OK);
    assert_eq!(op(&p, none, ZX_VMAR_OP_ALWAYS_NEED, base, PAGE), ZX_OK);
    assert_eq!(op(&p, r, ZX_VMAR_OP_MAP_RANGE, base, PAGE), ZX_OK);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn a_buffer_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, PAGE, b, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, PAGE, 0, 8),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn zero_size_and_unaligned_address_are_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    assert_eq!(op(&p, r, ZX_VMAR_OP_COMMIT, base, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base + 1, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base, usize::MAX),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn range_leaving_the_region_is_out_of_range() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base, 3 * PAGE),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base - PAGE, PAGE),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn a_gap_in_the_range_is_bad_state() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 1, v, 1);
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base, 2 * PAGE),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base + PAGE, 2 * PAGE),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base + 3 * PAGE, PAGE),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(op(&p, r, ZX_VMAR_OP_COMMIT, base + PAGE, PAGE), ZX_OK);
}

#[test]
fn decommit_of_a_mapping_whose_maximum_lacks_write_is_access_denied() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"k");
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, ro, 0, PAGE);
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_DECOMMIT, base, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(read_vec(&p, base, 1), b"k");
}

#[test]
fn decommit_of_a_read_only_mapping_from_a_writable_handle_is_allowed() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"k");
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    assert_eq!(op(&p, r, ZX_VMAR_OP_DECOMMIT, base, PAGE), ZX_OK);
    assert_eq!(committed(&p, v), 0);
    assert_eq!(read_vec(&p, base, 1), [0]);
}

#[test]
fn commit_over_a_subregion_mapping_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 0, 2 * PAGE);
    let v = vmo(&p, 2 * PAGE);
    let a = map_at(&p, sub, 0, v, 2);
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, a, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_DECOMMIT, a, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(op(&p, sub, ZX_VMAR_OP_COMMIT, a, 2 * PAGE), ZX_OK);
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
}

#[test]
fn commit_past_the_vmo_end_is_out_of_range() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map(&p, r, RW | ZX_VM_SPECIFIC, 0, v, 0, 2 * PAGE);
    assert_eq!(
        op(&p, r, ZX_VMAR_OP_COMMIT, base + PAGE, PAGE),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn op_range_on_wrong_or_bad_handle_fails() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(op(&p, v, ZX_VMAR_OP_COMMIT, 0, PAGE), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        op(&p, ZX_HANDLE_INVALID, ZX_VMAR_OP_COMMIT, 0, PAGE),
        ZX_ERR_BAD_HANDLE
    );
    // The handle comes before the op code.
    assert_eq!(op(&p, ZX_HANDLE_INVALID, 77, 0, PAGE), ZX_ERR_BAD_HANDLE);
}

#[test]
fn op_range_on_a_destroyed_region_is_bad_state() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(op(&p, r, ZX_VMAR_OP_DECOMMIT, base, PAGE), ZX_ERR_BAD_STATE);
}

// ---- ZX_VMAR_OP_ZERO and ZX_VMAR_OP_PREFETCH ----

#[test]
fn vmar_zero_zeroes_the_pages_behind_the_range_and_needs_write() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let v = vmo(&p, 3 * PAGE);
    vmo_write(&p, v, 0, &[5u8; 3 * PAGE]);
    let a = map(&p, root, RW, 0, v, 0, 3 * PAGE);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_ZERO, a + PAGE, PAGE, 0, 0),
        ZX_OK
    );
    assert_eq!(vmo_read(&p, v, PAGE as u64 - 1, 3), [5, 0, 0]);
    assert_eq!(vmo_read(&p, v, 2 * PAGE as u64, 1), [5]);
    // A handle without WRITE, or a mapping whose maximum lacks it: ACCESS_DENIED.
    let ro = dup(&p, root, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    assert_eq!(
        p.zx_vmar_op_range(ro, ZX_VMAR_OP_ZERO, a, PAGE, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
    let v_ro = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    let b = map(&p, root, R, 0, v_ro, 0, PAGE);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_ZERO, b, PAGE, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(vmo_read(&p, v, 0, 1), [5]);
}

#[test]
fn vmar_prefetch_maps_committed_pages_and_commits_nothing() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"x");
    let a = map(&p, root, R, 0, v, 0, 2 * PAGE);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_PREFETCH, a, 2 * PAGE, 0, 0),
        ZX_OK
    );
    assert_eq!(vmo_info(&p, v).committed_bytes, PAGE as u64);
    assert_eq!(read_vec(&p, a, 1), b"x");
    // PREFETCH needs READ on the handle.
    let wo = dup(&p, root, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_WRITE);
    assert_eq!(
        p.zx_vmar_op_range(wo, ZX_VMAR_OP_PREFETCH, a, PAGE, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn vmar_prefetch_inside_a_subregion_is_invalid_args() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let (sub, _) = region(&p, 4);
    let v = vmo(&p, PAGE);
    let a = map(&p, sub, R, 0, v, 0, PAGE);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_PREFETCH, a, PAGE, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmar_op_range(sub, ZX_VMAR_OP_PREFETCH, a, PAGE, 0, 0),
        ZX_OK
    );
}
