//! `zx_vmar_map` (docs/ABI.md §6.2, 5.2, 5.5).

use crate::helpers::*;

fn try_map(
    p: &TestProcess,
    vmar: u32,
    options: u32,
    vmar_offset: usize,
    vmo: u32,
    vmo_offset: u64,
    len: usize,
) -> i32 {
    p.zx_vmar_map(
        vmar,
        options,
        vmar_offset,
        vmo,
        vmo_offset,
        len,
        out(p, OUT2),
    )
}

#[test]
fn mapping_shows_vmo_contents_and_writes_reach_the_vmo() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 10, b"hello");
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    assert_eq!(a % PAGE, 0);
    assert_eq!(read_vec(&p, a + 10, 5), b"hello");
    p.write_memory(a + PAGE + 1, b"xyz").unwrap();
    assert_eq!(vmo_read(&p, v, (PAGE + 1) as u64, 3), b"xyz");
}

#[test]
fn raw_pointer_access_through_a_mapping_sees_vmo_contents() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    // SAFETY: `a` is the base of a live read-write mapping of one page on the unix backend,
    // where user addresses are host addresses.
    unsafe { (a as *mut u32).write_volatile(0xdead_beef) };
    assert_eq!(vmo_read(&p, v, 0, 4), 0xdead_beefu32.to_ne_bytes());
}

#[test]
fn length_is_rounded_up_to_whole_pages() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 4 * PAGE);
    let a = map(&p, r, RW | ZX_VM_SPECIFIC, 0, v, 0, PAGE + 1);
    assert_eq!(a, base);
    assert!(readable(&p, a + 2 * PAGE - 1));
    assert!(!readable(&p, a + 2 * PAGE));
    let m = mappings_in(&p, base, base + 4 * PAGE);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].size, 2 * PAGE);
}

#[test]
fn zero_length_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn unaligned_vmo_offset_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), RW, 0, v, 1, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), RW, 0, v, (PAGE + 8) as u64, PAGE),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn length_whose_rounding_overflows_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, usize::MAX),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        try_map(
            &p,
            p.zx_vmar_root_self(),
            RW,
            0,
            v,
            0,
            usize::MAX - PAGE + 2
        ),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn vmo_offset_plus_length_overflowing_u64_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let off = !(PAGE as u64 - 1);
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), RW, 0, v, off, PAGE),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        try_map(
            &p,
            p.zx_vmar_root_self(),
            RW,
            0,
            v,
            off - PAGE as u64,
            2 * PAGE
        ),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn write_or_execute_without_read_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let root = p.zx_vmar_root_self();
    assert_eq!(
        try_map(&p, root, ZX_VM_PERM_WRITE, 0, v, 0, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(&p, root, ZX_VM_PERM_EXECUTE, 0, v, 0, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(
            &p,
            root,
            ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE,
            0,
            v,
            0,
            PAGE
        ),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn perm_read_if_xom_unsupported_adds_read() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(
        &p,
        p.zx_vmar_root_self(),
        ZX_VM_PERM_WRITE | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED,
        0,
        v,
        0,
        PAGE,
    );
    assert!(readable(&p, a));
    assert!(writable(&p, a));
}

#[test]
fn vmo_handle_without_map_right_is_access_denied() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let nomap = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_MAP);
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), R, 0, nomap, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    // Missing MAP is reported before an option error.
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), R | (1 << 20), 0, nomap, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn writable_mapping_through_read_only_vmo_handle_is_access_denied() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), RW, 0, ro, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, ro, 0, PAGE);
    assert!(readable(&p, a));
    assert!(!writable(&p, a));
}

#[test]
fn executable_mapping_needs_execute_on_the_vmo_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(
            &p,
            p.zx_vmar_root_self(),
            R | ZX_VM_PERM_EXECUTE,
            0,
            v,
            0,
            PAGE
        ),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn writable_mapping_in_read_only_region_is_access_denied() {
    let p = new_process();
    let (r, _) = allocate(&p, p.zx_vmar_root_self(), ZX_VM_CAN_MAP_READ, 0, 4 * PAGE);
    let v = vmo(&p, PAGE);
    assert_eq!(try_map(&p, r, RW, 0, v, 0, PAGE), ZX_ERR_ACCESS_DENIED);
    map(&p, r, R, 0, v, 0, PAGE);
}

