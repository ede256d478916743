//! `zx_vmar_protect` (docs/ABI.md §6.4, 5.2).

use crate::helpers::*;

#[test]
fn protect_to_read_only_refuses_writes_and_keeps_reads() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    p.write_memory(base, b"w").unwrap();
    assert_eq!(p.zx_vmar_protect(r, R, base, PAGE), ZX_OK);
    assert_eq!(p.write_memory(base, b"x"), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(read_vec(&p, base, 1), b"w");
    assert_eq!(mappings_in(&p, base, base + PAGE)[0].mapping.mmu_flags, R);
}

#[test]
fn protect_back_up_to_the_maximum_is_allowed() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    // Mapped read-only, but from a writable handle in a writable region: maximum is RW.
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    assert!(!writable(&p, base));
    assert_eq!(p.zx_vmar_protect(r, RW, base, PAGE), ZX_OK);
    assert!(writable(&p, base));
}

#[test]
fn protect_above_the_maximum_is_access_denied() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, ro, 0, PAGE);
    assert_eq!(p.zx_vmar_protect(r, RW, base, PAGE), ZX_ERR_ACCESS_DENIED);
    assert!(!writable(&p, base));
}

#[test]
fn maximum_is_frozen_when_the_vmo_handle_is_closed() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.zx_vmar_protect(r, RW, base, PAGE), ZX_OK);
    assert!(writable(&p, base));
}

#[test]
fn write_only_and_execute_only_are_invalid_args() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let v = vmo(&p, PAGE);
    let a = map(&p, root, RW, 0, v, 0, PAGE);
    // The root handle holds READ, WRITE and EXECUTE, so the rights check passes and the
    // missing READ is what is refused.
    assert_eq!(
        p.zx_vmar_protect(root, ZX_VM_PERM_WRITE, a, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmar_protect(root, ZX_VM_PERM_EXECUTE, a, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmar_protect(root, ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE, a, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert!(writable(&p, a));
}

#[test]
fn handle_rights_are_checked_before_the_missing_read() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    // The region's handle lacks EXECUTE: that is reported first.
    assert_eq!(
        p.zx_vmar_protect(r, ZX_VM_PERM_EXECUTE, base, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_vmar_protect(r, ZX_VM_PERM_WRITE, base, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert!(writable(&p, base));
}

#[test]
fn perm_read_if_xom_unsupported_adds_read() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    assert_eq!(
        p.zx_vmar_protect(
            r,
            ZX_VM_PERM_WRITE | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED,
            base,
            PAGE
        ),
        ZX_OK
    );
    assert!(writable(&p, base));
}

#[test]
fn unaligned_address_and_zero_length_are_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    assert_eq!(p.zx_vmar_protect(r, R, base + 8, PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_vmar_protect(r, R, base, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmar_protect(r, R, base, usize::MAX),
        ZX_ERR_INVALID_ARGS
    );
    assert!(writable(&p, base));
}

#[test]
fn vmar_flags_and_alignment_in_options_are_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    for flag in [
        ZX_VM_SPECIFIC,
        ZX_VM_CAN_MAP_READ,
        ZX_VM_MAP_RANGE,
        ZX_VM_COMPACT,
        ZX_VM_SPECIFIC_OVERWRITE,
        ZX_VM_ALIGN_64KB,
        1 << 20,
    ] {
        assert_eq!(
            p.zx_vmar_protect(r, R | flag, base, PAGE),
            ZX_ERR_INVALID_ARGS,
            "flag {flag:#x}"
        );
    }
    assert!(writable(&p, base));
}

#[test]
fn length_is_rounded_up() {
    let p = new_process();
    let (r, base) = region(&p, 3);
    let v = vmo(&p, 3 * PAGE);
    map_at(&p, r, 0, v, 3);
    assert_eq!(p.zx_vmar_protect(r, R, base, PAGE + 1), ZX_OK);
    assert!(!writable(&p, base + PAGE));
    assert!(writable(&p, base + 2 * PAGE));
}

#[test]
fn protecting_part_of_a_mapping_splits_it_by_protection() {
    let p = new_process();
    let (r, base) = region(&p, 3);
    let v = vmo(&p, 3 * PAGE);
    map_at(&p, r, 0, v, 3);
    assert_eq!(p.zx_vmar_protect(r, R, base + PAGE, PAGE), ZX_OK);
    assert!(writable(&p, base));
    assert!(!writable(&p, base + PAGE));
    assert!(readable(&p, base + PAGE));
    assert!(writable(&p, base + 2 * PAGE));
    let m = mappings_in(&p, base, base + 3 * PAGE);
    assert_eq!(
        m.iter()
            .map(|e| (
                e.base - base,
                e.size,
                e.mapping.mmu_flags,
                e.mapping.vmo_offset
            ))
            .collect::<Vec<_>>(),
        vec![
            (0, PAGE, RW, 0),
            (PAGE, PAGE, R, PAGE as u64),
            (2 * PAGE, PAGE, RW, 2 * PAGE as u64)
        ]
    );
}

#[test]
fn protect_across_adjacent_mappings_changes_all_of_them() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 2 * PAGE);
    let w = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    map_at(&p, r, 2, w, 2);
    assert_eq!(p.zx_vmar_protect(r, R, base + PAGE, 2 * PAGE), ZX_OK);
    assert!(writable(&p, base));
    assert!(!writable(&p, base + PAGE));
    assert!(!writable(&p, base + 2 * PAGE));
    assert!(writable(&p, base + 3 * PAGE));
}

#[test]
fn protect_over_a_hole_is_not_found_and_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 5);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    map_at(&p, r, 3, v, 2);
    assert_eq!(p.zx_vmar_protect(r, R, base, 5 * PAGE), ZX_ERR_NOT_FOUND);
    for i in [0, 1, 3, 4] {
        assert!(writable(&p, base + i * PAGE), "page {i}");
    }
}

