//! Page requests end to end through the syscalls only: a thread blocks in a call on
//! a pager-backed VMO while the test's thread reads the request with `zx_port_wait`
//! and answers it with `zx_pager_supply_pages` or `zx_pager_op_range`, or detaches
//! the VMO. Every case checks the packet field by field, the status the blocked
//! call ends with, and that no request is lost or sent twice (docs/ABI.md §17.4).

use crate::helpers::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const P: u64 = PAGE as u64;
const KEY: u64 = 0x1234;

/// A port, a pager and a pager-backed VMO of `pages` pages with key `KEY`:
/// `(pager, vmo, port)`.
fn paged(p: &TestProcess, pages: u64, options: u32) -> (u32, u32, u32) {
    let o = out(p, OUT0);
    assert_eq!(p.zx_port_create(0, o), ZX_OK);
    let port = read_u32(p, o);
    assert_eq!(p.zx_pager_create(0, o), ZX_OK);
    let pager = read_u32(p, o);
    assert_eq!(
        p.zx_pager_create_vmo(pager, options, port, KEY, pages * P, o),
        ZX_OK
    );
    (pager, read_u32(p, o), port)
}

/// The next packet on `port` (within five seconds).
fn next_packet(p: &TestProcess, port: u32) -> PortPacketRecord {
    let at = p.thread_scratch();
    let deadline = p.zx_clock_get_monotonic() + 5_000_000_000;
    assert_eq!(
        p.zx_port_wait(port, deadline, at),
        ZX_OK,
        "a packet arrives"
    );
    PortPacketRecord::read_from(&read_vec(p, at, PortPacketRecord::SIZE))
}

/// The next packet, checked to be a request of `command` with our key:
/// `(offset, length)`.
fn next_request(p: &TestProcess, port: u32, command: u16) -> (u64, u64) {
    let packet = next_packet(p, port);
    assert_eq!(packet.key, KEY);
    assert_eq!(packet.packet_type, ZX_PKT_TYPE_PAGE_REQUEST);
    assert_eq!(packet.status, ZX_OK);
    let request = packet.page_request().unwrap();
    assert_eq!(request.command, command);
    assert_eq!(request.flags, 0);
    (request.offset, request.length)
}

/// Whether nothing is queued on `port` right now.
fn quiet(p: &TestProcess, port: u32) -> bool {
    p.zx_port_wait(port, 0, p.thread_scratch()) == ZX_ERR_TIMED_OUT
}

/// Supplies `[offset, offset + length)` with `byte` in every byte.
fn supply(p: &TestProcess, pager: u32, v: u32, offset: u64, length: u64, byte: u8) {
    let o = p.thread_scratch();
    assert_eq!(p.zx_vmo_create(length, 0, o), ZX_OK);
    let aux = read_u32(p, o);
    let data = vec![byte; length as usize];
    let mut done = 0;
    while done < data.len() {
        let chunk = (data.len() - done).min(8 * PAGE);
        p.write_memory(o + PAGE, &data[done..done + chunk]).unwrap();
        assert_eq!(p.zx_vmo_write(aux, o + PAGE, done as u64, chunk), ZX_OK);
        done += chunk;
    }
    assert_eq!(
        p.zx_pager_supply_pages(pager, v, offset, length, aux, 0),
        ZX_OK
    );
    assert_eq!(p.zx_handle_close(aux), ZX_OK);
}

/// `zx_vmo_read` of `len` bytes at `offset` from the calling thread: the status and
/// the bytes.
fn read_in_thread(p: &TestProcess, v: u32, offset: u64, len: usize) -> (i32, Vec<u8>) {
    let at = p.thread_scratch();
    match p.zx_vmo_read(v, at, offset, len) {
        ZX_OK => (ZX_OK, read_vec(p, at, len)),
        status => (status, Vec::new()),
    }
}

/// Sleeps long enough for a thread that is going to block to be blocked, and for
/// a request that is going to come to have come.
fn settle() {
    std::thread::sleep(Duration::from_millis(30));
}