#[test]
fn writable_mapping_through_reduced_vmar_handle_is_access_denied() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let ro = dup(&p, r, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    let v = vmo(&p, PAGE);
    assert_eq!(try_map(&p, ro, RW, 0, v, 0, PAGE), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn allocate_only_flags_are_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let root = p.zx_vmar_root_self();
    for flag in [
        ZX_VM_CAN_MAP_READ,
        ZX_VM_CAN_MAP_WRITE,
        ZX_VM_CAN_MAP_EXECUTE,
        ZX_VM_COMPACT,
        ZX_VM_CAN_MAP_SPECIFIC,
    ] {
        assert_eq!(
            try_map(&p, root, R | flag, 0, v, 0, PAGE),
            ZX_ERR_INVALID_ARGS,
            "flag {flag:#x}"
        );
    }
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn unknown_bits_and_bad_alignment_are_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let root = p.zx_vmar_root_self();
    for bit in 16..24 {
        assert_eq!(
            try_map(&p, root, R | (1 << bit), 0, v, 0, PAGE),
            ZX_ERR_INVALID_ARGS,
            "bit {bit}"
        );
    }
    for n in [1u32, 9, 33] {
        assert_eq!(
            try_map(&p, root, R | (n << ZX_VM_ALIGN_BASE), 0, v, 0, PAGE),
            ZX_ERR_INVALID_ARGS
        );
    }
}

#[test]
fn specific_maps_at_exactly_base_plus_offset() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let v = vmo(&p, PAGE);
    let a = map(&p, r, RW | ZX_VM_SPECIFIC, 5 * PAGE, v, 0, PAGE);
    assert_eq!(a, base + 5 * PAGE);
}

#[test]
fn specific_overlapping_a_mapping_is_already_exists_and_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let v = vmo(&p, 4 * PAGE);
    map_at(&p, r, 2, v, 2);
    let w = vmo(&p, PAGE);
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, 3 * PAGE, w, 0, PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, PAGE, w, 0, 2 * PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
    assert_eq!(vmo_info(&p, w).num_mappings, 0);
    assert_eq!(mappings_in(&p, base, base + 8 * PAGE).len(), 1);
}

#[test]
fn specific_overlapping_a_subregion_is_already_exists() {
    let p = new_process();
    let (r, _) = region(&p, 8);
    allocate(&p, r, RW_CAN | ZX_VM_SPECIFIC, 4 * PAGE, 2 * PAGE);
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, 5 * PAGE, v, 0, PAGE),
        ZX_ERR_ALREADY_EXISTS
    );
}

#[test]
fn specific_in_region_without_can_map_specific_is_access_denied() {
    let p = new_process();
    let (r, _) = allocate(&p, p.zx_vmar_root_self(), RW_CAN, 0, 4 * PAGE);
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, 0, v, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC_OVERWRITE, 0, v, 0, PAGE),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn nonzero_offset_without_specific_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let v = vmo(&p, PAGE);
    assert_eq!(try_map(&p, r, RW, PAGE, v, 0, PAGE), ZX_ERR_INVALID_ARGS);
}

#[test]
fn specific_range_leaving_the_region_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let v = vmo(&p, 8 * PAGE);
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, 3 * PAGE, v, 0, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, 4 * PAGE, v, 0, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, 0, v, 0, 5 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC, PAGE + 1, v, 0, PAGE),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn specific_overwrite_replaces_the_mapping_underneath() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let old = vmo(&p, 2 * PAGE);
    vmo_write(&p, old, 0, b"old");
    map_at(&p, r, 0, old, 2);
    let new = vmo(&p, 2 * PAGE);
    vmo_write(&p, new, 0, b"new");
    let a = map(&p, r, RW | ZX_VM_SPECIFIC_OVERWRITE, 0, new, 0, 2 * PAGE);
    assert_eq!(a, base);
    assert_eq!(read_vec(&p, base, 3), b"new");
    assert_eq!(vmo_info(&p, old).num_mappings, 0);
    assert_eq!(vmo_info(&p, new).num_mappings, 1);
}

#[test]
fn specific_overwrite_of_the_middle_page_splits_the_old_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 3);
    let old = vmo(&p, 3 * PAGE);
    for i in 0..3u8 {
        vmo_write(&p, old, i as u64 * PAGE as u64, &[b'a' + i]);
    }
    map_at(&p, r, 0, old, 3);
    let new = vmo(&p, PAGE);
    vmo_write(&p, new, 0, b"N");
    map(&p, r, RW | ZX_VM_SPECIFIC_OVERWRITE, PAGE, new, 0, PAGE);
    assert_eq!(read_vec(&p, base, 1), b"a");
    assert_eq!(read_vec(&p, base + PAGE, 1), b"N");
    assert_eq!(read_vec(&p, base + 2 * PAGE, 1), b"c");
    assert_eq!(vmo_info(&p, old).num_mappings, 2);
    let m = mappings_in(&p, base, base + 3 * PAGE);
    assert_eq!(
        m.iter()
            .map(|e| (e.base - base, e.size, e.mapping.vmo_offset))
            .collect::<Vec<_>>(),
        vec![
            (0, PAGE, 0),
            (PAGE, PAGE, 0),
            (2 * PAGE, PAGE, 2 * PAGE as u64)
        ]
    );
}

