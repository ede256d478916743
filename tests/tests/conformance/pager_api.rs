//! The argument checks of the pager calls, one case each: handles, types, rights,
//! options, alignment and ranges of `zx_pager_create_vmo`, `zx_pager_detach_vmo`,
//! `zx_pager_supply_pages`, `zx_pager_op_range`, `zx_pager_query_dirty_ranges` and
//! `zx_pager_query_vmo_stats`, each answered as Zircon's kernel answers it. No case here
//! blocks: none touches a page that is not supplied (pager_requests.rs does).
//! docs/ABI.md §17.4.

use crate::helpers::*;

const P: u64 = PAGE as u64;

/// A port, a pager and a pager-backed VMO of `pages` pages with key 5:
/// `(pager, vmo, port)`.
fn paged(p: &TestProcess, pages: u64, options: u32) -> (u32, u32, u32) {
    let port = port(p);
    let pager = pager(p);
    let o = out(p, OUT1);
    assert_eq!(
        p.zx_pager_create_vmo(pager, options, port, 5, pages * P, o),
        ZX_OK
    );
    (pager, read_u32(p, o), port)
}

fn port(p: &TestProcess) -> u32 {
    assert_eq!(p.zx_port_create(0, out(p, OUT0)), ZX_OK);
    read_u32(p, out(p, OUT0))
}

fn pager(p: &TestProcess) -> u32 {
    assert_eq!(p.zx_pager_create(0, out(p, OUT0)), ZX_OK);
    read_u32(p, out(p, OUT0))
}

/// A plain VMO of `pages` pages, committed, holding `byte` in every byte.
fn aux(p: &TestProcess, pages: u64, byte: u8) -> u32 {
    let v = vmo(p, (pages * P) as usize);
    vmo_write(p, v, 0, &vec![byte; (pages * P) as usize]);
    v
}

/// Whether nothing is queued on `port` (a poll).
fn port_is_empty(p: &TestProcess, port: u32) -> bool {
    p.zx_port_wait(port, 0, out(p, BUF)) == ZX_ERR_TIMED_OUT
}

// --- zx_pager_create

#[test]
fn pager_create_into_a_bad_out_pointer_is_invalid_args() {
    let p = new_process();
    assert_eq!(p.zx_pager_create(0, UNMAPPED), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_pager_create(0, 0), ZX_ERR_INVALID_ARGS);
}

#[test]
fn pager_create_refuses_every_option_bit() {
    let p = new_process();
    for bit in 0..32 {
        assert_eq!(
            p.zx_pager_create(1 << bit, out(&p, OUT0)),
            ZX_ERR_INVALID_ARGS,
            "bit {bit}"
        );
    }
}

#[test]
fn a_pager_handle_answers_basic_info_with_the_pager_type() {
    let p = new_process();
    let pg = pager(&p);
    let info = basic(&p, pg);
    assert_eq!(info.obj_type, ZX_OBJ_TYPE_PAGER);
    assert_ne!(info.koid, 0);
    assert_eq!(info.rights & ZX_RIGHT_ATTACH_VMO, ZX_RIGHT_ATTACH_VMO);
    assert_eq!(info.rights & ZX_RIGHT_MANAGE_VMO, ZX_RIGHT_MANAGE_VMO);
}

// --- zx_pager_create_vmo

#[test]
fn create_vmo_with_no_pager_or_no_port_handle_is_bad_handle() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    let o = out(&p, OUT1);
    assert_eq!(
        p.zx_pager_create_vmo(0, 0, port, 0, P, o),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(p.zx_pager_create_vmo(pg, 0, 0, 0, P, o), ZX_ERR_BAD_HANDLE);
}

#[test]
fn create_vmo_with_a_port_for_pager_or_a_vmo_for_port_is_wrong_type() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    let v = vmo(&p, PAGE);
    let o = out(&p, OUT1);
    assert_eq!(
        p.zx_pager_create_vmo(port, 0, port, 0, P, o),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(p.zx_pager_create_vmo(pg, 0, v, 0, P, o), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_pager_create_vmo(pg, 0, pg, 0, P, o), ZX_ERR_WRONG_TYPE);
}

