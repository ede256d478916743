//! Pager-backed VMOs, served by a Rust provider from another thread, over the
//! model HAL (its waits spin) and the unix backend (its waits sleep on a futex).

extern crate std;

use super::*;
use crate::testing::{touch, ModelHal};
use crate::vm::{AddressSpace, MapRequest, PageState, VmPerms, VmoOptions, PAGER_FAILURE_STATUSES};
use alloc::vec;
use kernel_hal::{MMUFlags, PAGE_SIZE};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex as StdMutex;
use std::thread;
use std::time::Duration;

/// A provider that records every request and passes it to a server thread.
struct Recorder {
    seen: StdMutex<Vec<PageRequest>>,
    to_server: StdMutex<Sender<(Weak<VmObject>, PageRequest)>>,
    detached: StdMutex<Vec<u64>>,
}

impl PageProvider for Recorder {
    fn page_request(&self, vmo: &Arc<VmObject>, request: PageRequest) {
        self.seen.lock().unwrap().push(request);
        let _ = self
            .to_server
            .lock()
            .unwrap()
            .send((Arc::downgrade(vmo), request));
    }
    fn detached(&self, key: u64) {
        self.detached.lock().unwrap().push(key);
    }
}

/// What the server thread does with a request.
#[derive(Clone, Copy)]
enum Answer {
    /// Supply read requests with the pattern, dirty requests with `dirty_pages`.
    Serve,
    /// Serve after a pause (so that other threads pile up on the request).
    ServeLate,
    /// Fail every request with this status.
    Fail(ZxError),
    /// Leave requests unanswered.
    Ignore,
}

/// The byte at `offset` of the data the test pager serves.
fn pattern(offset: usize) -> u8 {
    (offset / PAGE_SIZE * 7 + offset % 251) as u8
}

fn serve(rx: Receiver<(Weak<VmObject>, PageRequest)>, answer: Answer) {
    for (vmo, request) in rx {
        let Some(vmo) = vmo.upgrade() else { continue };
        match answer {
            Answer::Ignore => continue,
            Answer::ServeLate => thread::sleep(Duration::from_millis(30)),
            _ => {}
        }
        let (offset, len) = (request.offset, request.len);
        let result = match (answer, request.kind) {
            (Answer::Fail(status), _) => vmo.fail_pages(offset, len, status),
            (_, PageRequestKind::Read) => {
                let data: Vec<u8> = (offset as usize..(offset + len) as usize)
                    .map(pattern)
                    .collect();
                vmo.supply_bytes(offset, &data)
            }
            (_, PageRequestKind::Dirty) => vmo.dirty_pages(offset, len),
        };
        assert_eq!(result, Ok(()), "the server's answer to {request:?}");
    }
}

/// A pager-backed VMO of `pages` pages on `hal`, served by a thread answering
/// with `answer`; the recorder sees every request. The server ends when the
/// recorder is dropped.
fn paged(
    hal: &Arc<dyn Hal>,
    pages: usize,
    options: VmoOptions,
    answer: Answer,
) -> (Arc<VmObject>, Arc<Recorder>, thread::JoinHandle<()>) {
    let (tx, rx) = channel();
    let recorder = Arc::new(Recorder {
        seen: StdMutex::new(Vec::new()),
        to_server: StdMutex::new(tx),
        detached: StdMutex::new(Vec::new()),
    });
    let server = thread::spawn(move || serve(rx, answer));
    let vmo = VmObject::new_paged(
        hal.clone(),
        (pages * PAGE_SIZE) as u64,
        options,
        recorder.clone(),
        42,
    )
    .unwrap();
    (vmo, recorder, server)
}

/// Runs `f` over the model HAL and the unix backend, checking that every frame
/// is free again afterwards. Under Miri the unix backend (host system calls) is
/// left out.
fn machines(f: impl Fn(&Arc<dyn Hal>)) {
    #[cfg(not(miri))]
    let hals: [Arc<dyn Hal>; 2] = {
        let unix = kernel_hal_unix::UnixHal::with_config(kernel_hal_unix::UnixHalConfig {
            phys_size: 16 << 20,
            window_size: 1 << 30,
        })
        .expect("an emulated machine");
        [ModelHal::new(4096), Arc::new(unix)]
    };
    #[cfg(miri)]
    let hals: [Arc<dyn Hal>; 1] = [ModelHal::new(4096)];
    for hal in hals {
        let total = hal.total_count();
        f(&hal);
        assert_eq!(hal.free_count(), total, "frames leaked");
    }
}

