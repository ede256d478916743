//! `zx_vmar_allocate` (docs/ABI.md §6.1).

use crate::helpers::*;

fn try_alloc(p: &TestProcess, parent: u32, options: u32, offset: usize, size: usize) -> i32 {
    p.zx_vmar_allocate(parent, options, offset, size, out(p, OUT0), out(p, OUT1))
}

#[test]
fn allocated_region_lies_inside_parent_and_info_reports_it() {
    let p = new_process();
    let (parent, pbase) = region(&p, 16);
    let (child, base) = allocate(&p, parent, RW_CAN, 0, 4 * PAGE);
    assert_eq!(base % PAGE, 0);
    assert!(base >= pbase && base + 4 * PAGE <= pbase + 16 * PAGE);
    assert_eq!(vmar_info(&p, child), (base, 4 * PAGE));
    assert_eq!(basic(&p, child).obj_type, ZX_OBJ_TYPE_VMAR);
}

#[test]
fn child_rights_are_default_vmar_rights_plus_one_per_can_map_flag() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let (rw, _) = allocate(&p, root, RW_CAN, 0, PAGE);
    assert_eq!(rights(&p, rw), 0x0020_800F);
    let (r, _) = allocate(&p, root, ZX_VM_CAN_MAP_READ, 0, PAGE);
    assert_eq!(rights(&p, r), ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    let (rwx, _) = allocate(&p, root, RW_CAN | ZX_VM_CAN_MAP_EXECUTE, 0, PAGE);
    assert_eq!(rights(&p, rwx), 0x0020_801F);
}

#[test]
fn child_without_can_map_flags_gets_only_default_vmar_rights() {
    let p = new_process();
    let (h, _) = allocate(&p, p.zx_vmar_root_self(), 0, 0, PAGE);
    assert_eq!(rights(&p, h), ZX_DEFAULT_VMAR_RIGHTS);
}

#[test]
fn zero_size_is_invalid_args() {
    let p = new_process();
    assert_eq!(
        try_alloc(&p, p.zx_vmar_root_self(), RW_CAN, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn unaligned_size_is_invalid_args_and_not_rounded() {
    let p = new_process();
    let before = sub_vmar_count(&p);
    assert_eq!(
        try_alloc(&p, p.zx_vmar_root_self(), RW_CAN, 0, PAGE + 1),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_alloc(&p, p.zx_vmar_root_self(), RW_CAN, 0, 1),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(sub_vmar_count(&p), before);
}

#[test]
fn perm_bits_are_invalid_args() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    for perm in [ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_PERM_EXECUTE] {
        assert_eq!(
            try_alloc(&p, root, RW_CAN | perm, 0, PAGE),
            ZX_ERR_INVALID_ARGS
        );
    }
}

#[test]
fn map_only_flags_are_invalid_args() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    for flag in [
        ZX_VM_SPECIFIC_OVERWRITE,
        ZX_VM_MAP_RANGE,
        ZX_VM_REQUIRE_NON_RESIZABLE,
        ZX_VM_ALLOW_FAULTS,
    ] {
        assert_eq!(
            try_alloc(&p, root, RW_CAN | flag, 0, PAGE),
            ZX_ERR_INVALID_ARGS,
            "flag {flag:#x}"
        );
    }
}

#[test]
fn unknown_option_bits_are_invalid_args() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    for bit in 15..24 {
        assert_eq!(
            try_alloc(&p, root, RW_CAN | (1 << bit), 0, PAGE),
            ZX_ERR_INVALID_ARGS,
            "bit {bit}"
        );
    }
}

#[test]
fn alignment_field_outside_10_to_32_is_invalid_args() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    for n in [1u32, 9, 33, 255] {
        assert_eq!(
            try_alloc(&p, root, RW_CAN | (n << ZX_VM_ALIGN_BASE), 0, PAGE),
            ZX_ERR_INVALID_ARGS,
            "n {n}"
        );
    }
    for n in [10u32, 11, 12] {
        let (h, base) = allocate(&p, root, RW_CAN | (n << ZX_VM_ALIGN_BASE), 0, PAGE);
        assert_eq!(base % PAGE, 0);
        assert_eq!(p.zx_vmar_destroy(h), ZX_OK);
    }
}

