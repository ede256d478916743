//! `zx_vmo_create`, `zx_vmo_read`, `zx_vmo_write` (docs/ABI.md §8.1, 8.2, 1.4).

use crate::helpers::*;

#[test]
fn zero_size_vmo_is_valid_and_has_size_zero() {
    let p = new_process();
    let v = vmo(&p, 0);
    assert_eq!(vmo_size(&p, v), 0);
    assert_eq!(p.zx_vmo_read(v, p.scratch() + BUF, 0, 0), ZX_OK);
    assert_eq!(
        p.zx_vmo_read(v, p.scratch() + BUF, 0, 1),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn size_is_rounded_up_to_whole_pages() {
    let p = new_process();
    assert_eq!(vmo_size(&p, vmo(&p, 1)), PAGE as u64);
    assert_eq!(vmo_size(&p, vmo(&p, PAGE)), PAGE as u64);
    assert_eq!(vmo_size(&p, vmo(&p, PAGE + 1)), 2 * PAGE as u64);
}

#[test]
fn sizes_whose_rounding_overflows_are_out_of_range() {
    let p = new_process();
    poison_outs(&p);
    assert_eq!(
        p.zx_vmo_create(u64::MAX, 0, out(&p, OUT0)),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_vmo_create(u64::MAX - PAGE as u64 + 2, 0, out(&p, OUT0)),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(read_u32(&p, out(&p, OUT0)), POISON32);
}

#[test]
fn large_sizes_cost_nothing_until_committed() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = vmo_with(&p, 1 << 40, 0);
    assert_eq!(vmo_size(&p, v), 1 << 40);
    assert_eq!(committed(&p, v), 0);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn unknown_options_are_invalid_args() {
    let p = new_process();
    for bit in [0u32, 3, 5, 8, 31] {
        assert_eq!(
            p.zx_vmo_create(PAGE as u64, 1 << bit, out(&p, OUT0)),
            ZX_ERR_INVALID_ARGS,
            "bit {bit}"
        );
    }
}

#[test]
fn handle_rights_are_the_default_and_resize_when_resizable() {
    let p = new_process();
    assert_eq!(rights(&p, vmo(&p, PAGE)), 0xD0EF);
    assert_eq!(
        rights(&p, vmo_with(&p, PAGE as u64, ZX_VMO_RESIZABLE)),
        0x0040_D0EF
    );
}

#[test]
fn new_vmo_reads_zero_and_commits_nothing() {
    let p = new_process();
    let v = vmo(&p, 4 * PAGE);
    assert_eq!(vmo_read(&p, v, 0, 4 * PAGE), vec![0u8; 4 * PAGE]);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn write_then_read_round_trips_at_unaligned_offsets() {
    let p = new_process();
    let v = vmo(&p, 3 * PAGE);
    let data: Vec<u8> = (0..PAGE + 100).map(|i| (i % 251) as u8).collect();
    vmo_write(&p, v, (PAGE - 37) as u64, &data);
    assert_eq!(vmo_read(&p, v, (PAGE - 37) as u64, data.len()), data);
    assert_eq!(vmo_read(&p, v, 0, 4), [0; 4]);
}

#[test]
fn write_commits_only_the_pages_touched() {
    let p = new_process();
    let v = vmo(&p, 8 * PAGE);
    vmo_write(&p, v, (3 * PAGE - 1) as u64, b"ab");
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
}

#[test]
fn access_past_the_end_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(
        p.zx_vmo_read(v, b, (PAGE - 1) as u64, 2),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_vmo_write(v, b, (PAGE - 1) as u64, 2),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(p.zx_vmo_read(v, b, PAGE as u64, 0), ZX_OK);
    assert_eq!(p.zx_vmo_read(v, b, PAGE as u64 + 1, 0), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(
        p.zx_vmo_write(v, b, PAGE as u64 + 1, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn offset_plus_length_overflow_is_out_of_range() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(v, b, u64::MAX, 2), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(p.zx_vmo_write(v, b, u64::MAX - 1, 8), ZX_ERR_OUT_OF_RANGE);
    assert_eq!(p.zx_vmo_read(v, b, 8, usize::MAX), ZX_ERR_OUT_OF_RANGE);
}

#[test]
fn read_and_write_need_their_rights() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let b = p.scratch() + BUF;
    let wo = dup(&p, v, ZX_RIGHT_WRITE);
    let ro = dup(&p, v, ZX_RIGHT_READ);
    assert_eq!(p.zx_vmo_read(wo, b, 0, 1), ZX_ERR_ACCESS_DENIED);
    assert_eq!(p.zx_vmo_write(ro, b, 0, 1), ZX_ERR_ACCESS_DENIED);
    assert_eq!(p.zx_vmo_read(ro, b, 0, 1), ZX_OK);
    assert_eq!(p.zx_vmo_write(wo, b, 0, 1), ZX_OK);
    // The rights check comes before the range check.
    assert_eq!(p.zx_vmo_read(wo, b, u64::MAX, 1), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn read_and_write_on_wrong_or_bad_handles_fail() {
    let p = new_process();
    let b = p.scratch() + BUF;
    let root = p.zx_vmar_root_self();
    assert_eq!(p.zx_vmo_read(root, b, 0, 1), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_vmo_write(root, b, 0, 1), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_vmo_read(ZX_HANDLE_INVALID, b, 0, 1), ZX_ERR_BAD_HANDLE);
    assert_eq!(
        p.zx_vmo_write(closed_handle(&p), b, 0, 1),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn read_into_an_unmapped_buffer_fails_with_either_allowed_status() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_one_of(
        p.zx_vmo_read(v, UNMAPPED, 0, 16),
        &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
    );
    assert_one_of(
        p.zx_vmo_read(v, usize::MAX - 3, 0, 16),
        &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
    );
}

#[test]
fn write_from_an_unmapped_buffer_fails_and_leaves_the_vmo_unchanged() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_one_of(
        p.zx_vmo_write(v, UNMAPPED, 0, 16),
        &[ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND],
    );
    assert_eq!(vmo_read(&p, v, 0, 16), [0; 16]);
}

#[test]
fn read_into_a_read_only_mapping_fails_with_either_allowed_status() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    vmo_write(&p, v, 0, b"data");
    let w = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, w, 0, PAGE);
    assert_one_of(
        p.zx_vmo_read(v, a, 0, 4),
        &[ZX_ERR_INVALID_ARGS, ZX_ERR_ACCESS_DENIED],
    );
    assert_eq!(vmo_read(&p, w, 0, 4), [0; 4]);
}

#[test]
fn write_from_a_read_only_mapping_works() {
    let p = new_process();
    let src = vmo(&p, PAGE);
    vmo_write(&p, src, 0, b"from");
    let a = map(&p, p.zx_vmar_root_self(), R, 0, src, 0, PAGE);
    let v = vmo(&p, PAGE);
    assert_eq!(p.zx_vmo_write(v, a, 0, 4), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 4), b"from");
}

#[test]
fn read_into_a_mapping_of_the_same_vmo_works() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, b"self");
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    assert_eq!(p.zx_vmo_read(v, a + PAGE, 0, 4), ZX_OK);
    assert_eq!(vmo_read(&p, v, PAGE as u64, 4), b"self");
}

#[test]
fn writes_through_a_mapping_and_through_vmo_write_are_coherent() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    vmo_write(&p, v, 100, b"one");
    assert_eq!(read_vec(&p, a + 100, 3), b"one");
    p.write_memory(a + 200, b"two").unwrap();
    assert_eq!(vmo_read(&p, v, 200, 3), b"two");
}

#[test]
fn failed_handle_copy_out_installs_no_handle() {
    let p = new_process();
    let handles = vmo_handle_count(&p);
    let frames = p.frames_in_use();
    assert_eq!(
        p.zx_vmo_create(PAGE as u64, 0, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_vmo_create(PAGE as u64, 0, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(vmo_handle_count(&p), handles);
    assert_eq!(p.frames_in_use(), frames);
}

#[test]
fn every_new_vmo_has_its_own_koid() {
    let p = new_process();
    let a = basic(&p, vmo(&p, PAGE)).koid;
    let b = basic(&p, vmo(&p, PAGE)).koid;
    assert_ne!(a, ZX_KOID_INVALID);
    assert_ne!(b, ZX_KOID_INVALID);
    assert_ne!(a, b);
}

#[test]
fn discardable_vmo_can_be_created() {
    let p = new_process();
    let v = vmo_with(&p, PAGE as u64, ZX_VMO_DISCARDABLE);
    assert_ne!(vmo_info(&p, v).flags & ZX_INFO_VMO_DISCARDABLE, 0);
    assert_eq!(
        vmo_info(&p, v).flags & ZX_INFO_VMO_TYPE_PAGED,
        ZX_INFO_VMO_TYPE_PAGED
    );
}
