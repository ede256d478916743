//! Features the spec lists as optional (docs/ABI.md §12.2): if not built, their op code
//! or option bit is refused exactly as an unknown one (`ZX_ERR_INVALID_ARGS`); if built,
//! they must behave as specified. Each case accepts either, and checks the behaviour
//! when the call succeeds.

use crate::helpers::*;

#[test]
fn vmar_op_zero_is_refused_as_unknown_or_zeroes_the_range() {
    let p = new_process();
    let v = vmo(&p, 2 * PAGE);
    vmo_write(&p, v, 0, &[5u8; 2 * PAGE]);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    let st = p.zx_vmar_op_range(p.zx_vmar_root_self(), ZX_VMAR_OP_ZERO, a, PAGE, 0, 0);
    assert_one_of(st, &[ZX_ERR_INVALID_ARGS, ZX_OK]);
    let first = vmo_read(&p, v, 0, 4);
    if st == ZX_OK {
        assert_eq!(first, [0; 4]);
    } else {
        assert_eq!(first, [5; 4]);
    }
    assert_eq!(vmo_read(&p, v, PAGE as u64, 4), [5; 4]);
}

#[test]
fn vmar_op_prefetch_is_refused_as_unknown_or_succeeds() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, PAGE);
    let st = p.zx_vmar_op_range(p.zx_vmar_root_self(), ZX_VMAR_OP_PREFETCH, a, PAGE, 0, 0);
    assert_one_of(st, &[ZX_ERR_INVALID_ARGS, ZX_OK]);
}

#[test]
fn unbounded_vmo_option_is_refused_as_unknown_or_creates_a_vmo() {
    let p = new_process();
    let unbounded = 1 << 4;
    poison_outs(&p);
    let st = p.zx_vmo_create(0, unbounded, out(&p, OUT0));
    assert_one_of(st, &[ZX_ERR_INVALID_ARGS, ZX_OK]);
    if st != ZX_OK {
        assert_eq!(read_u32(&p, out(&p, OUT0)), POISON32);
    }
    // Unbounded and resizable together are refused either way.
    let st = p.zx_vmo_create(0, unbounded | ZX_VMO_RESIZABLE, out(&p, OUT0));
    assert_eq!(st, ZX_ERR_INVALID_ARGS);
}

#[test]
fn fault_beyond_stream_size_map_option_is_refused_as_unknown_or_accepted() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let st = p.zx_vmar_map(
        p.zx_vmar_root_self(),
        R | (1 << 15),
        0,
        v,
        0,
        PAGE,
        out(&p, OUT2),
    );
    assert_one_of(st, &[ZX_ERR_INVALID_ARGS, ZX_OK]);
    assert_eq!(vmo_info(&p, v).num_mappings, usize::from(st == ZX_OK));
}
