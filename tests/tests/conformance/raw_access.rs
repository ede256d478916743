//! Permitted raw accesses through mappings (on the unix backend user addresses are host
//! addresses, demand-paged) stay coherent with the kernel's view after every change to
//! the VMO or the mapping (docs/ABI.md §5.5, 8.4, 8.5).

use crate::helpers::*;

#[test]
fn raw_read_of_a_never_written_page_is_zero() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, 2 * PAGE);
    assert_eq!(raw_read(a + PAGE + 5), 0);
    assert_eq!(mappings_in(&p, a, a + 1)[0].mapping.committed_pages, 0);
}

#[test]
fn raw_writes_commit_pages_and_reach_the_vmo() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 4 * PAGE);
    raw_write(a + 2 * PAGE + 9, 0x5c);
    assert_eq!(vmo_read(&p, v, (2 * PAGE + 9) as u64, 1), [0x5c]);
    assert_eq!(committed(&p, v), PAGE as u64);
}

#[test]
fn kernel_writes_are_seen_by_raw_reads() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    raw_write(a, 1);
    vmo_write(&p, v, 0, &[2]);
    assert_eq!(raw_read(a), 2);
}

#[test]
fn decommit_makes_raw_reads_see_zero_again() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    raw_write(a + 1, 0x77);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, PAGE as u64, 0, 0),
        ZX_OK
    );
    assert_eq!(committed(&p, v), 0);
    assert_eq!(raw_read(a + 1), 0);
}

#[test]
fn zero_op_makes_raw_reads_see_zero() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    raw_write(a + 10, 9);
    raw_write(a + PAGE + 10, 9);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, 2 * PAGE as u64, 0, 0),
        ZX_OK
    );
    assert_eq!((raw_read(a + 10), raw_read(a + PAGE + 10)), (0, 0));
}

#[test]
fn shrink_and_regrow_makes_raw_reads_see_zero() {
    let p = new_process();
    let v = vmo_with(&p, 2 * PAGE as u64, ZX_VMO_RESIZABLE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    raw_write(a + PAGE, 0x31);
    assert_eq!(p.zx_vmo_set_size(v, PAGE as u64), ZX_OK);
    assert_eq!(p.zx_vmo_set_size(v, 2 * PAGE as u64), ZX_OK);
    assert_eq!(raw_read(a + PAGE), 0);
}

#[test]
fn raw_write_works_after_protection_is_raised_back() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    raw_write(base, 1);
    assert_eq!(p.zx_vmar_protect(r, R, base, PAGE), ZX_OK);
    assert_eq!(raw_read(base), 1);
    assert_eq!(p.zx_vmar_protect(r, RW, base, PAGE), ZX_OK);
    raw_write(base, 2);
    assert_eq!(vmo_read(&p, v, 0, 1), [2]);
}

#[test]
fn remapping_a_range_shows_the_new_vmo_to_raw_reads() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let old = vmo(&p, PAGE);
    vmo_write(&p, old, 0, &[0xaa]);
    map_at(&p, r, 0, old, 1);
    assert_eq!(raw_read(base), 0xaa);
    let new = vmo(&p, PAGE);
    vmo_write(&p, new, 0, &[0xbb]);
    map(&p, r, R | ZX_VM_SPECIFIC_OVERWRITE, 0, new, 0, PAGE);
    assert_eq!(raw_read(base), 0xbb);
    assert_eq!(p.zx_vmar_unmap(r, base, PAGE), ZX_OK);
    map_at(&p, r, 0, old, 1);
    assert_eq!(raw_read(base), 0xaa);
}

#[test]
fn raw_accesses_through_two_mappings_of_one_vmo_agree() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    let b = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    raw_write(a + 100, 42);
    assert_eq!(raw_read(b + 100), 42);
}

#[test]
fn map_range_pages_are_readable_raw_without_new_commits() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE);
    vmo_write(&p, v, PAGE as u64, &[7]);
    let a = map(
        &p,
        p.zx_vmar_root_self(),
        R | ZX_VM_MAP_RANGE,
        0,
        v,
        0,
        3 * PAGE,
    );
    assert_eq!(raw_read(a + PAGE), 7);
    assert_eq!(committed(&p, v), PAGE as u64);
}

#[test]
fn raw_read_of_a_never_written_page_commits_nothing() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    assert_eq!(raw_read(a + 3), 0);
    // Spec 5.5: reading a never-written page gives zeros and commits nothing; only the
    // first write commits it.
    assert_eq!(committed(&p, v), 0);
    raw_write(a + 3, 1);
    assert_eq!(committed(&p, v), PAGE as u64);
}

#[test]
fn writing_after_a_read_fault_never_touches_other_vmos_zero_pages() {
    let p = new_process();
    let a = vmo(&p, PAGE);
    let b = vmo(&p, PAGE);
    let ma = map(&p, p.zx_vmar_root_self(), RW, 0, a, 0, PAGE);
    let mb = map(&p, p.zx_vmar_root_self(), R, 0, b, 0, PAGE);
    assert_eq!((raw_read(ma + 7), raw_read(mb + 7)), (0, 0));
    raw_write(ma + 7, 0x99);
    assert_eq!(raw_read(mb + 7), 0);
    assert_eq!(vmo_read(&p, b, 7, 1), [0]);
    assert_eq!(vmo_read(&p, a, 7, 1), [0x99]);
    assert_eq!((committed(&p, a), committed(&p, b)), (PAGE as u64, 0));
}

