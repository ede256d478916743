//! Where non-specific requests land, and copies that must touch no more user memory
//! than the record they write (docs/ABI.md §5.4, 10, 11).

use crate::helpers::*;

#[test]
fn allocation_fills_only_the_gaps_between_mappings() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    map_at(&p, r, 2, v, 1);
    let (_, a) = allocate(&p, r, RW_CAN, 0, PAGE);
    let (_, b) = allocate(&p, r, RW_CAN, 0, PAGE);
    let mut got = [a - base, b - base];
    got.sort();
    assert_eq!(got, [PAGE, 3 * PAGE]);
    let st = p.zx_vmar_allocate(r, RW_CAN, 0, PAGE, out(&p, OUT0), out(&p, OUT1));
    assert_eq!(st, ZX_ERR_NO_RESOURCES);
}

#[test]
fn mapping_lands_in_the_only_gap_large_enough() {
    let p = new_process();
    let (r, base) = region(&p, 6);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 1, v, 1);
    map_at(&p, r, 4, v, 1);
    assert_eq!(map(&p, r, RW, 0, v, 0, 2 * PAGE), base + 2 * PAGE);
    let st = p.zx_vmar_map(r, RW, 0, v, 0, 2 * PAGE, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_NO_RESOURCES);
}

#[test]
fn rounded_length_fits_exactly_at_the_end_of_a_region() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, PAGE);
    assert_eq!(
        map(&p, r, R | ZX_VM_SPECIFIC, 3 * PAGE, v, 0, 1),
        base + 3 * PAGE
    );
}

#[test]
fn upper_limit_and_alignment_together_are_both_honoured() {
    let p = new_process();
    let (r, base) = allocate(
        &p,
        p.zx_vmar_root_self(),
        RWS_CAN | ZX_VM_ALIGN_1MB,
        0,
        4 << 20,
    );
    let v = vmo(&p, PAGE);
    let o = R | ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_ALIGN_1MB;
    for _ in 0..2 {
        let a = map(&p, r, o, 2 << 20, v, 0, PAGE);
        assert_eq!(a % (1 << 20), 0);
        assert!(a >= base && a + PAGE <= base + (2 << 20));
    }
    let st = p.zx_vmar_map(r, o, 2 << 20, v, 0, PAGE, out(&p, OUT2));
    assert_eq!(st, ZX_ERR_NO_RESOURCES);
}

#[test]
fn placement_never_overlaps_existing_children() {
    let p = new_process();
    let (r, base) = region(&p, 32);
    let v = vmo(&p, 3 * PAGE);
    let mut taken = [false; 32];
    for len in [3, 1, 2, 3, 1, 1, 2, 3, 2, 1] {
        let a = map(&p, r, R, 0, v, 0, len * PAGE);
        let first = (a - base) / PAGE;
        for (page, t) in taken.iter_mut().enumerate().skip(first).take(len) {
            assert!(!*t, "page {page} handed out twice");
            *t = true;
        }
    }
}

#[test]
fn mapping_a_zero_sized_vmo_is_allowed_and_faults() {
    let p = new_process();
    let v = vmo(&p, 0);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert!(!readable(&p, a));
    assert_eq!(vmo_info(&p, v).num_mappings, 1);
}

#[test]
fn name_set_reads_at_most_31_bytes_of_a_long_value() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    // Only 40 readable bytes remain after this pointer, but the call claims 1000.
    let at = p.scratch() + 16 * PAGE - 40;
    p.write_memory(at, &[b'z'; 40]).unwrap();
    assert_eq!(p.zx_object_set_property(v, ZX_PROP_NAME, at, 1000), ZX_OK);
    assert_eq!(vmo_info(&p, v).name(), vec![b'z'; 31]);
}

