//! Wild user pointers in every argument position: each yields a status, never a fault,
//! and a failed out-copy undoes the call (docs/ABI.md §1.4).

use crate::helpers::*;

/// Addresses that no call may write through.
fn bad_pointers(p: &TestProcess) -> Vec<usize> {
    let ro = {
        let v = vmo(p, PAGE);
        map(p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE)
    };
    vec![
        0,
        UNMAPPED,
        usize::MAX,
        usize::MAX - 3,
        1 << 63,
        ro,
        p.scratch() + 16 * PAGE - 2,
    ]
}

#[test]
fn vmo_create_through_any_bad_pointer_is_invalid_args_and_leaks_nothing() {
    let p = new_process();
    let ptrs = bad_pointers(&p);
    let handles = vmo_handle_count(&p);
    for ptr in ptrs {
        assert_eq!(
            p.zx_vmo_create(PAGE as u64, 0, ptr),
            ZX_ERR_INVALID_ARGS,
            "pointer {ptr:#x}"
        );
    }
    assert_eq!(vmo_handle_count(&p), handles);
}

#[test]
fn out_pointer_straddling_the_end_of_scratch_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let edge = p.scratch() + 16 * PAGE - 4;
    assert_eq!(p.zx_vmo_get_size(v, edge), ZX_ERR_INVALID_ARGS);
    // Four bytes still fit for a handle.
    assert_eq!(p.zx_handle_duplicate(v, ZX_RIGHT_SAME_RIGHTS, edge), ZX_OK);
    let d = read_u32(&p, edge);
    assert_eq!(basic(&p, d).koid, basic(&p, v).koid);
}

#[test]
fn vmar_map_through_a_read_only_out_pointer_leaves_no_mapping() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let w = vmo(&p, PAGE);
    let ro = map(&p, p.zx_vmar_root_self(), R, 0, w, 0, PAGE);
    assert_eq!(
        p.zx_vmar_map(p.zx_vmar_root_self(), RW, 0, v, 0, PAGE, ro),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_info(&p, v).num_mappings, 0);
    assert_eq!(vmo_read(&p, w, 0, 8), [0; 8]);
}

#[test]
fn vmar_allocate_through_bad_pointers_leaves_no_region() {
    let p = new_process();
    let before = sub_vmar_count(&p);
    for ptr in bad_pointers(&p) {
        let st = p.zx_vmar_allocate(p.zx_vmar_root_self(), RW_CAN, 0, PAGE, ptr, out(&p, OUT1));
        assert_eq!(st, ZX_ERR_INVALID_ARGS, "pointer {ptr:#x}");
        let st = p.zx_vmar_allocate(p.zx_vmar_root_self(), RW_CAN, 0, PAGE, out(&p, OUT0), ptr);
        assert_eq!(st, ZX_ERR_INVALID_ARGS, "pointer {ptr:#x}");
    }
    assert_eq!(sub_vmar_count(&p), before);
}

#[test]
fn vmo_read_and_write_with_wild_buffers_fail_without_faulting() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for ptr in [
        0usize,
        UNMAPPED,
        usize::MAX,
        usize::MAX - 100,
        1 << 47,
        1 << 63,
    ] {
        assert_one_of(
            p.zx_vmo_read(v, ptr, 0, 64),
            &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
        );
        assert_one_of(
            p.zx_vmo_write(v, ptr, 0, 64),
            &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
        );
    }
    assert_eq!(vmo_read(&p, v, 0, 64), vec![0; 64]);
}

#[test]
fn vmo_read_into_a_buffer_running_off_the_scratch_area_fails() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let tail = p.scratch() + 16 * PAGE - 16;
    assert_one_of(
        p.zx_vmo_read(v, tail, 0, 32),
        &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
    );
}

#[test]
fn get_info_with_wild_pointers_fails_without_faulting() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    for ptr in bad_pointers(&p) {
        assert_eq!(
            p.zx_object_get_info(v, ZX_INFO_VMO, ptr, 128, 0, 0),
            ZX_ERR_INVALID_ARGS,
            "pointer {ptr:#x}"
        );
        // A null `avail` is allowed; any other bad pointer is not.
        let want = if ptr == 0 { ZX_OK } else { ZX_ERR_INVALID_ARGS };
        assert_eq!(
            p.zx_object_get_info(v, ZX_INFO_VMO, p.scratch() + BUF, 128, 0, ptr),
            want,
            "pointer {ptr:#x}"
        );
    }
}

#[test]
fn kernel_copies_of_huge_lengths_fail_cleanly() {
    let p = new_process();
    // A copy running past the end of the scratch area, and one running off the top of
    // the address space.
    let s = p.scratch();
    let big = vec![0u8; 17 * PAGE];
    assert_eq!(p.write_memory(s, &big), Err(ZX_ERR_INVALID_ARGS));
    let mut sink = [0u8; 16];
    assert_eq!(
        p.read_memory(usize::MAX - 7, &mut sink),
        Err(ZX_ERR_INVALID_ARGS)
    );
    assert_eq!(read_vec(&p, s, 4), [0; 4]);
}

#[test]
fn process_read_memory_into_a_bad_buffer_fails() {
    let p = new_process();
    let me = p.zx_process_self();
    p.write_memory(p.scratch() + BUF, b"intact").unwrap();
    let st = p.zx_process_read_memory(me, p.scratch() + BUF, UNMAPPED, 8, out(&p, OUT0));
    assert_one_of(st, &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND]);
    let st = p.zx_process_write_memory(me, p.scratch() + BUF, UNMAPPED, 6, out(&p, OUT0));
    assert_one_of(st, &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND]);
    assert_eq!(read_vec(&p, p.scratch() + BUF, 6), b"intact");
}
