//! `zx_handle_close`, `zx_handle_duplicate`, `zx_handle_replace` and handle values
//! (docs/ABI.md §9, 1.3).

use crate::helpers::*;

fn try_dup(p: &TestProcess, h: u32, rights: u32) -> i32 {
    poison_outs(p);
    p.zx_handle_duplicate(h, rights, out(p, OUT0))
}

fn try_replace(p: &TestProcess, h: u32, rights: u32) -> i32 {
    poison_outs(p);
    p.zx_handle_replace(h, rights, out(p, OUT0))
}

#[test]
fn handle_values_are_never_zero_and_have_the_low_bits_set() {
    let p = new_process();
    let mut seen = Vec::new();
    for _ in 0..20 {
        let h = vmo(&p, 0);
        assert_ne!(h, ZX_HANDLE_INVALID);
        assert_eq!(h & 3, 3, "handle {h:#x}");
        assert!(!seen.contains(&h));
        seen.push(h);
    }
    for h in [p.zx_vmar_root_self(), p.zx_process_self()] {
        assert_ne!(h, 0);
        assert_eq!(h & 3, 3);
    }
}

#[test]
fn closing_the_invalid_handle_is_ok() {
    let p = new_process();
    assert_eq!(p.zx_handle_close(ZX_HANDLE_INVALID), ZX_OK);
}

#[test]
fn closing_twice_is_bad_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.zx_handle_close(v), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_vmo_get_size(v, out(&p, OUT0)), ZX_ERR_BAD_HANDLE);
}

#[test]
fn closing_values_that_were_never_handles_is_bad_handle() {
    let p = new_process();
    for h in [1u32, 2, closed_handle(&p)] {
        assert_eq!(p.zx_handle_close(h), ZX_ERR_BAD_HANDLE, "value {h:#x}");
    }
}

#[test]
fn freed_values_are_not_reused_at_once() {
    let p = new_process();
    let a = vmo(&p, 0);
    assert_eq!(p.zx_handle_close(a), ZX_OK);
    let b = vmo(&p, 0);
    assert_ne!(a, b);
}

#[test]
fn duplicate_with_same_rights_gives_a_new_handle_to_the_same_object() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(try_dup(&p, v, ZX_RIGHT_SAME_RIGHTS), ZX_OK);
    let d = read_u32(&p, out(&p, OUT0));
    assert_ne!(d, v);
    assert_eq!(d & 3, 3);
    let (bv, bd) = (basic(&p, v), basic(&p, d));
    assert_eq!(bv, bd);
    vmo_write(&p, d, 0, b"same");
    assert_eq!(vmo_read(&p, v, 0, 4), b"same");
}

#[test]
fn duplicate_with_fewer_rights_reports_exactly_those() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let d = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    assert_eq!(rights(&p, d), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    assert_eq!(rights(&p, v), ZX_DEFAULT_VMO_RIGHTS);
}