#[test]
fn kernel_write_after_a_read_fault_is_seen_by_raw_reads() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    assert_eq!(raw_read(a + 1), 0);
    vmo_write(&p, v, 1, &[0x44]);
    assert_eq!(raw_read(a + 1), 0x44);
}

#[test]
fn write_through_one_mapping_after_a_read_fault_in_another_is_seen_by_both() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let reader = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    let writer = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!(raw_read(reader + 2), 0);
    raw_write(writer + 2, 0x12);
    assert_eq!(raw_read(reader + 2), 0x12);
    p.write_memory(writer + 3, &[0x13]).unwrap();
    assert_eq!(raw_read(reader + 3), 0x13);
}

#[test]
fn kernel_copy_into_a_read_faulted_page_commits_it_and_is_seen_raw() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!(raw_read(a + 5), 0);
    p.write_memory(a + 5, &[0x21]).unwrap();
    assert_eq!(committed(&p, v), PAGE as u64);
    assert_eq!(raw_read(a + 5), 0x21);
}

#[test]
fn protect_up_after_a_read_fault_lets_raw_writes_commit_a_private_page() {
    let p = new_process();
    let (r, base) = region(&p, 1);
    let v = vmo(&p, PAGE);
    let other = vmo(&p, PAGE);
    let o = map(&p, p.zx_vmar_root_self(), R, 0, other, 0, PAGE);
    map(&p, r, R | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    assert_eq!((raw_read(base), raw_read(o)), (0, 0));
    assert_eq!(p.zx_vmar_protect(r, RW, base, PAGE), ZX_OK);
    raw_write(base, 0x66);
    assert_eq!(vmo_read(&p, v, 0, 1), [0x66]);
    assert_eq!(raw_read(o), 0);
    assert_eq!(committed(&p, other), 0);
}

#[test]
fn commit_after_a_read_fault_backs_later_raw_writes_with_the_committed_page() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let other = vmo(&p, PAGE);
    let o = map(&p, p.zx_vmar_root_self(), R, 0, other, 0, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!((raw_read(a), raw_read(o)), (0, 0));
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_COMMIT, a, PAGE, 0, 0),
        ZX_OK
    );
    assert_eq!(committed(&p, v), PAGE as u64);
    raw_write(a, 0x3c);
    assert_eq!(vmo_read(&p, v, 0, 1), [0x3c]);
    assert_eq!(raw_read(o), 0);
}

#[test]
fn decommit_after_writes_lets_read_faults_see_zero_without_committing() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    raw_write(a, 1);
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, PAGE as u64, 0, 0),
        ZX_OK
    );
    assert_eq!(raw_read(a), 0);
    assert_eq!(committed(&p, v), 0);
    raw_write(a, 2);
    assert_eq!(committed(&p, v), PAGE as u64);
    assert_eq!(vmo_read(&p, v, 0, 1), [2]);
}

#[test]
fn the_first_and_last_pages_of_the_root_region_work() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let (base, len) = vmar_info(&p, root);
    let v = vmo(&p, PAGE);
    let first = map(&p, root, RW | ZX_VM_SPECIFIC, 0, v, 0, PAGE);
    let last = map(&p, root, RW | ZX_VM_SPECIFIC, len - PAGE, v, 0, PAGE);
    assert_eq!((first, last), (base, base + len - PAGE));
    raw_write(last + PAGE - 1, 0xfe);
    assert_eq!(raw_read(first + PAGE - 1), 0xfe);
    assert_eq!(read_vec(&p, last + PAGE - 1, 1), [0xfe]);
    // One page further is outside the root.
    let st = p.zx_vmar_map(root, RW | ZX_VM_SPECIFIC, len, v, 0, PAGE, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
}

#[test]
fn a_large_mapping_faults_in_far_apart_pages_only() {
    let p = new_process();
    let size = 8 << 20;
    let v = vmo(&p, size);
    let a = map(
        &p,
        p.zx_vmar_root_self(),
        RW | ZX_VM_ALIGN_2MB,
        0,
        v,
        0,
        size,
    );
    for at in [0, (2 << 20) - 1, 2 << 20, size - 1] {
        raw_write(a + at, 0xab);
    }
    // Pages 0, 511, 512 and the last one.
    assert_eq!(committed(&p, v), 4 * PAGE as u64);
    assert_eq!(vmo_read(&p, v, (2 << 20) - 1, 2), [0xab, 0xab]);
    assert_eq!(vmo_read(&p, v, (size - 1) as u64, 1), [0xab]);
}

#[test]
fn alternating_protections_over_many_pages_hold_page_by_page() {
    let p = new_process();
    const PAGES: usize = 512;
    let (r, base) = region(&p, PAGES);
    let v = vmo(&p, PAGES * PAGE);
    map_at(&p, r, 0, v, PAGES);
    for page in (1..PAGES).step_by(2) {
        assert_eq!(p.zx_vmar_protect(r, R, base + page * PAGE, PAGE), ZX_OK);
    }
    for page in 0..PAGES {
        let at = base + page * PAGE;
        assert_eq!(raw_read(at), 0);
        if page % 2 == 0 {
            raw_write(at, page as u8 | 1);
        } else {
            assert_eq!(
                p.write_memory(at, &[1]),
                Err(ZX_ERR_INVALID_ARGS),
                "page {page}"
            );
        }
    }
    assert_eq!(committed(&p, v), (PAGES / 2 * PAGE) as u64);
    assert_eq!(mappings_in(&p, base, base + PAGES * PAGE).len(), PAGES);
    assert_eq!(vmo_read(&p, v, 2 * PAGE as u64, 1), [3]);
}
