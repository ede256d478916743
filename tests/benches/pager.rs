//! A pager round trip per page beside a plain demand fault (release, medians, the
//! unix backend):
//!
//! - `plain_write_fault`: a store through a pointer to a never-touched page of an
//!   anonymous VMO (the fault commits a zeroed frame and maps it);
//! - `plain_read_fault`: a load from such a page (the fault maps the shared zero
//!   page);
//! - `pager_round_trip`: a load from a never-supplied page of a pager-backed VMO:
//!   the fault queues a `ZX_PAGER_VMO_READ` packet and blocks; a pager thread waits
//!   on the port, writes the page's 4 KiB into an aux VMO (`zx_vmo_write`) and
//!   supplies it (`zx_pager_supply_pages`); the fault wakes, maps the page and the
//!   load retries.
//!
//! Each is timed over a fresh mapping of `BATCH` pages touched once each and
//! reported per page. The summary prints the pager round trip as a ratio of each
//! plain fault.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use zircon_syscall::*;
use zircon_tests::TestProcess;

const PAGE: usize = 4096;
/// Pages of each mapping a timed batch touches.
const BATCH: usize = 256;
/// The pager VMO's key.
const KEY: u64 = 1;
/// The key of the packet that stops the pager thread.
const STOP: u64 = 2;

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

/// Maps `vmo` (`pages` pages) with `perms`; returns the address.
fn map(p: &TestProcess, vmo: u32, perms: u32, pages: usize) -> usize {
    let out = p.thread_scratch();
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_vmar_map(root, perms, 0, vmo, 0, pages * PAGE, out),
        ZX_OK
    );
    usize_at(p, out)
}

/// Times touching each page of fresh `BATCH`-page mappings `iters` times in all:
/// `fresh` makes a VMO, `touch` touches one page.
fn time_pages(
    p: &TestProcess,
    iters: u64,
    perms: u32,
    fresh: impl Fn() -> u32,
    touch: impl Fn(usize),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(BATCH);
        let vmo = fresh();
        let base = map(p, vmo, perms, n);
        let start = Instant::now();
        for i in 0..n {
            touch(base + i * PAGE);
        }
        total += start.elapsed();
        assert_eq!(
            p.zx_vmar_unmap(p.zx_vmar_root_self(), base, n * PAGE),
            ZX_OK
        );
        assert_eq!(p.zx_handle_close(vmo), ZX_OK);
        left -= n;
    }
    total
}

fn read(at: usize) {
    // SAFETY: `at` is a page of a live readable mapping made by `time_pages`.
    std::hint::black_box(unsafe { (at as *const u64).read_volatile() });
}

fn write(at: usize) {
    // SAFETY: `at` is a page of a live read-write mapping made by `time_pages`.
    unsafe { (at as *mut u64).write_volatile(1) };
}

/// Serves read requests for the VMO in `current` with pages of `0x5a` until the
/// stop packet.
fn serve(p: &TestProcess, pager: u32, port: u32, current: &AtomicU32) {
    let out = p.thread_scratch();
    let data = out + PAGE;
    p.write_memory(data, &[0x5a; PAGE]).unwrap();
    assert_eq!(p.zx_vmo_create(PAGE as u64, 0, out), ZX_OK);
    let aux = handle_at(p, out);
    loop {
        assert_eq!(p.zx_port_wait(port, ZX_TIME_INFINITE, out + 64), ZX_OK);
        let mut raw = [0u8; PortPacketRecord::SIZE];
        p.read_memory(out + 64, &mut raw).unwrap();
        let packet = PortPacketRecord::read_from(&raw);
        if packet.key == STOP {
            break;
        }
        let Some(request) = packet.page_request() else {
            continue;
        };
        if request.command != ZX_PAGER_VMO_READ {
            continue;
        }
        // The benchmark has one pager-backed VMO at a time: `current`.
        let vmo = current.load(Ordering::Acquire);
        for page in 0..request.length / PAGE as u64 {
            let offset = request.offset + page * PAGE as u64;
            assert_eq!(p.zx_vmo_write(aux, data, 0, PAGE), ZX_OK);
            let status = p.zx_pager_supply_pages(pager, vmo, offset, PAGE as u64, aux, 0);
            assert_eq!(status, ZX_OK);
        }
    }
    assert_eq!(p.zx_handle_close(aux), ZX_OK);
}

fn faults(c: &mut Criterion) {
    let p = zircon_tests::new_process();
    let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    let anonymous = || {
        let out = p.thread_scratch();
        assert_eq!(p.zx_vmo_create((BATCH * PAGE) as u64, 0, out), ZX_OK);
        handle_at(&p, out)
    };
    let mut g = c.benchmark_group("fault_per_page");
    g.bench_function("plain_write_fault", |b| {
        b.iter_custom(|iters| time_pages(&p, iters, rw, anonymous, write))
    });
    g.bench_function("plain_read_fault", |b| {
        b.iter_custom(|iters| time_pages(&p, iters, ZX_VM_PERM_READ, anonymous, read))
    });

    let out = p.scratch();
    assert_eq!(p.zx_port_create(0, out), ZX_OK);
    let port = handle_at(&p, out);
    assert_eq!(p.zx_pager_create(0, out), ZX_OK);
    let pager = handle_at(&p, out);
    let current = AtomicU32::new(0);
    std::thread::scope(|s| {
        let server = s.spawn(|| serve(&p, pager, port, &current));
        let paged = || {
            let out = p.thread_scratch();
            let size = (BATCH * PAGE) as u64;
            assert_eq!(p.zx_pager_create_vmo(pager, 0, port, KEY, size, out), ZX_OK);
            let vmo = handle_at(&p, out);
            current.store(vmo, Ordering::Release);
            vmo
        };
        g.bench_function("pager_round_trip", |b| {
            b.iter_custom(|iters| time_pages(&p, iters, ZX_VM_PERM_READ, paged, read))
        });
        let stop = PortPacketRecord {
            key: STOP,
            ..Default::default()
        };
        let at = p.thread_scratch();
        p.write_memory(at, &stop.to_bytes()).unwrap();
        assert_eq!(p.zx_port_queue(port, at), ZX_OK);
        server.join().unwrap();
    });
    g.finish();
    for h in [pager, port] {
        assert_eq!(p.zx_handle_close(h), ZX_OK);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = faults
}

/// The median of one benchmark of this run, in nanoseconds per page, from
/// criterion's estimates file.
fn median_ns(id: &str) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let path = format!("{target}/criterion/fault_per_page/{id}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + 17..];
    value[..value.find([',', '}'])?].trim().parse().ok()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let (Some(pager), Some(write), Some(read)) = (
        median_ns("pager_round_trip"),
        median_ns("plain_write_fault"),
        median_ns("plain_read_fault"),
    ) else {
        return;
    };
    println!("\nper page (medians, same run)");
    println!("  pager round trip       {:>9.0} ns", pager);
    println!(
        "  plain write fault      {:>9.0} ns   pager / this: {:.2}x",
        write,
        pager / write
    );
    println!(
        "  plain read fault       {:>9.0} ns   pager / this: {:.2}x",
        read,
        pager / read
    );
}
