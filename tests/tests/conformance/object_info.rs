//! `zx_object_get_info` (docs/ABI.md §10).

use crate::helpers::*;

#[test]
fn handle_valid_answers_ok_for_live_and_bad_handle_otherwise() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_object_get_info(v, ZX_INFO_HANDLE_VALID, 0, 0, 0, 0),
        ZX_OK
    );
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(
        p.zx_object_get_info(v, ZX_INFO_HANDLE_VALID, 0, 0, 0, 0),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_object_get_info(ZX_HANDLE_INVALID, ZX_INFO_HANDLE_VALID, 0, 0, 0, 0),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn handle_basic_of_a_vmo() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let (st, b, actual, avail) = info_raw(&p, v, ZX_INFO_HANDLE_BASIC, 32);
    assert_eq!((st, actual, avail), (ZX_OK, 1, 1));
    let info = HandleBasic::read_from(&b);
    assert_ne!(info.koid, 0);
    assert_eq!(info.rights, ZX_DEFAULT_VMO_RIGHTS);
    assert_eq!(info.obj_type, ZX_OBJ_TYPE_VMO);
    assert_eq!((info.related_koid, info.reserved), (0, 0));
    // Trailing padding is zero.
    assert_eq!(u32_at(&b, 28), 0);
}

#[test]
fn vmo_record_padding_is_zero() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let (st, b, _, _) = info_raw(&p, v, ZX_INFO_VMO, 128);
    assert_eq!(st, ZX_OK);
    assert_eq!(u32_at(&b, 84), 0);
}

#[test]
fn maps_records_other_than_mappings_have_a_zero_union() {
    let p = new_process();
    let (r, _) = region(&p, 2);
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"x");
    map_at(&p, r, 0, v, 1);
    let me = p.zx_process_self();
    let n = maps(&p).len();
    let (st, b, _, _) = info_raw(&p, me, ZX_INFO_PROCESS_MAPS, n * 104);
    assert_eq!(st, ZX_OK);
    for rec in b.chunks(104) {
        let kind = MapsEntry::read_from(rec).kind;
        assert_eq!(u32_at(rec, 60), 0, "padding after type");
        if kind != ZX_INFO_MAPS_TYPE_MAPPING {
            assert!(
                rec[64..104].iter().all(|&x| x == 0),
                "union of a {kind} entry"
            );
        } else {
            assert_eq!(u32_at(rec, 68), 0, "padding after mmu_flags");
        }
    }
}

#[test]
fn handle_basic_of_vmars_and_the_process() {
    let p = new_process();
    let root = basic(&p, p.zx_vmar_root_self());
    assert_eq!(
        (root.obj_type, root.rights, root.related_koid),
        (ZX_OBJ_TYPE_VMAR, 0x0020_801F, 0)
    );
    let (sub, _) = region(&p, 1);
    let s = basic(&p, sub);
    assert_eq!((s.obj_type, s.rights), (ZX_OBJ_TYPE_VMAR, 0x0020_800F));
    assert_ne!(s.koid, root.koid);
    let me = basic(&p, p.zx_process_self());
    assert_eq!(me.obj_type, ZX_OBJ_TYPE_PROCESS);
    assert_ne!(me.rights & ZX_RIGHT_INSPECT, 0);
}

#[test]
fn single_record_topic_with_small_buffer_is_buffer_too_small_with_actual_0_avail_1() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let (st, _, actual, avail) = info_raw(&p, v, ZX_INFO_HANDLE_BASIC, 31);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
    let (st, _, actual, avail) = info_raw(&p, p.zx_vmar_root_self(), ZX_INFO_VMAR, 15);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
    let (st, _, actual, avail) = info_raw(&p, v, ZX_INFO_VMO, 127);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
    let (st, _, actual, avail) = info_raw(&p, v, ZX_INFO_VMO, 0);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
}

