//! Four threads fault pages of a 64 MiB pager-backed mapping through plain pointers
//! while one pager thread serves the requests from a host file: every byte the
//! faulting threads see is the file's, every page is asked for exactly once (no
//! request lost, none served twice), and every frame comes back at the end.
//!
//! The faulting threads block inside the unix backend's fault handler until the
//! pager thread supplies the page (docs/EMBEDDING.md, "Threads").

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Barrier;

use zircon_syscall::*;
use zircon_tests::{new_process, TestProcess};

const PAGE: usize = 4096;
const SIZE: usize = 64 << 20;
const PAGES: usize = SIZE / PAGE;
const FAULTERS: usize = 4;
/// The key of the pager VMO's requests.
const KEY: u64 = 0x5ea_f00d;
/// The key of the user packet that tells the pager thread to stop.
const STOP: u64 = 0x5709;
/// The pager thread's aux VMO, through which each request's data is supplied.
const AUX: usize = 1 << 20;

fn handle_at(p: &TestProcess, at: usize) -> u32 {
    let mut b = [0u8; 4];
    p.read_memory(at, &mut b).unwrap();
    u32::from_le_bytes(b)
}

fn usize_at(p: &TestProcess, at: usize) -> usize {
    let mut b = [0u8; 8];
    p.read_memory(at, &mut b).unwrap();
    usize::from_le_bytes(b)
}

/// The file's contents: no two pages alike, no page all zeros.
fn contents() -> Vec<u8> {
    let mut data = vec![0u8; SIZE];
    for (i, word) in data.chunks_exact_mut(8).enumerate() {
        let x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        word.copy_from_slice(&(x ^ (x >> 29)).to_le_bytes());
    }
    data
}

