//! `zx_vmo_op_range` (docs/ABI.md §8.5).

use crate::helpers::*;

fn op(p: &TestProcess, h: u32, op: u32, offset: u64, size: u64) -> i32 {
    p.zx_vmo_op_range(h, op, offset, size, 0, 0)
}

const P: u64 = PAGE as u64;

#[test]
fn commit_rounds_the_range_out_to_whole_pages() {
    let p = new_process();
    let v = vmo(&p, 8 * PAGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_COMMIT, P - 1, 2), ZX_OK);
    assert_eq!(committed(&p, v), 2 * P);
    assert_eq!(op(&p, v, ZX_VMO_OP_COMMIT, 0, 8 * P), ZX_OK);
    assert_eq!(committed(&p, v), 8 * P);
    assert_eq!(vmo_read(&p, v, 0, 8), [0; 8]);
}

#[test]
fn commit_needs_the_write_right() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ);
    assert_eq!(op(&p, ro, ZX_VMO_OP_COMMIT, 0, P), ZX_ERR_ACCESS_DENIED);
    assert_eq!(op(&p, ro, ZX_VMO_OP_DECOMMIT, 0, P), ZX_ERR_ACCESS_DENIED);
    assert_eq!(op(&p, ro, ZX_VMO_OP_ZERO, 0, P), ZX_ERR_ACCESS_DENIED);
    // The right is checked before the range.
    assert_eq!(
        op(&p, ro, ZX_VMO_OP_COMMIT, u64::MAX, 2),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn decommit_frees_pages_and_they_read_zero() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 0, &vec![3u8; 4 * PAGE]);
    let frames = p.frames_in_use();
    assert_eq!(op(&p, v, ZX_VMO_OP_DECOMMIT, P, 2 * P), ZX_OK);
    assert_eq!(committed(&p, v), 2 * P);
    assert_eq!(p.frames_in_use(), frames - 2);
    assert_eq!(vmo_read(&p, v, P, 2 * PAGE), vec![0; 2 * PAGE]);
    assert_eq!(vmo_read(&p, v, 3 * P, 1), [3]);
}

#[test]
fn decommit_needs_page_aligned_offset_and_size() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 0, &vec![3u8; 4 * PAGE]);
    assert_eq!(op(&p, v, ZX_VMO_OP_DECOMMIT, 1, P), ZX_ERR_INVALID_ARGS);
    assert_eq!(op(&p, v, ZX_VMO_OP_DECOMMIT, 0, P + 1), ZX_ERR_INVALID_ARGS);
    assert_eq!(committed(&p, v), 4 * P);
}

#[test]
fn range_past_the_end_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_COMMIT, P, 2 * P), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_COMMIT, 3 * P, P), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_DECOMMIT, 2 * P, P), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_ZERO, P, P + 1), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn range_overflow_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        op(&p, v, ZX_VMO_OP_COMMIT, u64::MAX, 2),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(op(&p, v, ZX_VMO_OP_ZERO, 8, u64::MAX), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(
        op(&p, v, ZX_VMO_OP_DECOMMIT, P, !(P - 1)),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn zero_sized_ranges_do_nothing_and_succeed() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for code in [ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO] {
        assert_eq!(op(&p, v, code, 0, 0), ZX_OK, "op {code}");
    }
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn zero_clears_exact_bytes() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &vec![0xeeu8; 2 * PAGE]);
    assert_eq!(op(&p, v, ZX_VMO_OP_ZERO, 10, 20), ZX_OK);
    let b = vmo_read(&p, v, 0, 40);
    assert!(b[..10].iter().all(|&x| x == 0xee));
    assert!(b[10..30].iter().all(|&x| x == 0));
    assert!(b[30..].iter().all(|&x| x == 0xee));
}

#[test]
fn zero_of_whole_pages_gives_them_back() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE);
    vmo_write(&p, v, 0, &vec![0xeeu8; 3 * PAGE]);
    assert_eq!(op(&p, v, ZX_VMO_OP_ZERO, 100, 2 * P), ZX_OK);
    // Page 1 is wholly covered; pages 0 and 2 only partly.
    assert_eq!(committed(&p, v), 2 * P);
    let b = vmo_read(&p, v, 0, 3 * PAGE);
    assert!(b[..100].iter().all(|&x| x == 0xee));
    assert!(b[100..2 * PAGE + 100].iter().all(|&x| x == 0));
    assert!(b[2 * PAGE + 100..].iter().all(|&x| x == 0xee));
}

#[test]
fn zero_is_visible_through_a_mapping() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    p.write_memory(a, &[1u8; 64]).unwrap();
    assert_eq!(op(&p, v, ZX_VMO_OP_ZERO, 0, P), ZX_OK);
    assert_eq!(read_vec(&p, a, 64), vec![0; 64]);
}

#[test]
fn unknown_ops_are_invalid_args_after_the_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for code in [0u32, 5, 15, 16, 1000] {
        assert_eq!(op(&p, v, code, 0, P), ZX_ERR_INVALID_ARGS, "op {code}");
    }
    assert_eq!(op(&p, ZX_HANDLE_INVALID, 1000, 0, P), ZX_ERR_BAD_HANDLE);
}

#[test]
fn hints_need_no_rights_and_change_nothing_visible() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"hint");
    let none = dup(&p, v, 0);
    assert_eq!(op(&p, none, ZX_VMO_OP_DONT_NEED, 0, 2 * P), ZX_OK);
    assert_eq!(op(&p, none, ZX_VMO_OP_ALWAYS_NEED, 1, 5), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 4), b"hint");
}

