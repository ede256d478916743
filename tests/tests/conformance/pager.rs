//! Pagers (docs/ABI.md, "Pagers"): `zx_pager_create`, `zx_pager_create_vmo`,
//! `zx_pager_detach_vmo`, `zx_pager_supply_pages`, `zx_pager_op_range`,
//! `zx_pager_query_dirty_ranges`, `zx_pager_query_vmo_stats`, and what reads,
//! writes and faults of a pager-backed VMO do. A pager thread serves the port
//! while the test's own thread blocks.

use crate::helpers::*;
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use zircon_object::ipc::{PacketPayload, PageRequestCommand, PageRequestPacket, Port};

/// A port handle in `p` (from `zx_port_create`), and the port object behind it, to
/// serve it from another thread.
fn port(p: &TestProcess) -> (u32, Arc<Port>) {
    assert_eq!(p.zx_port_create(0, out(p, OUT3)), ZX_OK);
    let h = read_u32(p, out(p, OUT3));
    let (port, _) = p.object().get_object::<Port>(h, 0).unwrap();
    (h, port)
}

/// A new pager handle.
fn pager(p: &TestProcess) -> u32 {
    assert_eq!(p.zx_pager_create(0, out(p, OUT0)), ZX_OK);
    read_u32(p, out(p, OUT0))
}

/// A pager, a port, and a pager-backed VMO of `pages` pages with key 7.
fn paged(p: &TestProcess, pages: usize, options: u32) -> (u32, u32, u32, Arc<Port>) {
    let pg = pager(p);
    let (port_h, port) = port(p);
    let size = (pages * PAGE) as u64;
    assert_eq!(
        p.zx_pager_create_vmo(pg, options, port_h, 7, size, out(p, OUT1)),
        ZX_OK
    );
    (pg, read_u32(p, out(p, OUT1)), port_h, port)
}

/// The byte the test pager serves at `offset`.
fn pattern(offset: usize) -> u8 {
    (offset / PAGE * 13 + offset % 253) as u8
}

/// A fresh VMO holding the pattern of `[offset, offset + len)`.
fn aux_with_pattern(p: &TestProcess, offset: usize, len: usize) -> u32 {
    let aux = vmo(p, len);
    let data: Vec<u8> = (offset..offset + len).map(pattern).collect();
    vmo_write(p, aux, 0, &data);
    aux
}

/// The next packet's page request on `port` of `p` (within five seconds).
fn next_request(p: &TestProcess, port: &Port) -> (u64, PageRequestPacket) {
    let deadline = p.object().aspace().hal().monotonic_ns() + 5_000_000_000;
    let packet = port.wait(deadline).expect("a page request arrives");
    match packet.payload {
        PacketPayload::PageRequest(request) => (packet.key, request),
        other => panic!("not a page request: {other:?}"),
    }
}

/// Serves `count` requests on `port` from another thread: READ with the
/// pattern (through a fresh aux VMO), DIRTY with `ZX_PAGER_OP_DIRTY`. Returns the
/// requests seen.
fn serve(
    p: &TestProcess,
    pg: u32,
    v: u32,
    port: &Port,
    count: usize,
) -> Vec<(u64, PageRequestPacket)> {
    let mut seen = Vec::new();
    for _ in 0..count {
        let (key, request) = next_request(p, port);
        match request.command {
            PageRequestCommand::Read => {
                let aux = aux_with_pattern(p, request.offset as usize, request.length as usize);
                assert_eq!(
                    p.zx_pager_supply_pages(pg, v, request.offset, request.length, aux, 0),
                    ZX_OK
                );
                assert_eq!(p.zx_handle_close(aux), ZX_OK);
            }
            PageRequestCommand::Dirty => assert_eq!(
                p.zx_pager_op_range(pg, ZX_PAGER_OP_DIRTY, v, request.offset, request.length, 0),
                ZX_OK
            ),
            PageRequestCommand::Complete => {}
        }
        seen.push((key, request));
    }
    seen
}

fn request(command: PageRequestCommand, offset: usize, length: usize) -> PageRequestPacket {
    PageRequestPacket {
        command,
        offset: offset as u64,
        length: length as u64,
    }
}