#[test]
fn single_record_topic_accepts_a_larger_buffer_and_writes_one_record() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let (st, b, actual, avail) = info_raw(&p, v, ZX_INFO_HANDLE_BASIC, 100);
    assert_eq!((st, actual, avail), (ZX_OK, 1, 1));
    assert_eq!(HandleBasic::read_from(&b).obj_type, ZX_OBJ_TYPE_VMO);
}

#[test]
fn actual_and_avail_may_be_null() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_get_info(v, ZX_INFO_HANDLE_BASIC, b, 32, 0, 0),
        ZX_OK
    );
    assert_eq!(read_u32(&p, b + 12), ZX_OBJ_TYPE_VMO);
}

#[test]
fn vmar_info_of_the_root_covers_the_scratch_area_and_not_address_zero() {
    let p = new_process();
    let (base, len) = vmar_info(&p, p.zx_vmar_root_self());
    assert!(base > 0);
    assert_eq!(base % PAGE, 0);
    assert_eq!(len % PAGE, 0);
    assert!(p.scratch() >= base && p.scratch() + 16 * PAGE <= base + len);
}

#[test]
fn vmar_topic_on_a_vmo_is_wrong_type_and_vmo_topic_on_a_vmar_too() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(info_raw(&p, v, ZX_INFO_VMAR, 16).0, ZX_ERR_WRONG_TYPE);
    assert_eq!(
        info_raw(&p, p.zx_vmar_root_self(), ZX_INFO_VMO, 128).0,
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        info_raw(&p, v, ZX_INFO_PROCESS_MAPS, 104).0,
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        info_raw(&p, v, ZX_INFO_PROCESS_VMOS, 128).0,
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn vmar_topic_needs_inspect() {
    let p = new_process();
    let (r, _) = region(&p, 1);
    let blind = dup(&p, r, rights(&p, r) & !ZX_RIGHT_INSPECT);
    assert_eq!(
        info_raw(&p, blind, ZX_INFO_VMAR, 16).0,
        ZX_ERR_ACCESS_DENIED
    );
    // Basic info and the VMO topic need no right.
    assert_eq!(basic(&p, blind).rights, rights(&p, r) & !ZX_RIGHT_INSPECT);
    let v = vmo(&p, PAGE);
    let none = dup(&p, v, 0);
    assert_eq!(vmo_info(&p, none).handle_rights, 0);
}

#[test]
fn process_topics_need_inspect() {
    let p = new_process();
    let me = p.zx_process_self();
    let blind = dup(&p, me, rights(&p, me) & !ZX_RIGHT_INSPECT);
    assert_eq!(
        info_raw(&p, blind, ZX_INFO_PROCESS_MAPS, 0).0,
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        info_raw(&p, blind, ZX_INFO_PROCESS_VMOS, 0).0,
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn unknown_topics_are_not_supported() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for topic in [0x7777u32, 999, u32::MAX] {
        assert_eq!(
            info_raw(&p, v, topic, 128).0,
            ZX_ERR_NOT_SUPPORTED,
            "topic {topic:#x}"
        );
    }
}

#[test]
fn vmo_info_of_a_fresh_vmo() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE - 5);
    let i = vmo_info(&p, v);
    assert_eq!(i.koid, basic(&p, v).koid);
    assert_eq!(i.name(), b"");
    assert_eq!(i.size_bytes, 3 * PAGE as u64);
    assert_eq!(
        (i.parent_koid, i.num_children, i.num_mappings, i.share_count),
        (0, 0, 0, 1)
    );
    assert_eq!(i.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE);
    assert_eq!(i.committed_bytes, 0);
    assert_eq!(i.handle_rights, ZX_DEFAULT_VMO_RIGHTS);
    assert_eq!(i.cache_policy, ZX_CACHE_POLICY_CACHED);
}

#[test]
fn vmo_info_reports_the_rights_of_the_handle_queried() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let d = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    assert_eq!(vmo_info(&p, d).handle_rights, ZX_RIGHT_READ | ZX_RIGHT_MAP);
}