/// Serves page requests for `vmo` from `file` until the stop packet, counting the
/// requests per page in `asked`.
fn serve(p: &TestProcess, pager: u32, port: u32, vmo: u32, file: &File, asked: &[AtomicU32]) {
    let out = p.thread_scratch();
    let root = p.zx_vmar_root_self();
    assert_eq!(p.zx_vmo_create(AUX as u64, 0, out), ZX_OK);
    let aux = handle_at(p, out);
    let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    assert_eq!(p.zx_vmar_map(root, rw, 0, aux, 0, AUX, out + 8), ZX_OK);
    let aux_addr = usize_at(p, out + 8);
    loop {
        let deadline = p.zx_clock_get_monotonic() + 60_000_000_000;
        assert_eq!(p.zx_port_wait(port, deadline, out + 64), ZX_OK, "a request");
        let mut raw = [0u8; PortPacketRecord::SIZE];
        p.read_memory(out + 64, &mut raw).unwrap();
        let packet = PortPacketRecord::read_from(&raw);
        if packet.packet_type == ZX_PKT_TYPE_USER && packet.key == STOP {
            break;
        }
        assert_eq!(packet.key, KEY);
        let request = packet.page_request().expect("a page request");
        if request.command == ZX_PAGER_VMO_COMPLETE {
            continue;
        }
        assert_eq!(request.command, ZX_PAGER_VMO_READ);
        let (offset, length) = (request.offset as usize, request.length as usize);
        assert!(offset % PAGE == 0 && length % PAGE == 0 && length > 0);
        assert!(offset + length <= SIZE);
        for count in &asked[offset / PAGE..(offset + length) / PAGE] {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let mut done = 0;
        while done < length {
            let chunk = (length - done).min(AUX);
            // The host kernel's copy does not take our demand faults: commit and
            // map the aux pages first (the last supply took them away).
            let commit = ZX_VMAR_OP_COMMIT;
            assert_eq!(
                p.zx_vmar_op_range(root, commit, aux_addr, chunk, 0, 0),
                ZX_OK
            );
            // SAFETY: `aux_addr` starts the pager thread's own read-write mapping of
            // `AUX` bytes, committed and mapped just above, which no other thread
            // touches and which stays mapped until after this loop.
            let window = unsafe { std::slice::from_raw_parts_mut(aux_addr as *mut u8, chunk) };
            file.read_exact_at(window, (offset + done) as u64).unwrap();
            assert_eq!(
                p.zx_pager_supply_pages(pager, vmo, (offset + done) as u64, chunk as u64, aux, 0),
                ZX_OK
            );
            done += chunk;
        }
    }
    assert_eq!(p.zx_vmar_unmap(root, aux_addr, AUX), ZX_OK);
    assert_eq!(p.zx_handle_close(aux), ZX_OK);
}

/// Faults every page of the mapping at `base` in an order of its own (a stride
/// that differs per thread, so threads meet on the same pages at once) and checks
/// each page whole against `data`.
fn fault_all(thread: usize, base: usize, data: &[u8]) {
    let stride = [1, 7919, 4099, 12289][thread];
    let mut page = thread * PAGES / FAULTERS;
    for _ in 0..PAGES {
        page = (page + stride) % PAGES;
        let at = base + page * PAGE;
        // SAFETY: `at` is a page of the read-only mapping of the pager-backed VMO,
        // which stays mapped until every faulting thread has joined; reading it
        // blocks in the fault handler until the pager supplies it.
        let seen = unsafe { std::slice::from_raw_parts(at as *const u8, PAGE) };
        assert!(seen == &data[page * PAGE..][..PAGE], "page {page} differs");
    }
}

#[test]
fn four_threads_fault_a_64_mib_pager_backed_mapping_served_from_a_host_file() {
    let data = contents();
    let path = std::env::temp_dir().join(format!("pager_threads_{}.bin", std::process::id()));
    File::create(&path).unwrap().write_all(&data).unwrap();
    let file = File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();

    let p = new_process();
    let before = p.frames_in_use();
    let out = p.scratch();
    assert_eq!(p.zx_port_create(0, out), ZX_OK);
    let port = handle_at(&p, out);
    assert_eq!(p.zx_pager_create(0, out), ZX_OK);
    let pager = handle_at(&p, out);
    assert_eq!(
        p.zx_pager_create_vmo(pager, 0, port, KEY, SIZE as u64, out),
        ZX_OK
    );
    let vmo = handle_at(&p, out);
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_vmar_map(root, ZX_VM_PERM_READ, 0, vmo, 0, SIZE, out + 8),
        ZX_OK
    );
    let base = usize_at(&p, out + 8);

    let asked: Vec<AtomicU32> = (0..PAGES).map(|_| AtomicU32::new(0)).collect();
    let start = Barrier::new(FAULTERS);
    std::thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pager, port, vmo, &file, &asked));
        let faulters: Vec<_> = (0..FAULTERS)
            .map(|t| {
                let (start, data) = (&start, &data);
                s.spawn(move || {
                    start.wait();
                    fault_all(t, base, data);
                })
            })
            .collect();
        for f in faulters {
            f.join().unwrap();
        }
        let stop = PortPacketRecord {
            key: STOP,
            ..Default::default()
        };
        let at = p.thread_scratch();
        p.write_memory(at, &stop.to_bytes()).unwrap();
        assert_eq!(p.zx_port_queue(port, at), ZX_OK);
        server.join().unwrap();
    });

    let twice: Vec<usize> = (0..PAGES)
        .filter(|&i| asked[i].load(Ordering::Relaxed) != 1)
        .collect();
    assert!(
        twice.is_empty(),
        "{} pages were asked for other than once, first {:?}",
        twice.len(),
        &twice[..twice.len().min(8)]
    );
    // The VMO holds the file, as the kernel reads it too.
    for page in [0, 1, PAGES / 2, PAGES - 1] {
        let at = p.scratch() + 4096;
        assert_eq!(p.zx_vmo_read(vmo, at, (page * PAGE) as u64, PAGE), ZX_OK);
        let mut seen = vec![0u8; PAGE];
        p.read_memory(at, &mut seen).unwrap();
        assert!(seen == data[page * PAGE..][..PAGE]);
    }
    assert_eq!(p.zx_vmar_unmap(root, base, SIZE), ZX_OK);
    for h in [vmo, pager, port] {
        assert_eq!(p.zx_handle_close(h), ZX_OK);
    }
    // Left: the two threads' scratch areas (dropping `p` checks the rest).
    let scratch = 2 * zircon_tests::SCRATCH_SIZE / PAGE;
    assert_eq!(p.frames_in_use(), before + scratch);
}
