//! `zx_port_create`, `zx_port_queue`, `zx_port_wait` and `zx_clock_get_monotonic`
//! (docs/ABI.md §17.3).

use crate::helpers::*;

/// Bytes of a `zx_port_packet_t`.
const PACKET: usize = PortPacketRecord::SIZE;

/// A new port.
fn port(p: &TestProcess) -> u32 {
    assert_eq!(p.zx_port_create(0, out(p, OUT0)), ZX_OK);
    read_u32(p, out(p, OUT0))
}

/// A user packet with every byte of its union distinct.
fn packet(key: u64) -> PortPacketRecord {
    let mut payload = [0u8; 32];
    for (i, b) in payload.iter_mut().enumerate() {
        *b = (key as u8).wrapping_mul(31).wrapping_add(i as u8);
    }
    PortPacketRecord {
        key,
        packet_type: ZX_PKT_TYPE_USER,
        status: -(key as i32),
        payload,
    }
}

/// Writes `record` at the buffer area and queues it.
fn queue(p: &TestProcess, port: u32, record: &PortPacketRecord) -> i32 {
    let at = p.scratch() + BUF;
    p.write_memory(at, &record.to_bytes()).unwrap();
    p.zx_port_queue(port, at)
}

/// Waits until `deadline`; on success, the packet read back from the buffer area.
fn wait(p: &TestProcess, port: u32, deadline: i64) -> Result<PortPacketRecord, i32> {
    let at = p.scratch() + BUF + PAGE;
    match p.zx_port_wait(port, deadline, at) {
        ZX_OK => Ok(PortPacketRecord::read_from(&read_vec(p, at, PACKET))),
        status => Err(status),
    }
}

/// Polls: a deadline already past.
fn poll(p: &TestProcess, port: u32) -> Result<PortPacketRecord, i32> {
    wait(p, port, 0)
}

#[test]
fn a_new_port_handle_has_the_port_type_and_default_rights() {
    let p = new_process();
    let h = port(&p);
    let info = basic(&p, h);
    assert_eq!(info.obj_type, ZX_OBJ_TYPE_PORT);
    assert_eq!(info.rights, ZX_DEFAULT_PORT_RIGHTS);
    assert_eq!(info.rights, 0xC00F);
    assert_ne!(info.koid, 0);
    assert_eq!(info.related_koid, 0);
}

#[test]
fn two_ports_are_two_objects() {
    let p = new_process();
    let (a, b) = (port(&p), port(&p));
    assert_ne!(a, b);
    assert_ne!(basic(&p, a).koid, basic(&p, b).koid);
    assert_eq!(queue(&p, a, &packet(1)), ZX_OK);
    assert_eq!(poll(&p, b), Err(ZX_ERR_TIMED_OUT));
    assert_eq!(poll(&p, a), Ok(packet(1)));
}

#[test]
fn port_create_accepts_bind_to_interrupt() {
    let p = new_process();
    assert_eq!(
        p.zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, out(&p, OUT0)),
        ZX_OK
    );
    let h = read_u32(&p, out(&p, OUT0));
    assert_eq!(basic(&p, h).obj_type, ZX_OBJ_TYPE_PORT);
}

#[test]
fn port_create_refuses_every_other_option_bit() {
    let p = new_process();
    for bit in 1..32 {
        poison_outs(&p);
        assert_eq!(
            p.zx_port_create(1 << bit, out(&p, OUT0)),
            ZX_ERR_INVALID_ARGS,
            "bit {bit}"
        );
        assert_eq!(read_u32(&p, out(&p, OUT0)), POISON32);
    }
}

#[test]
fn port_create_with_a_bad_out_pointer_is_invalid_args() {
    let p = new_process();
    assert_eq!(p.zx_port_create(0, UNMAPPED), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_port_create(0, 0), ZX_ERR_INVALID_ARGS);
}

#[test]
fn a_packet_round_trips_field_by_field() {
    let p = new_process();
    let h = port(&p);
    let sent = PortPacketRecord {
        key: 0x0123_4567_89ab_cdef,
        packet_type: ZX_PKT_TYPE_USER,
        status: ZX_ERR_IO,
        payload: core::array::from_fn(|i| 0xf0 ^ i as u8),
    };
    assert_eq!(queue(&p, h, &sent), ZX_OK);
    let got = poll(&p, h).unwrap();
    assert_eq!(got.key, 0x0123_4567_89ab_cdef);
    assert_eq!(got.packet_type, ZX_PKT_TYPE_USER);
    assert_eq!(got.status, ZX_ERR_IO);
    assert_eq!(got.payload, sent.payload);
}

