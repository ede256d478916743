//! The figures of `docs/PERFORMANCE.md`, all through the syscall surface on the unix
//! HAL, each beside the native Linux operation it stands on, in one run:
//!
//! - cost against the number of mappings already in the root VMAR (10 to 100,000
//!   one-page mappings): map + unmap of one page, protect of one page, allocate +
//!   destroy of a one-page sub-region, a demand fault (a store through a pointer,
//!   then a decommit so the next store faults again);
//! - `zx_vmo_read` throughput against size, beside `memcpy`;
//! - the operations zCore published figures for: map + unmap of n mappings, a
//!   protect over 10,000 mappings, commit of 64 MiB, a 1 MiB VMO write + read, a
//!   snapshot child create + close;
//! - the native floors: `mmap` + `munmap`, `mprotect`, a first-touch fault.
//!
//! `cargo run --release -p zircon-tests --example perf_report` runs this and draws
//! the report from criterion's output.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use zircon_syscall::*;
use zircon_tests::TestProcess;

const PAGE: usize = 4096;
const RW: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
/// Numbers of mappings the scaling figures are measured at.
pub const COUNTS: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];
/// Sizes the copy throughput is measured at.
pub const COPY_SIZES: [usize; 6] = [4 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20];

fn u32_at(p: &TestProcess, at: usize) -> u32 {
    let mut b = [0u8; 4];
    p.read_memory(at, &mut b).unwrap();
    u32::from_le_bytes(b)
}

fn usize_at(p: &TestProcess, at: usize) -> usize {
    let mut b = [0u8; 8];
    p.read_memory(at, &mut b).unwrap();
    usize::from_le_bytes(b)
}

fn vmo(p: &TestProcess, len: usize) -> zx_handle_t {
    assert_eq!(p.zx_vmo_create(len as u64, 0, p.scratch()), ZX_OK);
    u32_at(p, p.scratch())
}

fn map(p: &TestProcess, vmo: zx_handle_t, len: usize) -> usize {
    let out = p.scratch() + 8;
    assert_eq!(
        p.zx_vmar_map(p.zx_vmar_root_self(), RW, 0, vmo, 0, len, out),
        ZX_OK
    );
    usize_at(p, out)
}

/// A process whose root VMAR holds `n` one-page mappings of one VMO; returns it
/// with that VMO.
fn with_mappings(n: usize) -> (TestProcess, zx_handle_t) {
    let p = zircon_tests::new_process();
    let page = vmo(&p, PAGE);
    for _ in 0..n {
        map(&p, page, PAGE);
    }
    (p, page)
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(20);
    for n in COUNTS {
        let (p, page) = with_mappings(n);
        let root = p.zx_vmar_root_self();
        g.bench_with_input(BenchmarkId::new("map_unmap", n), &n, |b, _| {
            b.iter(|| {
                let addr = map(&p, page, PAGE);
                assert_eq!(p.zx_vmar_unmap(root, black_box(addr), PAGE), ZX_OK);
            })
        });
        let target = map(&p, page, PAGE);
        g.bench_with_input(BenchmarkId::new("protect", n), &n, |b, _| {
            b.iter(|| {
                assert_eq!(
                    p.zx_vmar_protect(root, ZX_VM_PERM_READ, target, PAGE),
                    ZX_OK
                );
                assert_eq!(p.zx_vmar_protect(root, RW, target, PAGE), ZX_OK);
            })
        });
        let out = p.scratch() + 16;
        let opts = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE;
        g.bench_with_input(BenchmarkId::new("allocate_destroy", n), &n, |b, _| {
            b.iter(|| {
                assert_eq!(p.zx_vmar_allocate(root, opts, 0, PAGE, out, out + 8), ZX_OK);
                let child = u32_at(&p, out);
                assert_eq!(p.zx_vmar_destroy(child), ZX_OK);
                assert_eq!(p.zx_handle_close(child), ZX_OK);
            })
        });
        let own = vmo(&p, PAGE);
        let at = map(&p, own, PAGE);
        g.bench_with_input(BenchmarkId::new("fault", n), &n, |b, _| {
            b.iter(|| {
                // SAFETY: `at` is a read-write mapping of this process, whose user
                // addresses are host addresses on the unix HAL; the store faults the
                // page in through the HAL's handler.
                unsafe { std::ptr::write_volatile(at as *mut u8, 1) };
                assert_eq!(
                    p.zx_vmo_op_range(own, ZX_VMO_OP_DECOMMIT, 0, PAGE as u64, 0, 0),
                    ZX_OK
                );
            })
        });
    }
    g.finish();
}

