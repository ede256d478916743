//! Several threads calling into one process at once: every call still answers as it
//! would alone (the objects lock; no call sees another's half-done change).

use crate::helpers::*;

#[test]
fn threads_mapping_writing_and_unmapping_in_their_own_regions_never_interfere() {
    let p = new_process();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let p = &p;
            s.spawn(move || {
                let root = p.zx_vmar_root_self();
                // Each thread uses its own slice of the scratch area for out-parameters.
                let slot = p.scratch() + BUF + usize::from(t) * 4 * PAGE;
                for round in 0..50u8 {
                    assert_eq!(p.zx_vmo_create(2 * PAGE as u64, 0, slot), ZX_OK);
                    let v = read_u32(p, slot);
                    let st = p.zx_vmar_map(root, RW, 0, v, 0, 2 * PAGE, slot + 8);
                    assert_eq!(st, ZX_OK);
                    let a = read_usize(p, slot + 8);
                    let tag = [t, round, 0xee];
                    p.write_memory(a + PAGE - 1, &tag).unwrap();
                    assert_eq!(p.zx_vmo_read(v, slot + 16, (PAGE - 1) as u64, 3), ZX_OK);
                    assert_eq!(read_vec(p, slot + 16, 3), tag);
                    assert_eq!(p.zx_vmar_unmap(root, a, 2 * PAGE), ZX_OK);
                    assert_eq!(p.zx_handle_close(v), ZX_OK);
                }
            });
        }
    });
    assert_eq!(vmo_handle_count(&p), 0);
}

#[test]
fn one_thread_resizes_while_another_reads_through_the_kernel() {
    let p = new_process();
    let v = vmo_with(&p, 8 * PAGE as u64, ZX_VMO_RESIZABLE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 8 * PAGE);
    std::thread::scope(|s| {
        let p = &p;
        s.spawn(move || {
            for i in 0..200u64 {
                let size = (1 + i % 8) * PAGE as u64;
                assert_eq!(p.zx_vmo_set_size(v, size), ZX_OK);
            }
        });
        s.spawn(move || {
            let mut buf = [0u8; 16];
            for i in 0..200 {
                // Either the page is there (zeros or what was written) or the copy is
                // refused; never anything else.
                let at = a + (i % 8) * PAGE;
                match p.read_memory(at, &mut buf) {
                    Ok(()) => assert!(buf.iter().all(|&b| b == 0 || b == 3)),
                    Err(st) => assert_eq!(st, ZX_ERR_INVALID_ARGS),
                }
                let _ = p.write_memory(at, &[3u8; 16]);
            }
        });
    });
    assert_eq!(p.zx_vmo_set_size(v, 0), ZX_OK);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn crossed_vmo_reads_into_each_others_mappings_do_not_deadlock() {
    let p = new_process();
    let pages = 32;
    let a = vmo(&p, 2 * pages * PAGE);
    let b = vmo(&p, 2 * pages * PAGE);
    let root = p.zx_vmar_root_self();
    // The lower half of each VMO is mapped; each thread reads the upper half of one VMO
    // into the mapping of the other, so each copy holds one VMO while touching the other.
    let map_a = map(&p, root, RW, 0, a, 0, pages * PAGE);
    let map_b = map(&p, root, RW, 0, b, 0, pages * PAGE);
    vmo_write(&p, a, (pages * PAGE) as u64, b"from a");
    vmo_write(&p, b, (pages * PAGE) as u64, b"from b");
    std::thread::scope(|s| {
        let p = &p;
        s.spawn(move || {
            for _ in 0..20 {
                assert_eq!(
                    p.zx_vmo_read(a, map_b, (pages * PAGE) as u64, pages * PAGE),
                    ZX_OK
                );
            }
        });
        s.spawn(move || {
            for _ in 0..20 {
                assert_eq!(
                    p.zx_vmo_read(b, map_a, (pages * PAGE) as u64, pages * PAGE),
                    ZX_OK
                );
            }
        });
    });
    assert_eq!(vmo_read(&p, b, 0, 6), b"from a");
    assert_eq!(vmo_read(&p, a, 0, 6), b"from b");
}

#[test]
fn threads_faulting_in_the_same_mapping_at_once_all_land() {
    let p = new_process();
    let pages = 64;
    let v = vmo(&p, pages * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, pages * PAGE);
    std::thread::scope(|s| {
        for t in 0..4usize {
            s.spawn(move || {
                for page in 0..pages {
                    let at = a + page * PAGE + t;
                    // SAFETY: `at` lies in a live read-write mapping of `pages` pages; each
                    // thread writes its own byte of each page, so no two threads write the
                    // same byte, and the first touch of a page is demand-paged.
                    unsafe { (at as *mut u8).write_volatile(t as u8 + 1) };
                }
            });
        }
    });
    for page in 0..pages {
        assert_eq!(
            vmo_read(&p, v, (page * PAGE) as u64, 4),
            [1, 2, 3, 4],
            "page {page}"
        );
    }
    assert_eq!(committed(&p, v), (pages * PAGE) as u64);
}
