//! `zx_iommu_create`, `zx_bti_create`, `zx_bti_pin`, `zx_pmt_unpin`,
//! `zx_bti_release_quarantine`, `ZX_INFO_BTI` and `zx_vmo_create_contiguous`
//! (docs/ABI.md §8.9 and §17.2).

use crate::helpers::*;
use kernel_hal::PhysMem;

const P: u64 = PAGE as u64;
const RW_PIN: u32 = ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE;

/// A dummy IOMMU from the root resource.
fn iommu(p: &TestProcess) -> u32 {
    let desc = p.scratch() + BUF;
    assert_eq!(
        p.zx_iommu_create(
            p.root_resource(),
            ZX_IOMMU_TYPE_DUMMY,
            desc,
            1,
            out(p, OUT0)
        ),
        ZX_OK
    );
    read_u32(p, out(p, OUT0))
}

/// A BTI behind a fresh dummy IOMMU.
fn bti(p: &TestProcess) -> u32 {
    let i = iommu(p);
    assert_eq!(p.zx_bti_create(i, 0, 7, out(p, OUT0)), ZX_OK);
    read_u32(p, out(p, OUT0))
}

/// Pins with `num_addrs` addresses at `BUF`; returns the status, the PMT handle
/// and the addresses.
fn pin_n(
    p: &TestProcess,
    b: u32,
    options: u32,
    v: u32,
    offset: u64,
    size: u64,
    n: usize,
) -> (i32, Option<u32>, Vec<u64>) {
    poison_outs(p);
    let addrs = p.scratch() + BUF;
    let st = p.zx_bti_pin(b, options, v, offset, size, addrs, n, out(p, OUT0));
    if st != ZX_OK {
        assert_eq!(
            read_u32(p, out(p, OUT0)),
            POISON32,
            "a failed pin wrote a PMT"
        );
        return (st, None, Vec::new());
    }
    let list = (0..n).map(|i| read_u64(p, addrs + 8 * i)).collect();
    (st, Some(read_u32(p, out(p, OUT0))), list)
}

/// Pins one address per page.
fn pin(
    p: &TestProcess,
    b: u32,
    options: u32,
    v: u32,
    offset: u64,
    size: u64,
) -> (i32, Option<u32>, Vec<u64>) {
    pin_n(p, b, options, v, offset, size, (size / P) as usize)
}

/// `ZX_INFO_BTI` of `h`: (pmo_count, quarantine_count).
fn bti_counts(p: &TestProcess, h: u32) -> (u64, u64) {
    let (st, b, _, _) = info_raw(p, h, ZX_INFO_BTI, BtiInfo::SIZE);
    assert_eq!(st, ZX_OK);
    let info = BtiInfo::read_from(&b);
    (info.pmo_count, info.quarantine_count)
}

/// A contiguous VMO of `size` bytes, asserting success.
fn contiguous(p: &TestProcess, b: u32, size: usize, align: u32) -> u32 {
    assert_eq!(
        p.zx_vmo_create_contiguous(b, size, align, out(p, OUT0)),
        ZX_OK
    );
    read_u32(p, out(p, OUT0))
}

// ---- IOMMU and BTI creation ----

#[test]
fn a_dummy_iommu_and_a_bti_have_their_types_and_default_rights() {
    let p = new_process();
    let i = iommu(&p);
    assert_eq!(
        (basic(&p, i).obj_type, basic(&p, i).rights),
        (ZX_OBJ_TYPE_IOMMU, ZX_DEFAULT_IOMMU_RIGHTS)
    );
    assert_eq!(p.zx_bti_create(i, 0, 1, out(&p, OUT0)), ZX_OK);
    let b = read_u32(&p, out(&p, OUT0));
    assert_eq!(
        (basic(&p, b).obj_type, basic(&p, b).rights),
        (ZX_OBJ_TYPE_BTI, ZX_DEFAULT_BTI_RIGHTS)
    );
    let (st, raw, _, _) = info_raw(&p, b, ZX_INFO_BTI, BtiInfo::SIZE);
    assert_eq!(st, ZX_OK);
    let info = BtiInfo::read_from(&raw);
    assert_eq!(info.minimum_contiguity, P);
    assert_eq!((info.pmo_count, info.quarantine_count), (0, 0));
}