/// Reads `len` bytes of VMO `v` at `offset` through `zx_vmo_read` into the
/// buffer area; the status, and the bytes on success.
fn try_read(p: &TestProcess, v: u32, offset: u64, len: usize) -> (i32, Vec<u8>) {
    let status = p.zx_vmo_read(v, out(p, BUF), offset, len);
    let bytes = if status == ZX_OK {
        read_vec(p, out(p, BUF), len)
    } else {
        Vec::new()
    };
    (status, bytes)
}

#[test]
fn pager_create_gives_a_pager_handle_with_the_default_rights() {
    let p = new_process();
    let pg = pager(&p);
    let info = basic(&p, pg);
    assert_eq!(info.obj_type, ZX_OBJ_TYPE_PAGER);
    assert_eq!(info.rights, ZX_DEFAULT_PAGER_RIGHTS);
}

#[test]
fn pager_create_with_any_option_is_invalid_args() {
    let p = new_process();
    for options in [1, 2, 0x8000_0000] {
        assert_eq!(
            p.zx_pager_create(options, out(&p, OUT0)),
            ZX_ERR_INVALID_ARGS
        );
    }
    assert_eq!(p.zx_pager_create(0, UNMAPPED), ZX_ERR_INVALID_ARGS);
}

#[test]
fn create_vmo_makes_a_pager_backed_vmo_with_vmo_rights() {
    let p = new_process();
    let (_, v, _, _) = paged(&p, 3, 0);
    assert_eq!(basic(&p, v).obj_type, ZX_OBJ_TYPE_VMO);
    assert_eq!(rights(&p, v), ZX_DEFAULT_VMO_RIGHTS);
    let info = vmo_info(&p, v);
    assert_ne!(info.flags & ZX_INFO_VMO_PAGER_BACKED, 0);
    assert_eq!(info.size_bytes, 3 * PAGE as u64);
    assert_eq!(info.committed_bytes, 0);
    let (_, r, _, _) = paged(&p, 1, ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY);
    assert_eq!(rights(&p, r), ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
    assert_ne!(vmo_info(&p, r).flags & ZX_INFO_VMO_RESIZABLE, 0);
}

#[test]
fn create_vmo_checks_the_pager_then_the_port_then_the_options() {
    let p = new_process();
    let pg = pager(&p);
    let (port_h, _port) = port(&p);
    let plain = vmo(&p, PAGE);
    let o = out(&p, OUT1);
    assert_eq!(
        p.zx_pager_create_vmo(12345, 0, port_h, 0, 4096, o),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_pager_create_vmo(plain, 0, port_h, 0, 4096, o),
        ZX_ERR_WRONG_TYPE
    );
    let no_attach = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_ATTACH_VMO);
    assert_eq!(
        p.zx_pager_create_vmo(no_attach, 0, port_h, 0, 4096, o),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, 12345, 0, 4096, o),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, plain, 0, 4096, o),
        ZX_ERR_WRONG_TYPE
    );
    let read_only_port = dup(&p, port_h, ZX_RIGHT_READ | ZX_RIGHT_TRANSFER);
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, read_only_port, 0, 4096, o),
        ZX_ERR_ACCESS_DENIED
    );
    for options in [ZX_VMO_DISCARDABLE, 1 << 7, 0x8000_0000] {
        assert_eq!(
            p.zx_pager_create_vmo(pg, options, port_h, 0, 4096, o),
            ZX_ERR_INVALID_ARGS
        );
    }
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, port_h, 0, u64::MAX, o),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_create_vmo(pg, 0, port_h, 0, 4096, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn a_vmo_read_blocks_until_the_pager_supplies_the_range() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 4, 0);
    let seen = thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        let (status, bytes) = try_read(&p, v, PAGE as u64 + 100, 2 * PAGE);
        assert_eq!(status, ZX_OK);
        let want: Vec<u8> = (PAGE + 100..3 * PAGE + 100).map(pattern).collect();
        assert_eq!(bytes, want);
        server.join().unwrap()
    });
    assert_eq!(
        seen,
        [(7, request(PageRequestCommand::Read, PAGE, 3 * PAGE))]
    );
    assert_eq!(committed(&p, v), 3 * PAGE as u64);
    assert_eq!(port.queued(), 0, "one request, not two");
}

