//! `zx_process_read_memory` / `zx_process_write_memory` and the kernel's user-copy
//! helpers `read_memory` / `write_memory` (docs/ABI.md §1.4, §5.5).

use crate::helpers::*;

#[test]
fn process_write_then_read_round_trips_and_reports_actual() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    let src = p.scratch() + BUF;
    let dst = src + 512;
    p.write_memory(src, b"remote").unwrap();
    let me = p.zx_process_self();
    assert_eq!(
        p.zx_process_write_memory(me, a + 8, src, 6, out(&p, OUT0)),
        ZX_OK
    );
    assert_eq!(read_usize(&p, out(&p, OUT0)), 6);
    assert_eq!(vmo_read(&p, v, 8, 6), b"remote");
    assert_eq!(
        p.zx_process_read_memory(me, a + 8, dst, 6, out(&p, OUT1)),
        ZX_OK
    );
    assert_eq!(read_usize(&p, out(&p, OUT1)), 6);
    assert_eq!(read_vec(&p, dst, 6), b"remote");
}

#[test]
fn process_memory_calls_need_a_process_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_process_read_memory(v, b, b, 1, out(&p, OUT0)),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        p.zx_process_write_memory(p.zx_vmar_root_self(), b, b, 1, out(&p, OUT0)),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        p.zx_process_read_memory(ZX_HANDLE_INVALID, b, b, 1, out(&p, OUT0)),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_process_write_memory(closed_handle(&p), b, b, 1, out(&p, OUT0)),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn process_read_of_unmapped_memory_fails() {
    let p = new_process();
    // The spec does not pin this status; the reference kernel answers NO_MEMORY, and the
    // user-copy path answers INVALID_ARGS or NOT_FOUND.
    let st = p.zx_process_read_memory(
        p.zx_process_self(),
        UNMAPPED,
        p.scratch() + BUF,
        4,
        out(&p, OUT0),
    );
    assert_one_of(
        st,
        &[ZX_ERR_NO_MEMORY, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
    );
}

#[test]
fn read_memory_of_an_unmapped_address_is_invalid_args() {
    let p = new_process();
    let mut b = [0u8; 8];
    assert_eq!(p.read_memory(UNMAPPED, &mut b), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(p.read_memory(0, &mut b), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(
        p.read_memory(usize::MAX - 3, &mut b),
        Err(ZX_ERR_INVALID_ARGS)
    );
}

#[test]
fn write_memory_to_a_read_only_mapping_is_refused_and_changes_nothing() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"orig");
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    assert_eq!(p.write_memory(a, b"evil"), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(vmo_read(&p, v, 0, 4), b"orig");
    assert_eq!(read_vec(&p, a, 4), b"orig");
}

#[test]
fn write_memory_straddling_the_end_of_a_mapping_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    assert_eq!(
        p.write_memory(base + PAGE - 4, &[0x11; 8]),
        Err(ZX_ERR_INVALID_ARGS)
    );
    assert_eq!(vmo_read(&p, v, (PAGE - 4) as u64, 4), [0; 4]);
    let mut b = [0u8; 8];
    assert_eq!(
        p.read_memory(base + PAGE - 4, &mut b),
        Err(ZX_ERR_INVALID_ARGS)
    );
}

#[test]
fn write_memory_straddling_into_a_read_only_page_changes_nothing() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    assert_eq!(p.zx_vmar_protect(r, R, base + PAGE, PAGE), ZX_OK);
    assert_eq!(
        p.write_memory(base + PAGE - 2, &[0x22; 4]),
        Err(ZX_ERR_INVALID_ARGS)
    );
    assert_eq!(vmo_read(&p, v, (PAGE - 2) as u64, 4), [0; 4]);
}

#[test]
fn copies_across_adjacent_mappings_work() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo(&p, PAGE);
    let w = vmo(&p, PAGE);
    map_at(&p, r, 0, v, 1);
    map_at(&p, r, 1, w, 1);
    p.write_memory(base + PAGE - 3, b"across").unwrap();
    assert_eq!(vmo_read(&p, v, (PAGE - 3) as u64, 3), b"acr");
    assert_eq!(vmo_read(&p, w, 0, 3), b"oss");
    assert_eq!(read_vec(&p, base + PAGE - 3, 6), b"across");
}