#[test]
fn iommu_create_checks_desc_size_then_the_resource_then_the_type() {
    let p = new_process();
    let desc = p.scratch() + BUF;
    let root = p.root_resource();
    let v = vmo(&p, PAGE);
    let o = out(&p, OUT0);
    // The descriptor size is checked before the handle.
    assert_eq!(
        p.zx_iommu_create(ZX_HANDLE_INVALID, 0, desc, ZX_IOMMU_MAX_DESC_LEN + 1, o),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_iommu_create(ZX_HANDLE_INVALID, 0, desc, 1, o),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(p.zx_iommu_create(v, 0, desc, 1, o), ZX_ERR_WRONG_TYPE);
    let (st, mmio) = {
        let name = p.scratch() + BUF + 64;
        let st = p.zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0x1000, PAGE, name, 0, o);
        (st, read_u32(&p, o))
    };
    assert_eq!(st, ZX_OK);
    assert_eq!(p.zx_iommu_create(mmio, 0, desc, 1, o), ZX_ERR_ACCESS_DENIED);
    assert_eq!(
        p.zx_iommu_create(root, ZX_IOMMU_TYPE_INTEL, desc, 1, o),
        ZX_ERR_NOT_SUPPORTED
    );
    for size in [0, 2, 64] {
        assert_eq!(
            p.zx_iommu_create(root, 0, desc, size, o),
            ZX_ERR_INVALID_ARGS
        );
    }
    assert_eq!(
        p.zx_iommu_create(root, 0, UNMAPPED, 1, o),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn the_system_iommu_resource_may_create_an_iommu() {
    let p = new_process();
    let o = out(&p, OUT0);
    let name = p.scratch() + BUF + 64;
    let base = ZX_RSRC_SYSTEM_IOMMU_BASE;
    assert_eq!(
        p.zx_resource_create(p.root_resource(), ZX_RSRC_KIND_SYSTEM, base, 1, name, 0, o),
        ZX_OK
    );
    let sys = read_u32(&p, o);
    assert_eq!(p.zx_iommu_create(sys, 0, p.scratch() + BUF, 1, o), ZX_OK);
}

#[test]
fn bti_create_checks_options_then_the_iommu() {
    let p = new_process();
    let i = iommu(&p);
    let v = vmo(&p, PAGE);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_bti_create(ZX_HANDLE_INVALID, 1, 0, o),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_bti_create(ZX_HANDLE_INVALID, 0, 0, o),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(p.zx_bti_create(v, 0, 0, o), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_bti_create(p.root_resource(), 0, 0, o),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(p.zx_bti_create(i, 0, 0, UNMAPPED), ZX_ERR_INVALID_ARGS);
}

// ---- pinning ----

#[test]
fn pinning_commits_and_returns_each_page_address() {
    let p = new_process();
    let before = p.frames_in_use();
    let b = bti(&p);
    let v = vmo(&p, 4 * PAGE);
    let (st, pmt, addrs) = pin(&p, b, RW_PIN, v, P, 2 * P);
    assert_eq!(st, ZX_OK);
    assert_eq!(addrs.len(), 2);
    assert!(addrs.iter().all(|a| a % P == 0 && *a != 0));
    assert_eq!(vmo_info(&p, v).committed_bytes, 2 * P);
    assert_eq!(p.frames_in_use(), before + 2);
    assert_eq!(basic(&p, pmt.unwrap()).obj_type, ZX_OBJ_TYPE_PMT);
    assert_eq!(basic(&p, pmt.unwrap()).rights, ZX_DEFAULT_PMT_RIGHTS);
    assert_eq!(bti_counts(&p, b), (1, 0));
    // The device and the VMO see the same bytes.
    vmo_write(&p, v, P + 3, b"dma");
    let mut seen = [0u8; 3];
    p.hal().read(addrs[0] as usize + 3, &mut seen).unwrap();
    assert_eq!(&seen, b"dma");
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(bti_counts(&p, b), (0, 0));
}

#[test]
fn pin_checks_alignment_first() {
    let p = new_process();
    for (offset, size) in [(1, P), (0, P + 1), (P / 2, P)] {
        assert_eq!(
            pin(
                &p,
                ZX_HANDLE_INVALID,
                RW_PIN,
                ZX_HANDLE_INVALID,
                offset,
                size
            )
            .0,
            ZX_ERR_INVALID_ARGS
        );
    }
}

#[test]
fn pin_checks_the_bti_then_the_vmo_handle() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let b_nomap = dup(&p, b, ZX_DEFAULT_BTI_RIGHTS & !ZX_RIGHT_MAP);
    let v_nomap = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_MAP);
    for (bh, vh, want) in [
        (ZX_HANDLE_INVALID, v, ZX_ERR_BAD_HANDLE),
        (v, v, ZX_ERR_WRONG_TYPE),
        (b_nomap, v, ZX_ERR_ACCESS_DENIED),
        (b_nomap, ZX_HANDLE_INVALID, ZX_ERR_ACCESS_DENIED),
        (b, ZX_HANDLE_INVALID, ZX_ERR_BAD_HANDLE),
        (b, b, ZX_ERR_WRONG_TYPE),
        (b, v_nomap, ZX_ERR_ACCESS_DENIED),
    ] {
        assert_eq!(pin(&p, bh, RW_PIN, vh, 0, P).0, want);
    }
    assert_eq!(
        vmo_info(&p, v).committed_bytes,
        0,
        "a refused pin committed"
    );
}

#[test]
fn pin_permissions_need_the_vmo_rights() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    let wo = dup(&p, v, ZX_RIGHT_WRITE | ZX_RIGHT_MAP);
    assert_eq!(
        pin(&p, b, ZX_BTI_PERM_WRITE, ro, 0, P).0,
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        pin(&p, b, ZX_BTI_PERM_READ, wo, 0, P).0,
        ZX_ERR_ACCESS_DENIED
    );
    // Device execute needs the VMO's READ, not EXECUTE.
    assert_eq!(
        pin(&p, b, ZX_BTI_PERM_EXECUTE, wo, 0, P).0,
        ZX_ERR_ACCESS_DENIED
    );
    let (st, pmt, _) = pin(&p, b, ZX_BTI_PERM_EXECUTE | ZX_BTI_PERM_READ, ro, 0, P);
    assert_eq!(st, ZX_OK);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn pin_refuses_bad_option_combinations_and_counts() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 4 * PAGE);
    assert_eq!(
        pin(&p, b, RW_PIN | ZX_BTI_COMPRESS | ZX_BTI_CONTIGUOUS, v, 0, P).0,
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        pin(&p, b, RW_PIN | (1 << 5), v, 0, P).0,
        ZX_ERR_INVALID_ARGS
    );
    // CONTIGUOUS needs a contiguous or physical VMO.
    assert_eq!(
        pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, v, 0, P, 1).0,
        ZX_ERR_INVALID_ARGS
    );
    for n in [0, 1, 3, 5] {
        assert_eq!(
            pin_n(&p, b, RW_PIN, v, 0, 4 * P, n).0,
            ZX_ERR_INVALID_ARGS,
            "{n}"
        );
    }
    assert_eq!(pin(&p, b, RW_PIN, v, 0, 0).0, ZX_ERR_INVALID_ARGS);
    assert_eq!(vmo_info(&p, v).committed_bytes, 0);
    assert_eq!(bti_counts(&p, b), (0, 0));
}