#[test]
fn perm_read_if_xom_unsupported_is_ignored_by_allocate() {
    let p = new_process();
    let (h, _) = allocate(
        &p,
        p.zx_vmar_root_self(),
        ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_READ | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED,
        0,
        PAGE,
    );
    assert_eq!(rights(&p, h), 0x0020_800F);
}

#[test]
fn nonzero_offset_without_specific_or_upper_limit_is_invalid_args() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN, PAGE, PAGE),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn specific_places_the_region_exactly_at_parent_base_plus_offset() {
    let p = new_process();
    let (parent, pbase) = region(&p, 8);
    let (h, base) = allocate(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 3 * PAGE, 2 * PAGE);
    assert_eq!(base, pbase + 3 * PAGE);
    assert_eq!(vmar_info(&p, h), (pbase + 3 * PAGE, 2 * PAGE));
}

#[test]
fn specific_with_unaligned_offset_is_invalid_args() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, PAGE + 16, PAGE),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn specific_overlapping_a_sibling_is_already_exists() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    allocate(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 2 * PAGE, 2 * PAGE);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 3 * PAGE, 2 * PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, PAGE, 2 * PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 0, 8 * PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
    // Adjacent on both sides is fine.
    allocate(&p, parent, RW_CAN | ZX_VM_SPECIFIC, PAGE, PAGE);
    allocate(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 4 * PAGE, PAGE);
}

#[test]
fn specific_overlapping_a_mapping_is_already_exists() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    let v = vmo(&p, PAGE);
    map_at(&p, parent, 5, v, 1);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 4 * PAGE, 2 * PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
}

