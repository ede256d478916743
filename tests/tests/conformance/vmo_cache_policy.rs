//! `zx_vmo_set_cache_policy` (docs/ABI.md §8.10).

use crate::helpers::*;

#[test]
fn unknown_policy_bits_are_invalid_args_before_the_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_set_cache_policy(v, 4), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmo_set_cache_policy(ZX_HANDLE_INVALID, 4),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmo_set_cache_policy(ZX_HANDLE_INVALID, u32::MAX),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmo_set_cache_policy(ZX_HANDLE_INVALID, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn setting_a_policy_needs_the_map_right() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let nomap = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_MAP);
    assert_eq!(
        p.zx_vmo_set_cache_policy(nomap, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(vmo_info(&p, v).cache_policy, ZX_CACHE_POLICY_CACHED);
}

#[test]
fn vmar_handle_is_wrong_type() {
    let p = new_process();
    assert_eq!(
        p.zx_vmo_set_cache_policy(p.zx_vmar_root_self(), ZX_CACHE_POLICY_CACHED),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn every_policy_is_reported_by_info_after_setting() {
    let p = new_process();
    for policy in [
        ZX_CACHE_POLICY_UNCACHED,
        ZX_CACHE_POLICY_UNCACHED_DEVICE,
        ZX_CACHE_POLICY_WRITE_COMBINING,
        ZX_CACHE_POLICY_CACHED,
    ] {
        let v = vmo(&p, PAGE);
        assert_eq!(p.zx_vmo_set_cache_policy(v, policy), ZX_OK);
        assert_eq!(vmo_info(&p, v).cache_policy, policy);
    }
}

#[test]
fn read_write_and_zero_of_an_uncached_vmo_are_bad_state() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(v, b, 0, 1), ZX_ERR_BAD_STATE);
    assert_eq!(p.zx_vmo_write(v, b, 0, 1), ZX_ERR_BAD_STATE);
    // The state check comes before the range check.
    assert_eq!(p.zx_vmo_read(v, b, 10 * PAGE as u64, 1), ZX_ERR_BAD_STATE);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, PAGE as u64, 0, 0),
        ZX_ERR_BAD_STATE
    );
}

#[test]
fn an_empty_zero_of_an_uncached_vmo_is_ok_after_the_range_check() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 8, 0, 0, 0), ZX_OK);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 2 * PAGE as u64, 0, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn mapped_vmo_refuses_a_policy_change() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(vmo_info(&p, v).cache_policy, ZX_CACHE_POLICY_CACHED);
    assert_eq!(p.zx_vmar_unmap(p.zx_vmar_root_self(), a, PAGE), ZX_OK);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
}

#[test]
fn cached_vmo_with_pages_may_become_uncached_but_not_back() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"x");
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(vmo_info(&p, v).cache_policy, ZX_CACHE_POLICY_UNCACHED);
}

#[test]
fn uncached_vmo_without_pages_may_change_again() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_WRITE_COMBINING),
        ZX_OK
    );
    assert_eq!(p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED), ZX_OK);
    vmo_write(&p, v, 0, b"ok");
}

#[test]
fn setting_the_current_policy_again_is_ok() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"x");
    assert_eq!(p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 1), b"x");
}

#[test]
fn uncached_vmo_can_still_be_mapped() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    p.write_memory(a, b"dev").unwrap();
    assert_eq!(read_vec(&p, a, 3), b"dev");
}
