//! Arguments near `usize::MAX` / `u64::MAX` and at the edges of the address space:
//! every call answers with a status and changes nothing (docs/ABI.md §1.2, 14).

use crate::helpers::*;

const TOP: usize = !(PAGE - 1);

#[test]
fn specific_offsets_near_the_top_are_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let v = vmo(&p, PAGE);
    for off in [TOP, TOP - PAGE, 1 << 63, (1 << 47) & !(PAGE - 1)] {
        let st = p.zx_vmar_map(r, R | ZX_VM_SPECIFIC, off, v, 0, PAGE, out(&p, OUT2));
        assert_eq!(st, ZX_ERR_INVALID_ARGS, "offset {off:#x}");
        let st = p.zx_vmar_allocate(
            r,
            RW_CAN | ZX_VM_SPECIFIC,
            off,
            PAGE,
            out(&p, OUT0),
            out(&p, OUT1),
        );
        assert_eq!(st, ZX_ERR_INVALID_ARGS, "offset {off:#x}");
    }
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn specific_offset_plus_length_wrapping_is_invalid_args() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let v = vmo(&p, PAGE);
    let st = p.zx_vmar_map(r, R | ZX_VM_SPECIFIC, 2 * PAGE, v, 0, TOP, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
    let st = p.zx_vmar_allocate(
        r,
        RW_CAN | ZX_VM_SPECIFIC,
        2 * PAGE,
        TOP,
        out(&p, OUT0),
        out(&p, OUT1),
    );
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
}

#[test]
fn unmap_protect_and_op_range_at_the_top_of_the_address_space_fail_cleanly() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    assert_eq!(p.zx_vmar_unmap(root, TOP, PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_vmar_protect(root, R, TOP, PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_COMMIT, TOP, PAGE, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    let s = p.scratch();
    assert_eq!(p.zx_vmar_unmap(root, s, TOP), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_vmar_protect(root, R, s, TOP), ZX_ERR_INVALID_ARGS);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_COMMIT, s, TOP, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert!(writable(&p, s));
}

#[test]
fn address_zero_is_outside_the_root() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    assert_eq!(p.zx_vmar_unmap(root, 0, PAGE), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_vmar_protect(root, R, 0, PAGE), ZX_ERR_INVALID_ARGS);
}

#[test]
fn vmo_offsets_near_u64_max_are_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(v, b, u64::MAX, 0), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(p.zx_vmo_write(v, b, u64::MAX - 7, 8), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, u64::MAX - 1, 1, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 1, u64::MAX, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn vmo_sizes_just_below_the_overflow_edge_are_out_of_range() {
    let p = new_process();
    for size in [
        u64::MAX - PAGE as u64 + 1,
        u64::MAX - PAGE as u64 + 2,
        1 << 63,
    ] {
        let st = p.zx_vmo_create(size, 0, out(&p, OUT0));
        // The largest page multiple is beyond any maximum we would build, and the
        // others overflow when rounded.
        assert_eq!(st, ZX_ERR_OUT_OF_RANGE, "size {size:#x}");
    }
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    assert_eq!(
        p.zx_vmo_set_size(v, u64::MAX - PAGE as u64 + 2),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(vmo_size(&p, v), PAGE as u64);
}

#[test]
fn map_of_a_page_at_the_largest_aligned_vmo_offset_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let top = u64::MAX - PAGE as u64 + 1;
    let st = p.zx_vmar_map(p.zx_vmar_root_self(), R, 0, v, top, PAGE, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_OUT_OF_RANGE);
    // One page less fits in 64 bits: allowed (past the VMO's end).
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, top - PAGE as u64, PAGE);
    assert!(!readable(&p, a));
}

#[test]
fn huge_alignment_places_at_a_4_gib_boundary() {
    let p = new_process();
    let (h, base) = allocate(&p, p.zx_vmar_root_self(), RW_CAN | ZX_VM_ALIGN_4GB, 0, PAGE);
    assert_eq!(base % (1 << 32), 0);
    assert_ne!(base, 0);
    assert_eq!(vmar_info(&p, h), (base, PAGE));
}

#[test]
fn huge_lengths_in_a_small_region_are_invalid_args_not_no_resources() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmar_map(r, R, 0, v, 0, TOP - PAGE, out(&p, OUT2)),
        ZX_ERR_INVALID_ARGS
    );
    let st = p.zx_vmar_allocate(r, RW_CAN, 0, TOP, out(&p, OUT0), out(&p, OUT1));
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
}