#[test]
fn duplicate_adding_a_right_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    let handles = vmo_handle_count(&p);
    assert_eq!(
        try_dup(&p, ro, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WRITE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_dup(&p, v, ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_EXECUTE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_dup(&p, v, ZX_RIGHT_SAME_RIGHTS | ZX_RIGHT_READ),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(read_u32(&p, out(&p, OUT0)), POISON32);
    assert_eq!(vmo_handle_count(&p), handles);
    assert_eq!(rights(&p, ro), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
}

#[test]
fn duplicate_to_no_rights_gives_a_handle_that_can_do_almost_nothing() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let none = dup(&p, v, 0);
    assert_eq!(rights(&p, none), 0);
    assert_eq!(
        p.zx_vmo_read(none, p.scratch() + BUF, 0, 1),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(try_dup(&p, none, 0), ZX_ERR_ACCESS_DENIED);
    assert_eq!(vmo_size(&p, none), PAGE as u64);
}

#[test]
fn duplicate_without_the_duplicate_right_is_access_denied() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let nodup = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_DUPLICATE);
    assert_eq!(
        try_dup(&p, nodup, ZX_RIGHT_SAME_RIGHTS),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(try_dup(&p, nodup, ZX_RIGHT_READ), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn duplicate_of_a_bad_handle_is_bad_handle() {
    let p = new_process();
    assert_eq!(
        try_dup(&p, ZX_HANDLE_INVALID, ZX_RIGHT_SAME_RIGHTS),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        try_dup(&p, closed_handle(&p), ZX_RIGHT_SAME_RIGHTS),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn duplicate_into_a_bad_pointer_installs_nothing() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let handles = vmo_handle_count(&p);
    assert_eq!(
        p.zx_handle_duplicate(v, ZX_RIGHT_SAME_RIGHTS, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(vmo_handle_count(&p), handles);
}

#[test]
fn duplicating_a_vmar_handle_keeps_its_rights() {
    let p = new_process();
    let root = p.zx_vmar_root_self();
    let d = dup(&p, root, ZX_RIGHT_SAME_RIGHTS);
    assert_eq!(rights(&p, d), rights(&p, root));
    assert_eq!(vmar_info(&p, d), vmar_info(&p, root));
}

#[test]
fn replace_invalidates_the_original_and_gives_a_new_value() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let koid = basic(&p, v).koid;
    assert_eq!(try_replace(&p, v, ZX_RIGHT_READ), ZX_OK);
    let n = read_u32(&p, out(&p, OUT0));
    assert_ne!(n, v);
    assert_eq!(p.zx_handle_close(v), ZX_ERR_BAD_HANDLE);
    let b = basic(&p, n);
    assert_eq!((b.koid, b.rights), (koid, ZX_RIGHT_READ));
}

#[test]
fn replace_with_same_rights_keeps_the_rights() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(try_replace(&p, v, ZX_RIGHT_SAME_RIGHTS), ZX_OK);
    let n = read_u32(&p, out(&p, OUT0));
    assert_eq!(rights(&p, n), ZX_DEFAULT_VMO_RIGHTS);
}

#[test]
fn replace_adding_rights_is_invalid_args_and_the_original_is_gone() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHT_READ);
    let handles = vmo_handle_count(&p);
    assert_eq!(
        try_replace(&p, ro, ZX_RIGHT_READ | ZX_RIGHT_WRITE),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_handle_close(ro), ZX_ERR_BAD_HANDLE);
    assert_eq!(vmo_handle_count(&p), handles - 1);
}

#[test]
fn replace_needs_no_duplicate_right() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let nodup = dup(&p, v, ZX_RIGHT_READ);
    assert_eq!(try_replace(&p, nodup, ZX_RIGHT_SAME_RIGHTS), ZX_OK);
    let n = read_u32(&p, out(&p, OUT0));
    assert_eq!(rights(&p, n), ZX_RIGHT_READ);
}

#[test]
fn replace_of_a_bad_handle_is_bad_handle() {
    let p = new_process();
    assert_eq!(
        try_replace(&p, ZX_HANDLE_INVALID, ZX_RIGHT_SAME_RIGHTS),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        try_replace(&p, closed_handle(&p), ZX_RIGHT_SAME_RIGHTS),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn closing_a_vmo_handle_keeps_its_mapping_and_contents() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    p.write_memory(a, b"live").unwrap();
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(read_vec(&p, a, 4), b"live");
}

#[test]
fn closing_the_last_vmo_handle_frees_its_frames() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = vmo(&p, 4 * PAGE);
    vmo_write(&p, v, 0, &vec![1u8; 4 * PAGE]);
    assert!(p.frames_in_use() >= before + 4);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn a_reduced_vmar_handle_cannot_be_raised_back() {
    let p = new_process();
    let (r, _) = region(&p, 1);
    let ro = dup(&p, r, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
    assert_eq!(
        try_dup(
            &p,
            ro,
            ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE
        ),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        try_replace(
            &p,
            ro,
            ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE
        ),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn replace_into_a_bad_pointer_consumes_the_original_and_installs_nothing() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let d = dup(&p, v, ZX_RIGHT_READ);
    let handles = vmo_handle_count(&p);
    assert_eq!(
        p.zx_handle_replace(d, ZX_RIGHT_SAME_RIGHTS, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_handle_close(d), ZX_ERR_BAD_HANDLE);
    assert_eq!(vmo_handle_count(&p), handles - 1);
}