#[test]
fn create_vmo_needs_write_on_the_port() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    let ro = dup(&p, port, ZX_DEFAULT_PORT_RIGHTS & !ZX_RIGHT_WRITE);
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, ro, 0, P, out(&p, OUT1)),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn create_vmo_needs_attach_vmo_on_the_pager() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    let weak = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_ATTACH_VMO);
    assert_eq!(
        p.zx_pager_create_vmo(weak, 0, port, 0, P, out(&p, OUT1)),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn create_vmo_with_a_size_that_cannot_be_rounded_is_out_of_range() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    // The last page-aligned value, plus one: rounding it up overflows.
    let bad = !(P - 1) + 1;
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, port, 0, bad, out(&p, OUT1)),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, port, 0, u64::MAX, out(&p, OUT1)),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn create_vmo_refuses_every_option_but_resizable_and_trap_dirty() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    for bit in 0..32 {
        let option = 1u32 << bit;
        if option == ZX_VMO_RESIZABLE || option == ZX_VMO_TRAP_DIRTY {
            continue;
        }
        assert_eq!(
            p.zx_pager_create_vmo(pg, option, port, 0, P, out(&p, OUT1)),
            ZX_ERR_INVALID_ARGS,
            "bit {bit}"
        );
    }
    assert_eq!(
        p.zx_pager_create_vmo(pg, ZX_VMO_DISCARDABLE, port, 0, P, out(&p, OUT1)),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn create_vmo_into_a_bad_out_pointer_is_invalid_args() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, port, 0, P, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn a_pager_vmo_has_vmo_rights_its_size_rounded_up_and_nothing_committed() {
    let p = new_process();
    let (pg, port) = (pager(&p), port(&p));
    let o = out(&p, OUT1);
    assert_eq!(p.zx_pager_create_vmo(pg, 0, port, 0, 5, o), ZX_OK);
    let v = read_u32(&p, o);
    assert_eq!(basic(&p, v).obj_type, ZX_OBJ_TYPE_VMO);
    assert_eq!(rights(&p, v), ZX_DEFAULT_VMO_RIGHTS);
    assert_eq!(vmo_size(&p, v), P);
    let info = vmo_info(&p, v);
    assert_ne!(info.flags & ZX_INFO_VMO_PAGER_BACKED, 0);
    assert_eq!(info.committed_bytes, 0);
    // Creating it asked the pager for nothing.
    assert!(port_is_empty(&p, port));
}

#[test]
fn a_resizable_pager_vmo_handle_also_has_resize() {
    let p = new_process();
    let (_, v, _) = paged(&p, 1, ZX_VMO_RESIZABLE);
    assert_eq!(rights(&p, v), ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
    assert_ne!(vmo_info(&p, v).flags & ZX_INFO_VMO_RESIZABLE, 0);
}

#[test]
fn a_non_resizable_pager_vmo_refuses_set_size() {
    let p = new_process();
    let (_, v, _) = paged(&p, 1, 0);
    assert_eq!(p.zx_vmo_set_size(v, 2 * P), ZX_ERR_UNAVAILABLE);
    assert_eq!(vmo_size(&p, v), P);
}

#[test]
fn a_pager_vmo_of_size_zero_is_made() {
    let p = new_process();
    let (_, v, port) = paged(&p, 0, 0);
    assert_eq!(vmo_size(&p, v), 0);
    assert!(port_is_empty(&p, port));
}

// --- zx_pager_detach_vmo

#[test]
fn detach_with_no_pager_or_no_vmo_handle_is_bad_handle() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    assert_eq!(p.zx_pager_detach_vmo(0, v), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_pager_detach_vmo(pg, 0), ZX_ERR_BAD_HANDLE);
}

#[test]
fn detach_with_swapped_handles_is_wrong_type() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    assert_eq!(p.zx_pager_detach_vmo(v, v), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_pager_detach_vmo(pg, pg), ZX_ERR_WRONG_TYPE);
}

#[test]
fn detach_of_a_vmo_that_is_not_pager_backed_is_invalid_args() {
    let p = new_process();
    let pg = pager(&p);
    let plain = vmo(&p, PAGE);
    assert_eq!(p.zx_pager_detach_vmo(pg, plain), ZX_ERR_INVALID_ARGS);
}

#[test]
fn detach_through_another_pager_is_invalid_args_and_leaves_the_vmo_attached() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    let other = pager(&p);
    assert_eq!(p.zx_pager_detach_vmo(other, v), ZX_ERR_INVALID_ARGS);
    assert!(port_is_empty(&p, port));
    // Still attached: the right pager can supply it.
    let a = aux(&p, 1, 0x11);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
}