#[test]
fn a_read_of_an_absent_page_sends_one_request_covering_it_field_by_field() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 4, 0);
    std::thread::scope(|s| {
        let reader = s.spawn(|| read_in_thread(&p, v, 2 * P + 5, 10));
        let (offset, length) = next_request(&p, port, ZX_PAGER_VMO_READ);
        assert_eq!(offset % P, 0);
        assert_eq!(length % P, 0);
        assert!(offset <= 2 * P && offset + length >= 3 * P && offset + length <= 4 * P);
        supply(&p, pg, v, offset, length, 0xab);
        assert_eq!(reader.join().unwrap(), (ZX_OK, vec![0xab; 10]));
    });
    assert!(quiet(&p, port));
}

#[test]
fn each_allowed_fail_status_ends_the_waiting_commit_with_that_status() {
    for status in [
        ZX_ERR_IO,
        ZX_ERR_IO_DATA_INTEGRITY,
        ZX_ERR_BAD_STATE,
        ZX_ERR_NO_SPACE,
        ZX_ERR_BUFFER_TOO_SMALL,
    ] {
        let p = new_process();
        let (pg, v, port) = paged(&p, 2, 0);
        std::thread::scope(|s| {
            let commit = s.spawn(|| p.zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, 2 * P, 0, 0));
            let (offset, length) = next_request(&p, port, ZX_PAGER_VMO_READ);
            let data = status as i64 as u64;
            assert_eq!(
                p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, offset, length, data),
                ZX_OK
            );
            assert_eq!(commit.join().unwrap(), status, "status {status}");
        });
        assert_eq!(committed(&p, v), 0);
        assert!(quiet(&p, port));
    }
}

#[test]
fn a_fail_with_a_refused_status_leaves_the_read_waiting_and_loses_no_page() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let result = read_in_thread(&p, v, 0, 4);
            done.store(true, Ordering::Release);
            result
        });
        let (offset, length) = next_request(&p, port, ZX_PAGER_VMO_READ);
        let internal = ZX_ERR_INTERNAL as i64 as u64;
        assert_eq!(
            p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, offset, length, internal),
            ZX_ERR_INVALID_ARGS
        );
        settle();
        assert!(!done.load(Ordering::Acquire), "the read still waits");
        supply(&p, pg, v, offset, length, 0x77);
        assert_eq!(reader.join().unwrap(), (ZX_OK, vec![0x77; 4]));
    });
    assert!(quiet(&p, port));
}

#[test]
fn a_failed_range_can_be_asked_for_and_supplied_again() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    std::thread::scope(|s| {
        let first = s.spawn(|| read_in_thread(&p, v, 0, 1));
        let (offset, length) = next_request(&p, port, ZX_PAGER_VMO_READ);
        let io = ZX_ERR_IO as i64 as u64;
        assert_eq!(
            p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, offset, length, io),
            ZX_OK
        );
        assert_eq!(first.join().unwrap().0, ZX_ERR_IO);
        let second = s.spawn(|| read_in_thread(&p, v, 0, 1));
        let (offset, length) = next_request(&p, port, ZX_PAGER_VMO_READ);
        supply(&p, pg, v, offset, length, 5);
        assert_eq!(second.join().unwrap(), (ZX_OK, vec![5]));
    });
    assert!(quiet(&p, port));
}

#[test]
fn a_read_waiting_on_a_closed_port_ends_when_its_vmo_is_detached() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    assert_eq!(p.zx_handle_close(port), ZX_OK);
    // Waiting on the closed port itself answers at once.
    assert_eq!(
        p.zx_port_wait(port, ZX_TIME_INFINITE, out(&p, BUF)),
        ZX_ERR_BAD_HANDLE
    );
    std::thread::scope(|s| {
        let reader = s.spawn(|| read_in_thread(&p, v, 0, 1));
        settle();
        // Nobody will ever read the request; detaching answers it.
        assert_eq!(p.zx_pager_detach_vmo(pg, v), ZX_OK);
        assert_eq!(reader.join().unwrap().0, ZX_ERR_BAD_STATE);
    });
}

#[test]
fn closing_the_pager_ends_a_waiting_commit_with_bad_state() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    std::thread::scope(|s| {
        let commit = s.spawn(|| p.zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, P, 0, 0));
        next_request(&p, port, ZX_PAGER_VMO_READ);
        assert_eq!(p.zx_handle_close(pg), ZX_OK);
        assert_eq!(commit.join().unwrap(), ZX_ERR_BAD_STATE);
    });
    assert_eq!(p.zx_vmo_read(v, out(&p, BUF), 0, 1), ZX_ERR_BAD_STATE);
}