fn finish(vmo: Arc<VmObject>, recorder: Arc<Recorder>, server: thread::JoinHandle<()>) {
    drop(vmo);
    drop(recorder);
    server.join().expect("the server thread ends");
}

fn expect_pattern(buf: &[u8], offset: usize) {
    for (i, &b) in buf.iter().enumerate() {
        assert_eq!(b, pattern(offset + i), "byte {}", offset + i);
    }
}

#[test]
fn a_read_blocks_until_the_provider_supplies_the_missing_run() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 4, VmoOptions::empty(), Answer::Serve);
        assert_eq!(vmo.page_state(0), Some(PageState::Absent));
        let mut buf = vec![0u8; 3 * PAGE_SIZE];
        assert_eq!(vmo.read(PAGE_SIZE as u64, &mut buf), Ok(()));
        expect_pattern(&buf, PAGE_SIZE);
        let want = PageRequest {
            key: 42,
            kind: PageRequestKind::Read,
            offset: PAGE_SIZE as u64,
            len: 3 * PAGE_SIZE as u64,
        };
        assert_eq!(*rec.seen.lock().unwrap(), [want]);
        assert_eq!(vmo.page_state(PAGE_SIZE as u64), Some(PageState::Clean));
        assert_eq!(vmo.page_state(0), Some(PageState::Absent));
        // Present pages are read again without a request.
        assert_eq!(vmo.read(PAGE_SIZE as u64, &mut buf), Ok(()));
        assert_eq!(rec.seen.lock().unwrap().len(), 1);
        finish(vmo, rec, server);
    });
}

#[test]
fn threads_waiting_for_the_same_page_share_one_request() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::ServeLate);
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let vmo = vmo.clone();
                thread::spawn(move || {
                    let mut buf = [0u8; 16];
                    vmo.read(100, &mut buf).map(|()| buf)
                })
            })
            .collect();
        for reader in readers {
            let buf = reader.join().unwrap().expect("the read succeeds");
            expect_pattern(&buf, 100);
        }
        assert_eq!(
            rec.seen.lock().unwrap().len(),
            1,
            "one request for the page"
        );
        finish(vmo, rec, server);
    });
}

#[test]
fn a_failed_request_reports_the_providers_status() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::Fail(ZX_ERR_IO));
        let mut buf = [0u8; 8];
        assert_eq!(vmo.read(0, &mut buf), Err(ZX_ERR_IO));
        assert_eq!(vmo.write(0, &buf), Err(ZX_ERR_IO));
        assert_eq!(vmo.commit(0, PAGE_SIZE as u64), Err(ZX_ERR_IO));
        assert_eq!(vmo.committed_pages(), 0);
        finish(vmo, rec, server);
    });
}

#[test]
fn fail_accepts_only_the_statuses_zircon_allows() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::Ignore);
        for status in PAGER_FAILURE_STATUSES {
            assert_eq!(vmo.fail_pages(0, PAGE_SIZE as u64, status), Ok(()));
        }
        for status in [ZX_ERR_NO_MEMORY, ZX_ERR_INVALID_ARGS, ZX_ERR_TIMED_OUT] {
            assert_eq!(
                vmo.fail_pages(0, PAGE_SIZE as u64, status),
                Err(ZX_ERR_INVALID_ARGS)
            );
        }
        assert_eq!(
            vmo.fail_pages(1, PAGE_SIZE as u64, ZX_ERR_IO),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(
            vmo.fail_pages(0, 3 * PAGE_SIZE as u64, ZX_ERR_IO),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        finish(vmo, rec, server);
    });
}