#[test]
fn vmo_info_versions_write_their_own_record_sizes() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"x");
    for (topic, size) in [
        (ZX_INFO_VMO_V1, 104usize),
        (ZX_INFO_VMO_V2, 120),
        (ZX_INFO_VMO_V3, 128),
    ] {
        let (st, _, actual, avail) = info_raw(&p, v, topic, size - 1);
        assert_eq!(
            (st, actual, avail),
            (ZX_ERR_BUFFER_TOO_SMALL, 0, 1),
            "topic {topic:#x}"
        );
        // Fill the buffer with a marker, then check nothing past the record was written.
        p.write_memory(p.scratch() + BUF, &[0x5a; 256]).unwrap();
        let b = p.scratch() + BUF;
        assert_eq!(
            p.zx_object_get_info(v, topic, b, 256, out(&p, OUT0), out(&p, OUT1)),
            ZX_OK
        );
        let bytes = read_vec(&p, b, 256);
        assert!(
            bytes[size..].iter().all(|&x| x == 0x5a),
            "topic {topic:#x} wrote past {size}"
        );
        let i = VmoInfo::read_from(&bytes[..size]);
        assert_eq!(
            (i.size_bytes, i.committed_bytes),
            (2 * PAGE as u64, PAGE as u64)
        );
    }
}

#[test]
fn vmo_info_v3_reports_populated_bytes_equal_to_committed() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"x");
    let (_, b, _, _) = info_raw(&p, v, ZX_INFO_VMO, 128);
    let info = VmoInfo::read_from(&b);
    assert_eq!(info.populated_bytes, info.committed_bytes);
    assert_eq!(info.committed_change_events, 0);
}

#[test]
fn num_mappings_follows_map_unmap_and_destroy() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let (r, _) = region(&p, 4);
    let a = map(&p, r, RW, 0, v, 0, PAGE);
    map(&p, r, R, 0, v, 0, PAGE);
    assert_eq!(vmo_info(&p, v).num_mappings, 2);
    assert_eq!(p.zx_vmar_unmap(r, a, PAGE), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
    assert_eq!(p.zx_vmar_destroy(r), ZX_OK);
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
}

#[test]
fn process_maps_starts_with_the_address_space_and_the_root() {
    let p = new_process();
    let m = maps(&p);
    assert!(m.len() >= 3);
    assert_eq!((m[0].kind, m[0].depth), (ZX_INFO_MAPS_TYPE_ASPACE, 0));
    assert_eq!((m[1].kind, m[1].depth), (ZX_INFO_MAPS_TYPE_VMAR, 1));
    let (base, len) = vmar_info(&p, p.zx_vmar_root_self());
    assert_eq!((m[1].base, m[1].size), (base, len));
    // The scratch area is one of the mappings.
    assert!(m.iter().any(|e| e.kind == ZX_INFO_MAPS_TYPE_MAPPING
        && e.base <= p.scratch()
        && p.scratch() < e.base + e.size));
}

#[test]
fn process_maps_describes_a_mapping_exactly() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 2 * PAGE as u64, b"c");
    let a = map(
        &p,
        r,
        R | ZX_VM_SPECIFIC,
        3 * PAGE,
        v,
        PAGE as u64,
        3 * PAGE,
    );
    let all = maps(&p);
    let vmar = all
        .iter()
        .position(|e| e.kind == ZX_INFO_MAPS_TYPE_VMAR && e.base == base)
        .expect("region listed");
    assert_eq!((all[vmar].size, all[vmar].depth), (8 * PAGE, 2));
    let m = &all[vmar + 1];
    assert_eq!(m.kind, ZX_INFO_MAPS_TYPE_MAPPING);
    assert_eq!((m.base, m.size, m.depth), (a, 3 * PAGE, 3));
    assert_eq!(m.mapping.mmu_flags, R);
    assert_eq!(
        (
            m.mapping.vmo_koid,
            m.mapping.vmo_offset,
            m.mapping.committed_pages
        ),
        (basic(&p, v).koid, PAGE as u64, 1)
    );
}