#[test]
fn specific_overwrite_without_overlap_behaves_as_specific() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    assert_eq!(
        map(&p, r, RW | ZX_VM_SPECIFIC_OVERWRITE, 2 * PAGE, v, 0, PAGE),
        base + 2 * PAGE
    );
}

#[test]
fn specific_overwrite_over_a_subregion_is_invalid_args_and_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let old = vmo(&p, PAGE);
    map_at(&p, r, 0, old, 1);
    let (sub, _) = allocate(&p, r, RW_CAN | ZX_VM_SPECIFIC, 2 * PAGE, PAGE);
    let new = vmo(&p, 4 * PAGE);
    assert_eq!(
        try_map(&p, r, RW | ZX_VM_SPECIFIC_OVERWRITE, 0, new, 0, 4 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_info(&p, old).num_mappings, 1);
    assert_eq!(vmo_info(&p, new).num_mappings, 0);
    assert_eq!(vmar_info(&p, sub), (base + 2 * PAGE, PAGE));
}

#[test]
fn specific_overwrite_with_map_range_or_upper_limit_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(
            &p,
            r,
            RW | ZX_VM_SPECIFIC_OVERWRITE | ZX_VM_MAP_RANGE,
            0,
            v,
            0,
            PAGE
        ),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(
            &p,
            r,
            RW | ZX_VM_SPECIFIC_OVERWRITE | ZX_VM_OFFSET_IS_UPPER_LIMIT,
            4 * PAGE,
            v,
            0,
            PAGE
        ),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_map(
            &p,
            r,
            RW | ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT,
            4 * PAGE,
            v,
            0,
            PAGE
        ),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn upper_limit_rules_for_mappings() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let v = vmo(&p, 8 * PAGE);
    let o = RW | ZX_VM_OFFSET_IS_UPPER_LIMIT;
    assert_eq!(try_map(&p, r, o, 9 * PAGE, v, 0, PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(try_map(&p, r, o, PAGE, v, 0, 2 * PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(try_map(&p, r, o, PAGE, v, 0, 9 * PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(map(&p, r, o, 8 * PAGE, v, 0, 8 * PAGE), base);
    assert_eq!(p.zx_vmar_unmap(r, base, 8 * PAGE), ZX_OK);
    for _ in 0..2 {
        let a = map(&p, r, o, 2 * PAGE, v, 0, PAGE);
        assert!(a >= base && a + PAGE <= base + 2 * PAGE);
    }
    assert_eq!(try_map(&p, r, o, 2 * PAGE, v, 0, PAGE), ZX_ERR_NO_RESOURCES);
}

#[test]
fn full_region_gives_no_resources() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let v = vmo(&p, 2 * PAGE);
    map(&p, r, RW, 0, v, 0, 2 * PAGE);
    assert_eq!(try_map(&p, r, RW, 0, v, 0, PAGE), ZX_ERR_NO_RESOURCES);
}

#[test]
fn larger_than_region_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let v = vmo(&p, 4 * PAGE);
    assert_eq!(try_map(&p, r, RW, 0, v, 0, 3 * PAGE), ZX_ERR_INVALID_ARGS);
}

#[test]
fn alignment_is_honoured_for_mappings() {
    let p = new_process();
    let (r, _) = allocate(&p, p.zx_vmar_root_self(), RW_CAN, 0, 4 << 20);
    let v = vmo(&p, PAGE);
    for _ in 0..3 {
        let a = map(&p, r, RW | ZX_VM_ALIGN_1MB, 0, v, 0, PAGE);
        assert_eq!(a % (1 << 20), 0);
    }
}

#[test]
fn mapping_past_the_vmo_end_is_allowed_and_faults_there() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 3 * PAGE);
    assert!(writable(&p, a));
    assert!(!readable(&p, a + PAGE));
    assert_eq!(p.write_memory(a + 2 * PAGE, &[1]), Err(ZX_ERR_INVALID_ARGS));
    // A mapping may even start past the end.
    let b = map(&p, p.zx_vmar_root_self(), R, 0, v, 4 * PAGE as u64, PAGE);
    assert!(!readable(&p, b));
}

#[test]
fn growing_the_vmo_makes_the_tail_of_a_mapping_usable() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    assert!(!readable(&p, a + PAGE));
    assert_eq!(p.zx_vmo_set_size(v, 2 * PAGE as u64), ZX_OK);
    assert_eq!(read_vec(&p, a + PAGE, 4), [0; 4]);
    p.write_memory(a + PAGE, b"tail").unwrap();
    assert_eq!(vmo_read(&p, v, PAGE as u64, 4), b"tail");
}

