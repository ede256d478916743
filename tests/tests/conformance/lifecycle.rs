//! How mappings, regions and VMOs outlive each other and how the reports follow them
//! (docs/ABI.md §5.1, 10.4-10.6, 14).

use crate::helpers::*;

#[test]
fn destroyed_regions_disappear_from_the_maps_report() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    let before = maps(&p).len();
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    let after = maps(&p);
    assert_eq!(after.len(), before - 2);
    assert!(!after
        .iter()
        .any(|e| e.depth >= 2 && e.base >= base && e.base < base + 4 * PAGE));
}

#[test]
fn a_mapped_vmo_reports_share_count_one_and_its_mapping_entry() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let koid = basic(&p, v).koid;
    map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    let i = vmo_info(&p, v);
    assert_eq!((i.num_mappings, i.share_count), (1, 1));
    let via_map: Vec<_> = process_vmos(&p)
        .into_iter()
        .filter(|e| e.koid == koid && e.flags & ZX_INFO_VMO_VIA_MAPPING != 0)
        .collect();
    assert_eq!(via_map.len(), 1);
    assert_eq!(
        (via_map[0].size_bytes, via_map[0].num_mappings),
        (2 * PAGE as u64, 1)
    );
}

#[test]
fn a_vmo_known_only_through_a_mapping_is_listed_once() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let koid = basic(&p, v).koid;
    map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    let mine: Vec<_> = process_vmos(&p)
        .into_iter()
        .filter(|e| e.koid == koid)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_ne!(mine[0].flags & ZX_INFO_VMO_VIA_MAPPING, 0);
}

#[test]
fn shrinking_a_mapped_vmo_lowers_committed_pages_in_the_maps_report() {
    let p = new_process();
    let v = vmo_with(&p, 4 * PAGE as u64, ZX_VMO_RESIZABLE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 4 * PAGE);
    p.write_memory(a, &vec![1u8; 4 * PAGE]).unwrap();
    let m = mappings_in(&p, a, a + 1);
    assert_eq!(m[0].mapping.committed_pages, 4);
    assert_eq!(p.zx_vmo_set_size(v, PAGE as u64), ZX_OK);
    let m = mappings_in(&p, a, a + 1);
    assert_eq!((m[0].size, m[0].mapping.committed_pages), (4 * PAGE, 1));
}

#[test]
fn destroy_through_a_duplicate_kills_the_region_for_every_handle() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let d = dup(&p, r, ZX_RIGHT_SAME_RIGHTS);
    assert_eq!(p.zx_vmar_destroy(d), ZX_OK);
    assert_eq!(p.zx_vmar_unmap(r, base, PAGE), ZX_ERR_BAD_STATE);
}

#[test]
fn unmap_can_remove_mappings_and_whole_subregions_in_one_call() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 2 * PAGE, 2 * PAGE);
    map_at(&p, sub, 0, v, 1);
    map_at(&p, r, 5, v, 1);
    assert_eq!(vmo_info(&p, v).num_mappings, 3);
    assert_eq!(p.zx_vmar_unmap(r, base, 8 * PAGE), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    assert!(mappings_in(&p, base, base + 8 * PAGE).is_empty());
    assert_eq!(vmar_info(&p, r), (base, 8 * PAGE));
}

#[test]
fn specific_overwrite_across_two_mappings_trims_both() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let a = vmo(&p, 2 * PAGE);
    let b = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, a, 2);
    map_at(&p, r, 2, b, 2);
    let n = vmo(&p, 2 * PAGE);
    vmo_write(&p, n, 0, b"N");
    map(&p, r, RW | ZX_VM_SPECIFIC_OVERWRITE, PAGE, n, 0, 2 * PAGE);
    let m = mappings_in(&p, base, base + 4 * PAGE);
    let koids = [basic(&p, a).koid, basic(&p, n).koid, basic(&p, b).koid];
    assert_eq!(
        m.iter()
            .map(|e| (
                e.base - base,
                e.size,
                e.mapping.vmo_koid,
                e.mapping.vmo_offset
            ))
            .collect::<Vec<_>>(),
        vec![
            (0, PAGE, koids[0], 0),
            (PAGE, 2 * PAGE, koids[1], 0),
            (3 * PAGE, PAGE, koids[2], PAGE as u64)
        ]
    );
    assert_eq!(read_vec(&p, base + PAGE, 1), b"N");
}

#[test]
fn protect_then_unmap_part_of_a_split_mapping() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 4 * PAGE);
    map_at(&p, r, 0, v, 4);
    assert_eq!(p.zx_vmar_protect(r, R, base + PAGE, 2 * PAGE), ZX_OK);
    assert_eq!(p.zx_vmar_unmap(r, base + 2 * PAGE, PAGE), ZX_OK);
    assert!(writable(&p, base));
    assert!(readable(&p, base + PAGE) && !writable(&p, base + PAGE));
    assert!(!readable(&p, base + 2 * PAGE));
    assert!(writable(&p, base + 3 * PAGE));
    // Whether protect splits the mapping object is not pinned (so `num_mappings` is
    // not checked); the report shows one entry per protection run.
    let m = mappings_in(&p, base, base + 4 * PAGE);
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
            (3 * PAGE, PAGE, RW, 3 * PAGE as u64)
        ]
    );
}

#[test]
fn map_range_through_a_parent_needs_op_children_for_subregion_mappings() {
    let p = new_process();
    let (r, _) = region(&p, 4);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 0, 2 * PAGE);
    let v = vmo(&p, 2 * PAGE);
    let a = map_at(&p, sub, 0, v, 2);
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_MAP_RANGE, a, 2 * PAGE, 0, 0),
        ZX_OK
    );
    let weak = dup(&p, r, rights(&p, r) & !ZX_RIGHT_OP_CHILDREN);
    assert_eq!(
        p.zx_vmar_op_range(weak, ZX_VMAR_OP_MAP_RANGE, a, 2 * PAGE, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn frames_come_back_after_a_mix_of_operations() {
    let p = new_process();
    let start = p.frames_in_use();
    {
        let (r, _) = region(&p, 8);
        let v = vmo_with(&p, 8 * PAGE as u64, ZX_VMO_RESIZABLE);
        let a = map_at(&p, r, 0, v, 8);
        p.write_memory(a, &vec![1u8; 8 * PAGE]).unwrap();
        assert_eq!(p.zx_vmo_set_size(v, 3 * PAGE as u64), ZX_OK);
        assert_eq!(p.zx_vmar_unmap(r, a, PAGE), ZX_OK);
        assert_eq!(
            p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, PAGE as u64, PAGE as u64, 0, 0),
            ZX_OK
        );
        assert_eq!(p.zx_handle_close(v), ZX_OK);
        assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    }
    assert_eq!(p.frames_in_use(), start);
}
