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
fn pinned_pages_refuse_decommit_zero_shrink_and_snapshots() {
    let p = new_process();
    let b = bti(&p);
    let v = vmo_with(&p, 4 * P, ZX_VMO_RESIZABLE);
    vmo_write(&p, v, 0, &[5; 4 * PAGE]);
    let (st, pmt, _) = pin(&p, b, RW_PIN, v, 2 * P, P);
    assert_eq!(st, ZX_OK);
    for (op, offset, len) in [
        (ZX_VMO_OP_DECOMMIT, 0, 4 * P),
        (ZX_VMO_OP_DECOMMIT, 2 * P, P),
        (ZX_VMO_OP_ZERO, 2 * P, P),
        (ZX_VMO_OP_ZERO, P, 2 * P),
    ] {
        assert_eq!(
            p.zx_vmo_op_range(v, op, offset, len, 0, 0),
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