#[test]
fn a_store_through_a_pointer_blocks_in_the_fault_until_supplied() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, 0);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 2 * PAGE);
    thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        // SAFETY: `a` starts a live 2-page read-write mapping; the fault handler
        // blocks this thread until the pager thread supplies the page.
        let byte = unsafe { ((a + PAGE + 3) as *const u8).read_volatile() };
        assert_eq!(byte, pattern(PAGE + 3));
        // SAFETY: as above; the page is present now, the store dirties it.
        unsafe { ((a + PAGE + 3) as *mut u8).write_volatile(0xAB) };
        server.join().unwrap();
    });
    assert_eq!(vmo_read(&p, v, PAGE as u64 + 3, 1), [0xAB]);
}

#[test]
fn supply_to_a_detached_vmo_is_bad_state_and_the_aux_keeps_its_pages() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 2, 0);
    assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, aux, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(committed(&p, aux), PAGE as u64);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn supplying_a_range_twice_keeps_the_first_pages_and_frees_the_second() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 2, 0);
    let first = aux_with_pattern(&p, 0, 2 * PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 2 * PAGE as u64, first, 0),
        ZX_OK
    );
    assert_eq!(committed(&p, first), 0, "the aux range is decommitted");
    let second = vmo(&p, 2 * PAGE);
    vmo_write(&p, second, 0, &[0xEE; 2 * PAGE]);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 2 * PAGE as u64, second, 0),
        ZX_OK
    );
    assert_eq!(committed(&p, second), 0);
    let want: Vec<u8> = (0..2 * PAGE).map(pattern).collect();
    assert_eq!(vmo_read(&p, v, 0, 2 * PAGE), want);
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
}

#[test]
fn supply_from_a_pager_backed_aux_vmo_is_bad_state() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 1, 0);
    let (pg2, other, _, _port2) = paged(&p, 1, 0);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg2, other, 0, PAGE as u64, aux, 0),
        ZX_OK
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, other, 0),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(committed(&p, other), PAGE as u64, "nothing moved");
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn supply_from_a_too_small_aux_vmo_is_out_of_range() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 4, 0);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 2 * PAGE as u64, aux, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, aux, PAGE as u64),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 4 * PAGE as u64, PAGE as u64, aux, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(committed(&p, aux), PAGE as u64);
    assert_eq!(committed(&p, v), 0);
}

#[test]
fn supply_checks_alignment_rights_and_ownership() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 2, 0);
    let aux = aux_with_pattern(&p, 0, 2 * PAGE);
    let page = PAGE as u64;
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 1, page, aux, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 1, aux, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, page, aux, 1),
        ZX_ERR_INVALID_ARGS
    );
    let aux_ro = dup(&p, aux, ZX_RIGHT_READ);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, page, aux_ro, 0),
        ZX_ERR_ACCESS_DENIED
    );
    let other = pager(&p);
    assert_eq!(
        p.zx_pager_supply_pages(other, v, 0, page, aux, 0),
        ZX_ERR_INVALID_ARGS
    );
    let plain = vmo(&p, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, plain, 0, page, aux, 0),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_supply_pages(v, v, 0, page, aux, 0),
        ZX_ERR_WRONG_TYPE
    );
    let no_manage = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_MANAGE_VMO);
    assert_eq!(
        p.zx_pager_supply_pages(no_manage, v, 0, page, aux, 0),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(committed(&p, aux), 2 * page, "nothing moved");
}