#[test]
fn protect_with_a_leading_or_trailing_gap_is_not_found() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 1, v, 2);
    assert_eq!(p.zx_vmar_protect(r, R, base, 3 * PAGE), ZX_ERR_NOT_FOUND);
    assert_eq!(
        p.zx_vmar_protect(r, R, base + PAGE, 3 * PAGE),
        ZX_ERR_NOT_FOUND
    );
    assert_eq!(
        p.zx_vmar_protect(r, R, base + 3 * PAGE, PAGE),
        ZX_ERR_NOT_FOUND
    );
    assert!(writable(&p, base + PAGE));
    assert!(writable(&p, base + 2 * PAGE));
}

#[test]
fn protect_across_mappings_where_one_maximum_is_too_low_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    map(&p, r, R | ZX_VM_SPECIFIC, PAGE, ro, 0, PAGE);
    assert_eq!(
        p.zx_vmar_protect(r, RW, base, 2 * PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert!(!writable(&p, base));
    assert!(!writable(&p, base + PAGE));
}

#[test]
fn protection_none_makes_pages_inaccessible_and_can_be_undone() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    assert_eq!(p.zx_vmar_protect(r, 0, base, PAGE), ZX_OK);
    assert!(!readable(&p, base));
    assert_eq!(p.zx_vmar_protect(r, RW, base, PAGE), ZX_OK);
    assert!(writable(&p, base));
}

#[test]
fn protect_through_a_handle_without_write_right_is_access_denied() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    let ro = dup(&p, r, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    assert_eq!(p.zx_vmar_protect(ro, RW, base, PAGE), ZX_ERR_ACCESS_DENIED);
    // The rights check comes before the address check.
    assert_eq!(
        p.zx_vmar_protect(ro, RW, base + 1, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(p.zx_vmar_protect(ro, R, base, PAGE), ZX_OK);
}

#[test]
fn execute_beyond_the_maximum_is_access_denied() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!(
        p.zx_vmar_protect(p.zx_vmar_root_self(), RW | ZX_VM_PERM_EXECUTE, a, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert!(writable(&p, a));
}

#[test]
fn range_leaving_the_region_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    assert_eq!(p.zx_vmar_protect(r, R, base, 3 * PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmar_protect(r, R, base - PAGE, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert!(writable(&p, base));
}

#[test]
fn protect_in_a_destroyed_region_is_bad_state() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(p.zx_vmar_protect(r, R, base, PAGE), ZX_ERR_BAD_STATE);
}

#[test]
fn protect_with_wrong_or_bad_handle_fails() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmar_protect(v, R, 0, PAGE), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_vmar_protect(ZX_HANDLE_INVALID, R, 0, PAGE),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn protect_through_a_parent_may_reduce_a_subregion_mapping() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 0, 2 * PAGE);
    let v = vmo(&p, PAGE);
    let a = map_at(&p, sub, 0, v, 1);
    assert_eq!(p.zx_vmar_protect(r, R, a, PAGE), ZX_OK);
    assert!(!writable(&p, a));
    // Raising again through the parent is refused; through the sub-region it works.
    assert_eq!(p.zx_vmar_protect(r, RW, a, PAGE), ZX_ERR_ACCESS_DENIED);
    assert_eq!(p.zx_vmar_protect(sub, RW, a, PAGE), ZX_OK);
    assert!(writable(&p, a));
}

#[test]
fn protect_over_a_subregion_mapping_without_op_children_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 0, 2 * PAGE);
    let v = vmo(&p, PAGE);
    let a = map_at(&p, sub, 0, v, 1);
    let weak = dup(&p, r, rights(&p, r) & !ZX_RIGHT_OP_CHILDREN);
    assert_eq!(p.zx_vmar_protect(weak, R, a, PAGE), ZX_ERR_INVALID_ARGS);
    assert!(writable(&p, a));
}

#[test]
fn protect_over_an_empty_subregion_is_not_found() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 0, 2 * PAGE);
    assert_eq!(p.zx_vmar_protect(r, R, base, PAGE), ZX_ERR_NOT_FOUND);
}

#[test]
fn a_mapping_made_without_permissions_can_be_protected_to_read() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"r");
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, 0, 0, v, 0, PAGE);
    assert!(!readable(&p, a));
    assert_eq!(p.zx_vmar_protect(root, R, a, PAGE), ZX_OK);
    assert_eq!(read_vec(&p, a, 1), b"r");
    assert!(!writable(&p, a));
}

#[test]
fn protect_through_a_parent_is_checked_against_every_pages_current_protection() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 0, 4 * PAGE);
    let v = vmo(&p, 3 * PAGE);
    let a = map_at(&p, sub, 0, v, 3);
    assert_eq!(p.zx_vmar_protect(sub, R, a + PAGE, PAGE), ZX_OK);
    // Read-write is not below page 1's current read-only: refused, nothing changes.
    assert_eq!(p.zx_vmar_protect(r, RW, a, 3 * PAGE), ZX_ERR_ACCESS_DENIED);
    assert!(writable(&p, a) && writable(&p, a + 2 * PAGE));
    // Read-only is below every page's current protection.
    assert_eq!(p.zx_vmar_protect(r, R, a, 3 * PAGE), ZX_OK);
    assert!(!writable(&p, a) && !writable(&p, a + 2 * PAGE));
    assert!(readable(&p, a + 2 * PAGE));
}