#[test]
fn a_fault_blocks_until_supplied_and_maps_the_page_read_only_while_clean() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 4, VmoOptions::empty(), Answer::Serve);
        let aspace = AddressSpace::new(hal.clone()).unwrap();
        let root = aspace.root_vmar();
        let addr = root
            .map(
                &vmo,
                &MapRequest::new(0, 4 * PAGE_SIZE, VmPerms::READ_WRITE),
            )
            .unwrap();
        let pt = aspace.page_table();
        assert!(touch(pt, addr + 2 * PAGE_SIZE, MMUFlags::READ));
        let mut buf = [0u8; 64];
        aspace
            .read_user(addr + 2 * PAGE_SIZE + 10, &mut buf)
            .unwrap();
        expect_pattern(&buf, 2 * PAGE_SIZE + 10);
        assert_eq!(rec.seen.lock().unwrap().len(), 1);
        // A clean page is mapped without WRITE: the first store faults and dirties it.
        let t = pt.query(addr + 2 * PAGE_SIZE).unwrap();
        assert!(!t.flags.contains(MMUFlags::WRITE));
        assert!(touch(pt, addr + 2 * PAGE_SIZE, MMUFlags::WRITE));
        assert_eq!(vmo.page_state(2 * PAGE_SIZE as u64), Some(PageState::Dirty));
        assert_eq!(
            vmo.dirty_ranges(0, 4 * PAGE_SIZE as u64),
            Ok(vec![(2 * PAGE_SIZE as u64, PAGE_SIZE as u64)])
        );
        drop(root);
        drop(aspace);
        finish(vmo, rec, server);
    });
}

#[test]
fn a_fault_on_a_failed_page_reports_the_failure() {
    machines(|hal| {
        let (vmo, rec, server) = paged(
            hal,
            1,
            VmoOptions::empty(),
            Answer::Fail(ZX_ERR_IO_DATA_INTEGRITY),
        );
        let aspace = AddressSpace::new(hal.clone()).unwrap();
        let root = aspace.root_vmar();
        let addr = root
            .map(&vmo, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ))
            .unwrap();
        assert_eq!(
            aspace.fault(addr, MMUFlags::READ),
            Err(ZX_ERR_IO_DATA_INTEGRITY)
        );
        drop(root);
        drop(aspace);
        finish(vmo, rec, server);
    });
}

#[test]
fn supply_fills_only_absent_pages_and_empties_the_aux_range() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 4, VmoOptions::empty(), Answer::Ignore);
        let first = VmObject::new(hal.clone(), 2 * PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
        first.write(0, &[1u8; 2 * PAGE_SIZE]).unwrap();
        assert_eq!(vmo.supply_pages(0, 2 * PAGE_SIZE as u64, &first, 0), Ok(()));
        assert_eq!(first.committed_pages(), 0, "the aux pages moved");
        // Supplying the range again (and one page more) skips the present pages.
        let second = VmObject::new(hal.clone(), 3 * PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
        second.write(0, &[2u8; 3 * PAGE_SIZE]).unwrap();
        assert_eq!(
            vmo.supply_pages(0, 3 * PAGE_SIZE as u64, &second, 0),
            Ok(())
        );
        assert_eq!(second.committed_pages(), 0);
        let mut buf = vec![0u8; 3 * PAGE_SIZE];
        vmo.read(0, &mut buf).unwrap();
        assert!(
            buf[..2 * PAGE_SIZE].iter().all(|&b| b == 1),
            "kept the first supply"
        );
        assert!(buf[2 * PAGE_SIZE..].iter().all(|&b| b == 2));
        // An uncommitted aux page supplies zeros.
        let empty = VmObject::new(hal.clone(), PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
        assert_eq!(
            vmo.supply_pages(3 * PAGE_SIZE as u64, PAGE_SIZE as u64, &empty, 0),
            Ok(())
        );
        vmo.read(3 * PAGE_SIZE as u64, &mut buf[..PAGE_SIZE])
            .unwrap();
        assert!(buf[..PAGE_SIZE].iter().all(|&b| b == 0));
        assert!(rec.seen.lock().unwrap().is_empty());
        finish(vmo, rec, server);
    });
}