#[test]
fn process_maps_lists_children_in_address_order_depth_first() {
    let p = new_process();
    let (r, base) = region(&p, 8);
    let (sub, _) = allocate(&p, r, RWS_CAN | ZX_VM_SPECIFIC, 4 * PAGE, 2 * PAGE);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 6, v, 1);
    map_at(&p, sub, 1, v, 1);
    map_at(&p, r, 0, v, 1);
    let got: Vec<_> = maps(&p)
        .into_iter()
        .filter(|e| e.base >= base && e.base < base + 8 * PAGE)
        .map(|e| (e.kind, e.base - base, e.depth))
        .collect();
    assert_eq!(
        got,
        vec![
            (ZX_INFO_MAPS_TYPE_VMAR, 0, 2),
            (ZX_INFO_MAPS_TYPE_MAPPING, 0, 3),
            (ZX_INFO_MAPS_TYPE_VMAR, 4 * PAGE, 3),
            (ZX_INFO_MAPS_TYPE_MAPPING, 5 * PAGE, 4),
            (ZX_INFO_MAPS_TYPE_MAPPING, 6 * PAGE, 3),
        ]
    );
}

#[test]
fn process_maps_truncates_to_whole_records_and_still_succeeds() {
    let p = new_process();
    let (st, _, actual, avail) = info_raw(&p, p.zx_process_self(), ZX_INFO_PROCESS_MAPS, 0);
    assert_eq!((st, actual), (ZX_OK, 0));
    assert!(avail >= 3);
    let (st, b, actual, avail2) = info_raw(&p, p.zx_process_self(), ZX_INFO_PROCESS_MAPS, 104 + 50);
    assert_eq!((st, actual, avail2), (ZX_OK, 1, avail));
    assert_eq!(MapsEntry::read_from(&b).kind, ZX_INFO_MAPS_TYPE_ASPACE);
}

#[test]
fn null_buffer_with_size_zero_asks_for_the_count() {
    let p = new_process();
    poison_outs(&p);
    let st = p.zx_object_get_info(
        p.zx_process_self(),
        ZX_INFO_PROCESS_MAPS,
        0,
        0,
        out(&p, OUT0),
        out(&p, OUT1),
    );
    assert_eq!(st, ZX_OK);
    assert_eq!(read_usize(&p, out(&p, OUT0)), 0);
    assert_eq!(read_usize(&p, out(&p, OUT1)), maps(&p).len());
}

#[test]
fn process_maps_v1_uses_96_byte_records() {
    let p = new_process();
    let n = maps(&p).len();
    let (st, b, actual, avail) = info_raw(&p, p.zx_process_self(), ZX_INFO_PROCESS_MAPS_V1, 96 * n);
    assert_eq!((st, actual, avail), (ZX_OK, n, n));
    let second = MapsEntry::read_from(&b[96..192]);
    assert_eq!((second.kind, second.depth), (ZX_INFO_MAPS_TYPE_VMAR, 1));
}

#[test]
fn process_maps_splits_a_mapping_by_protection() {
    let p = new_process();
    let (r, base) = region(&p, 3);
    let v = vmo(&p, 3 * PAGE);
    map_at(&p, r, 0, v, 3);
    assert_eq!(p.zx_vmar_protect(r, R, base + 2 * PAGE, PAGE), ZX_OK);
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
        vec![(0, 2 * PAGE, RW, 0), (2 * PAGE, PAGE, R, 2 * PAGE as u64)]
    );
}