#[test]
fn fail_with_each_allowed_status_fails_the_waiting_read_with_it() {
    for status in [
        ZX_ERR_IO,
        ZX_ERR_IO_DATA_INTEGRITY,
        ZX_ERR_BAD_STATE,
        ZX_ERR_NO_SPACE,
        ZX_ERR_BUFFER_TOO_SMALL,
    ] {
        let p = new_process();
        let (pg, v, _, port) = paged(&p, 2, 0);
        thread::scope(|s| {
            let server = s.spawn(|| {
                let (_, request) = next_request(&p, &port);
                let data = status as i64 as u64;
                assert_eq!(
                    p.zx_pager_op_range(
                        pg,
                        ZX_PAGER_OP_FAIL,
                        v,
                        request.offset,
                        request.length,
                        data
                    ),
                    ZX_OK
                );
            });
            assert_eq!(try_read(&p, v, 0, 8).0, status);
            server.join().unwrap();
        });
        assert_eq!(committed(&p, v), 0);
    }
}

#[test]
fn fail_with_a_status_the_abi_does_not_allow_is_invalid_args() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 1, 0);
    let page = PAGE as u64;
    for data in [
        0u64,
        1,
        ZX_ERR_NO_MEMORY as i64 as u64,
        ZX_ERR_INVALID_ARGS as i64 as u64,
        ZX_ERR_IO as u32 as u64,
        u64::MAX / 2,
    ] {
        assert_eq!(
            p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, 0, page, data),
            ZX_ERR_INVALID_ARGS,
            "data {data:#x}"
        );
    }
}

#[test]
fn op_range_checks_its_op_alignment_and_range() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 2, 0);
    let page = PAGE as u64;
    assert_eq!(
        p.zx_pager_op_range(pg, 99, v, 0, page, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_pager_op_range(pg, 0, v, 0, page, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    let io = ZX_ERR_IO as i64 as u64;
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, 1, page, io),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, page, 2 * page, io),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_DIRTY, v, 0, page, 0),
        ZX_ERR_NOT_FOUND
    );
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_WRITEBACK_BEGIN, v, 0, page, 2),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_pager_op_range(
            pg,
            ZX_PAGER_OP_WRITEBACK_BEGIN,
            v,
            0,
            page,
            ZX_VMO_DIRTY_RANGE_IS_ZERO
        ),
        ZX_OK
    );
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_WRITEBACK_END, v, 0, page, 0),
        ZX_OK
    );
    let plain = vmo(&p, PAGE);
    assert_eq!(
        p.zx_pager_op_range(pg, ZX_PAGER_OP_WRITEBACK_END, plain, 0, page, 0),
        ZX_ERR_INVALID_ARGS
    );
}

/// The dirty ranges of `v` in `[offset, offset + len)` as `(offset, length)`.
fn dirty(p: &TestProcess, pg: u32, v: u32, offset: u64, len: u64) -> Vec<(u64, u64)> {
    let buf = out(p, BUF);
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, offset, len, buf, 8 * 24, out(p, OUT2), out(p, OUT3)),
        ZX_OK
    );
    let actual = read_usize(p, out(p, OUT2));
    assert_eq!(read_usize(p, out(p, OUT3)), actual);
    (0..actual)
        .map(|i| {
            let r = DirtyRange::read_from(&read_vec(p, buf + i * 24, 24));
            assert_eq!(r.options, 0);
            (r.offset, r.length)
        })
        .collect()
}

#[test]
fn writes_dirty_pages_and_writeback_cleans_them() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 4, 0);
    let page = PAGE as u64;
    let aux = aux_with_pattern(&p, 0, 4 * PAGE);
    assert_eq!(p.zx_pager_supply_pages(pg, v, 0, 4 * page, aux, 0), ZX_OK);
    assert_eq!(dirty(&p, pg, v, 0, 4 * page), []);
    vmo_write(&p, v, page + 5, &[1, 2, 3]);
    vmo_write(&p, v, 2 * page, &[4]);
    assert_eq!(dirty(&p, pg, v, 0, 4 * page), [(page, 2 * page)]);
    // The query widens its range to whole pages.
    assert_eq!(dirty(&p, pg, v, 2 * page + 1, 1), [(2 * page, page)]);
    let begin = |off, len| p.zx_pager_op_range(pg, ZX_PAGER_OP_WRITEBACK_BEGIN, v, off, len, 0);
    let end = |off, len| p.zx_pager_op_range(pg, ZX_PAGER_OP_WRITEBACK_END, v, off, len, 0);
    assert_eq!(begin(0, 4 * page), ZX_OK);
    assert_eq!(
        dirty(&p, pg, v, 0, 4 * page),
        [(page, 2 * page)],
        "still dirty until the end"
    );
    vmo_write(&p, v, 2 * page + 9, &[5]);
    assert_eq!(end(0, 4 * page), ZX_OK);
    assert_eq!(
        dirty(&p, pg, v, 0, 4 * page),
        [(2 * page, page)],
        "the page written again stays"
    );
    assert_eq!(begin(2 * page, page), ZX_OK);
    assert_eq!(end(2 * page, page), ZX_OK);
    assert_eq!(dirty(&p, pg, v, 0, 4 * page), []);
    assert_eq!(vmo_read(&p, v, page + 5, 3), [1, 2, 3]);
}