#[test]
fn detach_needs_attach_vmo_on_the_pager() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let weak = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_ATTACH_VMO);
    assert_eq!(p.zx_pager_detach_vmo(weak, v), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn detach_needs_manage_vmo_on_the_pager_and_write_on_the_vmo() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    let weak = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_MANAGE_VMO);
    assert_eq!(p.zx_pager_detach_vmo(weak, v), ZX_ERR_ACCESS_DENIED);
    let read_only = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_WRITE);
    assert_eq!(p.zx_pager_detach_vmo(pg, read_only), ZX_ERR_ACCESS_DENIED);
    // Still attached: no COMPLETE packet was sent, and a supply still lands.
    assert!(port_is_empty(&p, port));
    let a = aux(&p, 1, 3);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
}

#[test]
fn supply_and_op_range_need_write_and_the_queries_read_on_the_pager_vmo() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 4);
    let read_only = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_WRITE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, read_only, 0, P, a, 0),
        ZX_ERR_ACCESS_DENIED
    );
    // The refused supply moved nothing out of the aux VMO.
    assert_eq!(committed(&p, a), P);
    assert_eq!(
        p.zx_pager_op_range(
            pg,
            ZX_PAGER_OP_FAIL,
            read_only,
            0,
            P,
            ZX_ERR_IO as i64 as u64
        ),
        ZX_ERR_ACCESS_DENIED
    );
    let write_only = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_READ);
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, write_only, 0, P, 0, 0, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, write_only, 0, out(&p, BUF), 64),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, read_only, 0, out(&p, BUF), 64),
        ZX_OK
    );
}

#[test]
fn detach_sends_complete_with_the_key_once_and_a_second_detach_is_ok() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
    let at = out(&p, BUF);
    assert_eq!(p.zx_port_wait(port, 0, at), ZX_OK);
    let packet = PortPacketRecord::read_from(&read_vec(&p, at, PortPacketRecord::SIZE));
    assert_eq!(packet.key, 5);
    assert_eq!(packet.packet_type, ZX_PKT_TYPE_PAGE_REQUEST);
    assert_eq!(packet.status, ZX_OK);
    let request = packet.page_request().unwrap();
    assert_eq!(request.command, ZX_PAGER_VMO_COMPLETE);
    assert_eq!((request.flags, request.offset, request.length), (0, 0, 0));
    assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
    assert!(port_is_empty(&p, port));
}

#[test]
fn a_detached_vmo_keeps_its_supplied_pages_and_refuses_absent_ones_at_once() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 2, 0);
    let a = aux(&p, 1, 0x42);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
    assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 8), vec![0x42; 8]);
    // The absent page would need the pager: refused, no request sent.
    assert_eq!(p.zx_vmo_read(v, out(&p, BUF), P, 8), ZX_ERR_BAD_STATE);
    assert_eq!(p.zx_port_wait(port, 0, out(&p, BUF)), ZX_OK); // the COMPLETE packet
    assert!(port_is_empty(&p, port));
}

// --- zx_pager_supply_pages