#[test]
fn process_vmos_lists_handles_and_mappings_separately() {
    let p = new_process();
    let before = process_vmos(&p).len();
    let v = vmo(&p, PAGE);
    dup(&p, v, ZX_RIGHT_READ);
    map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    let koid = basic(&p, v).koid;
    let all = process_vmos(&p);
    assert_eq!(all.len(), before + 3);
    let mine: Vec<_> = all.iter().filter(|e| e.koid == koid).collect();
    assert_eq!(mine.len(), 3);
    let via_handle: Vec<_> = mine
        .iter()
        .filter(|e| e.flags & ZX_INFO_VMO_VIA_HANDLE != 0)
        .map(|e| e.handle_rights)
        .collect();
    assert_eq!(via_handle.len(), 2);
    assert!(via_handle.contains(&ZX_DEFAULT_VMO_RIGHTS) && via_handle.contains(&ZX_RIGHT_READ));
    let via_map: Vec<_> = mine
        .iter()
        .filter(|e| e.flags & ZX_INFO_VMO_VIA_MAPPING != 0)
        .collect();
    assert_eq!(via_map.len(), 1);
    assert_eq!(via_map[0].handle_rights, 0);
}

#[test]
fn process_vmos_truncates_and_reports_the_total() {
    let p = new_process();
    vmo(&p, PAGE);
    vmo(&p, PAGE);
    let total = process_vmos(&p).len();
    let (st, _, actual, avail) = info_raw(&p, p.zx_process_self(), ZX_INFO_PROCESS_VMOS, 128 + 127);
    assert_eq!((st, actual, avail), (ZX_OK, 1, total));
    let (st, _, actual, avail) =
        info_raw(&p, p.zx_process_self(), ZX_INFO_PROCESS_VMOS_V1, 104 * 2);
    assert_eq!((st, actual, avail), (ZX_OK, 2, total));
}

#[test]
fn info_into_an_unwritable_buffer_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_object_get_info(v, ZX_INFO_HANDLE_BASIC, UNMAPPED, 32, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_object_get_info(v, ZX_INFO_HANDLE_BASIC, p.scratch() + BUF, 32, UNMAPPED, 0),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn info_of_a_bad_handle_is_bad_handle() {
    let p = new_process();
    assert_eq!(
        info_raw(&p, ZX_HANDLE_INVALID, ZX_INFO_HANDLE_BASIC, 32).0,
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        info_raw(&p, closed_handle(&p), ZX_INFO_VMO, 128).0,
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn committed_bytes_follow_writes() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    assert_eq!(committed(&p, v), 0);
    vmo_write(&p, v, 0, b"a");
    vmo_write(&p, v, 3 * PAGE as u64, b"b");
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 4 * PAGE);
    p.write_memory(a + PAGE, b"c").unwrap();
    assert_eq!(committed(&p, v), 3 * PAGE as u64);
}

#[test]
fn maps_entries_carry_the_vmo_name_and_per_run_committed_pages() {
    let p = new_process();
    let (r, base) = region(&p, 3);
    let v = vmo(&p, 3 * PAGE);
    let b = p.scratch() + BUF;
    p.write_memory(b, b"heap").unwrap();
    assert_eq!(p.zx_object_set_property(v, ZX_PROP_NAME, b, 4), ZX_OK);
    map_at(&p, r, 0, v, 3);
    vmo_write(&p, v, 0, b"x");
    assert_eq!(p.zx_vmar_protect(r, R, base + 2 * PAGE, PAGE), ZX_OK);
    let m = mappings_in(&p, base, base + 3 * PAGE);
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|e| e.name() == b"heap"));
    assert_eq!(
        (m[0].mapping.committed_pages, m[1].mapping.committed_pages),
        (1, 0)
    );
    vmo_write(&p, v, 2 * PAGE as u64, b"y");
    let m = mappings_in(&p, base, base + 3 * PAGE);
    assert_eq!(
        (m[0].mapping.committed_pages, m[1].mapping.committed_pages),
        (1, 1)
    );
}