#[test]
fn name_get_writes_exactly_32_bytes_of_a_larger_buffer() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    p.write_memory(b, &[0xee; 64]).unwrap();
    assert_eq!(p.zx_object_get_property(v, ZX_PROP_NAME, b, 64), ZX_OK);
    let got = read_vec(&p, b, 64);
    assert_eq!(&got[..32], &[0; 32]);
    assert_eq!(&got[32..], &[0xee; 32]);
}

#[test]
fn single_record_info_writes_only_the_record_into_a_large_buffer() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    // The buffer claims far more room than is mapped after it.
    let at = p.scratch() + 16 * PAGE - 32;
    let st = p.zx_object_get_info(v, ZX_INFO_HANDLE_BASIC, at, 1 << 20, 0, 0);
    assert_eq!(st, ZX_OK);
    assert_eq!(read_u32(&p, at + 12), ZX_OBJ_TYPE_VMO);
}

#[test]
fn multi_record_info_writes_only_the_records_that_exist() {
    let p = new_process();
    let n = maps(&p).len();
    let at = p.scratch() + 16 * PAGE - n * 104;
    let st = p.zx_object_get_info(
        p.zx_process_self(),
        ZX_INFO_PROCESS_MAPS,
        at,
        1 << 20,
        out(&p, OUT0),
        out(&p, OUT1),
    );
    assert_eq!(st, ZX_OK);
    assert_eq!(
        (read_usize(&p, out(&p, OUT0)), read_usize(&p, out(&p, OUT1))),
        (n, n)
    );
}

#[test]
fn zero_length_vmo_io_ignores_the_buffer_pointer() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_read(v, 0, 0, 0), ZX_OK);
    assert_eq!(p.zx_vmo_write(v, UNMAPPED, 10, 0), ZX_OK);
}

#[test]
fn info_follows_set_size() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    assert_eq!(p.zx_vmo_set_size(v, 5 * PAGE as u64 - 3), ZX_OK);
    assert_eq!(vmo_info(&p, v).size_bytes, 5 * PAGE as u64);
}

#[test]
fn a_31_byte_name_is_kept_whole() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let name = [b'n'; 31];
    let b = p.scratch() + BUF;
    p.write_memory(b, &name).unwrap();
    assert_eq!(p.zx_object_set_property(v, ZX_PROP_NAME, b, 31), ZX_OK);
    assert_eq!(vmo_info(&p, v).name(), name.to_vec());
}

#[test]
fn placement_in_a_crowded_region_fails_exactly_when_no_gap_fits() {
    let p = new_process();
    const PAGES: usize = 256;
    let (r, base) = region(&p, PAGES);
    let v = vmo(&p, 4 * PAGE);
    // The model: which pages are taken, and the live children (first page, length,
    // whether it is a mapping). Unmapping a whole sub-region destroys it.
    let mut taken = [false; PAGES];
    let mut live: Vec<(usize, usize, bool)> = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut refused = 0;
    for _ in 0..1500 {
        if !live.is_empty() && next(3) == 0 {
            let (first, len, _) = live.swap_remove(next(live.len()));
            assert_eq!(p.zx_vmar_unmap(r, base + first * PAGE, len * PAGE), ZX_OK);
            taken[first..first + len]
                .iter_mut()
                .for_each(|t| *t = false);
            continue;
        }
        let len = 1 + next(4);
        let fits = taken.windows(len).any(|w| w.iter().all(|t| !t));
        // Half the requests are mappings, half sub-regions: both share the free space.
        let is_map = next(2) == 0;
        let st = if is_map {
            p.zx_vmar_map(r, R, 0, v, 0, len * PAGE, out(&p, OUT2))
        } else {
            p.zx_vmar_allocate(r, RW_CAN, 0, len * PAGE, out(&p, OUT0), out(&p, OUT2))
        };
        if !fits {
            assert_eq!(st, ZX_ERR_NO_RESOURCES, "a {len}-page request with no gap");
            refused += 1;
            continue;
        }
        assert_eq!(st, ZX_OK, "a {len}-page request with a gap");
        let first = (read_usize(&p, out(&p, OUT2)) - base) / PAGE;
        assert!(first + len <= PAGES);
        assert!(
            taken[first..first + len].iter().all(|t| !t),
            "placed over a child"
        );
        taken[first..first + len].iter_mut().for_each(|t| *t = true);
        live.push((first, len, is_map));
    }
    assert!(refused > 0, "the region never filled up");
    let maps = live.iter().filter(|l| l.2).count();
    assert_eq!(vmo_info(&p, v).num_mappings, maps);
}