#[test]
fn supply_refuses_bad_aux_vmos_and_ranges_and_changes_nothing() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::Ignore);
        let (other, rec2, server2) = paged(hal, 2, VmoOptions::empty(), Answer::Ignore);
        let page = PAGE_SIZE as u64;
        let aux = VmObject::new(hal.clone(), page, VmoOptions::empty()).unwrap();
        aux.write(0, &[9u8; 8]).unwrap();
        assert_eq!(vmo.supply_pages(0, page, &other, 0), Err(ZX_ERR_BAD_STATE));
        assert_eq!(
            vmo.supply_pages(0, 2 * page, &aux, 0),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(
            vmo.supply_pages(page, 2 * page, &aux, 0),
            Err(ZX_ERR_OUT_OF_RANGE)
        );
        assert_eq!(vmo.supply_pages(1, page, &aux, 0), Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(aux.supply_pages(0, page, &aux, 0), Err(ZX_ERR_INVALID_ARGS));
        let child = aux.create_snapshot(0, page, false, false).unwrap();
        assert_eq!(vmo.supply_pages(0, page, &aux, 0), Err(ZX_ERR_BAD_STATE));
        drop(child);
        assert_eq!(aux.committed_pages(), 1, "nothing moved");
        assert_eq!(vmo.committed_pages(), 0);
        vmo.detach_pager().unwrap();
        assert_eq!(vmo.supply_pages(0, page, &aux, 0), Err(ZX_ERR_BAD_STATE));
        assert_eq!(aux.committed_pages(), 1, "nothing moved");
        finish(other, rec2, server2);
        finish(vmo, rec, server);
    });
}

#[test]
fn detach_fails_waiting_and_later_accesses_and_keeps_present_pages() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::Ignore);
        vmo.supply_bytes(0, &[5u8; PAGE_SIZE]).unwrap();
        let waiter = {
            let vmo = vmo.clone();
            thread::spawn(move || vmo.read(PAGE_SIZE as u64, &mut [0u8; 4]))
        };
        while rec.seen.lock().unwrap().is_empty() {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(vmo.detach_pager(), Ok(()));
        assert_eq!(waiter.join().unwrap(), Err(ZX_ERR_BAD_STATE));
        assert_eq!(
            vmo.read(PAGE_SIZE as u64, &mut [0u8; 4]),
            Err(ZX_ERR_BAD_STATE)
        );
        let mut buf = [0u8; 4];
        assert_eq!(vmo.read(0, &mut buf), Ok(()));
        assert_eq!(buf, [5; 4]);
        assert_eq!(vmo.detach_pager(), Ok(()));
        assert_eq!(*rec.detached.lock().unwrap(), [42], "told once");
        assert_eq!(rec.seen.lock().unwrap().len(), 1, "no request after detach");
        finish(vmo, rec, server);
    });
}

#[test]
fn dropping_the_vmo_tells_the_provider() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 1, VmoOptions::empty(), Answer::Ignore);
        drop(vmo);
        assert_eq!(*rec.detached.lock().unwrap(), [42]);
        drop(rec);
        server.join().unwrap();
    });
}

#[test]
fn trap_dirty_asks_before_a_clean_page_is_written_and_writeback_cleans_it() {
    machines(|hal| {
        let options = VmoOptions::TRAP_DIRTY;
        let (vmo, rec, server) = paged(hal, 2, options, Answer::Serve);
        let page = PAGE_SIZE as u64;
        assert_eq!(vmo.write(10, &[0xAA; 4]), Ok(()));
        let kinds: Vec<_> = rec.seen.lock().unwrap().iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [PageRequestKind::Read, PageRequestKind::Dirty]);
        assert_eq!(vmo.page_state(0), Some(PageState::Dirty));
        assert_eq!(vmo.dirty_ranges(0, 2 * page), Ok(vec![(0, page)]));
        // A dirty page is written without asking.
        assert_eq!(vmo.write(20, &[1]), Ok(()));
        assert_eq!(rec.seen.lock().unwrap().len(), 2);
        // Writeback: begin, a write in between keeps it dirty, end cleans only
        // what was not written again.
        vmo.writeback_begin(0, page).unwrap();
        assert_eq!(vmo.page_state(0), Some(PageState::Writeback));
        assert_eq!(vmo.dirty_ranges(0, 2 * page), Ok(vec![(0, page)]));
        vmo.writeback_end(0, page).unwrap();
        assert_eq!(vmo.page_state(0), Some(PageState::Clean));
        assert_eq!(vmo.dirty_ranges(0, 2 * page), Ok(vec![]));
        vmo.write(30, &[2]).unwrap();
        vmo.writeback_begin(0, page).unwrap();
        vmo.write(40, &[3]).unwrap();
        vmo.writeback_end(0, page).unwrap();
        assert_eq!(vmo.page_state(0), Some(PageState::Dirty));
        let mut buf = [0u8; 4];
        vmo.read(10, &mut buf).unwrap();
        assert_eq!(buf, [0xAA; 4]);
        // DIRTY on an absent page is refused.
        assert_eq!(vmo.dirty_pages(page, page), Err(ZX_ERR_NOT_FOUND));
        finish(vmo, rec, server);
    });
}

