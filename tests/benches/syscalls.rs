//! The figures of the syscall surface that have a floor to be measured against, each
//! measured beside that floor in the same run (release, medians):
//!
//! - `zx_vmo_read` of 1 MiB from a committed VMO into a committed mapping, beside a
//!   `memcpy` of 1 MiB between two warm host buffers;
//! - `zx_vmo_write` of 64 MiB into a fresh VMO (every page committed by the write),
//!   beside a `memcpy` of 64 MiB into a warm host buffer;
//! - `zx_handle_duplicate` + `zx_handle_close`, beside an insert and a remove in a
//!   hash table of the same size;
//! - `zircon_tests::new_process()` + drop, beside a native `mmap` + first touch +
//!   `munmap` of one page.
//!
//! The summary at the end prints each figure as a ratio of its floor.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use zircon_syscall::*;

const READ_LEN: usize = 1 << 20;
const WRITE_LEN: usize = 64 << 20;

/// Reads a handle value written to user memory at `at`.
fn handle_at(p: &zircon_tests::TestProcess, at: usize) -> zx_handle_t {
    let mut h = [0u8; 4];
    p.read_memory(at, &mut h).unwrap();
    u32::from_le_bytes(h)
}

/// A VMO of `len` bytes mapped read-write; returns (vmo handle, mapped address).
fn mapped_vmo(p: &zircon_tests::TestProcess, len: usize) -> (zx_handle_t, usize) {
    let out = p.scratch();
    assert_eq!(p.zx_vmo_create(len as u64, 0, out), ZX_OK);
    let vmo = handle_at(p, out);
    let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    assert_eq!(
        p.zx_vmar_map(p.zx_vmar_root_self(), rw, 0, vmo, 0, len, out + 8),
        ZX_OK
    );
    let mut a = [0u8; 8];
    p.read_memory(out + 8, &mut a).unwrap();
    (vmo, usize::from_le_bytes(a))
}

fn copies(c: &mut Criterion) {
    let p = zircon_tests::new_process();
    let out = p.scratch();
    // 1 MiB read: a committed VMO into a committed mapping.
    assert_eq!(p.zx_vmo_create(READ_LEN as u64, 0, out), ZX_OK);
    let src = handle_at(&p, out);
    assert_eq!(
        p.zx_vmo_op_range(src, ZX_VMO_OP_COMMIT, 0, READ_LEN as u64, 0, 0),
        ZX_OK
    );
    let (dst_vmo, dst) = mapped_vmo(&p, READ_LEN);
    assert_eq!(
        p.zx_vmo_op_range(dst_vmo, ZX_VMO_OP_COMMIT, 0, READ_LEN as u64, 0, 0),
        ZX_OK
    );
    let mut g = c.benchmark_group("copy_1MiB");
    g.throughput(Throughput::Bytes(READ_LEN as u64));
    g.bench_function("zx_vmo_read", |b| {
        b.iter(|| assert_eq!(p.zx_vmo_read(src, dst, 0, READ_LEN), ZX_OK))
    });
    let from = vec![1u8; READ_LEN];
    let mut to = vec![2u8; READ_LEN];
    g.bench_function("memcpy", |b| {
        b.iter(|| to.copy_from_slice(black_box(&from)))
    });
    g.finish();

    // 64 MiB write into a fresh VMO: the source is a committed mapping.
    let (_src_vmo, user_src) = mapped_vmo(&p, WRITE_LEN);
    let pattern = vec![0x5au8; 1 << 20];
    for at in (0..WRITE_LEN).step_by(pattern.len()) {
        p.write_memory(user_src + at, &pattern).unwrap();
    }
    let mut g = c.benchmark_group("write_64MiB_fresh");
    g.throughput(Throughput::Bytes(WRITE_LEN as u64));
    g.sample_size(10);
    g.bench_function("zx_vmo_write", |b| {
        b.iter(|| {
            assert_eq!(p.zx_vmo_create(WRITE_LEN as u64, 0, out), ZX_OK);
            let vmo = handle_at(&p, out);
            assert_eq!(p.zx_vmo_write(vmo, user_src, 0, WRITE_LEN), ZX_OK);
            assert_eq!(p.zx_handle_close(vmo), ZX_OK);
        })
    });
    let from = vec![1u8; WRITE_LEN];
    let mut to = vec![2u8; WRITE_LEN];
    g.bench_function("memcpy_warm", |b| {
        b.iter(|| to.copy_from_slice(black_box(&from)))
    });
    g.finish();
}

fn handles(c: &mut Criterion) {
    let p = zircon_tests::new_process();
    let out = p.scratch();
    assert_eq!(p.zx_vmo_create(4096, 0, out), ZX_OK);
    let vmo = handle_at(&p, out);
    let mut g = c.benchmark_group("handle_pair");
    g.bench_function("duplicate_close", |b| {
        b.iter(|| {
            assert_eq!(p.zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, out), ZX_OK);
            // The new value, read as the process would: straight from its memory
            // (on the unix HAL user addresses are host addresses).
            // SAFETY: `out` is the process's scratch area, committed, read-write,
            // mapped for as long as `p` lives, and 4-byte aligned.
            let dup = unsafe { std::ptr::read_volatile(out as *const u32) };
            assert_eq!(p.zx_handle_close(dup), ZX_OK);
        })
    });
    let mut table: hashbrown::HashMap<u32, (usize, u32)> = (0..4u32).map(|k| (k, (0, 0))).collect();
    let mut next = 100u32;
    g.bench_function("hash_insert_remove", |b| {
        b.iter(|| {
            next = next.wrapping_mul(2_654_435_761).wrapping_add(1);
            table.insert(black_box(next), (1, 2));
            black_box(table.remove(&next));
        })
    });
    g.finish();
}

fn processes(c: &mut Criterion) {
    let mut g = c.benchmark_group("process");
    g.bench_function("new_process_drop", |b| {
        b.iter(|| drop(black_box(zircon_tests::new_process())))
    });
    g.bench_function("native_mmap_touch_munmap", |b| {
        b.iter(|| {
            // SAFETY: a fresh private anonymous page, touched once and unmapped; no
            // Rust reference to it outlives the block.
            unsafe {
                let page = libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                assert_ne!(page, libc::MAP_FAILED);
                page.cast::<u8>().write_volatile(1);
                libc::munmap(page, 4096);
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = copies, handles, processes
}

/// The median of one benchmark of this run, in nanoseconds, from criterion's
/// estimates file.
fn median_ns(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let path = format!("{target}/criterion/{group}/{id}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + 17..];
    value[..value.find([',', '}'])?].trim().parse().ok()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    println!("\nfigure                                  ours / floor (same run)");
    for (name, group, ours, floor) in [
        (
            "zx_vmo_read 1 MiB / memcpy",
            "copy_1MiB",
            "zx_vmo_read",
            "memcpy",
        ),
        (
            "zx_vmo_write 64 MiB fresh / memcpy",
            "write_64MiB_fresh",
            "zx_vmo_write",
            "memcpy_warm",
        ),
        (
            "handle duplicate+close / hash ins+rm",
            "handle_pair",
            "duplicate_close",
            "hash_insert_remove",
        ),
        (
            "new_process+drop / mmap+touch+munmap",
            "process",
            "new_process_drop",
            "native_mmap_touch_munmap",
        ),
    ] {
        match (median_ns(group, ours), median_ns(group, floor)) {
            (Some(a), Some(b)) => println!("{name:40} {a:>12.0} ns / {b:>10.0} ns = {:.2}x", a / b),
            _ => println!("{name:40} (not measured in this run)"),
        }
    }
}