#[test]
fn compact_region_always_takes_the_lowest_gap_that_fits() {
    let p = new_process();
    const PAGES: usize = 128;
    let (r, base) = allocate(
        &p,
        p.zx_vmar_root_self(),
        RWS_CAN | ZX_VM_COMPACT,
        0,
        PAGES * PAGE,
    );
    let v = vmo(&p, 4 * PAGE);
    let mut taken = [false; PAGES];
    let mut live: Vec<(usize, usize)> = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..800 {
        if !live.is_empty() && next(3) == 0 {
            let (first, len) = live.swap_remove(next(live.len()));
            assert_eq!(p.zx_vmar_unmap(r, base + first * PAGE, len * PAGE), ZX_OK);
            taken[first..first + len]
                .iter_mut()
                .for_each(|t| *t = false);
            continue;
        }
        let len = 1 + next(4);
        let lowest = taken.windows(len).position(|w| w.iter().all(|t| !t));
        let st = p.zx_vmar_map(r, R, 0, v, 0, len * PAGE, out(&p, OUT2));
        let Some(want) = lowest else {
            assert_eq!(st, ZX_ERR_NO_RESOURCES);
            continue;
        };
        assert_eq!(st, ZX_OK);
        let first = (read_usize(&p, out(&p, OUT2)) - base) / PAGE;
        assert_eq!(first, want, "a {len}-page mapping not placed first-fit");
        taken[first..first + len].iter_mut().for_each(|t| *t = true);
        live.push((first, len));
    }
}

#[test]
fn aligned_requests_in_a_crowded_region_fail_exactly_when_no_aligned_gap_fits() {
    let p = new_process();
    const PAGES: usize = 128;
    let (r, base) = region(&p, PAGES);
    let v = vmo(&p, 4 * PAGE);
    let mut taken = [false; PAGES];
    let mut live: Vec<(usize, usize)> = Vec::new();
    let mut seed = 0x0123_4567_89ab_cdefu64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    // 16 KiB alignment: the first page's absolute address must be a multiple of 4 pages.
    let aligned = |first: usize| (base / PAGE + first) % 4 == 0;
    for _ in 0..800 {
        if !live.is_empty() && next(4) == 0 {
            let (first, len) = live.swap_remove(next(live.len()));
            assert_eq!(p.zx_vmar_unmap(r, base + first * PAGE, len * PAGE), ZX_OK);
            taken[first..first + len]
                .iter_mut()
                .for_each(|t| *t = false);
            continue;
        }
        let len = 1 + next(3);
        let fits = (0..=PAGES - len).any(|f| aligned(f) && taken[f..f + len].iter().all(|t| !t));
        let st = p.zx_vmar_map(r, R | ZX_VM_ALIGN_16KB, 0, v, 0, len * PAGE, out(&p, OUT2));
        if !fits {
            assert_eq!(
                st, ZX_ERR_NO_RESOURCES,
                "a {len}-page request with no aligned gap"
            );
            continue;
        }
        assert_eq!(st, ZX_OK, "a {len}-page request with an aligned gap");
        let first = (read_usize(&p, out(&p, OUT2)) - base) / PAGE;
        assert!(aligned(first));
        assert!(
            taken[first..first + len].iter().all(|t| !t),
            "placed over a child"
        );
        taken[first..first + len].iter_mut().for_each(|t| *t = true);
        live.push((first, len));
    }
}