#[test]
fn mapping_keeps_the_vmo_alive_after_its_handle_is_closed() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"kept");
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(read_vec(&p, a, 4), b"kept");
    p.write_memory(a, b"more").unwrap();
    assert_eq!(read_vec(&p, a, 4), b"more");
}

#[test]
fn require_non_resizable_refuses_a_resizable_vmo() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    assert_eq!(
        try_map(
            &p,
            p.zx_vmar_root_self(),
            RW | ZX_VM_REQUIRE_NON_RESIZABLE,
            0,
            v,
            0,
            PAGE
        ),
        ZX_ERR_NOT_SUPPORTED
    );
    let w = vmo(&p, PAGE);
    map(
        &p,
        p.zx_vmar_root_self(),
        RW | ZX_VM_REQUIRE_NON_RESIZABLE,
        0,
        w,
        0,
        PAGE,
    );
}

#[test]
fn resizable_vmo_maps_without_allow_faults() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert!(writable(&p, a));
}

#[test]
fn map_range_maps_committed_pages_and_commits_nothing_more() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 0, b"x");
    assert_eq!(committed(&p, v), PAGE as u64);
    let a = map(
        &p,
        p.zx_vmar_root_self(),
        RW | ZX_VM_MAP_RANGE,
        0,
        v,
        0,
        4 * PAGE,
    );
    assert_eq!(committed(&p, v), PAGE as u64);
    assert_eq!(read_vec(&p, a, 1), b"x");
}

#[test]
fn vmo_handle_as_vmar_and_vmar_handle_as_vmo_are_wrong_type() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let root = p.zx_vmar_root_self();
    assert_eq!(try_map(&p, v, R, 0, v, 0, PAGE), ZX_ERR_WRONG_TYPE);
    assert_eq!(try_map(&p, root, R, 0, root, 0, PAGE), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        try_map(&p, p.zx_process_self(), R, 0, v, 0, PAGE),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn vmar_handle_is_looked_up_before_the_vmo_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        try_map(&p, ZX_HANDLE_INVALID, R, 0, ZX_HANDLE_INVALID, 0, PAGE),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        try_map(&p, v, R, 0, ZX_HANDLE_INVALID, 0, PAGE),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), R, 0, ZX_HANDLE_INVALID, 0, PAGE),
        ZX_ERR_BAD_HANDLE
    );
    // Handle errors come before plain argument errors.
    assert_eq!(
        try_map(&p, p.zx_vmar_root_self(), R, 0, closed_handle(&p), 3, 0),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn failed_address_copy_out_destroys_the_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, 2 * PAGE);
    assert_eq!(
        p.zx_vmar_map(r, RW, 0, v, 0, 2 * PAGE, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    assert!(mappings_in(&p, base, base + 2 * PAGE).is_empty());
    assert_eq!(map(&p, r, RW, 0, v, 0, 2 * PAGE), base);
}

#[test]
fn mapping_without_permissions_is_legal_and_every_access_faults() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), 0, 0, v, 0, PAGE);
    assert!(!readable(&p, a));
    assert_eq!(p.write_memory(a, &[1]), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn num_mappings_counts_every_mapping_of_the_vmo() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, R, 0, v, 0, PAGE);
    let b = map(&p, root, RW, 0, v, 0, PAGE);
    assert_ne!(a, b);
    assert_eq!(vmo_info(&p, v).num_mappings, 2);
    p.write_memory(b, b"shared").unwrap();
    assert_eq!(read_vec(&p, a, 6), b"shared");
    assert_eq!(p.zx_vmar_unmap(root, a, PAGE), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
}

#[test]
fn mapping_at_a_nonzero_vmo_offset_shows_that_page() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE);
    vmo_write(&p, v, 2 * PAGE as u64, b"third");
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 2 * PAGE as u64, PAGE);
    assert_eq!(read_vec(&p, a, 5), b"third");
}

