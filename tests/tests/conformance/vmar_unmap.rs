//! `zx_vmar_unmap` (docs/ABI.md §6.3).

use crate::helpers::*;

/// A 3-page VMO whose page `i` starts with the byte `b'a' + i`, mapped read-write at
/// page `at` of `r`. Returns (vmo, base address of the mapping).
fn lettered(p: &TestProcess, r: u32, at: usize, pages: usize) -> (u32, usize) {
    let v = vmo(p, pages * PAGE);
    for i in 0..pages {
        vmo_write(p, v, (i * PAGE) as u64, &[b'a' + i as u8]);
    }
    (v, map_at(p, r, at, v, pages))
}

#[test]
fn unmapping_a_whole_mapping_removes_access_and_the_count() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let (v, a) = lettered(&p, r, 0, 2);
    assert_eq!(p.zx_vmar_unmap(r, a, 2 * PAGE), ZX_OK);
    assert!(!readable(&p, base));
    assert!(!readable(&p, base + PAGE));
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    assert!(mappings_in(&p, base, base + 4 * PAGE).is_empty());
}

#[test]
fn zero_length_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base, 0), ZX_ERR_INVALID_ARGS);
    assert!(readable(&p, base));
}

#[test]
fn unaligned_address_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base + 1, PAGE), ZX_ERR_INVALID_ARGS);
    assert!(readable(&p, base));
}

#[test]
fn length_is_rounded_up_to_whole_pages() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 3);
    assert_eq!(p.zx_vmar_unmap(r, base, PAGE + 1), ZX_OK);
    assert!(!readable(&p, base));
    assert!(!readable(&p, base + PAGE));
    assert_eq!(read_vec(&p, base + 2 * PAGE, 1), b"c");
}

#[test]
fn length_whose_rounding_overflows_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base, usize::MAX), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmar_unmap(r, base, usize::MAX - PAGE + 2),
        ZX_ERR_INVALID_ARGS
    );
    assert!(readable(&p, base));
}

#[test]
fn range_leaving_the_region_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base, 5 * PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmar_unmap(r, base - PAGE, 2 * PAGE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmar_unmap(r, base + 4 * PAGE, PAGE),
        ZX_ERR_INVALID_ARGS
    );
    // addr + len overflowing the address space.
    assert_eq!(p.zx_vmar_unmap(r, base, !(PAGE - 1)), ZX_ERR_INVALID_ARGS);
    assert!(readable(&p, base));
}

#[test]
fn unmapping_an_empty_range_succeeds() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    assert_eq!(p.zx_vmar_unmap(r, base, 4 * PAGE), ZX_OK);
    lettered(&p, r, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base + 2 * PAGE, 2 * PAGE), ZX_OK);
    assert!(readable(&p, base));
}

#[test]
fn unmapping_the_front_trims_the_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let (v, _) = lettered(&p, r, 0, 3);
    assert_eq!(p.zx_vmar_unmap(r, base, PAGE), ZX_OK);
    assert!(!readable(&p, base));
    assert_eq!(read_vec(&p, base + PAGE, 1), b"b");
    let m = mappings_in(&p, base, base + 4 * PAGE);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].base, m[0].size, m[0].mapping.vmo_offset),
        (base + PAGE, 2 * PAGE, PAGE as u64)
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
}

#[test]
fn unmapping_the_back_trims_the_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 3);
    assert_eq!(p.zx_vmar_unmap(r, base + 2 * PAGE, PAGE), ZX_OK);
    assert_eq!(read_vec(&p, base + PAGE, 1), b"b");
    assert!(!readable(&p, base + 2 * PAGE));
    let m = mappings_in(&p, base, base + 4 * PAGE);
    assert_eq!((m.len(), m[0].base, m[0].size), (1, base, 2 * PAGE));
}

#[test]
fn unmapping_the_middle_splits_the_mapping_and_the_upper_part_keeps_its_offsets() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let (v, _) = lettered(&p, r, 0, 3);
    assert_eq!(p.zx_vmar_unmap(r, base + PAGE, PAGE), ZX_OK);
    assert_eq!(read_vec(&p, base, 1), b"a");
    assert!(!readable(&p, base + PAGE));
    assert_eq!(read_vec(&p, base + 2 * PAGE, 1), b"c");
    let m = mappings_in(&p, base, base + 4 * PAGE);
    assert_eq!(
        m.iter()
            .map(|e| (e.base, e.size, e.mapping.vmo_offset))
            .collect::<Vec<_>>(),
        vec![(base, PAGE, 0), (base + 2 * PAGE, PAGE, 2 * PAGE as u64)]
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 2);
}

