//! `zx_vmo_get_size`, `zx_vmo_set_size` (docs/ABI.md §8.3, 8.4).

use crate::helpers::*;

#[test]
fn get_size_needs_no_rights() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE);
    let none = dup(&p, v, 0);
    assert_eq!(vmo_size(&p, none), 3 * PAGE as u64);
}

#[test]
fn get_size_on_wrong_or_bad_handle_fails() {
    let p = new_process();
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_get_size(p.zx_vmar_root_self(), o),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(p.zx_vmo_get_size(p.zx_process_self(), o), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_vmo_get_size(ZX_HANDLE_INVALID, o), ZX_ERR_BAD_HANDLE);
}

#[test]
fn get_size_into_a_bad_pointer_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_get_size(v, UNMAPPED), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_vmo_get_size(v, 0), ZX_ERR_INVALID_ARGS);
}

#[test]
fn set_size_of_a_non_resizable_vmo_is_unavailable() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_set_size(v, 2 * PAGE as u64), ZX_ERR_UNAVAILABLE);
    assert_eq!(vmo_size(&p, v), PAGE as u64);
}

#[test]
fn overflowing_size_is_checked_before_resizability() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_set_size(v, u64::MAX), ZX_ERR_OUT_OF_RANGE);
    let r = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    assert_eq!(p.zx_vmo_set_size(r, u64::MAX), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(vmo_size(&p, r), PAGE as u64);
}

#[test]
fn growing_is_rounded_and_the_new_range_reads_zero() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    vmo_write(&p, v, 0, b"keep");
    assert_eq!(p.zx_vmo_set_size(v, 2 * PAGE as u64 + 1), ZX_OK);
    assert_eq!(vmo_size(&p, v), 3 * PAGE as u64);
    assert_eq!(vmo_read(&p, v, 0, 4), b"keep");
    assert_eq!(vmo_read(&p, v, PAGE as u64, 2 * PAGE), vec![0; 2 * PAGE]);
}

#[test]
fn shrinking_frees_pages_and_regrowing_reads_zero() {
    let p = new_process();
    let v = vmo_with(&p, 4 * PAGE as u64, ZX_VMO_RESIZABLE);
    vmo_write(&p, v, 0, &vec![5u8; 4 * PAGE]);
    assert_eq!(committed(&p, v), 4 * PAGE as u64);
    assert_eq!(p.zx_vmo_set_size(v, PAGE as u64), ZX_OK);
    assert_eq!(committed(&p, v), PAGE as u64);
    assert_eq!(
        p.zx_vmo_read(v, p.scratch() + BUF, PAGE as u64, 1),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(p.zx_vmo_set_size(v, 4 * PAGE as u64), ZX_OK);
    assert_eq!(vmo_read(&p, v, PAGE as u64, 3 * PAGE), vec![0; 3 * PAGE]);
    assert_eq!(vmo_read(&p, v, 0, 1), [5]);
}

#[test]
fn shrinking_to_a_partial_page_zeroes_the_tail_of_that_page() {
    let p = new_process();
    let v = vmo_with(&p, 2 * PAGE as u64, ZX_VMO_RESIZABLE);
    vmo_write(&p, v, 0, &vec![0xffu8; 2 * PAGE]);
    assert_eq!(p.zx_vmo_set_size(v, 100), ZX_OK);
    assert_eq!(vmo_size(&p, v), PAGE as u64);
    let b = vmo_read(&p, v, 0, PAGE);
    assert!(b[..100].iter().all(|&x| x == 0xff));
    assert!(b[100..].iter().all(|&x| x == 0));
}

#[test]
fn shrinking_removes_pages_from_mappings() {
    let p = new_process();
    let v = vmo_with(&p, 3 * PAGE as u64, ZX_VMO_RESIZABLE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 3 * PAGE);
    p.write_memory(a, &vec![1u8; 3 * PAGE]).unwrap();
    assert_eq!(p.zx_vmo_set_size(v, PAGE as u64), ZX_OK);
    assert!(readable(&p, a));
    assert!(!readable(&p, a + PAGE));
    assert_eq!(p.write_memory(a + 2 * PAGE, &[1]), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(p.zx_vmo_set_size(v, 3 * PAGE as u64), ZX_OK);
    assert_eq!(read_vec(&p, a + PAGE, 4), [0; 4]);
    assert_eq!(read_vec(&p, a, 1), [1]);
}

#[test]
fn set_size_needs_write_and_resize_rights() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    let no_write = dup(&p, v, rights(&p, v) & !ZX_RIGHT_WRITE);
    let no_resize = dup(&p, v, rights(&p, v) & !ZX_RIGHT_RESIZE);
    assert_eq!(
        p.zx_vmo_set_size(no_write, 2 * PAGE as u64),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_vmo_set_size(no_resize, 2 * PAGE as u64),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(vmo_size(&p, v), PAGE as u64);
}

#[test]
fn non_resizable_vmo_skips_the_resize_right_check() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(rights(&p, v) & ZX_RIGHT_RESIZE, 0);
    assert_eq!(p.zx_vmo_set_size(v, PAGE as u64), ZX_ERR_UNAVAILABLE);
}

#[test]
fn set_size_on_wrong_or_bad_handle_fails() {
    let p = new_process();
    assert_eq!(
        p.zx_vmo_set_size(p.zx_vmar_root_self(), PAGE as u64),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        p.zx_vmo_set_size(ZX_HANDLE_INVALID, PAGE as u64),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn set_size_to_zero_is_allowed() {
    let p = new_process();
    let v = vmo_with(&p, 2 * PAGE as u64, ZX_VMO_RESIZABLE);
    vmo_write(&p, v, 0, b"x");
    assert_eq!(p.zx_vmo_set_size(v, 0), ZX_OK);
    assert_eq!(vmo_size(&p, v), 0);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn info_reports_the_resizable_flag() {
    let p = new_process();
    let r = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    let f = vmo(&p, PAGE);
    assert_ne!(vmo_info(&p, r).flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(vmo_info(&p, f).flags & ZX_INFO_VMO_RESIZABLE, 0);
}