#[test]
fn cache_ops_validate_their_range_and_need_read() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    for code in [
        ZX_VMO_OP_CACHE_SYNC,
        ZX_VMO_OP_CACHE_CLEAN,
        ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
    ] {
        assert_eq!(op(&p, v, code, 3, 100), ZX_OK, "op {code}");
        assert_eq!(op(&p, v, code, 0, 0), ZX_ERR_INVALID_ARGS, "op {code}");
        assert_eq!(op(&p, v, code, P, P + 1), ZX_ERR_OUT_OF_RANGE, "op {code}");
        assert_eq!(
            op(&p, v, code, u64::MAX, 2),
            ZX_ERR_OUT_OF_RANGE,
            "op {code}"
        );
    }
    let wo = dup(&p, v, ZX_RIGHT_WRITE);
    assert_eq!(op(&p, wo, ZX_VMO_OP_CACHE_SYNC, 0, P), ZX_ERR_ACCESS_DENIED);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn lock_ops_on_a_non_discardable_vmo_are_not_supported() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, P, b, 32),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(op(&p, v, ZX_VMO_OP_TRY_LOCK, 0, P), ZX_ERR_NOT_SUPPORTED);
    assert_eq!(op(&p, v, ZX_VMO_OP_UNLOCK, 0, P), ZX_ERR_NOT_SUPPORTED);
}

#[test]
fn lock_of_a_discardable_vmo_reports_the_whole_range_and_unlock_twice_is_bad_state() {
    let p = new_process();
    let v = vmo_with(&p, 2 * P, ZX_VMO_DISCARDABLE);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, P, b, 32),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, 2 * P, b, 31),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, 2 * P, b, 32), ZX_OK);
    let s = zx_vmo_lock_state_t::read_from(&read_vec(&p, b, 32));
    assert_eq!((s.offset, s.size), (0, 2 * P));
    // Nothing was discarded (a kernel that never discards is conforming).
    assert_eq!((s.discarded_offset, s.discarded_size), (0, 0));
    assert_eq!(op(&p, v, ZX_VMO_OP_UNLOCK, 0, 2 * P), ZX_OK);
    assert_eq!(op(&p, v, ZX_VMO_OP_UNLOCK, 0, 2 * P), ZX_ERR_BAD_STATE);
}

#[test]
fn op_range_on_a_vmar_handle_is_wrong_type() {
    let p = new_process();
    assert_eq!(
        op(&p, p.zx_vmar_root_self(), ZX_VMO_OP_COMMIT, 0, P),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn decommit_of_uncommitted_pages_succeeds() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_DECOMMIT, 0, 4 * P), ZX_OK);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn decommit_through_the_vmo_removes_pages_from_its_mapping() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    p.write_memory(a, b"gone").unwrap();
    assert_eq!(op(&p, v, ZX_VMO_OP_DECOMMIT, 0, P), ZX_OK);
    assert_eq!(read_vec(&p, a, 4), [0; 4]);
}

#[test]
fn lock_with_an_unwritable_buffer_is_undone() {
    let p = new_process();
    let v = vmo_with(&p, P, ZX_VMO_DISCARDABLE);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, P, UNMAPPED, 32),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(op(&p, v, ZX_VMO_OP_UNLOCK, 0, P), ZX_ERR_BAD_STATE);
}

#[test]
fn lock_ops_need_read_or_write() {
    let p = new_process();
    let v = vmo_with(&p, P, ZX_VMO_DISCARDABLE);
    let none = dup(&p, v, ZX_RIGHTS_BASIC);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_vmo_op_range(none, ZX_VMO_OP_LOCK, 0, P, b, 32),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(op(&p, none, ZX_VMO_OP_TRY_LOCK, 0, P), ZX_ERR_ACCESS_DENIED);
    let ro = dup(&p, v, ZX_RIGHT_READ);
    assert_eq!(op(&p, ro, ZX_VMO_OP_TRY_LOCK, 0, P), ZX_OK);
    assert_eq!(op(&p, ro, ZX_VMO_OP_UNLOCK, 0, P), ZX_OK);
}

#[test]
fn try_lock_then_unlock_of_a_discardable_vmo_works_and_keeps_contents() {
    let p = new_process();
    let v = vmo_with(&p, 2 * P, ZX_VMO_DISCARDABLE);
    assert_eq!(op(&p, v, ZX_VMO_OP_TRY_LOCK, 0, 2 * P), ZX_OK);
    vmo_write(&p, v, 0, b"pinned");
    assert_eq!(op(&p, v, ZX_VMO_OP_TRY_LOCK, 0, P), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_UNLOCK, 0, 2 * P), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 6), b"pinned");
}

#[test]
fn hints_follow_the_range_rules() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(op(&p, v, ZX_VMO_OP_DONT_NEED, 0, 0), ZX_OK);
    assert_eq!(
        op(&p, v, ZX_VMO_OP_DONT_NEED, 0, 2 * P),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        op(&p, v, ZX_VMO_OP_ALWAYS_NEED, u64::MAX, 2),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn zero_of_uncommitted_whole_pages_commits_nothing() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, 4 * PAGE);
    assert_eq!(read_vec(&p, a, 4), [0; 4]);
    assert_eq!(op(&p, v, ZX_VMO_OP_ZERO, 0, 4 * P), ZX_OK);
    assert_eq!(committed(&p, v), 0);
}
