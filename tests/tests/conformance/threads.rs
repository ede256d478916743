//! The threading contract (docs/EMBEDDING.md, "Threads"): any number of threads make
//! calls into one process and touch its mappings at once, each with its own
//! out-parameter area (`thread_scratch`); every call answers as it would alone, and
//! every frame comes back.

use crate::helpers::*;
use std::sync::Barrier;

const THREADS: usize = 4;
/// Pages of the shared mapping each thread faults in.
const PAGES: usize = 32;

/// The value a thread stores at the start of a page.
fn tag(thread: usize, page: usize) -> u64 {
    0x7000_0000_0000 | ((thread as u64) << 32) | page as u64
}

/// Reads a `u32` out-parameter at `at`.
fn u32_out(p: &TestProcess, at: usize) -> u32 {
    read_u32(p, at)
}

/// One thread's share of the work: faults in its slice of the shared mapping
/// through pointers, and makes objects of its own through calls, all through its
/// own out-parameter area.
fn work(p: &TestProcess, thread: usize, shared: u32, base: usize) {
    let out = p.thread_scratch();
    assert_ne!(out, p.scratch());
    let root = p.zx_vmar_root_self();
    for page in 0..PAGES {
        let at = base + (thread * PAGES + page) * PAGE;
        // SAFETY: `at` is inside the read-write mapping of `shared`, which lives
        // until every thread has joined; no other thread touches this page.
        unsafe { (at as *mut u64).write_volatile(tag(thread, page)) };
    }
    for round in 0..20 {
        // A VMO of its own, mapped, written through a pointer, read back by a call.
        assert_eq!(p.zx_vmo_create(2 * PAGE as u64, 0, out), ZX_OK);
        let v = u32_out(p, out);
        assert_eq!(p.zx_vmar_map(root, RW, 0, v, 0, 2 * PAGE, out + 8), ZX_OK);
        let a = read_usize(p, out + 8);
        // SAFETY: `a + PAGE` is inside the fresh two-page read-write mapping of `v`.
        unsafe { ((a + PAGE) as *mut u64).write_volatile(tag(thread, round)) };
        assert_eq!(p.zx_vmo_read(v, out + 16, PAGE as u64, 8), ZX_OK);
        assert_eq!(read_u64(p, out + 16), tag(thread, round));
        assert_eq!(p.zx_vmar_unmap(root, a, 2 * PAGE), ZX_OK);
        assert_eq!(p.zx_handle_close(v), ZX_OK);
        // A port of its own: a packet round trip.
        assert_eq!(p.zx_port_create(0, out), ZX_OK);
        let port = u32_out(p, out);
        let packet = PortPacketRecord {
            key: tag(thread, round),
            ..Default::default()
        };
        p.write_memory(out + 64, &packet.to_bytes()).unwrap();
        assert_eq!(p.zx_port_queue(port, out + 64), ZX_OK);
        assert_eq!(p.zx_port_wait(port, 0, out + 128), ZX_OK);
        assert_eq!(read_u64(p, out + 128), tag(thread, round));
        assert_eq!(p.zx_handle_close(port), ZX_OK);
    }
    // Its slice of the shared VMO, as the VMO sees it.
    for page in 0..PAGES {
        let offset = ((thread * PAGES + page) * PAGE) as u64;
        assert_eq!(p.zx_vmo_read(shared, out + 256, offset, 8), ZX_OK);
        assert_eq!(read_u64(p, out + 256), tag(thread, page));
    }
}

#[test]
fn threads_calling_and_faulting_in_one_process_at_once_give_every_frame_back() {
    let p = new_process();
    let before = p.frames_in_use();
    let shared = vmo(&p, THREADS * PAGES * PAGE);
    let base = map(
        &p,
        p.zx_vmar_root_self(),
        RW,
        0,
        shared,
        0,
        THREADS * PAGES * PAGE,
    );
    let start = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (p, start) = (&p, &start);
            s.spawn(move || {
                start.wait();
                work(p, thread, shared, base);
            });
        }
    });
    // Every page of the shared VMO was faulted in exactly once.
    assert_eq!(committed(&p, shared), (THREADS * PAGES * PAGE) as u64);
    assert_eq!(
        p.zx_vmar_unmap(p.zx_vmar_root_self(), base, THREADS * PAGES * PAGE),
        ZX_OK
    );
    assert_eq!(p.zx_handle_close(shared), ZX_OK);
    // What is left is each thread's scratch area (dropping `p` checks the rest).
    let scratch_frames = THREADS * zircon_tests::SCRATCH_SIZE / PAGE;
    assert_eq!(p.frames_in_use(), before + scratch_frames);
}

#[test]
fn each_thread_has_its_own_scratch_area_and_keeps_it() {
    let p = new_process();
    let mine = p.thread_scratch();
    assert_eq!(p.thread_scratch(), mine);
    assert_ne!(mine, p.scratch());
    let theirs: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let a = p.thread_scratch();
                    assert_eq!(p.thread_scratch(), a);
                    // The whole area is the thread's to write.
                    p.write_memory(a, &[0x3c; zircon_tests::SCRATCH_SIZE])
                        .unwrap();
                    a
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = theirs.clone();
    all.push(mine);
    all.push(p.scratch());
    all.sort_unstable();
    for pair in all.windows(2) {
        assert!(pair[1] >= pair[0] + zircon_tests::SCRATCH_SIZE, "{all:x?}");
    }
}

#[test]
fn a_thread_blocked_in_port_wait_wakes_when_another_queues() {
    let p = new_process();
    assert_eq!(p.zx_port_create(0, out(&p, OUT0)), ZX_OK);
    let port = read_u32(&p, out(&p, OUT0));
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let at = p.thread_scratch();
            let status = p.zx_port_wait(port, ZX_TIME_INFINITE, at);
            (status, read_u64(&p, at))
        });
        // Give the waiter time to block first (it also works if it has not).
        std::thread::sleep(std::time::Duration::from_millis(20));
        let at = p.thread_scratch();
        let packet = PortPacketRecord {
            key: 77,
            ..Default::default()
        };
        p.write_memory(at, &packet.to_bytes()).unwrap();
        assert_eq!(p.zx_port_queue(port, at), ZX_OK);
        assert_eq!(waiter.join().unwrap(), (ZX_OK, 77));
    });
}

#[test]
fn many_waiters_each_receive_exactly_one_packet() {
    let p = new_process();
    assert_eq!(p.zx_port_create(0, out(&p, OUT0)), ZX_OK);
    let port = read_u32(&p, out(&p, OUT0));
    let mut keys: Vec<u64> = std::thread::scope(|s| {
        let waiters: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let at = p.thread_scratch();
                    let deadline = p.zx_clock_get_monotonic() + 10_000_000_000;
                    assert_eq!(p.zx_port_wait(port, deadline, at), ZX_OK);
                    read_u64(&p, at)
                })
            })
            .collect();
        let at = p.thread_scratch();
        for key in 0..THREADS as u64 {
            let packet = PortPacketRecord {
                key,
                ..Default::default()
            };
            p.write_memory(at, &packet.to_bytes()).unwrap();
            assert_eq!(p.zx_port_queue(port, at), ZX_OK);
        }
        waiters.into_iter().map(|w| w.join().unwrap()).collect()
    });
    keys.sort_unstable();
    assert_eq!(keys, (0..THREADS as u64).collect::<Vec<_>>());
    assert_eq!(p.zx_port_wait(port, 0, out(&p, OUT0)), ZX_ERR_TIMED_OUT);
}