#[test]
fn compressed_pins_give_one_address_per_page() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    let (st, pmt, addrs) = pin(&p, b, RW_PIN | ZX_BTI_COMPRESS, v, 0, 2 * P);
    assert_eq!((st, addrs.len()), (ZX_OK, 2));
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn pinning_past_the_vmo_end_is_out_of_range_and_pins_nothing() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    assert_eq!(pin(&p, b, RW_PIN, v, P, 2 * P).0, ZX_ERR_OUT_OF_RANGE);
    assert_eq!(pin(&p, b, RW_PIN, v, 4 * P, P).0, ZX_ERR_OUT_OF_RANGE);
    assert_eq!(
        pin(&p, b, RW_PIN, v, u64::MAX - P + 1, P).0,
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(vmo_info(&p, v).committed_bytes, 0);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 2 * P, 0, 0),
        ZX_OK,
        "a page stayed pinned"
    );
}

#[test]
fn a_failed_address_copy_leaves_nothing_pinned() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_bti_pin(b, RW_PIN, v, 0, P, UNMAPPED, 1, out(&p, OUT0)),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_bti_pin(b, RW_PIN, v, 0, P, p.scratch() + BUF, 1, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(bti_counts(&p, b), (0, 0));
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
}

#[test]
fn pinned_pages_refuse_decommit_shrink_and_snapshots() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo_with(&p, 4 * P, ZX_VMO_RESIZABLE);
    vmo_write(&p, v, 0, &[5; 4 * PAGE]);
    let (st, pmt, _) = pin(&p, b, RW_PIN, v, 2 * P, P);
    assert_eq!(st, ZX_OK);
    for (offset, len) in [(0, 4 * P), (2 * P, P)] {
        assert_eq!(
            p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, offset, len, 0, 0),
            ZX_ERR_BAD_STATE
        );
    }
    assert_eq!(p.zx_vmo_set_size(v, 2 * P), ZX_ERR_BAD_STATE);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * P, out(&p, OUT0)),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_ERR_BAD_STATE
    );
    // Nothing changed, and pages outside the pin are free to go.
    assert_eq!(vmo_read(&p, v, 2 * P, 1), [5]);
    assert_eq!(vmo_size(&p, v), 4 * P);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 2 * P, 0, 0),
        ZX_OK
    );
    assert_eq!(p.zx_vmo_set_size(v, 3 * P), ZX_OK);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(p.zx_vmo_set_size(v, P), ZX_OK);
}

#[test]
fn two_pins_of_a_page_both_hold_it() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, a, _) = pin(&p, b, RW_PIN, v, 0, P);
    let (_, c, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(bti_counts(&p, b), (2, 0));
    assert_eq!(p.zx_pmt_unpin(a.unwrap()), ZX_OK);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_pmt_unpin(c.unwrap()), ZX_OK);
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
}