fn copies(c: &mut Criterion) {
    let mut g = c.benchmark_group("copy");
    g.sample_size(20);
    let p = zircon_tests::new_process();
    let top = *COPY_SIZES.last().unwrap();
    let src = vmo(&p, top);
    assert_eq!(
        p.zx_vmo_op_range(src, ZX_VMO_OP_COMMIT, 0, top as u64, 0, 0),
        ZX_OK
    );
    let dst_vmo = vmo(&p, top);
    assert_eq!(
        p.zx_vmo_op_range(dst_vmo, ZX_VMO_OP_COMMIT, 0, top as u64, 0, 0),
        ZX_OK
    );
    let dst = map(&p, dst_vmo, top);
    let from = vec![1u8; top];
    let mut to = vec![2u8; top];
    for size in COPY_SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("zx_vmo_read", size), &size, |b, &size| {
            b.iter(|| assert_eq!(p.zx_vmo_read(src, dst, 0, size), ZX_OK))
        });
        g.bench_with_input(BenchmarkId::new("memcpy", size), &size, |b, &size| {
            b.iter(|| to[..size].copy_from_slice(black_box(&from[..size])))
        });
    }
    g.finish();
}

fn zcore(c: &mut Criterion) {
    let mut g = c.benchmark_group("zcore");
    g.sample_size(10);
    for n in [10usize, 100, 1_000, 10_000] {
        let p = zircon_tests::new_process();
        let page = vmo(&p, PAGE);
        let root = p.zx_vmar_root_self();
        let mut addrs = Vec::with_capacity(n);
        g.bench_with_input(BenchmarkId::new("map_unmap_n", n), &n, |b, &n| {
            b.iter(|| {
                addrs.clear();
                addrs.extend((0..n).map(|_| map(&p, page, PAGE)));
                for &a in &addrs {
                    assert_eq!(p.zx_vmar_unmap(root, a, PAGE), ZX_OK);
                }
            })
        });
    }
    // One protect over a region holding 10,000 one-page mappings side by side.
    let p = zircon_tests::new_process();
    let page = vmo(&p, PAGE);
    let out = p.scratch() + 16;
    let span = 10_000 * PAGE;
    let opts = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
    assert_eq!(
        p.zx_vmar_allocate(p.zx_vmar_root_self(), opts, 0, span, out, out + 8),
        ZX_OK
    );
    let region = u32_at(&p, out);
    let base = usize_at(&p, out + 8);
    for i in 0..10_000 {
        let o = RW | ZX_VM_SPECIFIC;
        assert_eq!(
            p.zx_vmar_map(region, o, i * PAGE, page, 0, PAGE, out),
            ZX_OK
        );
    }
    g.bench_function("protect_10000", |b| {
        b.iter(|| {
            assert_eq!(
                p.zx_vmar_protect(region, ZX_VM_PERM_READ, base, span),
                ZX_OK
            );
            assert_eq!(p.zx_vmar_protect(region, RW, base, span), ZX_OK);
        })
    });
    let len = 64usize << 20;
    g.throughput(Throughput::Elements((len / PAGE) as u64));
    g.bench_function("commit_64MiB", |b| {
        b.iter(|| {
            let v = vmo(&p, len);
            assert_eq!(
                p.zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, len as u64, 0, 0),
                ZX_OK
            );
            assert_eq!(p.zx_handle_close(v), ZX_OK);
        })
    });
    let mib = 1usize << 20;
    let v = vmo(&p, mib);
    let buf_vmo = vmo(&p, mib);
    let buf = map(&p, buf_vmo, mib);
    p.write_memory(buf, &vec![3u8; mib]).unwrap();
    g.throughput(Throughput::Bytes(2 * mib as u64));
    g.bench_function("write_read_1MiB", |b| {
        b.iter(|| {
            assert_eq!(p.zx_vmo_write(v, buf, 0, mib), ZX_OK);
            assert_eq!(p.zx_vmo_read(v, buf, 0, mib), ZX_OK);
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("snapshot_create", |b| {
        b.iter(|| {
            let o = ZX_VMO_CHILD_SNAPSHOT;
            assert_eq!(p.zx_vmo_create_child(v, o, 0, mib as u64, out), ZX_OK);
            assert_eq!(p.zx_handle_close(u32_at(&p, out)), ZX_OK);
        })
    });
    g.finish();
}

/// A fresh anonymous private mapping of `len` bytes.
fn anon(len: usize) -> *mut libc::c_void {
    // SAFETY: a new mapping chosen by the kernel; it overlaps nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    p
}

fn native(c: &mut Criterion) {
    let mut g = c.benchmark_group("native");
    g.bench_function("mmap_munmap", |b| {
        b.iter(|| {
            let p = anon(PAGE);
            // SAFETY: our own mapping, unused after this.
            unsafe { libc::munmap(p, PAGE) };
        })
    });
    let p = anon(PAGE);
    g.bench_function("mprotect", |b| {
        b.iter(|| {
            // SAFETY: our own mapping; nothing touches it while it is read-only.
            unsafe {
                libc::mprotect(p, PAGE, libc::PROT_READ);
                libc::mprotect(p, PAGE, libc::PROT_READ | libc::PROT_WRITE);
            }
        })
    });
    g.bench_function("first_touch", |b| {
        b.iter(|| {
            // SAFETY: our own mapping; the store faults a fresh page in, and
            // MADV_DONTNEED drops it so that the next store faults again.
            unsafe {
                std::ptr::write_volatile(p.cast::<u8>(), 1);
                libc::madvise(p, PAGE, libc::MADV_DONTNEED);
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(700));
    targets = scaling, copies, zcore, native
}
criterion_main!(benches);