#[test]
fn a_queued_packet_becomes_a_user_packet_whatever_its_type() {
    let p = new_process();
    let h = port(&p);
    let mut sent = packet(3);
    sent.packet_type = ZX_PKT_TYPE_PAGE_REQUEST;
    assert_eq!(queue(&p, h, &sent), ZX_OK);
    let got = poll(&p, h).unwrap();
    assert_eq!(got.packet_type, ZX_PKT_TYPE_USER);
    assert_eq!(got.page_request(), None);
    assert_eq!((got.key, got.status, got.payload), (3, -3, sent.payload));
}

#[test]
fn wait_writes_exactly_the_48_bytes_of_the_packet() {
    let p = new_process();
    let h = port(&p);
    let at = p.scratch() + BUF + PAGE;
    p.write_memory(at, &[0x5a; 2 * PACKET]).unwrap();
    assert_eq!(queue(&p, h, &packet(9)), ZX_OK);
    assert_eq!(p.zx_port_wait(h, 0, at), ZX_OK);
    assert_eq!(read_vec(&p, at, PACKET), packet(9).to_bytes());
    assert_eq!(read_vec(&p, at + PACKET, PACKET), vec![0x5a; PACKET]);
}

#[test]
fn packets_come_out_first_in_first_out() {
    let p = new_process();
    let h = port(&p);
    for key in 1..=10 {
        assert_eq!(queue(&p, h, &packet(key)), ZX_OK);
    }
    for key in 1..=10 {
        assert_eq!(poll(&p, h), Ok(packet(key)));
    }
    assert_eq!(poll(&p, h), Err(ZX_ERR_TIMED_OUT));
}

#[test]
fn a_duplicate_handle_reaches_the_same_queue() {
    let p = new_process();
    let h = port(&p);
    let d = dup(&p, h, ZX_RIGHT_SAME_RIGHTS);
    assert_eq!(queue(&p, d, &packet(4)), ZX_OK);
    assert_eq!(poll(&p, h), Ok(packet(4)));
    // Closing one of two handles leaves the port working through the other.
    assert_eq!(p.zx_handle_close(h), ZX_OK);
    assert_eq!(queue(&p, d, &packet(5)), ZX_OK);
    assert_eq!(poll(&p, d), Ok(packet(5)));
}

#[test]
fn queue_on_a_value_that_is_no_handle_is_bad_handle() {
    let p = new_process();
    let at = p.scratch() + BUF;
    assert_eq!(p.zx_port_queue(0, at), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_port_queue(0x1234_5677, at), ZX_ERR_BAD_HANDLE);
}

#[test]
fn queue_on_a_closed_port_handle_is_bad_handle() {
    let p = new_process();
    let h = port(&p);
    assert_eq!(p.zx_handle_close(h), ZX_OK);
    assert_eq!(queue(&p, h, &packet(1)), ZX_ERR_BAD_HANDLE);
}