#[test]
fn specific_under_parent_without_can_map_specific_is_access_denied() {
    let p = new_process();
    let (parent, _) = allocate(&p, p.zx_vmar_root_self(), RW_CAN, 0, 8 * PAGE);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        try_alloc(
            &p,
            parent,
            RW_CAN | ZX_VM_OFFSET_IS_UPPER_LIMIT,
            8 * PAGE,
            PAGE
        ),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn can_map_specific_is_allowed_under_a_parent_that_lacks_it() {
    let p = new_process();
    let (parent, _) = allocate(&p, p.zx_vmar_root_self(), RW_CAN, 0, 8 * PAGE);
    let (child, cbase) = allocate(&p, parent, RW_CAN | ZX_VM_CAN_MAP_SPECIFIC, 0, 4 * PAGE);
    let (_, gbase) = allocate(&p, child, RW_CAN | ZX_VM_SPECIFIC, PAGE, PAGE);
    assert_eq!(gbase, cbase + PAGE);
}

#[test]
fn specific_range_outside_parent_is_invalid_args() {
    let p = new_process();
    let (parent, _) = region(&p, 10);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 10 * PAGE, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, 9 * PAGE, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, !(PAGE - 1), PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_alloc(&p, parent, RW_CAN | ZX_VM_SPECIFIC, PAGE, !(PAGE - 1)),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn request_larger_than_parent_is_invalid_args_not_no_resources() {
    let p = new_process();
    let (parent, _) = region(&p, 10);
    assert_eq!(
        try_alloc(&p, parent, RW_CAN, 0, 11 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn whole_parent_fits_once_then_no_resources() {
    let p = new_process();
    let (parent, pbase) = region(&p, 10);
    let (_, base) = allocate(&p, parent, RW_CAN, 0, 10 * PAGE);
    assert_eq!(base, pbase);
    assert_eq!(try_alloc(&p, parent, RW_CAN, 0, PAGE), ZX_ERR_NO_RESOURCES);
}

#[test]
fn can_map_write_through_parent_handle_without_write_right_is_access_denied() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    let ro = dup(&p, parent, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    assert_eq!(
        try_alloc(&p, ro, ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    // Read alone is still allowed through that handle.
    allocate(&p, ro, ZX_VM_CAN_MAP_READ, 0, PAGE);
}

#[test]
fn can_map_flag_beyond_parent_flags_is_access_denied() {
    let p = new_process();
    let (parent, _) = allocate(&p, p.zx_vmar_root_self(), ZX_VM_CAN_MAP_READ, 0, 8 * PAGE);
    assert_eq!(
        try_alloc(
            &p,
            parent,
            ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE,
            0,
            PAGE
        ),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        try_alloc(&p, parent, ZX_VM_CAN_MAP_EXECUTE, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn vmo_handle_as_parent_is_wrong_type() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(try_alloc(&p, v, 0, 0, PAGE), ZX_ERR_WRONG_TYPE);
}

#[test]
fn invalid_and_closed_parent_handles_are_bad_handle() {
    let p = new_process();
    assert_eq!(
        try_alloc(&p, ZX_HANDLE_INVALID, 0, 0, PAGE),
        ZX_ERR_BAD_HANDLE
    );
    let (h, _) = region(&p, 4);
    assert_eq!(p.zx_handle_close(h), ZX_OK);
    assert_eq!(try_alloc(&p, h, 0, 0, PAGE), ZX_ERR_BAD_HANDLE);
}

#[test]
fn specific_together_with_upper_limit_is_invalid_args() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    assert_eq!(
        try_alloc(
            &p,
            parent,
            RW_CAN | ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT,
            4 * PAGE,
            PAGE
        ),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn upper_limit_keeps_every_region_below_the_limit_until_full() {
    let p = new_process();
    let (parent, pbase) = region(&p, 16);
    for _ in 0..4 {
        let (_, base) = allocate(
            &p,
            parent,
            RW_CAN | ZX_VM_OFFSET_IS_UPPER_LIMIT,
            4 * PAGE,
            PAGE,
        );
        assert!(base >= pbase && base + PAGE <= pbase + 4 * PAGE);
    }
    assert_eq!(
        try_alloc(
            &p,
            parent,
            RW_CAN | ZX_VM_OFFSET_IS_UPPER_LIMIT,
            4 * PAGE,
            PAGE
        ),
        ZX_ERR_NO_RESOURCES
    );
    // Without the limit there is still room.
    let (_, base) = allocate(&p, parent, RW_CAN, 0, PAGE);
    assert!(base >= pbase + 4 * PAGE);
}

#[test]
fn upper_limit_bounds_are_checked() {
    let p = new_process();
    let (parent, pbase) = region(&p, 8);
    let o = RW_CAN | ZX_VM_OFFSET_IS_UPPER_LIMIT;
    assert_eq!(
        try_alloc(&p, parent, o, 9 * PAGE, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_alloc(&p, parent, o, PAGE, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_alloc(&p, parent, o, 8 * PAGE, 9 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    let (_, base) = allocate(&p, parent, o, 8 * PAGE, 8 * PAGE);
    assert_eq!(base, pbase);
}

#[test]
fn alignment_is_honoured_by_placement() {
    let p = new_process();
    let (parent, _) = allocate(&p, p.zx_vmar_root_self(), RW_CAN, 0, 8 << 20);
    for _ in 0..3 {
        let (_, base) = allocate(&p, parent, RW_CAN | ZX_VM_ALIGN_1MB, 0, PAGE);
        assert_eq!(base % (1 << 20), 0, "base {base:#x}");
    }
}

#[test]
fn specific_base_that_misses_the_alignment_is_invalid_args() {
    let p = new_process();
    let (parent, pbase) = allocate(
        &p,
        p.zx_vmar_root_self(),
        RWS_CAN | ZX_VM_ALIGN_64KB,
        0,
        64 * PAGE,
    );
    assert_eq!(pbase % (64 * 1024), 0);
    assert_eq!(
        try_alloc(
            &p,
            parent,
            RW_CAN | ZX_VM_SPECIFIC | ZX_VM_ALIGN_64KB,
            PAGE,
            PAGE
        ),
        ZX_ERR_INVALID_ARGS
    );
    let (_, base) = allocate(
        &p,
        parent,
        RW_CAN | ZX_VM_SPECIFIC | ZX_VM_ALIGN_64KB,
        16 * PAGE,
        PAGE,
    );
    assert_eq!(base, pbase + 16 * PAGE);
}

#[test]
fn compact_region_places_children_first_fit_from_the_bottom() {
    let p = new_process();
    let (parent, pbase) = allocate(
        &p,
        p.zx_vmar_root_self(),
        RW_CAN | ZX_VM_COMPACT,
        0,
        16 * PAGE,
    );
    let (_, a) = allocate(&p, parent, RW_CAN, 0, 2 * PAGE);
    let (_, b) = allocate(&p, parent, RW_CAN, 0, PAGE);
    assert_eq!(a, pbase);
    assert_eq!(b, pbase + 2 * PAGE);
}

#[test]
fn dead_parent_is_bad_state_but_unaligned_size_is_checked_first() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    assert_eq!(p.zx_vmar_destroy(parent), ZX_OK);
    assert_eq!(try_alloc(&p, parent, RW_CAN, 0, PAGE), ZX_ERR_BAD_STATE);
    // Size zero is checked after the dead state.
    assert_eq!(try_alloc(&p, parent, RW_CAN, 0, 0), ZX_ERR_BAD_STATE);
    assert_eq!(try_alloc(&p, parent, RW_CAN, 0, 7), ZX_ERR_INVALID_ARGS);
}

#[test]
fn failed_handle_copy_out_destroys_the_new_region() {
    let p = new_process();
    let (parent, _) = region(&p, 4);
    let before = sub_vmar_count(&p);
    assert_eq!(
        p.zx_vmar_allocate(parent, RW_CAN, 0, 4 * PAGE, UNMAPPED, out(&p, OUT1)),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(sub_vmar_count(&p), before);
    // The whole range is free again.
    allocate(&p, parent, RW_CAN, 0, 4 * PAGE);
}

#[test]
fn failed_address_copy_out_destroys_the_new_region() {
    let p = new_process();
    let (parent, _) = region(&p, 4);
    let before = sub_vmar_count(&p);
    assert_eq!(
        p.zx_vmar_allocate(parent, RW_CAN, 0, 4 * PAGE, out(&p, OUT0), 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(sub_vmar_count(&p), before);
    allocate(&p, parent, RW_CAN, 0, 4 * PAGE);
}

#[test]
fn can_map_specific_is_not_inherited() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    let (child, _) = allocate(&p, parent, RW_CAN, 0, 4 * PAGE);
    let v = vmo(&p, PAGE);
    let st = p.zx_vmar_map(child, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_ACCESS_DENIED);
    let st = p.zx_vmar_allocate(
        child,
        RW_CAN | ZX_VM_SPECIFIC,
        0,
        PAGE,
        out(&p, OUT0),
        out(&p, OUT1),
    );
    assert_eq!(st, ZX_ERR_ACCESS_DENIED);
}

#[test]
fn upper_limit_offset_must_be_aligned() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    let st = p.zx_vmar_allocate(
        parent,
        RW_CAN | ZX_VM_OFFSET_IS_UPPER_LIMIT,
        4 * PAGE + 1,
        PAGE,
        out(&p, OUT0),
        out(&p, OUT1),
    );
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
    let st = p.zx_vmar_allocate(
        parent,
        RW_CAN | ZX_VM_OFFSET_IS_UPPER_LIMIT,
        0,
        PAGE,
        out(&p, OUT0),
        out(&p, OUT1),
    );
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
}