#[test]
fn query_dirty_ranges_reports_what_fits_and_how_many_there_are() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 8, 0);
    let aux = aux_with_pattern(&p, 0, 8 * PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 8 * PAGE as u64, aux, 0),
        ZX_OK
    );
    for i in [0, 2, 4, 6] {
        vmo_write(&p, v, (i * PAGE) as u64, &[9]);
    }
    let (buf, actual, avail) = (out(&p, BUF), out(&p, OUT2), out(&p, OUT3));
    let size = 8 * PAGE as u64;
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, 0, size, buf, 2 * 24, actual, avail),
        ZX_OK
    );
    assert_eq!((read_usize(&p, actual), read_usize(&p, avail)), (2, 4));
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, 0, size, buf, 0, 0, avail),
        ZX_OK
    );
    assert_eq!(read_usize(&p, avail), 4);
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, 0, size + 1, buf, 24, actual, avail),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, u64::MAX, 2, buf, 24, actual, avail),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, 0, size, UNMAPPED, 24, actual, avail),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn vmo_stats_report_a_modification_once_when_reset() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 1, 0);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, aux, 0),
        ZX_OK
    );
    let buf = out(&p, BUF);
    let stats = |options| {
        assert_eq!(p.zx_pager_query_vmo_stats(pg, v, options, buf, 4), ZX_OK);
        read_u32(&p, buf)
    };
    assert_eq!(stats(ZX_PAGER_RESET_VMO_STATS), 0);
    vmo_write(&p, v, 0, &[1]);
    assert_eq!(stats(0), ZX_PAGER_VMO_STATS_MODIFIED);
    assert_eq!(stats(ZX_PAGER_RESET_VMO_STATS), ZX_PAGER_VMO_STATS_MODIFIED);
    assert_eq!(stats(0), 0);
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
}

#[test]
fn trap_dirty_sends_a_dirty_request_before_a_clean_page_is_written() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, ZX_VMO_TRAP_DIRTY);
    let seen = thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 2));
        assert_eq!(p.zx_vmo_write(v, out(&p, BUF), 10, 4), ZX_OK);
        server.join().unwrap()
    });
    let commands: Vec<_> = seen.iter().map(|(_, r)| r.command).collect();
    assert_eq!(
        commands,
        [PageRequestCommand::Read, PageRequestCommand::Dirty]
    );
    assert_eq!(dirty(&p, pg, v, 0, 2 * PAGE as u64), [(0, PAGE as u64)]);
}

#[test]
fn detach_fails_the_waiting_read_and_sends_complete_with_the_key() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, 0);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, aux, 0),
        ZX_OK
    );
    thread::scope(|s| {
        let detacher = s.spawn(|| {
            let (_, request) = next_request(&p, &port);
            assert_eq!(request, self::request(PageRequestCommand::Read, PAGE, PAGE));
            assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
        });
        assert_eq!(try_read(&p, v, PAGE as u64, 1).0, ZX_ERR_BAD_STATE);
        detacher.join().unwrap();
    });
    assert_eq!(
        next_request(&p, &port),
        (7, request(PageRequestCommand::Complete, 0, 0))
    );
    // Absent pages fail at once now; present ones stay readable.
    assert_eq!(try_read(&p, v, PAGE as u64, 1).0, ZX_ERR_BAD_STATE);
    assert_eq!(try_read(&p, v, 0, 1).1, [pattern(0)]);
    assert_eq!(
        p.zx_pager_detach_vmo(pg, v),
        ZX_OK,
        "a second detach is fine"
    );
    let plain = vmo(&p, PAGE);
    assert_eq!(p.zx_pager_detach_vmo(pg, plain), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_pager_detach_vmo(v, v), ZX_ERR_WRONG_TYPE);
    let no_attach = dup(&p, pg, ZX_DEFAULT_PAGER_RIGHTS & !ZX_RIGHT_ATTACH_VMO);
    assert_eq!(p.zx_pager_detach_vmo(no_attach, v), ZX_ERR_ACCESS_DENIED);
    assert_eq!(port.queued(), 0, "COMPLETE once");
}