#[test]
fn supply_with_any_missing_handle_is_bad_handle() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    assert_eq!(p.zx_pager_supply_pages(0, v, 0, 0, a, 0), ZX_ERR_BAD_HANDLE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, 0, 0, 0, a, 0),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 0, 0, 0),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn supply_with_a_handle_of_the_wrong_type_is_wrong_type() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    assert_eq!(p.zx_pager_supply_pages(v, v, 0, 0, a, 0), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, pg, 0, 0, a, 0),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 0, port, 0),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn supply_to_a_vmo_that_is_not_pager_backed_is_invalid_args() {
    let p = new_process();
    let pg = pager(&p);
    let a = aux(&p, 1, 1);
    assert_eq!(
        p.zx_pager_supply_pages(pg, a, 0, 0, a, 0),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn supply_through_another_pager_is_invalid_args_before_the_aux_is_looked_at() {
    let p = new_process();
    let (_, v, _) = paged(&p, 1, 0);
    let other = pager(&p);
    assert_eq!(
        p.zx_pager_supply_pages(other, v, 0, 0, 0, 0),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn supply_needs_read_and_write_on_the_aux_vmo() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    let ro = dup(&p, a, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_WRITE);
    let wo = dup(&p, a, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_READ);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, P, ro, 0),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, P, wo, 0),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(committed(&p, a), P);
}

#[test]
fn supply_needs_manage_vmo_on_the_pager() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    let weak = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_MANAGE_VMO);
    assert_eq!(
        p.zx_pager_supply_pages(weak, v, 0, P, a, 0),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn supply_with_an_unaligned_offset_length_or_aux_offset_is_invalid_args() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 2, 0);
    let a = aux(&p, 2, 1);
    for (offset, length, aux_offset) in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (P, P + 7, 0)] {
        assert_eq!(
            p.zx_pager_supply_pages(pg, v, offset, length, a, aux_offset),
            ZX_ERR_INVALID_ARGS,
            "{offset} {length} {aux_offset}"
        );
    }
    assert_eq!(committed(&p, a), 2 * P);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn supply_from_an_aux_vmo_with_a_pinned_page_is_bad_state() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 9);
    let desc = out(&p, BUF);
    let o = out(&p, OUT2);
    assert_eq!(
        p.zx_iommu_create(p.root_resource(), ZX_IOMMU_TYPE_DUMMY, desc, 1, o),
        ZX_OK
    );
    let iommu = read_u32(&p, o);
    assert_eq!(p.zx_bti_create(iommu, 0, 1, o), ZX_OK);
    let bti = read_u32(&p, o);
    let addrs = out(&p, BUF + 64);
    assert_eq!(
        p.zx_bti_pin(bti, ZX_BTI_PERM_READ, a, 0, P, addrs, 1, o),
        ZX_OK
    );
    let pmt = read_u32(&p, o);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_ERR_BAD_STATE);
    assert_eq!(committed(&p, v), 0);
    assert_eq!(p.zx_pmt_unpin(pmt), ZX_OK);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
}

#[test]
fn supply_past_the_end_of_the_pager_vmo_or_the_aux_vmo_is_out_of_range() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, P, P, a, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, P, a, P),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 2 * P, a, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(committed(&p, a), P);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn supply_of_length_zero_is_ok_and_moves_nothing() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, 0, a, 0), ZX_OK);
    assert_eq!(committed(&p, a), P);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn supply_moves_the_pages_out_of_the_aux_vmo_which_then_reads_zeros() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 2, 0);
    let a = aux(&p, 2, 0xcc);
    let mapped = map(&p, p.zx_vmar_root_self(), RW, 0, a, 0, 2 * PAGE);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, 2 * P, a, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 4), vec![0xcc; 4]);
    assert_eq!(vmo_read(&p, v, P + 100, 4), vec![0xcc; 4]);
    assert_eq!(committed(&p, a), 0);
    assert_eq!(read_vec(&p, mapped, 8), vec![0; 8]);
    assert_eq!(vmo_read(&p, a, 0, 8), vec![0; 8]);
}

#[test]
fn supply_of_uncommitted_aux_pages_supplies_zeros() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    let empty = vmo(&p, PAGE);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, empty, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 16), vec![0; 16]);
    assert!(port_is_empty(&p, port));
}

#[test]
fn supply_over_a_partly_supplied_range_keeps_the_pages_already_there() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 3, 0);
    let first = aux(&p, 2, 0x01);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, 2 * P, first, 0), ZX_OK);
    let second = aux(&p, 2, 0x02);
    assert_eq!(p.zx_pager_supply_pages(pg, v, P, 2 * P, second, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 1), [0x01]);
    assert_eq!(vmo_read(&p, v, P, 1), [0x01]);
    assert_eq!(vmo_read(&p, v, 2 * P, 1), [0x02]);
    assert_eq!(committed(&p, v), 3 * P);
}

// --- zx_pager_op_range

#[test]
fn op_range_with_an_unknown_op_is_not_supported() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    for op in [0, 5, 6, 100, u32::MAX] {
        assert_eq!(
            p.zx_pager_op_range(pg, op, v, 0, P, 0),
            ZX_ERR_NOT_SUPPORTED,
            "op {op}"
        );
    }
}

