//! `zx_object_get_property` / `zx_object_set_property` (docs/ABI.md §11).

use crate::helpers::*;

fn set_name(p: &TestProcess, h: u32, name: &[u8]) -> i32 {
    let b = p.scratch() + BUF;
    if !name.is_empty() {
        p.write_memory(b, name).unwrap();
    }
    p.zx_object_set_property(h, ZX_PROP_NAME, b, name.len())
}

fn get_name(p: &TestProcess, h: u32) -> Vec<u8> {
    let b = p.scratch() + BUF + 2048;
    p.write_memory(b, &[0xcc; 32]).unwrap();
    assert_eq!(p.zx_object_get_property(h, ZX_PROP_NAME, b, 32), ZX_OK);
    let raw = read_vec(p, b, 32);
    let end = raw
        .iter()
        .position(|&c| c == 0)
        .expect("name is NUL-terminated");
    assert!(raw[end..].iter().all(|&c| c == 0), "name is NUL-padded");
    raw[..end].to_vec()
}

#[test]
fn a_new_vmo_has_an_empty_name() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(get_name(&p, v), b"");
}

#[test]
fn name_set_is_name_got_and_reported_by_info() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(set_name(&p, v, b"heap"), ZX_OK);
    assert_eq!(get_name(&p, v), b"heap");
    assert_eq!(vmo_info(&p, v).name(), b"heap");
}

#[test]
fn long_names_are_truncated_to_31_bytes() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let long: Vec<u8> = (0..40).map(|i| b'a' + (i % 26) as u8).collect();
    assert_eq!(set_name(&p, v, &long), ZX_OK);
    assert_eq!(get_name(&p, v), &long[..31]);
}

#[test]
fn name_stops_at_an_embedded_nul() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(set_name(&p, v, b"ab\0cd"), ZX_OK);
    assert_eq!(get_name(&p, v), b"ab");
}

#[test]
fn setting_an_empty_name_clears_it() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(set_name(&p, v, b"x"), ZX_OK);
    assert_eq!(set_name(&p, v, b""), ZX_OK);
    assert_eq!(get_name(&p, v), b"");
}

#[test]
fn getting_the_name_into_fewer_than_32_bytes_is_buffer_too_small() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_NAME, p.scratch() + BUF, 31),
        ZX_ERR_BUFFER_TOO_SMALL
    );
}

#[test]
fn null_value_is_invalid_args_even_before_the_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_NAME, 0, 32),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_NAME, 0, 4),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_object_get_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, 0, 32),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_object_set_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, 0, 4),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn bad_handles_are_bad_handle() {
    let p = new_process();
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_get_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, b, 32),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_object_set_property(closed_handle(&p), ZX_PROP_NAME, b, 4),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn vmar_handles_lack_the_property_rights() {
    let p = new_process();
    let b = p.scratch() + BUF;
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_object_get_property(root, ZX_PROP_NAME, b, 32),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_object_set_property(root, ZX_PROP_NAME, b, 4),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn property_rights_are_required() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let no_get = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_GET_PROPERTY);
    let no_set = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_SET_PROPERTY);
    assert_eq!(
        p.zx_object_get_property(no_get, ZX_PROP_NAME, p.scratch() + BUF, 32),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(set_name(&p, no_set, b"nope"), ZX_ERR_ACCESS_DENIED);
    assert_eq!(get_name(&p, v), b"");
}

#[test]
fn unknown_properties_are_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    for prop in [0u32, 9999, u32::MAX] {
        assert_eq!(
            p.zx_object_get_property(v, prop, b, 64),
            ZX_ERR_INVALID_ARGS,
            "prop {prop}"
        );
        assert_eq!(
            p.zx_object_set_property(v, prop, b, 8),
            ZX_ERR_INVALID_ARGS,
            "prop {prop}"
        );
    }
}

#[test]
fn name_from_an_unreadable_pointer_is_invalid_args() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_NAME, UNMAPPED, 8),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_NAME, UNMAPPED, 32),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(get_name(&p, v), b"");
}

#[test]
fn the_process_has_a_name_property_too() {
    let p = new_process();
    let me = p.zx_process_self();
    assert_eq!(set_name(&p, me, b"tester"), ZX_OK);
    assert_eq!(get_name(&p, me), b"tester");
}

#[test]
fn content_size_starts_as_the_requested_size() {
    let p = new_process();
    let v = vmo(&p, 1000);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(read_u64(&p, b), 1000);
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 7),
        ZX_ERR_BUFFER_TOO_SMALL
    );
}

#[test]
fn content_size_follows_set_size() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE);
    assert_eq!(p.zx_vmo_set_size(v, 3 * PAGE as u64 + 7), ZX_OK);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(read_u64(&p, b), 3 * PAGE as u64 + 7);
}

#[test]
fn content_size_can_be_set_and_zeroes_the_bytes_beyond_it() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, &[0x77u8; 64]);
    let b = p.scratch() + BUF + 1024;
    write_u64(&p, b, 10);
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(read_u64(&p, b), 10);
    let data = vmo_read(&p, v, 0, 64);
    assert!(data[..10].iter().all(|&x| x == 0x77));
    assert!(data[10..].iter().all(|&x| x == 0));
}

#[test]
fn content_size_on_a_process_is_wrong_type() {
    let p = new_process();
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_get_property(p.zx_process_self(), ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn content_size_may_be_set_beyond_the_vmo_size() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    write_u64(&p, b, 10 * PAGE as u64);
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_OK
    );
    assert_eq!(
        p.zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, b + 8, 8),
        ZX_OK
    );
    assert_eq!(read_u64(&p, b + 8), 10 * PAGE as u64);
    assert_eq!(vmo_size(&p, v), PAGE as u64);
}

#[test]
fn content_size_set_needs_eight_bytes() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, b, 7),
        ZX_ERR_BUFFER_TOO_SMALL
    );
}

#[test]
fn content_size_checks_the_buffer_size_before_the_object_type() {
    let p = new_process();
    let b = p.scratch() + BUF;
    let me = p.zx_process_self();
    assert_eq!(
        p.zx_object_get_property(me, ZX_PROP_VMO_CONTENT_SIZE, b, 4),
        ZX_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(
        p.zx_object_set_property(me, ZX_PROP_VMO_CONTENT_SIZE, b, 4),
        ZX_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(
        p.zx_object_set_property(me, ZX_PROP_VMO_CONTENT_SIZE, b, 8),
        ZX_ERR_WRONG_TYPE
    );
}