#[test]
fn pinning_a_snapshot_page_gives_it_a_private_copy_first() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"parent");
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, P, out(&p, OUT0)),
        ZX_OK
    );
    let c = read_u32(&p, out(&p, OUT0));
    let before = p.frames_in_use();
    let (st, pmt, addrs) = pin(&p, b, RW_PIN, c, 0, P);
    assert_eq!(st, ZX_OK);
    assert_eq!(p.frames_in_use(), before + 1, "no private copy was made");
    // The device writes the child's own page; the parent keeps its bytes.
    p.hal().write(addrs[0] as usize, b"device").unwrap();
    assert_eq!(vmo_read(&p, c, 0, 6), b"device");
    assert_eq!(vmo_read(&p, v, 0, 6), b"parent");
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn unpinning_twice_is_bad_handle_and_a_wrong_type_is_consumed() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    let pmt = pmt.unwrap();
    assert_eq!(p.zx_pmt_unpin(pmt), ZX_OK);
    assert_eq!(p.zx_pmt_unpin(pmt), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_pmt_unpin(ZX_HANDLE_INVALID), ZX_ERR_BAD_HANDLE);
    let other = vmo(&p, PAGE);
    assert_eq!(p.zx_pmt_unpin(other), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_handle_close(other),
        ZX_ERR_BAD_HANDLE,
        "the handle stayed"
    );
    assert_eq!(bti_counts(&p, b), (0, 0));
}

#[test]
fn a_pmt_closed_without_unpin_is_quarantined_until_released() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, 2 * P);
    assert_eq!(p.zx_handle_close(pmt.unwrap()), ZX_OK);
    assert_eq!(bti_counts(&p, b), (0, 1));
    // The pages stay pinned: the device may still be using them.
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 2 * P, 0, 0),
        ZX_ERR_BAD_STATE
    );
    let no_write = dup(&p, b, ZX_DEFAULT_BTI_RIGHTS & !ZX_RIGHT_WRITE);
    assert_eq!(p.zx_bti_release_quarantine(no_write), ZX_ERR_ACCESS_DENIED);
    assert_eq!(p.zx_bti_release_quarantine(v), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_bti_release_quarantine(ZX_HANDLE_INVALID),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(bti_counts(&p, b), (0, 1));
    assert_eq!(p.zx_bti_release_quarantine(b), ZX_OK);
    assert_eq!(bti_counts(&p, b), (0, 0));
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 2 * P, 0, 0),
        ZX_OK
    );
}

#[test]
fn a_quarantined_pin_keeps_its_vmo_frames_after_the_vmo_handle_closes() {
    let p = new_process();
    let before = p.frames_in_use();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(p.zx_handle_close(pmt.unwrap()), ZX_OK);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(
        p.frames_in_use(),
        before + 1,
        "a quarantined page was freed"
    );
    assert_eq!(p.zx_bti_release_quarantine(b), ZX_OK);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn a_bti_handle_from_another_process_is_bad_handle() {
    let p = new_process();
    let q = new_process();
    let b = bti(&p);
    let v = vmo(&q, PAGE);
    // Handle values are per process: `b` names nothing in `q`.
    let addrs = q.scratch() + BUF;
    assert_eq!(
        q.zx_bti_pin(b, RW_PIN, v, 0, P, addrs, 1, out(&q, OUT0)),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(q.zx_bti_release_quarantine(b), ZX_ERR_BAD_HANDLE);
    assert_eq!(vmo_info(&q, v).committed_bytes, 0);
}

#[test]
fn physical_vmos_pin_to_their_device_addresses() {
    let p = new_process();
    let b = bti(&p);
    let (dev, _) = p.device_memory();
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_physical(p.root_resource(), dev as u64, 2 * PAGE, o),
        ZX_OK
    );
    let v = read_u32(&p, o);
    let before = p.frames_in_use();
    let (st, pmt, addrs) = pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, v, 0, 2 * P, 1);
    assert_eq!((st, addrs), (ZX_OK, vec![dev as u64]));
    assert_eq!(p.frames_in_use(), before);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

// ---- contiguous VMOs ----

#[test]
fn a_contiguous_vmo_is_one_aligned_committed_run() {
    let p = new_process();
    let before = p.frames_in_use();
    let b = bti(&p);
    let v = contiguous(&p, b, 8 * PAGE, 16);
    let info = vmo_info(&p, v);
    assert_eq!(info.flags & ZX_INFO_VMO_CONTIGUOUS, ZX_INFO_VMO_CONTIGUOUS);
    assert_eq!(info.flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(info.committed_bytes, 8 * P);
    assert_eq!(rights(&p, v), ZX_DEFAULT_VMO_RIGHTS);
    assert_eq!(p.frames_in_use(), before + 8);
    let (st, pmt, addrs) = pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, v, 0, 8 * P, 1);
    assert_eq!(st, ZX_OK);
    assert_eq!(addrs[0] % (1 << 16), 0, "not aligned to 64 KiB");
    let (_, per_page, pages) = pin(&p, b, RW_PIN, v, 0, 8 * P);
    for (i, a) in pages.iter().enumerate() {
        assert_eq!(*a, addrs[0] + i as u64 * P);
    }
    for h in [pmt.unwrap(), per_page.unwrap()] {
        assert_eq!(p.zx_pmt_unpin(h), ZX_OK);
    }
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn contiguous_create_checks_size_and_alignment_before_the_handle() {
    let p = new_process();
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_contiguous(ZX_HANDLE_INVALID, 0, 0, o),
        ZX_ERR_INVALID_ARGS
    );
    for align in [1, 11, 64, 100] {
        assert_eq!(
            p.zx_vmo_create_contiguous(ZX_HANDLE_INVALID, PAGE, align, o),
            ZX_ERR_INVALID_ARGS
        );
    }
    assert_eq!(
        p.zx_vmo_create_contiguous(ZX_HANDLE_INVALID, PAGE, 0, o),
        ZX_ERR_BAD_HANDLE
    );
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_create_contiguous(v, PAGE, 0, o), ZX_ERR_WRONG_TYPE);
    let b = bti(&p);
    let no_map = dup(&p, b, ZX_DEFAULT_BTI_RIGHTS & !ZX_RIGHT_MAP);
    assert_eq!(
        p.zx_vmo_create_contiguous(no_map, PAGE, 0, o),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_vmo_create_contiguous(b, PAGE + 1, 0, o),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_vmo_create_contiguous(b, PAGE, 12, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn no_run_that_large_is_no_memory_and_takes_nothing() {
    let p = new_process();
    let before = p.frames_in_use();
    let b = bti(&p);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_contiguous(b, 1 << 31, 0, o),
        ZX_ERR_NO_MEMORY
    );
    assert_eq!(p.zx_vmo_create_contiguous(b, PAGE, 40, o), ZX_ERR_NO_MEMORY);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn a_contiguous_vmo_refuses_decommit_and_snapshots_and_zeroes_in_place() {
    let p = new_process();
    let b = bti(&p);
    let v = contiguous(&p, b, 2 * PAGE, 0);
    vmo_write(&p, v, 0, &[7; 2 * PAGE]);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, P, out(&p, OUT0)),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, 2 * P, 0, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, P, 2), [0, 0]);
    assert_eq!(
        vmo_info(&p, v).committed_bytes,
        2 * P,
        "ZERO gave pages back"
    );
    assert_eq!(p.zx_vmo_set_size(v, 4 * P), ZX_ERR_UNAVAILABLE);
    // A slice is a window onto the same run.
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, P, P, out(&p, OUT0)),
        ZX_OK
    );
}