#[test]
fn op_range_checks_the_pager_then_the_vmo() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let plain = vmo(&p, PAGE);
    let other = pager(&p);
    let weak = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_MANAGE_VMO);
    let fail = ZX_PAGER_OP_FAIL;
    let io = ZX_ERR_IO as i64 as u64;
    assert_eq!(p.zx_pager_op_range(0, fail, v, 0, P, io), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_pager_op_range(v, fail, v, 0, P, io), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        p.zx_pager_op_range(weak, fail, v, 0, P, io),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_pager_op_range(pg, fail, 0, 0, P, io),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_pager_op_range(pg, fail, pg, 0, P, io),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        p.zx_pager_op_range(pg, fail, plain, 0, P, io),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_op_range(other, fail, v, 0, P, io),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn fail_refuses_every_status_but_the_five_the_abi_allows() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let refused = [
        ZX_OK,
        ZX_ERR_INTERNAL,
        ZX_ERR_NOT_FOUND,
        ZX_ERR_TIMED_OUT,
        ZX_ERR_NO_MEMORY,
        ZX_ERR_IO_REFUSED,
        ZX_ERR_ACCESS_DENIED,
        1,
        i32::MIN,
    ];
    for status in refused {
        let data = status as i64 as u64;
        assert_eq!(
            p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, 0, P, data),
            ZX_ERR_INVALID_ARGS,
            "status {status}"
        );
    }
    // A 64-bit value that is no sign-extended status either.
    let wide = (ZX_ERR_IO as u32) as u64;
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, 0, P, wide),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn fail_with_each_allowed_status_and_nothing_waiting_is_ok() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    for status in [
        ZX_ERR_IO,
        ZX_ERR_IO_DATA_INTEGRITY,
        ZX_ERR_BAD_STATE,
        ZX_ERR_NO_SPACE,
        ZX_ERR_BUFFER_TOO_SMALL,
    ] {
        let data = status as i64 as u64;
        assert_eq!(
            p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, 0, P, data),
            ZX_OK,
            "status {status}"
        );
    }
    assert!(port_is_empty(&p, port));
    // Failing is not fatal: the page can still be supplied.
    let a = aux(&p, 1, 3);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
    assert_eq!(vmo_read(&p, v, 0, 1), [3]);
}

#[test]
fn op_range_with_an_unaligned_range_is_invalid_args_and_past_the_end_out_of_range() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 2, 0);
    let io = ZX_ERR_IO as i64 as u64;
    for op in [
        ZX_PAGER_OP_FAIL,
        ZX_PAGER_OP_DIRTY,
        ZX_PAGER_OP_WRITEBACK_BEGIN,
        ZX_PAGER_OP_WRITEBACK_END,
    ] {
        let data = if op == ZX_PAGER_OP_FAIL { io } else { 0 };
        assert_eq!(
            p.zx_pager_op_range(pg, op, v, 1, P, data),
            ZX_ERR_INVALID_ARGS,
            "op {op}"
        );
        assert_eq!(
            p.zx_pager_op_range(pg, op, v, 0, P + 1, data),
            ZX_ERR_INVALID_ARGS,
            "op {op}"
        );
        assert_eq!(
            p.zx_pager_op_range(pg, op, v, P, 2 * P, data),
            ZX_ERR_OUT_OF_RANGE,
            "op {op}"
        );
    }
}

#[test]
fn writeback_begin_takes_only_zero_or_the_range_is_zero_flag() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let op = ZX_PAGER_OP_WRITEBACK_BEGIN;
    for data in [2, 3, 1 << 32, u64::MAX] {
        assert_eq!(
            p.zx_pager_op_range(pg, op, v, 0, P, data),
            ZX_ERR_INVALID_ARGS,
            "data {data}"
        );
    }
    assert_eq!(p.zx_pager_op_range(pg, op, v, 0, P, 0), ZX_OK);
    assert_eq!(
        p.zx_pager_op_range(pg, op, v, 0, P, ZX_VMO_DIRTY_RANGE_IS_ZERO),
        ZX_OK
    );
}

#[test]
fn dirty_over_a_page_never_supplied_is_not_found() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 2, ZX_VMO_TRAP_DIRTY);
    let a = aux(&p, 1, 1);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_DIRTY, v, 0, 2 * P, 0),
        ZX_ERR_NOT_FOUND
    );
}

#[test]
fn dirty_on_a_detached_vmo_is_bad_state() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, ZX_VMO_TRAP_DIRTY);
    let a = aux(&p, 1, 1);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
    assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_DIRTY, v, 0, P, 0),
        ZX_ERR_BAD_STATE
    );
}