#[test]
fn mapping_in_a_destroyed_region_is_bad_state() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(try_map(&p, r, RW, 0, v, 0, PAGE), ZX_ERR_BAD_STATE);
    // Range checks on the length come first.
    assert_eq!(try_map(&p, r, RW, 0, v, 0, usize::MAX), ZX_ERR_OUT_OF_RANGE);
}

#[test]
fn failed_copy_out_after_specific_overwrite_leaves_the_old_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let old = vmo(&p, 2 * PAGE);
    vmo_write(&p, old, 0, b"old");
    map_at(&p, r, 0, old, 2);
    let new = vmo(&p, 2 * PAGE);
    let st = p.zx_vmar_map(
        r,
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        0,
        new,
        0,
        2 * PAGE,
        UNMAPPED,
    );
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
    // Spec 1.4: the caller's state is as before the call.
    assert_eq!(vmo_info(&p, new).num_mappings, 0);
    assert_eq!(vmo_info(&p, old).num_mappings, 1);
    assert_eq!(read_vec(&p, base, 3), b"old");
}

#[test]
fn failed_copy_out_with_map_range_leaves_no_mapping() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"x");
    let st = p.zx_vmar_map(
        p.zx_vmar_root_self(),
        RW | ZX_VM_MAP_RANGE,
        0,
        v,
        0,
        PAGE,
        0,
    );
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn discardable_vmo_maps_only_with_allow_faults() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_DISCARDABLE);
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_vmar_map(root, RW, 0, v, 0, PAGE, out(&p, OUT2)),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    map(&p, root, RW | ZX_VM_ALLOW_FAULTS, 0, v, 0, PAGE);
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
}

#[test]
fn allow_faults_is_accepted_for_ordinary_vmos() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(
        &p,
        p.zx_vmar_root_self(),
        RW | ZX_VM_ALLOW_FAULTS,
        0,
        v,
        0,
        PAGE,
    );
    assert!(writable(&p, a));
}

#[test]
fn overwrite_whose_out_pointer_lies_in_the_new_writable_mapping_succeeds() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let old = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, old, 2);
    let new = vmo(&p, 2 * PAGE);
    // The address is written after the new mapping replaced the old one, so it lands
    // in the new VMO.
    let st = p.zx_vmar_map(
        r,
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        0,
        new,
        0,
        2 * PAGE,
        base + 8,
    );
    assert_eq!(st, ZX_OK);
    assert_eq!(vmo_read(&p, new, 8, 8), base.to_ne_bytes());
    assert_eq!(vmo_read(&p, old, 8, 8), [0; 8]);
    assert_eq!(vmo_info(&p, old).num_mappings, 0);
}

#[test]
fn overwrite_whose_out_pointer_lies_in_the_new_read_only_mapping_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let old = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, old, 2);
    let new = vmo(&p, 2 * PAGE);
    let st = p.zx_vmar_map(
        r,
        R | ZX_VM_SPECIFIC_OVERWRITE,
        0,
        new,
        0,
        2 * PAGE,
        base + 8,
    );
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
    assert_eq!(vmo_info(&p, new).num_mappings, 0);
    assert_eq!(vmo_info(&p, old).num_mappings, 1);
    assert!(writable(&p, base + 8));
}

#[test]
fn overwrite_whose_out_pointer_straddles_into_the_new_mapping_succeeds() {
    let p = new_process();
    let (r, base) = region(&p, 3);
    let before = vmo(&p, PAGE);
    map_at(&p, r, 0, before, 1);
    let old = vmo(&p, 2 * PAGE);
    map(&p, r, RW | ZX_VM_SPECIFIC, PAGE, old, 0, 2 * PAGE);
    let new = vmo(&p, 2 * PAGE);
    // Four bytes of the address land in the mapping before the range, four in the new
    // mapping; both are writable once the overwrite is done.
    let out_at = base + PAGE - 4;
    let st = p.zx_vmar_map(
        r,
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        PAGE,
        new,
        0,
        2 * PAGE,
        out_at,
    );
    assert_eq!(st, ZX_OK);
    let want = (base + PAGE).to_ne_bytes();
    assert_eq!(vmo_read(&p, before, (PAGE - 4) as u64, 4), want[..4]);
    assert_eq!(vmo_read(&p, new, 0, 4), want[4..]);
    assert_eq!(vmo_info(&p, old).num_mappings, 0);
}
