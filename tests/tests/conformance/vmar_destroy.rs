//! `zx_vmar_destroy` and the life of dead regions (docs/ABI.md §6.5, 5.1).

use crate::helpers::*;

#[test]
fn destroy_unmaps_everything_and_frees_the_range() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    let (r, base) = allocate(&p, parent, RWS_CAN, 0, 4 * PAGE);
    let v = vmo(&p, 2 * PAGE);
    let a = map_at(&p, r, 1, v, 2);
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert!(!readable(&p, a));
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    let off = base - vmar_info(&p, parent).0;
    let (_, again) = allocate(&p, parent, RW_CAN | ZX_VM_SPECIFIC, off, 4 * PAGE);
    assert_eq!(again, base);
}

#[test]
fn destroy_kills_every_descendant() {
    let p = new_process();
    let (r, _) = region(&p, 8);
    let (child, _) = allocate(&p, r, RWS_CAN, 0, 4 * PAGE);
    let (grandchild, _) = allocate(&p, child, RW_CAN, 0, PAGE);
    let v = vmo(&p, PAGE);
    let a = map(&p, grandchild, RW, 0, v, 0, PAGE);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert!(!readable(&p, a));
    for h in [r, child, grandchild] {
        assert_eq!(p.zx_vmar_destroy(h), ZX_ERR_BAD_STATE);
        assert_eq!(
            p.zx_vmar_map(h, R, 0, v, 0, PAGE, out(&p, OUT2)),
            ZX_ERR_BAD_STATE
        );
    }
}

#[test]
fn destroying_twice_is_bad_state() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(p.zx_vmar_destroy(r), ZX_ERR_BAD_STATE);
}

#[test]
fn destroying_the_root_is_not_supported() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    assert_eq!(p.zx_vmar_destroy(root), ZX_ERR_NOT_SUPPORTED);
    assert!(writable(&p, p.scratch()));
}

#[test]
fn destroy_without_op_children_is_access_denied() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    let weak = dup(&p, r, rights(&p, r) & !ZX_RIGHT_OP_CHILDREN);
    assert_eq!(p.zx_vmar_destroy(weak), ZX_ERR_ACCESS_DENIED);
    assert!(readable(&p, base));
}

#[test]
fn destroy_with_wrong_or_bad_handle_fails() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmar_destroy(v), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_vmar_destroy(ZX_HANDLE_INVALID), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_vmar_destroy(p.zx_process_self()), ZX_ERR_WRONG_TYPE);
}

#[test]
fn every_vmar_call_on_a_destroyed_region_is_bad_state() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(
        p.zx_vmar_allocate(r, RW_CAN, 0, PAGE, out(&p, OUT0), out(&p, OUT1)),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(
        p.zx_vmar_map(r, RW, 0, v, 0, PAGE, out(&p, OUT2)),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_vmar_unmap(r, base, PAGE), ZX_ERR_BAD_STATE);
    assert_eq!(p.zx_vmar_protect(r, R, base, PAGE), ZX_ERR_BAD_STATE);
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, PAGE, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_vmar_destroy(r), ZX_ERR_BAD_STATE);
}

#[test]
fn destroyed_region_handle_stays_valid_and_answers_basic_info() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let before = basic(&p, r);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(
        p.zx_object_get_info(r, ZX_INFO_HANDLE_VALID, 0, 0, 0, 0),
        ZX_OK
    );
    assert_eq!(basic(&p, r), before);
    assert_eq!(p.zx_handle_close(r), ZX_OK);
}

#[test]
fn closing_the_last_region_handle_keeps_its_mappings_and_range() {
    let p = new_process();
    let (parent, _) = region(&p, 4);
    let (r, base) = allocate(&p, parent, RWS_CAN | ZX_VM_SPECIFIC, 0, 2 * PAGE);
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"stay");
    let a = map_at(&p, r, 0, v, 1);
    assert_eq!(p.zx_handle_close(r), ZX_OK);
    assert_eq!(read_vec(&p, a, 4), b"stay");
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
    assert_eq!(
        p.zx_vmar_allocate(
            parent,
            RW_CAN | ZX_VM_SPECIFIC,
            0,
            PAGE,
            out(&p, OUT0),
            out(&p, OUT1)
        ),
        ZX_ERR_ALREADY_EXISTS
    );
    // Destroying the parent removes it at last.
    assert_eq!(p.zx_vmar_destroy(parent), ZX_OK);
    assert!(!readable(&p, base));
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn destroying_a_child_leaves_the_parent_and_siblings_working() {
    let p = new_process();
    let (parent, _) = region(&p, 8);
    let (a, _) = allocate(&p, parent, RWS_CAN, 0, 2 * PAGE);
    let (b, _) = allocate(&p, parent, RWS_CAN, 0, 2 * PAGE);
    let v = vmo(&p, PAGE);
    let in_b = map_at(&p, b, 0, v, 1);
    assert_eq!(p.zx_vmar_destroy(a), ZX_OK);
    assert!(writable(&p, in_b));
    allocate(&p, parent, RW_CAN, 0, PAGE);
    map(&p, b, RW, 0, v, 0, PAGE);
}

#[test]
fn destroy_releases_committed_frames_of_vmos_mapped_only_there() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let v = vmo(&p, 4 * PAGE);
    let a = map_at(&p, r, 0, v, 4);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    let before = p.frames_in_use();
    p.write_memory(a, &[7u8; 4 * PAGE]).unwrap();
    assert!(p.frames_in_use() >= before + 4);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert!(p.frames_in_use() <= before);
}