#[test]
fn queue_on_other_objects_is_wrong_type() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(queue(&p, v, &packet(1)), ZX_ERR_WRONG_TYPE);
    assert_eq!(
        queue(&p, p.zx_vmar_root_self(), &packet(1)),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(
        queue(&p, p.zx_process_self(), &packet(1)),
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn queue_needs_the_write_right() {
    let p = new_process();
    let h = port(&p);
    let ro = dup(&p, h, ZX_DEFAULT_PORT_RIGHTS & !ZX_RIGHT_WRITE);
    assert_eq!(queue(&p, ro, &packet(1)), ZX_ERR_ACCESS_DENIED);
    assert_eq!(poll(&p, h), Err(ZX_ERR_TIMED_OUT));
    let wo = dup(&p, h, ZX_RIGHT_WRITE);
    assert_eq!(queue(&p, wo, &packet(2)), ZX_OK);
}

#[test]
fn queue_checks_the_handle_before_the_packet_pointer() {
    let p = new_process();
    let h = port(&p);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, h, ZX_RIGHT_READ);
    assert_eq!(p.zx_port_queue(0, UNMAPPED), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_port_queue(v, UNMAPPED), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_port_queue(ro, UNMAPPED), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn queue_from_a_bad_packet_pointer_is_invalid_args_and_queues_nothing() {
    let p = new_process();
    let h = port(&p);
    assert_eq!(p.zx_port_queue(h, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_port_queue(h, UNMAPPED), ZX_ERR_INVALID_ARGS);
    // A packet whose last bytes run past the end of the scratch mapping.
    let tail = p.scratch() + zircon_tests::SCRATCH_SIZE - PACKET + 8;
    assert_eq!(p.zx_port_queue(h, tail), ZX_ERR_INVALID_ARGS);
    assert_eq!(poll(&p, h), Err(ZX_ERR_TIMED_OUT));
}

#[test]
fn a_full_port_answers_should_wait_until_a_packet_is_drained() {
    let p = new_process();
    let h = port(&p);
    // Zircon counts the queue before the new packet: 4096 + 1 user packets fit.
    for key in 0..4097 {
        assert_eq!(queue(&p, h, &packet(key)), ZX_OK, "packet {key}");
    }
    assert_eq!(queue(&p, h, &packet(9999)), ZX_ERR_SHOULD_WAIT);
    assert_eq!(queue(&p, h, &packet(9999)), ZX_ERR_SHOULD_WAIT);
    assert_eq!(poll(&p, h), Ok(packet(0)));
    assert_eq!(queue(&p, h, &packet(4097)), ZX_OK);
    assert_eq!(queue(&p, h, &packet(9999)), ZX_ERR_SHOULD_WAIT);
    // Nothing refused was queued: the rest come out in order, then nothing.
    for key in 1..=4097 {
        assert_eq!(poll(&p, h).map(|r| r.key), Ok(key));
    }
    assert_eq!(poll(&p, h), Err(ZX_ERR_TIMED_OUT));
}

#[test]
fn wait_on_a_value_that_is_no_handle_is_bad_handle() {
    let p = new_process();
    assert_eq!(wait(&p, 0, 0), Err(ZX_ERR_BAD_HANDLE));
    assert_eq!(
        wait(&p, 0x7777_7777, ZX_TIME_INFINITE),
        Err(ZX_ERR_BAD_HANDLE)
    );
}

#[test]
fn wait_on_a_closed_port_is_bad_handle_at_once() {
    let p = new_process();
    let h = port(&p);
    assert_eq!(queue(&p, h, &packet(1)), ZX_OK);
    assert_eq!(p.zx_handle_close(h), ZX_OK);
    // Even an infinite deadline returns: there is no port to wait on.
    assert_eq!(wait(&p, h, ZX_TIME_INFINITE), Err(ZX_ERR_BAD_HANDLE));
}

#[test]
fn wait_on_other_objects_is_wrong_type() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    assert_eq!(wait(&p, v, ZX_TIME_INFINITE), Err(ZX_ERR_WRONG_TYPE));
    assert_eq!(
        wait(&p, p.zx_vmar_root_self(), ZX_TIME_INFINITE),
        Err(ZX_ERR_WRONG_TYPE)
    );
}

#[test]
fn wait_needs_the_read_right_and_takes_nothing_without_it() {
    let p = new_process();
    let h = port(&p);
    assert_eq!(queue(&p, h, &packet(6)), ZX_OK);
    let wo = dup(&p, h, ZX_DEFAULT_PORT_RIGHTS & !ZX_RIGHT_READ);
    assert_eq!(wait(&p, wo, 0), Err(ZX_ERR_ACCESS_DENIED));
    assert_eq!(poll(&p, h), Ok(packet(6)));
}

#[test]
fn wait_checks_the_handle_before_the_packet_pointer() {
    let p = new_process();
    let h = port(&p);
    let v = vmo(&p, PAGE);
    let wo = dup(&p, h, ZX_RIGHT_WRITE);
    assert_eq!(p.zx_port_wait(0, 0, UNMAPPED), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.zx_port_wait(v, 0, UNMAPPED), ZX_ERR_WRONG_TYPE);
    assert_eq!(p.zx_port_wait(wo, 0, UNMAPPED), ZX_ERR_ACCESS_DENIED);
}

#[test]
fn wait_with_a_deadline_in_the_past_only_looks() {
    let p = new_process();
    let h = port(&p);
    let now = p.zx_clock_get_monotonic();
    for deadline in [ZX_TIME_INFINITE_PAST, -1, 0, 1, now - 1_000_000, now] {
        assert_eq!(wait(&p, h, deadline), Err(ZX_ERR_TIMED_OUT), "{deadline}");
    }
    assert_eq!(queue(&p, h, &packet(7)), ZX_OK);
    assert_eq!(wait(&p, h, ZX_TIME_INFINITE_PAST), Ok(packet(7)));
}

#[test]
fn wait_on_an_empty_port_times_out_at_its_deadline() {
    let p = new_process();
    let h = port(&p);
    let start = p.zx_clock_get_monotonic();
    let deadline = start + 20_000_000;
    assert_eq!(wait(&p, h, deadline), Err(ZX_ERR_TIMED_OUT));
    assert!(p.zx_clock_get_monotonic() >= deadline);
}

#[test]
fn wait_with_a_packet_queued_returns_it_before_the_deadline() {
    let p = new_process();
    let h = port(&p);
    assert_eq!(queue(&p, h, &packet(8)), ZX_OK);
    assert_eq!(wait(&p, h, ZX_TIME_INFINITE), Ok(packet(8)));
}

#[test]
fn wait_into_a_bad_packet_pointer_is_invalid_args_and_keeps_the_packet() {
    let p = new_process();
    let h = port(&p);
    assert_eq!(queue(&p, h, &packet(1)), ZX_OK);
    assert_eq!(queue(&p, h, &packet(2)), ZX_OK);
    assert_eq!(p.zx_port_wait(h, 0, 0), ZX_ERR_INVALID_ARGS);
    assert_eq!(p.zx_port_wait(h, 0, UNMAPPED), ZX_ERR_INVALID_ARGS);
    let tail = p.scratch() + zircon_tests::SCRATCH_SIZE - PACKET + 1;
    assert_eq!(p.zx_port_wait(h, 0, tail), ZX_ERR_INVALID_ARGS);
    // Zircon would have lost packet 1; here it is still first in line.
    assert_eq!(poll(&p, h), Ok(packet(1)));
    assert_eq!(poll(&p, h), Ok(packet(2)));
}

#[test]
fn wait_into_read_only_memory_is_invalid_args_and_keeps_the_packet() {
    let p = new_process();
    let h = port(&p);
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    let addr = map(&p, p.zx_vmar_root_self(), ZX_VM_PERM_READ, 0, ro, 0, PAGE);
    assert_eq!(queue(&p, h, &packet(3)), ZX_OK);
    assert_eq!(p.zx_port_wait(h, 0, addr), ZX_ERR_INVALID_ARGS);
    assert_eq!(poll(&p, h), Ok(packet(3)));
}

#[test]
fn a_port_answers_no_property_and_no_vmo_topic() {
    let p = new_process();
    let h = port(&p);
    let at = p.scratch() + BUF;
    // A port handle holds neither property right.
    assert_eq!(
        p.zx_object_get_property(h, ZX_PROP_NAME, at, 32),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(info_raw(&p, h, ZX_INFO_VMO, 128).0, ZX_ERR_WRONG_TYPE);
    assert_eq!(info_raw(&p, h, ZX_INFO_VMAR, 16).0, ZX_ERR_WRONG_TYPE);
}

#[test]
fn port_calls_work_through_dispatch() {
    let p = new_process();
    let s = p.scratch();
    let created = p.dispatch(SYS_PORT_CREATE, [0, s, 0, 0, 0, 0, 0, 0]);
    assert_eq!(created, ZX_OK);
    let h = read_u32(&p, s) as usize;
    p.write_memory(s + BUF, &packet(11).to_bytes()).unwrap();
    assert_eq!(
        p.dispatch(SYS_PORT_QUEUE, [h, s + BUF, 0, 0, 0, 0, 0, 0]),
        ZX_OK
    );
    let out = s + BUF + PAGE;
    assert_eq!(p.dispatch(SYS_PORT_WAIT, [h, 0, out, 0, 0, 0, 0, 0]), ZX_OK);
    assert_eq!(
        PortPacketRecord::read_from(&read_vec(&p, out, PACKET)),
        packet(11)
    );
    // The deadline is a whole 64-bit word: ZX_TIME_INFINITE_PAST polls.
    let past = ZX_TIME_INFINITE_PAST as usize;
    assert_eq!(
        p.dispatch(SYS_PORT_WAIT, [h, past, out, 0, 0, 0, 0, 0]),
        ZX_ERR_TIMED_OUT
    );
}

#[test]
fn the_monotonic_clock_is_positive_and_never_goes_back() {
    let p = new_process();
    let mut last = p.zx_clock_get_monotonic();
    assert!(last > 0);
    for _ in 0..1000 {
        let now = p.zx_clock_get_monotonic();
        assert!(now >= last);
        last = now;
    }
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert!(p.zx_clock_get_monotonic() >= last + 2_000_000);
}

#[test]
fn dispatch_wide_answers_the_whole_time_and_dispatch_clamps_it() {
    let p = new_process();
    let before = p.zx_clock_get_monotonic();
    let wide = p.dispatch_wide(SYS_CLOCK_GET_MONOTONIC, [0; 8]);
    let after = p.zx_clock_get_monotonic();
    assert!(before <= wide && wide <= after);
    let narrow = p.dispatch(SYS_CLOCK_GET_MONOTONIC, [0; 8]);
    assert_eq!(i64::from(narrow), wide.min(i64::from(i32::MAX)));
    // A status is the same either way.
    assert_eq!(
        p.dispatch_wide(SYS_PORT_QUEUE, [0; 8]),
        i64::from(ZX_ERR_BAD_HANDLE)
    );
}