// ---- pinning: more edges ----

#[test]
fn zero_over_pinned_pages_zeroes_them_in_place_and_frees_the_rest() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 0, &[5; 4 * PAGE]);
    let (_, pmt, addrs) = pin(&p, b, RW_PIN, v, P, P);
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, 4 * P, 0, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, P, 2), [0, 0]);
    assert_eq!(committed(&p, v), P, "only the pinned page stays");
    // The device still sees the same frame, now zeroed.
    let mut seen = [9u8; 2];
    p.hal().read(addrs[0] as usize, &mut seen).unwrap();
    assert_eq!(seen, [0, 0]);
    let (_, again, addrs2) = pin(&p, b, RW_PIN, v, P, P);
    assert_eq!(addrs2, addrs);
    for h in [pmt.unwrap(), again.unwrap()] {
        assert_eq!(p.zx_pmt_unpin(h), ZX_OK);
    }
}

#[test]
fn a_partial_zero_of_a_pinned_page_writes_it_in_place() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"abcdef");
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 1, 2, 0, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 6), b"a\0\0def");
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn a_snapshot_of_a_vmo_with_any_page_pinned_is_bad_state() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 4 * PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 3 * P, P);
    for kind in [
        ZX_VMO_CHILD_SNAPSHOT,
        ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
        ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
    ] {
        assert_eq!(
            p.zx_vmo_create_child(v, kind, 0, P, out(&p, OUT0)),
            ZX_ERR_BAD_STATE,
            "{kind:#x}: the pinned page lies outside the range"
        );
    }
    // Slices and references share the pages, so pins do not stop them.
    for (kind, size) in [(ZX_VMO_CHILD_SLICE, P), (ZX_VMO_CHILD_REFERENCE, 0)] {
        assert_eq!(
            p.zx_vmo_create_child(v, kind, 0, size, out(&p, OUT0)),
            ZX_OK
        );
    }
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, P, out(&p, OUT0)),
        ZX_OK
    );
}

#[test]
fn pinning_through_a_reference_holds_the_parents_pages() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo_with(&p, 2 * P, ZX_VMO_RESIZABLE);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, out(&p, OUT0)),
        ZX_OK
    );
    let r = read_u32(&p, out(&p, OUT0));
    let (st, pmt, addrs) = pin(&p, b, RW_PIN, r, P, P);
    assert_eq!(st, ZX_OK);
    assert_eq!((committed(&p, v), committed(&p, r)), (P, 0));
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, P, P, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_vmo_set_size(v, P), ZX_ERR_BAD_STATE);
    p.hal().write(addrs[0] as usize, b"dev").unwrap();
    assert_eq!(vmo_read(&p, v, P, 3), b"dev");
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(p.zx_vmo_set_size(v, P), ZX_OK);
    assert_eq!(vmo_size(&p, r), P);
}