#[test]
fn unmapping_across_several_mappings_and_gaps_trims_each() {
    let p = new_process();
    let (r, base) = region(&p, 10);
    lettered(&p, r, 0, 3);
    lettered(&p, r, 4, 2);
    lettered(&p, r, 7, 3);
    assert_eq!(p.zx_vmar_unmap(r, base + 2 * PAGE, 6 * PAGE), ZX_OK);
    let m = mappings_in(&p, base, base + 10 * PAGE);
    assert_eq!(
        m.iter()
            .map(|e| (e.base - base, e.size))
            .collect::<Vec<_>>(),
        vec![(0, 2 * PAGE), (8 * PAGE, 2 * PAGE)]
    );
    assert_eq!(read_vec(&p, base + PAGE, 1), b"b");
    assert_eq!(read_vec(&p, base + 8 * PAGE, 1), b"b");
    for i in 2..8 {
        assert!(!readable(&p, base + i * PAGE), "page {i}");
    }
}

#[test]
fn unmap_that_cuts_a_subregion_fails_and_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    lettered(&p, r, 0, 2);
    let (sub, sbase) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 4 * PAGE, 2 * PAGE);
    let (_, in_sub) = lettered(&p, sub, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base, 5 * PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(read_vec(&p, base, 1), b"a");
    assert_eq!(read_vec(&p, in_sub, 1), b"a");
    assert_eq!(vmar_info(&p, sub), (sbase, 2 * PAGE));
}

#[test]
fn unmap_covering_a_whole_subregion_destroys_it() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 2 * PAGE, 2 * PAGE);
    let (v, in_sub) = lettered(&p, sub, 0, 1);
    assert_eq!(p.zx_vmar_unmap(r, base, 8 * PAGE), ZX_OK);
    assert!(!readable(&p, in_sub));
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    assert_eq!(p.zx_vmar_unmap(sub, in_sub, PAGE), ZX_ERR_BAD_STATE);
    // The range is free again.
    allocate(&p, r, RW_CAN | ZX_VM_SPECIFIC, 0, 8 * PAGE);
}

#[test]
fn unmap_over_a_subregion_without_op_children_is_invalid_args() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 2 * PAGE, 2 * PAGE);
    let (_, in_sub) = lettered(&p, sub, 0, 1);
    let weak = dup(&p, r, rights(&p, r) & !ZX_RIGHT_OP_CHILDREN);
    assert_eq!(p.zx_vmar_unmap(weak, base, 8 * PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(read_vec(&p, in_sub, 1), b"a");
    // Plain mappings outside sub-regions are still fine without OP_CHILDREN.
    lettered(&p, r, 6, 1);
    assert_eq!(p.zx_vmar_unmap(weak, base + 6 * PAGE, PAGE), ZX_OK);
}

#[test]
fn unmap_through_a_parent_cannot_reach_part_of_a_subregion() {
    let p = new_process();
    let (r, _) = region(&p, 8);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 2 * PAGE, 4 * PAGE);
    let (_, in_sub) = lettered(&p, sub, 0, 2);
    assert_eq!(p.zx_vmar_unmap(r, in_sub, PAGE), ZX_ERR_INVALID_ARGS);
    assert!(readable(&p, in_sub));
    // Through the sub-region's own handle it works.
    assert_eq!(p.zx_vmar_unmap(sub, in_sub, PAGE), ZX_OK);
    assert!(!readable(&p, in_sub));
    assert!(readable(&p, in_sub + PAGE));
}

#[test]
fn unmap_in_a_destroyed_region_is_bad_state_after_argument_checks() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(p.zx_vmar_unmap(r, base, PAGE), ZX_ERR_BAD_STATE);
    assert_eq!(p.zx_vmar_unmap(r, base + 1, PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_vmar_unmap(r, base, 0), ZX_ERR_INVALID_ARGS);
}

#[test]
fn unmap_with_wrong_or_bad_handle_fails() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmar_unmap(v, 0, PAGE), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_vmar_unmap(ZX_HANDLE_INVALID, 0, PAGE),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_vmar_unmap(p.zx_process_self(), 0, PAGE),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn unmap_needs_no_rights_on_the_handle() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 1);
    let none = dup(&p, r, 0);
    assert_eq!(p.zx_vmar_unmap(none, base, PAGE), ZX_OK);
    assert!(!readable(&p, base));
}

#[test]
fn unmapping_frees_the_range_for_a_new_specific_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    lettered(&p, r, 0, 4);
    assert_eq!(p.zx_vmar_unmap(r, base + PAGE, 2 * PAGE), ZX_OK);
    let w = vmo(&p, 2 * PAGE);
    assert_eq!(
        map(&p, r, RW | ZX_VM_SPECIFIC, PAGE, w, 0, 2 * PAGE),
        base + PAGE
    );
}