// --- zx_pager_query_dirty_ranges and zx_pager_query_vmo_stats

#[test]
fn query_dirty_ranges_checks_handles_range_and_pointers() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 2, 0);
    let plain = vmo(&p, PAGE);
    let weak = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_MANAGE_VMO);
    let (buf, actual, avail) = (out(&p, BUF), out(&p, OUT0), out(&p, OUT1));
    let q = |pager, vmo, offset, length, buf, size, actual, avail| {
        p.zx_pager_query_dirty_ranges(pager, vmo, offset, length, buf, size, actual, avail)
    };
    assert_eq!(q(0, v, 0, P, buf, 24, actual, avail), ZX_ERR_BAD_HANDLE);
    assert_eq!(
        q(weak, v, 0, P, buf, 24, actual, avail),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        q(pg, plain, 0, P, buf, 24, actual, avail),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        q(pg, v, P, 2 * P, buf, 24, actual, avail),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        q(pg, v, 0, u64::MAX, buf, 24, actual, avail),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        q(pg, v, 0, P, buf, 24, UNMAPPED, avail),
        ZX_ERR_INVALID_ARGS
    );
    // A clean VMO: no runs, both counts 0, optional pointers may be 0.
    write_u64(&p, actual, u64::MAX);
    write_u64(&p, avail, u64::MAX);
    assert_eq!(q(pg, v, 0, 2 * P, buf, 24, actual, avail), ZX_OK);
    assert_eq!((read_usize(&p, actual), read_usize(&p, avail)), (0, 0));
    assert_eq!(q(pg, v, 0, 2 * P, 0, 0, 0, 0), ZX_OK);
}

#[test]
fn query_vmo_stats_checks_options_buffer_size_and_pointer() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let plain = vmo(&p, PAGE);
    let buf = out(&p, BUF);
    assert_eq!(
        p.zx_pager_query_vmo_stats(0, v, 0, buf, 4),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, plain, 0, buf, 4),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, v, 2, buf, 4),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, v, 0, buf, 3),
        ZX_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, v, 0, UNMAPPED, 4),
        ZX_ERR_INVALID_ARGS
    );
    write_u64(&p, buf, u64::MAX);
    assert_eq!(p.zx_pager_query_vmo_stats(pg, v, 0, buf, 4), ZX_OK);
    assert_eq!(read_u32(&p, buf), 0);
}

#[test]
fn a_supplied_page_is_not_a_modification() {
    let p = new_process();
    let (pg, v, _) = paged(&p, 1, 0);
    let a = aux(&p, 1, 1);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, P, a, 0), ZX_OK);
    let buf = out(&p, BUF);
    assert_eq!(p.zx_pager_query_vmo_stats(pg, v, 0, buf, 4), ZX_OK);
    assert_eq!(read_u32(&p, buf), 0);
    vmo_write(&p, v, 0, &[9]);
    assert_eq!(
        p.zx_pager_query_vmo_stats(pg, v, ZX_PAGER_RESET_VMO_STATS, buf, 4),
        ZX_OK
    );
    assert_eq!(read_u32(&p, buf), ZX_PAGER_VMO_STATS_MODIFIED);
    assert_eq!(p.zx_pager_query_vmo_stats(pg, v, 0, buf, 4), ZX_OK);
    assert_eq!(read_u32(&p, buf), 0);
}

#[test]
fn pager_calls_work_through_dispatch() {
    let p = new_process();
    let s = p.scratch();
    assert_eq!(p.dispatch(SYS_PORT_CREATE, [0, s, 0, 0, 0, 0, 0, 0]), ZX_OK);
    let port = read_u32(&p, s) as usize;
    let number = |name| Syscall::by_name(name).expect(name).number;
    assert_eq!(
        p.dispatch(number("zx_pager_create"), [0, s, 0, 0, 0, 0, 0, 0]),
        ZX_OK
    );
    let pg = read_u32(&p, s) as usize;
    let create_vmo = number("zx_pager_create_vmo");
    assert_eq!(
        p.dispatch(create_vmo, [pg, 0, port, 9, PAGE, s, 0, 0]),
        ZX_OK
    );
    let v = read_u32(&p, s) as usize;
    assert_eq!(
        p.dispatch(number("zx_pager_detach_vmo"), [pg, v, 0, 0, 0, 0, 0, 0]),
        ZX_OK
    );
}