#[test]
fn pinning_through_a_slice_holds_the_roots_pages() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 4 * PAGE);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 2 * P, 2 * P, out(&p, OUT0)),
        ZX_OK
    );
    let s = read_u32(&p, out(&p, OUT0));
    let (st, pmt, _) = pin(&p, b, RW_PIN, s, P, P);
    assert_eq!(st, ZX_OK);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 3 * P, P, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 3 * P, 0, 0),
        ZX_OK
    );
    // Past the slice's end, even inside the root, is out of range.
    assert_eq!(pin(&p, b, RW_PIN, s, 2 * P, P).0, ZX_ERR_OUT_OF_RANGE);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn a_pin_keeps_the_pages_after_every_vmo_handle_closes() {
    let p = new_process();
    let before = p.frames_in_use();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    let (_, pmt, addrs) = pin(&p, b, RW_PIN, v, 0, 2 * P);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.frames_in_use(), before + 2);
    p.hal().write(addrs[1] as usize, b"still").unwrap();
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(p.frames_in_use(), before, "unpin let the last holder go");
}

#[test]
fn growing_a_vmo_with_pinned_pages_is_fine() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo_with(&p, P, ZX_VMO_RESIZABLE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(p.zx_vmo_set_size(v, 3 * P), ZX_OK);
    assert_eq!(p.zx_vmo_set_size(v, P), ZX_OK, "the cut tail held no pin");
    assert_eq!(p.zx_vmo_set_size(v, 0), ZX_ERR_BAD_STATE);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn a_write_pin_needs_only_write_and_map() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let wo = dup(&p, v, ZX_RIGHT_WRITE | ZX_RIGHT_MAP);
    let (st, pmt, _) = pin(&p, b, ZX_BTI_PERM_WRITE, wo, 0, P);
    assert_eq!(st, ZX_OK);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn a_decommit_through_a_mapping_of_pinned_pages_is_bad_state() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, RW, 0, v, 0, 2 * PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, P, P);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_DECOMMIT, a, 2 * PAGE, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(committed(&p, v), P);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_DECOMMIT, a, 2 * PAGE, 0, 0),
        ZX_OK
    );
}

#[test]
fn setting_the_content_size_over_a_pinned_page_zeroes_it_in_place() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &[3; 2 * PAGE]);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, P, P);
    let at = out(&p, OUT1);
    write_u64(&p, at, 10);
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, at, 8),
        ZX_OK
    );
    assert_eq!(vmo_read(&p, v, 9, 2), [3, 0]);
    assert_eq!(vmo_read(&p, v, P, 1), [0]);
    assert_eq!(
        committed(&p, v),
        2 * P,
        "both pages stay: one partial, one pinned"
    );
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn unpinning_keeps_the_contents() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, addrs) = pin(&p, b, RW_PIN, v, 0, P);
    p.hal().write(addrs[0] as usize + 100, b"dma data").unwrap();
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(vmo_read(&p, v, 100, 8), b"dma data");
    assert_eq!(committed(&p, v), P);
}

// ---- PMT and BTI handles ----

#[test]
fn a_pmt_cannot_be_duplicated_but_can_be_replaced() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    let pmt = pmt.unwrap();
    assert_eq!(
        p.zx_handle_duplicate(pmt, ZX_RIGHT_SAME_RIGHTS, out(&p, OUT1)),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_handle_replace(pmt, ZX_RIGHT_SAME_RIGHTS, out(&p, OUT1)),
        ZX_OK
    );
    let moved = read_u32(&p, out(&p, OUT1));
    assert_eq!(bti_counts(&p, b), (1, 0), "a replace is not a close");
    assert_eq!(p.zx_pmt_unpin(pmt), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_pmt_unpin(moved), ZX_OK);
    assert_eq!(bti_counts(&p, b), (0, 0));
}

#[test]
fn a_pmt_has_its_own_koid_and_no_name() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    let pmt = pmt.unwrap();
    let info = basic(&p, pmt);
    assert_ne!(info.koid, 0);
    assert_ne!(info.koid, basic(&p, b).koid);
    assert_eq!(info.related_koid, 0);
    let name = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_get_property(pmt, ZX_PROP_NAME, name, 32),
        ZX_ERR_ACCESS_DENIED,
        "a PMT handle lacks GET_PROPERTY"
    );
    assert_eq!(p.zx_pmt_unpin(pmt), ZX_OK);
}

#[test]
fn bti_info_needs_inspect_a_bti_and_room() {
    let p = new_process();
    let b = bti(&p);
    let blind = dup(&p, b, ZX_DEFAULT_BTI_RIGHTS & !ZX_RIGHT_INSPECT);
    assert_eq!(
        info_raw(&p, blind, ZX_INFO_BTI, BtiInfo::SIZE).0,
        ZX_ERR_ACCESS_DENIED
    );
    let v = vmo(&p, PAGE);
    assert_eq!(
        info_raw(&p, v, ZX_INFO_BTI, BtiInfo::SIZE).0,
        ZX_ERR_WRONG_TYPE
    );
    let (st, _, actual, avail) = info_raw(&p, b, ZX_INFO_BTI, BtiInfo::SIZE - 1);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
    let (st, raw, _, _) = info_raw(&p, b, ZX_INFO_BTI, BtiInfo::SIZE);
    assert_eq!(st, ZX_OK);
    assert_eq!(BtiInfo::read_from(&raw).aspace_size, u64::MAX);
}