#[test]
fn closing_the_pager_detaches_its_vmos_without_a_packet() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, 0);
    thread::scope(|s| {
        let closer = s.spawn(|| {
            let _ = next_request(&p, &port);
            assert_eq!(p.zx_handle_close(pg), ZX_OK);
        });
        assert_eq!(try_read(&p, v, 0, 1).0, ZX_ERR_BAD_STATE);
        closer.join().unwrap();
    });
    assert_eq!(try_read(&p, v, 0, 1).0, ZX_ERR_BAD_STATE);
    thread::sleep(Duration::from_millis(5));
    assert_eq!(port.queued(), 0);
}

#[test]
fn snapshots_of_a_pager_backed_vmo_read_through_the_pager_at_least_on_write() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, 0);
    let size = 2 * PAGE as u64;
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, size, out(&p, OUT2)),
        ZX_ERR_NOT_SUPPORTED
    );
    let o = out(&p, OUT2);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, size, o),
        ZX_OK
    );
    let child = read_u32(&p, o);
    thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        assert_eq!(
            try_read(&p, child, PAGE as u64, 2).1,
            [pattern(PAGE), pattern(PAGE + 1)]
        );
        server.join().unwrap();
    });
    vmo_write(&p, child, PAGE as u64, &[0xCC]);
    assert_eq!(
        vmo_read(&p, v, PAGE as u64, 1),
        [pattern(PAGE)],
        "the child's write is its own"
    );
    assert_eq!(vmo_read(&p, child, PAGE as u64, 1), [0xCC]);
    assert_eq!(dirty(&p, pg, v, 0, size), []);
    // A snapshot of the snapshot is not built.
    assert_eq!(
        p.zx_vmo_create_child(child, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, size, o),
        ZX_ERR_NOT_SUPPORTED
    );
}

#[test]
fn a_snapshot_modified_child_of_a_pager_backed_vmo_is_an_at_least_on_write_snapshot() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, 0);
    let size = 2 * PAGE as u64;
    let o = out(&p, OUT2);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, size, o),
        ZX_OK
    );
    let child = read_u32(&p, o);
    thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        assert_eq!(try_read(&p, child, 0, 1).1, [pattern(0)]);
        server.join().unwrap();
    });
    vmo_write(&p, child, 0, &[0xCC]);
    assert_eq!(
        vmo_read(&p, v, 0, 1),
        [pattern(0)],
        "the child's write is its own"
    );
    assert_eq!(vmo_read(&p, child, 0, 1), [0xCC]);
    assert_eq!(
        p.zx_vmo_create_child(child, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, size, o),
        ZX_ERR_NOT_SUPPORTED
    );
}

#[test]
fn a_resizable_pager_vmo_drops_pages_when_shrunk_and_grows_absent_pages() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 4, ZX_VMO_RESIZABLE);
    let aux = aux_with_pattern(&p, 0, 4 * PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, 4 * PAGE as u64, aux, 0),
        ZX_OK
    );
    assert_eq!(p.zx_vmo_set_size(v, 2 * PAGE as u64), ZX_OK);
    assert_eq!(committed(&p, v), 2 * PAGE as u64);
    assert_eq!(p.zx_vmo_set_size(v, 3 * PAGE as u64), ZX_OK);
    thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        assert_eq!(try_read(&p, v, 2 * PAGE as u64, 1).1, [pattern(2 * PAGE)]);
        let seen = server.join().unwrap();
        assert_eq!(seen[0].1, request(PageRequestCommand::Read, 2 * PAGE, PAGE));
    });
}