#[test]
fn two_threads_waiting_for_the_same_page_cause_one_request() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    std::thread::scope(|s| {
        let a = s.spawn(|| read_in_thread(&p, v, 0, 2));
        let b = s.spawn(|| read_in_thread(&p, v, 100, 2));
        let (offset, length) = next_request(&p, port, ZX_PAGER_VMO_READ);
        assert_eq!((offset, length), (0, P));
        settle();
        assert!(quiet(&p, port), "the second reader asked again");
        supply(&p, pg, v, 0, P, 0x3e);
        assert_eq!(a.join().unwrap(), (ZX_OK, vec![0x3e; 2]));
        assert_eq!(b.join().unwrap(), (ZX_OK, vec![0x3e; 2]));
    });
}

#[test]
fn a_supplied_page_is_read_without_asking_again() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 2, 0);
    supply(&p, pg, v, 0, 2 * P, 0x21);
    for _ in 0..3 {
        assert_eq!(vmo_read(&p, v, P - 1, 2), vec![0x21; 2]);
    }
    assert!(quiet(&p, port));
}

#[test]
fn trap_dirty_write_waits_for_a_dirty_request_and_a_failed_one_keeps_the_page_clean() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, ZX_VMO_TRAP_DIRTY);
    supply(&p, pg, v, 0, P, 0x10);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let at = p.thread_scratch();
            p.write_memory(at, &[0x99; 4]).unwrap();
            p.zx_vmo_write(v, at, 8, 4)
        });
        assert_eq!(next_request(&p, port, ZX_PAGER_VMO_DIRTY), (0, P));
        let no_space = ZX_ERR_NO_SPACE as i64 as u64;
        assert_eq!(
            p.zx_pager_op_range(pg, ZX_PAGER_OP_FAIL, v, 0, P, no_space),
            ZX_OK
        );
        assert_eq!(writer.join().unwrap(), ZX_ERR_NO_SPACE);
    });
    assert_eq!(vmo_read(&p, v, 8, 4), vec![0x10; 4]);
    let (buf, actual) = (out(&p, BUF), out(&p, OUT0));
    assert_eq!(
        p.zx_pager_query_dirty_ranges(pg, v, 0, P, buf, 24, actual, 0),
        ZX_OK
    );
    assert_eq!(read_usize(&p, actual), 0);
    assert!(quiet(&p, port));
}

#[test]
fn a_write_during_writeback_keeps_the_page_dirty_after_writeback_end() {
    let p = new_process();
    let (pg, v, port) = paged(&p, 1, 0);
    supply(&p, pg, v, 0, P, 0);
    vmo_write(&p, v, 0, &[1]);
    let dirty = |p: &TestProcess| {
        let (buf, actual) = (out(p, BUF), out(p, OUT0));
        assert_eq!(
            p.zx_pager_query_dirty_ranges(pg, v, 0, P, buf, 24, actual, 0),
            ZX_OK
        );
        read_usize(p, actual)
    };
    assert_eq!(dirty(&p), 1);
    let begin = ZX_PAGER_OP_WRITEBACK_BEGIN;
    assert_eq!(p.zx_pager_op_range(pg, begin, v, 0, P, 0), ZX_OK);
    vmo_write(&p, v, 1, &[2]);
    let end = ZX_PAGER_OP_WRITEBACK_END;
    assert_eq!(p.zx_pager_op_range(pg, end, v, 0, P, 0), ZX_OK);
    assert_eq!(dirty(&p), 1, "written after writeback began: still dirty");
    assert_eq!(p.zx_pager_op_range(pg, begin, v, 0, P, 0), ZX_OK);
    assert_eq!(p.zx_pager_op_range(pg, end, v, 0, P, 0), ZX_OK);
    assert_eq!(dirty(&p), 0);
    assert!(quiet(&p, port));
}

#[test]
fn shrinking_under_a_waiting_read_ends_it_out_of_range() {
    let p = new_process();
    let (_, v, port) = paged(&p, 4, ZX_VMO_RESIZABLE);
    std::thread::scope(|s| {
        let reader = s.spawn(|| read_in_thread(&p, v, 3 * P, 1));
        next_request(&p, port, ZX_PAGER_VMO_READ);
        assert_eq!(p.zx_vmo_set_size(v, P), ZX_OK);
        assert_eq!(reader.join().unwrap().0, ZX_ERR_OUT_OF_RANGE);
    });
}