#[test]
fn two_btis_count_their_own_pins() {
    let p = new_process();
    let i = iommu(&p);
    let o = out(&p, OUT0);
    assert_eq!(p.zx_bti_create(i, 0, 1, o), ZX_OK);
    let b1 = read_u32(&p, o);
    assert_eq!(p.zx_bti_create(i, 0, 2, o), ZX_OK);
    let b2 = read_u32(&p, o);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b1, RW_PIN, v, 0, P);
    assert_eq!((bti_counts(&p, b1), bti_counts(&p, b2)), ((1, 0), (0, 0)));
    assert_eq!(p.zx_handle_close(pmt.unwrap()), ZX_OK);
    assert_eq!((bti_counts(&p, b1), bti_counts(&p, b2)), ((0, 1), (0, 0)));
    assert_eq!(p.zx_bti_release_quarantine(b2), ZX_OK);
    assert_eq!(bti_counts(&p, b1), (0, 1), "another BTI's release");
    assert_eq!(p.zx_bti_release_quarantine(b1), ZX_OK);
    assert_eq!(bti_counts(&p, b1), (0, 0));
}

#[test]
fn each_closed_pmt_is_quarantined_and_released_together() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, 2 * PAGE);
    let (_, a, _) = pin(&p, b, RW_PIN, v, 0, P);
    let (_, c, _) = pin(&p, b, RW_PIN, v, P, P);
    let (_, live, _) = pin(&p, b, RW_PIN, v, 0, P);
    for h in [a.unwrap(), c.unwrap()] {
        assert_eq!(p.zx_handle_close(h), ZX_OK);
    }
    assert_eq!(bti_counts(&p, b), (1, 2));
    assert_eq!(p.zx_bti_release_quarantine(b), ZX_OK);
    assert_eq!(bti_counts(&p, b), (1, 0));
    // The live pin still holds page 0; page 1 is free to go.
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, P, P, 0, 0), ZX_OK);
    assert_eq!(p.zx_pmt_unpin(live.unwrap()), ZX_OK);
}

#[test]
fn releasing_an_empty_quarantine_is_fine() {
    let p = new_process();
    let b = bti(&p);
    assert_eq!(p.zx_bti_release_quarantine(b), ZX_OK);
    assert_eq!(p.zx_bti_release_quarantine(b), ZX_OK);
    assert_eq!(bti_counts(&p, b), (0, 0));
}

#[test]
fn closing_the_bti_lets_its_quarantine_go() {
    let p = new_process();
    let before = p.frames_in_use();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(p.zx_handle_close(pmt.unwrap()), ZX_OK);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.frames_in_use(), before + 1);
    assert_eq!(p.zx_handle_close(b), ZX_OK);
    assert_eq!(p.frames_in_use(), before, "the BTI's end released the pin");
}

#[test]
fn a_live_pmt_outlives_its_bti_handle_and_still_unpins() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo(&p, PAGE);
    let (_, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(p.zx_handle_close(b), ZX_OK);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, P, 0, 0), ZX_OK);
}

#[test]
fn bti_create_needs_no_right_on_the_iommu_and_outlives_it() {
    let p = new_process();
    let i = iommu(&p);
    let bare = dup(&p, i, 0);
    let o = out(&p, OUT0);
    assert_eq!(p.zx_bti_create(bare, 0, 3, o), ZX_OK);
    let b = read_u32(&p, o);
    for h in [i, bare] {
        assert_eq!(p.zx_handle_close(h), ZX_OK);
    }
    let v = vmo(&p, PAGE);
    let (st, pmt, _) = pin(&p, b, RW_PIN, v, 0, P);
    assert_eq!(st, ZX_OK);
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}

#[test]
fn iommu_create_needs_no_right_on_the_root_resource() {
    let p = new_process();
    let bare = dup(&p, p.root_resource(), 0);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_iommu_create(bare, ZX_IOMMU_TYPE_DUMMY, p.scratch() + BUF, 1, o),
        ZX_OK
    );
    assert_eq!(basic(&p, read_u32(&p, o)).obj_type, ZX_OBJ_TYPE_IOMMU);
}

#[test]
fn a_system_resource_at_another_base_cannot_create_an_iommu() {
    let p = new_process();
    let o = out(&p, OUT0);
    let name = p.scratch() + BUF + 64;
    assert_eq!(
        p.zx_resource_create(
            p.root_resource(),
            ZX_RSRC_KIND_SYSTEM,
            ZX_RSRC_SYSTEM_VMEX_BASE,
            1,
            name,
            0,
            o
        ),
        ZX_OK
    );
    let vmex = read_u32(&p, o);
    assert_eq!(
        p.zx_iommu_create(vmex, ZX_IOMMU_TYPE_DUMMY, p.scratch() + BUF, 1, o),
        ZX_ERR_ACCESS_DENIED
    );
}