#[test]
fn a_failed_dirty_request_fails_the_write_and_leaves_the_page_clean() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 1, VmoOptions::TRAP_DIRTY, Answer::Ignore);
        vmo.supply_bytes(0, &[7u8; PAGE_SIZE]).unwrap();
        let writer = {
            let vmo = vmo.clone();
            thread::spawn(move || vmo.write(0, &[1]))
        };
        while rec.seen.lock().unwrap().is_empty() {
            thread::sleep(Duration::from_millis(1));
        }
        vmo.fail_pages(0, PAGE_SIZE as u64, ZX_ERR_NO_SPACE)
            .unwrap();
        assert_eq!(writer.join().unwrap(), Err(ZX_ERR_NO_SPACE));
        assert_eq!(vmo.page_state(0), Some(PageState::Clean));
        let mut buf = [0u8; 1];
        vmo.read(0, &mut buf).unwrap();
        assert_eq!(buf, [7]);
        finish(vmo, rec, server);
    });
}

#[test]
fn writes_without_trap_dirty_dirty_the_page_and_set_the_modified_stat() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::Serve);
        assert_eq!(vmo.pager_modified(true), Ok(false));
        vmo.write(PAGE_SIZE as u64, &[1, 2, 3]).unwrap();
        assert_eq!(vmo.page_state(PAGE_SIZE as u64), Some(PageState::Dirty));
        assert_eq!(vmo.pager_modified(false), Ok(true));
        assert_eq!(vmo.pager_modified(true), Ok(true));
        assert_eq!(vmo.pager_modified(true), Ok(false));
        let kinds: Vec<_> = rec.seen.lock().unwrap().iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [PageRequestKind::Read]);
        finish(vmo, rec, server);
    });
}

#[test]
fn resize_drops_pages_when_shrinking_and_grows_absent_pages() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 4, VmoOptions::RESIZABLE, Answer::Serve);
        let page = PAGE_SIZE as u64;
        vmo.commit(0, 4 * page).unwrap();
        vmo.write(3 * page, &[1]).unwrap();
        vmo.set_size(2 * page).unwrap();
        assert_eq!(vmo.committed_pages(), 2);
        vmo.set_size(4 * page).unwrap();
        assert_eq!(vmo.page_state(3 * page), Some(PageState::Absent));
        assert_eq!(vmo.dirty_ranges(0, 4 * page), Ok(vec![]));
        let mut buf = [0u8; 4];
        vmo.read(3 * page, &mut buf).unwrap();
        expect_pattern(&buf, 3 * PAGE_SIZE);
        assert_eq!(rec.seen.lock().unwrap().len(), 2);
        finish(vmo, rec, server);
    });
}

#[test]
fn commit_and_pin_bring_pages_in_and_decommit_and_zero_are_not_supported() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 2, VmoOptions::empty(), Answer::Serve);
        let page = PAGE_SIZE as u64;
        assert_eq!(vmo.pin(0, page).map(|f| f.len()), Ok(1));
        assert_eq!(vmo.pinned_pages(), 1);
        vmo.unpin(0, page);
        assert_eq!(vmo.commit(page, page), Ok(()));
        assert_eq!(vmo.committed_pages(), 2);
        assert_eq!(vmo.decommit(0, page), Err(ZX_ERR_NOT_SUPPORTED));
        assert_eq!(vmo.zero(0, page), Err(ZX_ERR_NOT_SUPPORTED));
        finish(vmo, rec, server);
    });
}