#[test]
fn decommit_and_zero_of_a_pager_backed_vmo_are_not_supported() {
    let p = new_process();
    let (pg, v, _, _port) = paged(&p, 1, 0);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, aux, 0),
        ZX_OK
    );
    let page = PAGE as u64;
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, page, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, page, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(vmo_read(&p, v, 0, 1), [pattern(0)]);
}

#[test]
fn a_request_supplied_before_the_pager_reads_it_leaves_no_packet() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 2, 0);
    thread::scope(|s| {
        let reader = s.spawn(|| {
            // Its own out-parameter area: the main thread uses the scratch area.
            let buf = p.thread_scratch();
            p.zx_vmo_read(v, buf, 0, 2 * PAGE)
        });
        while port.queued() == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        let aux = aux_with_pattern(&p, 0, 2 * PAGE);
        assert_eq!(
            p.zx_pager_supply_pages(pg, v, 0, 2 * PAGE as u64, aux, 0),
            ZX_OK
        );
        assert_eq!(reader.join().unwrap(), ZX_OK);
    });
    assert_eq!(
        port.queued(),
        0,
        "the answered request's packet was taken back"
    );
}

#[test]
fn a_pointer_store_to_a_clean_page_of_a_trap_dirty_vmo_waits_for_the_dirty_answer() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 1, ZX_VMO_TRAP_DIRTY);
    let aux = aux_with_pattern(&p, 0, PAGE);
    assert_eq!(
        p.zx_pager_supply_pages(pg, v, 0, PAGE as u64, aux, 0),
        ZX_OK
    );
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    let seen = thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        // SAFETY: `a` is a live one-page read-write mapping; the store faults, and
        // the fault handler blocks until the pager thread answers the dirty request.
        unsafe { ((a + 8) as *mut u8).write_volatile(0x77) };
        server.join().unwrap()
    });
    assert_eq!(seen, [(7, request(PageRequestCommand::Dirty, 0, PAGE))]);
    assert_eq!(vmo_read(&p, v, 8, 1), [0x77]);
    assert_eq!(dirty(&p, pg, v, 0, PAGE as u64), [(0, PAGE as u64)]);
}

#[test]
fn a_region_commit_waits_for_the_pager_without_holding_the_address_space() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 3, 0);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, 3 * PAGE);
    let seen = thread::scope(|s| {
        // The pager thread copies the data in from this process's own memory,
        // which needs the address space the committing thread is working on.
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        let root = p.zx_vmar_root_self();
        assert_eq!(
            p.zx_vmar_op_range(root, ZX_VMAR_OP_COMMIT, a, 3 * PAGE, 0, 0),
            ZX_OK
        );
        server.join().unwrap()
    });
    assert_eq!(seen, [(7, request(PageRequestCommand::Read, 0, 3 * PAGE))]);
    assert_eq!(committed(&p, v), 3 * PAGE as u64);
    assert_eq!(vmo_read(&p, v, 2 * PAGE as u64, 1), [pattern(2 * PAGE)]);
}

#[test]
fn a_small_kernel_copy_into_a_pager_backed_mapping_waits_without_holding_the_address_space() {
    let p = new_process();
    let (pg, v, _, port) = paged(&p, 1, 0);
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    let plain = vmo(&p, PAGE);
    vmo_write(&p, plain, 0, &[0x5A; 8]);
    thread::scope(|s| {
        // The pager thread copies its data in from this process's memory too.
        let server = s.spawn(|| serve(&p, pg, v, &port, 1));
        // An 8-byte zx_vmo_read whose buffer is in the pager-backed mapping.
        assert_eq!(p.zx_vmo_read(plain, a + 16, 0, 8), ZX_OK);
        server.join().unwrap();
    });
    assert_eq!(vmo_read(&p, v, 16, 8), [0x5A; 8]);
    assert_eq!(vmo_read(&p, v, 0, 1), [pattern(0)]);
    assert_eq!(dirty(&p, pg, v, 0, PAGE as u64), [(0, PAGE as u64)]);
}