// ---- physical and contiguous pins ----

#[test]
fn per_page_pins_of_device_memory_give_each_device_address() {
    let p = new_process();
    let b = bti(&p);
    let (dev, _) = p.device_memory();
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_physical(p.root_resource(), dev as u64, 3 * PAGE, o),
        ZX_OK
    );
    let v = read_u32(&p, o);
    let before = p.frames_in_use();
    let (st, pmt, addrs) = pin(&p, b, RW_PIN, v, P, 2 * P);
    assert_eq!(st, ZX_OK);
    assert_eq!(addrs, vec![dev as u64 + P, dev as u64 + 2 * P]);
    assert_eq!(committed(&p, v), 0, "device memory is never committed");
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn a_contiguous_pin_of_a_slice_of_a_contiguous_vmo_starts_at_the_slice() {
    let p = new_process();
    let b = bti(&p);
    let v = contiguous(&p, b, 4 * PAGE, 0);
    let (_, whole, base) = pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, v, 0, 4 * P, 1);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, P, 2 * P, out(&p, OUT0)),
        ZX_OK
    );
    let s = read_u32(&p, out(&p, OUT0));
    let (st, part, at) = pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, s, P, P, 1);
    assert_eq!(st, ZX_OK);
    assert_eq!(at[0], base[0] + 2 * P);
    for h in [whole.unwrap(), part.unwrap()] {
        assert_eq!(p.zx_pmt_unpin(h), ZX_OK);
    }
}

#[test]
fn contiguous_vmos_refuse_references_and_snapshot_modified_children() {
    let p = new_process();
    let b = bti(&p);
    let v = contiguous(&p, b, 2 * PAGE, 0);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, o),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, P, o),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_contiguous_vmo_may_go_uncached_but_not_back_once_committed() {
    let p = new_process();
    let b = bti(&p);
    let v = contiguous(&p, b, 4 * PAGE, 0);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED),
        ZX_OK
    );
    let buf = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_write(v, buf, 0, 8), ZX_ERR_BAD_STATE);
    let (_, pmt, _) = pin_n(&p, b, RW_PIN | ZX_BTI_COMPRESS, v, 0, P, 1);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED),
        ZX_ERR_BAD_STATE,
        "committed pages under an uncached policy"
    );
    assert_eq!(vmo_info(&p, v).cache_policy, ZX_CACHE_POLICY_UNCACHED);
}

#[test]
fn a_contiguous_vmo_commits_nothing_more_and_has_its_size_as_content_size() {
    let p = new_process();
    let b = bti(&p);
    let v = contiguous(&p, b, 3 * PAGE, 0);
    let before = p.frames_in_use();
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, 3 * P, 0, 0),
        ZX_OK
    );
    assert_eq!(p.frames_in_use(), before);
    assert_eq!(vmo_size(&p, v), 3 * P);
    let at = out(&p, OUT1);
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, at, 8),
        ZX_OK
    );
    assert_eq!(read_u64(&p, at), 3 * P);
}

#[test]
fn contiguous_create_needs_only_map_on_the_bti() {
    let p = new_process();
    let b = bti(&p);
    let map_only = dup(&p, b, ZX_RIGHT_MAP);
    let v = contiguous(&p, map_only, PAGE, 0);
    assert_eq!(committed(&p, v), P);
}

#[test]
fn a_failed_contiguous_handle_copy_takes_no_frames() {
    let p = new_process();
    let b = bti(&p);
    let before = p.frames_in_use();
    assert_eq!(
        p.zx_vmo_create_contiguous(b, 4 * PAGE, 0, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn a_contiguous_vmo_honours_large_alignments() {
    let p = new_process();
    let b = bti(&p);
    for align in [0, 12, 17, 20] {
        let v = contiguous(&p, b, PAGE, align);
        let (_, pmt, a) = pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, v, 0, P, 1);
        let want = 1u64 << align.max(12);
        assert_eq!(a[0] % want, 0, "alignment 2^{align}");
        assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
        assert_eq!(p.zx_handle_close(v), ZX_OK);
    }
}

#[test]
fn a_mapping_of_a_contiguous_vmo_shows_its_run() {
    let p = new_process();
    let b = bti(&p);
    let v = contiguous(&p, b, 2 * PAGE, 0);
    let (_, pmt, base) = pin_n(&p, b, RW_PIN | ZX_BTI_CONTIGUOUS, v, 0, 2 * P, 1);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    p.write_memory(a + PAGE + 1, b"run").unwrap();
    let mut seen = [0u8; 3];
    p.hal()
        .read(base[0] as usize + PAGE + 1, &mut seen)
        .unwrap();
    assert_eq!(&seen, b"run");
    assert_eq!(p.zx_pmt_unpin(pmt.unwrap()), ZX_OK);
}