#[test]
fn an_at_least_on_write_snapshot_reads_through_the_pager_and_writes_privately() {
    machines(|hal| {
        let (vmo, rec, server) = paged(hal, 3, VmoOptions::empty(), Answer::Serve);
        let page = PAGE_SIZE as u64;
        vmo.commit(0, page).unwrap();
        let child = vmo
            .create_pager_snapshot(0, 3 * page, false, false)
            .unwrap();
        assert!(child.is_pager_snapshot());
        let mut buf = [0u8; 8];
        child.read(2 * page, &mut buf).unwrap();
        expect_pattern(&buf, 2 * PAGE_SIZE);
        child.write(0, &[0xEE; 8]).unwrap();
        vmo.read(0, &mut buf).unwrap();
        expect_pattern(&buf, 0);
        child.read(0, &mut buf).unwrap();
        assert_eq!(buf, [0xEE; 8]);
        assert_eq!(
            rec.seen.lock().unwrap().len(),
            2,
            "one request per absent run"
        );
        assert_eq!(
            vmo.page_state(0),
            Some(PageState::Clean),
            "the parent stays clean"
        );
        drop(child);
        finish(vmo, rec, server);
    });
}

#[test]
fn a_user_pager_queues_page_request_packets_and_closing_it_detaches_its_vmos() {
    use crate::ipc::{PacketPayload, PageRequestCommand, PageRequestPacket, Port, PortPacket};
    machines(|hal| {
        let pager = Pager::new(hal.clone());
        let port = Port::new(hal.clone());
        let vmo = pager
            .create_vmo(VmoOptions::TRAP_DIRTY, &port, 7, 2 * PAGE_SIZE as u64)
            .unwrap();
        assert!(pager.owns(&vmo));
        let server = {
            let (port, vmo) = (port.clone(), vmo.clone());
            thread::spawn(move || {
                let mut seen = Vec::new();
                for _ in 0..2 {
                    let packet = port.wait(kernel_hal::DEADLINE_INFINITE).unwrap();
                    let PacketPayload::PageRequest(request) = packet.payload else {
                        panic!("a page request");
                    };
                    assert_eq!(packet.key, 7);
                    match request.command {
                        PageRequestCommand::Read => vmo
                            .supply_bytes(request.offset, &vec![3u8; request.length as usize])
                            .unwrap(),
                        PageRequestCommand::Dirty => {
                            vmo.dirty_pages(request.offset, request.length).unwrap()
                        }
                        PageRequestCommand::Complete => panic!("not yet"),
                    }
                    seen.push(request);
                }
                seen
            })
        };
        vmo.write(PAGE_SIZE as u64 + 1, &[9]).unwrap();
        let seen = server.join().unwrap();
        let read = |command| PageRequestPacket {
            command,
            offset: PAGE_SIZE as u64,
            length: PAGE_SIZE as u64,
        };
        assert_eq!(
            seen,
            [
                read(PageRequestCommand::Read),
                read(PageRequestCommand::Dirty)
            ]
        );
        // Closing the pager detaches the VMO silently: absent pages fail, and the
        // port gets nothing, not even COMPLETE.
        drop(pager);
        assert_eq!(vmo.read(0, &mut [0u8; 1]), Err(ZX_ERR_BAD_STATE));
        let mut byte = [0u8; 2];
        vmo.read(PAGE_SIZE as u64, &mut byte).unwrap();
        assert_eq!(byte, [3, 9]);
        drop(vmo);
        assert_eq!(port.queued(), 0);
        // A detach through the pager, and a VMO's end, send COMPLETE once each.
        let pager = Pager::new(hal.clone());
        let first = pager
            .create_vmo(VmoOptions::empty(), &port, 1, 4096)
            .unwrap();
        let second = pager
            .create_vmo(VmoOptions::empty(), &port, 2, 4096)
            .unwrap();
        first.detach_pager().unwrap();
        drop(first);
        drop(second);
        let complete = |key| PortPacket {
            key,
            status: 0,
            payload: PacketPayload::PageRequest(PageRequestPacket {
                command: PageRequestCommand::Complete,
                offset: 0,
                length: 0,
            }),
        };
        assert_eq!(port.wait(0), Ok(complete(1)));
        assert_eq!(port.wait(0), Ok(complete(2)));
        assert_eq!(port.queued(), 0);
    });
}