#[test]
fn write_memory_commits_pages_on_demand() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 4 * PAGE);
    assert_eq!(committed(&p, v), 0);
    p.write_memory(a + 2 * PAGE, b"z").unwrap();
    assert_eq!(committed(&p, v), PAGE as u64);
}

#[test]
fn read_of_a_never_written_page_gives_zeros() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, 2 * PAGE);
    assert_eq!(read_vec(&p, a, 2 * PAGE), vec![0; 2 * PAGE]);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn raw_writes_are_seen_by_read_memory_and_vmo_read() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    // SAFETY: `a` is the base of a live read-write mapping of one page; on the unix backend
    // user addresses are host addresses and the first touch is demand-paged.
    unsafe { core::ptr::copy_nonoverlapping(b"raw!".as_ptr(), (a + 64) as *mut u8, 4) };
    assert_eq!(read_vec(&p, a + 64, 4), b"raw!");
    assert_eq!(vmo_read(&p, v, 64, 4), b"raw!");
}

#[test]
fn zero_length_copies_succeed_anywhere_mapped() {
    let p = new_process();
    assert_eq!(p.read_memory(p.scratch(), &mut []), Ok(()));
    assert_eq!(p.write_memory(p.scratch(), &[]), Ok(()));
}

#[test]
fn the_scratch_area_is_64_kib_of_committed_read_write_memory() {
    let p = new_process();
    let s = p.scratch();
    assert_eq!(s % PAGE, 0);
    p.write_memory(s, &[0x42; 16 * PAGE]).unwrap();
    assert_eq!(read_vec(&p, s + 16 * PAGE - 1, 1), [0x42]);
    let frames = p.frames_in_use();
    p.write_memory(s + 3 * PAGE, b"again").unwrap();
    assert_eq!(p.frames_in_use(), frames);
}

#[test]
fn vmo_io_larger_than_any_kernel_chunk_round_trips() {
    let p = new_process();
    let pages = 40;
    let src = vmo(&p, pages * PAGE);
    let dst = vmo(&p, pages * PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, src, 0, pages * PAGE);
    let b = map(&p, p.zx_vmar_root_self(), RW, 0, dst, 0, pages * PAGE);
    let data: Vec<u8> = (0..pages * PAGE - 3).map(|i| (i * 7 % 253) as u8).collect();
    p.write_memory(a + 3, &data).unwrap();
    // Through the kernel: VMO -> user buffer, then user buffer -> VMO.
    assert_eq!(p.zx_vmo_read(src, b, 3, data.len()), ZX_OK);
    assert_eq!(read_vec(&p, b, data.len()), data);
    let third = vmo(&p, pages * PAGE);
    assert_eq!(p.zx_vmo_write(third, b, 0, data.len()), ZX_OK);
    assert_eq!(vmo_read(&p, third, 0, 4096), &data[..4096]);
    let mut tail = vec![0u8; 1000];
    p.read_memory(b + data.len() - 1000, &mut tail).unwrap();
    assert_eq!(tail, &data[data.len() - 1000..]);
}

#[test]
fn op_range_commit_across_two_mappings_commits_both_vmos() {
    let p = new_process();
    let (r, base) = region(&p, 4);
    let v = vmo(&p, 2 * PAGE);
    let w = vmo(&p, 2 * PAGE);
    map_at(&p, r, 0, v, 2);
    map_at(&p, r, 2, w, 2);
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base + PAGE, 2 * PAGE, 0, 0),
        ZX_OK
    );
    assert_eq!(
        (committed(&p, v), committed(&p, w)),
        (PAGE as u64, PAGE as u64)
    );
    let m = mappings_in(&p, base, base + 4 * PAGE);
    assert_eq!(
        m.iter()
            .map(|e| e.mapping.committed_pages)
            .collect::<Vec<_>>(),
        vec![1, 1]
    );
}

#[test]
fn commit_after_a_shrink_is_out_of_range_past_the_new_end() {
    let p = new_process();
    let (r, base) = region(&p, 2);
    let v = vmo_with(&p, 2 * PAGE as u64, ZX_VMO_RESIZABLE);
    map_at(&p, r, 0, v, 2);
    assert_eq!(p.zx_vmo_set_size(v, PAGE as u64), ZX_OK);
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base + PAGE, PAGE, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, PAGE, 0, 0),
        ZX_OK
    );
    assert_eq!(committed(&p, v), PAGE as u64);
}
